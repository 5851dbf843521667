"""LogSet.search / may_match: the lines a regex can match are found from the words it requires, and the
answer is the one reading every line gives (pasted forms, JSON fields, non-ASCII, clipped lines)."""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from shared.logs import LINE_CHARS, LogSet, from_lines
from shared.pasted import normalise
from shared.patterns.connection import cause_regex
from shared.scan import required_words

ROOT = Path(__file__).resolve().parents[2]

REGEXES = [
    re.compile(r"(?i)\b(?:flyway|liquibase|hikaripool|alembic|migrat(?:ing|ion|ions|ed)|connected to (?:the )?"
               r"(?:database|postgres|mysql|redis|mongo))\b"),
    re.compile(r"(?i)application startup complete|\blistening on\b|\bstarted (?:server|application)\b"),
    re.compile(r"\"(?:GET|POST) /\S* HTTP/[\d.]+\" 5\d\d\b|Exception in ASGI application"),
    re.compile(r"_windows\.go|C:\\ProgramData\\Amazon\\ECS"),
    re.compile(r"(?i)listening on port"),
    re.compile(r"(?i)timed? ?out"),
    re.compile(r"Error|Exception"),
    cause_regex("timeout"),
    re.compile(r"st"),  # no word of 3 characters: every line is read
]


# The brute-force answers: every line read with the regex, once per set of texts and regex, not once per range
# asked (the near-miss tests ask 4 ranges of 9 regexes over 7,320 lines, 60 of them 16 KB long).
_TEXTS: dict[int, tuple[LogSet, tuple[str, ...]]] = {}


@pytest.fixture(autouse=True, scope="module")
def _forget_the_brute_force_answers() -> Iterator[None]:
    yield
    _TEXTS.clear()
    matching.cache_clear()


def texts_of(logs: LogSet) -> tuple[str, ...]:
    """The set's texts, read on the set's first brute-force answer (reading them parses every row, as reading
    them on every call did), then kept with the set."""
    got = _TEXTS.get(id(logs))
    if got is None or got[0] is not logs:
        got = _TEXTS[id(logs)] = (logs, tuple(logs.texts))
    return got[1]


@cache
def matching(texts: tuple[str, ...], regex: re.Pattern[str]) -> tuple[int, ...]:
    """Every line the regex matches, each line read with regex.search."""
    return tuple(i for i, text in enumerate(texts) if regex.search(text))


def brute(logs, regex, start=0, stop=None):
    texts = texts_of(logs)
    stop = len(texts) if stop is None else min(stop, len(texts))
    found = matching(texts, regex)
    at = bisect_left(found, max(0, start))
    return found[at] if at < len(found) and found[at] < stop else None


def test_required_words():
    assert required_words(REGEXES[0]) == ("alembic", "connected", "flyway", "hikaripool", "liquibase", "migrat")
    assert required_words(REGEXES[3]) == ("_windows.go", "programdata")
    assert required_words(REGEXES[-1]) is None
    assert required_words(re.compile(r"(foo|ba)+ bazz")) == ("bazz",)
    assert required_words(re.compile(r"a(?:bcd)?e")) is None  # an optional part is not required
    assert required_words(re.compile(r"port=8080|\d+ ms")) is None  # "=" and numbers are no words
    assert required_words(re.compile(r"errno 110|\(110\)|1\.5")) is None
    assert required_words(re.compile(r"errno 110|\(110\)")) == ("(110)", "errno")


def test_required_words_of_optional_characters():
    """An optional character inside a literal ("ya?ml", "colou?r") gives one word a spelling: the match holds
    one of them. A word holding another of the set is left out (a text holding "json5" holds "json")."""
    assert required_words(re.compile(r"\.(?:conf|ya?ml|json5?)\b")) == ("conf", "json", "yaml", "yml")
    assert required_words(re.compile(r"(?i)colou?r of the sky")) == ("color", "colour")
    assert required_words(re.compile(r"re?d? flag")) == ("flag",)  # no spelling of "r", "re", "rd", "red" is a word
    assert required_words(re.compile(r"timeouts?|deadlines?")) == ("deadline", "timeout")
    texts = ["config.yml:3: bad", "config.yaml line 3", "settings.json5 at line 2", "a.conf:1", "x.ym:1",
             "the colour of the sky", "the colr of the sky", "COLOR OF THE SKY", "red flag", "a time-outs"]
    for pattern in (r"(?i)\.(?:conf|ya?ml|json5?)\b", r"(?i)colou?r of the sky", r"timeouts?|deadlines?"):
        regex = re.compile(pattern)
        words = required_words(regex) or ()
        for text in texts:
            if regex.search(text):
                assert any(w in text.lower() for w in words), (pattern, text)




NEAR_MISSES = [
    # A JSON line: the message and its fields read "listening on port=8080", the raw line never does.
    ['{"level":"info","msg":"listening on","port":8080}', "plain line", '{"msg":"ok","timeout":"30s"}',
     '{"msg":"connect failed","errno":110.0}', '{"msg":"x","n":1.1e2}'],
    # Non-ASCII: the long s is an 's' to re.IGNORECASE, not to str.lower().
    ["ſtarted application", "Started server at 10:00", "listening on :8080"],
    # A clipped line ends in "…[N more characters not read]".
    ["x" * (LINE_CHARS + 10) + " migrated", "2024-05-01T10:00:00.000Z app/web/0123456789abcdef0123456789abcdef "
     "Connected to the database"] + [f"line {n}" for n in range(120)],
    ['2024-05-01T10:00:00Z,"a ""quoted"" Exception here"', "\tat x.y(Z.java:1)", "| 10:00:00 | Error: boom |"],
]


@pytest.mark.parametrize("lines", NEAR_MISSES)
def test_search_matches_brute_force_near_misses(lines):
    for logs in (normalise(lines), normalise(lines * 60), from_lines(lines * 60)):
        for regex in REGEXES:
            for start, stop in ((0, None), (3, 50), (100, 400), (5, 6)):
                assert logs.search(regex, start, stop) == brute(logs, regex, start, stop), (regex.pattern, start)


@pytest.mark.slow
def test_search_matches_brute_force_on_every_case():
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json"))[::7]:
        logs = json.loads(path.read_text()).get("logs") or []
        if not isinstance(logs, list):
            continue
        padded = normalise(logs * (1 + 300 // max(1, len(logs))))
        for ls in (normalise(logs), padded):
            for regex in REGEXES:
                assert ls.search(regex) == brute(ls, regex), (path.name, regex.pattern)


LINE_SHAPES = [
    "plain message", "  indented frame", "10.0.3.4 - - [01/May/2024:10:00:01 +0000] \"GET /health HTTP/1.1\" 200 2",
    "[2024-05-01 10:00:01,123] INFO worker.tasks: processed", "[web] listening on :8080", "[web]  | x",
    '{"level":"info","msg":"request completed","status":200}', '{"msg":"a | b"}', "{not json}", '{"no":"message"}',
    "2024-05-01 10:00:07.456  INFO 1 --- [main] o.s.Boot : Started", "2024/07/07 10:33:32 | stderr | boom",
    "2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef {\"msg\":\"up\",\"port\":8080}",
    "2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef {\"msg\":\"up\"",
    "2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef plain text",
    "2024-05-01T10:00:00,123 comma,\"quoted\"", "123", "12345678901234567890123", "web_1  | hello",
    "@timestamp,@message", "@other", "x" * 50 + " " * 40 + "y", "a\tb", "&amp; x", "\x1b[31mred\x1b[0m",
    "| | 10:00:00 | msg |", "é accent", "1" * (LINE_CHARS + 5), "[" + "x" * (LINE_CHARS + 5),
]


@pytest.mark.parametrize("known", [(), ("web",)])
@pytest.mark.parametrize("forced", [None, "web"])
def test_lazy_rows_read_a_line_as_rows_does(known, forced):
    from shared.pasted import _lazy_rows, _rows

    for line in LINE_SHAPES:
        assert _lazy_rows(known, {}, line, forced) == _rows(line, known, forced, {}, []), line


def test_search_in_a_long_log_reads_only_its_range():
    """A word on thousands of lines (kept as offsets until asked for), a range in the middle."""
    lines = [f"2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef worker started job {n}"
             for n in range(5000)] + ['{"msg":"boom","stack":"a\\nb"}', "application started"]
    regex = re.compile(r"(?i)\bstarted (?:job 4321|application)\b|application started")
    for _ in range(2):  # the first log set learns the words, the second finds them in its one pass
        for logs in (normalise(lines), normalise(lines[:5000])):
            for start, stop in ((0, None), (4000, 4500), (4321, 4322), (100, 4999), (4990, 6000)):
                assert logs.search(regex, start, stop) == brute(logs, regex, start, stop), (start, stop)


@pytest.mark.parametrize("known", [(), ("web",), ("web", "sidecar")])
def test_container_names_are_those_of_the_lines(known):
    """The distinct containers found in C-level passes are those read line by line (long logs too)."""
    tail = "2024-05-01T10:00:00.000Z ecs/{c}/0123456789abcdef0123456789abcdef {m}"
    shapes = [s for s in LINE_SHAPES if "\t" not in s and "\r" not in s] + [
        "[sidecar] started", "[nope] x", "[web", "10.0.0.1/24 route", "2024-05-01T10:00:00,5 a,b",
        "1234-56-78T9:", tail.format(c="sidecar", m="hi"), tail.format(c="web", m='{"msg":"x"}')]
    for lines in (shapes, shapes * 5, [tail.format(c="web", m=n) for n in range(80)] + shapes,
                  [f"[{n}] plain {n}" for n in range(70)] + ["[sidecar] late"]):
        logs = normalise(lines, known)
        store = logs._store
        each = [store.container(i) for i in range(len(logs))] if store is not None else list(logs.containers)
        expected = [c for c in dict.fromkeys(each) if c is not None]
        assert logs.container_names() == expected


_ENDPOINT_TEXTS = ['redis.internal/10.0.0.7:6379', "db.example.com:5432: [Errno 111] Connection refused",
                   'connection to server at "db" (10.0.0.1), port 5432 failed', "Host=db;Port=5432",
                   "SERVER=tcp:sql,1433"]


def _endpoint_guards_checked(texts: list[str]) -> int:
    """How many (regex, text) matches were checked; fails on a guard that refuses a text its regex matches."""
    from shared.patterns.connection import _ENDPOINTS, _endpoint_guards

    checked = 0
    for regex, guard in zip(_ENDPOINTS, _endpoint_guards(), strict=True):
        for text in texts:
            if text.isascii() and regex.search(text):
                checked += 1
                assert guard is None or guard(text.lower()), (regex.pattern, text)
    return checked


def test_endpoint_guards_pass_the_texts_their_regex_matches():
    """connection.endpoint skips a regex whose guard fails: the guard must pass wherever the regex matches
    (the near misses here; every case line in the slow test below)."""
    from shared.patterns.connection import endpoint

    assert _endpoint_guards_checked(_ENDPOINT_TEXTS) >= len(_ENDPOINT_TEXTS)
    assert endpoint("redis.internal/10.0.0.7:6379 refused") == ("redis.internal", 6379, None)


@pytest.mark.slow
def test_endpoint_guards_pass_every_text_their_regex_matches():
    """connection.endpoint skips a regex whose guard fails: the guard must pass wherever the regex matches."""
    from shared.patterns.connection import endpoint

    texts = list(_ENDPOINT_TEXTS)
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json")):
        logs = json.loads(path.read_text()).get("logs") or []
        if isinstance(logs, list):
            texts += [t for t in logs if isinstance(t, str)]
    assert _endpoint_guards_checked(texts) > 100
    assert endpoint("redis.internal/10.0.0.7:6379 refused") == ("redis.internal", 6379, None)


@pytest.mark.slow
def test_may_hold_never_skips_a_row_that_matches():
    """classify() and failure_cause() skip a regex on a text holding none of its words (lookaheads too)."""
    import sys

    from shared.patterns import registry
    from shared.patterns.base import Cause
    from shared.patterns.connection import _CAUSES
    from shared.scan import may_hold

    registry()  # every pattern module loaded
    regexes = [regex for _, regex in _CAUSES]
    for name, module in list(sys.modules.items()):
        if name.startswith("shared.patterns"):
            for value in vars(module).values():
                if isinstance(value, tuple | list):
                    regexes += [row.regex for row in value if isinstance(row, Cause)]
    for pattern in registry():
        regexes += [row.regex for row in getattr(pattern, "causes", ())]
    assert len(regexes) > 60
    texts = ["Error: pull access denied for repo, repository does not exist", "KMS key access DENIED",
             "no free address", "CannotPullContainerError: i/o timeout"]
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json")):
        case = json.loads(path.read_text())
        logs = case.get("logs") or []
        texts += [t for t in logs if isinstance(t, str)] if isinstance(logs, list) else []
        detail = case["event"].get("detail", {})
        texts += [detail.get("stoppedReason") or ""] + [c.get("reason") or "" for c in detail.get("containers", [])]
    checked = 0
    for regex in regexes:
        for text in texts:
            if regex.search(text):
                checked += 1
                assert may_hold(regex, text.lower() if text.isascii() else None), (regex.pattern, text)
    assert checked > 500


@pytest.mark.slow
def test_guarded_lazy_regexes_answer_as_the_compiled_ones():
    """A case-insensitive lazy_re answers None without searching a text lacking its words: never wrongly."""
    import gc

    import shared.engine  # noqa: F401  (every pattern and remediation module)
    from shared.patterns import registry
    from shared.scan import _LazyRegex

    registry()
    lazy = [o for o in gc.get_objects()
            if isinstance(o, _LazyRegex) and ("(?i)" in o.pattern or o._flags & re.IGNORECASE)]
    assert len(lazy) > 50
    texts = ["Fluent-Bit stopped", "ſtarted", "KMS DENIED", "Stopped by user", "container instance is being drained"]
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json"))[::3]:
        case = json.loads(path.read_text())
        logs = case.get("logs") or []
        texts += [t for t in logs if isinstance(t, str)] if isinstance(logs, list) else []
        texts.append(case["event"].get("detail", {}).get("stoppedReason") or "")
    for regex in lazy:
        compiled = re.compile(regex.pattern, regex._flags)
        for text in texts:
            got, want = regex.search(text), compiled.search(text)
            assert (got and got.span()) == (want and want.span()), (regex.pattern, text)


@pytest.mark.parametrize("lines", NEAR_MISSES)
def test_may_match_without_learning_keeps_every_matching_line(lines):
    """`may_match(learn=False)` looks words up in the set's own text: every line the regex matches is kept
    (JSON fields, lines parsed up front, ranges), and no word joins the search pass of later sets."""
    from shared import logs as logs_module

    regexes = [*REGEXES, re.compile(r"(?i)\b(?:request|time|service)\b"), re.compile(r"(?i)\bno valid (?:bar|qux)z?")]
    for logs in (normalise(lines * 60), from_lines(lines * 60), normalise(lines)):
        texts = tuple(logs.texts)
        for regex in regexes:
            words_before = set(logs_module._WORDS)
            for start, stop in ((0, len(texts)), (3, 150), (100, 400)):
                kept = set(logs.may_match(regex, start, stop, learn=False))
                wanted = {i for i in matching(texts, regex) if start <= i < stop}
                assert wanted <= kept, (regex.pattern, start, sorted(wanted - kept))
                assert all(start <= i < stop for i in kept)
            assert set(logs_module._WORDS) == words_before, regex.pattern


def _same_through_alternatives(compiled: re.Pattern[str], text: str) -> None:
    from shared.scan import _alternatives, _search_alternatives

    alternatives = _alternatives(compiled)
    if not alternatives or not text.isascii():
        return
    got, want = _search_alternatives(compiled, alternatives, text, text.lower()), compiled.search(text)
    assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups())), (compiled.pattern, text)


def test_alternatives_find_what_the_whole_regex_finds():
    """A lazy regex searched through its top-level alternatives (or those of its one group), once it has been
    used a few times, finds the match the whole regex finds (span and groups): near misses here (a later
    alternative matching further left, one alternative a prefix of another, a lookbehind, groups, a repeated
    group that is not split); every lazy_re over the case lines holding its words in the slow test below."""
    from shared.scan import _alternatives

    near = {
        r"(?i)zzz foo|bar|foo": ["a bar then foo", "foo bar", "zzz foo", "nothing"],
        r"(?i)\b(?:ab|abc|x)\b": ["abc", "ab", "xabc abc", "abcd x"],
        r"(?i)(?<!x)foo|bar|baz": ["xfoo bar", "xfoo", "xfoo foo"],
        r"(?i)(a)b|(c)d|(e)f": ["cd ab", "ef", "xx"],
        r"(?i)x(?:ab|cd|ef)+y": ["xabcdy", "xefy"],
        r"(?i)^(?:ab|cd|ef)": ["zab", "cd"],
    }
    for pattern, texts in near.items():
        for text in texts:
            _same_through_alternatives(re.compile(pattern), text)
    assert len(_alternatives(re.compile(r"(?i)x(?:ab|cd|ef)+y"))) == 0  # a repeated group is not split


@pytest.mark.slow
def test_alternatives_find_what_the_whole_regex_finds_on_case_lines():
    """Every lazy_re split into alternatives finds, through them, the match the whole regex finds on case
    lines holding its words (span and groups): a corpus-wide equivalence check of the speed-up."""
    import gc

    import shared.engine  # noqa: F401  (every pattern and remediation module)
    from shared.patterns import registry
    from shared.scan import _alternatives, _LazyRegex

    registry()
    lazy = [o for o in gc.get_objects() if isinstance(o, _LazyRegex)]
    split = [re.compile(o.pattern, o._flags) for o in lazy]
    split = [c for c in split if _alternatives(c)]
    assert len(split) > 100
    lines: set[str] = set()
    for path in sorted((ROOT / "tests" / "cases").glob("*/*.json"))[::5]:
        case = json.loads(path.read_text())
        logs = case.get("logs") or []
        lines.update(t for t in logs if isinstance(t, str) and t.isascii()) if isinstance(logs, list) else None
        lines.add(case["event"].get("detail", {}).get("stoppedReason") or "")
    lows = [(t, t.lower()) for t in sorted(lines)]
    checked = 0
    for compiled in split:
        words = required_words(compiled)
        holding = [text for text, low in lows if words is None or any(w in low for w in words)]
        for text in holding[:: max(1, len(holding) // 60)]:  # (at most ~60 a regex: the test stays quick)
            _same_through_alternatives(compiled, text)
            checked += 1
    assert checked > 4000


def test_needle_set_builds_its_text_automaton_only_for_non_ascii_text():
    """The str automaton is built on the first non-ASCII text only; either way the occurrences are the
    ones a `str.find` per needle gives (ASCII, accented, lone surrogate texts)."""
    from shared.scan import HAVE_AUTOMATON, NeedleSet

    needles = ["error", "rror", "café", "timeout", "é"]
    ns = NeedleSet(needles)
    assert ns._str_ac is None

    def by_find(low: str) -> list[tuple[int, int, int]]:
        out = []
        for index, needle in enumerate(ns.needles):
            pos = low.find(needle)
            while pos != -1:
                out.append((index, pos, pos + len(needle)))
                pos = low.find(needle, pos + 1)
        return sorted(out)

    ascii_text = "an error then a timeout\nerror again"
    assert sorted(ns.occurrences(ascii_text)) == by_find(ascii_text)
    assert ns._str_ac is None  # an ASCII text needs no str automaton
    for text in ("le café: error", "timeout \udcff error é"):
        got = ns.occurrences(text)
        want = by_find(text.replace("\udcff", "\ufffd"))
        assert sorted(got) == want, text
    assert (ns._str_ac is not None) == HAVE_AUTOMATON


@pytest.mark.parametrize("lines", NEAR_MISSES[:2])
def test_may_match_of_a_few_lines_from_the_index_keeps_every_matching_line(lines):
    """`may_match(few=0)`: a short range's lines are looked up in the word index too (a walk that reads each with
    several regexes), and keep every line the regex matches."""
    for logs in (normalise(lines * 60), from_lines(lines * 60), normalise(lines)):
        texts = tuple(logs.texts)
        for regex in REGEXES:
            for start, stop in ((0, 5), (3, 50), (100, 160), (5, 6)):
                kept = set(logs.may_match(regex, start, stop, few=0))
                wanted = {i for i in matching(texts, regex) if start <= i < stop}
                assert wanted <= kept, (regex.pattern, start, sorted(wanted - kept))
                assert all(start <= i < stop for i in kept)


HOLD_ANY_LINES = [
    '2024-05-01T10:00:00.000Z app/web/0123456789abcdef0123456789abcdef INFO Using H2 at /data/app.mv.db',
    '{"level":"info","msg":"opened org.sqlite.JDBC","file":"/tmp/x.sqlite"}',
    "[main] INFO org.apache.derby: booted", "plain line", "HSQLDB started", "h2c upgrade", "\tat x.y(Z.java:1)",
    "x" * (LINE_CHARS + 10) + " sqlite", "ſqlite is not sqlite to str.lower()", "SQLITE",
] + [f"line {n}" for n in range(70)]


@pytest.mark.parametrize("words", [("h2", "derby", "hsqldb", "sqlite"), ("sqlite",), ("h2", "x" * 3)])
def test_may_hold_any_never_skips_a_line_that_holds_a_word(words):
    """may_hold_any: every line whose text (lower-cased) holds one of the words is among the candidates, short
    words too ("h2"), over pasted, JSON, clipped and non-ASCII lines, in any range."""
    for logs in (normalise(HOLD_ANY_LINES), normalise(HOLD_ANY_LINES * 20), from_lines(HOLD_ANY_LINES * 20)):
        texts = texts_of(logs)
        for start, stop in ((0, None), (3, 90), (100, 1500), (5, 6)):
            got = list(logs.may_hold_any(words, start, stop))
            assert got == sorted(set(got))
            end = len(texts) if stop is None else min(stop, len(texts))
            assert all(start <= i < end for i in got)
            want = [i for i in range(start, end) if any(w in texts[i].lower() for w in words)]
            assert set(want) <= set(got), (words, start, stop)
