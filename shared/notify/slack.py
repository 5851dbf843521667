"""Posting to a Slack incoming webhook with slack_sdk's WebhookClient and a bounded retry budget.

slack_sdk's stock handlers do not fit a Lambda: RateLimitErrorRetryHandler sleeps whatever
Retry-After says (and fails on an HTTP-date), ServerErrorRetryHandler retries only 500 and 503.
`BoundedRetryHandler` retries 429 (honouring Retry-After, seconds or HTTP-date), every 5xx and
connection errors, at most `max_retries` times and never sleeping more than `max_wait` seconds in
total: a Retry-After beyond the budget fails now, and the invocation's retry/DLQ path keeps the
finding.

slack_sdk logs the webhook URL (debug, and info on connection retries): the client gets its own
logger at WARNING with a filter that removes the URL from anything it still logs.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from shared.notify.deadline import remaining

log = logging.getLogger(__name__)

MAX_RETRIES = 3
MAX_WAIT_SECONDS = 20.0
TIMEOUT_SECONDS = 10
GONE = (403, 404, 410)  # revoked webhook, deleted channel or app: maybe a rotated secret


class SlackDeliveryError(RuntimeError):
    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class BoundedRetryHandler(RetryHandler):
    def __init__(self, max_retries: int = MAX_RETRIES, max_wait: float = MAX_WAIT_SECONDS, base_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(max_retry_count=max_retries)
        self.max_wait = max_wait
        self.base_delay = base_delay
        self.sleep = sleep
        self.gave_up: str | None = None

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        values = _values(state)
        wait = self.wait_for(state.current_attempt, response, error)
        if wait is None:
            return False
        if values["waited"] + wait > self.max_wait:
            self.gave_up = (f"not retried: waiting {wait:.0f} s more would exceed the retry budget "
                            f"of {self.max_wait:.0f} s")
            return False
        left = remaining()
        if left is not None and wait + TIMEOUT_SECONDS > left:
            self.gave_up = f"not retried: the invocation has {max(left, 0):.0f} s left"
            return False
        values["next_wait"] = wait
        return True

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        values = _values(state)
        wait = values.pop("next_wait", 0.0)
        status = response.status_code if response is not None else type(error).__name__
        log.warning("Slack answered %s; retry %d in %.1f s", status, state.current_attempt + 1, wait)
        self.sleep(wait)
        values["waited"] += wait
        state.next_attempt_requested = True
        state.increment_current_attempt()

    def wait_for(self, attempt: int, response: HttpResponse | None, error: Exception | None) -> float | None:
        if response is not None:
            if response.status_code == 429:
                return retry_after(response.headers)
            if 500 <= response.status_code <= 599:
                return self.base_delay * (2 ** attempt) + random.uniform(0, self.base_delay / 2)
            return None
        if error is not None and _is_connection_error(error):
            return self.base_delay * (2 ** attempt)
        return None


def _values(state: RetryState) -> dict[str, Any]:
    if state.custom_values is None:
        state.custom_values = {}
    state.custom_values.setdefault("waited", 0.0)
    return state.custom_values


def retry_after(headers: dict[str, Any], default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    raw: Any = None
    for k, v in headers.items():
        if k.lower() == "retry-after":
            raw = v[0] if isinstance(v, list | tuple) and v else v
            break
    if raw is None:
        return default
    text = str(raw).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _is_connection_error(error: Exception) -> bool:
    from http.client import RemoteDisconnected
    from urllib.error import HTTPError, URLError

    if isinstance(error, HTTPError):
        return False
    return isinstance(error, URLError | ConnectionError | TimeoutError | RemoteDisconnected)


class _HideUrl(logging.Filter):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.url in message:
            record.msg = message.replace(self.url, "<slack webhook>")
            record.args = ()
        return True


def _sdk_logger(url: str) -> logging.Logger:
    logger = logging.Logger("shared.notify.slack.sdk", logging.WARNING)  # not registered: one per client
    logger.parent = log
    logger.addFilter(_HideUrl(url))
    return logger


def post(url: str, payload: dict[str, Any], *, timeout: int = TIMEOUT_SECONDS,
         handler: RetryHandler | None = None) -> str:
    """POST the payload; returns Slack's answer ("ok") or raises SlackDeliveryError (URL-free message)."""
    handler = handler or BoundedRetryHandler()
    left = remaining()
    if left is not None:
        if left < 1:
            raise SlackDeliveryError("Slack post not attempted: the invocation is out of time")
        timeout = max(1, min(timeout, int(left)))
    client = WebhookClient(url=url, timeout=timeout, logger=_sdk_logger(url), retry_handlers=[handler])
    try:
        response = client.send_dict(payload)
    except Exception as exc:
        message = str(exc).replace(url, "<slack webhook>")
        raise SlackDeliveryError(f"Slack webhook unreachable: {type(exc).__name__}: {message}") from None
    body = (response.body or "")[:300].replace(url, "<slack webhook>")
    if response.status_code == 200:
        return body or "ok"
    note = getattr(handler, "gave_up", None)
    raise SlackDeliveryError(f"Slack answered {response.status_code}: {body or '(empty)'}" + (f" ({note})" if note else ""),
                             status=response.status_code, body=body)
