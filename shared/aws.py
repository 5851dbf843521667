"""AWS clients for the code that reads evidence (and, if it wants, the code that delivers).

One `Clients` per process (per Lambda cold start): each boto3 client is built on first use and
kept, with bounded retries (standard mode, 3 attempts) and short timeouts, so a throttled or
unreachable API costs seconds, not the function's whole budget.

Evidence time budget: `evidence_budget(seconds)` (or `set_evidence_deadline`, which the Lambda
handlers call with the invocation's remaining time minus a reserve) sets a per-invocation deadline
in a contextvar. `shared.evidence.errors.guarded` returns a "timeout" gap instead of reading once
it has passed, and, while a guarded read runs, a ``before-send`` hook stops botocore from sending
another attempt (retry) past it. One attempt can still overrun the deadline by at most
CONNECT_TIMEOUT + READ_TIMEOUT; the reserve covers that and the delivery. Every API call is counted per operation (a botocore
``before-parameter-build`` hook), so tests and benchmarks can assert how many calls a diagnosis made.

Organization hub: when an event comes from another account and ``member_role_name`` is set,
``for_account`` assumes ``arn:<partition>:iam::<account>:role/<name>`` (cached until shortly before
the credentials expire) and returns a `Clients` for that account sharing the same counter.

Clients are botocore clients from one botocore session per `Clients` (per account): its loader
caches the shared data files (endpoints, partitions, retry config) across the clients it builds,
and boto3 is never imported for them. boto3 adds nothing to a client but S3 transfer methods, and
its import (boto3.compat loads s3transfer, boto3.resources) costs a cold start ~20 ms of CPU on
Python 3.12, on top of everything else the first event loads. ``Clients.session``, a boto3 Session over
that same botocore session, is built only for a caller that asks for it (the CLI registers event
hooks on it); a `Clients` given a boto3 session builds its clients from that session.

botocore is imported on first use only: ``import shared.aws`` stays cheap, and ``shared.engine``
never pulls it in. The endpoint comes from the environment: botocore honours ``AWS_ENDPOINT_URL``
(and ``AWS_ENDPOINT_URL_<SERVICE>``) itself.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from shared.warm import on_reset

CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 5.0
MAX_ATTEMPTS = 3  # in all, the first try included
# Standard mode: exponential backoff with jitter, a fixed number of attempts. (Adaptive mode adds a
# client-side rate limiter that may sleep before a send for as long as it sees fit.)
RETRY_MODE = "standard"
# Evidence budget of a diagnosis when no deadline is set by a handler (the CLI): seconds.
DEFAULT_EVIDENCE_BUDGET = 60.0

# Monotonic time after which no evidence is read (None: no deadline).
EVIDENCE_DEADLINE: ContextVar[float | None] = ContextVar("ecs_autopsy_evidence_deadline", default=None)
# True while a guarded evidence read runs (the before-send hook only stops those, never a delivery).
_READING: ContextVar[bool] = ContextVar("ecs_autopsy_evidence_reading", default=False)


class BudgetSpent(Exception):
    """The invocation's evidence time budget ran out before this AWS request (or its retry) was sent."""


def set_evidence_deadline(seconds: float | None) -> Any:
    """Allow evidence reads for `seconds` from now (None: no deadline); returns the contextvar token."""
    return EVIDENCE_DEADLINE.set(None if seconds is None else time.monotonic() + max(0.0, seconds))


@contextmanager
def evidence_budget(seconds: float | None = DEFAULT_EVIDENCE_BUDGET) -> Iterator[None]:
    """Within the block, evidence reads stop `seconds` from now."""
    token = set_evidence_deadline(seconds)
    try:
        yield
    finally:
        EVIDENCE_DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds of evidence budget left (may be negative), or None without a deadline."""
    deadline = EVIDENCE_DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def evidence_read() -> Iterator[None]:
    """Marks an evidence read: its AWS requests are not sent (nor retried) past the deadline."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def _stop_past_deadline(**_: Any) -> None:
    if _READING.get():
        left = time_left()
        if left is not None and left <= 0:
            raise BudgetSpent("the evidence time budget of this invocation is spent")
ROLE_SESSION_NAME = "ecs-autopsy"
_REFRESH_MARGIN = 300.0  # re-assume a member role this many seconds before its credentials expire


def default_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def botocore_config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": RETRY_MODE, "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        user_agent_extra="ecs-autopsy",
    )


def new_botocore_session() -> Any:
    """A botocore Session whose data loader checks that a service exists without listing them all.

    botocore's `Loader.list_available_services` walks every service directory of every search path
    (some 420, a listdir and a stat or two each) for each model type it loads, only for
    `load_service_model` to check that the one service asked for is there: about 18 ms of CPU per
    session on Python 3.12, the slowest step of building the first client. `_Loader` answers that
    membership test for the one service (the same test: a directory of that name holding an API version
    with the model file) and lists every service only for a caller that iterates the list."""
    from botocore.session import Session

    session = Session()
    data_path = session.get_config_variable("data_path")  # AWS_DATA_PATH, as botocore's create_loader reads it
    extra = None if data_path is None else [os.path.expanduser(os.path.expandvars(p))
                                            for p in data_path.split(os.pathsep)]
    loader_class, file_loader_class = _loader_class()
    session.register_component("data_loader", loader_class(extra_search_paths=extra, file_loader=file_loader_class()))
    return session


@functools.cache
def _loader_class() -> tuple[type, type]:
    """(the data loader, its JSON file loader)."""
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import JSONFileLoader, Loader

    class KnownServices(Sequence[str]):
        """The services of one model type: membership tested one service at a time, the sorted list
        (what botocore returns) built only when read."""

        def __init__(self, loader: Any, type_name: str) -> None:
            self._loader = loader
            self._type_name = type_name
            self._all: list[str] | None = None

        def _list(self) -> list[str]:
            if self._all is None:
                self._all = list(Loader.list_available_services(self._loader, self._type_name))
            return self._all

        def __contains__(self, name: object) -> bool:
            if self._all is not None:
                return name in self._all
            if not isinstance(name, str) or not name or name.startswith(".") or os.sep in name or (
                    os.altsep is not None and os.altsep in name):
                return False
            try:
                return bool(self._loader.list_api_versions(name, self._type_name))
            except DataNotFoundError:
                return False

        def __getitem__(self, index: Any) -> Any:
            return self._list()[index]

        def __len__(self) -> int:
            return len(self._list())

        def __iter__(self) -> Iterator[str]:
            return iter(self._list())

        def __eq__(self, other: object) -> bool:
            return self._list() == (list(other) if isinstance(other, Sequence) else other)

        __hash__ = None  # type: ignore[assignment]

        def __repr__(self) -> str:
            return repr(self._list())

    class FastLoader(Loader):
        def list_available_services(self, type_name: str) -> Any:
            known = self._cache.get(("list_available_services", type_name))  # botocore's list, once built
            return known if known is not None else KnownServices(self, type_name)

    class PlainJSONFileLoader(JSONFileLoader):
        """botocore's JSON file loader, decoding into plain dicts (ordered since Python 3.7) rather than
        OrderedDicts: botocore reads its models as mappings only, and the C decoder builds plain dicts
        without calling a hook for each object. The first event's five service models (ECS, CloudWatch
        Logs, DynamoDB, SNS, Secrets Manager, ~2.4 MB of JSON) decode in ~7.5 ms of CPU instead of ~15."""

        def _load_file(self, full_path: str, open_method: Any) -> Any:
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as fp:
                payload = fp.read().decode("utf-8")
            return json.loads(payload)

    return FastLoader, PlainJSONFileLoader


class Clients:
    """Lazily built boto3 clients for one account (the caller's, or an assumed member role).

    ``clients("ecs")`` or ``clients("ecs", region="eu-west-1")`` returns a cached client;
    ``calls`` counts API calls by "service.Operation" across this object and the ones
    ``for_account`` derives from it.
    """

    def __init__(
        self,
        region: str | None = None,
        *,
        session: Any = None,
        member_role_name: str | None = None,
        home_account: str | None = None,
        calls: Counter[str] | None = None,
        account: str | None = None,
        botocore_session: Any = None,
    ) -> None:
        self.region = region
        self._session = session
        self._core = botocore_session
        self.member_role_name = member_role_name
        self._home_account = home_account
        self.account = account  # the account these clients act in, when known
        self.calls: Counter[str] = calls if calls is not None else Counter()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._members: dict[str, tuple[Clients, float]] = {}
        self._lock = threading.Lock()

    # -- clients ---------------------------------------------------------------------------------
    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._build(service, key[1])
                    self._clients[key] = client
        return client

    def _build(self, service: str, region: str | None) -> Any:
        if self._session is not None:  # a boto3 session: the caller's, or one `session` built over ours
            session = self._session
            client = session.client(service, region_name=region or session.region_name or default_region(),
                                    config=botocore_config())
        else:
            core = self.botocore_session
            client = core.create_client(service, region_name=region or core.get_config_variable("region")
                                        or default_region(), config=botocore_config())
        # before-parameter-build is emitted to every handler once per API call (retries excluded), before
        # any before-call handler (a botocore Stubber, moto) can answer and stop the chain.
        client.meta.events.register_first("before-parameter-build", self._count)
        # Before every attempt (retries included), ahead of any stubber or moto: the budget.
        client.meta.events.register_first("before-send", _stop_past_deadline)
        return client

    def _count(self, model: Any = None, **_: Any) -> None:
        service = model.service_model.service_name if model is not None else "?"
        name = model.name if model is not None else "?"
        self.calls[f"{service}.{name}"] += 1

    @property
    def botocore_session(self) -> Any:
        """The botocore session every client of this `Clients` is built from (one data loader)."""
        if self._core is None:
            if self._session is not None:
                self._core = self._session._session  # boto3.Session keeps its botocore session there
            else:
                self._core = new_botocore_session()
                region = self.region or default_region()
                if region:
                    self._core.set_config_variable("region", region)
        return self._core

    @property
    def session(self) -> Any:
        """A boto3 Session over the same botocore session (built on first use: imports boto3)."""
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(botocore_session=self.botocore_session,
                                                  region_name=self.region or default_region())
        return self._session

    # -- call accounting -------------------------------------------------------------------------
    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def reset_calls(self) -> None:
        self.calls.clear()

    # -- organization hub ------------------------------------------------------------------------
    @property
    def home_account(self) -> str | None:
        """The account our own credentials belong to (STS GetCallerIdentity once, if not given)."""
        if self._home_account is None:
            self._home_account = self("sts").get_caller_identity()["Account"]
        return self._home_account

    def for_account(self, account: str | None, region: str | None = None) -> Clients:
        """Clients acting in `account`: ourselves when it is ours or no member role is configured,
        else the assumed member role. Raises the STS error when the role cannot be assumed."""
        if not account or not self.member_role_name or account == self.account:
            return self
        if account == self.home_account:
            return self
        now = time.time()
        cached = self._members.get(account)
        if cached and cached[1] - _REFRESH_MARGIN > now:
            return cached[0]
        partition = "aws-cn" if (region or self.region or "").startswith("cn-") else (
            "aws-us-gov" if (region or self.region or "").startswith("us-gov-") else "aws")
        role_arn = f"arn:{partition}:iam::{account}:role/{self.member_role_name}"
        creds = self("sts").assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME,
                                        DurationSeconds=900)["Credentials"]
        core = new_botocore_session()
        core.set_credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        member_region = region or self.region or self.botocore_session.get_config_variable("region")
        if member_region:
            core.set_config_variable("region", member_region)
        member = Clients(region or self.region, botocore_session=core, calls=self.calls, account=account,
                         home_account=self._home_account)
        expiry = creds.get("Expiration")
        expires = expiry.timestamp() if hasattr(expiry, "timestamp") else now + 900
        self._members[account] = (member, expires)
        return member


def request_account(request: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(account, region) a manual request ({"cluster", "task"} or {"cluster", "service"}) is about.

    The account is the explicit "account" field, else the account of the task ARN, else of the
    cluster ARN (a name or a short id says nothing: None). The region comes from the same ARN (or
    an explicit "region"). Raises ValueError when "account" is not a 12-digit id or contradicts an ARN.
    """
    explicit = request.get("account")
    if explicit is not None:
        explicit = str(explicit).strip()
        if not (len(explicit) == 12 and explicit.isdigit()):
            raise ValueError(f"\"account\" must be a 12-digit AWS account id, got {request.get('account')!r}")
    account = region = None
    for key in ("task", "cluster", "service"):
        value = request.get(key)
        if isinstance(value, str) and value.startswith("arn:"):
            parts = value.split(":", 5)
            if len(parts) == 6 and parts[4]:
                account, region = parts[4], parts[3] or None
                break
    if explicit and account and explicit != account:
        raise ValueError(f"\"account\" {explicit} does not match the ARN's account {account}")
    explicit_region = request.get("region")
    return explicit or account, (str(explicit_region) if explicit_region else region)


def clients_for_request(clients: Clients, request: Mapping[str, Any]) -> Clients:
    """The clients to serve a manual request with: the member account's (assumed role) when the
    request is about another account and a member role is configured (hub mode), else `clients`.
    Raises ValueError for a bad "account" and the STS error when the role cannot be assumed."""
    account, region = request_account(request)
    return clients.for_account(account, region)


_DEFAULT: Clients | None = None
_DEFAULT_LOCK = threading.Lock()


@on_reset
def forget_default_clients() -> None:
    global _DEFAULT
    _DEFAULT = None


def default_clients(member_role_name: str | None = None) -> Clients:
    """The process-wide Clients (one per cold start)."""
    global _DEFAULT
    if _DEFAULT is None:
        with _DEFAULT_LOCK:
            if _DEFAULT is None:
                _DEFAULT = Clients(default_region(), member_role_name=member_role_name)
    return _DEFAULT


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = (response.get("Error") or {}).get("Message")
        if message:
            return str(message)
    return str(exc)
