"""Failures of evidence reads, turned into `gaps`: one readable sentence, never an exception.

A fetcher raises `Gap` when it knows what went wrong in its own terms (task expired, log stream
gone); anything else an AWS call raises is classified here by its error code or class name, so
this module needs no botocore import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from shared.aws import error_code, error_message

log = logging.getLogger(__name__)
T = TypeVar("T")

THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                       "RequestThrottled", "RequestThrottledException", "SlowDown", "PriorRequestNotComplete"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                    "UnauthorizedException", "UnrecognizedClientException", "InvalidClientTokenId",
                    "ExpiredToken", "ExpiredTokenException", "AuthFailure", "SignatureDoesNotMatch"})
NOT_FOUND = frozenset({"ResourceNotFoundException", "ClusterNotFoundException", "ServiceNotFoundException",
                       "TargetGroupNotFound", "LoadBalancerNotFound", "NoSuchEntity", "InvalidSubnetID.NotFound",
                       "InvalidGroup.NotFound", "InvalidVpcID.NotFound"})
TIMEOUTS = frozenset({"ConnectTimeoutError", "ReadTimeoutError", "EndpointConnectionError", "ConnectionClosedError",
                      "ConnectionError", "TimeoutError", "ProxyConnectionError"})
NO_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                            "NoRegionError"})


class Gap(Exception):
    """A read that could not be done; str() is the gap text."""


def describe(what: str, action: str, exc: BaseException) -> str:
    """One sentence: what was not read, and why (`action` is the IAM action, e.g. logs:GetLogEvents)."""
    if isinstance(exc, Gap):
        return str(exc)
    code = error_code(exc)
    if code in THROTTLED:
        return f"{what}: not read, AWS throttled {action} ({code}) after retries."
    if code in DENIED:
        return f"{what}: not read, access denied for {action} ({code}): grant it to ecs-autopsy's role."
    if code in NO_CREDENTIALS:
        return f"{what}: not read, no usable AWS credentials or region ({code})."
    if code in TIMEOUTS:
        return f"{what}: not read, AWS did not answer in time ({code})."
    if code in NOT_FOUND:
        return f"{what}: not found ({code}: {_short(error_message(exc))})."
    return f"{what}: not read, {action} failed ({code}: {_short(error_message(exc))})."


def guarded(what: str, action: str, fn: Callable[..., T], *args: object, **kwargs: object) -> tuple[T | None, str | None]:
    """(fn(*args), None), or (None, gap text) when it raised."""
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:  # every failure of a read becomes a gap; the diagnosis goes on
        if not isinstance(exc, Gap):
            log.warning("evidence read failed: %s (%s)", what, error_code(exc), exc_info=log.isEnabledFor(logging.DEBUG))
        return None, describe(what, action, exc)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
