"""Find which lines of a text contain any of many literal needles, in one pass.

CPython's `re` tries every alternative at every position: 50 needles over a 20 KB log cost
milliseconds. RE2 (google-re2, a DFA) does the same scan in tens of microseconds, so the engine
uses it to pick the few lines worth a closer look. Without google-re2 (an unusual platform) the
scan falls back to one `str.find` loop per needle: same answers, slower.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

try:  # pragma: no cover - exercised on machines without the wheel
    import re2 as _re2
except ImportError:  # pragma: no cover
    _re2 = None

HAVE_RE2 = _re2 is not None


class NeedleSet:
    """A fixed set of lower-case literal needles."""

    __slots__ = ("_bytes_re", "_str_re", "needle_set", "needles")

    def __init__(self, needles: Iterable[str]) -> None:
        uniq = sorted({n.lower() for n in needles if n}, key=lambda n: (-len(n), n))
        self.needles: tuple[str, ...] = tuple(uniq)
        self.needle_set = frozenset(uniq)
        self._bytes_re = None
        self._str_re = None
        if _re2 is not None and uniq:
            options = _re2.Options()
            options.max_mem = 32 << 20
            options.never_capture = True
            pattern = "|".join(re.escape(n) for n in uniq)
            self._bytes_re = _re2.compile(pattern.encode(), options)
            self._str_re = _re2.compile(pattern, options)

    def hit_offsets(self, low: str) -> list[int]:
        """Start offsets in `low` (already lower-case) where some needle begins (not necessarily all
        overlapping ones, but at least one per region holding any needle)."""
        if not self.needles:
            return []
        if self._bytes_re is not None:
            if low.isascii():
                return [m.start() for m in self._bytes_re.finditer(low.encode())]
            return [m.start() for m in self._str_re.finditer(low)]  # type: ignore[union-attr]
        out: list[int] = []
        for needle in self.needles:
            pos = low.find(needle)
            while pos != -1:
                out.append(pos)
                pos = low.find(needle, pos + 1)
        out.sort()
        return out

    def segments_hit(self, low: str, starts: list[int]) -> list[int]:
        """Indices of the segments (that begin at `starts`) holding at least one needle."""
        hits: list[int] = []
        last = -1
        for pos in self.hit_offsets(low):
            seg = bisect.bisect_right(starts, pos) - 1
            if seg != last:
                hits.append(seg)
                last = seg
        return hits
