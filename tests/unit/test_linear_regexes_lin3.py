"""lin3: regexes that read a hostile 16 KB log line (CloudWatch's cut) in a pass or two instead of a pass per start.

Each rewritten regex finds what its original found (kept here as OLD) on every log line of the case corpus and on
generated near-miss lines (marked slow: `make test` runs them, `make unit` does not); and a whole diagnosis of a log
holding the hostile 16 KB line costs about what one holding a benign 16 KB line of the same length costs (a ratio
measured in one run, interleaved: the machine is shared; before lin3 the hostile lines took seconds to hours)."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.unit.helpers import run
from tests.unit.patterns.common import elb_failed

ROOT = Path(__file__).resolve().parents[2]
LINE = 16384


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield from obj.split("\n")
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


@cache
def corpus_lines() -> tuple[str, ...]:
    """Every line of every case's logs and event."""
    lines: set[str] = set()
    for path in sorted((ROOT / "tests/cases").glob("*/*.json")):
        case = json.loads(path.read_text())
        lines.update(s for s in _strings([case.get("logs"), case.get("event")]) if s)
    return tuple(sorted(lines))


def generated(tokens: list[str], n: int, seed: int, most: int = 12) -> list[str]:
    """`n` lines of 1 to `most` tokens drawn from `tokens`: near misses of the forms the regexes read."""
    rng = random.Random(seed)
    return ["".join(rng.choice(tokens) for _ in range(rng.randint(1, most))) for _ in range(n)]


Key = tuple[tuple[int, int], tuple[str | None, ...]] | None


def groups_key(m: re.Match[str] | None) -> Key:
    return None if m is None else (m.span(), m.groups())


def differences(lines: list[str] | tuple[str, ...], old: Callable[[str], Any], new: Callable[[str], Any]) -> list[str]:
    return [line for line in lines if old(line) != new(line)]


def stuffed(unit: str, size: int = LINE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def hostile_over_benign(hostile: list[str], benign: list[str], **detail: Any) -> float:
    """(fastest diagnosis of the log `hostile`) / (fastest of `benign`), 3 runs each, interleaved."""
    run(benign, **detail)  # first-use compiles out of the figures
    best = {"hostile": float("inf"), "benign": float("inf")}
    for _ in range(3):
        for name, logs in (("benign", benign), ("hostile", hostile)):
            t0 = time.perf_counter()
            run(logs, **detail)
            best[name] = min(best[name], time.perf_counter() - t0)
    return best["hostile"] / best["benign"]


# A whole diagnosis with one hostile 16 KB line costs at most this many times one with a benign line of that length.
# A read per start costs seconds there, thousands of times the benign line's few milliseconds; the linear passes the
# hostile line still gets (more regexes read a line full of their words) cost 1-20 times as much.
RATIO = 50.0
BENIGN = stuffed("INFO worker 7 heartbeat ok, queue depth 0, next poll in 5s; ")


# -- health_check_failed._REQUEST: one start read its 16 KB path once per character it could give back --------------
OLD_REQUEST = (r"\b(?:GET|HEAD) (/[^\s\"?]*)[^\n\"]*?(?:HTTP/[\d.]+\"?)?\s+(\d{3})\b"
               r"|Request finished (?:HTTP/[\d.]+ )?(?:GET|HEAD) \S*?(?://[^/\s]+)?(/[^\s?]*)\S* - (\d{3})\b"
               r"|\b(?:method=|\"method\":\s*\")(?:GET|HEAD)\b[^\n]*?(?:path|uri|url)[=\":\s]+(/[^\s\"?,]*)"
               r"[^\n]*?(?:statusCode|status_code|status|code)[=\":\s]+(\d{3})")
_REQUEST_TOKENS = ["GET ", "HEAD ", "/", "/a", "a", "HTTP/", "HTTP/1.1", "1.1", ".", '"', " ", "  ", "\n", "\t", "?",
                   "200", "404", "5000", " - ", "-", "//", "//h", "Request finished ", "HTTP/2 ", "x", "?q=1", "=", ":",
                   "method=GET ", "path=", "status=", "url=/", '"method":"HEAD"']


def _request_key(m: re.Match[str] | None) -> tuple[tuple[int, int], tuple[str, ...]] | None:
    """What `_request` reads of a match: its span and its groups that matched (the path, then the status)."""
    return None if m is None else (m.span(), tuple(g for g in m.groups() if g))


@pytest.mark.slow
def test_the_request_regex_matches_where_and_what_the_old_one_did() -> None:
    from shared.patterns import health_check_failed as hc

    old = re.compile(OLD_REQUEST)
    new = re.compile(hc._REQUEST.pattern)
    lines = list(corpus_lines()) + generated(_REQUEST_TOKENS, 100_000, 20261210)
    bad = [(k, pos) for line in lines for k in (line, "\n" + line) for pos in (0, 1)
           if _request_key(old.search(k, pos)) != _request_key(new.search(k, pos))]
    assert bad[:3] == []
    # `_request_search` matches at chosen starts: every start of the shorter generated lines agrees too.
    bad = [(line, c) for line in generated(_REQUEST_TOKENS, 20_000, 20261211) for c in range(len(line))
           if _request_key(old.match(line, c)) != _request_key(new.match(line, c))]
    assert bad[:3] == []


@pytest.mark.parametrize("line", [
    "GET " + stuffed("/a"), "HEAD /x" + " " * 16000 + "x", "GET /xHTTP/" + stuffed("1."),
    "Request finished GET " + stuffed("/a"), "Request finished HTTP/1.1 GET " + stuffed("//h/a")],
    ids=["long-path", "blank-run", "http-in-path", "request-finished", "request-finished-host"])
def test_a_16_kb_request_line_costs_a_diagnosis_what_a_benign_line_does(line: str) -> None:
    # before lin3: 12.6 s for the long path, hours for "Request finished GET /a/a/..." (cubic)
    hostile = ["INFO starting", line[:LINE], "INFO stopping"]
    assert hostile_over_benign(hostile, ["INFO starting", BENIGN, "INFO stopping"], **elb_failed()) < RATIO
