"""The Slack incoming-webhook URL, read from Secrets Manager and cached per warm container.

The secret string is either the URL itself or JSON {"url": ...} / {"webhook_url": ...}.
Powertools Parameters (`SecretsProvider`) does the fetching and the max-age cache (measured: +16 ms
of imports once boto3 is loaded). `refresh=True` skips the cache: used when Slack says the webhook
is gone (403/404/410), in case the secret was rotated.

The URL is a credential: it is never logged and never part of an error message.
"""

from __future__ import annotations

import ipaddress
import json
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
