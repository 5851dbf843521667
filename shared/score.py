"""`ecs-autopsy score`: how well the engine diagnoses a folder of labelled case files.

    ecs-autopsy score tests/cases/public [--show-misses] [--format text|json]

A case file is what `ecs-autopsy diagnose --case` reads, with the expected answer:
{"event", "logs", "expect": {"pattern", "facts"?, "cause"?}}. Each case is diagnosed offline, as
`diagnose --case --offline` does, and scored three ways:

- pattern accuracy: the finding's `pattern` equals `expect.pattern`;
- fact recall: each expected fact's value is found, case-insensitively, in one of the finding's
  fact values (containment, so extra facts and longer values are fine);
- cause accuracy: over the cases whose `expect.cause` is set, the finding's `facts.cause` equals it.

It prints the totals and a table per expected pattern: cases, correct, how often the pattern was
predicted, its precision, and fact recall. Exit status 0 when every file was scored; 2 when a file is
not a case file (it is named on stderr, the others are still scored).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.inputs import BadInput, load_case, offline_evidence, read_json


def fact_values(facts: Any) -> list[str]:
    """Every leaf value of a finding's facts, lower-cased."""
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif v is not None:
            out.append(str(v).strip().lower())

    walk(facts)
    return out


def fact_found(expected: Any, facts: Any) -> bool:
    """True when the expected value equals, or is contained in, one of the facts' values."""
    want = str(expected).strip().lower()
    return any(want == v or want in v for v in fact_values(facts))


@dataclass
class CaseScore:
    path: Path
    expected: str
    got: str
    facts_expected: int = 0
    facts_missing: list[str] = field(default_factory=list)
    cause_expected: str | None = None
    cause_got: str | None = None

    @property
    def pattern_ok(self) -> bool:
        return self.expected == self.got

    @property
    def cause_ok(self) -> bool:
        return self.cause_expected is None or self.cause_expected == self.cause_got


def score_case(path: Path) -> CaseScore:
    from shared.engine import diagnose

    obj = read_json(path)
    expect = obj.get("expect") if isinstance(obj, dict) else None
    if not isinstance(expect, dict) or not isinstance(expect.get("pattern"), str):
        raise BadInput(f"{path}: no expected answer (\"expect\": {{\"pattern\": ...}})")
    event, logs = load_case(path)
    finding = diagnose(offline_evidence(event, logs))
    facts = finding.facts
    expected_facts = expect.get("facts") or {}
    missing = [f"{k}={v!r}" for k, v in expected_facts.items() if not fact_found(v, facts)]
    cause = expect.get("cause") or None
    got_cause = facts.get("cause") if isinstance(facts, dict) else None
    return CaseScore(path, expect["pattern"], finding.pattern, len(expected_facts), missing,
                     cause, str(got_cause) if got_cause is not None else None)


def case_paths(paths: Iterable[Path]) -> list[Path]:
    """The case files named, and every *.json under the folders named (README and other files skipped)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.json") if q.is_file())
        else:
            out.append(p)
    return out


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:5.1f}%" if d else "n/a"


def summary(scores: list[CaseScore]) -> dict[str, Any]:
    n = len(scores)
    facts = sum(s.facts_expected for s in scores)
    found = facts - sum(len(s.facts_missing) for s in scores)
    with_cause = [s for s in scores if s.cause_expected is not None]
    predicted = Counter(s.got for s in scores)
    per: dict[str, dict[str, Any]] = {}
    for pid in sorted({s.expected for s in scores} | set(predicted)):
        mine = [s for s in scores if s.expected == pid]
        right = sum(s.pattern_ok for s in mine)
        f_exp = sum(s.facts_expected for s in mine)
        f_found = f_exp - sum(len(s.facts_missing) for s in mine)
        per[pid] = {"cases": len(mine), "correct": right, "predicted": predicted[pid],
                    "precision": right / predicted[pid] if predicted[pid] else None,
                    "facts_expected": f_exp, "facts_found": f_found}
    return {
        "cases": n,
        "pattern_correct": sum(s.pattern_ok for s in scores),
        "facts_expected": facts,
        "facts_found": found,
        "cause_cases": len(with_cause),
        "cause_correct": sum(s.cause_ok for s in with_cause),
        "per_pattern": per,
    }


def render_text(sm: dict[str, Any], scores: list[CaseScore], show_misses: bool) -> str:
    lines = [
        f"cases:            {sm['cases']}",
        f"pattern accuracy: {_pct(sm['pattern_correct'], sm['cases'])}",
        f"fact recall:      {_pct(sm['facts_found'], sm['facts_expected'])}",
        f"cause accuracy:   {_pct(sm['cause_correct'], sm['cause_cases'])}",
        "",
        f"{'expected pattern':<30} {'cases':>5} {'correct':>7} {'predicted':>9} {'precision':>9} {'facts':>9}",
    ]
    for pid, row in sm["per_pattern"].items():
        prec = "-" if row["precision"] is None else f"{100 * row['precision']:.0f}%"
        facts = f"{row['facts_found']}/{row['facts_expected']}" if row["facts_expected"] else "-"
        lines.append(f"{pid:<30} {row['cases']:>5} {row['correct']:>7} {row['predicted']:>9} {prec:>9} {facts:>9}")
    if show_misses:
        misses = [s for s in scores if not s.pattern_ok or s.facts_missing or not s.cause_ok]
        lines += ["", f"misses: {len(misses)}"]
        for s in misses:
            what = []
            if not s.pattern_ok:
                what.append(f"expected {s.expected}, got {s.got}")
            if s.facts_missing:
                what.append("facts not found: " + ", ".join(s.facts_missing))
            if not s.cause_ok:
                what.append(f"cause expected {s.cause_expected!r}, got {s.cause_got!r}")
            lines.append(f"  {s.path}: " + "; ".join(what))
    return "\n".join(lines) + "\n"


def run(paths: list[Path], show_misses: bool = False, fmt: str = "text") -> int:
    files = case_paths(paths)
    if not files:
        raise BadInput(f"no case files (*.json) in {', '.join(map(str, paths))}")
    scores: list[CaseScore] = []
    status = 0
    for path in files:
        try:
            scores.append(score_case(path))
        except BadInput as exc:
            status = 2
            print(f"ecs-autopsy: error: {exc}", file=sys.stderr)
    if not scores:
        raise BadInput("none of the files is a case file")
    sm = summary(scores)
    if fmt == "json":
        sm["misses"] = [
            {"case": str(s.path), "expected": s.expected, "got": s.got, "facts_missing": s.facts_missing,
             "cause_expected": s.cause_expected, "cause_got": s.cause_got}
            for s in scores if not s.pattern_ok or s.facts_missing or not s.cause_ok
        ] if show_misses else None
        sys.stdout.write(json.dumps(sm, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(sm, scores, show_misses))
    return status
