"""The time by which a Slack post must be over, set by the Lambda handler for its invocation.

Here, not in shared/notify/slack.py, so that setting it imports nothing: slack.py imports slack_sdk
(~36 ms of a cold start's CPU on Python 3.12), which a deployment without Slack (SNS only) never needs.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

# Monotonic time by which a post must be over (the Lambda handler sets it from its remaining time):
# a post that would run past it fails fast instead, so the invocation can still record what is left
# to send and fail cleanly for a retry, rather than be killed mid-post and lose it.
DEADLINE: ContextVar[float | None] = ContextVar("slack_deadline", default=None)


def remaining() -> float | None:
    """Seconds left before DEADLINE (None without one)."""
    deadline = DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()
