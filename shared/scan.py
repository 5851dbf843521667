"""Find every occurrence of many literal needles in a text, in one pass.

CPython's `re` tries every alternative at every position: 200 needles over a 20 KB log cost
milliseconds, and one `str.find` per needle costs as much. An Aho-Corasick automaton
(`ahocorasick_rs`, compiled to a DFA) reports all occurrences, overlapping ones included, in one
pass of tens of microseconds. Without the wheel (an unusual platform) the scan falls back to one
`str.find` loop per needle: same answers, slower.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any, cast

try:  # pragma: no cover - exercised on machines without the wheel
    from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, Implementation, MatchKind
except ImportError:  # pragma: no cover - the names stay unbound; HAVE_AUTOMATON guards every use
    HAVE_AUTOMATON = False
else:
    HAVE_AUTOMATON = True


_SURROGATE = re.compile("[\ud800-\udfff]")

class NeedleSet:
    """A fixed set of lower-case literal needles."""

    __slots__ = ("_bytes_ac", "_str_ac", "needle_set", "needles")

    def __init__(self, needles: Iterable[str]) -> None:
        uniq = sorted({n.lower() for n in needles if n})
        self.needles: tuple[str, ...] = tuple(uniq)
        self.needle_set = frozenset(uniq)
        self._bytes_ac: BytesAhoCorasick | None = None
        self._str_ac: AhoCorasick | None = None  # built on the first text that is not ASCII (most logs never are)
        if HAVE_AUTOMATON and uniq:
            self._bytes_ac = BytesAhoCorasick([n.encode() for n in uniq], matchkind=MatchKind.Standard,
                                              implementation=Implementation.DFA)

    def occurrences(self, low: str | bytes | bytearray) -> list[tuple[int, int, int]]:
        """(needle index, start, end) of every occurrence in `low` (already lower-case), in the order
        the automaton reports them (by end offset: one needle's occurrences in ascending order). `low`
        may be an ASCII text's bytes (a log set's search text, `shared.logs.lowered`): read as they are."""
        if not self.needles:
            return []
        if not isinstance(low, str):
            if self._bytes_ac is not None:
                return self._bytes_ac.find_matches_as_indexes(low, overlapping=True)
            return self._found(low, [n.encode() for n in self.needles])
        if self._bytes_ac is not None:
            if low.isascii():
                return self._bytes_ac.find_matches_as_indexes(low.encode(), overlapping=True)
            str_ac = self._str_ac
            if str_ac is None:
                str_ac = self._str_ac = AhoCorasick(list(self.needles), matchkind=MatchKind.Standard,
                                                   implementation=Implementation.DFA)
            try:
                return str_ac.find_matches_as_indexes(low, overlapping=True)
            except UnicodeEncodeError:  # lone surrogates (JSON may escape them): one replacement each, same offsets
                return str_ac.find_matches_as_indexes(_SURROGATE.sub("\ufffd", low), overlapping=True)
        return self._found(low, self.needles)

    @staticmethod
    def _found(low: Any, needles: Sequence[Any]) -> list[tuple[int, int, int]]:
        """The occurrences without the automaton: one `find` loop a needle (`needles` spelled as `low` is: str or bytes)."""
        out: list[tuple[int, int, int]] = []
        for index, needle in enumerate(needles):
            pos = low.find(needle)
            while pos != -1:
                out.append((index, pos, pos + len(needle)))
                pos = low.find(needle, pos + 1)
        return out


# -------------------------------------------------------------------------------------------------
# Words a regex needs
# -------------------------------------------------------------------------------------------------
_REQUIRED: dict[tuple[str, int], tuple[str, ...] | None] = {}
_NO_WORD = frozenset(' \t\n\r\f\v="\\&{}')
_SPLIT_WORDS = re.compile(r'[\s="\\&{}]+').split


def required_words(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case words one of which every match of `regex` contains, or None when the regex does not
    say (a word shorter than 3 characters would do, or no literal at all). A word holds no space, '=',
    quote, backslash, '&' or brace, and is not a number: as such it is in a line's raw text whenever it is
    in the line's parsed text (a JSON line's message and its ` key=value` fields, a table's cell), so
    `LogSet.lines_with` finds every line that may match."""
    if type(regex) is _LazyRegex:  # its words may be known without compiling it
        known = _known_words(regex.pattern, regex._flags)
        if known is not None:
            return known
    key = (regex.pattern, regex.flags)
    try:
        return _REQUIRED[key]
    except KeyError:
        pass
    try:
        found = _required(_sre_parse.parse(regex.pattern, regex.flags))
    except Exception:  # an unusual construct: no prefilter, every line is read
        found = None
    words = tuple(sorted(found)) if found else None
    _REQUIRED[key] = words
    return words


# Words on most lines of an ordinary log (request logs, JSON keys): a poor filter when the same literal offers another.
_COMMON_WORDS = frozenset(("request", "requests", "response", "time", "error", "info", "debug", "http", "https", "complete",
                           "completed",
                           "status", "message", "level"))
_NUMBER = frozenset("0123456789.e+-")  # what a JSON number's field reads like once parsed (str(1.1e2): 110.0)


def may_hold(regex: re.Pattern[str], low: str | None) -> bool:
    """False only when `regex.search(text)` cannot match: `low` (the text lower-cased, None when it is not
    ASCII) holds none of the words the regex requires."""
    if low is None:
        return True
    words = required_words(regex)
    return words is None or any(w in low for w in words)


def _usable(word: str) -> bool:
    return (len(word) >= 3 and word.isascii() and _NO_WORD.isdisjoint(word)
            and (not _NUMBER.issuperset(word) or word.count(".") >= 2))


_VARIANTS = 8  # spellings of one literal run with optional characters ("ya?ml": yml, yaml) read for its words


def _run_words(run: str) -> list[str]:
    """The words of a literal run that a search can use. Every word of the run is required alike: one that fills
    ordinary log lines ("request", a JSON "time" key) would send most lines to be read, so the others are offered
    instead when there are."""
    tokens = [token for token in _SPLIT_WORDS(run.lower()) if _usable(token)]
    rare = [token for token in tokens if token not in _COMMON_WORDS]
    return rare or tokens


def _minimal(words: set[str]) -> frozenset[str]:
    """`words` less those holding another of them (a text holding "json5" holds "json")."""
    return frozenset(w for w in words if not any(o != w and o in w for o in words))


def _required(items: Any) -> frozenset[str] | None:
    """The words (lower-case) one of which every match of the parsed sequence `items` holds: its longest
    usable literal run, else the words of one of its parts (a group, an alternation, a repeat of 1+)."""
    best: frozenset[str] | None = None
    score = 0

    def offer(words: frozenset[str] | None) -> None:
        nonlocal best, score
        if words:
            s = min(map(len, words))
            if s > score or (s == score and best is not None and len(words) < len(best)):
                best, score = words, s

    # The literal run so far, as its variants: an optional character in it ("ya?ml") doubles them (up to _VARIANTS).
    runs: list[str] = [""]

    def flush() -> None:
        if runs != [""]:
            each = [_run_words(run) for run in runs]
            if len(each) == 1:
                for token in each[0]:
                    offer(frozenset((token,)))
            else:
                common = set(each[0]).intersection(*each[1:])
                for token in each[0]:
                    if token in common:
                        offer(frozenset((token,)))  # in every variant: required as in a plain run
                if all(each):  # one variant is in every match: the best word of each, one of which it holds
                    offer(_minimal({max(tokens, key=len) for tokens in each}))
            runs[:] = [""]

    for op, av in items:
        if op is _sre.LITERAL:
            ch = chr(av)
            runs[:] = [run + ch for run in runs]
            continue
        if (op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT) and av[0] == 0 and av[1] == 1 and len(av[2]) == 1 \
                and av[2][0][0] is _sre.LITERAL and len(runs) * 2 <= _VARIANTS:
            ch = chr(av[2][0][1])
            runs[:] = runs + [run + ch for run in runs]
            continue
        flush()
        if op is _sre.SUBPATTERN:
            offer(_required(av[3]))
        elif op is _sre.BRANCH:
            parts = [_required(branch) for branch in av[1]]
            if all(parts):
                offer(_minimal(set().union(*parts)))  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            offer(_required(av[2]))
        elif op is _sre.ATOMIC_GROUP:
            offer(_required(av))
        elif op is _sre.ASSERT:  # a lookahead/lookbehind: what it requires is in the text too
            offer(_required(av[1]))
    flush()
    return best


# -------------------------------------------------------------------------------------------------
# Regexes compiled on first use
# -------------------------------------------------------------------------------------------------
_FORWARD = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner", "groups",
            "groupindex", "flags")


_PREFILTERED = ("search", "match", "fullmatch")


class _LazyRegex:
    """`re.compile(pattern, flags)` the first time anything but `.pattern` is read: a pattern module
    defines a few hundred regexes, and a first event reaches those of the lines it has. Once compiled,
    the methods sit in slots: `X.search` costs what it costs on the compiled pattern, but for a
    case-insensitive regex requiring words (`required_words`): CPython tries each of its alternatives at
    every position of the text (20 us for 60 characters), `str.find` of the words costs a tenth of that.

    A regex whose words are known ahead (`shared.regex_words`) is not compiled for a search, match or
    fullmatch of a text that lacks them (the answer is None): an application crash's first event reads
    ~130 of the ~800 regexes, and ~80 of them only with texts lacking their words (compiling them and
    parsing them for their words cost ~40 ms of CPU, Python 3.12)."""

    __slots__ = ("_flags", "_compiled", "pattern", *_FORWARD)

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:  # only for slots not filled yet
        if name.startswith("__") or name == "_compiled":
            raise AttributeError(name)
        if name in _PREFILTERED:
            words = _known_words(self.pattern, self._flags)
            if words is not None:
                method = _prefiltered(self, name, words)
                setattr(self, name, method)
                return method
        self._compile()
        return getattr(self, name)

    def _compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern, self._flags)
        self._compiled = compiled
        for attr in _FORWARD:
            setattr(self, attr, getattr(compiled, attr))
        known = _known_words(self.pattern, self._flags)
        if known is not None:  # (what `required_words(compiled)` answers, without parsing the regex again)
            _REQUIRED[(compiled.pattern, compiled.flags)] = known
        words = required_words(compiled) if compiled.flags & re.IGNORECASE else None
        self.search = _guarded(compiled, words) if words is not None else _counted(self, compiled)
        return compiled

    def __repr__(self) -> str:
        return f"lazy_re({self.pattern!r}, {self._flags!r})"


_LAST: tuple[str | None, str | None] = (None, None)  # the text a guarded search read last, lower-cased (None: not ASCII)


_KNOWN: dict[tuple[str, int], tuple[str, ...]] | None = None


def _known_words(pattern: str, flags: int) -> tuple[str, ...] | None:
    """`required_words` of `lazy_re(pattern, flags)` as `shared.regex_words` records it (None: not recorded,
    or the regex requires no word): loaded on first use, a dict of the module's regexes."""
    global _KNOWN
    known = _KNOWN
    if known is None:
        from shared.regex_words import WORDS

        known = _KNOWN = WORDS
    return known.get((pattern, flags))


def _prefiltered(lazy: _LazyRegex, name: str, words: tuple[str, ...]) -> Callable[..., re.Match[str] | None]:
    """`lazy.<name>` (search, match or fullmatch) before the regex is compiled: None at once for an ASCII text
    holding none of `words` (one of which every match holds), else the compiled regex's answer. It stays
    right if a caller keeps it after the compile."""

    def prefiltered(text: str, *args: Any, **kwargs: Any) -> re.Match[str] | None:
        global _LAST
        if not args and not kwargs and type(text) is str:
            last = _LAST
            if last[0] is text:
                low = last[1]
            else:
                low = text.lower() if text.isascii() else None
                _LAST = (text, low)
            if low is not None:
                for word in words:
                    if word in low:
                        break
                else:
                    return None
        if getattr(lazy, "_compiled", None) is None:
            lazy._compile()
        method: Callable[..., re.Match[str] | None] = getattr(lazy, name)
        return method(text, *args, **kwargs)

    return prefiltered


def _guarded(compiled: re.Pattern[str], words: tuple[str, ...] | None,
             alternatives: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...] | None = None,
             ) -> Callable[..., re.Match[str] | None]:
    """`compiled.search`, answering None at once for an ASCII text holding none of `words` (lower-cased; None:
    no word every match holds). A text that may match is searched by the top-level alternatives that may match
    it (those whose own words it holds, `_alternatives`) once the regex has been used a few times:
    "timeout|refused|..." tries every alternative at every position, 30 of them over 100 characters ~40 us,
    while the two whose words a line holds cost a few."""
    search = compiled.search
    state: list[Any] = [0, alternatives]  # texts searched so far, then the alternatives ((regex, words), ...)

    def guarded(text: str, *args: Any, **kwargs: Any) -> re.Match[str] | None:
        global _LAST
        if not args and not kwargs and type(text) is str:
            last = _LAST
            if last[0] is text:
                low = last[1]  # (most searches read the text the one before read: a line, several regexes)
            else:
                low = text.lower() if text.isascii() else None
                _LAST = (text, low)
            if low is None:
                return search(text)
            if words is not None:
                for word in words:
                    if word in low:
                        break
                else:
                    return None
            found = state[1]
            if found is None:
                state[0] += 1
                if state[0] < _SPLIT_AFTER:
                    return search(text)
                found = state[1] = _alternatives(compiled)
            if found:
                return _search_alternatives(compiled, found, text, low)
        return search(text, *args, **kwargs)

    return guarded


def _counted(lazy: _LazyRegex, compiled: re.Pattern[str]) -> Callable[..., re.Match[str] | None]:
    """`compiled.search` for a case-sensitive regex (or one requiring no word), counting its uses: after a few, `lazy.search` becomes the
    guarded search (`_guarded`) when the regex requires words or has alternatives to search one by one, else
    the compiled search itself. (Working that out parses the regex: not for the ones a first event uses once.)"""
    search = compiled.search
    state: list[Any] = [0, None]  # uses so far, then the search that replaced this one

    def counted(text: str, *args: Any, **kwargs: Any) -> re.Match[str] | None:
        if state[1] is not None:
            return state[1](text, *args, **kwargs)  # (a caller that kept this bound method)
        state[0] += 1
        if state[0] >= _SPLIT_AFTER:
            words = required_words(compiled)
            alternatives = _alternatives(compiled)
            state[1] = lazy.search = _guarded(compiled, words, alternatives) if words or alternatives else search
        return search(text, *args, **kwargs)

    return counted


_SPLIT_AFTER = 16  # texts searched before a regex's alternatives are compiled (a first event compiles none)
_GLOBAL_FLAGS = r"\(\?[aiLmsux]+\)"  # (compiled by `re` when first used: after 16 uses of some regex, not at import)
_BACKREF = r"\\[1-9]|\(\?P=|\(\?\("


def _class_end(body: str, i: int) -> int:
    """The index of the `]` that closes the character class opening at `body[i]` (len(body) if none)."""
    n = len(body)
    i += 1
    if body[i : i + 1] == "^":
        i += 1
    if body[i : i + 1] == "]":
        i += 1  # a ']' first in a class is a literal
    while i < n and body[i] != "]":
        i += 2 if body[i] == "\\" else 1
    return i


def _top_level_parts(body: str) -> list[str]:
    """`body` cut at each `|` outside groups and character classes: its top-level alternatives."""
    parts: list[str] = []
    depth, i, start, n = 0, 0, 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(body, i)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return parts


def _distributed(body: str) -> list[str]:
    """`P(?:a|b|c)S` as [PaS, PbS, PcS]: a regex of one group of alternatives (not repeated), each alternative
    with what surrounds the group. The same texts match at the same starts (a search takes its leftmost start
    from them only). [body] when it has no such group."""
    best: tuple[int, int, list[str]] | None = None
    depth, i, n = 0, 0, len(body)
    opened: list[int] = []
    while i < n:
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class_end(body, i)
        elif ch == "(":
            opened.append(i)
            depth += 1
        elif ch == ")" and opened:
            begin = opened.pop()
            depth -= 1
            head = body[begin + 1 : begin + 3]
            if depth == 0 and body[i + 1 : i + 2] not in ("*", "+", "?", "{") and (
                    head == "?:" or head[:1] != "?" or body[begin + 1 : begin + 4] == "?P<"):
                inner = body[begin + 1 : i]
                skip = 2 if head == "?:" else inner.index(">") + 1 if head == "?P" else 0
                alts = _top_level_parts(inner[skip:])
                if len(alts) >= 3 and (best is None or len(alts) > len(best[2])):
                    best = (begin, i, alts)
        i += 1
    if best is None:
        return [body]
    begin, end, alts = best
    return [body[:begin] + "(?:" + alt + ")" + body[end + 1 :] for alt in alts]


def _alternatives(compiled: re.Pattern[str]) -> tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...]:
    """The top-level alternatives of a regex, each compiled alone with the regex's flags, with the words one of
    which its every match holds (None: any text may match it); () when the regex has fewer than three, or
    alternatives that cannot stand alone (back-references, conditionals, verbose comments)."""
    pattern = compiled.pattern
    if compiled.flags & re.VERBOSE or re.search(_BACKREF, pattern):
        return ()
    lead = re.match(_GLOBAL_FLAGS, pattern)
    body = pattern[lead.end() :] if lead else pattern
    parts = _top_level_parts(body)
    if len(parts) == 1:
        parts = _distributed(body)
    if len(parts) < 3:
        return ()
    out = []
    for part in parts:
        try:
            regex = re.compile(part, compiled.flags)
        except re.error:
            return ()
        out.append((regex, required_words(regex)))
    return tuple(out)


def _search_alternatives(compiled: re.Pattern[str], alternatives: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...],
                         text: str, low: str) -> re.Match[str] | None:
    """`compiled.search(text)` (`low`: the ASCII text lower-cased): the leftmost start of the alternatives that
    may match (an alternative whose words the text lacks matches nowhere), then the regex matched there, which
    finds no match further left and, at that start, takes the first alternative that matches, as a search does."""
    may = []
    for alternative in alternatives:
        need = alternative[1]
        if need is not None:
            for word in need:
                if word in low:
                    break
            else:
                continue
        may.append(alternative[0])
    if len(may) * 2 > len(alternatives):
        return compiled.search(text)  # most of them may: one pass of the whole regex costs less
    start = -1
    for regex in may:
        m = regex.search(text)
        if m is not None and (start == -1 or m.start() < start):
            start = m.start()
            if start == 0:
                break
    if start == -1:
        return None
    found = compiled.match(text, start)
    return found if found is not None else compiled.search(text)  # (cannot happen: the alternative matched there)


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A regex compiled on first use (see `_LazyRegex`), typed as the compiled pattern it stands for."""
    return cast("re.Pattern[str]", _LazyRegex(pattern, flags))


_WORDS_HEADER = '''"""The words one of which every match of each `lazy_re` regex holds (`shared.scan.required_words`), known
ahead: a cold start then need not compile a regex, nor parse it, to know that a text lacking them cannot
match (`shared.scan._LazyRegex`). Regexes requiring no word are left out.

Generated: `make regex-words` (python -m shared.scan). A regex missing from it is compiled as before (a new or
changed pattern needs no regeneration); tests/unit/test_regex_words.py checks every recorded one and asks for a
refresh once a tenth are missing.
"""

WORDS: dict[tuple[str, int], tuple[str, ...]] = {
'''


def lazy_regexes() -> list[_LazyRegex]:
    """Every `lazy_re` regex the modules of `shared` and `functions` define, all of them imported."""
    import gc
    import importlib
    import pkgutil

    import functions
    import shared

    for package in (shared, functions):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name != "shared.regex_words":  # (what is written: a stale or broken one is no input)
                importlib.import_module(module.name)
    return [o for o in gc.get_objects() if type(o) is _LazyRegex]


def regex_words_module() -> str:
    """The text of `shared/regex_words.py`: (pattern, flags) -> `required_words` of each regex requiring words."""
    table: dict[tuple[str, int], tuple[str, ...]] = {}
    for lazy in lazy_regexes():
        words = required_words(re.compile(lazy.pattern, lazy._flags))
        if words is not None:
            table[(lazy.pattern, int(lazy._flags))] = words
    rows = "".join(f"    {key!r}: {words!r},\n" for key, words in sorted(table.items()))
    return _WORDS_HEADER + rows + "}\n"


# -------------------------------------------------------------------------------------------------
# Regexes whose matches begin inside a run of characters
# -------------------------------------------------------------------------------------------------
class _RunRegex:
    """`re.compile(pattern)`'s `finditer` and `search` for a regex whose matches begin inside a run of the characters
    `run` (a host name, a path), where every start of a run that may match ends the match at the same place: its
    search read the rest of a long run again from each start (a 16 KB "a.a.a..." line: seconds). `first` is the
    regex started at runs only (a lookbehind refuses the other starts) and skipping the part of the run before the
    first start that may match; `at`, the same from wherever it is matched (a search that resumes inside a run, after
    the previous match; None: `search` only). The groups are `pattern`'s; a match starts where its run, or the resumed
    search, does, unless `start` names the group where `pattern`'s own match starts: then that match is returned."""

    __slots__ = ("_at", "_exact", "_first", "_run", "_start", "flags", "pattern")

    def __init__(self, pattern: str, first: str, at: str | None, run: str, flags: int = 0,
                 start: str | None = None) -> None:
        self.pattern = pattern  # what it stands for: the words it requires, its name in the code
        self.flags = flags
        self._first = lazy_re(first, flags)
        self._at = lazy_re(at, flags) if at is not None else None
        self._run = lazy_re(f"[{run}]{{2}}", flags)
        self._start = start
        self._exact = lazy_re(pattern, flags) if start is not None else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        pos = 0
        while True:
            m = None
            if pos and self._at is not None and self._run.match(text, pos - 1):  # resumed inside a run: from here on
                m = self._at.match(text, pos)
            if m is None:
                m = self._first.search(text, pos) if pos else self._first.search(text)  # (guarded: see lazy_re)
            if m is None:
                return
            if self._exact is not None and self._start is not None:
                begin = m.start(self._start)
                found = self._exact.match(text, begin if begin >= 0 else m.start())
                if found is None:  # (cannot be: `first` found where `pattern` matches)
                    return
                m = found
            yield m
            pos = max(m.end(), pos + 1)

    def search(self, text: str) -> re.Match[str] | None:
        return next(self.finditer(text), None)

    def __repr__(self) -> str:
        return f"run_regex({self.pattern!r})"


def run_regex(pattern: str, first: str, at: str | None, run: str, flags: int = 0,
              start: str | None = None) -> re.Pattern[str]:
    """A regex matched from the starts of runs only (see `_RunRegex`), typed as the regex `pattern` it stands for."""
    return cast("re.Pattern[str]", _RunRegex(pattern, first, at, run, flags, start))


if __name__ == "__main__":
    import sys

    from shared.scan import regex_words_module as _module  # this module's classes, not __main__'s

    sys.stdout.write(_module())
