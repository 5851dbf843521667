"""Process-wide state a warm Lambda container keeps between invocations, behind one reset.

Every module that keeps such state (cached clients, settings, task definitions, crash-loop logs,
secrets, the noise-control memory state) registers how to drop it with `on_reset`, next to the state
itself. A cold start has none of it; tests and the demo that play several invocations in one process
call `reset()` to start the next one cold. Nothing else clears caches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[[], object])
_RESETS: dict[str, Callable[[], object]] = {}


def on_reset(fn: F, name: str | None = None) -> F:
    """Register `fn` (no arguments) to run on reset(); returns it, so it works as a decorator."""
    _RESETS[name or f"{fn.__module__}.{getattr(fn, '__qualname__', repr(fn))}"] = fn
    return fn


def reset(keep: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> None:
    """Drop every registered warm state, as a cold start would; `keep`: name prefixes to leave alone (a
    test that plays a new container but keeps the clients it counts calls with); `only`: when given, the
    name prefixes to drop, nothing else (the crash-loop memory a few minutes later)."""
    for name, fn in list(_RESETS.items()):
        if keep and name.startswith(keep):
            continue
        if only and not name.startswith(only):
            continue
        fn()


def registered() -> list[str]:
    return sorted(_RESETS)
