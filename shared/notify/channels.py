"""The delivery channels: each renders a Finding and sends it, and raises when it could not.

- `sns`     the finding JSON to the topic, every task (machines: filter policies, tickets, dashboards)
- `chatbot` the Chatbot custom notification to the same topic (human: noise-controlled)
- `slack`   the Block Kit message to the incoming webhook (human: noise-controlled), or, when the
            secret holds a bot token (app mode, see slack_app.py), one thread per incident in the
            channel the service's tags route it to, with a live count and a recovery reply

A `Router` (routing.py, ECS resource tags) is optional: with one, SNS messages carry the `team` and
`slack_channel` attributes, and Slack honours the route's channel, mentions, min-severity and mute.

Heavy imports (boto3, slack_sdk, powertools) happen in `send`, not at import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

from shared.models.finding import Finding
from shared.render.channels import Occurrence
from shared.settings import Settings

log = logging.getLogger(__name__)


class Skipped(str):
    """A receipt meaning nothing was sent (the delivery reports the channel as skipped)."""


class Channel(Protocol):
    name: str
    human: bool  # subject to noise control and the expected-stop rule

    def send(self, finding: Finding, occurrence: Occurrence | None) -> str:
        """Deliver; return a short receipt (message id, "ok"); raise on failure."""
        ...


class UpdatingChannel(Channel, Protocol):
    """A channel that says when a finding updates an earlier one of the same task (`marks_updates`)."""

    marks_updates: bool

    def send(self, finding: Finding, occurrence: Occurrence | None, supersedes: str | None = None) -> str:
        ...


def marks_updates(ch: Channel) -> TypeGuard[UpdatingChannel]:
    return bool(getattr(ch, "marks_updates", False))


@dataclass
class SnsChannel:
    topic_arn: str
    client: Any = None
    name: str = "sns"
    human: bool = False
    marks_updates: bool = True  # a finding that changes an earlier one of the same task says so
    router: Any = None  # routing.Router: adds the team and slack_channel attributes

    def send(self, finding: Finding, occurrence: Occurrence | None = None, supersedes: str | None = None) -> str:
        """`supersedes`: the fingerprint of the earlier finding of this task that this one updates (a later
        STOPPED event changed the diagnosis); sent as the `supersedes` message attribute."""
        from shared.render.sns import SNS_MAX_BYTES, render_sns

        if not supersedes:
            return _publish(self.client, self.topic_arn, _routed(render_sns(finding).request(), finding, self.router))
        request = _routed(render_sns(finding, SNS_MAX_BYTES - 64).request(), finding, self.router)
        return _publish(self.client, self.topic_arn, _superseding(request, supersedes))


SNS_MAX_ATTRIBUTES = 10  # more are discarded by raw-delivery SQS subscriptions


def _routed(request: dict[str, Any], finding: Finding, router: Any) -> dict[str, Any]:
    """The request with the route's `team` and `slack_channel` attributes; to stay within 10 attributes
    `fingerprint` (also in the body, never a filter) makes room first."""
    if router is None:
        return request
    attrs = request["MessageAttributes"]
    extra = router.route(finding).attributes()
    if extra and len(attrs) + len(extra) > SNS_MAX_ATTRIBUTES:
        attrs.pop("fingerprint", None)
    for k, v in extra.items():
        if len(attrs) < SNS_MAX_ATTRIBUTES:
            attrs[k] = {"DataType": "String", "StringValue": v}
    return request


def _superseding(request: dict[str, Any], supersedes: str) -> dict[str, Any]:
    """The `supersedes` attribute (a subscriber closes or updates what it opened for the earlier finding);
    within 10 attributes, `fingerprint` (also in the body), then `slack_channel` (team routes too) make room."""
    attrs = request["MessageAttributes"]
    for spare in ("fingerprint", "slack_channel"):
        if len(attrs) < SNS_MAX_ATTRIBUTES:
            break
        attrs.pop(spare, None)
    attrs["supersedes"] = {"DataType": "String", "StringValue": supersedes}
    return request


@dataclass
class ChatbotChannel:
    topic_arn: str
    client: Any = None
    name: str = "chatbot"
    human: bool = True
    router: Any = None

    def send(self, finding: Finding, occurrence: Occurrence | None = None) -> str:
        from shared.render.sns import render_chatbot_publish

        return _publish(self.client, self.topic_arn,
                        _routed(render_chatbot_publish(finding, occurrence).request(), finding, self.router))


def _publish(client: Any, topic_arn: str, request: dict[str, Any]) -> str:
    if client is None:
        from shared.notify.aws import client as aws_client

        client = aws_client("sns")
    return str(client.publish(TopicArn=topic_arn, **request)["MessageId"])


@dataclass
class SlackChannel:
    """Posts to the webhook named by a secret (or given directly, e.g. a local receiver in a demo)."""

    secret_id: str | None = None
    url: str | None = None
    secrets_client: Any = None
    retry: Any = None  # a slack_sdk RetryHandler; default: BoundedRetryHandler()
    name: str = "slack"
    human: bool = True
    _timeout: int = field(default=10, repr=False)
    # App mode (the secret holds a bot token):
    router: Any = None  # routing.Router; None: the default route
    threads: Any = None  # threads.ThreadStore; None: process memory
    default_channel: str | None = None  # overrides the secret's "channel"
    web_client: Any = None  # a slack_sdk WebClient (tests); default: built from the secret
    _poster: Any = field(default=None, repr=False)
    _app: Any = field(default=None, repr=False)

    def _url(self, refresh: bool = False) -> str:
        if self.url:
            return self.url
        if not self.secret_id:
            raise ValueError("SlackChannel needs a secret_id or a url")
        from shared.notify.secrets import webhook_url

        return webhook_url(self.secret_id, client=self.secrets_client, refresh=refresh)

    def _credentials(self) -> Any:
        if self.url:
            return None
        if not self.secret_id:
            raise ValueError("SlackChannel needs a secret_id or a url")
        from shared.notify.secrets import SlackApp, slack_credentials

        creds = slack_credentials(self.secret_id, client=self.secrets_client)
        return creds if isinstance(creds, SlackApp) else None

    def _thread_poster(self, app: Any) -> Any:
        if self._poster is None or self._app != app:
            from shared.notify.slack_app import SlackApi, ThreadPoster
            from shared.notify.threads import MemoryThreads

            api = SlackApi(app, self.default_channel or app.channel, self.web_client)
            self._poster = ThreadPoster(api, self.threads if self.threads is not None else MemoryThreads())
            self._app = app
        return self._poster

    def _route(self, finding: Finding) -> Any:
        from shared.notify.routing import Route

        return self.router.route(finding) if self.router is not None else Route(self.default_channel)

    def observe(self, finding: Finding, occurrence: Occurrence | None = None) -> str:
        """An occurrence noise control does not post: app mode still counts it in the thread (and may
        update the parent or reply); webhook mode sends nothing."""
        from shared.notify.secrets import WebhookSecretError

        try:
            app = self._credentials()
        except WebhookSecretError as exc:  # nothing was to be posted: the posts that are will fail and retry
            log.warning("Slack secret unreadable; occurrence not counted in a thread: %s", exc)
            return Skipped("the Slack secret could not be read")
        if app is None:
            return Skipped("webhook mode: not posted")
        return self._send_app(app, finding, occurrence)

    def _send_app(self, app: Any, finding: Finding, occurrence: Occurrence | None) -> str:
        from shared.notify.delivery import delivery_id

        route = self._route(finding)
        if route.muted():
            return Skipped(f"muted ({route.source})")
        if not route.wants(finding.severity):
            return Skipped(f"{finding.severity} is below the route's min-severity {route.min_severity}")
        return self._thread_poster(app).deliver(finding, occurrence, route, delivery_id(finding))

    def send(self, finding: Finding, occurrence: Occurrence | None = None) -> str:
        from shared.notify.slack import GONE, SlackDeliveryError, post
        from shared.render.slack import render_slack, validate

        app = self._credentials()
        if app is not None:
            return self._send_app(app, finding, occurrence)
        if self.router is not None:
            route = self.router.route(finding)
            if route.muted() or not route.wants(finding.severity):
                return Skipped("muted or below the route's min-severity")

        payload = render_slack(finding, occurrence)
        problems = validate(payload)
        if problems:  # a renderer bug must not cost the alert: send the minimal form
            log.error("Slack payload failed validation (%s); sending the minimal message", "; ".join(problems[:5]))
            payload = minimal_payload(finding, occurrence)
        url = self._url()
        try:
            return post(url, payload, timeout=self._timeout, handler=self._handler())
        except SlackDeliveryError as exc:
            if exc.status == 400 and payload.get("blocks"):
                log.error("Slack rejected the Block Kit message (%s); sending the minimal message", exc.body)
                return post(url, minimal_payload(finding, occurrence), timeout=self._timeout, handler=self._handler())
            if exc.status in GONE and self.secret_id and not self.url:
                fresh = self._url(refresh=True)
                if fresh != url:
                    log.warning("Slack answered %s; the webhook secret changed, posting to the new webhook", exc.status)
                    return post(fresh, payload, timeout=self._timeout, handler=self._handler())
            raise

    def _handler(self) -> Any:
        if self.retry is not None:
            return self.retry
        from shared.notify.slack import BoundedRetryHandler

        return BoundedRetryHandler()


def minimal_payload(finding: Finding, occurrence: Occurrence | None = None) -> dict[str, Any]:
    """Text only: what the team must see even when Block Kit is refused."""
    from shared.render.slack import defang, fallback_text, link, mrkdwn

    finding = defang(finding)
    lines = [f"*{fallback_text(finding, occurrence)}*", mrkdwn(finding.summary)[:1500]]
    links = [link(finding.links.task, "Task"), link(finding.links.log_stream, "Log stream")]
    lines.extend(x for x in links if x)
    return {"text": "\n".join(lines), "unfurl_links": False, "unfurl_media": False}


def from_settings(settings: Settings, *, sns_client: Any = None, secrets_client: Any = None,
                  ecs_clients: Any = None, threads: Any = None) -> list[Channel]:
    """The channels the environment configures, in delivery order (machines first).

    `ecs_clients` (a shared.aws.Clients) reads the routing tags when settings.route_by_tags;
    `threads` keeps the Slack threads (app mode; default: process memory)."""
    router = None
    if settings.route_by_tags or settings.slack_channel:
        from shared.notify.routing import Route, Router, parse_mentions

        default = Route(settings.slack_channel, parse_mentions(settings.slack_mention, "configured"),
                        settings.slack_min_severity)
        router = Router(default, ecs_clients if settings.route_by_tags else None)
    channels: list[Channel] = []
    if settings.topic_arn:
        channels.append(SnsChannel(settings.topic_arn, sns_client, router=router))
        if settings.chatbot_format:
            channels.append(ChatbotChannel(settings.topic_arn, sns_client, router=router))
    if settings.slack_secret_id:
        channels.append(SlackChannel(secret_id=settings.slack_secret_id, secrets_client=secrets_client,
                                     router=router, threads=threads, default_channel=settings.slack_channel))
    return channels
