"""Regex time on hostile 16 KB log lines: every regex of shared/, then whole diagnoses.

    .venv/bin/python benchmarks/bench_pathological.py [--top 25] [--budget-ms 50] [--skip-e2e]
                                                      [--only SUBSTRING] [--max-seconds 5]

CloudWatch cuts a log event at 16 KB, and the word prefilter (`shared.scan.required_words`) lets through
every line holding a regex's words: a regex that backtracks over the rest of the line from each start
position is quadratic there, and in a Lambda with a timeout one such line means no diagnosis at all.

1. Every regex reachable in shared/: module globals (recursively into tuples, lists, dicts, sets, classes
   and objects such as pattern `Cause`s), every `lazy_re` object alive after import, and every regex
   compiled from shared/ code while the case corpus is diagnosed once (`re.compile`, `re.search(str, ...)`
   inside functions). For each, hostile lines are built from its own literal words (the runs of literal
   characters of its parsed form): the words repeated, joined by spaces, slashes, dots, colons, digits,
   dashes, the regex's one-character literals; each word alone repeated; and a line of one word then
   filler. `.search` of the compiled regex (the prefilter lets these lines through) is timed first on
   1 KB and 2 KB versions; the growth exponent gives an estimate for 16 KB, and the 16 KB line itself is
   timed unless the estimate exceeds --max-seconds. The worst (line, regex) pairs are printed.
2. End to end: a case whose log has 16 KB lines stuffed with each family's keywords (permission denied,
   no such file, amazonaws hosts, host:port, address in use, OOM words, stack frames) among ordinary
   lines, ending in a crash; the time of one full diagnosis (engine, Finding, render).

One process, one run: compare figures measured together (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import glob
import importlib
import itertools
import json
import pkgutil
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINE = 16 * 1024
_parser: Any = re._parser  # type: ignore[attr-defined]
_constants: Any = re._constants  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------
# Collecting the regexes
# ------------------------------------------------------------------------------------------------
def _record_compiles(seen: dict[tuple[str, int], str]) -> Any:
    """Wrap re._compile: every str regex compiled from a frame in shared/ is recorded with its caller."""
    original = re._compile  # type: ignore[attr-defined]
    shared_dir = str(ROOT / "shared")

    def recording(pattern: Any, flags: Any) -> Any:
        if isinstance(pattern, str):
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_filename.endswith(("re/__init__.py", "/re.py")):
                frame = frame.f_back  # type: ignore[assignment]
            if frame is not None and frame.f_code.co_filename.startswith(shared_dir):
                where = f"{Path(frame.f_code.co_filename).relative_to(ROOT)}:{frame.f_lineno}"
                seen.setdefault((pattern, int(flags)), where)
        return original(pattern, flags)

    re._compile = recording  # type: ignore[attr-defined]
    return original


def _walk(obj: Any, where: str, out: dict[tuple[str, int], str], depth: int, visited: set[int]) -> None:
    from shared.scan import _LazyRegex

    if depth > 6 or id(obj) in visited:
        return
    visited.add(id(obj))
    if isinstance(obj, re.Pattern) and isinstance(obj.pattern, str):
        out.setdefault((obj.pattern, obj.flags & ~re.UNICODE), where)
    elif isinstance(obj, _LazyRegex):
        out.setdefault((obj.pattern, obj._flags), where)
    elif isinstance(obj, dict):
        for k, v in list(obj.items()):
            _walk(v, f"{where}[{k!r}]" if depth else where, out, depth + 1, visited)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            _walk(v, where, out, depth + 1, visited)
    elif isinstance(obj, type) and obj.__module__.startswith("shared"):
        for k, v in list(vars(obj).items()):
            _walk(v, f"{where}.{k}", out, depth + 1, visited)
    elif type(obj).__module__.startswith("shared") and not isinstance(obj, type):
        attrs = getattr(obj, "__dict__", None)
        if attrs is None:
            attrs = {s: getattr(obj, s, None) for s in getattr(type(obj), "__slots__", ())}
        for k, v in list(attrs.items()):
            _walk(v, f"{where}.{k}", out, depth + 1, visited)


def collect(run_corpus: bool = True) -> dict[tuple[str, int], str]:
    """(pattern, flags) -> where it was found, for every regex of shared/."""
    compiled_at: dict[tuple[str, int], str] = {}
    original = _record_compiles(compiled_at)
    try:
        import shared

        for info in pkgutil.walk_packages(shared.__path__, "shared."):
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # an optional dependency missing: say so, go on
                print(f"  (not imported: {info.name}: {type(exc).__name__})", file=sys.stderr)
        found: dict[tuple[str, int], str] = {}
        visited: set[int] = set()
        for name, module in list(sys.modules.items()):
            if name == "shared" or name.startswith("shared."):
                for attr, value in list(vars(module).items()):
                    if not attr.startswith("__"):
                        _walk(value, f"{name}.{attr}", found, 0, visited)
        from shared.scan import _LazyRegex

        for obj in gc.get_objects():
            if isinstance(obj, _LazyRegex):
                found.setdefault((obj.pattern, obj._flags), "lazy_re (gc)")
        if run_corpus:
            from shared.engine import diagnose
            from shared.inputs import load_case, offline_evidence
            from shared.render.text import render_text

            for p in sorted(glob.glob(str(ROOT / "tests/cases/*/*.json"))):
                ev, logs = load_case(Path(p))
                render_text(diagnose(offline_evidence(ev, logs)))
    finally:
        re._compile = original  # type: ignore[attr-defined]
    for key, where in compiled_at.items():
        found.setdefault((key[0], key[1] & ~re.UNICODE), where)
    return found


# ------------------------------------------------------------------------------------------------
# Hostile lines from a regex's own words
# ------------------------------------------------------------------------------------------------
def literals(pattern: str, flags: int) -> tuple[list[str], list[str]]:
    """(words: runs of >= 2 literal characters, chars: single literal characters) of the parsed regex."""
    words: list[str] = []
    chars: list[str] = []
    LITERAL, SUBPATTERN, BRANCH = _constants.LITERAL, _constants.SUBPATTERN, _constants.BRANCH
    repeats = {_constants.MAX_REPEAT, _constants.MIN_REPEAT, getattr(_constants, "POSSESSIVE_REPEAT", None)}
    asserts = {_constants.ASSERT, _constants.ASSERT_NOT, getattr(_constants, "ATOMIC_GROUP", None)}

    def flush(run: list[str]) -> None:
        if len(run) >= 2:
            words.append("".join(run))
        elif run:
            chars.append(run[0])
        run.clear()

    def visit(items: Any) -> None:
        run: list[str] = []
        for op, av in items:
            if op is LITERAL:
                run.append(chr(av))
                continue
            flush(run)
            if op is SUBPATTERN:
                visit(av[-1])
            elif op is BRANCH:
                for alt in av[1]:
                    visit(alt)
            elif op in repeats:
                visit(av[2])
            elif op in asserts:
                visit(av[-1])
            elif op is _constants.IN and len(av) == 1 and av[0][0] is LITERAL:
                chars.append(chr(av[0][1]))
        flush(run)

    with contextlib.suppress(Exception):  # a construct the parser of this Python does not know: no words
        visit(_parser.parse(pattern, flags))
    uniq = list(dict.fromkeys(w for w in words if w.strip()))
    return uniq[:40], list(dict.fromkeys(chars))[:12]


_SEPARATORS = (" ", "/", ".", ":", "1", "-", "_", "=", ", ", "\t", "@", "a", "")
_PREFIXES = ("", "x ", "/x/")


def hostile_lines(pattern: str, flags: int, size: int) -> Iterator[tuple[str, str]]:
    """(label, line of `size` characters) built from the regex's words."""
    words, chars = literals(pattern, flags)
    if not words:
        words = ["error"]
    seps = list(dict.fromkeys((*_SEPARATORS, *chars)))

    def fill(unit: str) -> str:
        return (unit * (size // max(1, len(unit)) + 1))[:size]

    for sep in seps:
        yield f"all words sep={sep!r}", fill(sep.join(words) + sep)
    for word in words[:20]:
        for sep in (" ", "/", ".", ":", "1", ""):
            yield f"{word!r} sep={sep!r}", fill(word + sep)
        yield f"{word!r} then filler", (word + " " + fill("a/b.c:1 "))[:size]
        yield f"filler then {word!r}", (fill("a/b.c:1 ")[: size - len(word) - 1] + " " + word)
        for unit in ("/a", "a.", "a:1 ", "a-"):  # one long path, dotted name, host:port list
            yield f"{word!r} then {unit!r}*", (word + " " + fill(unit))[:size]
            yield f"{unit!r}* then {word!r}", fill(unit)[: size - len(word) - 1] + " " + word
    # two words next to each other in every order, repeated (alternations followed by a tail)
    for a, b in itertools.islice(itertools.permutations(words[:8], 2), 30):
        yield f"{a!r}+{b!r}", fill(f"{a} {b} ")


def time_search(rx: re.Pattern[str], line: str) -> float:
    t0 = time.perf_counter()
    rx.search(line)
    return time.perf_counter() - t0


def measure(pattern: str, flags: int, max_seconds: float) -> tuple[float, bool, str]:
    """(worst seconds at 16 KB, estimated?, label of the worst line)."""
    rx = re.compile(pattern, flags)
    small = dict(hostile_lines(pattern, flags, 1024))
    worst_small = sorted(small, key=lambda label: -time_search(rx, small[label]))[:3]
    best: tuple[float, bool, str] = (0.0, False, "")
    for label in worst_small:
        line1 = small[label]
        line2 = dict(hostile_lines(pattern, flags, 2048)).get(label, line1 * 2)
        t1 = min(time_search(rx, line1) for _ in range(3))
        t2 = min(time_search(rx, line2) for _ in range(3))
        growth = max(1.0, min(4.0, (t2 / t1) if t1 > 0 else 1.0))  # 2 = linear ... 4 = quadratic per doubling
        estimate = t2 * growth ** 3  # 2 KB -> 16 KB: three doublings
        if estimate > max_seconds:
            result = (estimate, True, label)
        else:
            line16 = dict(hostile_lines(pattern, flags, LINE)).get(label, (line1 * 16))
            result = (min(time_search(rx, line16) for _ in range(2)), False, label)
        if result[0] > best[0]:
            best = result
    return best


# ------------------------------------------------------------------------------------------------
# End to end
# ------------------------------------------------------------------------------------------------
def stuffed(unit: str) -> str:
    return (unit * (LINE // len(unit) + 1))[:LINE]


FAMILIES = {
    "permission denied": stuffed("open /var/app/data.db: permission denied EACCES /etc/x.conf "),
    "no such file": stuffed("no such file or directory: /usr/lib/libfoo.so.1 ENOENT ./config/app.yaml "),
    "amazonaws hosts": stuffed("https://sqs.us-east-1.amazonaws.com/123/q s3.eu-west-1.amazonaws.com "),
    "host:port": stuffed("connect to db.internal:5432 redis:6379 10.0.0.1:8080 "),
    "address in use": stuffed("bind: address already in use 0.0.0.0:8080 EADDRINUSE free address "),
    "OOM words": stuffed("OutOfMemoryError java heap space Killed process oom-kill memory cgroup "),
    "stack frames": stuffed('File "/app/main.py", line 12, in main at com.x.Y.run(Y.java:3) '),
    "FileNotFound run": stuffed("FileNotFound"),
    "one long path": stuffed("/a"),
    "sysctl-like keys": stuffed("vm.max_map_count.fs.net."),
}


def e2e_case(families: list[str], last: bool = False) -> tuple[Any, list[str]]:
    """A stopped task (essential container exited 1) whose log holds the given 16 KB lines, then a crash
    (a KeyError traceback), or (`last`) ends with them: the crash's last words, which the remediation reads."""
    from shared.inputs import load_case

    base = sorted(glob.glob(str(ROOT / "tests/cases/*/*.json")))
    event = None
    for p in base:  # the event of a real case diagnosed as an application's crash (its logs are not used)
        if json.loads(Path(p).read_text()).get("expect", {}).get("pattern") in ("app-crash", "missing-env-var"):
            event, _ = load_case(Path(p))
            break
    if event is None:
        event, _ = load_case(Path(base[0]))
    lines = ["INFO starting worker", "INFO listening on :8080"]
    for fam in families:
        lines += [FAMILIES[fam], "INFO request ok"]
    if last:
        lines += ["FATAL: " + FAMILIES[fam][:LINE - 7] for fam in families]
    else:
        lines += ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                  "KeyError: 'ORDERS_TABLE'"]
    return event, lines


def run_e2e(families: list[str], last: bool = False) -> tuple[float, str]:
    from shared.engine import diagnose
    from shared.inputs import offline_evidence
    from shared.render.text import render_text

    event, lines = e2e_case(families, last)
    t0 = time.perf_counter()
    finding = diagnose(offline_evidence(event, lines))
    render_text(finding)
    return time.perf_counter() - t0, f"{finding.pattern} {finding.facts.get('cause', '')}".strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--budget-ms", type=float, default=50.0)
    ap.add_argument("--max-seconds", type=float, default=5.0, help="estimate, do not run, beyond this")
    ap.add_argument("--only", default="", help="only regexes whose source contains this")
    ap.add_argument("--skip-e2e", action="store_true")
    ap.add_argument("--skip-regex", action="store_true")
    args = ap.parse_args()

    if not args.skip_regex:
        t0 = time.perf_counter()
        found = collect()
        print(f"{len(found)} regexes collected from shared/ in {time.perf_counter() - t0:.1f} s")
        rows = []
        for (pattern, flags), where in found.items():
            if args.only and args.only not in pattern:
                continue
            secs, est, label = measure(pattern, flags, args.max_seconds)
            rows.append((secs, est, label, where, pattern))
        rows.sort(key=lambda r: -r[0])
        over = [r for r in rows if r[0] * 1000 > args.budget_ms]
        print(f"\n{len(rows)} regexes timed; {len(over)} over {args.budget_ms:.0f} ms on a 16 KB line\n")
        print(f"{'ms/16KB':>10}  {'where':<48} worst line / regex")
        for secs, est, label, where, pattern in rows[: args.top]:
            mark = "~" if est else " "
            print(f"{mark}{secs * 1000:9.1f}  {where[:48]:<48} {label[:40]}")
            print(f"{'':12}{pattern[:150]!r}")
        print("(~: estimated from the 1 KB -> 2 KB growth, not run)")

    if not args.skip_e2e:
        print("\nEnd to end: one diagnosis of a task whose log has 16 KB keyword-stuffed lines")
        run_e2e(["stack frames"])  # warm: first-use compiles out of the figures
        for last in (False, True):
            print("  the lines mid-log, then a traceback" if not last else "  the lines as the crash's last words")
            for fam in FAMILIES:
                secs, result = run_e2e([fam], last)
                print(f"    {fam:<20} {secs * 1000:10.1f} ms  -> {result}")
            secs, result = run_e2e(list(FAMILIES), last)
            print(f"    {'all families':<20} {secs * 1000:10.1f} ms  -> {result}")


if __name__ == "__main__":
    main()
