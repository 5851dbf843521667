"""The delivery channels: each renders a Finding and sends it, and raises when it could not.

- `sns`     the finding JSON to the topic, every task (machines: filter policies, tickets, dashboards)
- `chatbot` the Chatbot custom notification to the same topic (human: noise-controlled)
- `slack`   the Block Kit message to the incoming webhook (human: noise-controlled)

Heavy imports (boto3, slack_sdk, powertools) happen in `send`, not at import.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.models.finding import Finding
from shared.render.channels import Occurrence
from shared.settings import Settings

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str
    human: bool  # subject to noise control and the expected-stop rule

    def send(self, finding: Finding, occurrence: Occurrence | None) -> str:
        """Deliver; return a short receipt (message id, "ok"); raise on failure."""
        ...


@dataclass
class SnsChannel:
    topic_arn: str
    client: Any = None
    name: str = "sns"
    human: bool = False
    marks_updates: bool = True  # a finding that changes an earlier one of the same task says so

    def send(self, finding: Finding, occurrence: Occurrence | None = None, supersedes: str | None = None) -> str:
        """`supersedes`: the fingerprint of the earlier finding of this task that this one updates (a later
        STOPPED event changed the diagnosis); sent as the `supersedes` message attribute."""
        from shared.render.sns import SNS_MAX_BYTES, render_sns

        if not supersedes:
            return _publish(self.client, self.topic_arn, render_sns(finding).request())
        message = render_sns(finding, SNS_MAX_BYTES - 64)
        message.attributes["supersedes"] = supersedes
        return _publish(self.client, self.topic_arn, message.request())


@dataclass
class ChatbotChannel:
    topic_arn: str
    client: Any = None
    name: str = "chatbot"
    human: bool = True

    def send(self, finding: Finding, occurrence: Occurrence | None = None) -> str:
        from shared.render.sns import render_chatbot_publish

        return _publish(self.client, self.topic_arn, render_chatbot_publish(finding, occurrence).request())


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

    def _url(self, refresh: bool = False) -> str:
        if self.url:
            return self.url
        if not self.secret_id:
            raise ValueError("SlackChannel needs a secret_id or a url")
        from shared.notify.secrets import webhook_url

        return webhook_url(self.secret_id, client=self.secrets_client, refresh=refresh)

    def send(self, finding: Finding, occurrence: Occurrence | None = None) -> str:
        from shared.notify.slack import GONE, SlackDeliveryError, post
        from shared.render.slack import render_slack, validate

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


def from_settings(settings: Settings, *, sns_client: Any = None, secrets_client: Any = None) -> list[Channel]:
    """The channels the environment configures, in delivery order (machines first)."""
    channels: list[Channel] = []
    if settings.topic_arn:
        channels.append(SnsChannel(settings.topic_arn, sns_client))
        if settings.chatbot_format:
            channels.append(ChatbotChannel(settings.topic_arn, sns_client))
    if settings.slack_secret_id:
        channels.append(SlackChannel(secret_id=settings.slack_secret_id, secrets_client=secrets_client))
    return channels
