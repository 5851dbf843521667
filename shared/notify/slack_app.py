"""Slack app mode: one thread per incident, a live count on the parent, replies that add something.

The bot token (secrets.py, app mode) drives slack_sdk's WebClient with its retry handlers:
ConnectionErrorRetryHandler, ServerErrorRetryHandler and RateLimitErrorRetryHandler (bounded here:
a Retry-After beyond the budget, or past the invocation's deadline, is not waited for).
Scopes: `chat:write`, and `chat:write.public` to post in public channels without an invitation.

Per occurrence of a failure (every task, not only the ones noise control posts), one write to the
incident's item (threads.py) and then at most:
- the parent message, by the first occurrence of the incident (`chat.postMessage`): the card's glance
  blocks, and its details (evidence, every fix step, the log excerpt) as the first reply in its thread;
- a thread reply when the occurrence adds something: a new cause, the 10th or 50th task, the
  deploy-level finding (`chat.postMessage` with `thread_ts`); each claimed in the item first, so
  exactly one invocation posts it and a retry of that invocation never posts it twice;
- `chat.update` of the parent with the live count, last seen and status, at most once per
  UPDATE_GAP seconds per message (a conditional write decides who updates).

Failures: `channel_not_found`, `not_in_channel`, `invalid_auth`, `missing_scope`, `ratelimited` (after
the retries) post to the default channel with a note (or, when the token itself is refused, to the
webhook the secret may also hold), add the metric `SlackFallbacks` and log one line. Anything else
raises: the delivery keeps the channel pending and its retry re-sends only what was not posted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.models.finding import Finding
from shared.notify.channels import Skipped
from shared.notify.routing import Route
from shared.notify.secrets import SlackApp
from shared.notify.threads import UPDATE_GAP, ThreadStore, Touch, thread_key
from shared.render.channels import Occurrence

log = logging.getLogger(__name__)

REPLY_COUNTS = (10, 50)
FALLBACK_ERRORS = frozenset({"channel_not_found", "not_in_channel", "invalid_auth", "missing_scope", "ratelimited",
                             "is_archived"})
TOKEN_ERRORS = frozenset({"invalid_auth", "account_inactive", "token_revoked", "not_authed"})  # no other channel helps
FALLBACKS: Counter[str] = Counter()  # error -> fallbacks made (tests, the demo)


class SlackApiFailure(RuntimeError):
    def __init__(self, method: str, error: str, status: int | None = None) -> None:
        super().__init__(f"Slack {method} failed: {error}" + (f" (HTTP {status})" if status else ""))
        self.method = method
        self.error = error
        self.status = status


# -------------------------------------------------------------------------------------------------
# The Web API client
# -------------------------------------------------------------------------------------------------
def _rate_limit_handler(max_retries: int, max_wait: float) -> Any:
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    from shared.notify.slack import TIMEOUT_SECONDS, remaining, retry_after

    class Bounded(RateLimitErrorRetryHandler):
        """slack_sdk's handler, waiting only when Retry-After fits the budget and the invocation."""

        def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
            if response is None or response.status_code != 429:
                return False
            wait = retry_after(response.headers)
            left = remaining()
            return wait <= max_wait and (left is None or wait + TIMEOUT_SECONDS < left)

    return Bounded(max_retry_count=max_retries)


def web_client(app: SlackApp, timeout: int = 10, *, max_retries: int = 2, max_wait: float = 20.0) -> Any:
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

    logger = logging.Logger("shared.notify.slack_app.sdk", logging.WARNING)  # the SDK logs requests at debug
    logger.parent = log
    kwargs: dict[str, Any] = {"base_url": app.api_url} if app.api_url else {}
    return WebClient(token=app.token, timeout=timeout, logger=logger, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
        _rate_limit_handler(max_retries, max_wait)], **kwargs)


class SlackApi:
    """chat.postMessage / chat.update with the fallbacks above. `metric(error)` is called per fallback."""

    def __init__(self, app: SlackApp, default_channel: str | None, client: Any = None,
                 metric: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.default = default_channel or app.channel
        self.client = client or web_client(app)
        self.metric = metric or _emit_metric

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError

        try:
            response = getattr(self.client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise SlackApiFailure(method, str(data.get("error") or "error"), exc.response.status_code) from None
        except Exception as exc:
            raise SlackApiFailure(method, f"unreachable: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def post(self, channel: str | None, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        """(channel, ts) of the posted message; falls back as the module says."""
        target = channel or self.default
        if not target:
            raise SlackApiFailure("chat.postMessage", "no channel: set ECS_AUTOPSY_SLACK_CHANNEL or the secret's channel")
        try:
            data = self._call("chat.postMessage", channel=target, thread_ts=thread_ts, **payload)
            return str(data.get("channel") or target), str(data["ts"])
        except SlackApiFailure as exc:
            if exc.error not in FALLBACK_ERRORS:
                raise
            return self._fallback(target, payload, exc)

    def _fallback(self, target: str, payload: dict[str, Any], exc: SlackApiFailure) -> tuple[str, str]:
        FALLBACKS[exc.error] += 1
        self.metric(exc.error)
        note = f":warning: ecs-autopsy could not post to `{target}` ({exc.error}); posting here instead."
        log.error("Slack refused the post to %s (%s): falling back", target, exc.error)
        noted = dict(payload)
        noted["blocks"] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": note, "verbatim": True}]},
                           *(payload.get("blocks") or [])][:50]
        if exc.error not in TOKEN_ERRORS and self.default and target != self.default:
            try:
                data = self._call("chat.postMessage", channel=self.default, **noted)
                return str(data.get("channel") or self.default), str(data["ts"])
            except SlackApiFailure as again:
                log.error("the default channel %s refused it too (%s)", self.default, again.error)
                if again.error not in FALLBACK_ERRORS:
                    raise
        if self.app.webhook_url:
            from shared.notify.slack import post as webhook_post

            webhook_post(self.app.webhook_url, noted)
            return "webhook", ""  # no ts: the thread cannot continue there
        raise exc

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> bool:
        """Edit a message; a refusal is logged and counted, never raised (the post itself went out)."""
        try:
            self._call("chat.update", channel=channel, ts=ts, **payload)
            return True
        except SlackApiFailure as exc:
            log.warning("chat.update of %s in %s failed: %s", ts, channel, exc.error)
            self.metric(f"update:{exc.error}")
            return False


def _emit_metric(error: str) -> None:
    try:
        import os

        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name="SlackFallbacks", unit=MetricUnit.Count, value=1,
                           namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EcsAutopsy")) as m:
            m.add_dimension(name="error", value=error[:100])
    except Exception as exc:  # a metric must not cost the alert
        log.warning("could not emit the SlackFallbacks metric: %s", type(exc).__name__)


# -------------------------------------------------------------------------------------------------
# Incidents
# -------------------------------------------------------------------------------------------------
def service_key(f: Finding) -> str:
    t = f.task
    d = f.deployment
    service = (d.service if d and d.service else None) or t.service or t.group or "-"
    cluster = (d.cluster if d and d.cluster else None) or t.cluster or "-"
    return f"{t.account or '-'}/{t.region or '-'}/{cluster}/{service}"


def incident_id(f: Finding, occurrence: Occurrence | None) -> str:
    """The service and fingerprint within the noise window; a deploy-level finding: its deployment."""
    if f.deployment is not None and f.deployment.deployment_id:
        return f"deploy#{service_key(f)}#{f.deployment.deployment_id}"
    start = int(occurrence.window_start) if occurrence and occurrence.window_start else 0
    return f"fp#{f.fingerprint}#{start}"


@dataclass
class ThreadPoster:
    api: SlackApi
    store: ThreadStore
    clock: Callable[[], float] = time.time

    def deliver(self, f: Finding, occurrence: Occurrence | None, route: Route, did: str) -> str:
        now = self.clock()
        key = incident_id(f, occurrence)
        if f.scope == "deployment":
            opened = self.store.open_get(service_key(f))
            if opened:  # the crash loop that failed this deployment has a thread: the summary goes there
                key = max(opened, key=lambda k: opened[k])
        add = 1  # the thread counts tasks: a deploy-level finding adds none to a crash loop's thread,
        if f.deployment is not None:  # and its stopped tasks to a thread of its own
            add = 0 if not key.startswith("deploy#") else max(f.deployment.tasks_stopped, 1)
        touch = self.store.touch(thread_key(key), did, int(now), f.pattern, service_key(f), add)
        if not touch.retry and touch.after.get("status") == "resolved":  # recovered, failing again: new incident
            key = f"{key}#{touch.after.get('resolved_at')}"
            touch = self.store.touch(thread_key(key), did, int(now), f.pattern, service_key(f), add)
        tkey = thread_key(key)
        item = touch.after
        sent: list[str] = []

        if item.get("claim") == did and not item.get("ts"):
            if touch.retry and (item.get("posted") or {}).get("parent") not in (None, did):
                return Skipped("parent already posted")
            if self.store.mark(tkey, "parent", did, expect=did):
                payload = parent_payload(f, item, route, now)
                posted_in, posted_ts = self.api.post(route.channel, payload)
                self.store.put(tkey, {"ts": posted_ts, "channel": posted_in,
                                      "task_definition": f.task.task_definition or "",
                                      "title": f.title[:300], "parent": stored_parent(payload)})
                self.store.mark(tkey, "parent", posted_ts or "webhook", expect=did)
                detail = detail_payload(f)
                if not posted_ts:  # fell back to the webhook: no thread, so the details follow as a message
                    if detail is not None and self.api.app.webhook_url:
                        from shared.notify.slack import post as webhook_post

                        webhook_post(self.api.app.webhook_url, detail)
                    return "parent (webhook)"
                self.store.open_add(service_key(f), key, int(now))
                if detail is not None and self.store.mark(tkey, "detail", did, expect=did):
                    _, reply_ts = self.api.post(posted_in, detail, thread_ts=posted_ts)
                    self.store.mark(tkey, "detail", reply_ts or "webhook", expect=did)
                return f"parent {posted_ts}, detail"
        ts, channel = item.get("ts"), item.get("channel")
        if not ts or not channel or channel == "webhook":  # ts and channel are stored together
            return Skipped(f"counted ({touch.count}); the parent is not posted yet")

        for marker, payload in self._replies(f, touch, did):
            posted = (item.get("posted") or {}).get(marker)
            if posted is not None and posted != did:
                continue
            if self.store.mark(tkey, marker, did, expect=did):
                _, reply_ts = self.api.post(channel, payload, thread_ts=str(ts))
                self.store.mark(tkey, marker, reply_ts or "webhook", expect=did)
                sent.append(marker)
        # Who updates the parent is decided by a conditional write, skipped (no call) while the item
        # read back by the count says the last update is less than UPDATE_GAP old. The claim is stamped
        # with the clock read just before it, not the one read when this delivery began: the replies
        # posted above take a variable time, and a stamp taken before them would let two updates reach
        # Slack closer together than UPDATE_GAP.
        at = self.clock()
        if not touch.retry and float(item.get("updated_at") or 0) <= at - UPDATE_GAP:
            fresh = self.store.claim_update(tkey, at)
            if fresh is not None:
                self.api.update(channel, str(ts), with_status(fresh, at))
                sent.append("update")
        return ", ".join(sent) if sent else Skipped(f"counted ({touch.count}); the parent shows it")

    def _replies(self, f: Finding, touch: Touch, did: str) -> list[tuple[str, dict[str, Any]]]:
        from shared.render.slack import render_slack

        out: list[tuple[str, dict[str, Any]]] = []
        if touch.retry and touch.after.get("claim") == did:  # the parent's details, if its post was cut short
            detail = detail_payload(f)
            if detail is not None:
                out.append(("detail", detail))
        if f.scope == "deployment" and f.deployment is not None:
            out.append((f"deploy:{f.deployment.deployment_id}:{f.deployment.event_name}", render_slack(f)))
        elif touch.new_cause(f.pattern) or (touch.retry and f"cause:{f.pattern}" in (touch.after.get("posted") or {})):
            out.append((f"cause:{f.pattern}", _titled(render_slack(f), "New cause in this incident")))
        n = touch.count
        for threshold in REPLY_COUNTS:
            if n == threshold or (touch.retry and f"count:{threshold}" in (touch.after.get("posted") or {})):
                out.append((f"count:{threshold}", count_reply(touch.after, threshold)))
        return out

    def recover(self, service: str, reason: str, token: str, *, opened: dict[str, Any] | None = None,
                revision_note: Callable[[dict[str, Any]], str] | None = None) -> list[str]:
        """Reply "recovered" in the thread of each open incident of the service and mark it resolved.

        `token` (the event id) claims the reply: a retry of the same event may finish it, a duplicate
        event (another id) never posts a second one."""
        now = self.clock()
        out: list[str] = []
        for key in sorted(self.store.open_get(service) if opened is None else opened):
            tkey = thread_key(key)
            item = self.store.resolve(tkey, int(now)) or self.store.get(tkey) or {}
            if item.get("ts") and item.get("channel") != "webhook" \
                    and self.store.mark(tkey, "recovered", token, expect=token):
                note = revision_note(item) if revision_note else ""
                _, reply_ts = self.api.post(str(item.get("channel")), recovery_reply(item, now, reason, note),
                                            thread_ts=str(item["ts"]))
                self.store.mark(tkey, "recovered", reply_ts or "webhook", expect=token)
                self.api.update(str(item["channel"]), str(item["ts"]), with_status(item, now))
                out.append(key)
            self.store.open_remove(service, key)
        return out


# -------------------------------------------------------------------------------------------------
# Payloads
# -------------------------------------------------------------------------------------------------
def _when(epoch: float | int | None) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(float(epoch))) if epoch else "-"


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{max(0, int(seconds))} s"
    m = round(seconds / 60)
    return f"{m} min" if m < 120 else f"{m // 60} h {m % 60} min"


def status_line(item: dict[str, Any], now: float) -> str:
    n = int(item.get("count", 0))
    tasks = f"{n} task{'s' if n != 1 else ''}"
    if item.get("status") == "resolved":
        took = _minutes(float(item.get("resolved_at", now)) - float(item.get("first_seen", now)))
        return f":white_check_mark: *Recovered* after {took} · {tasks} failed · last failure {_when(item.get('last_seen'))}"
    return (f":rotating_light: *Failing* · {tasks} so far · first seen {_when(item.get('first_seen'))} · "
            f"last seen {_when(item.get('last_seen'))}")


def _status_block(item: dict[str, Any], now: float) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": status_line(item, now), "verbatim": True}]}


def parent_payload(f: Finding, item: dict[str, Any], route: Route, now: float) -> dict[str, Any]:
    """The incident's first message: the finding, a status line, the route's mentions (validated ids only)."""
    from shared.notify.channels import minimal_payload
    from shared.render.slack import render_slack, validate

    payload = render_slack(f, threaded=True)
    if validate(payload):
        payload = minimal_payload(f)
    blocks = list(payload.get("blocks") or [{"type": "section", "text": {"type": "mrkdwn", "text": payload["text"],
                                                                         "verbatim": True}}])
    blocks.insert(1, _status_block(item, now))
    if route.mention:  # only tokens parse_mentions validated; never text from the finding
        blocks.insert(2, {"type": "section", "text": {"type": "mrkdwn", "text": "cc " + route.mention_text(),
                                                      "verbatim": True}})
        payload["text"] = f"{route.mention_text()} {payload['text']}"
    payload["blocks"] = blocks[:50]
    return payload


def detail_payload(f: Finding) -> dict[str, Any] | None:
    """The first reply in an incident's thread: the evidence, every fix step and the log excerpt (None when
    Slack would refuse it; the parent and the SNS message still carry the finding)."""
    from shared.render.slack import render_slack_detail, validate

    payload = render_slack_detail(f)
    problems = validate(payload)
    if problems:
        log.warning("the details reply is not posted: %s", "; ".join(problems)[:300])
        return None
    return payload


PARENT_MAX = 12_000  # characters of the parent payload kept in the item (its first blocks when larger)


def stored_parent(payload: dict[str, Any]) -> str:
    import json

    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    blocks = list(payload.get("blocks") or [])
    while len(text) > PARENT_MAX and len(blocks) > 2:
        blocks = blocks[:-1]
        text = json.dumps({**payload, "blocks": blocks}, ensure_ascii=False, separators=(",", ":"))
    return text


def with_status(item: dict[str, Any], now: float) -> dict[str, Any]:
    """The parent as posted, its status line (block 1) replaced: count, last seen, failing/recovered."""
    import json

    from shared.render.slack import mrkdwn, plain

    try:
        payload = json.loads(str(item.get("parent") or ""))
        blocks = list(payload["blocks"])
    except (ValueError, KeyError, TypeError):  # not stored (an old item): the title and the status
        title = str(item.get("title") or "ECS failure")
        payload = {"text": mrkdwn(title)}
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": plain(title, 150), "emoji": True}}, {}]
    blocks[1] = _status_block(item, now)
    payload["blocks"] = blocks
    return payload


def count_reply(item: dict[str, Any], n: int) -> dict[str, Any]:
    text = f":repeat: Still happening: {n} tasks so far (last seen {_when(item.get('last_seen'))})."
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]}


def recovery_reply(item: dict[str, Any], now: float, reason: str, revision: str = "") -> dict[str, Any]:
    from shared.render.slack import mrkdwn

    n = int(item.get("count", 0))
    took = _minutes(now - float(item.get("first_seen", now)))
    text = f":white_check_mark: Recovered after {took}; {n} task{'s' if n != 1 else ''} failed"
    if revision:
        text += f"; {mrkdwn(revision)}"
    text += f". ({mrkdwn(reason)})"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]}


def _titled(payload: dict[str, Any], label: str) -> dict[str, Any]:
    payload = dict(payload)
    payload["text"] = f"{label}: {payload.get('text', '')}"[:3000]
    return payload
