"""Logs a person hands the CLI: whatever they pasted or saved, one message per line.

Accepted per line (mixed freely): plain messages; `aws logs tail` lines (ISO timestamp + log
stream name); `docker logs -t` lines (ISO timestamp); CloudWatch console table copies
(``| | Jan 07 11:08:06.146 | message``); tab-separated console/Insights exports; Logs Insights CSV
and Markdown tables; docker compose prefixes (``web_1  | message``); ``[container] message``
prefixes for known container names; NAS log viewers; JSON-structured lines; the JSON of `aws logs
get-log-events` / `filter-log-events` (stream names attribute containers); ANSI colour codes;
text copied from an HTML page (entities); a terminal's hard wrap; CRLF and carriage-return progress.

These sniffers guess at a person's paste. They never run on the Lambda path, which reads CloudWatch
events and keeps every line as the application printed it (`shared.logs.from_cloudwatch`).
"""

from __future__ import annotations

import csv
import html
import json
import operator
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from itertools import compress, count, islice, repeat
from operator import add, itemgetter, not_
from typing import Any

from shared.logs import (
    _ANSI,
    LINE_CHARS,
    UNSURE,
    LogSet,
    Low,
    Row,
    Unsure,
    _clip,
    _structured,
    build,
    spelled,
    split_entries,
    structured_rows,
)

_WRAP = re.compile(r"(?<=\S) {40,}(?=\S)")
_HTML_ENTITY = re.compile(r"&(?:quot|#39|#34|lt|gt|amp|apos|#x27);")
_RAW_MARKUP = re.compile(r"[<>\"]")
# A CloudWatch log stream name as `aws logs tail` prints it: prefix/container/task-id.
_STREAM = re.compile(r"(?:[\w.@-]+/)+([\w.@-]+)/(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_TABLE = re.compile(
    r"\s*\|(?:[^|]*\|)??\s*((?:[A-Z][a-z]{2} +\d{1,2} +)?\d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\S+|\d{13})\s*\|(.*)"
)
_EPOCH_OR_ISO = re.compile(r"\d{13}|\d{10}(?:\.\d+)?|\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?"
                           r"|[A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d\d(?::\d\d)?(?: \(UTC[+-]?[\d:]*\))?"
                           r"|\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d\d(?::\d\d)?(?: [AP]M)?")
_TASK_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Synology / NAS docker log viewers: "2024/07/07 10:33:32 | stderr | message"
_NAS = re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \| (?:stdout|stderr) \| ?")
_COMPOSE = re.compile(r"([a-z0-9][\w.-]*?)[-_](\d{1,3})\s+\| ?(.*)")
_BRACKET = re.compile(r"\[([\w.-]{1,64})\]\s?(.*)")
# A message glued to its ISO timestamp with no separator, as some console exports copy a log
# ("2020-09-10 15:31:08ModuleNotFoundError: ..."): the time's digits, a zone (Z, UTC, +00:00), then a letter.
# Matched from the end of the seconds (index 19); a zone is taken whole, so "08UTC msg" is not glued. A message
# that begins with an absolute path (a backtrace frame, "2022-07-27 11:37:13/app/lib/x.rb:4:in ...") is glued too.
_GLUED = re.compile(r"[\d:.,+-]*+(?:Z|UTC)?+(?=[^\W\d_]|/[^\W\d])")
# What the seconds of a timestamp may be followed by: a run of these alone (".123000+00:00") glues nothing, as
# `_GLUED` cannot match within it (it needs a letter or '/' before `end`): the common line skips the regex.
_STAMP = "0123456789:.,+-"


def normalise(
    entries: Iterable[str] | str | Mapping[str, Sequence[str]] | None,
    known_containers: Iterable[str] = (),
) -> LogSet:
    """Read pasted log input into a LogSet.

    `entries` is a list of lines/entries (oldest first), a whole text, or a mapping
    container -> lines (which attributes every line to its container).
    """
    known = tuple(k for k in known_containers if k)
    if entries is None:
        return LogSet([], [], [], [])
    if isinstance(entries, str | bytes):
        events = _cli_events(entries)
        if events is not None:
            # `aws logs get-log-events` / `filter-log-events` output saved as a file.
            texts: list[str] = []
            containers: list[str | None] = []
            stamps: list[str | None] = []
            hints: list[str | None] = []
            for stream, message in events:
                s = _STREAM.fullmatch(stream) if stream else None
                _feed(message.split("\n"), known, texts, containers, stamps, hints, s.group(1) if s else None)
            return LogSet(texts, containers, stamps, hints)
        text = entries.decode("utf-8", "replace") if isinstance(entries, bytes) else entries
        raw, forced, lowered = split_entries(text.split("\n"))
    elif isinstance(entries, Mapping):
        flat: list[str] = []
        each: list[str | None] = []
        for name, lines in entries.items():
            got = _as_lines(lines)
            got = got if isinstance(got, list) else list(got)
            flat += got
            each += [str(name)] * len(got)
        raw, forced, lowered = split_entries(flat, each)
    else:
        raw, forced, lowered = split_entries(entries)
    streams: dict[str, str | None] = {}  # stream name -> its container, filled as lines are read
    low = lowered.low  # (lower-cased: a line holding "@timestamp," says so in its own case)
    if (spelled(low, "@") in low and spelled(low, "@timestamp,") in low  # ('@' first: a find of one byte is a memchr)
            and any(map(operator.contains, raw, repeat("@timestamp,")))) or _bar_starts_a_line(low):
        # Logs Insights CSV and Markdown tables: header rows are dropped and remembered, line by line.
        texts, containers, stamps, hints = [], [], [], []
        header: list[list[str]] = []
        for i, line in enumerate(raw):
            f = forced[i] if isinstance(forced, list) else forced
            for row in _rows(line, known, f, streams, header):
                texts.append(row[0])
                containers.append(row[1])
                stamps.append(row[2])
                hints.append(row[3])
        return LogSet(texts, containers, stamps, hints)
    container_of = _ContainerOf(_container_only, known, streams)
    container_of.every = partial(_every_container, known, streams)
    return build(raw, forced, partial(_lazy_rows, known, streams), lowered, container_of)


def _bar_starts_a_line(text: Low) -> bool:
    """Some line starts with '|' (a Markdown table): found from the few '|' of a log, not a scan of every
    newline (a search for "\\n|" steps through the whole text)."""
    bar, newline = spelled(text, "|"), spelled(text, "\n")
    if text[:1] == bar:
        return True
    pos = text.find(bar)
    for _ in range(1000):
        if pos == -1:
            return False
        if text[pos - 1 : pos] == newline:
            return True
        pos = text.find(bar, pos + 1)
    return newline + bar in text


def _lazy_rows(known: tuple[str, ...], streams: dict[str, str | None], line: str, forced: str | None) -> list[Row]:
    # The common line first: `aws logs tail` (timestamp, stream, a plain message); as `_rows` reads it.
    if line[13:14] == ":" and line[4:5] == "-" and line[10:11] in "T " and line[:1].isdigit() and "\t" not in line \
            and "\r" not in line and "\x1b" not in line and "&" not in line:
        end = line.find(" ", 19)
        if end != -1 and line.find(",", 19, end) == -1 and line[end - 3 : end] != "UTC" \
                and line[end + 1 : end + 4] != "UTC" and (not line[19:end].strip(_STAMP) or _GLUED.match(line, 19, end) is None):
            rest = line[end + 1 :]
            head, _, tail = rest.partition(" ")
            container = forced
            if "/" in head:
                named = streams.get(head, "")
                if named == "":
                    s = _STREAM.fullmatch(head)
                    named = streams[head] = s.group(1) if s else None
                if named is not None:
                    container = container or named
                    rest = tail
            if " " * 40 not in rest:
                if rest[:1] != "{":
                    if len(rest) <= LINE_CHARS:
                        return [(rest, container, line[:end], None)]
                elif rest.rstrip()[-1:] == "}":  # a JSON entry after the prefix, as `_rows` reads it
                    parsed = _structured(rest, known)
                    if parsed is not None:
                        return structured_rows(parsed, container, line[:end])
    # A plain line (no timestamp, prefix, table, JSON, entity, colour or wrap): `_rows` keeps it as it is.
    first = line[:1]
    if "\t" not in line and "\r" not in line and "\x1b" not in line and "&" not in line and " " * 40 not in line:
        if first.isdigit():
            # Starting with a number that is no timestamp (an address, a count): `_rows` reads no prefix.
            if not (len(line) > 19 and line[4] == "-" and line[10] in "T " and line[13] == ":") \
                    and not (line[4:5] == "/" and line[20:23] == " | ") and len(line) <= LINE_CHARS:
                return [(line, forced, None, None)]
        elif "|" not in line[:40]:
            if first == "{":
                if line.rstrip()[-1:] == "}":
                    parsed = _structured(line, known)
                    if parsed is not None:
                        return structured_rows(parsed, forced, None)
            elif first == "[":
                # "[2024-05-01 10:00:00,123] ...", "[main] ...": a container's prefix only when a known name.
                m = _BRACKET.match(line) if known else None
                if (m is None or m.group(1) not in known) and len(line) <= LINE_CHARS:
                    return [(line, forced, None, None)]
            elif first != "@" and len(line) <= LINE_CHARS:
                return [(line, forced, None, None)]
    return _rows(line, known, forced, streams, [])


def _every_container(known: tuple[str, ...], streams: dict[str, str | None], store: Any, low: Low = "",
                     starts: Sequence[int] = (), mapping: Sequence[int] | None = None,
                     exact: Sequence[int] = ()) -> list[str | None]:
    """The containers of a store with no forced container, each once, in the order they first appear:
    `_line_container` of every line that may name one. Only a line starting with a digit (a timestamp),
    or with '[' (a known container's prefix), with a '|' early on, or parsed up front may: any other
    is unlabelled. The lines of a long `aws logs tail` paste are matched to its streams in C-level
    passes (`_tail_lines`). `low`: the raw lines joined, lower-cased; `starts`: where each starts in it;
    `mapping`: raw line -> store line (-1: parsed up front, into the store lines `exact`), None when they
    are the same."""
    n = store.n
    odd = _odd_lines(low, starts) if n and low and len(low) == starts[-1] - 1 else None
    bars = _bar_lines(low, starts, mapping) if odd is not None else None
    if odd is None or bars is None:
        return list(dict.fromkeys(_line_container(known, streams, store, i) for i in range(n)))
    tail = _tail_lines(streams, store, low, starts, mapping, odd) if n > _SAMPLE * 4 else None
    first: dict[str | None, int] = tail[0] if tail is not None else {}
    read = {*exact, *bars, *(odd if mapping is None else (m for m in map(mapping.__getitem__, odd) if m != -1))}
    raw = store.raw
    if tail is not None:
        special = {c for c in {raw[i][:1] for i in tail[1]} if c.isdigit() or (c == "[" and known)}
        todo = [i for i in tail[1] if raw[i][:1] in special or i in read]
        plain = next((i for i in tail[1] if raw[i][:1] not in special and i not in read), None)
    else:
        firsts = list(map(_FIRST_CHAR, raw))
        special = {c for c in set(firsts) if c.isdigit() or (c == "[" and known)}
        plain = next((i for i in compress(count(), map(special.isdisjoint, firsts)) if i not in read), None)
        todo = []
        for i in compress(range(n), map(special.__contains__, firsts)):
            line = raw[i]
            # A line starting with a digit names a container only after an ISO timestamp, by a stream name
            # ('/') or as a CSV row (','); a '[' line only by a known name's "[name]" prefix. Any other is
            # unlabelled, as `_line_container` would find.
            if i in read:
                todo.append(i)
            elif line[:1] == "[":
                end = line.find("]")
                if end != -1 and line[1:end] in known:
                    todo.append(i)
                elif plain is None or i < plain:
                    plain = i
            elif ("/" in line or "," in line) and line[13:14] == ":" and line[4:5] == "-" and line[10:11] in "T ":
                todo.append(i)
            elif plain is None or i < plain:
                plain = i
    if plain is not None:
        first[None] = plain
    for i in sorted({*todo, *read}):
        c = _line_container(known, streams, store, i)
        if c not in first or i < first[c]:
            first[c] = i
    return sorted(first, key=first.__getitem__)


def _odd_lines(low: Low, starts: Sequence[int], limit: int = 2000) -> list[int] | None:
    """The raw lines holding a tab or a carriage return (a console export's columns, progress output, a Java
    or Go stack frame), whose container only reading them tells (`_line_container`), found by C-level finds
    one line each; None when more than `limit` lines hold one (then every line is read)."""
    found: set[int] = set()
    for char in ("\t", "\r"):
        spelling = spelled(low, char)
        pos = low.find(spelling)
        while pos != -1:
            if len(found) >= limit:
                return None
            r = bisect_right(starts, pos) - 1
            found.add(r)
            pos = low.find(spelling, starts[r + 1])  # (the next line on: past the end, none)
    return sorted(found)


def _bar_lines(low: Low, starts: Sequence[int], mapping: Sequence[int] | None) -> list[int] | None:
    """The store lines with a '|' in their first 40 characters (compose prefixes, tables), or None when
    '|' is too common to look at one by one."""
    bar = spelled(low, "|")
    if bar not in low:
        return []
    if len(low) != starts[-1] - 1:
        return None
    out: list[int] = []
    pos = low.find(bar)
    for _ in range(2000):
        if pos == -1:
            return out
        r = bisect_right(starts, pos) - 1
        if pos - starts[r] < 40:
            line = mapping[r] if mapping is not None else r
            if line != -1 and (not out or out[-1] != line):
                out.append(line)
        pos = low.find(bar, pos + 1)
    return None if pos != -1 else out


_SAMPLE = 16
_FIRST_CHAR = itemgetter(slice(0, 1))


def _tail_lines(streams: dict[str, str | None], store: Any, low: Low, starts: Sequence[int],
                mapping: Sequence[int] | None, odd: Sequence[int] = ()) -> tuple[dict[str | None, int], list[int]] | None:
    """({container: its first line}, the other lines, to read one by one) of a long `aws logs tail` paste,
    found by C-level passes over the text: a line carrying one of the stream names of the first and last
    lines (`prefix/container/task-id`) right after a timestamp as wide as theirs is that stream's line,
    but a line holding a tab or carriage return (`odd`, raw lines), which is read. None when the sample
    shows no such line."""
    raw, rows, n = store.raw, store.rows, store.n
    lines = len(starts) - 1
    if lines < 1 or len(low) != starts[-1] - 1 or (mapping is None and lines != n):
        return None
    widths: dict[int, int] = {}
    heads: dict[str, str] = {}  # " head " as in `low` -> the head as printed
    for i in (*range(_SAMPLE), *range(n - _SAMPLE, n)):
        line = raw[i]
        if rows[i] is not None or not (line[:1].isdigit() and line[4:5] == "-" and line[10:11] in "T "
                                       and line[13:14] == ":") or "\t" in line or "\r" in line:
            continue
        end = line.find(" ", 19)
        if end == -1 or line.find(",", 19, end) != -1 or "UTC" in (line[end - 3 : end], line[end + 1 : end + 4]) \
                or (line[19:end].strip(_STAMP) and _GLUED.match(line, 19, end) is not None):
            continue
        nxt = line.find(" ", end + 1)
        head = line[end + 1 : nxt] if nxt != -1 else ""
        if "/" not in head:
            continue
        named = streams.get(head, "")
        if named == "":
            s = _STREAM.fullmatch(head)
            named = streams[head] = s.group(1) if s else None
        if named is not None:
            widths[end] = widths.get(end, 0) + 1
            heads.setdefault(f" {head.lower()} ", head)
    if not heads or len({h.lower() for h in heads.values()}) != len(heads):
        return None
    width = max(widths, key=widths.__getitem__)
    probes = tuple(spelled(low, probe) for probe in heads)
    fits = list(map(low.startswith, repeat(probes), map(add, islice(starts, lines), repeat(width))))
    for r in odd:
        fits[r] = False
    # (A line parsed up front says for itself, JSON may name its container: it is among `exact`.)
    first: dict[str | None, int] = {}
    for probe, head in heads.items():
        named = streams.get(head, "")
        if named == "":
            s = _STREAM.fullmatch(head)
            named = streams[head] = s.group(1) if s else None
        probe = spelled(low, probe)
        begin = low.find(probe)
        while begin != -1:  # the probe's first line: the first where it sits right after the timestamp
            r = bisect_right(starts, begin) - 1
            at = r if mapping is None else mapping[r]
            if begin == starts[r] + width and fits[r] and at != -1:
                if named not in first or at < first[named]:
                    first[named] = at
                break
            begin = low.find(probe, begin + 1)
    others = [] if all(fits) else list(compress(count(), map(not_, fits)))
    if mapping is not None:
        others = [m for m in map(mapping.__getitem__, others) if m != -1]
    return first, others


def _line_container(known: tuple[str, ...], streams: dict[str, str | None], store: Any, i: int) -> str | None:
    """The container of line i of a store with no forced container (its parsed row's when parsed)."""
    r = store.rows[i]
    if r is not None:
        return r[1]
    line = store.raw[i]
    if "|" not in line[:40] and "\t" not in line and "\r" not in line:
        first = line[:1]
        if not first.isdigit():
            if first != "[" or not known:
                return None  # a plain line: no prefix names a container
        elif not (line[13:14] == ":" and line[4:5] == "-" and line[10:11] in "T "):
            return None  # a line starting with a number that is no ISO timestamp
    if line[13:14] == ":" and line[4:5] == "-" and line[10:11] in "T " and line[:1].isdigit() \
            and "\t" not in line and "\r" not in line:
        end = line.find(" ", 19)
        if end != -1 and line.find(",", 19, end) == -1 and line[end - 3 : end] != "UTC" \
                and line[end + 1 : end + 4] != "UTC":
            if line[19:end].strip(_STAMP) and _GLUED.match(line, 19, end) is not None:
                return None  # a message glued to its timestamp: no stream name between them
            nxt = line.find(" ", end + 1)
            head = line[end + 1 : nxt] if nxt != -1 else line[end + 1 :]
            named = streams.get(head, "")
            if named == "":
                s = _STREAM.fullmatch(head) if "/" in head else None
                named = streams[head] = s.group(1) if s else None
            return named
    c = _container_only(known, streams, line)
    return store.row(i)[1] if c is UNSURE else c


class _ContainerOf(partial["str | Unsure | None"]):
    """`_container_only` bound to its tables (called as fast as a partial), carrying `.every(store, low, starts, mapping, exact)`:
    the distinct containers at once, which `_Store.distinct_containers` uses when present."""

    every: Callable[[Any, Low, Sequence[int], Sequence[int] | None, Sequence[int]], list[str | None]]


def _container_only(known: tuple[str, ...], streams: dict[str, str | None], line: str) -> str | Unsure | None:
    """The container `_rows` gives a line with no forced container, when that is quick to tell
    (`aws logs tail` lines, plain lines), else UNSURE. Only for a line `build` did not parse up
    front: it names no container in a JSON field."""
    if "\r" in line or "\t" in line:
        return UNSURE
    first = line[:1]
    if first.isdigit():
        if len(line) > 19 and line[4] == "-" and line[10] in "T " and line[13] == ":":
            end = line.find(" ", 19)
            if end == -1:
                return None
            if line.find(",", 19, end) != -1:
                return UNSURE
            if line[19:end].strip(_STAMP) and _GLUED.match(line, 19, end) is not None:
                return None  # a message glued to its timestamp: no stream name between them
            rest = line[end + 1 :]
            if line[end - 3 : end] == "UTC" or rest[:3] == "UTC":
                rest = rest[4:] if rest[:3] == "UTC" else rest
            head = rest.partition(" ")[0]
            if "/" in head:
                named = streams.get(head, "")
                if named == "":
                    s = _STREAM.fullmatch(head)
                    named = streams[head] = s.group(1) if s else None
                return named
            return None
        return UNSURE if line[4:5] == "/" and line[20:23] == " | " else None
    if first == "[" and known:  # `_rows` reads a known container's "[name] " prefix before anything else
        m = _BRACKET.match(line)
        return m.group(1) if m and m.group(1) in known else None
    if (first in ("|", " ") and "|" in line[:8]) or "|" in line[:40]:
        return UNSURE
    return None


def _cli_events(text: str | bytes) -> list[tuple[str | None, str]] | None:
    """(log stream, message) of each event when the text is AWS CLI JSON output ({"events": [...]})."""
    head = text[:200].lstrip()
    if not (head.startswith(("{", "[")) if isinstance(head, str) else head.startswith((b"{", b"["))):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if isinstance(doc, list) and doc and all(isinstance(e, dict) and "@message" in e for e in doc):
        # A Logs Insights result exported as JSON: [{"@timestamp", "@message", "@logStream"?}, ...]
        return [(e.get("@logStream"), str(e["@message"]).rstrip("\n")) for e in doc]
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) and "message" in e for e in events):
        return None
    return [(e.get("logStreamName"), str(e["message"]).rstrip("\n")) for e in events]


def _as_lines(entries: Iterable[str] | str) -> Iterable[str]:
    if isinstance(entries, str | bytes):
        text = entries.decode("utf-8", "replace") if isinstance(entries, bytes) else entries
        return text.split("\n")
    return entries


def _feed(
    entries: Iterable[str],
    known: tuple[str, ...],
    texts: list[str],
    containers: list[str | None],
    stamps: list[str | None],
    hints: list[str | None],
    forced: str | None,
) -> None:
    streams: dict[str, str | None] = {}
    header: list[list[str]] = []  # columns of a Markdown table being read, once its header is seen
    for entry in entries:
        for line in entry.split("\n"):
            for row in _rows(line, known, forced, streams, header):
                texts.append(row[0])
                containers.append(row[1])
                stamps.append(row[2])
                hints.append(row[3])


def _rows(line: str, known: tuple[str, ...], forced: str | None, streams: dict[str, str | None],
          header: list[list[str]]) -> list[Row]:
    """The rows of one pasted line: none (a table's header), one, or several (a JSON entry with a stack)."""
    if line[:11] == "@timestamp," and "@message" in line:
        return []  # the header row of a Logs Insights CSV export
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "&" in line and _HTML_ENTITY.search(line) and not _RAW_MARKUP.search(line):
        line = html.unescape(line)  # logs pasted from an HTML page or e-mail (no raw < > " left)
    if "\r" in line:
        line = line.rstrip("\r")
        if "\r" in line:  # progress output overwriting itself: keep what was visible last
            line = next((p for p in reversed(line.split("\r")) if p.strip()), "")
    container = forced
    stamp: str | None = None
    hint: str | None = None
    first = line[:1]
    if header and first != "|":
        header.clear()  # the Markdown table ended: a later table has its own header
    if first.isdigit():
        if len(line) > 19 and line[4] == "-" and line[10] in "T " and line[13] == ":":
            end = line.find(" ", 19)
            tab = line.find("\t", 19, end if end != -1 else len(line))
            comma = line.find(",", 19, end if end != -1 else len(line))
            glued = _GLUED.match(line, 19, end if end != -1 else len(line))
            if tab != -1:
                line, stamp, container = _tabbed(line, known, container)
            elif comma != -1 and (line[comma + 1 : comma + 2] == '"' or end == -1):
                # Logs Insights CSV export: timestamp,"message with ""doubled"" quotes"[,stream]
                stamp, line, named_csv = _csv_row(line, comma)
                if named_csv and container is None:
                    s = _STREAM.fullmatch(named_csv)
                    container = s.group(1) if s else (named_csv if named_csv in known else None)
            elif glued is not None:
                # The message glued to the timestamp (a console export): split where the time ends.
                stamp, line = line[: glued.end()].rstrip(",:"), line[glued.end() :]
            elif end != -1:
                stamp = line[:end]
                rest = line[end + 1 :]
                if stamp[-3:] == "UTC" or rest[:3] == "UTC":
                    rest = rest[4:] if rest[:3] == "UTC" else rest
                head, _, tail = rest.partition(" ")
                if "/" in head:
                    named = streams.get(head, "")
                    if named == "":
                        s = _STREAM.fullmatch(head)
                        named = streams[head] = s.group(1) if s else None
                    if named is not None:
                        container = container or named
                        rest = tail
                line = rest
        elif "\t" in line:
            line, stamp, container = _tabbed(line, known, container)
        elif line[4:5] == "/" and line[20:23] == " | ":
            m = _NAS.match(line)
            if m:
                stamp, line = line[:19], line[m.end():]
    elif first.isalpha() and "\t" in line and " at " in line[:40]:
        line, stamp, container = _tabbed(line, known, container)
    elif first in ("|", " ") and "|" in line[:8]:
        row = _markdown_row(line, header) if first == "|" and line.rstrip()[-1:] == "|" else ()
        if row is None:
            return []  # a header or separator row of a Markdown table (Logs Insights "copy as Markdown")
        if row:
            stamp, line, named_md = row
            if named_md and container is None:
                s = _STREAM.fullmatch(named_md)
                container = s.group(1) if s else (named_md if named_md in known else None)
        else:
            m = _TABLE.match(line)
            if m:
                stamp = m.group(1)
                cell = m.group(2)
                if first == "|" and cell.rstrip(" ")[-1:] == "|":
                    # A Markdown row: one pad space each side; the message keeps its own indentation
                    # (the frames of a stack trace).
                    cell = cell.rstrip(" ")[:-1]
                    line = (cell[1:] if cell[:1] == " " else cell).rstrip(" ")
                else:
                    line = cell.strip(" ")
    elif first == "[" and known:
        m = _BRACKET.match(line)
        if m and m.group(1) in known:
            container = container or m.group(1)
            line = m.group(2)
    elif "|" in line[:40] and (" | " in line[:40] or "  |" in line[:40]):
        m = _COMPOSE.match(line)
        if m and (not known or m.group(1) in known):
            container = container or m.group(1)
            line = m.group(3)
    if "                                        " in line:
        line = _WRAP.sub("", line)  # a terminal's hard wrap padded a line with spaces mid-word
    if line[:1] == "{" and line.rstrip()[-1:] == "}":
        parsed = _structured(line, known)
        if parsed is not None:
            return structured_rows(parsed, container, stamp)
    return [(line if len(line) <= LINE_CHARS else _clip(line), container, stamp, hint)]


_MD_SEPARATOR = re.compile(r"\|(?:\s*:?-{3,}:?\s*\|)+")
_MD_MESSAGE = ("@message", "message", "msg", "log")


def _markdown_row(line: str, header: list[list[str]]) -> tuple[str | None, str, str | None] | tuple[()] | None:
    """A row of a Markdown table: None for a header/separator row (the header is remembered), ()
    when the line is not a row of a known table, else (timestamp, message, log stream)."""
    body = line.strip()
    if _MD_SEPARATOR.fullmatch(body.replace(" ", "")):
        return None if header else ()
    raw = body[1:-1].split("|")
    cells = [c.strip() for c in raw]
    if (any(c in _MD_MESSAGE for c in cells) and any(c.startswith("@") for c in cells)
            and all(c.startswith("@") or c.isidentifier() for c in cells if c)):  # Logs Insights fields are @name
        header[:] = [cells]
        return None
    if not header:
        return ()
    cols = header[0]
    msg = next(i for i, c in enumerate(cols) if c in _MD_MESSAGE)
    after = len(cols) - msg - 1
    if len(cells) < len(cols):
        return ()
    # The message may hold " | " itself: columns before it are read from the left, after it from the right.
    message = "|".join(raw[msg : len(raw) - after]).strip()
    values = dict(zip(cols[:msg], cells[:msg], strict=True))
    values.update(zip(cols[msg + 1 :], cells[len(cells) - after :], strict=True))
    stamp = values.get("@timestamp") or values.get("timestamp")
    return stamp or None, message, values.get("@logStream") or None


def _csv_row(line: str, comma: int) -> tuple[str, str, str | None]:
    stamp, rest = line[:comma], line[comma + 1 :]
    if rest[:1] != '"':
        return stamp, rest, None
    try:
        fields = next(csv.reader([rest]))
    except (csv.Error, StopIteration):
        return stamp, rest, None
    return stamp, fields[0] if fields else "", fields[1] if len(fields) > 1 else None


def _tabbed(line: str, known: tuple[str, ...], container: str | None) -> tuple[str, str | None, str | None]:
    parts = line.split("\t")
    if len(parts) >= 2 and _EPOCH_OR_ISO.fullmatch(parts[0].strip()):
        stamp = parts[0].strip()
        rest = parts[1:]
        if len(rest) >= 2:
            last = rest[-1].strip()
            stream = _STREAM.fullmatch(last) if "/" in last else None
            first = rest[0].strip()
            lead = _STREAM.fullmatch(first) if "/" in first else None
            if last in known or stream:
                container = container or (stream.group(1) if stream else last)
                rest = rest[:-1]
                if len(rest) >= 2 and _TASK_ID.fullmatch(rest[-1].strip()):
                    rest = rest[:-1]  # the console's task id column
            elif lead:
                container = container or lead.group(1)
                rest = rest[1:]
        return "\t".join(rest), stamp, container
    return line, None, container


