"""Failures of evidence reads, turned into `gaps`: one readable sentence, never an exception.

Every failure is classified (`classify`) into one kind:

- ``denied``: AWS refused the call (IAM, expired or missing credentials);
- ``throttled``: AWS throttled it, after botocore's retries;
- ``missing``: the thing is not there (task expired, log stream gone, unknown resource);
- ``unreachable``: no connection (refused, DNS, proxy, a closed connection, AWS 5xx);
- ``timeout``: AWS did not answer in time, or the invocation's evidence budget was spent;
- ``bug``: an error of ecs-autopsy's own code (ImportError, TypeError, ...): logged with its
  traceback and reported as such, never as missing evidence.

A fetcher raises `Gap` when it knows what went wrong in its own terms (task expired, log stream
gone; kind ``missing`` unless it says otherwise). `guarded` returns the gap as a `GapText`: a
``str`` (existing call sites keep working) that also carries ``.kind``. Classification goes by
error code or class name, so this module needs no botocore import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, TypeVar, get_args

from shared.aws import error_code, error_message, evidence_read, time_left

log = logging.getLogger(__name__)
T = TypeVar("T")

Kind = Literal["denied", "throttled", "missing", "unreachable", "timeout", "bug"]
KINDS: tuple[str, ...] = get_args(Kind)

THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                       "RequestThrottled", "RequestThrottledException", "SlowDown", "PriorRequestNotComplete",
                       "ProvisionedThroughputExceededException", "LimitExceededException"})
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                    "UnauthorizedException", "UnrecognizedClientException", "InvalidClientTokenId",
                    "ExpiredToken", "ExpiredTokenException", "AuthFailure", "SignatureDoesNotMatch",
                    "IncompleteSignature", "MissingAuthenticationToken", "OptInRequired"})
NOT_FOUND = frozenset({"ResourceNotFoundException", "ClusterNotFoundException", "ServiceNotFoundException",
                       "TargetGroupNotFound", "LoadBalancerNotFound", "NoSuchEntity", "InvalidSubnetID.NotFound",
                       "InvalidGroup.NotFound", "InvalidVpcID.NotFound", "InvalidRouteTableID.NotFound",
                       "InvalidVpcEndpointId.NotFound"})
# Timeouts: the connection was made (or tried) but no answer came in time.
TIMEOUTS = frozenset({"ConnectTimeoutError", "ReadTimeoutError", "TimeoutError", "ReadTimeout", "ConnectTimeout",
                      "BudgetSpent"})
# No connection at all: refused, DNS failure, proxy, connection dropped.
UNREACHABLE = frozenset({"EndpointConnectionError", "ConnectionClosedError", "ConnectionError",
                         "ProxyConnectionError", "ConnectionRefusedError", "ConnectionResetError",
                         "ConnectionAbortedError", "BrokenPipeError", "SSLError", "HTTPClientError",
                         "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
                         "InternalServerError", "ServerException", "ServiceException"})
NO_CREDENTIALS = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                            "NoRegionError"})
# Errors of our own code: a bug, whatever call raised it.
BUG_TYPES: tuple[type[BaseException], ...] = (ImportError, NameError, TypeError, AttributeError, AssertionError,
                                             LookupError, NotImplementedError, RecursionError, SyntaxError,
                                             UnboundLocalError, ZeroDivisionError)


class Gap(Exception):
    """A read that could not be done; str() is the gap text, `kind` its classification."""

    def __init__(self, text: str, kind: Kind = "missing") -> None:
        super().__init__(text)
        self.kind: Kind = kind


class GapText(str):
    """A gap sentence (a str, as the gaps of Evidence and Finding are) that knows its kind."""

    kind: Kind

    def __new__(cls, text: str, kind: Kind) -> GapText:
        obj = super().__new__(cls, text)
        obj.kind = kind
        return obj

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __add__(self, other: str) -> GapText:  # gap + " more words" keeps the kind
        return GapText(str.__add__(self, other), self.kind)

    def __reduce__(self) -> tuple:
        return (GapText, (self.text, self.kind))


def _codes(exc: BaseException) -> list[str]:
    """The AWS error code (or class name) of exc and the class names of its bases."""
    out = [error_code(exc)]
    out += [c.__name__ for c in type(exc).__mro__]
    return out


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return int(status) if isinstance(status, int) else None
    return None


def classify(exc: BaseException) -> Kind:
    """denied, throttled, missing, unreachable, timeout or bug (see the module docstring)."""
    if isinstance(exc, Gap):
        return exc.kind
    code = error_code(exc)
    # An AWS error answer first: its code is the most precise word.
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and (response.get("Error") or {}).get("Code"):
        if code in THROTTLED:
            return "throttled"
        if code in DENIED:
            return "denied"
        if code in NOT_FOUND or code.endswith(("NotFound", "NotFoundException", ".NotFound")):
            return "missing"
        status = _status(exc)
        if code in UNREACHABLE or (status is not None and status >= 500):
            return "unreachable"
        if code in TIMEOUTS or code in ("RequestTimeout", "RequestTimeoutException"):
            return "timeout"
        return "missing"  # any other answer of AWS: the evidence is not there as asked
    names = _codes(exc)
    # Timeouts before unreachable: botocore's ConnectTimeoutError is also an EndpointConnectionError.
    if any(n in TIMEOUTS for n in names[:2]) or isinstance(exc, TimeoutError):
        return "timeout"
    if any(n in NO_CREDENTIALS for n in names):
        return "denied"
    if any(n in UNREACHABLE for n in names) or isinstance(exc, ConnectionError):
        return "unreachable"
    if any(n in TIMEOUTS for n in names):
        return "timeout"
    if isinstance(exc, BUG_TYPES):
        return "bug"
    if type(exc).__module__.startswith(("botocore", "urllib3", "boto3")):
        return "unreachable"  # a transport failure botocore did not name
    return "bug"


def describe(what: str, action: str, exc: BaseException) -> str:
    """One sentence: what was not read, and why (`action` is the IAM action, e.g. logs:GetLogEvents)."""
    return _describe(what, action, exc, classify(exc))


def _describe(what: str, action: str, exc: BaseException, kind: Kind) -> str:
    if isinstance(exc, Gap):
        return str(exc)
    code = error_code(exc)
    if kind == "throttled":
        return f"{what}: not read, AWS throttled {action} ({code}) after retries."
    if kind == "denied":
        if code in NO_CREDENTIALS:
            return f"{what}: not read, no usable AWS credentials or region ({code})."
        return f"{what}: not read, access denied for {action} ({code}): grant it to ecs-autopsy's role."
    if kind == "timeout":
        if code == "BudgetSpent":
            return f"{what}: not read, the evidence time budget of this invocation ran out ({action})."
        return f"{what}: not read, AWS did not answer in time ({code})."
    if kind == "unreachable":
        return f"{what}: not read, AWS could not be reached for {action} ({code}: {_short(error_message(exc))})."
    if kind == "bug":
        return (f"{what}: not read, ecs-autopsy failed reading it ({code}: {_short(str(exc))}); this is a bug "
                f"in ecs-autopsy, its traceback is in the function's log.")
    if code in NOT_FOUND or getattr(exc, "response", None) is not None:
        return f"{what}: not found ({code}: {_short(error_message(exc))})."
    return f"{what}: not read, {action} failed ({code}: {_short(error_message(exc))})."


def budget_spent_gap(what: str, action: str) -> GapText:
    return GapText(f"{what}: not read, the evidence time budget of this invocation ran out ({action}).", "timeout")


def guarded(what: str, action: str, fn: Callable[..., T], *args: object,
            **kwargs: object) -> tuple[T | None, GapText | None]:
    """(fn(*args), None), or (None, gap) when it raised or the evidence budget is spent.

    The gap is a `GapText`: its text (as before) plus `.kind`. Once the invocation's evidence
    deadline has passed, fn is not called: the gap is of kind "timeout"."""
    left = time_left()
    if left is not None and left <= 0:
        return None, budget_spent_gap(what, action)
    try:
        with evidence_read():
            return fn(*args, **kwargs), None
    except Exception as exc:  # every failure of a read becomes a gap; the diagnosis goes on
        kind = classify(exc)
        if kind == "bug":
            log.error("evidence read failed on a bug: %s (%s)", what, type(exc).__name__, exc_info=exc)
        elif not isinstance(exc, Gap):
            log.warning("evidence read failed: %s (%s, %s)", what, kind, error_code(exc),
                        exc_info=log.isEnabledFor(logging.DEBUG))
        return None, GapText(_describe(what, action, exc, kind), kind)


def guarded_kind(what: str, action: str, fn: Callable[..., T], *args: object,
                 **kwargs: object) -> tuple[T | None, str | None, Kind | None]:
    """Like `guarded`, with the kind separately: (value, gap text, kind)."""
    value, gap = guarded(what, action, fn, *args, **kwargs)
    return value, (gap.text if gap is not None else None), (gap.kind if gap is not None else None)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
