"""deliver(): every channel tried independently; a failure fails the invocation, nothing is sent twice.

The bookkeeping lives in ONE state item per failure (`noise#<fingerprint>`, see state.py) and costs
one DynamoDB write when everything goes well:

1. If a human channel (Slack, Chatbot) may post, one conditional UpdateItem counts the task in its
   noise window and returns the new count; the noise decision follows from the count alone. The
   same write fails, and returns the item, when this delivery was counted before: then it is a
   retry (or a duplicate) and only the channels it still has pending are sent, with the decision
   stored then (no new count, no new decision). A completed duplicate sends nothing.
   Without a human channel that may post (SNS only, or an expected stop), nothing is stored at all.
2. Each channel is sent; a failure does not stop the others.
3. If any channel failed, one more write stores which channels are still to send and the decision
   (`pending` in the item), and DeliveryError is raised after all were tried: Lambda's retry and
   the DLQ keep the event, and the retry re-sends only what failed, then clears the entry.

If the state table cannot be written (the count fails), nothing is sent and DeliveryError is raised:
nothing could record what went out, so SNS sent now would be sent again by the retry, which then
counts, decides and sends every channel once (the retries and the DLQ keep the event meanwhile).
One gap remains: if the table accepts the count but then
refuses the failure record (step 3), the retry finds the delivery counted and nothing pending, and
does not re-send the failed channels (logged as an error). The delivery id defaults to (fingerprint, scope, task ARN,
event version[, deployment]): the same ECS event delivered twice (same detail.version) is recognised.
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
from shared.notify.channels import Channel, Skipped
from shared.notify.noise import Decision
from shared.notify.state import MAX_PENDING, STATE_TTL_SECONDS, Counted, Seen, State
from shared.redact import redact
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    status: str  # sent | skipped | already | failed
    detail: str = ""


@dataclass
class DeliveryResult:
    delivery_id: str
    outcomes: dict[str, ChannelOutcome] = field(default_factory=dict)
    decision: Decision | None = None

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
        return out


class DeliveryError(RuntimeError):
    """At least one channel failed (the others were tried and, if state is kept, recorded as done)."""

    def __init__(self, result: DeliveryResult) -> None:
        failed = "; ".join(f"{o.channel}: {o.detail}" for o in result.failed)
        super().__init__(f"delivery {result.delivery_id} failed: {failed}")
        self.result = result


def delivery_id(f: Finding) -> str:
    t = f.task
    subject = t.task_arn or (f.deployment.service_arn if f.deployment else None) or ""
    parts = [f.fingerprint, f.scope, subject, str(t.event_version or 0)]
    if f.deployment is not None:
        parts += [f.deployment.deployment_id or "", f.deployment.event_name or ""]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def deliver(finding: Finding, channels: Sequence[Channel], state: State, settings: Settings, *,
            delivery_id_: str | None = None, now: float | None = None) -> DeliveryResult:
    did = delivery_id_ or delivery_id(finding)
    at = int(time.time() if now is None else now)
    result = DeliveryResult(did)
    key = noise.noise_key(finding)

    counted: Counted | None = None
    prior: dict[str, Any] | None = None  # the pending entry of an earlier attempt
    state_error: str | None = None
    if any(ch.human for ch in channels):
        result.decision = noise.rule_out(finding, settings)
        if result.decision is None:
            try:
                seen = noise.observe(finding, did, state, settings, at)
            except Exception as exc:  # send nothing: the retry counts, decides and sends every channel once
                state_error = f"noise-control state unavailable: {_safe(exc)}"
                log.error("%s", state_error)
            else:
                if isinstance(seen, Seen):
                    prior = seen.entry or {"channels": []}  # None: that delivery completed, all is done
                    stored = prior.get("decision")
                    result.decision = Decision.from_dict(stored) if stored else None
                else:
                    counted = seen
                    result.decision = noise.decide(seen, settings)

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
            result.outcomes[ch.name] = _send(ch, finding, result.decision)

    failed = [ch.name for ch in to_send if result.outcomes[ch.name].status == "failed"]
    if prior is not None:
        _settle_retry(state, key, did, prior, failed, result.decision)
    elif counted is not None and failed:
        _hold(state, key, did, counted, failed, result.decision, at)

    log.info("delivery %s", result.summary())
    if result.failed:
        raise DeliveryError(result)
    return result


def _send(ch: Channel, finding: Finding, decision: Decision | None) -> ChannelOutcome:
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
