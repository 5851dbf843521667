"""The public real-world corpus and our case sets, diagnosed through the same code path as the CLI."""

from __future__ import annotations

import json
from functools import cache

import pytest

from shared.engine import diagnose
from shared.inputs import load_case, offline_evidence
from shared.score import fact_found
from tests.conftest import DEV_CASES, case_files
from tests.support.diagnosed import case_finding


def _misses(path) -> list[str]:
    """What the diagnosis of a case gets wrong: pattern, facts, cause, and the culprit container."""
    expect = json.loads(path.read_text())["expect"]
    finding = case_finding(path)  # diagnosed once per session: test_fixes_paste and test_render_text read it too
    wrong = []
    if finding.pattern != expect["pattern"]:
        wrong.append(f"pattern {finding.pattern} (expected {expect['pattern']})")
    for key, value in (expect.get("facts") or {}).items():
        if not fact_found(value, finding.facts):
            wrong.append(f"{key}={value!r} not in {finding.facts}")
    if expect.get("cause") and finding.facts.get("cause") != expect["cause"]:
        wrong.append(f"cause {finding.facts.get('cause')} (expected {expect['cause']})")
    if expect.get("container") and finding.facts.get("container") != expect["container"]:
        wrong.append(f"culprit {finding.facts.get('container')} (expected {expect['container']})")
    return wrong


def _known_misses(padded_only: bool) -> set[str]:
    """Cases a set's README lists as not yet diagnosed right (first-seen misses still open), one
    `case-id [note]` per line in tests/cases/<set>/KNOWN_MISSES: each must still miss (strict). A line
    `case-id padded ...` is a case diagnosed right as given that misses only under the benign prefix."""
    out = set()
    for listing in DEV_CASES.glob("*/KNOWN_MISSES"):
        for line in listing.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                words = line.split()
                if (len(words) > 1 and words[1] == "padded") == padded_only:
                    out.add(f"{listing.parent.name}/{words[0]}")
    return out


KNOWN_MISSES = _known_misses(padded_only=False)
PADDED_MISSES = _known_misses(padded_only=True)  # right as given, wrong under the benign prefix


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_case(path):
    wrong = _misses(path)
    if f"{path.parent.name}/{path.stem}" in KNOWN_MISSES:
        assert wrong, "diagnosed right now: remove it from its set's KNOWN_MISSES"
        pytest.xfail("; ".join(wrong))
    assert not wrong, "; ".join(wrong)


@cache
def _benign(lines: int) -> tuple[str, ...]:
    """The benchmark's ordinary lines, made once: its generator is seeded, so they are the same lines for
    every case, and only the stream prefix put before each differs (benign_lines(n, prefix))."""
    from benchmarks.bench_engine import benign_lines

    return tuple(benign_lines(lines, None))


def _prefixed(lines: int, prefix: str | None) -> list[str]:
    return [f"{prefix}{line}" if prefix else line for line in _benign(lines)]


def _pad(logs, lines: int):
    from benchmarks.bench_engine import stream_prefix

    if isinstance(logs, dict):
        return {name: _prefixed(lines, stream_prefix(own)) + list(own) for name, own in logs.items()}
    return _prefixed(lines, stream_prefix(logs)) + list(logs)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_same_diagnosis_under_a_long_benign_prefix(path):
    """A real tail is mostly ordinary lines: 150 of them before the case's own lines (same format,
    same stream; per container when the case gives each container's lines) must not change the diagnosis."""
    expect = json.loads(path.read_text())["expect"]
    event, logs = load_case(path)
    if isinstance(logs, str):
        pytest.skip("logs given as one text")
    got = diagnose(offline_evidence(event, _pad(logs, 150))).pattern
    case = f"{path.parent.name}/{path.stem}"
    if case in PADDED_MISSES:
        assert got != expect["pattern"], "diagnosed right under the prefix now: remove its 'padded' line"
        pytest.xfail(f"a known miss under the prefix: {got}")
    if case in KNOWN_MISSES and got != expect["pattern"]:
        pytest.xfail("a known miss")
    assert got == expect["pattern"]
