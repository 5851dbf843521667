"""The words of the lazy regexes, known ahead (shared/regex_words.py): current, and the regexes that use them
answer as compiled ones, without being compiled for a text that lacks their words."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from shared import regex_words
from shared.scan import _LazyRegex, lazy_re, lazy_regexes, regex_words_module, required_words

ROOT = Path(__file__).resolve().parents[2]


@cache
def _compile_once(pattern: str, flags: int) -> re.Pattern[str]:
    """Each lazy regex compiled once for the tests here: ~800 of them, more than re's own cache holds (512), so
    each re.compile compiled afresh, in five passes over them (~0.1 s of CPU a pass), now two."""
    return re.compile(pattern, flags)


def test_the_recorded_words_are_right_and_cover_nearly_every_regex():
    """A recorded regex's words are what `required_words` finds in it (else a text holding a match could be
    answered None). A regex not recorded is compiled as before, only sooner: adding or changing a pattern's
    regexes needs no regeneration, so a new failure type stays one file and its test; `make regex-words`
    refreshes the table, and this test asks for it once a tenth of the regexes are missing from it."""
    lazies = lazy_regexes()
    assert len(lazies) > 500
    requiring = recorded = 0
    for lazy in lazies:
        words = required_words(_compile_once(lazy.pattern, lazy._flags))
        known = regex_words.WORDS.get((lazy.pattern, int(lazy._flags)))
        if known is not None:
            assert known == words, lazy.pattern
            recorded += 1
        if words is not None:
            requiring += 1
    assert recorded >= 0.9 * requiring, (
        f"{requiring - recorded} of {requiring} lazy regexes requiring words are not in shared/regex_words.py, so a "
        "cold start compiles them to answer texts that lack their words: run `make regex-words`")


def test_a_current_table_is_what_make_regex_words_writes():
    """The generator agrees with itself: run on today's regexes it records each one with its words."""
    table = regex_words_module()
    namespace: dict[str, object] = {}
    exec(compile(table, "regex_words", "exec"), namespace)  # the generator's own output
    words = namespace["WORDS"]
    assert isinstance(words, dict)
    for lazy in lazy_regexes():
        key = (lazy.pattern, int(lazy._flags))
        assert words.get(key) == required_words(_compile_once(lazy.pattern, lazy._flags)), lazy.pattern


def _texts(step: int) -> list[str]:
    texts = ["", "Fluent-Bit stopped", "ſtarted", "KMS DENIED", "Stopped by user", "port 8080 is already in use",
             "Error: connect ECONNREFUSED 10.0.0.1:5432", "OOMKilled", "ERROR", "Traceback (most recent call last):",
             "no space left on device", "NO SPACE LEFT ON DEVICE: '/data'", "café timeout", "TIMEOUT é"]
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json"))[::step]:
        case = json.loads(path.read_text())
        logs = case.get("logs") or []
        texts += [t for t in logs if isinstance(t, str)][:30] if isinstance(logs, list) else []
        texts.append(case["event"].get("detail", {}).get("stoppedReason") or "")
    return texts


def _same(got: re.Match[str] | None, want: re.Match[str] | None) -> bool:
    return (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))


@pytest.mark.parametrize(("method", "step"), [("search", 40), ("match", 60), ("fullmatch", 60),
                                             pytest.param("search", 3, marks=pytest.mark.slow)])
def test_a_regex_with_known_words_answers_as_compiled_and_compiles_only_for_a_text_holding_them(method, step):
    texts = _texts(step)
    lows = [(t, t.lower() if t.isascii() else None) for t in texts]
    checked = skipped = 0
    for (pattern, flags), words in regex_words.WORDS.items():
        regex = _compile_once(pattern, flags)
        lazy = _LazyRegex(pattern, flags)
        for text, low in lows:
            holds = low is None or any(w in low for w in words)
            before = getattr(lazy, "_compiled", None)
            got = getattr(lazy, method)(text)
            assert _same(got, getattr(regex, method)(text)), (pattern, text)
            if not holds:
                assert getattr(lazy, "_compiled", None) is before  # not compiled for it
                skipped += 1
            checked += 1
    assert checked > 20_000 and skipped > checked // 2


def test_required_words_of_a_lazy_regex_need_no_compile():
    (pattern, flags), words = next(iter(regex_words.WORDS.items()))
    lazy = _LazyRegex(pattern, flags)
    assert required_words(lazy) == words == required_words(re.compile(pattern, flags))  # type: ignore[arg-type]
    assert getattr(lazy, "_compiled", None) is None


def test_near_misses():
    # A regex not recorded compiles on first use, as before.
    unknown = lazy_re(r"zebra crossing \d+", re.IGNORECASE)
    assert unknown.search("no animals here") is None
    assert getattr(unknown, "_compiled", None) is not None
    # A recorded one: a text lacking its words answers None uncompiled; a search kept before the compile
    # stays right after it; positions and non-ASCII text go to the compiled regex.
    pattern, flags = next(k for k in regex_words.WORDS if k[1] & re.IGNORECASE and k[0].startswith("timed out"))
    lazy = _LazyRegex(pattern, flags)
    kept = lazy.search
    assert kept("all good") is None and getattr(lazy, "_compiled", None) is None
    assert lazy.search("connection TIMED OUT after 5s") is not None
    assert getattr(lazy, "_compiled", None) is not None
    assert kept("Timed out") is not None and kept("fine") is None
    fresh = _LazyRegex(pattern, flags)
    assert fresh.search("xx timed out", 3) is not None and fresh.search("timed out", 1) is None
    fresh = _LazyRegex(pattern, flags)
    assert fresh.match("Timed out é") is not None  # not ASCII: the compiled regex answers


_FIRST_DIAGNOSIS = """
import gc, json, sys
from pathlib import Path
from shared.engine import diagnose
from shared.inputs import load_case, offline_evidence
from shared.render.slack import render_slack
from shared.render.sns import render_sns
from shared.scan import _LazyRegex
event, logs = load_case(Path(sys.argv[1]))
finding = diagnose(offline_evidence(event, logs))
render_slack(finding), render_sns(finding)
lazies = [o for o in gc.get_objects() if type(o) is _LazyRegex]
print(json.dumps([finding.pattern, sum(getattr(o, "_compiled", None) is not None for o in lazies), len(lazies)]))
"""


@pytest.mark.parametrize("case", ["dev/160-python-attributeerror-nonetype", "dev/162-spring-commandlinerunner-npe"])
def test_a_cold_diagnosis_compiles_few_of_the_regexes(case):
    """The cold start's guard (not timed): a first diagnosis of an application crash, rendered for Slack and
    SNS, in a fresh interpreter, compiles ~50 of the ~800 lazy regexes (143 when every regex it read was
    compiled: ~70 ms of CPU on Python 3.12)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _FIRST_DIAGNOSIS, str(ROOT / "tests" / "cases" / f"{case}.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    pattern, compiled, lazies = json.loads(proc.stdout.strip().splitlines()[-1])
    assert pattern == "app-crash" and lazies > 700
    assert compiled <= 80, f"{compiled} lazy regexes compiled by one cold diagnosis"
