"""deliver(): every channel tried independently; a failure fails the invocation, nothing is sent twice.

Idempotency, in-progress detection and noise control live in ONE state item per service (state.py),
so a delivery that succeeds costs two DynamoDB writes, whatever its channels (SNS only, Slack,
expected stops alike):

1. One conditional UpdateItem claims the delivery: it counts the task in its failure's noise window
   (the noise decision follows from the count alone), marks it in progress until the invocation's
   deadline and remembers the task with its fingerprint. The same write fails, and returns the item,
   when the delivery was claimed before:
   - the task was delivered with this fingerprint (a duplicate event, or a later version of the
     task's STOPPED event with the same diagnosis): nothing is sent;
   - a failed attempt left channels pending (Lambda's retry, a DLQ redrive): only those are sent,
     with the decision stored then (no new count, no new decision);
   - another invocation is delivering it (a concurrent duplicate): this one ends normally, saying
     so (`duplicate: in progress`), without a Lambda error; if that invocation's deadline has
     passed, it died (timeout, out of memory): this one takes the delivery over and sends every
     channel (at least once, as Powertools Idempotency would run the handler again).
   A task delivered before with ANOTHER fingerprint (a later event version that changes the
   diagnosis) is counted and sent as an update: `supersedes` names the earlier fingerprint (an SNS
   message attribute).
2. Each channel is sent; a failure does not stop the others.
3. One more write: the in-progress mark goes (success), or the channels still to send and the
   decision replace it (`pending`), and DeliveryError is raised after all were tried: Lambda's retry
   and the DLQ keep the event, and the retry re-sends only what failed, then clears the entry.

If the state table cannot be written (the claim fails), nothing is sent and DeliveryError is raised:
nothing could record what went out, so SNS sent now would be sent again by the retry, which then
claims, decides and sends every channel once (the retries and the DLQ keep the event meanwhile).
If the table accepts the claim but then refuses step 3, the in-progress mark stays until the
deadline: a later duplicate or retry then takes the delivery over and sends it again (logged as an
error; at least once rather than lost). The delivery id is (fingerprint, task[, deployment]): per
stopped task, not per event version.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.models.finding import Finding
from shared.notify import noise
from shared.notify.channels import Channel, Skipped, marks_updates
from shared.notify.noise import Decision
from shared.notify.state import MAX_PENDING, STATE_TTL_SECONDS, Counted, InProgress, Seen, State
from shared.redact import redact
from shared.settings import Settings

log = logging.getLogger(__name__)

IN_PROGRESS_SECONDS = 900  # without an invocation deadline (CLI, demo): Lambda's longest run


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    status: str  # sent | skipped | already | in-progress | failed
    detail: str = ""


@dataclass
class DeliveryResult:
    delivery_id: str
    outcomes: dict[str, ChannelOutcome] = field(default_factory=dict)
    decision: Decision | None = None
    duplicate: str | None = None  # "completed" | "in progress": another invocation made (or makes) this delivery
    supersedes: str | None = None  # the fingerprint of the earlier finding of this task that this one updates
    taken_over: bool = False  # the invocation that claimed it died; this one sent it

    @property
    def failed(self) -> list[ChannelOutcome]:
        return [o for o in self.outcomes.values() if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"delivery_id": self.delivery_id,
                               "channels": {k: {"status": o.status, "detail": o.detail} for k, o in self.outcomes.items()}}
        if self.decision is not None:
            out["noise"] = self.decision.to_dict()
        for name in ("duplicate", "supersedes"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.taken_over:
            out["taken_over"] = True
        return out


class DeliveryError(RuntimeError):
    """At least one channel failed (the others were tried and, if state is kept, recorded as done)."""

    def __init__(self, result: DeliveryResult) -> None:
        failed = "; ".join(f"{o.channel}: {o.detail}" for o in result.failed)
        super().__init__(f"delivery {result.delivery_id} failed: {failed}")
        self.result = result


def delivery_id(f: Finding) -> str:
    """(fingerprint, task[, deployment]): the same for a duplicate event and for a later version of it."""
    return hashlib.sha256(f"{f.fingerprint}|{noise.task_key(f)}".encode()).hexdigest()[:32]


def deliver(finding: Finding, channels: Sequence[Channel], state: State, settings: Settings, *,
            delivery_id_: str | None = None, now: float | None = None, until: float | None = None) -> DeliveryResult:
    """`until`: the invocation's deadline (epoch s); the delivery is marked in progress until then."""
    clock = time.time() if now is None else now
    did = delivery_id_ or delivery_id(finding)
    at = int(clock)
    until_ms = int(1000 * (until if until is not None else clock + IN_PROGRESS_SECONDS))
    result = DeliveryResult(did)
    key = noise.noise_key(finding)
    human = any(ch.human for ch in channels)

    counted: Counted | None = None
    prior: dict[str, Any] | None = None  # the pending entry of an earlier attempt
    state_error: str | None = None
    claim = noise.claim_for(finding, did, settings, at, until_ms)
    try:
        seen = noise.observe(claim, state)
        if isinstance(seen, InProgress):
            if seen.until_ms > int(clock * 1000) or not state.take_over(claim, seen.until_ms):
                return _in_progress(result, channels, seen)
            result.taken_over = True  # the invocation that claimed it died before it finished
            log.warning("delivery %s was left in progress by an invocation that ended; sending it", did)
            seen = Counted(seen.start, seen.count, seen.previous_count)
    except Exception as exc:  # send nothing: the retry claims, decides and sends every channel once
        state_error = f"noise-control state unavailable: {_safe(exc)}"
        log.error("%s", state_error)
    else:
        if isinstance(seen, Seen):
            prior = seen.entry or {"channels": []}  # None: that delivery completed, all is done
            if seen.entry is None:
                result.duplicate = "completed"
            stored = prior.get("decision")
            result.decision = Decision.from_dict(stored) if stored else None
        else:
            counted = seen
            result.supersedes = seen.supersedes
            if human:
                result.decision = noise.rule_out(finding, settings) or noise.decide(seen, settings)

    to_send = list(channels)
    if prior is not None:
        still = set(prior.get("channels") or ())
        for ch in channels:
            if ch.name not in still:
                result.outcomes[ch.name] = ChannelOutcome(ch.name, "already")
        to_send = [ch for ch in channels if ch.name in still]

    for ch in to_send:
        if state_error is not None:
            result.outcomes[ch.name] = ChannelOutcome(ch.name, "failed", f"not sent: {state_error}")
        else:
            result.outcomes[ch.name] = _send(ch, finding, result.decision, result.supersedes)

    failed = [ch.name for ch in to_send if result.outcomes[ch.name].status == "failed"]
    if prior is not None:
        _settle_retry(state, key, did, prior, failed, result.decision)
    elif counted is not None:
        if failed:
            _hold(state, key, did, counted, failed, result.decision, at)
        else:
            _complete(state, key, did, counted.forget)

    log.info("delivery %s", result.summary())
    if result.failed:
        raise DeliveryError(result)
    return result


def _in_progress(result: DeliveryResult, channels: Sequence[Channel], seen: InProgress) -> DeliveryResult:
    """A concurrent duplicate: the invocation that claimed the delivery sends it (and its retry, if it fails)."""
    result.duplicate = "in progress"
    for ch in channels:
        result.outcomes[ch.name] = ChannelOutcome(ch.name, "in-progress", "another invocation is delivering it")
    log.info("delivery %s is in progress in another invocation (until %d ms): nothing to do", result.delivery_id,
             seen.until_ms)
    return result


def _complete(state: State, key: str, did: str, forget: Sequence[str] = ()) -> None:
    try:
        state.release(key, did, forget)
    except Exception as exc:
        log.error("could not record delivery %s as complete; a duplicate after its deadline will send it again: %s",
                  did, _safe(exc))


def _send(ch: Channel, finding: Finding, decision: Decision | None, supersedes: str | None = None) -> ChannelOutcome:
    occurrence = None
    send = ch.send
    if ch.human:
        if decision is None:
            return ChannelOutcome(ch.name, "failed", "no noise decision")
        occurrence = decision.occurrence
        if not decision.post:
            # A channel that keeps a live count (Slack app mode) observes every counted occurrence.
            observe = getattr(ch, "observe", None)
            if observe is None or not decision.window_seconds:
                return ChannelOutcome(ch.name, "skipped", decision.reason)
            send = observe
    try:
        if supersedes and marks_updates(ch):
            receipt = ch.send(finding, occurrence, supersedes=supersedes)
        else:
            receipt = send(finding, occurrence)
    except Exception as exc:
        detail = _safe(exc)
        log.error("delivery to %s failed: %s", ch.name, detail)
        return ChannelOutcome(ch.name, "failed", detail)
    if isinstance(receipt, Skipped):
        return ChannelOutcome(ch.name, "skipped", str(receipt)[:200] if decision is None or decision.post
                              else f"{decision.reason}; {receipt}"[:200])
    return ChannelOutcome(ch.name, "sent", str(receipt)[:200])


def _hold(state: State, key: str, did: str, counted: Counted, failed: list[str], decision: Decision | None,
          at: int) -> None:
    """Remember what the retry must send, and with which decision (one write)."""
    drop = [d for d, when in counted.pending.items() if d != did and when < at - STATE_TTL_SECONDS]
    if len(counted.pending) - len(drop) >= MAX_PENDING:
        log.error("%d failed deliveries of %s are pending already: not recording %s; its retry counts the task "
                  "again and re-sends every channel", len(counted.pending) - len(drop), key, did)
        return
    entry: dict[str, Any] = {"channels": failed, "at": at}
    if decision is not None:
        entry["decision"] = decision.to_dict()
    try:
        state.hold(key, did, entry, drop)
    except Exception as exc:
        log.error("could not record the channels still to send (%s) for delivery %s; a retry will not "
                  "re-send them: %s", ", ".join(failed), did, _safe(exc))


def _settle_retry(state: State, key: str, did: str, prior: dict[str, Any], failed: list[str],
                  decision: Decision | None) -> None:
    before = list(prior.get("channels") or ())
    if not before or sorted(failed) == sorted(before):
        return  # a completed duplicate, or the same channels failed again: the entry stands
    try:
        if failed:
            entry = {**prior, "channels": failed}
            if decision is not None:
                entry["decision"] = decision.to_dict()
            state.hold(key, did, entry)
        else:
            state.release(key, did)
    except Exception as exc:
        log.warning("could not record the retry of delivery %s (another retry may re-send %s): %s",
                    did, ", ".join(sorted(set(before) - set(failed))), _safe(exc))


def _safe(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")[:500]
