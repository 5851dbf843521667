"""Evidence errors are classified (denied, throttled, missing, unreachable, timeout, bug), and every
invocation has an evidence time budget: it ends with a finding, with "timeout" gaps where reads ran
out of time. The slow and the refused endpoints are real sockets on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import shared.aws
from shared.aws import BudgetSpent, Clients, evidence_budget
from shared.evidence import ecs
from shared.evidence.errors import KINDS, Gap, GapText, classify, describe, guarded, guarded_kind
from shared.evidence.gather import clear_storm_cache
from shared.models.parse import parse_task_event
from shared.pipeline import investigate
from tests.functional.aws_world import REGION, stopped_event


def _client_error(code: str, status: int = 400):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"{code} message"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "DescribeTasks")


# ---- classify ------------------------------------------------------------------------------------
@pytest.mark.parametrize("exc,kind", [
    (_client_error("AccessDeniedException"), "denied"),
    (_client_error("ExpiredTokenException"), "denied"),
    (_client_error("ThrottlingException"), "throttled"),
    (_client_error("ClusterNotFoundException"), "missing"),
    (_client_error("InvalidParameterException"), "missing"),
    (_client_error("ServiceUnavailableException", 503), "unreachable"),
    (_client_error("SomethingNew", 500), "unreachable"),
    (Gap("Task expired"), "missing"),
    (Gap("budget", "timeout"), "timeout"),
    (BudgetSpent("spent"), "timeout"),
    (TimeoutError("t"), "timeout"),
    (ConnectionRefusedError(111, "refused"), "unreachable"),
    (ImportError("no module named x"), "bug"),
    (TypeError("f() got an unexpected keyword argument"), "bug"),
    (AttributeError("'NoneType' object has no attribute 'get'"), "bug"),
    (KeyError("taskArn"), "bug"),
    (RuntimeError("what"), "bug"),
])
def test_classify(exc, kind):
    assert classify(exc) == kind
    assert kind in KINDS


def test_botocore_transport_errors_tell_timeout_from_unreachable():
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    # ConnectTimeoutError is also an EndpointConnectionError: still a timeout.
    assert classify(ConnectTimeoutError(endpoint_url="http://127.0.0.1:1")) == "timeout"
    assert classify(ReadTimeoutError(endpoint_url="http://127.0.0.1:1")) == "timeout"
    assert classify(EndpointConnectionError(endpoint_url="http://127.0.0.1:1")) == "unreachable"
    assert classify(NoCredentialsError()) == "denied"


def test_guarded_returns_text_with_its_kind_and_keeps_string_behaviour():
    def denied():
        raise _client_error("AccessDeniedException")

    value, gap = guarded("Task t", "ecs:DescribeTasks", denied)
    assert value is None and isinstance(gap, GapText) and isinstance(gap, str)
    assert gap.kind == "denied"
    assert gap.text == gap == ("Task t: not read, access denied for ecs:DescribeTasks (AccessDeniedException): "
                               "grant it to ecs-autopsy's role.")
    assert (gap + " More.").kind == "denied"  # call sites that extend the text keep the kind
    assert guarded("x", "a", lambda: 3) == (3, None)
    assert guarded_kind("Task t", "ecs:DescribeTasks", denied)[1:] == (gap.text, "denied")


def test_a_bug_is_logged_with_its_traceback_and_not_reported_as_missing(caplog):
    def broken(client, cluster, task):
        raise TypeError("fetch_task() takes 2 positional arguments but 3 were given")

    with caplog.at_level(logging.ERROR, logger="shared.evidence.errors"):
        _, gap = guarded("Task t", "ecs:DescribeTasks", broken, None, "c", "t")
    assert gap.kind == "bug"
    assert "bug in ecs-autopsy" in gap and "not found" not in gap and "TypeError" in gap
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info and record.exc_info[0] is TypeError


def test_describe_is_unchanged_for_the_known_kinds():
    assert describe("Logs", "logs:GetLogEvents", _client_error("ThrottlingException")) == (
        "Logs: not read, AWS throttled logs:GetLogEvents (ThrottlingException) after retries.")
    assert describe("Svc", "ecs:DescribeServices", _client_error("ServiceNotFoundException")).startswith(
        "Svc: not found (ServiceNotFoundException")


def test_a_spent_budget_reads_nothing():
    calls = []
    with evidence_budget(0):
        value, gap = guarded("Logs of app", "logs:GetLogEvents", lambda: calls.append(1))
    assert value is None and calls == []
    assert gap.kind == "timeout" and "time budget" in gap


# ---- real sockets: a slow endpoint and a refused one ----------------------------------------------
class _Slow(BaseHTTPRequestHandler):
    delay = 3.0
    hits = 0

    def _answer(self) -> None:
        type(self).hits += 1
        time.sleep(self.delay)
        try:
            self.send_response(500)
            self.end_headers()
        except OSError:
            pass

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_endpoint():
    _Slow.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


@pytest.fixture
def env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    # Short per-attempt timeouts keep the test short; the budget logic is the same.
    monkeypatch.setattr(shared.aws, "CONNECT_TIMEOUT", 0.5)
    monkeypatch.setattr(shared.aws, "READ_TIMEOUT", 0.5)
    ecs.clear_cache()
    clear_storm_cache()
    yield monkeypatch
    ecs.clear_cache()
    clear_storm_cache()


def _event():
    # No containers: the task must be described first, then its task definition and logs read.
    return parse_task_event(stopped_event(containers=[]))


def test_a_slow_endpoint_ends_with_a_finding_within_the_budget(env, slow_endpoint):
    env.setenv("AWS_ENDPOINT_URL", slow_endpoint)
    budget = 1.5
    started = time.monotonic()
    with evidence_budget(budget):
        _, finding = investigate(_event(), Clients(REGION))
    elapsed = time.monotonic() - started
    # One attempt may overrun the deadline (connect + read timeout) plus one retry backoff (<= 2 s).
    assert elapsed < budget + 0.5 + 0.5 + 2.0 + 0.5, elapsed
    assert finding is not None and finding.pattern
    assert any("time budget" in g or "did not answer in time" in g for g in finding.gaps), finding.gaps
    assert any("time budget" in g for g in finding.gaps), finding.gaps  # later reads were not even tried
    assert not any("could not be reached" in g for g in finding.gaps)
    assert _Slow.hits <= 4, _Slow.hits  # not 3 attempts x every read


def test_without_a_budget_the_same_reads_take_longer(env, slow_endpoint):
    """The check that catches a missing budget: the same slow endpoint, no deadline, more requests."""
    env.setenv("AWS_ENDPOINT_URL", slow_endpoint)
    _, finding = investigate(_event(), Clients(REGION))
    assert not any("time budget" in g for g in finding.gaps)
    assert _Slow.hits >= 3  # every attempt of the first read was sent


def test_a_refused_connection_is_unreachable_not_a_timeout(env, refused_endpoint):
    env.setenv("AWS_ENDPOINT_URL", refused_endpoint)
    with evidence_budget(20):
        _, finding = investigate(_event(), Clients(REGION))
    assert finding is not None
    assert any("could not be reached" in g for g in finding.gaps), finding.gaps
    assert not any("did not answer in time" in g for g in finding.gaps), finding.gaps


def test_handlers_set_the_budget_from_the_lambda_context_and_reset_it():
    from functions.runtime import EVIDENCE_RESERVE_SECONDS, evidence_budget_seconds, with_evidence_budget
    from shared.aws import DEFAULT_EVIDENCE_BUDGET, time_left

    class Context:
        def __init__(self, ms: int) -> None:
            self.ms = ms

        def get_remaining_time_in_millis(self) -> int:
            return self.ms

    assert evidence_budget_seconds(Context(60_000)) == 60 - EVIDENCE_RESERVE_SECONDS
    assert evidence_budget_seconds(Context(10_000)) == 5  # less than the reserve: half of what is left
    assert evidence_budget_seconds(None) == DEFAULT_EVIDENCE_BUDGET  # no Lambda context: the default

    seen = []
    handler = with_evidence_budget(lambda event, context: seen.append(time_left()))
    assert time_left() is None
    handler({}, Context(60_000))
    assert 60 - EVIDENCE_RESERVE_SECONDS - 1 < seen[0] <= 60 - EVIDENCE_RESERVE_SECONDS
    assert time_left() is None  # nothing leaks into what runs after the invocation


def test_the_task_stopped_handler_ends_with_a_finding_within_its_budget(env, slow_endpoint):
    """The Lambda handler as deployed: 21.5 s left, so 1.5 s of evidence budget; ECS and CloudWatch
    Logs answer too slowly. The invocation still returns a finding, in time."""
    from demo.lambda_local import cold_start, invoke

    for name in ("ECS_AUTOPSY_TOPIC_ARN", "ECS_AUTOPSY_TABLE_NAME", "ECS_AUTOPSY_SLACK_SECRET_ID"):
        env.delenv(name, raising=False)
    env.setenv("AWS_ENDPOINT_URL", slow_endpoint)
    cold_start()
    started = time.monotonic()
    try:
        result = invoke("task_stopped", stopped_event(containers=[]), remaining_ms=21_500)
    finally:
        cold_start()
    elapsed = time.monotonic() - started
    assert result["pattern"] and result["fingerprint"]
    assert elapsed < 1.5 + 0.5 + 0.5 + 2.0 + 1.0, elapsed
