"""Log normalisation: whatever a person or CloudWatch hands us, one message per line.

Accepted per line (mixed freely): plain messages; `aws logs tail` lines (ISO timestamp + log
stream name); `docker logs -t` lines (ISO timestamp); CloudWatch console table copies
(``| | Jan 07 11:08:06.146 | message``); tab-separated console/Insights exports; docker compose
prefixes (``web_1  | message``); ``[container] message`` prefixes for known container names;
JSON-structured lines (message/msg/log + level, FireLens ``container_name``, stack fields);
the JSON of `aws logs get-log-events` / `filter-log-events` (stream names attribute containers);
ANSI colour codes; CRLF; several lines inside one entry. Multi-line tracebacks and Java/Go stack
traces are kept together as blocks (see `LogSet.block_start`).

The work per line is kept small and everything costly (levels, blocks) is computed lazily for the
few lines a pattern looks at: a 100,000-line log must normalise in well under a second.
"""

from __future__ import annotations

import bisect
import csv
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate, repeat
from operator import add

from shared.scan import NeedleSet

# How much of one log line the patterns read. CloudWatch Logs events reach 256 KiB; every pattern
# regex passes over each line, so a forged or dumped megabyte line would cost seconds. Errors are
# stated at the start of a line.
LINE_CHARS = 16384
_WRAP = re.compile(r"(?<=\S) {40,}(?=\S)")
_HTML_ENTITY = re.compile(r"&(?:quot|#39|#34|lt|gt|amp|apos|#x27);")
_RAW_MARKUP = re.compile(r"[<>\"]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
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

_MESSAGE_KEYS = ("message", "msg", "log", "MESSAGE", "@message", "@m", "text", "event", "@mt")
_LEVEL_KEYS = ("level", "severity", "levelname", "lvl", "log.level", "@l", "loglevel", "level_name")
_STACK_KEYS = ("stack", "stack_trace", "stacktrace", "exception", "exc_info", "trace", "@x", "err", "error",
               "full_message")  # GELF: the long form of the message, a backtrace

_LEVELS = {
    "trace": "debug", "debug": "debug", "dbug": "debug", "d": "debug",
    "info": "info", "information": "info", "informational": "info", "notice": "info", "i": "info",
    "warn": "warn", "warning": "warn", "w": "warn",
    "error": "error", "err": "error", "eror": "error", "severe": "error", "e": "error",
    "fatal": "fatal", "critical": "fatal", "crit": "fatal", "panic": "fatal", "emerg": "fatal",
    "alert": "fatal", "emergency": "fatal", "f": "fatal",
}
_PINO_LEVELS = {10: "debug", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
_TEXT_LEVEL = re.compile(
    r"(?:^|[\s\[(|\"'=])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|FATAL|CRITICAL|CRIT|PANIC)"
    r"(?=[\])\s:|,\"'\]]|$)"
    r"|level=\"?(\w+)|^([IWEF])\d{4} \d\d:\d\d"
)
_CONTINUATION = re.compile(
    r"[ \t]+\S|at |Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames)|During handling of the above"
    r"|The above exception was|goroutine \d+ \[|created by |\[signal |[}\]],?\s*$|\"[\w.@-]+\": "
    r"|\^+\s*$|exit status \d+$|from /[^\s:]+:\d+:in [`']"
)
_OPENS = re.compile(r"(?:Exception|Error|Traceback|exc_info|stack|panic|[:{\[(])\s*$|Exception|Error\b|Traceback|fail",
                    re.IGNORECASE)
_HEALTH_DOWN = re.compile(r"health[^\n]{0,40}\bdown\b|\"status\"\s*:\s*\"DOWN\"|reporting health down",
                          re.IGNORECASE)
_RUBY_FRAME = re.compile(r"\s*(?:from )?[\w/.-]+(?:\.rb)?:\d+:in [`']")
_PY_EXC_TAIL = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure)\b")


_REGISTERED: NeedleSet | None = None


def register_needles(needles: Iterable[str]) -> None:
    """The needles patterns will ask for: one RE2 pass finds the lines holding any of them."""
    global _REGISTERED
    _REGISTERED = NeedleSet(needles)


class LogSet:
    """Normalised log lines (oldest first) with their container, timestamp and level hint."""

    __slots__ = ("_all_loud", "_block_cache", "_candidates", "_low", "_names", "_needle_cache", "_starts",
                 "containers", "hints", "stamps", "texts")

    def __init__(
        self,
        texts: list[str],
        containers: list[str | None],
        stamps: list[str | None],
        hints: list[str | None],
    ) -> None:
        self.texts = texts
        self.containers = containers
        self.stamps = stamps
        self.hints = hints  # explicit level from structured input, else None (found lazily)
        self._low: str | None = None
        self._starts: list[int] | None = None
        self._needle_cache: dict[str, list[int]] = {}
        self._block_cache: dict[int, int] = {}
        self._candidates: dict[str, list[int]] | None = None
        self._names: list[str] | None = None
        self._all_loud = False

    def __len__(self) -> int:
        return len(self.texts)

    def __bool__(self) -> bool:
        return bool(self.texts)

    # -- search ---------------------------------------------------------------------------------
    def _index(self) -> tuple[str, list[int]]:
        if self._low is None:
            self._low = "\n".join(self.texts).lower()
            # Line i starts after the i previous lines and their i newlines (all C-level iteration).
            self._starts = list(accumulate(map(add, map(len, self.texts), repeat(1)), initial=0))
        assert self._starts is not None
        return self._low, self._starts

    def _needle_map(self) -> dict[str, list[int]] | None:
        """Registered needle -> lines holding it, ascending: one Aho-Corasick pass over the text."""
        if self._candidates is None and _REGISTERED is not None:
            low, starts = self._index()
            needles = _REGISTERED.needles
            found: dict[str, set[int]] = {}
            right = bisect.bisect_right
            for index, start in _REGISTERED.occurrences(low):
                found.setdefault(needles[index], set()).add(right(starts, start) - 1)
            self._candidates = {needle: sorted(lines) for needle, lines in found.items()}
        return self._candidates

    def lines_with(self, *needles: str) -> list[int]:
        """Indices of lines containing any of the (lower-case) needles, ascending."""
        mapped = self._needle_map()
        registered = _REGISTERED.needle_set if _REGISTERED is not None else frozenset()
        if len(needles) == 1:
            needle = needles[0]
            if mapped is not None and needle in registered:
                return mapped.get(needle, [])
            return self._cached_scan(needle)
        found: set[int] = set()
        for needle in needles:
            if mapped is not None and needle in registered:
                hits = mapped.get(needle)
                if hits:
                    found.update(hits)
            else:
                found.update(self._cached_scan(needle))
        return sorted(found)

    def _cached_scan(self, needle: str) -> list[int]:
        hits = self._needle_cache.get(needle)
        if hits is None:
            hits = self._needle_cache[needle] = self._scan(needle)
        return hits

    def _scan(self, needle: str) -> list[int]:
        low, starts = self._index()
        hits = []
        pos = low.find(needle)
        while pos != -1:
            line = bisect.bisect_right(starts, pos) - 1
            hits.append(line)
            pos = low.find(needle, starts[line + 1])
        return hits

    def contains(self, needle: str) -> bool:
        return needle in self._index()[0]

    # -- structure ------------------------------------------------------------------------------
    def level(self, i: int) -> str | None:
        """debug/info/warn/error/fatal, or None when the line (and its block head) says nothing."""
        head = self.block_start(i)
        # A line inherits the level of the entry it continues only if that entry announced more lines
        # (an exception, a message ending in ':' ...): a tail that starts mid-traceback must not take
        # the level of whatever ordinary line happens to precede it.
        opens = head != i and _OPENS.search(self.texts[head]) is not None
        for j in (i, head) if opens else (i,):
            hint = self.hints[j]
            if hint:
                return hint
            found = _text_level(self.texts[j])
            if found:
                return found
        return None

    def loud(self) -> LogSet:
        """The same lines, none of them quiet (a second look at what was logged as a warning)."""
        other = LogSet(self.texts, self.containers, self.stamps, self.hints)
        other._low, other._starts, other._candidates = self._low, self._starts, self._candidates
        other._block_cache, other._names, other._all_loud = self._block_cache, self._names, True
        return other

    def quiet(self, i: int) -> bool:
        """True when the line carries an explicit non-error level (debug, info or warn). A health
        report saying DOWN is not quiet, whatever level it was logged at."""
        if self._all_loud or self.level(i) not in ("debug", "info", "warn"):
            return False
        return not _HEALTH_DOWN.search(self.texts[i])

    def block_start(self, i: int) -> int:
        """First line of the multi-line entry (traceback, stack trace, pretty JSON) holding line i."""
        cached = self._block_cache.get(i)
        if cached is not None:
            return cached
        j = i
        container = self.containers[i]
        while j > 0 and i - j < 400 and self.containers[j - 1] == container and _continues(
            self.texts[j - 1], self.texts[j]
        ):
            j -= 1
        if j < i and not _continues_from_start(self.texts[j]) and not _OPENS.search(self.texts[j]):
            # The walk reached an ordinary line (a tail that starts mid-trace): the entry starts after it.
            j += 1
        self._block_cache[i] = j
        return j

    def block_end(self, i: int) -> int:
        """Last line (inclusive) of the entry holding line i."""
        n = len(self.texts)
        j = i
        container = self.containers[i]
        while j + 1 < n and j - i < 400 and self.containers[j + 1] == container and _continues(
            self.texts[j], self.texts[j + 1]
        ):
            j += 1
        return j

    def indices_for(self, containers: Iterable[str | None]) -> list[int]:
        wanted = set(containers)
        return [i for i, c in enumerate(self.containers) if c in wanted]

    def container_names(self) -> list[str]:
        if self._names is None:
            self._names = [c for c in dict.fromkeys(self.containers) if c is not None]
        return self._names

    def attribute_unlabelled(self, container: str) -> LogSet:
        """A copy where lines with no container are given to `container`."""
        if None not in self.containers:
            return self
        return LogSet(
            self.texts,
            [container if c is None else c for c in self.containers],
            self.stamps,
            self.hints,
        )


def _text_level(text: str) -> str | None:
    m = _TEXT_LEVEL.search(text, 0, 100)
    if not m:
        return None
    word = m.group(1) or m.group(2) or m.group(3)
    return _LEVELS.get(word.lower()) if word else None


def _continues_from_start(line: str) -> bool:
    """A line that is itself a continuation (the tail began inside an entry)."""
    return bool(line) and (line[:1] in (" ", "\t") or _CONTINUATION.match(line) is not None)


def _continues(prev: str, line: str) -> bool:
    """Does `line` continue the entry that `prev` belongs to?"""
    if not line:
        return False
    if _CONTINUATION.match(line):
        return True
    # The closing line of a Python traceback ("KeyError: 'X'") follows an indented frame line.
    if prev[:1] in (" ", "\t") and _PY_EXC_TAIL.match(line):
        return True
    # Ruby backtraces: "/path/x.rb:12:in `m'" frames after the error line or another frame.
    if _RUBY_FRAME.match(line) and (_RUBY_FRAME.match(prev) or (prev.rstrip().endswith(")") and (
            "Error" in prev or "Exception" in prev or "::" in prev))):
        return True
    # Traceback frames that lost their indentation in a paste: only after the head or another frame.
    if line.startswith('File "') and (prev.startswith(("Traceback", 'File "', " ", "\t"))):
        return True
    # Go stack frames: "pkg.fn(...)" followed by an indented file line; Python "Traceback" heads.
    return bool(prev.startswith(("Traceback (most recent call last)", "goroutine ")))


# ------------------------------------------------------------------------------------------------
def normalise(
    entries: Iterable[str] | str | Mapping[str, Sequence[str]] | None,
    known_containers: Iterable[str] = (),
) -> LogSet:
    """Normalise raw log input into a LogSet.

    `entries` is a list of lines/entries (oldest first), a whole text, or a mapping
    container -> lines (which attributes every line to its container).
    """
    texts: list[str] = []
    containers: list[str | None] = []
    stamps: list[str | None] = []
    hints: list[str | None] = []
    known = tuple(k for k in known_containers if k)
    if entries is None:
        return LogSet(texts, containers, stamps, hints)
    if isinstance(entries, str | bytes):
        events = _cli_events(entries)
        if events is not None:
            # `aws logs get-log-events` / `filter-log-events` output saved as a file.
            for stream, message in events:
                s = _STREAM.fullmatch(stream) if stream else None
                _feed(message.split("\n"), known, texts, containers, stamps, hints, s.group(1) if s else None)
            return LogSet(texts, containers, stamps, hints)
    if isinstance(entries, Mapping):
        for name, lines in entries.items():
            _feed(_as_lines(lines), known, texts, containers, stamps, hints, str(name))
    else:
        _feed(_as_lines(entries), known, texts, containers, stamps, hints, None)
    return LogSet(texts, containers, stamps, hints)


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
    streams: dict[str, str | None] | None = None,
    header: list[list[str]] | None = None,
) -> None:
    # Hot loop: a 100,000-line log goes through here. Cheap structural tests before any regex,
    # and the container of each distinct stream name is parsed once.
    streams = {} if streams is None else streams
    header = [] if header is None else header  # columns of a Markdown table being read, once its header is seen
    append_text = texts.append
    append_container = containers.append
    append_stamp = stamps.append
    append_hint = hints.append
    for entry in entries:
        if type(entry) is not str:
            entry = json.dumps(entry) if isinstance(entry, dict) else str(entry)
        if "\n" in entry:
            # Several lines in one entry: feed them one by one (same container if forced).
            _feed(entry.split("\n"), known, texts, containers, stamps, hints, forced, streams, header)
            continue
        line = entry
        if line[:11] == "@timestamp," and "@message" in line:
            continue  # the header row of a Logs Insights CSV export
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
                if tab != -1:
                    line, stamp, container = _tabbed(line, known, container)
                elif comma != -1 and (line[comma + 1 : comma + 2] == '"' or end == -1):
                    # Logs Insights CSV export: timestamp,"message with ""doubled"" quotes"[,stream]
                    stamp, line, named_csv = _csv_row(line, comma)
                    if named_csv and container is None:
                        s = _STREAM.fullmatch(named_csv)
                        container = s.group(1) if s else (named_csv if named_csv in known else None)
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
                continue  # a header or separator row of a Markdown table (Logs Insights "copy as Markdown")
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
                message, hint, named_json, extra = parsed
                container = container or named_json
                for ln in (message.split("\n") if "\n" in message else (message,)):
                    append_text(_clip(ln.rstrip("\r")))
                    append_container(container)
                    append_stamp(stamp)
                    append_hint(hint)
                for ln in extra:
                    append_text(_clip(ln.rstrip("\r")))
                    append_container(container)
                    append_stamp(stamp)
                    append_hint(hint)
                continue
        append_text(line if len(line) <= LINE_CHARS else _clip(line))
        append_container(container)
        append_stamp(stamp)
        append_hint(hint)


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


def _clip(text: str) -> str:
    if len(text) <= LINE_CHARS:
        return text
    return f"{text[:LINE_CHARS]} …[{len(text) - LINE_CHARS} more characters not read]"


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


_CONTEXT_SKIP = frozenset({
    "time", "timestamp", "ts", "@timestamp", "@t", "date", "datetime", "logger", "logger_name", "loggerName",
    "name", "caller", "source", "stream", "pid", "hostname", "thread", "thread_name", "threadName", "v", "@version",
    "level_value", "sequence", "container_id", "ecs_cluster", "ecs_task_arn", "ecs_task_definition", "partial_message",
    "partial_id", "partial_ordinal", "partial_last", "@i", "@r", "dd.trace_id", "dd.span_id", "trace_id", "span_id",
})
_HTTP_KEYS = frozenset({"req", "request", "res", "response", "http"})
_HTTP_FIELDS = ("method", "url", "path", "uri", "statusCode", "status_code", "status")
_ROLE: dict[str, str] = {}
for _k in _MESSAGE_KEYS:
    _ROLE[_k] = "message"
for _k in _LEVEL_KEYS:
    _ROLE[_k] = "level"
for _k in ("container_name", "ecs_container_name", "containerName"):
    _ROLE[_k] = "container"
for _k in _STACK_KEYS:
    _ROLE.setdefault(_k, "stack")
for _k in _CONTEXT_SKIP:
    _ROLE.setdefault(_k, "skip")


def _structured(line: str, known: tuple[str, ...]) -> tuple[str, str | None, str | None, list[str]] | None:
    """(message, level, container, extra lines) of a JSON log line, or None when it is not one.

    Scalar fields that are neither message, level, time nor bookkeeping are kept as ` key=value` after
    the message: structured loggers put the facts (host, port, status, path, error) there.
    """
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    message: str | None = None
    message_rank = len(_MESSAGE_KEYS)
    level = None
    named = None
    extra: list[str] = []
    context: list[str] = []
    for key, value in obj.items():
        role = _ROLE.get(key)
        if role == "message" and isinstance(value, str) and value:
            rank = _MESSAGE_KEYS.index(key)
            if rank < message_rank:
                if message is not None:
                    context.append(f"{key}={_short(value)}")
                message, message_rank = value, rank
                continue
        if role == "level" and level is None:
            if isinstance(value, str) and value:
                level = _LEVELS.get(value.strip().lower())
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                level = _PINO_LEVELS.get(value)
                continue
        if role == "container" and named is None and isinstance(value, str) and value:
            name = value.lstrip("/")
            match = next((k for k in known if k == name or name.endswith("-" + k) or f"-{k}-" in name), None)
            named = match or (name if not known else None)
            continue
        if role == "stack":
            if isinstance(value, dict):
                value = value.get("stack") or value.get("message")
            if isinstance(value, str) and value:
                extra.extend(value.split("\n"))
            continue
        if role == "skip" or role == "level":
            continue
        if isinstance(value, dict) and key in _HTTP_KEYS:
            # pino-http / express loggers nest the request and response: keep what says which request
            # it was and how it ended ("req.method=GET req.url=/health res.statusCode=503").
            for sub in _HTTP_FIELDS:
                inner_value = value.get(sub)
                if isinstance(inner_value, str | int) and not isinstance(inner_value, bool) and len(context) < 12:
                    context.append(f"{key}.{sub}={_short(inner_value)}")
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool) and len(context) < 12:
            context.append(f"{key}={_short(value)}")
    if message is None:
        if not extra:
            return None  # a JSON document with no message field: keep it as written
        message, extra = extra[0], extra[1:]
    extra = [x for x in extra if x != message]
    # The docker json-file / FireLens "log" field may itself carry a structured line.
    inner = message.rstrip("\n")
    if inner[:1] == "{" and inner[-1:] == "}" and inner != line:
        nested = _structured(inner, known)
        if nested is not None:
            n_message, n_level, n_named, n_extra = nested
            return n_message, n_level or level, named or n_named, n_extra + extra
    if context and "\n" not in inner:
        inner = inner + " " + " ".join(context)
    return inner, level, named, extra


def _short(value: object) -> str:
    text = str(value)
    if len(text) > 200:
        text = text[:199] + "…"
    return f'"{text}"' if (" " in text or not text) else text
