"""Noise control for the human channels (Slack, Chatbot). SNS gets every task regardless.

Policy, per failure (the finding's fingerprint: service, pattern, key facts):
- an expected stop (verdict "expected") is not posted unless settings.post_expected_stops.
- an "insufficient evidence" finding (`unknown`, no container known: the event listed none and ECS could
  not describe the task) is not posted unless settings.post_insufficient (SNS gets it).
- A window opens at the first occurrence and lasts settings.noise_window_seconds (default 15 min).
  The first occurrence posts. Later ones only increment the window's count, except at growing
  thresholds (10, 50, 200, then every 1000) where a "still happening: seen N times" post goes out,
  never more than settings.max_slack_posts_per_window (default 5) per window: the count that is
  the n-th threshold posts only if n <= the cap. A crash loop of 500 tasks in one window therefore
  posts 4 times (1, 10, 50, 200).
- After the window, the next occurrence opens a new one and posts, saying how many tasks the
  previous window saw (if that window ended less than a day ago).
- noise_window_seconds = 0 turns noise control off (every finding posts; tasks are still counted,
  in the same single write, so a retry is still recognised).

Counting is one atomic conditional DynamoDB update that returns the item as it was (hence the new
count), so concurrent invocations of a storm see distinct counts and exactly one of them sees each
threshold: the decision to post needs no second write. The same write claims the delivery for
idempotency (state.py): every delivery is counted and claimed, whatever its channels.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from shared.models.finding import Finding
from shared.notify.state import STATE_TTL_SECONDS, Claim, Counted, InProgress, Seen, State, StateError
from shared.render.channels import Occurrence
from shared.settings import Settings

FOLLOW_UPS = (10, 50, 200)
EVERY = 1000
PREVIOUS_WINDOW_MAX_AGE = 86_400  # a new window mentions the previous one only if it ended this recently
MAX_ROLLS = 5  # attempts to open a new window against concurrent invocations


def is_threshold(count: int) -> bool:
    return count == 1 or count in FOLLOW_UPS or (count >= EVERY and count % EVERY == 0)


def next_threshold(count: int) -> int:
    for t in FOLLOW_UPS:
        if t > count:
            return t
    return (count // EVERY + 1) * EVERY


def thresholds_up_to(count: int) -> int:
    """How many thresholds a window has crossed at `count` (the post number when `count` is one)."""
    if count < 1:
        return 0
    return 1 + sum(1 for t in FOLLOW_UPS if t <= count) + count // EVERY


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
    """The state item of the finding's service: its noise windows and the tasks it delivered."""
    t = f.task
    scope = t.group or t.service or (t.task_definition or "").split(":")[0] or t.task_arn or ""
    return "noise#" + _hash(t.account or "", t.region or "", t.cluster or "", scope)[:16]


def task_key(f: Finding) -> str:
    """The stopped task (or deployment) the finding is about: the same for every version of its event."""
    subject = f.task.task_arn or (f.deployment.service_arn if f.deployment else None) or ""
    parts = [f.scope, subject]
    if f.deployment is not None:
        parts += [f.deployment.deployment_id or "", f.deployment.event_name or ""]
    return _hash(*parts)[:16]


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def rule_out(f: Finding, settings: Settings) -> Decision | None:
    """The decision that needs no count, or None: the count decides. (The delivery is claimed and counted
    either way, so that its duplicates are recognised.)"""
    if f.verdict == "expected" and not settings.post_expected_stops:
        return Decision(False, "an expected stop is not posted (ECS_AUTOPSY_POST_EXPECTED_STOPS=true posts it)")
    if insufficient(f) and not settings.post_insufficient:
        return Decision(False, "insufficient evidence is not posted (ECS_AUTOPSY_POST_INSUFFICIENT=true posts it)")
    return None


def insufficient(f: Finding) -> bool:
    """An "insufficient evidence" finding: no cause named, and no container known (the event listed none and
    ECS could not describe the task), so nothing a human could act on beyond what its gaps say."""
    return f.scope == "task" and f.verdict == "undetermined" and f.pattern == "unknown" and not f.task.containers


def claim_for(f: Finding, did: str, settings: Settings, now: int, until_ms: int) -> Claim:
    window = settings.noise_window_seconds
    return Claim(noise_key(f), f.fingerprint, task_key(f), did, now, until_ms, window,
                 now + window + STATE_TTL_SECONDS)


def observe(c: Claim, state: State) -> Counted | Seen | InProgress:
    """Claim and count delivery `c` once (one write; two when its window is over), or say why not."""
    for _ in range(MAX_ROLLS):
        got = state.claim(c)
        if isinstance(got, Counted | Seen | InProgress):
            return got
        recent = got.start + c.window_seconds + PREVIOUS_WINDOW_MAX_AGE > c.now
        rolled = state.roll(c, got.start, got.count if recent else 0)
        if rolled is not None:
            return rolled
    raise StateError(f"could not open a new window in {c.key}: too much contention")


def decide(counted: Counted, settings: Settings) -> Decision:
    """Post or not, from the count alone (deterministic: each count is seen by exactly one invocation)."""
    window = settings.noise_window_seconds
    if window == 0:
        return Decision(True, "noise control is off", count=counted.count)
    cap = settings.max_slack_posts_per_window
    n = counted.count
    common: dict[str, Any] = {"count": n, "window_start": counted.start, "window_seconds": window,
                              "previous_count": counted.previous_count, "max_posts": cap}
    crossed = thresholds_up_to(n)
    if not is_threshold(n):
        if crossed >= cap:
            return Decision(False, f"seen {n} times; the limit of {cap} posts per window is reached", **common)
        return Decision(False, f"seen {n} times in this window; next post at {next_threshold(n)}", **common)
    if crossed > cap:
        return Decision(False, f"seen {n} times; the limit of {cap} posts per window is reached", **common)
    reason = "first occurrence in the window" if n == 1 else f"still happening: {n} occurrences"
    return Decision(True, f"{reason} (post {crossed} of at most {cap})", **common)
