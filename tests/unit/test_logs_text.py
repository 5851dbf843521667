"""The search text of a log set (`shared.logs.lowered`): a long ASCII log is lower-cased a chunk of lines at a
time into one bytearray; it must read as the lines joined and lower-cased, whatever the chunks hold (a line
that is not ASCII in a late chunk, entries that are no strings, entries holding newlines)."""

from __future__ import annotations

import json
import re

import pytest

from shared.logs import LOWER_LINES, from_cloudwatch, from_lines, lowered, split_entries
from shared.pasted import normalise

LONG = LOWER_LINES * 2 + 7  # three chunks, the last one short


def _text(low: str | bytes | bytearray) -> str:
    return low if isinstance(low, str) else low.decode("ascii")


def _lines(n: int, late: str | None = None) -> list[str]:
    tail = "2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef"
    lines = [f"{tail} GET /health HTTP/1.1 200 Worker-{n % 7} READY" for n in range(n)]
    if late is not None:
        lines[-3] = f"{tail} {late}"
    return lines


@pytest.mark.parametrize("lines", [
    [], ["One"], ["A", "", "B"], _lines(40), _lines(LOWER_LINES), _lines(LOWER_LINES + 1), _lines(LONG),
    _lines(LONG, late="café ÉTÉ"),  # not ASCII, in the last chunk only: the whole text is a str
    _lines(LONG, late="KELVIN \u212a"),  # the Kelvin sign lower-cases to an ASCII 'k'
    _lines(40, late="KELVIN \u212a"), _lines(40, late="İstanbul"),  # 'İ' lower-cases to two characters
    _lines(LONG, late="lone \udcff surrogate"),
])
def test_lowered_reads_as_the_lines_joined_and_lower_cased(lines):
    low, lengths = lowered(lines)
    assert _text(low) == "\n".join(lines).lower()
    if "\n".join(lines).isascii():
        assert not isinstance(low, str)  # the bytes the automaton reads
    assert lengths is None or lengths == [len(line) for line in lines]


def _reference_split(entries, forced=None):
    """split_entries as it was: the entries joined (JSON objects dumped, other non-strings as str), split at newlines."""
    raw = [e if type(e) is str else (json.dumps(e) if isinstance(e, dict) else str(e)) for e in entries]
    if type(forced) is not list:
        return "\n".join(raw).split("\n") if raw else [], forced
    lines, each = [], []
    for entry, name in zip(raw, forced, strict=True):
        parts = entry.split("\n")
        lines += parts
        each += [name] * len(parts)
    return lines, each


ODD_ENTRIES = [{"msg": "boom", "level": "error"}, 42, None, ["a\nb"], {"\n": 1}, 3.5]


@pytest.mark.parametrize("size", [5, LONG])
@pytest.mark.parametrize("odd", [None, *ODD_ENTRIES])
@pytest.mark.parametrize("newlines", [False, True])
@pytest.mark.parametrize("forced", ["list", "web", None])
def test_split_entries_as_the_joined_text_reads(size, odd, newlines, forced):
    entries: list = _lines(size)
    if newlines:
        entries[1] = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'X'"
        entries[-2] = "trailing newline\n"
    if odd is not None:
        entries[size // 2] = odd
    names = [f"c{i % 3}" for i in range(len(entries))] if forced == "list" else forced
    lines, each, (low, _) = split_entries(entries, names)
    want_lines, want_each = _reference_split(entries, names)
    assert lines == want_lines
    assert each == want_each
    assert _text(low) == "\n".join(want_lines).lower()


def test_a_header_spelled_in_capitals_is_no_logs_insights_export():
    """The export check reads the lower-cased text, then the lines as written: '@TIMESTAMP,' is a plain line."""
    lines = _lines(LONG)
    assert normalise(lines)._store is not None  # read lazily
    assert normalise(["@timestamp,@message", *lines[:-1]])._store is None  # the CSV export, read line by line
    shouting = normalise(["@TIMESTAMP,@MESSAGE", *lines[:-1]])
    assert shouting._store is not None and shouting.texts[0] == "@TIMESTAMP,@MESSAGE"
    assert normalise(["| @timestamp | @message |", *lines[:-1]])._store is None  # a Markdown table


REGEXES = [re.compile(r"(?i)café|keyerror|\bready\b"), re.compile(r"(?i)worker-3 ready"), re.compile(r"ÉTÉ")]


@pytest.mark.parametrize("late", [None, "café ÉTÉ KeyError", "KeyError: 'K\u212aY'", '{"msg":"ready","stack":"a\\nb"}'])
def test_a_long_log_is_searched_as_its_lines_read(late):
    """Search, candidate lines and containers of a long log (several chunks) are those of its lines read one by one."""
    lines = _lines(LONG, late=late)
    lines[5] = "2024-05-01T10:00:00.000Z ecs/sidecar/0123456789abcdef0123456789abcdef started"
    for logs in (normalise(lines), from_lines(lines), from_cloudwatch({"web": lines[: LONG // 2], "db": lines[LONG // 2 :]})):
        texts = list(logs.texts)
        for regex in REGEXES:
            for start, stop in ((0, None), (LOWER_LINES - 3, LOWER_LINES + 3), (LONG - 10, None)):
                end = len(texts) if stop is None else stop
                want = next((i for i in range(start, end) if regex.search(texts[i])), None)
                assert logs.search(regex, start, stop) == want, (regex.pattern, start)
        for needle in ("keyerror", "ready", "sidecar", "café"):
            assert logs.lines_with(needle) == [i for i, t in enumerate(texts) if needle in t.lower()], needle
        each = list(logs.containers)
        assert logs.container_names() == [c for c in dict.fromkeys(each) if c is not None]


@pytest.mark.parametrize("stacks", [1, 3, 40])  # lines parsed up front into several rows: moved in place up to 16
@pytest.mark.parametrize("single", [0, 5])  # lines parsed up front into one row
def test_lines_parsed_up_front_take_their_rows_in_place(stacks, single):
    from shared.logs import _cloudwatch_rows
    from shared.pasted import _lazy_rows

    lines = _lines(LONG)
    step = LONG // (stacks + single + 1)
    for k in range(stacks + single):
        if k < stacks:
            lines[step * (k + 1)] = (f'{lines[0][:66]}{{"msg":"boom {k}","exception":"Traceback\\n  File \\"app.py\\", '
                                     f'line 3\\nKeyError: \'DB_URL\'"}}')
        else:  # parsed up front (it may name its container), one row
            lines[step * (k + 1)] = f'{lines[0][:66]}{{"msg":"boom {k}","container_name":"web"}}'
    half = LONG // 2
    messages = [line[66:] for line in lines]  # (CloudWatch events carry the message alone)
    built = {
        "normalise": (normalise(list(lines)), [r for line in lines for r in _lazy_rows((), {}, line, None)]),
        "from_lines": (from_lines(list(messages)), [r for line in messages for r in _cloudwatch_rows(line, None)]),
        "from_cloudwatch": (from_cloudwatch({"web": messages[:half], "db": messages[half:]}),
                            [r for i, m in enumerate(messages) for r in _cloudwatch_rows(m, "web" if i < half else "db")]),
    }
    for name, (logs, rows) in built.items():
        assert logs._store is not None and len(logs._exact) >= stacks + single, name
        assert len(logs) == len(rows) == LONG + 3 * stacks, name  # (a three-line stack adds three rows)
        assert list(logs.texts) == [r[0] for r in rows], name
        assert list(logs.containers) == [r[1] for r in rows], name
        assert list(logs.stamps) == [r[2] for r in rows], name
        texts = list(logs.texts)
        for needle in ("keyerror", "boom", "ready", "app.py"):
            assert logs.lines_with(needle) == [i for i, t in enumerate(texts) if needle in t.lower()], (name, needle)
        regex = re.compile(r"(?i)keyerror: 'db_url'|boom 2\b")
        assert logs.search(regex) == next((i for i, t in enumerate(texts) if regex.search(t)), None), name


TAB_SHAPES = [
    "2024-05-01T10:00:00.000Z ecs/web/0123456789abcdef0123456789abcdef \tat com.acme.Orders.get(Orders.java:42)",
    "2024-05-01T10:00:00.000Z\tconsole export line\tsidecar",  # a console export: the stream is the last column
    "1712345678901\tepoch stamped\tsidecar",
    "Jan 07 at 11:08\tcopied row\tsidecar",
    "2024-05-01T10:00:00.000Z ecs/db/0123456789abcdef0123456789abcdef 10%\r20%\r",
    "plain\twith a tab", "\tgoroutine frame", "carriage\r", "2024-05-01T10:00:00.000Z\tno stream here",
]


@pytest.mark.parametrize("known", [(), ("web", "sidecar")])
@pytest.mark.parametrize("where", ["start", "middle", "end", "everywhere"])
def test_lines_holding_a_tab_or_carriage_return_are_read_for_their_container(known, where):
    """A tab or carriage return no longer sends every line of a long log to be read for its container: those lines
    are (the container of a console export's row is in a column); the names are those of every line read."""
    tail = "2024-05-01T10:00:00.000Z ecs/{c}/0123456789abcdef0123456789abcdef {m}"
    lines = [tail.format(c="web", m=f"GET /health {n}") for n in range(3000)]
    lines[1500] = tail.format(c="worker", m="{\"msg\":\"up\"}")
    at = {"start": [0, 1, 2], "middle": [1200, 1201, 2200], "end": [2997, 2998, 2999],
          "everywhere": list(range(0, 3000, 1))}[where]
    for k, i in enumerate(at):
        lines[i] = TAB_SHAPES[k % len(TAB_SHAPES)]
    for logs in (normalise(lines, known), normalise(lines[:200], known)):
        store = logs._store
        assert store is not None
        each = [store.container(i) for i in range(len(logs))]
        assert logs.container_names() == [c for c in dict.fromkeys(each) if c is not None], where
        assert logs.unlabelled() == (None in each and not getattr(logs.containers, "_default", None))


def test_holds_says_whether_some_line_is_one_of_the_containers():
    """LogSet.holds(*containers) is `any(containers[i] in containers)`, read from the containers' names."""
    tail = "2024-05-01T10:00:00.000Z ecs/{c}/0123456789abcdef0123456789abcdef {m}"
    cases = [
        [tail.format(c="web", m=n) for n in range(300)],
        [tail.format(c="web", m=n) for n in range(300)] + ["a plain line"],
        ["plain"] * 5 + [tail.format(c="db", m=1)],
        [],
    ]
    for lines in cases:
        for logs in (normalise(lines), normalise(lines).attribute_unlabelled("web"), from_lines(lines),
                     from_lines(lines, "db"), from_cloudwatch({"web": lines, "db": lines[:3]})):
            each = set(logs.containers)
            for wanted in (("web",), ("db",), (None,), ("web", None), ("app", None), ("app",), ()):
                assert logs.holds(*wanted) == any(c in each for c in wanted), (wanted, lines[-1:] if lines else [])
