"""AWS clients for the code that reads evidence (and, if it wants, the code that delivers).

One `Clients` per process (per Lambda cold start): each boto3 client is built on first use and
kept, with adaptive retries and short timeouts, so a throttled or unreachable API costs seconds,
not the function's whole budget. Every API call is counted per operation (a botocore
``before-parameter-build`` hook), so tests and benchmarks can assert how many calls a diagnosis made.

Organization hub: when an event comes from another account and ``member_role_name`` is set,
``for_account`` assumes ``arn:<partition>:iam::<account>:role/<name>`` (cached until shortly before
the credentials expire) and returns a `Clients` for that account sharing the same counter.

boto3 is imported on first use only: ``import shared.aws`` stays cheap, and ``shared.engine``
never pulls it in. The endpoint comes from the environment: boto3 honours ``AWS_ENDPOINT_URL``
(and ``AWS_ENDPOINT_URL_<SERVICE>``) itself.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import Any

from shared.warm import on_reset

CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 5.0
MAX_ATTEMPTS = 3  # in all, the first try included
ROLE_SESSION_NAME = "ecs-autopsy"
_REFRESH_MARGIN = 300.0  # re-assume a member role this many seconds before its credentials expire


def default_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def botocore_config() -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "adaptive", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        user_agent_extra="ecs-autopsy",
    )


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
    ) -> None:
        self.region = region
        self._session = session
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
        session = self.session
        client = session.client(service, region_name=region or session.region_name or default_region(),
                                config=botocore_config())
        # before-parameter-build is emitted to every handler once per API call (retries excluded), before
        # any before-call handler (a botocore Stubber, moto) can answer and stop the chain.
        client.meta.events.register_first("before-parameter-build", self._count)
        return client

    def _count(self, model: Any = None, **_: Any) -> None:
        service = model.service_model.service_name if model is not None else "?"
        name = model.name if model is not None else "?"
        self.calls[f"{service}.{name}"] += 1

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session(region_name=self.region or default_region())
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
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region or self.region or self.session.region_name,
        )
        member = Clients(region or self.region, session=session, calls=self.calls, account=account,
                         home_account=self._home_account)
        expiry = creds.get("Expiration")
        expires = expiry.timestamp() if hasattr(expiry, "timestamp") else now + 900
        self._members[account] = (member, expires)
        return member


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
