"""diagnose_deployment against moto: the deployment's stopped tasks, one finding for all of them."""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs
from shared.models.parse import parse_deploy_event
from shared.pipeline import diagnose_deployment
from tests.functional.aws_world import ACCOUNT, CLUSTER, CRASH_LOGS, REGION, SERVICE, World, container_def

DEPLOYMENT = "ecs-svc/7777777777777777777"


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


def deploy_event(**detail) -> dict:
    d = {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": DEPLOYMENT,
         "updatedAt": "2026-11-27T11:11:11Z", "reason": "ECS deployment circuit breaker: task failed to start."}
    d.update(detail)
    return {"version": "0", "id": "e1", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
            "account": ACCOUNT, "time": "2026-11-27T11:11:12Z", "region": REGION,
            "resources": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"], "detail": d}


def stopped_tasks(aws: Clients, world: World, n: int, started_by: str, logs: list[str] | None) -> list[str]:
    arns = []
    for _ in range(n):
        task = aws("ecs").run_task(cluster=CLUSTER, taskDefinition=world.task_definition_arn, launchType="FARGATE",
                                   group=f"service:{SERVICE}", startedBy=started_by)["tasks"][0]
        aws("ecs").stop_task(cluster=CLUSTER, task=task["taskArn"], reason="Essential container in task exited")
        if logs is not None:
            world.write_logs("app", logs, task_id=task["taskArn"].rsplit("/", 1)[-1])
        arns.append(task["taskArn"])
    return arns


def test_failed_deployment_gives_one_finding_for_its_tasks(aws):
    world = World.build(aws, [container_def()])
    mine = stopped_tasks(aws, world, 4, DEPLOYMENT, CRASH_LOGS)
    stopped_tasks(aws, world, 2, "ecs-svc/1111111111111111111", ["shutting down"])  # the previous deployment
    aws.reset_calls()
    f = diagnose_deployment(parse_deploy_event(deploy_event()), aws)
    assert f.scope == "deployment" and f.pattern == "missing-env-var"
    assert f.title == (f"deploy {DEPLOYMENT} of {SERVICE} failed: 4 tasks stopped, root cause missing-env-var "
                       "DATABASE_URL in 4/4")
    assert sorted(f.deployment.task_arns) == sorted(mine)
    # One list, one describe for all tasks, the task definition once, one log tail per task, and the
    # service's deployment history once (what changed; cached for the deployment's other tasks).
    assert dict(aws.calls) == {"ecs.ListTasks": 1, "ecs.DescribeTasks": 1, "ecs.DescribeTaskDefinition": 1,
                               "logs.GetLogEvents": 4, "ecs.ListServiceDeployments": 1}


def test_only_the_most_recent_tasks_are_diagnosed(aws):
    world = World.build(aws, [container_def()])
    stopped_tasks(aws, world, 5, DEPLOYMENT, CRASH_LOGS)
    f = diagnose_deployment(parse_deploy_event(deploy_event()), aws, limit=2)
    assert (f.deployment.tasks_stopped, f.deployment.tasks_diagnosed) == (5, 2)
    assert "5 tasks stopped, root cause missing-env-var DATABASE_URL in 2/2" in f.title
    assert "5 tasks stopped; the 2 most recent were diagnosed." in f.gaps


def test_no_stopped_tasks_left(aws):
    World.build(aws, [container_def()])
    f = diagnose_deployment(parse_deploy_event(deploy_event()), aws)
    assert f.pattern == "unknown" and f.deployment.tasks_stopped == 0
    assert "no stopped task left to diagnose" in f.title


def test_denied_list_tasks_is_a_gap_and_still_one_finding(aws):
    from botocore.stub import Stubber

    World.build(aws, [container_def()])
    stub = Stubber(aws("ecs"))
    stub.add_client_error("list_tasks", "AccessDeniedException", "no", 400)
    stub.activate()
    f = diagnose_deployment(parse_deploy_event(deploy_event()), aws)
    assert f.scope == "deployment"
    assert any("ecs:ListTasks (AccessDeniedException)" in g for g in f.gaps)
