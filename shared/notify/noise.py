"""Noise control for the human channels (Slack, Chatbot). SNS gets every task regardless.

Policy, per failure (the finding's fingerprint: service, pattern, key facts):
- `expected-stop` is not posted unless settings.post_expected_stops.
- A window opens at the first occurrence and lasts settings.noise_window_seconds (default 15 min).
  The first occurrence posts. Later ones only increment the window's count, except at growing
  thresholds (10, 50, 200, then every 1000) where a "still happening: seen N times" post goes out,
  never more than settings.max_slack_posts_per_window (default 5) per window.
  A crash loop of 500 tasks in one window therefore posts 4 times (1, 10, 50, 200).
- After the window, the next occurrence opens a new one and posts, saying how many tasks the
  previous window saw.
- noise_window_seconds = 0 turns noise control off (every finding posts).

Counting is atomic in the state table (DynamoDB ADD), so concurrent invocations of a storm see
distinct counts and exactly one of them crosses each threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.models.finding import Finding
from shared.notify.state import State
from shared.render.channels import Occurrence
from shared.settings import Settings

FOLLOW_UPS = (10, 50, 200)
EVERY = 1000


def is_threshold(count: int) -> bool:
    return count == 1 or count in FOLLOW_UPS or (count >= EVERY and count % EVERY == 0)


def next_threshold(count: int) -> int:
    for t in FOLLOW_UPS:
        if t > count:
            return t
    return (count // EVERY + 1) * EVERY


@dataclass(frozen=True)
class Decision:
    """Whether the human channels post this finding, and the count to show."""

    post: bool
    reason: str
    count: int = 1
    window_start: int | None = None
    window_seconds: int = 0
    previous_count: int = 0
    max_posts: int | None = None

    @property
    def occurrence(self) -> Occurrence | None:
        if not self.window_seconds:
            return None
        return Occurrence(count=self.count, window_seconds=self.window_seconds,
                          window_start=self.window_start, previous_count=self.previous_count,
                          max_posts=self.max_posts)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in fields})


def noise_key(f: Finding) -> str:
    return f"noise#{f.fingerprint}"


def decide(f: Finding, state: State, settings: Settings, now: int) -> Decision:
    if f.pattern == "expected-stop" and not settings.post_expected_stops:
        return Decision(False, "expected-stop is not posted (ECS_AUTOPSY_POST_EXPECTED_STOPS=true posts it)")
    window = settings.noise_window_seconds
    if window == 0:
        return Decision(True, "noise control is off")
    cap = settings.max_slack_posts_per_window
    w = state.observe(noise_key(f), now, window)
    common = {"count": w.count, "window_start": w.start, "window_seconds": window,
              "previous_count": w.previous_count, "max_posts": cap}
    if not is_threshold(w.count):
        return Decision(False, f"seen {w.count} times in this window; next post at {next_threshold(w.count)}",
                        **common)
    post_no = state.claim_post(noise_key(f), w.start, cap)
    if post_no is None:
        return Decision(False, f"seen {w.count} times; the limit of {cap} posts per window is reached", **common)
    reason = "first occurrence in the window" if w.count == 1 else f"still happening: {w.count} occurrences"
    return Decision(True, f"{reason} (post {post_no} of at most {cap})", **common)
