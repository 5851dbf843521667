# ruff: noqa: F811  (the handlers' `env` fixture, imported from test_handlers, is every test's argument)
"""What changed in the deploy, through the handlers on the stand-in: one test per diff-to-cause tie,
the "nothing relevant changed" verdicts, the rollback verdict and the AWS call counts.

Each test builds a service on revision N (healthy) with CreateService, deploys revision N+1 with
UpdateService (the stand-in records the service deployments and revisions), stops a task of the new
deployment, and reads what a subscriber gets from SNS and what Slack gets.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from demo.lambda_local import cold_start, invoke
from tests.functional.aws_world import (
    ACCOUNT,
    CLUSTER,
    CRASH_LOGS,
    EXEC_ROLE,
    SERVICE,
    SSM_DENIED_LOGS,
    TASK_ROLE,
    World,
    container_def,
)
from tests.functional.test_handlers import env  # noqa: F401
from tests.support.aws import REGION, aws, drain  # noqa: F401

OOM = [{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
        "reason": "OutOfMemoryError: Container killed due to memory usage"}]
EGRESS_LOGS = [line.split(" ", 2)[2] for line in
               (Path(__file__).parents[2] / "events" / "network-egress-blocked.log").read_text().splitlines()]


class Service:
    """A service of the env's world, deployed revision after revision with ordinary ECS calls."""

    def __init__(self, env: dict) -> None:
        self.world: World = env["world"]
        self.ecs = boto3.client("ecs", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        self.sgs = [ec2.create_security_group(GroupName=f"sg-{i}", Description="t", VpcId=vpc)["GroupId"]
                    for i in (1, 2)]
        self.created = False

    def register(self, container: dict | None = None, **task: Any) -> str:
        c = container or container_def("app", env={"DATABASE_URL": "postgres://db/orders", "LOG_LEVEL": "info"})
        kw = {"family": SERVICE, "networkMode": "awsvpc", "cpu": "512", "memory": "1024", "taskRoleArn": TASK_ROLE,
              "executionRoleArn": EXEC_ROLE, "containerDefinitions": [c], **task}
        return self.ecs.register_task_definition(**kw)["taskDefinition"]["taskDefinitionArn"]

    def deploy(self, td: str, *, sgs: list[str] | None = None, port: int = 8000, force: bool = False) -> str:
        """CreateService the first time, UpdateService after; the new deployment's ecs-svc/ id."""
        network = {"awsvpcConfiguration": {"subnets": self.subnets[:1], "securityGroups": sgs or self.sgs[:1],
                                           "assignPublicIp": "DISABLED"}}
        lbs = [{"targetGroupArn": f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-tg/0123456789abcdef",
                "containerName": "app", "containerPort": port}]
        if not self.created:
            self.ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=td, desiredCount=2,
                                    launchType="FARGATE", networkConfiguration=network, loadBalancers=lbs,
                                    healthCheckGracePeriodSeconds=60, deploymentConfiguration={
                                        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
            self.created = True
        else:
            self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=td, networkConfiguration=network,
                                    loadBalancers=lbs, forceNewDeployment=force)
        return self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["deployments"][0]["id"]

    def stopped(self, td: str, started_by: str, logs: list[str] | None = None, **detail: Any) -> dict:
        """The event of a task of the deployment that stopped (a new task id each time), its logs written."""
        Service.tasks += 1
        tid = f"{Service.tasks:032x}"
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{tid}"
        now = datetime.now(UTC)
        times = {"createdAt": (now - timedelta(seconds=30)).isoformat(), "stoppedAt": now.isoformat()}
        if "startedAt" not in detail:
            times["startedAt"] = (now - timedelta(seconds=20)).isoformat()
        event = self.world.stopped_event(startedBy=started_by, taskArn=arn, **{**times, **detail})
        event["resources"] = [arn]
        event["detail"]["taskDefinitionArn"] = td
        if logs:
            self.world.write_logs("app", logs, task_id=tid)
        return event

    tasks = 0


def _deliver(env: dict, event: dict) -> dict:
    invoke("task_stopped", copy.deepcopy(event))
    messages = drain(env["queue"])
    assert len(messages) == 1
    return json.loads(messages[0]["Body"])


def _two_revisions(env: dict, before: dict | None, after: dict | None, **after_task: Any) -> tuple[Service, str, str]:
    svc = Service(env)
    healthy = svc.register(before)
    svc.deploy(healthy)
    failing = svc.register(after, **after_task)
    return svc, healthy, failing


def _rev(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# -- one test per tie -----------------------------------------------------------------------------
def test_missing_env_var_tied_to_the_removed_variable(env):
    svc, healthy, failing = _two_revisions(env, None, container_def("app", env={"LOG_LEVEL": "debug"}))
    finding = _deliver(env, svc.stopped(failing, svc.deploy(failing), CRASH_LOGS))
    assert finding["pattern"] == "missing-env-var"
    ch = finding["changes"]
    old, new = _rev(healthy).split(":")[1], _rev(failing).split(":")[1]
    assert ch["verdict"].startswith(f"DATABASE_URL was removed in revision {new}; revision {old} had it")
    assert ch["explained"] and ch["basis"] == "service-deployment"
    assert (ch["before"], ch["after"]) == (_rev(healthy), _rev(failing))
    assert ch["rollback_command"] == (f"aws ecs update-service --cluster {CLUSTER} --service {SERVICE} "
                                      f"--task-definition {_rev(healthy)}")
    assert [(c["name"], c["kind"], c["explains"]) for c in ch["items"] if c["field"] == "environment"] == [
        ("DATABASE_URL", "removed", True), ("LOG_LEVEL", "changed", False)]
    assert "postgres://" not in json.dumps(finding) and "debug" not in json.dumps(ch)
    assert any(e["source"].startswith("changes:") for e in finding["evidence"])
    post = json.dumps(env["slack"].accepted[0])
    assert "Changed in this deploy" in post and "DATABASE_URL was removed" in post
    assert f"--task-definition {_rev(healthy)}" in post


def test_out_of_memory_tied_to_lowered_memory(env):
    svc, _, failing = _two_revisions(env, container_def("app", memory=1024), container_def("app", memory=512))
    finding = _deliver(env, svc.stopped(failing, svc.deploy(failing), [], containers=OOM))
    assert finding["pattern"] == "out-of-memory"
    assert finding["changes"]["explained"]
    assert "Memory (MiB) of app lowered from 1024 to 512 in revision" in finding["changes"]["verdict"]


def test_image_pull_failed_tied_to_the_new_tag(env):
    image = container_def("app")
    image["image"] = image["image"].replace("1.4.2", "1.5.0")
    svc, _, failing = _two_revisions(env, container_def("app"), image)
    finding = _deliver(env, svc.stopped(
        failing, svc.deploy(failing), None, stopCode="TaskFailedToStart", startedAt=None,
        stoppedReason=f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                      f"ref {image['image']}: {image['image']}: not found",
        containers=[{"name": "app", "lastStatus": "STOPPED"}]))
    assert finding["pattern"] == "image-pull-failed"
    assert finding["changes"]["explained"]
    assert finding["changes"]["items"][0]["field"] == "image"
    assert "app:1.5.0" in finding["changes"]["verdict"]


def test_iam_access_denied_tied_to_the_changed_role(env):
    svc, _, failing = _two_revisions(env, None, None, taskRoleArn=TASK_ROLE.replace("orders-api-task", "orders-api-task-v2"))
    finding = _deliver(env, svc.stopped(failing, svc.deploy(failing), SSM_DENIED_LOGS))
    assert finding["pattern"] == "iam-access-denied"
    assert finding["changes"]["explained"]
    assert finding["changes"]["verdict"].startswith("Task role changed from")


def test_health_check_failed_tied_to_the_container_port(env):
    svc, _, failing = _two_revisions(env, None, container_def("app", ports=(8080,),
                                                              env={"DATABASE_URL": "x", "LOG_LEVEL": "info"}))
    started_by = svc.deploy(failing, port=8080)
    finding = _deliver(env, svc.stopped(
        failing, started_by, ["INFO listening on 0.0.0.0:8080"], stopCode="ServiceSchedulerInitiated",
        stoppedReason=f"Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:"
                      "targetgroup/orders-tg/0123456789abcdef)",
        containers=[{"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}]))
    assert finding["pattern"] == "health-check-failed"
    fields = {c["field"] for c in finding["changes"]["items"] if c["explains"]}
    assert fields == {"loadBalancer", "portMappings"}
    assert finding["changes"]["explained"]


def test_network_egress_blocked_tied_to_the_security_groups(env):
    svc = Service(env)
    td = svc.register()
    svc.deploy(td)
    started_by = svc.deploy(td, sgs=svc.sgs[1:])  # same task definition, other security group
    finding = _deliver(env, svc.stopped(td, started_by, EGRESS_LOGS))
    assert finding["pattern"] == "network-egress-blocked"
    ch = finding["changes"]
    assert ch["explained"] and ch["items"][0]["field"] == "securityGroups"
    assert ch["items"][0]["before"] == svc.sgs[0] and ch["items"][0]["after"] == svc.sgs[1]


def test_exec_format_tied_to_the_architecture(env):
    svc, _, failing = _two_revisions(env, None, None,
                                     runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"})
    finding = _deliver(env, svc.stopped(failing, svc.deploy(failing), ["exec /usr/local/bin/app: exec format error"]))
    assert finding["pattern"] == "container-start-failed" and finding["facts"]["cause"] == "exec-format"
    assert finding["changes"]["explained"]
    assert finding["changes"]["verdict"].startswith("Platform (OS/architecture) set to LINUX/ARM64 in revision")


# -- nothing relevant changed ---------------------------------------------------------------------
def test_only_the_digest_changed(env):
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="app")

    def push(layer: str) -> None:
        ecr.put_image(repositoryName="app", imageTag="1.4.2", imageManifest=json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "layers": [{"digest": "sha256:" + layer * 64}]}))

    push("a")
    svc = Service(env)
    td = svc.register()
    svc.deploy(td)
    push("b")  # the same tag, pushed again
    started_by = svc.deploy(td, force=True)
    finding = _deliver(env, svc.stopped(td, started_by, [], containers=OOM))
    assert finding["pattern"] == "out-of-memory"
    ch = finding["changes"]
    assert ch["verdict"].startswith("no configuration change: only the image content (digest) changed")
    assert not ch["explained"] and ch["rollback_command"] is None
    assert [c["field"] for c in ch["items"]] == ["imageDigest"]


def test_nothing_changed_the_cause_is_outside_the_deploy(env):
    svc = Service(env)
    td = svc.register()
    svc.deploy(td)
    started_by = svc.deploy(td, force=True)  # a forced redeploy of the same revision
    finding = _deliver(env, svc.stopped(td, started_by, EGRESS_LOGS))
    ch = finding["changes"]
    assert ch["items"] == [] and not ch["explained"]
    assert ch["verdict"] == f"nothing changed between {_rev(td)} and {_rev(td)}: the cause is outside this deploy."


# -- a denied read is a gap -----------------------------------------------------------------------
def test_denied_deployment_history_is_a_gap(env, monkeypatch):
    from botocore.exceptions import ClientError

    import shared.evidence.changes as changes

    def list_denied(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListServiceDeployments")

    original = changes._Budget.call

    def call(self: Any, what: str, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, what, action, list_denied if action == "ecs:ListServiceDeployments" else fn,
                        *args, **kwargs)

    monkeypatch.setattr(changes._Budget, "call", call)
    svc, _, failing = _two_revisions(env, None, container_def("app", env={"LOG_LEVEL": "debug"}))
    finding = _deliver(env, svc.stopped(failing, svc.deploy(failing), CRASH_LOGS))
    assert any("access denied for ecs:ListServiceDeployments (AccessDeniedException)" in g for g in finding["gaps"])
    # The previous PRIMARY deployment in DescribeServices stood in for the history.
    assert finding["changes"]["basis"] == "previous-deployment" and finding["changes"]["explained"]


# -- call counts ----------------------------------------------------------------------------------
@pytest.fixture
def counted(monkeypatch):
    """The runtime's clients count every AWS call."""
    import functions.runtime as runtime

    return runtime.clients()


def test_call_counts_first_seen_repeat_and_deploy(env, counted):
    svc, _, failing = _two_revisions(env, None, container_def("app", env={"LOG_LEVEL": "debug"}))
    started_by = svc.deploy(failing)
    ecs = boto3.client("ecs", region_name=REGION)
    history = ("ecs.ListServiceDeployments", "ecs.DescribeServiceRevisions", "ecs.DescribeTaskDefinition")

    counted.reset_calls()
    _deliver(env, svc.stopped(failing, started_by, CRASH_LOGS))
    first = dict(counted.calls)
    # First seen: the task definition, and 3 calls for the diff: the deployments, both revisions, and
    # the healthy revision's task definition.
    assert first["ecs.ListServiceDeployments"] == 1 and first["ecs.DescribeServiceRevisions"] == 1
    assert first["ecs.DescribeTaskDefinition"] == 2
    assert sum(first.get(k, 0) for k in history) - 1 == 3

    counted.reset_calls()
    _deliver(env, svc.stopped(failing, started_by, CRASH_LOGS))  # the deployment's next task
    repeat = dict(counted.calls)
    assert not any(k in repeat for k in history)  # 0 extra calls for the deployment's next task

    # The deploy finding, in a new container (cold caches): tasks of the deployment, stopped by ECS.
    tags = [{"key": "ecs-autopsy-demo:stopCode", "value": "EssentialContainerExited"},
            {"key": "ecs-autopsy-demo:exitCode", "value": "1"}]
    net = {"awsvpcConfiguration": {"subnets": svc.subnets[:1], "securityGroups": svc.sgs[:1]}}
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.modify_vpc_attribute(VpcId=ec2.describe_subnets(SubnetIds=svc.subnets[:1])["Subnets"][0]["VpcId"],
                             EnableDnsHostnames={"Value": True})
    for task in ecs.run_task(cluster=CLUSTER, taskDefinition=failing, count=3, startedBy=started_by,
                             launchType="FARGATE", group=f"service:{SERVICE}", tags=tags,
                             networkConfiguration=net)["tasks"]:
        svc.world.write_logs("app", CRASH_LOGS, task_id=task["taskArn"].rsplit("/", 1)[-1])
        ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="Essential container in task exited")
    cold_start()
    import functions.runtime as runtime

    deploy_clients = runtime.clients()
    deploy_clients.reset_calls()
    event = {"version": "0", "id": "dep-1", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
             "account": ACCOUNT, "time": "2026-11-27T10:00:00Z", "region": REGION,
             "resources": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"],
             "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": started_by,
                        "updatedAt": "2026-11-27T10:00:00Z",
                        "reason": "ECS deployment circuit breaker: tasks failed to start."}}
    invoke("deploy_failed", event)
    deploy = dict(deploy_clients.calls)
    assert deploy["ecs.ListServiceDeployments"] == 1 and deploy["ecs.DescribeServiceRevisions"] == 1
    assert deploy["ecs.DescribeTaskDefinition"] == 2  # the failing revision, then the healthy one
    finding = json.loads(drain(env["queue"])[-1]["Body"])
    assert finding["scope"] == "deployment"
    d = finding["deployment"]
    assert d["status"] == "ROLLBACK_SUCCESSFUL" and d["rolled_back"] and d["rollback_succeeded"]
    assert d["rolled_back_to"] == finding["changes"]["before"]
    assert finding["changes"]["verdict"].startswith("DATABASE_URL was removed")
    print("calls: first-seen", first, "repeat", repeat, "deploy", deploy)
