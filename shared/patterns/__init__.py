"""The pattern registry: every module in this package that exports PATTERN, discovered at import.

Adding a pattern is adding one module (and its test): nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from shared.logs import register_needles
from shared.patterns.base import Pattern


@cache
def registry() -> tuple[Pattern, ...]:
    """All patterns, most specific (highest priority) first; the fallback (`unknown`) last."""
    found: list[Pattern] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        pattern = getattr(module, "PATTERN", None)
        if isinstance(pattern, Pattern):
            found.append(pattern)
    patterns = tuple(sorted(found, key=lambda p: (p.fallback, -p.priority)))
    register_needles(n for p in patterns for n in p.needles)
    return patterns


def by_id(pattern_id: str) -> Pattern:
    return _by_id()[pattern_id]


def fallback() -> Pattern:
    """The pattern chosen when nothing matched (the registry test holds that there is exactly one)."""
    return registry()[-1]


@cache
def _by_id() -> dict[str, Pattern]:
    return {p.id: p for p in registry()}
