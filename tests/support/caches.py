"""Process-wide caches a Lambda cold start resets: tests that play several invocations reset them."""

from __future__ import annotations


def reset_caches() -> None:
    """What a cold start resets: settings, the runtime's clients and channels, evidence caches."""
    import functions.runtime as runtime
    import shared.aws
    from shared.evidence import ecs, gather
    from shared.notify import aws as notify_aws
    from shared.notify import secrets
    from shared.settings import settings

    settings.cache_clear()
    runtime.channels.cache_clear()
    runtime.threads.cache_clear()
    runtime.state.cache_clear()
    runtime.idempotency.cache_clear()
    shared.aws._DEFAULT = None
    ecs.clear_cache()
    gather.clear_storm_cache()
    secrets.clear_cache()
    notify_aws.client.cache_clear()
