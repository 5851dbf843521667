"""shared.aws.Clients: built once, bounded (standard) retries and short timeouts, every call counted, member
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


def test_clients_are_built_once_with_bounded_retries_and_short_timeouts(env):
    clients = Clients(REGION)
    ecs = clients("ecs")
    assert clients("ecs") is ecs
    assert clients("ecs", "eu-west-1") is not ecs and clients("ecs", "eu-west-1").meta.region_name == "eu-west-1"
    cfg = ecs.meta.config
    assert cfg.retries == {"mode": "standard", "total_max_attempts": 3}
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


# ---- hub mode: manual requests about a member account ----------------------------------------------
MEMBER = "210987654321"
MEMBER_TASK = f"arn:aws:ecs:eu-west-1:{MEMBER}:task/prod/0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("request_,expected", [
    ({"cluster": "prod", "task": MEMBER_TASK}, (MEMBER, "eu-west-1")),
    ({"cluster": f"arn:aws:ecs:eu-west-1:{MEMBER}:cluster/prod", "service": "api"}, (MEMBER, "eu-west-1")),
    ({"cluster": "prod", "service": "api", "account": MEMBER}, (MEMBER, None)),
    ({"cluster": "prod", "service": "api", "account": int(MEMBER), "region": "eu-central-1"},
     (MEMBER, "eu-central-1")),
    ({"cluster": "prod", "task": "0123456789abcdef0123456789abcdef"}, (None, None)),
])
def test_request_account(request_, expected):
    from shared.aws import request_account

    assert request_account(request_) == expected


@pytest.mark.parametrize("request_,message", [
    ({"cluster": "prod", "service": "api", "account": "12345"}, "12-digit"),
    ({"task": MEMBER_TASK, "account": "111111111111"}, "does not match"),
])
def test_request_account_rejects_a_bad_account(request_, message):
    from shared.aws import request_account

    with pytest.raises(ValueError, match=message):
        request_account(request_)


@pytest.mark.parametrize("request_", [
    {"cluster": "prod", "task": MEMBER_TASK},
    {"cluster": "prod", "service": "api", "account": MEMBER},
])
def test_manual_requests_about_a_member_assume_its_reader_role(env, request_):
    """Before: {cluster, task} and {cluster, service} were read with the hub's own credentials."""
    from shared.live import diagnose_request
    from shared.models.parse import BadInput

    with mock_aws():
        clients = Clients(REGION, member_role_name="ecs-autopsy-reader")
        roles: list[str] = []
        clients("sts").meta.events.register("before-parameter-build.sts.AssumeRole",
                                            lambda params, **_: roles.append(params["RoleArn"]))
        ecs_reads: list[str] = []

        with pytest.raises(BadInput):  # nothing exists in the member account of the stand-in
            diagnose_request(request_, clients)
        member = clients.for_account(MEMBER)
        for client in member._clients.values():
            ecs_reads.append(client.meta.service_model.service_name)
        assert roles == [f"arn:aws:iam::{MEMBER}:role/ecs-autopsy-reader"]
        assert ecs_reads == ["ecs"]  # the read went through the member's clients
        assert not any(k[0] == "ecs" for k in clients._clients)  # and not through the hub's


def test_manual_request_with_a_bad_account_is_refused(env):
    from shared.live import diagnose_request
    from shared.models.parse import BadInput

    with pytest.raises(BadInput, match="12-digit"):
        diagnose_request({"cluster": "prod", "service": "api", "account": "nope"}, Clients(REGION))
