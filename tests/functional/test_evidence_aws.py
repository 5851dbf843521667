"""shared.aws.Clients: built once, adaptive retries and short timeouts, every call counted, member
accounts through an assumed role, boto3 kept off the engine's import path."""

from __future__ import annotations

import subprocess
import sys

import pytest
from moto import mock_aws

from shared.aws import CONNECT_TIMEOUT, READ_TIMEOUT, Clients, error_code, error_message

REGION = "us-east-1"


@pytest.fixture
def env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_clients_are_built_once_with_adaptive_retries_and_short_timeouts(env):
    clients = Clients(REGION)
    ecs = clients("ecs")
    assert clients("ecs") is ecs
    assert clients("ecs", "eu-west-1") is not ecs and clients("ecs", "eu-west-1").meta.region_name == "eu-west-1"
    cfg = ecs.meta.config
    assert cfg.retries == {"mode": "adaptive", "total_max_attempts": 3}
    assert (cfg.connect_timeout, cfg.read_timeout) == (CONNECT_TIMEOUT, READ_TIMEOUT)
    assert CONNECT_TIMEOUT <= 3 and READ_TIMEOUT <= 10


def test_every_call_is_counted_even_when_a_stubber_answers(env):
    from botocore.stub import Stubber

    with mock_aws():
        clients = Clients(REGION)
        clients("ecs").list_clusters()
        clients("logs").describe_log_groups()
        with Stubber(clients("sqs")) as stub:
            stub.add_response("list_queues", {"QueueUrls": []})
            clients("sqs").list_queues()
        assert dict(clients.calls) == {"ecs.ListClusters": 1, "logs.DescribeLogGroups": 1, "sqs.ListQueues": 1}
        assert clients.total_calls == 3
        clients.reset_calls()
        assert clients.total_calls == 0


def test_endpoint_comes_from_aws_endpoint_url(env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert Clients(REGION)("ecs").meta.endpoint_url == "http://127.0.0.1:1"


def test_member_account_through_the_assumed_role(env):
    with mock_aws():
        clients = Clients(REGION, member_role_name="ecs-autopsy-member")
        home = clients.home_account  # moto's default account
        assert clients.for_account(home) is clients
        assert clients.for_account(None) is clients
        member = clients.for_account("210987654321")
        assert member is not clients and member.account == "210987654321"
        assert clients.for_account("210987654321") is member  # cached until shortly before expiry
        member("ecs").list_clusters()
        assert clients.calls["sts.AssumeRole"] == 1
        assert clients.calls["ecs.ListClusters"] == 1  # counted on the shared counter
        creds = member.session.get_credentials()
        assert creds.access_key != "testing"


def test_without_member_role_other_accounts_use_our_credentials(env):
    clients = Clients(REGION)
    assert clients.for_account("210987654321") is clients
    assert clients.total_calls == 0  # no STS call when there is nothing to assume


def test_error_code_and_message():
    from botocore.exceptions import ClientError, EndpointConnectionError

    err = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetLogEvents")
    assert (error_code(err), error_message(err)) == ("ThrottlingException", "Rate exceeded")
    conn = EndpointConnectionError(endpoint_url="https://x")
    assert error_code(conn) == "EndpointConnectionError"


def test_engine_and_gather_imports_stay_free_of_boto3():
    code = ("import sys, shared.engine, shared.evidence.gather, shared.aws, shared.deploy, shared.live;"
            "print('boto3' in sys.modules, 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
