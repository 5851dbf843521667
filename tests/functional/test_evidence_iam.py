"""iam-access-denied confirmed with SimulatePrincipalPolicy (not implemented by moto: botocore Stubber
with real-shaped answers on the IAM client; ECS and Logs on moto)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs, iam
from shared.evidence.model import TaskDefinitionFacts
from shared.inputs import parse_task_event
from shared.pipeline import investigate
from tests.functional.aws_world import (
    ACCOUNT,
    EXEC_ROLE,
    REGION,
    SSM_DENIED_LOGS,
    SSM_PARAMETER,
    TASK_ROLE,
    World,
    container_def,
)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ecs.clear_cache()
    with mock_aws():
        yield Clients(REGION)
    ecs.clear_cache()


def test_access_denied_is_confirmed_for_the_task_role(aws):
    world = World.build(aws, [container_def()])
    world.write_logs("app", SSM_DENIED_LOGS)
    stub = Stubber(aws("iam"))
    stub.add_response("simulate_principal_policy", {
        "EvaluationResults": [{"EvalActionName": "ssm:GetParameter", "EvalResourceName": SSM_PARAMETER,
                               "EvalDecision": "implicitDeny", "MatchedStatements": [], "MissingContextValues": []}],
        "IsTruncated": False,
    }, {"PolicySourceArn": TASK_ROLE, "ActionNames": ["ssm:GetParameter"], "ResourceArns": [SSM_PARAMETER]})
    stub.activate()
    aws.reset_calls()
    ev, finding = investigate(parse_task_event(world.stopped_event()), aws)
    stub.assert_no_pending_responses()
    assert finding.pattern == "iam-access-denied"
    assert ev.iam.decision == "implicitDeny" and ev.iam.role_kind == "task role" and ev.iam.role_arn == TASK_ROLE
    assert finding.facts["role_kind"] == "task role" and finding.facts["simulation"] == "implicitDeny"
    assert any('"Action": ["ssm:GetParameter"]' in step and SSM_PARAMETER in step for step in finding.remediation)
    check = next(c for c in finding.checks if c.name.startswith("IAM simulation"))
    assert check.ok is False and TASK_ROLE in check.result
    # One extra read for this pattern: the simulation (plus the log tail and, cold, the task definition
    # and the service's deployment history).
    assert dict(aws.calls) == {"ecs.DescribeTaskDefinition": 1, "logs.GetLogEvents": 1,
                               "iam.SimulatePrincipalPolicy": 1, "ecs.ListServiceDeployments": 1}


def test_simulation_denied_is_a_gap_and_the_finding_stands(aws):
    world = World.build(aws, [container_def()])
    world.write_logs("app", SSM_DENIED_LOGS)
    stub = Stubber(aws("iam"))
    stub.add_client_error("simulate_principal_policy", "AccessDenied", "not allowed", 403)
    stub.activate()
    _, finding = investigate(parse_task_event(world.stopped_event()), aws)
    assert finding.pattern == "iam-access-denied"
    assert any("iam:SimulatePrincipalPolicy (AccessDenied)" in g for g in finding.gaps)


def test_no_credentials_needs_no_simulation(aws):
    world = World.build(aws, [container_def()])
    world.write_logs("app", ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>',
                             "botocore.exceptions.NoCredentialsError: Unable to locate credentials"])
    aws.reset_calls()
    _, finding = investigate(parse_task_event(world.stopped_event()), aws)
    assert finding.pattern == "iam-access-denied"
    assert "iam.SimulatePrincipalPolicy" not in aws.calls


TD = TaskDefinitionFacts(arn="td", task_role_arn=f"arn:aws:iam::{ACCOUNT}:role/service-role/orders-api-task",
                         execution_role_arn=EXEC_ROLE)


@pytest.mark.parametrize(("principal", "role", "kind"), [
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-api-task/abc", TD.task_role_arn, "task role"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-api-execution/abc", EXEC_ROLE, "execution role"),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/ecsInstanceRole/i-0abc123def4567890",
     f"arn:aws:iam::{ACCOUNT}:role/ecsInstanceRole", "instance role"),
    (f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/other/s", f"arn:aws-cn:iam::{ACCOUNT}:role/other", "unknown"),
    (f"arn:aws:iam::{ACCOUNT}:role/path/direct", f"arn:aws:iam::{ACCOUNT}:role/path/direct", "unknown"),
    (f"arn:aws:iam::{ACCOUNT}:user/alice", None, "unknown"),
])
def test_role_of_keeps_the_role_path_from_the_task_definition(principal, role, kind):
    assert iam.role_of(principal, TD) == (role, kind)
