"""Log lines as the application printed them, one message per line, searched in one pass.

`from_cloudwatch` builds the log set of the Lambda path straight from CloudWatch Logs events: each
event's message is split into its lines and kept exactly as printed, except for two things that are
not text: ANSI colour codes are dropped, and a JSON-structured line (message/msg/log + level, FireLens
``container_name``, stack fields) becomes its message, its level and the facts it carries. What a
person pastes into the CLI (``aws logs tail`` lines, console tables, compose prefixes ...) is read
by `shared.pasted` on the CLI's side; both build the same `LogSet`.

A `LogSet` is lazy: a line is parsed (JSON decoded, prefix stripped) the first time a pattern reads
it. The search for every word any pattern asks for is ONE Aho-Corasick pass over the raw text
(`shared.scan`); a line it finds is parsed and checked, the others never are. Only lines that may
become several lines (a JSON entry carrying a stack, a message with newlines) are parsed up front,
so that line numbers are known. Levels and multi-line blocks are worked out for the few lines a
pattern looks at.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import Enum
from functools import partial
from itertools import accumulate, groupby, repeat
from operator import add, itemgetter
from typing import Any, Final, Literal, NamedTuple

from shared.scan import NeedleSet, required_words

# How much of one log line the patterns read. CloudWatch Logs events reach 256 KiB; every pattern
# regex passes over each line, so a forged or dumped megabyte line would cost seconds. Errors are
# stated at the start of a line.
LINE_CHARS = 16384
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

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



Row = tuple[str, "str | None", "str | None", "str | None"]  # text, container, timestamp, level hint
# A log's search text: its lines joined by newlines and lower-cased; an ASCII text as bytes (what the
# Aho-Corasick pass reads; a long log's in a bytearray, see `lowered`), any other as a str. Bytes are ASCII.
Low = str | bytes | bytearray

# -- the one search pass ---------------------------------------------------------------------------
_REGISTERED: NeedleSet | None = None
_WORDS: set[str] = set()  # every word asked for so far: the registry's needles and the helpers' words
_ALIASES: dict[str, str] = {}  # a spelling in the raw text -> the word it stands for
_STALE = True


def register_needles(needles: Iterable[str]) -> None:
    """The words patterns will ask for: one Aho-Corasick pass finds the lines holding any of them."""
    global _STALE
    _WORDS.update(n.lower() for n in needles if n)
    _STALE = True


def _learn(needle: str) -> None:
    """A word a helper asked for that no pattern declared: searched with the others from the next
    log set on (this one scans for it alone)."""
    global _STALE
    _WORDS.add(needle)
    _STALE = True


def _raw_forms(word: str) -> tuple[str, ...]:
    """"key=value" is how a JSON line's field reads once parsed; the raw line spells it "key":"value"
    or "key": value (a nested request field too: req.method=GET)."""
    if "=" not in word or '"' in word:
        return ()
    key, _, value = word.partition("=")
    key = key.rsplit(".", 1)[-1]
    return tuple(form.format(k=key, v=value) for form in ('"{k}":"{v}', '"{k}": "{v}', '"{k}":{v}', '"{k}": {v}'))


def _automaton() -> NeedleSet | None:
    global _REGISTERED, _STALE
    if _STALE:
        aliases: dict[str, str] = {}
        for word in _WORDS:
            for form in _raw_forms(word):
                aliases.setdefault(form, word)
        _ALIASES.clear()
        _ALIASES.update(aliases)
        _REGISTERED = NeedleSet(_WORDS | _UPFRONT | set(aliases))
        _STALE = False
    return _REGISTERED


_RAW_SETS: dict[tuple[str, ...], NeedleSet] = {}  # `_raw_candidates`: the words of a regex (and their raw forms), as one automaton
_RAW_SET_WORDS = 4  # from this many words, one automaton pass over the text beats a `str.find` per word
_FEW_LINES = 64  # `may_match` reads a range this short line by line: no word is searched for it
_NEEDLE_SETS: dict[tuple[str, ...], frozenset[str]] = {}  # a pattern's needles (a tuple it passes each time), as a set


# -- lazy columns ------------------------------------------------------------------------------------
class _Store:
    """The raw lines and, once parsed, their rows. `forced`: the container of every line (a name, or
    one per line), which no parse changes; None when the parse decides it. `container_of(line)`: the
    container of an unparsed line without parsing it, or `UNSURE`."""

    __slots__ = ("_every", "container_of", "forced", "longest", "n", "parse", "raw", "rows")

    def __init__(self, raw: list[str], rows: list[Row | None], forced: str | list[str | None] | None,
                 parse: Callable[[str, str | None], list[Row]],
                 container_of: Callable[[str], str | Unsure | None] | None = None, longest: int = -1) -> None:
        self.raw, self.rows, self.forced, self.parse, self.n = raw, rows, forced, parse, len(raw)
        self.longest = longest  # the length of the longest raw line (-1: not known)
        self.container_of = container_of  # may carry `.every(store, low, starts, mapping, exact)`: the distinct containers at once
        self._every: list[str | None] | None = None

    def row(self, i: int) -> Row:
        r = self.rows[i]
        if r is None:
            f = self.forced
            got = self.parse(self.raw[i], f[i] if isinstance(f, list) else f)
            r = self.rows[i] = got[0]
        return r

    def containers_known(self) -> bool:
        f = self.forced
        return isinstance(f, str) or (isinstance(f, list) and None not in f)

    def container(self, i: int) -> str | None:
        f = self.forced
        if f is not None:
            v = f if isinstance(f, str) else f[i]
            if v is not None:
                return v
        r = self.rows[i]
        if r is None and self.container_of is not None:
            c = self.container_of(self.raw[i])
            if c is not UNSURE:
                return c
        return (r or self.row(i))[1]

    def distinct_containers(self, low: Low, starts: Sequence[int], mapping: Sequence[int] | None,
                            exact: Sequence[int]) -> list[str | None]:
        """The containers of the lines, each once, in the order they first appear (`low`: the raw lines
        joined, lower-cased; `starts`: where each starts in it; `mapping`: raw line -> line, -1 for one
        parsed up front into the lines `exact`; None: the same lines)."""
        if self._every is None:
            every = getattr(self.container_of, "every", None)
            if every is not None and self.forced is None:
                self._every = every(self, low, starts, mapping, exact)
            else:
                self._every = list(dict.fromkeys(self.container(i) for i in range(self.n)))
        return self._every


class _Unsure(Enum):
    """The type of UNSURE alone, so that `c is UNSURE` narrows it away."""

    UNSURE = "unsure"


UNSURE: Final = _Unsure.UNSURE  # a `container_of` answer: only parsing the line can tell
Unsure = Literal[_Unsure.UNSURE]


class _Column(Sequence):
    """One field of every line, parsing lines as they are read."""

    __slots__ = ("_default", "_k", "_s")

    def __init__(self, store: _Store, k: int, default: str | None = None) -> None:
        self._s, self._k, self._default = store, k, default

    def __len__(self) -> int:
        return self._s.n

    def __getitem__(self, i):
        if type(i) is int:
            s = self._s
            if self._k == 1:
                v = s.container(i if i >= 0 else i + s.n)
                return self._default if v is None else v
            r = s.rows[i]
            if r is None:
                r = s.row(i if i >= 0 else i + s.n)
            v = r[self._k]
            return self._default if v is None and self._default is not None else v
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._s.n))]
        return self[int(i)]

    def __iter__(self) -> Iterator:
        for i in range(self._s.n):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(list(self))

    __hash__ = None  # type: ignore[assignment]  # unhashable like list; typeshed types object.__hash__ as a method


class LogSet:
    """Log lines (oldest first) with their container, timestamp and level hint."""

    __slots__ = ("_all_loud", "_block_cache", "_candidates", "_exact", "_low", "_names", "_needle_cache", "_plain",
                 "_raw_lines", "_starts", "_store", "_words", "containers", "hints", "stamps", "texts")

    def __init__(
        self,
        texts: Sequence[str],
        containers: Sequence[str | None],
        stamps: Sequence[str | None],
        hints: Sequence[str | None],
    ) -> None:
        self.texts = texts
        self.containers = containers
        self.stamps = stamps
        self.hints = hints  # explicit level from structured input, else None (found lazily)
        self._store: _Store | None = None
        # A lazy set searches its raw text: `_raw_lines` maps a raw line to its line (None: the same
        # index; -1: a line parsed up front, searched in its parsed text, which `_exact` lists).
        self._raw_lines: list[int] | None = None
        self._exact: list[int] = []
        self._low: Low | None = None
        self._starts: list[int] | None = None
        self._needle_cache: dict[str, list[int]] = {}
        self._block_cache: dict[int, int] = {}
        self._candidates: dict[str, list[int] | _Hits] | None = None
        self._words: frozenset[str] = frozenset()  # the words `_candidates` was searched for
        self._names: list[str] | None = None
        self._all_loud = False
        self._plain: bool | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __bool__(self) -> bool:
        return len(self.texts) > 0

    def _copy(self) -> LogSet:
        candidates = self._needle_map()
        other = LogSet(self.texts, self.containers, self.stamps, self.hints)
        other._store, other._exact, other._raw_lines = self._store, self._exact, self._raw_lines
        other._low, other._starts = self._index()
        other._candidates, other._words = candidates, self._words
        other._needle_cache, other._block_cache, other._names = self._needle_cache, self._block_cache, self._names
        other._all_loud, other._plain = self._all_loud, self._plain
        return other

    # -- search ---------------------------------------------------------------------------------
    def _index(self) -> tuple[Low, list[int]]:
        if self._low is None:
            texts = list(self.texts)
            self._low = lowered(texts).low
            self._starts = _starts_of(texts, self._low)
        assert self._starts is not None
        return self._low, self._starts

    def _needle_map(self) -> dict[str, list[int] | _Hits] | None:
        """Registered word -> lines holding it, ascending: one Aho-Corasick pass over the text."""
        if self._candidates is None:
            automaton = _automaton()
            if automaton is None:
                return None
            low, starts = self._index()
            found = _pass(automaton, low, starts)[0]
            if self._store is not None:
                texts = self.texts
                found = _merged(automaton, found, self._raw_lines, self._exact, [texts[i] for i in self._exact])
            self._candidates = found
            self._words = automaton.needle_set
        return self._candidates

    def lines_with(self, *needles: str, learn: bool = True) -> list[int]:
        """Indices of lines containing any of the (lower-case) needles, ascending. `learn=False`: a needle not
        yet searched for is looked up in this set's text alone, not added to every later set's search pass
        (for words read once in a while that may fill ordinary lines: a framework's class on every request)."""
        if not self:
            return []
        if len(needles) == 1:
            return self._lines_with(needles[0], learn)
        mapped = self._needle_map()
        words = self._words
        if mapped is not None:
            asked = _NEEDLE_SETS.get(needles)
            if asked is None:
                if len(_NEEDLE_SETS) >= 4096:
                    _NEEDLE_SETS.clear()
                asked = _NEEDLE_SETS[needles] = frozenset(needles)
            if asked.isdisjoint(mapped) and asked <= words:
                return []  # every word searched for, found nowhere: one set operation, not one step a word
        found: list[int] | set[int] | None = None
        for needle in needles:
            if mapped is not None and needle not in mapped and needle in words:
                continue  # searched for, found nowhere (most words, most logs)
            hits = self._lines_with(needle, learn)
            if not hits:
                continue
            if found is None:
                found = hits
            else:
                if isinstance(found, list):
                    found = set(found)
                found.update(hits)
        if found is None:
            return []
        return found if isinstance(found, list) else sorted(found)

    def _lines_with(self, needle: str, learn: bool = True) -> list[int]:
        hits = self._needle_cache.get(needle)
        if hits is not None:
            return hits
        hits, exact = self._raw_hits(needle, learn)
        if not exact and self._store is not None and hits:
            hits = self._verify(needle, hits)
        self._needle_cache[needle] = hits
        return hits

    def _raw_hits(self, needle: str, learn: bool = True) -> tuple[list[int], bool]:
        """(lines whose raw text holds the needle, whether they are known to hold it once parsed too)."""
        mapped = self._needle_map()
        if mapped is not None and needle not in self._words and needle in _WORDS:
            # Words registered after this set was searched (the registry loads on the first diagnosis):
            # search again, once, for all of them.
            self._candidates = None
            mapped = self._needle_map()
        if mapped is not None and needle in self._words:
            hits = mapped.get(needle, [])
            if isinstance(hits, _Hits):
                hits = mapped[needle] = hits.lines()
            return hits, self._store is None
        if learn and needle not in _WORDS:
            _learn(needle)
        hits = self._scan(needle)
        self._needle_cache[needle] = hits
        return hits, True

    def newest_with(self, *needles: str, limit: int) -> list[int]:
        """`lines_with(*needles)[-limit:]`, reading (parsing, numbering) only the newest lines: what a pattern
        asks of a line that fills the log (an access log, a health-check request every few seconds)."""
        if not self:
            return []
        want = limit
        while True:
            mapped = self._needle_map()
            lists = []
            floor = -1  # below this line some needle's lines were not numbered: the merge is not complete
            for needle in dict.fromkeys(needles):
                cached = self._needle_cache.get(needle)
                lazy = mapped.get(needle) if cached is None and mapped is not None and needle in self._words else None
                if cached is not None:
                    hits, exact = cached, True
                elif isinstance(lazy, _Hits):
                    hits, complete = lazy.tail(want)
                    exact = self._store is None
                    if hits and not complete:
                        floor = max(floor, hits[0])
                else:
                    hits, exact = self._raw_hits(needle)
                if hits:
                    lists.append(zip(reversed(hits), repeat(needle), repeat(exact)))
            out = self._newest(lists, limit, floor)
            if out is not None:
                return out
            want *= 4

    def _newest(self, lists: Sequence[Iterator[tuple[int, str, bool]]], limit: int, floor: int) -> list[int] | None:
        """The newest `limit` lines of the merged (line, needle, exact) lists whose text holds the needle,
        ascending; None when the walk reached `floor` first."""
        store = self._store
        out: list[int] = []
        last = -1
        for i, needle, exact in heapq.merge(*lists, reverse=True):
            if i == last:
                continue  # already taken
            if i < floor:
                return None
            if exact or store is None:
                ok = True
            else:
                text = (store.rows[i] or store.row(i))[0]
                ok = text is store.raw[i] or needle in text.lower()
            if ok:
                out.append(i)
                last = i
                if len(out) >= limit:
                    break
        out.reverse()
        return out

    def _verify(self, needle: str, hits: list[int]) -> list[int]:
        """The lines found in the raw text whose parsed text holds the needle (a timestamp or stream
        prefix, a JSON key are searched too, but are not the message)."""
        store = self._store
        assert store is not None
        raw, rows, row = store.raw, store.rows, store.row
        out = []
        for i in hits:
            r = rows[i]
            text = (r or row(i))[0]
            if text is raw[i] or needle in text.lower():
                out.append(i)
        return out

    def _scan(self, needle: str) -> list[int]:
        low, starts = self._index()
        right = bisect.bisect_right
        found: list[int] = []
        for spelling in (needle, *_raw_forms(needle)) if self._store is not None else (needle,):
            word = spelled(low, spelling)
            pos = low.find(word)
            while pos != -1:
                line = right(starts, pos) - 1
                found.append(line)
                pos = low.find(word, starts[line + 1]) if line + 1 < len(starts) - 1 else -1
        if self._store is None:
            return found
        found = sorted(set(found))
        mapping = self._raw_lines
        if mapping is not None:
            found = [m for m in (mapping[r] for r in found) if m != -1]
        texts = self.texts
        exact = [i for i in self._exact if needle in texts[i].lower()]
        return self._verify(needle, found) + exact if not exact else sorted(set(self._verify(needle, found)) | set(exact))

    def may_match(self, regex: re.Pattern[str], start: int = 0, stop: int | None = None,
                  learn: bool = True, few: int = _FEW_LINES) -> Sequence[int]:
        """The lines in [start, stop), ascending, where `regex.search(texts[i])` may match: those holding one
        of the words every match of the regex contains (`required_words`), found in the one search pass;
        every line of the range when the regex names no such word. `learn=False`: words not yet searched
        for are looked up in this set's text alone, not added to every later set's search pass (for a
        regex read once in a while whose words fill ordinary lines: "time", "request"). `few`: a range of
        this many lines or fewer is every line (read line by line, no word looked up); 0 for a caller that
        reads each line of the range with several regexes, where the index answers for all of them at once."""
        n = len(self)
        stop = n if stop is None else min(stop, n)
        start = max(0, start)
        if start >= stop:
            return ()
        words = required_words(regex) if stop - start > few else None  # a few lines: read them
        if words is None or not self._plain_text():
            return range(start, stop)
        mapped = self._needle_map()
        if not learn and (mapped is None or not self._words.issuperset(words)):
            # (A set parsed when built has nothing left to spare: its lines are read as they are.)
            return self._raw_candidates(words, start, stop) if self._store is not None else range(start, stop)
        if mapped is None or not self._words.issuperset(words):
            for word in words:  # searched with the others from the next log set on
                if word not in _WORDS:
                    _learn(word)
            return range(start, stop)
        # The lines whose raw text holds a word (not checked against the parsed text: the regex is), in the
        # range only: a word on many lines of a long log costs no parse outside the range.
        found: set[int] = set()
        for word in words:
            hits = mapped.get(word)
            if hits is None:
                continue
            if isinstance(hits, _Hits):
                if hits.mapping is None and not hits.extra:
                    starts = self._index()[1]
                    offsets = hits.offsets
                    part = offsets[bisect.bisect_left(offsets, starts[start]) : bisect.bisect_left(offsets, starts[stop])]
                    found.update(map(partial(bisect.bisect_right, hits.ends), part))
                    continue
                hits = mapped[word] = hits.lines()
            found.update(hits[bisect.bisect_left(hits, start) : bisect.bisect_left(hits, stop)])
        return sorted(found)

    def may_hold(self, text: str, start: int = 0, stop: int | None = None) -> Sequence[int]:
        """The lines in [start, stop), ascending, whose text may hold `text` (`text in texts[i]`): those whose
        raw text holds it, lower-cased, and every line parsed up front (C-level finds, no line parsed); every
        line of the range when that cannot tell (a short text, a few lines, a text that is not plain)."""
        n = len(self)
        stop = n if stop is None else min(stop, n)
        start = max(0, start)
        if start >= stop:
            return ()
        if len(text) < 3 or stop - start <= _FEW_LINES or self._store is None or not self._plain_text():
            return range(start, stop)
        return self._raw_candidates((text.lower(),), start, stop)

    def may_hold_any(self, words: Sequence[str], start: int = 0, stop: int | None = None) -> Sequence[int]:
        """The lines in [start, stop), ascending, whose text may hold one of `words` (lower-case; a line holds one
        when `word in texts[i].lower()`): those whose raw text holds one, lower-cased, and every line parsed up
        front, found by C-level finds (a word of any length: "h2" too; a few lines too, which would be parsed to be
        read); every line of the range when that cannot tell (a text that is not plain, a set parsed when built)."""
        n = len(self)
        stop = n if stop is None else min(stop, n)
        start = max(0, start)
        if start >= stop:
            return ()
        if self._store is None or not self._plain_text():
            return range(start, stop)
        return self._raw_candidates(tuple(words), start, stop)

    def _raw_candidates(self, words: Sequence[str], start: int, stop: int) -> list[int]:
        """The lines in [start, stop), ascending, whose raw text holds one of `words` (or a raw JSON form of
        one), and every line parsed up front: C-level finds in the lower-cased raw text, no line parsed. Many
        words are found in one automaton pass (a `str.find` per word costs ~1 ns a character each: 20 words
        over a 40 KB log, 0.5 ms); the text searched is the range's only when raw lines are the lines."""
        low, starts = self._index()
        right = bisect.bisect_right
        mapping = self._raw_lines
        lo, hi = (starts[start], starts[stop] - 1) if mapping is None else (0, len(low))
        raw_lines: set[int] = set()
        if len(words) >= _RAW_SET_WORDS:
            key = tuple(words)
            automaton = _RAW_SETS.get(key)
            if automaton is None:
                if len(_RAW_SETS) >= 512:
                    _RAW_SETS.clear()
                automaton = _RAW_SETS[key] = NeedleSet([w for n in words for w in (n, *_raw_forms(n))])
            text = low if lo == 0 and hi >= len(low) else low[lo:hi]
            raw_lines.update(right(starts, lo + at) - 1 for _, at, _ in automaton.occurrences(text))
        else:
            for needle in words:
                for spelling in (needle, *_raw_forms(needle)):
                    word = spelled(low, spelling)
                    pos = low.find(word, lo, hi)
                    while pos != -1:
                        line = right(starts, pos) - 1
                        raw_lines.add(line)
                        pos = low.find(word, starts[line + 1], hi) if line + 1 < len(starts) - 1 else -1
        found = raw_lines if mapping is None else {m for m in map(mapping.__getitem__, raw_lines) if m != -1}
        found.update(self._exact)
        return sorted(i for i in found if start <= i < stop)

    def search(self, regex: re.Pattern[str], start: int = 0, stop: int | None = None,
               keep: Callable[[str | None], bool] | None = None) -> int | None:
        """The first line i in [start, stop) (whose container `keep` accepts) where `regex.search(texts[i])`
        matches, or None: `any(regex.search(t) for t in texts[start:stop])` without reading (parsing) the
        lines `may_match` leaves out."""
        texts, containers = self.texts, self.containers
        for i in self.may_match(regex, start, stop):
            if (keep is None or keep(containers[i])) and regex.search(texts[i]):
                return i
        return None

    def _plain_text(self) -> bool:
        """Every line's text is ASCII and no line was clipped: a word in a line's lower-cased text is then
        found by `lines_with` exactly as `str.lower()` and `re.IGNORECASE` see it (no Unicode case folding,
        no "…[N more characters not read]" that the raw line does not hold)."""
        if self._plain is None:
            low, starts = self._index()
            plain = (not isinstance(low, str) or low.isascii()) and all(  # (bytes: ASCII; bytearray.isascii reads them all)
                self.texts[i].isascii() for i in self._exact)
            store = self._store
            if plain and store is not None and len(low) > LINE_CHARS:
                longest = store.longest if store.longest >= 0 else max(map(operator.sub, starts[1:], starts[:-1])) - 1
                plain = longest <= LINE_CHARS
            self._plain = plain
        return self._plain

    def contains(self, needle: str) -> bool:
        return bool(self._lines_with(needle))

    # -- structure ------------------------------------------------------------------------------
    def level(self, i: int) -> str | None:
        """debug/info/warn/error/fatal, or None when the line (and its block head) says nothing."""
        head = self.block_start(i)
        # A line inherits the level of the entry it continues only if that entry announced more lines
        # (an exception, a message ending in ':' ...): a tail that starts mid-traceback must not take
        # the level of whatever ordinary line happens to precede it.
        opens = head != i and _opens(self.texts[head])
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
        other = self._copy()
        other._all_loud = True
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
        texts, containers = self.texts, self.containers
        container = containers[i]
        while j > 0 and i - j < 400 and containers[j - 1] == container and _continues(texts[j - 1], texts[j]):
            j -= 1
        if j < i and not _continues_from_start(texts[j]) and not _opens(texts[j]):
            # The walk reached an ordinary line (a tail that starts mid-trace): the entry starts after it.
            j += 1
        self._block_cache[i] = j
        return j

    def block_end(self, i: int) -> int:
        """Last line (inclusive) of the entry holding line i."""
        texts, containers = self.texts, self.containers
        n = len(texts)
        j = i
        container = containers[i]
        while j + 1 < n and j - i < 400 and containers[j + 1] == container and _continues(texts[j], texts[j + 1]):
            j += 1
        return j

    def indices_for(self, containers: Iterable[str | None]) -> list[int]:
        wanted = set(containers)
        return [i for i, c in enumerate(self.containers) if c in wanted]

    def container_names(self) -> list[str]:
        if self._names is None:
            store = self._store
            if store is not None and store.containers_known():
                f = store.forced
                if isinstance(f, str):
                    self._names = [f]
                else:  # a list without None: containers_known()
                    self._names = [c for c in dict.fromkeys(f or ()) if c is not None]
            elif store is not None:
                default = getattr(self.containers, "_default", None)
                found = dict.fromkeys(store.distinct_containers(*self._index(), self._raw_lines, self._exact))
                if default is not None and None in found:
                    found[default] = None
                self._names = [c for c in found if c is not None]
            else:
                self._names = [c for c in dict.fromkeys(self.containers) if c is not None]
        return self._names

    def only(self, container: str | None) -> bool:
        """Every line is `container`'s or unlabelled (from the names of the lines' containers, which a
        diagnosis works out once anyway): a walk keeping such lines need not read any line's container."""
        return all(name == container for name in self.container_names())

    def holds(self, *containers: str | None) -> bool:
        """Some line is one of these containers' (None: a line with no container), from the names of the lines'
        containers: a walk back for such a line through a long log of other containers' lines (a sidecar's, a
        log router's) need not read every line's container (~3 us each in a pasted log) to find there is none."""
        names = self.container_names()
        return any(c is not None and c in names for c in containers) or (None in containers and self.unlabelled())

    def last_lines(self, limit: int, own: set[str | None] | None) -> tuple[list[int], list[str]]:
        """The last `limit` lines whose text is not blank and whose container is in `own` (None: every line),
        newest first, with their texts. A line's container is read before its text (another container's line is
        not parsed), and a lazy set's texts straight from its rows (a finding's excerpt reads 50 of them)."""
        picked: list[int] = []
        kept: list[str] = []
        store = self._store
        containers = self.containers
        if store is not None:
            rows, row = store.rows, store.row
            for i in range(len(self) - 1, -1, -1):
                if own is not None and containers[i] not in own:
                    continue
                r = rows[i]
                text = (r if r is not None else row(i))[0]
                if text and not text.isspace():
                    picked.append(i)
                    kept.append(text)
                    if len(picked) >= limit:
                        break
            return picked, kept
        texts = self.texts
        for i in range(len(self) - 1, -1, -1):
            if own is not None and containers[i] not in own:
                continue
            text = texts[i]
            if text and not text.isspace():
                picked.append(i)
                kept.append(text)
                if len(picked) >= limit:
                    break
        return picked, kept

    def unlabelled(self) -> bool:
        """Some line has no container."""
        store = self._store
        if store is not None and (store.containers_known() or getattr(self.containers, "_default", None)):
            return False
        return None in (store.distinct_containers(*self._index(), self._raw_lines, self._exact) if store is not None else self.containers)

    def attribute_unlabelled(self, container: str) -> LogSet:
        """A copy where lines with no container are given to `container`."""
        store = self._store
        if store is not None:
            if store.containers_known():
                return self
            other = self._copy()
            other.containers = _Column(store, 1, container)
            other._names = None
            other._block_cache = {}
            return other
        if None not in self.containers:
            return self
        return LogSet(
            self.texts,
            [container if c is None else c for c in self.containers],
            self.stamps,
            self.hints,
        )


def _line_starts(low: str) -> list[int]:
    return list(accumulate(map(add, map(len, low.split("\n")), repeat(1)), initial=0))


def _text_level(text: str) -> str | None:
    if "said into std" in text and (relayed := _RELAYED.search(text)):
        return _relayed_level(relayed.group(1))
    if "PHP message:" in text and (bare := _BARE_RELAY.search(text, 0, 120)) \
            and (php := _PHP_LEVEL.match(text, bare.end())):
        return _PHP_LEVELS.get(php.group(1).lower(), "fatal")
    head = text[:100]
    if "level=" not in head and not (head[1:2].isdigit() and head[:1] in _GLOG_LEVELS) and all(
            word not in head for word in _LEVEL_WORDS):
        return None  # no word `_TEXT_LEVEL` needs (it tries each of its levels at every position)
    m = _TEXT_LEVEL.search(text, 0, 100)
    if not m:
        return None
    word = m.group(1) or m.group(2) or m.group(3)
    return _LEVELS.get(word.lower()) if word else None


# PHP-FPM relays what a worker wrote to stderr at its own level, whatever the message says:
# `WARNING: [pool www] child 41 said into stderr: "NOTICE: PHP message: PHP Fatal error:  Allowed memory size ..."`.
# The wrapper's WARNING (and the NOTICE of its "PHP message:" prefix) is the relay's; the message's own level is the
# line's: PHP's "PHP Fatal error:" is fatal, a relayed "PHP Notice:" a notice, and a message without a level has none.
_RELAYED = re.compile(r'\bchild \d+ said into std(?:err|out): "(.*)')
_RELAY_PREFIX = re.compile(r"(?:(?:[A-Z]+:\s*)?PHP message:\s*)?")
# The same relay without the wrapper: php-fpm with `decorate_workers_output = no` (docker-library's php:*-fpm
# images) prints a worker's line as `NOTICE: PHP message: PHP Fatal error: ...` (after FPM's own timestamp, if any):
# the NOTICE is still the relay's, a PHP level in the message is the line's (a message without one keeps NOTICE).
_BARE_RELAY = re.compile(r"(?:^|\]\s*)(?:[A-Z]+:\s*)?PHP message:\s*")
_PHP_LEVEL = re.compile(r"PHP (Fatal error|Parse error|Catchable fatal error|Recoverable fatal error|Warning|Notice|"
                        r"Deprecated|Strict Standards)\b")
_PHP_LEVELS = {"warning": "warn", "notice": "info", "deprecated": "info", "strict standards": "info"}


def _relayed_level(message: str) -> str | None:
    rest = message[_RELAY_PREFIX.match(message).end():]  # type: ignore[union-attr]  # it matches the empty string
    php = _PHP_LEVEL.match(rest)
    if php:
        return _PHP_LEVELS.get(php.group(1).lower(), "fatal")
    return _text_level(rest) if "said into std" not in rest else None


_LEVEL_WORDS = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERR", "SEVERE", "FATAL", "CRIT", "PANIC")  # one is in every level `_TEXT_LEVEL` reads by name
_GLOG_LEVELS = frozenset("IWEF")
_OPENING_ENDS = ("exception", "error", "traceback", "exc_info", "stack", "panic", ":", "{", "[", "(")


def _opens(text: str) -> bool:
    """`_OPENS.search(text) is not None`, without its regex for an ASCII text that holds none of its words (a
    text holding "exception", "traceback" or "fail" matches, one ending in an opening word or bracket too; only
    "error" needs the regex, for its word boundary). Not ASCII: the regex (case folding beyond ASCII)."""
    if not text.isascii():
        return _OPENS.search(text) is not None
    low = text.lower()
    if "exception" in low or "traceback" in low or "fail" in low or low.rstrip().endswith(_OPENING_ENDS):
        return True
    return "error" in low and _OPENS.search(text) is not None


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


# -- building a log set --------------------------------------------------------------------------------
# A raw line that may not become exactly one line (or whose container a JSON field names) is parsed
# up front; any other line is parsed when read. Without a backslash a JSON string holds no newline;
# without one of these keys a JSON entry has no stack lines and names no container. (Found in the
# same Aho-Corasick pass as the patterns' words, in lower case: a few more lines parsed up front.)
_UPFRONT = frozenset(w.lower() for w in (
    "\\", '"stack', '"exception"', '"exc_info"', '"trace"', '"@x"', '"err"', '"error"', '"container_name"',
    '"ecs_container_name"', '"containerName"', "&", "\x1b", " " * 40))


def _starts_of(lines: list[str], low: Low, joined: int = -1) -> list[int]:
    """Offset of each line in `low` (the lines joined by newlines, lower-cased), and the end + 1.
    `joined`: the length of the lines joined, when known."""
    if not isinstance(low, str) or len(low) == (joined if joined >= 0 else sum(map(len, lines)) + len(lines) - 1):
        return list(accumulate(map(add, map(len, lines), repeat(1)), initial=0))
    # Lower-casing changed some lengths (a few non-ASCII letters): measure the lower-cased lines.
    return list(accumulate(map(add, map(len, low.split("\n")), repeat(1)), initial=0))


def _starts_and_longest(raw: list[str], low: Low, lengths: list[int] | None) -> tuple[list[int], int]:
    """`_starts_of(raw, low)` and the length of the longest raw line (-1 when lower-casing changed some
    lengths), from the lines' lengths (read by `lowered` for a long log): the lengths are read once, the
    line objects scattered over memory being what costs (one pass over 100,000 of them ~6 ms; the sums
    and the maximum of a list of small ints, ~4 ms)."""
    if lengths is None:
        lengths = list(map(len, raw))
    if isinstance(low, str) and len(low) != sum(lengths) + len(lengths) - 1:
        return _starts_of(raw, low), -1
    return list(accumulate(map(add, lengths, repeat(1)), initial=0)), max(lengths, default=0)


def spelled(low: Low, word: str) -> Any:
    """`word` as the search text `low` spells it: encoded when `low` is an ASCII text's bytes, else itself."""
    return word if isinstance(low, str) else word.encode()


class Lowered(NamedTuple):
    """The search text of some lines (`lowered`) and, for a long log, the lines' lengths (read to size it)."""

    low: Low
    lengths: list[int] | None


LOWER_LINES = 1024  # a long log is lower-cased this many lines at a time


def lowered(lines: list[str]) -> Lowered:
    """The lines joined by newlines and lower-cased, an ASCII text as bytes: the search text of a log set.
    A long ASCII log is lower-cased a chunk of lines at a time into one bytearray, so that its text is
    never alive twice over, as the whole text joined, then lower-cased, then encoded for the automaton
    was (three 18 MB buffers for 100,000 lines, freed together at the end, which the C allocator then
    gives back to the system, so that the next long log faulted ~9,500 fresh pages in again, ~15 ms); the
    chunks' small buffers are reused. TypeError when a line is no str (the joins check it)."""
    n = len(lines)
    if n <= LOWER_LINES:
        joined = "\n".join(lines)
        low = joined.lower()
        return Lowered(low.encode() if low.isascii() and len(low) == len(joined) else low, None)
    lengths = list(map(len, lines))
    buf = bytearray(b"\n") * (sum(lengths) + n - 1)  # (the newlines between chunks are in place)
    at = 0
    for first in range(0, n, LOWER_LINES):
        piece = "\n".join(lines[first : first + LOWER_LINES])
        if not piece.isascii():
            return Lowered("\n".join(lines).lower(), lengths)
        end = at + len(piece)
        buf[at:end] = piece.lower().encode()
        at = end + 1
    return Lowered(buf, lengths)


def _pass(automaton: NeedleSet, low: Low, starts: list[int]) -> tuple[dict[str, list[int] | _Hits], set[int]]:
    """(word -> lines holding it, lines holding an `_UPFRONT` word) in one pass over `low`.

    A 100,000-line access log holds tens of thousands of occurrences: they are grouped by word and
    turned into line numbers by C-level maps (sort, groupby, bisect), not one Python step each."""
    occurrences = automaton.occurrences(low)
    if not occurrences:
        return {}, set()
    needles = automaton.needles
    aliases = _ALIASES
    found: dict[str, list[int] | _Hits] = {}
    upfront: set[int] = set()
    ends = starts[1:]
    line_of = partial(bisect.bisect_right, ends)  # the line holding an offset
    occurrences.sort(key=_FIRST)  # stable: each word's occurrences stay in ascending order
    for index, group in groupby(occurrences, _FIRST):
        needle = needles[index]
        offsets = list(map(_SECOND, group))
        word = aliases.get(needle, needle)
        if len(offsets) > _LAZY_HITS and needle not in _UPFRONT and word not in found:
            found[word] = _Hits(offsets, ends)  # numbered when asked: most such words are read at the end only
            continue
        # Ascending offsets give ascending line numbers: dict.fromkeys drops the repeats in order.
        lines = list(dict.fromkeys(map(line_of, offsets)))
        if needle in _UPFRONT:
            upfront.update(lines)
            if needle not in _WORDS:
                continue
        if word in found:  # a raw spelling and its word (or two spellings): one sorted list
            lines = sorted(set(_lines_of(found[word])).union(lines))
        found[word] = lines
    return found, upfront


_LAZY_HITS = 2000  # a word occurring more often is kept as offsets until a pattern asks for it


class _Hits:
    """The lines holding one word, kept as the offsets where it occurs until they are asked for: a word
    on every other line of a long log (a health-check request) is mostly read at the end only.
    `mapping` (raw line -> line, -1: parsed up front) and `extra` (lines found in text parsed up front)
    apply when they are numbered."""

    __slots__ = ("ends", "extra", "mapping", "offsets")

    def __init__(self, offsets: list[int], ends: list[int]) -> None:
        self.offsets, self.ends = offsets, ends
        self.mapping: list[int] | None = None
        self.extra: list[int] = []

    def lines(self) -> list[int]:
        return self.tail(len(self.offsets))[0]

    def tail(self, want: int) -> tuple[list[int], bool]:
        """(the last lines holding the word, ascending: `want` of them or more, whether that is all)."""
        take = want
        while True:
            part = self.offsets[-take:] if take < len(self.offsets) else self.offsets
            lines = list(dict.fromkeys(map(partial(bisect.bisect_right, self.ends), part)))
            if self.mapping is not None:
                lines = list(filter((-1).__ne__, map(self.mapping.__getitem__, lines)))
            if len(lines) >= want or part is self.offsets:
                break
            take *= 4
        complete = part is self.offsets
        if self.extra:
            floor = -1 if complete or not lines else lines[0]
            lines = sorted(lines + [e for e in self.extra if e > floor])
        return lines, complete


def _lines_of(hits: list[int] | _Hits) -> list[int]:
    return hits.lines() if isinstance(hits, _Hits) else hits


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


EAGER_LINES = 100  # up to this many lines, a log set is parsed when built
_IN_PLACE = 16  # up to this many lines parsed up front into other than one row, `_build` moves the others in place


class quiet_gc:
    """Pause the cyclic garbage collector while a big log is read: a log of 100,000 lines makes lists of
    100,000 items (lines, offsets, rows) and tens of thousands of short-lived tuples, none in a cycle,
    and every young collection walks each list again (~20 ms of a diagnosis). Nested uses are fine."""

    __slots__ = ("_on",)

    def __init__(self, big: bool) -> None:
        self._on = big and gc.isenabled()

    def __enter__(self) -> None:
        if self._on:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._on:
            gc.enable()


GC_QUIET_LINES = 20_000  # from this many lines, reading a log pauses the cyclic garbage collector


def build(raw: list[str], forced: str | list[str | None] | None, parse: Callable[[str, str | None], list[Row]],
          text: Lowered | None = None, container_of: Callable[[str], str | Unsure | None] | None = None) -> LogSet:
    """A lazy LogSet of raw lines (no newline inside any). `parse(line, container)` gives the rows of
    one raw line (exactly one for a line holding none of `_UPFRONT`). `text`: `lowered(raw)`, when the
    caller has it. The log set takes `raw` (and `forced` when a list) over: a line parsed up front into
    several rows may be repeated in place, one for each."""
    with quiet_gc(len(raw) >= GC_QUIET_LINES):
        return _build(raw, forced, parse, text, container_of)


def _build(raw: list[str], forced: str | list[str | None] | None, parse: Callable[[str, str | None], list[Row]],
           text: Lowered | None, container_of: Callable[[str], str | Unsure | None] | None) -> LogSet:
    if not raw:
        return LogSet([], [], [], [])
    if len(raw) <= EAGER_LINES:
        # A short log is read whole: parsing every line costs less than working out which not to parse.
        texts: list[str] = []
        containers: list[str | None] = []
        stamps: list[str | None] = []
        hints: list[str | None] = []
        for i, line in enumerate(raw):
            for row in parse(line, forced[i] if isinstance(forced, list) else forced):
                texts.append(row[0])
                containers.append(row[1])
                stamps.append(row[2])
                hints.append(row[3])
        return LogSet(texts, containers, stamps, hints)
    low, lengths = text if text is not None else lowered(raw)
    starts, longest = _starts_and_longest(raw, low, lengths)
    automaton = _automaton()
    assert automaton is not None
    found, upfront = _pass(automaton, low, starts)
    ls: LogSet
    if not upfront:
        store = _Store(raw, [None] * len(raw), forced, parse, container_of, longest)
        ls = LogSet(_Column(store, 0), _Column(store, 1), _Column(store, 2), _Column(store, 3))
        ls._store, ls._low, ls._starts, ls._candidates, ls._words = store, low, starts, found, automaton.needle_set
        return ls
    order = sorted(upfront)
    parsed = [parse(raw[r], forced[r] if isinstance(forced, list) else forced) for r in order]
    exact: list[int] = []
    exact_texts: list[str] = []  # the parsed texts of the `exact` rows
    mapping: list[int] = []  # raw line -> line (-1: parsed up front)
    at = shift = 0  # (shift: the rows the lines parsed so far added, each giving len(got) - 1 more)
    for r, got in zip(order, parsed, strict=True):
        mapping += range(at + shift, r + shift)
        mapping.append(-1)
        exact += range(r + shift, r + shift + len(got))
        exact_texts += [row[0] for row in got]
        shift += len(got) - 1
        at = r + 1
    mapping += range(at + shift, len(raw) + shift)
    rows: list[Row | None] = [None] * (len(raw) + shift)
    for r, got, base in zip(order, parsed, accumulate((len(got) - 1 for got in parsed), initial=0), strict=False):
        rows[r + base : r + base + len(got)] = got
    resized = [(r, got) for r, got in zip(order, parsed, strict=True) if len(got) != 1]
    if len(resized) <= _IN_PLACE:
        # The raw line of each row, in place (`build` takes `raw` and a per-line `forced` over): the lines of
        # a long log are not copied (a list copy touches every line object, ~3 ms for 100,000 lines).
        new_raw, new_forced = raw, forced
        for r, got in reversed(resized):
            raw[r : r + 1] = [raw[r]] * len(got)
            if isinstance(forced, list):
                forced[r : r + 1] = [forced[r]] * len(got)
    else:
        new_raw, new_forced = [], []
        at = 0
        for r, got in zip(order, parsed, strict=True):
            new_raw += raw[at:r]
            new_raw += [raw[r]] * len(got)
            if isinstance(forced, list):
                new_forced += forced[at:r]
                new_forced += [forced[r]] * len(got)
            at = r + 1
        new_raw += raw[at:]
        if isinstance(forced, list):
            new_forced += forced[at:]
        else:
            new_forced = forced
    store = _Store(new_raw, rows, new_forced, parse, container_of, longest)
    ls = LogSet(_Column(store, 0), _Column(store, 1), _Column(store, 2), _Column(store, 3))
    ls._store, ls._low, ls._starts, ls._raw_lines, ls._exact = store, low, starts, mapping, exact
    ls._candidates = _merged(automaton, found, mapping, exact, exact_texts)
    ls._words = automaton.needle_set
    return ls


def _merged(automaton: NeedleSet, found: dict[str, list[int] | _Hits], mapping: list[int] | None, exact: list[int],
            texts: list[str]) -> dict[str, list[int] | _Hits]:
    """The words found in the raw lines, each at its line; the lines parsed up front (`exact`, whose
    parsed `texts` these are) searched as parsed. `mapping` (raw line -> line, -1 for a line parsed up
    front) is ascending elsewhere, so each word's lines stay sorted through C-level maps."""
    if mapping is None:
        return found
    keep = (-1).__ne__
    at = mapping.__getitem__
    merged: dict[str, list[int] | _Hits] = {}
    for needle, lines in found.items():
        if isinstance(lines, _Hits):
            lines.mapping = mapping
            merged[needle] = lines
        else:
            merged[needle] = list(filter(keep, map(at, lines)))
    sub = "\n".join(texts).lower()
    sub_found, _ = _pass(automaton, sub, _starts_of(texts, sub))
    for needle, hits in sub_found.items():
        extra = list(map(exact.__getitem__, _lines_of(hits)))
        have = merged.get(needle)
        if isinstance(have, _Hits):
            have.extra = extra
        else:
            merged[needle] = sorted(have + extra) if have else extra
    return {needle: lines for needle, lines in merged.items() if lines}


def split_entries(entries: Iterable[Any], forced: list[str | None] | str | None = None
                  ) -> tuple[list[str], list[str | None] | str | None, Lowered]:
    """(lines, container of each line, `lowered(lines)`) of entries that may hold several lines."""
    raw = list(entries)
    try:
        return _split(raw, forced)  # strings only (the usual input): no pass of its own to check them
    except TypeError:  # (the joins and splits take strings only)
        return _split([e if type(e) is str else (json.dumps(e) if isinstance(e, dict) else str(e)) for e in raw],
                      forced)


def _split(raw: list[Any], forced: list[str | None] | str | None
           ) -> tuple[list[str], list[str | None] | str | None, Lowered]:
    if not any(map(operator.contains, raw, repeat("\n"))):  # (a C-level find per line: half the time of counting)
        return raw, forced, lowered(raw)
    if type(forced) is not list:
        lines = "\n".join(raw).split("\n")
        return lines, forced, lowered(lines)
    lines = []
    each: list[str | None] = []
    for entry, name in zip(raw, forced, strict=True):
        parts = str.split(entry, "\n")
        lines += parts
        each += [name] * len(parts)
    return lines, each, lowered(lines)


def from_cloudwatch(streams: Mapping[str, Sequence[str]]) -> LogSet:
    """The log set of CloudWatch Logs messages, container -> messages (oldest first): every line as
    the application printed it, but for colour codes and JSON-structured lines (see the module)."""
    entries: list[str] = []
    forced: list[str | None] = []
    for name, messages in streams.items():
        entries += messages
        forced += [name] * len(messages)
    raw, each, text = split_entries(entries, forced)
    return build(raw, each, _cloudwatch_rows, text)


def from_lines(lines: Iterable[str] | str, container: str | None = None) -> LogSet:
    """Lines as the application printed them (oldest first), all of one container, or of none."""
    raw, _, text = split_entries(lines.split("\n") if isinstance(lines, str) else lines)
    return build(raw, container, _cloudwatch_rows, text)


def _cloudwatch_rows(line: str, container: str | None) -> list[Row]:
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if line[-1:] == "\r":
        line = line.rstrip("\r")
    if line[:1] == "{" and line.rstrip()[-1:] == "}":
        parsed = _structured(line, ())
        if parsed is not None:
            return structured_rows(parsed, container, None)
    return [(_clip(line), container, None, None)]


def structured_rows(parsed: tuple[str, str | None, str | None, list[str]], container: str | None,
                    stamp: str | None) -> list[Row]:
    message, hint, named, extra = parsed
    container = container or named
    rows: list[Row] = [(_clip(ln.rstrip("\r")), container, stamp, hint)
                       for ln in (message.split("\n") if "\n" in message else (message,))]
    rows += [(_clip(ln.rstrip("\r")), container, stamp, hint) for ln in extra]
    return rows


def _clip(text: str) -> str:
    if len(text) <= LINE_CHARS:
        return text
    return f"{text[:LINE_CHARS]} …[{len(text) - LINE_CHARS} more characters not read]"


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


# The C scanner json.loads uses (JSONDecoder's defaults, as json.loads); typeshed does not declare the attribute.
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _structured(line: str, known: tuple[str, ...]) -> tuple[str, str | None, str | None, list[str]] | None:
    """(message, level, container, extra lines) of a JSON log line, or None when it is not one.

    Scalar fields that are neither message, level, time nor bookkeeping are kept as ` key=value` after
    the message: structured loggers put the facts (host, port, status, path, error) there.
    """
    try:
        obj, end = _SCAN_ONCE(line, 0)  # what json.loads runs, without its layers (a line is an object, "{...}")
    except (StopIteration, ValueError):
        end = -1
    if end != len(line):
        try:
            obj = json.loads(line)  # (leading or trailing white space, an error to report: json.loads decides)
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
        if role is None:  # a field with no role (the most): a fact kept as key=value, as at the end of the loop
            if isinstance(value, dict):
                if key in _HTTP_KEYS:
                    for sub in _HTTP_FIELDS:
                        inner_value = value.get(sub)
                        if isinstance(inner_value, (str, int)) and not isinstance(inner_value, bool) and len(context) < 12:
                            context.append(f"{key}.{sub}={_short(inner_value)}")
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(context) < 12:
                context.append(f"{key}={_short(value)}")
            continue
        if role == "skip":
            continue
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
                _error_details(key, value, context)
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
                if isinstance(inner_value, (str, int)) and not isinstance(inner_value, bool) and len(context) < 12:
                    context.append(f"{key}.{sub}={_short(inner_value)}")
            continue
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(context) < 12:
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


def _error_details(key: str, error: dict[str, Any], context: list[str]) -> None:
    """The details an error object nests under its message and stack (`"error": {"message": "A configuration error
    has occurred", "context": {"error": "connect ECONNREFUSED 10.0.0.5:9200", "reason": "..."}}`): the underlying
    failure is often only there. Kept as ` error.context.error=...` facts, like the line's other fields; only
    texts (a value with a space), not the ids, types and codes such objects also nest."""
    for sub, inner in error.items():
        if not isinstance(inner, dict) or sub in _HTTP_KEYS:
            continue
        for name, fact in inner.items():
            if isinstance(fact, str) and " " in fact.strip() and len(context) < 12:
                context.append(f"{key}.{sub}.{name}={_short(fact)}")


def _short(value: object) -> str:
    text = str(value)
    if len(text) > 200:
        text = text[:199] + "…"
    return f'"{text}"' if (" " in text or not text) else text
