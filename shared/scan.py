"""Find every occurrence of many literal needles in a text, in one pass.

CPython's `re` tries every alternative at every position: 200 needles over a 20 KB log cost
milliseconds, and one `str.find` per needle costs as much. An Aho-Corasick automaton
(`ahocorasick_rs`, compiled to a DFA) reports all occurrences, overlapping ones included, in one
pass of tens of microseconds. Without the wheel (an unusual platform) the scan falls back to one
`str.find` loop per needle: same answers, slower.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
        self._str_ac: AhoCorasick | None = None
        if HAVE_AUTOMATON and uniq:
            self._bytes_ac = BytesAhoCorasick([n.encode() for n in uniq], matchkind=MatchKind.Standard,
                                              implementation=Implementation.DFA)
            self._str_ac = AhoCorasick(list(uniq), matchkind=MatchKind.Standard, implementation=Implementation.DFA)

    def occurrences(self, low: str) -> list[tuple[int, int, int]]:
        """(needle index, start, end) of every occurrence in `low` (already lower-case), in the order
        the automaton reports them (by end offset: one needle's occurrences in ascending order)."""
        if not self.needles:
            return []
        if self._bytes_ac is not None and self._str_ac is not None:  # built together
            if low.isascii():
                return self._bytes_ac.find_matches_as_indexes(low.encode(), overlapping=True)
            try:
                return self._str_ac.find_matches_as_indexes(low, overlapping=True)
            except UnicodeEncodeError:  # lone surrogates (JSON may escape them): one replacement each, same offsets
                return self._str_ac.find_matches_as_indexes(_SURROGATE.sub("\ufffd", low), overlapping=True)
        out: list[tuple[int, int, int]] = []
        for index, needle in enumerate(self.needles):
            pos = low.find(needle)
            while pos != -1:
                out.append((index, pos, pos + len(needle)))
                pos = low.find(needle, pos + 1)
        return out


# -------------------------------------------------------------------------------------------------
# Regexes compiled on first use
# -------------------------------------------------------------------------------------------------
_FORWARD = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split", "scanner", "groups",
            "groupindex", "flags")


class _LazyRegex:
    """`re.compile(pattern, flags)` the first time anything but `.pattern` is read: a pattern module
    defines a few hundred regexes, and a first event reaches those of the lines it has. Once compiled,
    the methods sit in slots: `X.search` costs what it costs on the compiled pattern."""

    __slots__ = ("_flags", "_compiled", "pattern", *_FORWARD)

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self._flags = flags

    def __getattr__(self, name: str) -> Any:  # only for slots not filled yet
        if name.startswith("__") or name == "_compiled":
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        self._compiled = compiled
        for attr in _FORWARD:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_re({self.pattern!r}, {self._flags!r})"


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A regex compiled on first use (see `_LazyRegex`), typed as the compiled pattern it stands for."""
    return cast("re.Pattern[str]", _LazyRegex(pattern, flags))
