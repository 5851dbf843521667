"""deliver(): every channel tried independently; a failure fails the invocation, nothing is sent twice.

1. The delivery record (state table, `delivery#<id>`) says which channels already delivered this
   finding: a retried invocation skips them ("already").
2. The human channels (Slack, Chatbot) follow one noise decision, taken once per delivery and
   stored, so a retry neither counts the task again nor changes its mind.
3. Each pending channel is sent; a success (or a skip) is recorded at once.
4. If any channel failed, DeliveryError is raised after all were tried: Lambda's retry and the
   DLQ keep the event, and the retry re-sends only the failed channels.

Delivery is at least once: if the state table cannot be written after a send, a retry sends again.
The delivery id defaults to (fingerprint, scope, task ARN, event version[, deployment]): the same ECS
event delivered twice (same detail.version) is recognised.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.models.finding import Finding
from shared.notify.channels import Channel
from shared.notify.noise import Decision, decide
from shared.notify.state import State
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
    """At least one channel failed (the others were tried and their success recorded)."""

    def __init__(self, result: DeliveryResult) -> None:
        failed = "; ".join(f"{o.channel}: {o.detail}" for o in result.failed)
        super().__init__(f"delivery {result.delivery_id} failed: {failed}")
        self.result = result


def delivery_id(f: Finding) -> str:
    t = f.task
    parts = [f.fingerprint, f.scope, t.task_arn, str(t.event_version or 0)]
    if f.deployment is not None:
        parts += [f.deployment.deployment_id or "", f.deployment.event_name or ""]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def deliver(finding: Finding, channels: Sequence[Channel], state: State, settings: Settings, *,
            delivery_id_: str | None = None, now: float | None = None) -> DeliveryResult:
    did = delivery_id_ or delivery_id(finding)
    at = int(time.time() if now is None else now)
    result = DeliveryResult(did)

    try:
        record = state.get_delivery(did)
    except Exception as exc:  # deliver anyway; without a record a retry may send twice
        log.warning("delivery state unavailable, delivering without it: %s", _safe(exc))
        record = {}
    done: dict[str, Any] = record.get("channels") or {}
    stored = record.get("decision")
    result.decision = Decision.from_dict(stored) if stored else None

    pending: list[Channel] = []
    for ch in channels:
        if ch.name in done:
            result.outcomes[ch.name] = ChannelOutcome(ch.name, "already", str(done[ch.name].get("status", "")))
        else:
            pending.append(ch)

    decision_error: str | None = None
    if result.decision is None and any(ch.human for ch in pending):
        try:
            taken = decide(finding, state, settings, at)
            result.decision = Decision.from_dict(state.put_decision(did, taken.to_dict(), at))
        except Exception as exc:  # no decision, no human post: the retry decides again
            decision_error = f"noise-control state unavailable: {_safe(exc)}"
            log.error("%s", decision_error)

    for ch in pending:
        occurrence = None
        if ch.human:
            if result.decision is None:
                result.outcomes[ch.name] = ChannelOutcome(ch.name, "failed", decision_error or "no decision")
                continue
            if not result.decision.post:  # the stored decision says so again on a retry: nothing to record
                result.outcomes[ch.name] = ChannelOutcome(ch.name, "skipped", result.decision.reason)
                continue
            occurrence = result.decision.occurrence
        try:
            receipt = ch.send(finding, occurrence)
        except Exception as exc:
            detail = _safe(exc)
            log.error("delivery to %s failed: %s", ch.name, detail)
            result.outcomes[ch.name] = ChannelOutcome(ch.name, "failed", detail)
            continue
        _record(state, did, ch.name, ChannelOutcome(ch.name, "sent", str(receipt)[:200]), at, result)

    log.info("delivery %s", result.summary())
    if result.failed:
        raise DeliveryError(result)
    return result


def _record(state: State, did: str, name: str, outcome: ChannelOutcome, at: int, result: DeliveryResult) -> None:
    result.outcomes[name] = outcome
    try:
        state.mark_channel(did, name, {"status": outcome.status, "detail": outcome.detail, "at": at}, at)
    except Exception as exc:
        log.warning("could not record the %s delivery (a retry may send it again): %s", name, _safe(exc))


def _safe(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")[:500]
