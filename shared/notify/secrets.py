"""The Slack credentials, read from Secrets Manager and cached per warm container.

Two modes, chosen by what the secret holds (`slack_credentials()` says which):

- webhook mode (unchanged): the secret string is the incoming-webhook URL itself, or JSON
  {"url": ...} / {"webhook_url": ...}. One channel, no threads.
- app mode (threads, live counts, recovery replies, per-team routing): a Slack app's bot token, either
  the bare string `xoxb-...` or JSON
      {"bot_token": "xoxb-...",          # required ("token" is accepted too)
       "channel": "C0123456789",          # default channel; ECS_AUTOPSY_SLACK_CHANNEL overrides it
       "webhook_url": "https://hooks...", # optional: last resort when the token itself is refused
       "api_url": "https://slack.com/api/"}  # optional, https (http only to loopback: the local stand-in)
  The app needs the bot scopes `chat:write` (post and edit its own messages) and `chat:write.public`
  (post in public channels it was not invited to); private channels need the app invited.
Powertools Parameters (`SecretsProvider`) does the fetching and the max-age cache, with the
Secrets Manager client of `shared.notify.aws` (a botocore client). Its module imports boto3, which
nothing else on the Lambda path needs: ~20-25 ms of CPU once per cold start, paid only by a
deployment that posts to Slack (measured on Python 3.12; an SNS-only deployment never imports it).
The project's standard is Powertools for parameters, so that cost is kept. `refresh=True` skips the cache: used when Slack says the webhook
is gone (403/404/410), in case the secret was rotated.

The URL is a credential: it is never logged and never part of an error message.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared.warm import on_reset

CACHE_SECONDS = 300

_providers: dict[int, Any] = {}


class WebhookSecretError(RuntimeError):
    """The secret could not be read, or holds no usable webhook URL (the message never holds the value)."""


def _provider(client: Any = None) -> Any:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    key = id(client)
    if key not in _providers:
        if client is None:
            from shared.notify.aws import client as aws_client

            client = aws_client("secretsmanager")
        _providers[key] = SecretsProvider(boto3_client=client)
    return _providers[key]


@on_reset
def clear_cache() -> None:
    _providers.clear()


def webhook_url(secret_id: str, *, client: Any = None, max_age: int = CACHE_SECONDS, refresh: bool = False) -> str:
    try:
        raw = _provider(client).get(secret_id, max_age=max_age, force_fetch=refresh)
    except Exception as exc:
        raise WebhookSecretError(f"secret {secret_id} could not be read: {type(exc).__name__}: "
                                 f"{_first_line(str(exc))}") from None
    return parse_webhook_secret(raw, secret_id)


@dataclass(frozen=True)
class SlackApp:
    """App-mode credentials (the token is never logged: repr hides it)."""

    token: str = field(repr=False)
    channel: str | None = None
    webhook_url: str | None = field(default=None, repr=False)
    api_url: str | None = None


@dataclass(frozen=True)
class SlackWebhook:
    url: str = field(repr=False)


_TOKEN = re.compile(r"^xox[bp]-[A-Za-z0-9-]{6,}$")
_CHANNEL = re.compile(r"^(#?[a-z0-9._-]{1,80}|[CGD][A-Z0-9]{6,})$")


def slack_credentials(secret_id: str, *, client: Any = None, max_age: int = CACHE_SECONDS,
                      refresh: bool = False) -> SlackApp | SlackWebhook:
    try:
        raw = _provider(client).get(secret_id, max_age=max_age, force_fetch=refresh)
    except Exception as exc:
        raise WebhookSecretError(f"secret {secret_id} could not be read: {type(exc).__name__}: "
                                 f"{_first_line(str(exc))}") from None
    return parse_slack_secret(raw, secret_id)


def parse_slack_secret(raw: str | bytes | dict[str, Any], secret_id: str = "the secret") -> SlackApp | SlackWebhook:
    """The mode and credentials a secret holds (see the module docstring for the formats)."""
    value: Any = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise WebhookSecretError(f"{secret_id} looks like JSON but does not parse") from None
    token = value.strip() if isinstance(value, str) and value.strip().startswith("xox") else None
    if isinstance(value, dict):
        token = value.get("bot_token") or value.get("token") or None
    if token is None:
        return SlackWebhook(parse_webhook_secret(value, secret_id))
    if not isinstance(token, str) or not _TOKEN.match(token.strip()):
        raise WebhookSecretError(f"{secret_id} holds a Slack token that is not a bot token (xoxb-...)")
    extra = value if isinstance(value, dict) else {}
    channel = extra.get("channel")
    if channel is not None and (not isinstance(channel, str) or not _CHANNEL.match(channel)):
        raise WebhookSecretError(f"{secret_id}: \"channel\" must be a channel id (C0123...) or name")
    hook = extra.get("webhook_url") or extra.get("url")
    if hook is not None:
        hook = parse_webhook_secret({"url": hook}, secret_id)
    api = extra.get("api_url")
    if api is not None:
        problem = url_problem(api) if isinstance(api, str) else "not a string"
        if problem:
            raise WebhookSecretError(f"{secret_id}: api_url is not usable: {problem}")
        api = api if api.endswith("/") else api + "/"
    return SlackApp(token.strip(), channel, hook, api)


def parse_webhook_secret(raw: str | bytes | dict[str, Any], secret_id: str = "the secret") -> str:
    value: Any = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise WebhookSecretError(f"{secret_id} looks like JSON but does not parse") from None
    if isinstance(value, dict):
        value = value.get("url") or value.get("webhook_url") or value.get("webhookUrl")
        if not isinstance(value, str):
            raise WebhookSecretError(f'{secret_id} holds JSON without a "url" or "webhook_url" string')
    if not isinstance(value, str):
        raise WebhookSecretError(f"{secret_id} holds no webhook URL")
    url = value.strip()
    problem = url_problem(url)
    if problem:
        raise WebhookSecretError(f"{secret_id} does not hold a usable webhook URL: {problem}")
    return url


def url_problem(url: str) -> str | None:
    """Why `url` is not acceptable as a webhook (https anywhere; plain http only to loopback)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if not parts.hostname:
        return "no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _loopback(parts.hostname):
        return None
    return f"scheme {parts.scheme or 'none'} (https required; http only to a loopback address)"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _first_line(text: str) -> str:
    return text.splitlines()[0][:300] if text else ""
