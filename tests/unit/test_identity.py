"""A finding's identity (fingerprint, deploy grouping) is account, Region, cluster, service, pattern and
the pattern's declared key facts: nothing that depends on which reads succeeded (issue 10).

The same root cause diagnosed offline, with the task definition read, with reads that failed (gaps),
with target health, an IAM simulation or the network path read must give the same fingerprint; a
different key fact must not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.deploy import key_fact
from shared.engine import diagnose
from shared.evidence.model import (
    ContainerDefinition,
    GapNote,
    IamCheck,
    NetworkFacts,
    TargetGroupFacts,
    TaskDefinitionFacts,
)
from tests.unit.helpers import evidence

KEYERROR = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
            "KeyError: 'DATABASE_URL'"]
DENIED = ["botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetItem "
          "operation: User: arn:aws:sts::111122223333:assumed-role/orders-task/abc is not authorized to perform: "
          "dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders"]
TD = TaskDefinitionFacts(
    arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12", family="orders-api", revision=12,
    memory="1024", task_role_arn="arn:aws:iam::111122223333:role/orders-task",
    containers=(ContainerDefinition(name="app", memory=512, env_names=frozenset({"LOG_LEVEL"}),
                                    log_driver="awslogs", log_options={"awslogs-group": "/ecs/orders-api"}),),
)
OPTIONAL_READS = {
    "offline": lambda ev: ev,
    "task definition": lambda ev: replace(ev, task_definition=TD, offline=False),
    "reads failed": lambda ev: replace(ev, offline=False, gaps=(
        GapNote("Task definition orders-api:12: not read, AWS throttled ecs:DescribeTaskDefinition.", "throttled"),
        GapNote("Logs of sidecar: not read, access denied.", "denied"))),
    "target health": lambda ev: replace(ev, task_definition=TD, target_groups=(TargetGroupFacts(
        arn="arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/orders/1", health_check_path="/health",
        health_check_port="traffic-port", port=8000),)),
    "iam simulation": lambda ev: replace(ev, task_definition=TD, iam=IamCheck(
        principal="arn:aws:sts::111122223333:assumed-role/orders-task/abc", action="dynamodb:GetItem",
        decision="implicitDeny", role_arn="arn:aws:iam::111122223333:role/orders-task", role_kind="task role",
        resource=None)),
    "network path": lambda ev: replace(ev, network=NetworkFacts(subnet_id="subnet-0a1b2c3d4e5f60718",
                                                                internet_route=None, vpc_endpoints=())),
}


@pytest.mark.parametrize("logs", [KEYERROR, DENIED], ids=["missing-env-var", "iam-access-denied"])
def test_the_same_cause_has_one_identity_whatever_was_read(logs):
    base = evidence(logs)
    findings = {name: diagnose(build(base)) for name, build in OPTIONAL_READS.items()}
    patterns = {f.pattern for f in findings.values()}
    assert len(patterns) == 1
    prints = {name: f.fingerprint for name, f in findings.items()}
    assert len(set(prints.values())) == 1, prints
    assert len({key_fact(f) for f in findings.values()}) == 1


def test_another_key_fact_is_another_identity():
    a = diagnose(evidence(KEYERROR))
    b = diagnose(evidence([line.replace("DATABASE_URL", "REDIS_URL") for line in KEYERROR]))
    assert a.pattern == b.pattern and a.fingerprint != b.fingerprint


def test_another_task_of_the_service_and_another_event_version_keep_the_identity():
    a = diagnose(evidence(KEYERROR))
    b = diagnose(evidence(KEYERROR, taskArn="arn:aws:ecs:us-east-1:111122223333:task/prod/ffffffffffffffffffffffffffffffff",
                          version=9, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                                  "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.3"}]))
    assert a.fingerprint == b.fingerprint
