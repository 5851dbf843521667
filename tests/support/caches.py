"""Process-wide caches a Lambda cold start resets: tests that play several invocations reset them."""

from __future__ import annotations


def reset_caches() -> None:
    """A cold start: every warm state registered with shared.warm (the runtime's included) is dropped."""
    import functions.runtime  # noqa: F401  (registers the runtime's own caches)
    from shared import warm

    warm.reset()
