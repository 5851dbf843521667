"""The stand-in's service deployments and revisions (demo/deployments.py), driven by ordinary ECS calls.

Answers are checked member by member against botocore's ECS service model: what the stand-in says is
what ECS would say, field names and types included.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from moto import mock_aws

from demo.standin import TAG_PREFIX, extend_ecs

REGION = "us-east-1"
MODEL = botocore.session.get_session().get_service_model("ecs")


@pytest.fixture
def ecs(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    extend_ecs()
    import boto3

    with mock_aws():
        yield boto3.client("ecs", region_name=REGION), boto3.client("ec2", region_name=REGION), \
            boto3.client("ecr", region_name=REGION)


def conforms(value: Any, shape: Any, path: str = "") -> None:
    """Every member of `value` exists in `shape`, with the shape's type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            conforms(item, shape.members[key], f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            conforms(item, shape.member, f"{path}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, f"{path}={value} not in {shape.enum}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, datetime), path


def _check(op: str, resp: dict) -> dict:
    conforms({k: v for k, v in resp.items() if k != "ResponseMetadata"}, MODEL.operation_model(op).output_shape)
    return resp


def _world(ecs, ec2, ecr):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    sgs = [ec2.create_security_group(GroupName=f"sg{i}", Description="x", VpcId=vpc)["GroupId"] for i in (1, 2)]
    ecr.create_repository(repositoryName="orders")
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"
    ecr.put_image(repositoryName="orders", imageTag="1.4.2",
                  imageManifest=json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [{"digest": "sha256:" + "a" * 64}]}))
    ecs.create_cluster(clusterName="prod")

    def register(memory: int, mode: str = "awsvpc") -> str:
        return ecs.register_task_definition(
            family="orders", networkMode=mode, requiresCompatibilities=["FARGATE"], cpu="256", memory="1024",
            containerDefinitions=[{"name": "app", "image": image, "memory": memory, "essential": True}],
        )["taskDefinition"]["taskDefinitionArn"]

    return subnets, sgs, image, register


def test_deployments_and_revisions_follow_create_and_update_service(ecs):
    ecs, ec2, ecr = ecs
    subnets, sgs, image, register = _world(ecs, ec2, ecr)
    td1, td2 = register(512), register(256)
    ecs.create_service(
        cluster="prod", serviceName="orders", taskDefinition=td1, desiredCount=2, launchType="FARGATE",
        healthCheckGracePeriodSeconds=60,
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets[:1], "securityGroups": sgs[:1],
                                                      "assignPublicIp": "DISABLED"}},
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    ecs.update_service(cluster="prod", service="orders", taskDefinition=td2,
                       networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": sgs[1:],
                                                                     "assignPublicIp": "DISABLED"}})
    ecs.update_service(cluster="prod", service="orders", desiredCount=3)  # no new deployment

    listed = _check("ListServiceDeployments", ecs.list_service_deployments(cluster="prod", service="orders"))
    briefs = listed["serviceDeployments"]
    assert [b["status"] for b in briefs] == ["IN_PROGRESS", "SUCCESSFUL"]  # newest first
    arns = [b["serviceDeploymentArn"] for b in briefs]
    assert all(":service-deployment/prod/orders/" in a for a in arns)

    described = _check("DescribeServiceDeployments", ecs.describe_service_deployments(serviceDeploymentArns=arns))
    new, old = described["serviceDeployments"]
    assert new["sourceServiceRevisions"][0]["arn"] == old["targetServiceRevision"]["arn"]
    assert new["deploymentCircuitBreaker"] == {"status": "MONITORING", "failureCount": 0, "threshold": 3}

    revs = _check("DescribeServiceRevisions", ecs.describe_service_revisions(
        serviceRevisionArns=[old["targetServiceRevision"]["arn"], new["targetServiceRevision"]["arn"], "arn:x"]))
    before, after = revs["serviceRevisions"]
    assert revs["failures"] == [{"arn": "arn:x", "reason": "MISSING"}]
    assert (before["taskDefinition"], after["taskDefinition"]) == (td1, td2)
    assert before["containerImages"] == [{"containerName": "app", "image": image,
                                          "imageDigest": ecr.describe_images(repositoryName="orders")[
                                              "imageDetails"][0]["imageDigest"]}]
    assert before["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == sgs[:1]
    assert after["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == sgs[1:]

    svc = _check("DescribeServices", ecs.describe_services(cluster="prod", services=["orders"]))["services"][0]
    assert [d["status"] for d in svc["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert svc["deployments"][1]["taskDefinition"] == td1
    assert svc["currentServiceDeployment"] == arns[0]
    assert svc["healthCheckGracePeriodSeconds"] == 60
    assert _check("ListServiceDeployments", ecs.list_service_deployments(
        cluster="prod", service="orders", status=["SUCCESSFUL"]))["serviceDeployments"] == [briefs[1]]


def test_same_tag_pushed_again_resolves_to_a_new_digest(ecs):
    ecs, ec2, ecr = ecs
    _subnets, _sgs, image, register = _world(ecs, ec2, ecr)
    td = register(512)
    ecs.create_service(cluster="prod", serviceName="orders", taskDefinition=td, desiredCount=1, launchType="FARGATE")
    ecr.put_image(repositoryName="orders", imageTag="1.4.2",
                  imageManifest=json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [{"digest": "sha256:" + "b" * 64}]}))
    ecs.update_service(cluster="prod", service="orders", forceNewDeployment=True)
    briefs = ecs.list_service_deployments(cluster="prod", service="orders")["serviceDeployments"]
    revs = ecs.describe_service_revisions(serviceRevisionArns=[b["targetServiceRevisionArn"] for b in briefs])
    new, old = (r["containerImages"][0] for r in revs["serviceRevisions"])
    assert new["image"] == old["image"] == image
    assert new["imageDigest"] != old["imageDigest"]


def test_circuit_breaker_rolls_back_after_failed_tasks(ecs):
    ecs, ec2, ecr = ecs
    subnets, sgs, _image, register = _world(ecs, ec2, ecr)
    td1, td2 = register(512), register(256)
    ecs.create_service(cluster="prod", serviceName="orders", taskDefinition=td1, desiredCount=2,
                       launchType="FARGATE",
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    ecs.update_service(cluster="prod", service="orders", taskDefinition=td2)
    svc = ecs.describe_services(cluster="prod", services=["orders"])["services"][0]
    started_by = svc["deployments"][0]["id"]
    tags = [{"key": TAG_PREFIX + "stopCode", "value": "EssentialContainerExited"},
            {"key": TAG_PREFIX + "exitCode", "value": "1"}]
    arns = [t["taskArn"] for t in ecs.run_task(cluster="prod", taskDefinition=td2, count=3, startedBy=started_by,
                                               launchType="FARGATE", tags=tags, networkConfiguration={
                                                   "awsvpcConfiguration": {"subnets": subnets[:1],
                                                                           "securityGroups": sgs[:1]}})["tasks"]]
    for arn in arns[:2]:
        ecs.stop_task(cluster="prod", task=arn, reason="Essential container in task exited")
    assert ecs.list_service_deployments(cluster="prod", service="orders")["serviceDeployments"][0][
        "status"] == "IN_PROGRESS"
    ecs.stop_task(cluster="prod", task=arns[2], reason="Essential container in task exited")

    brief = ecs.list_service_deployments(cluster="prod", service="orders")["serviceDeployments"][0]
    assert brief["status"] == "ROLLBACK_SUCCESSFUL"
    d = _check("DescribeServiceDeployments", ecs.describe_service_deployments(
        serviceDeploymentArns=[brief["serviceDeploymentArn"]]))["serviceDeployments"][0]
    assert d["deploymentCircuitBreaker"] == {"status": "TRIGGERED", "failureCount": 3, "threshold": 3}
    assert d["rollback"]["serviceRevisionArn"] == d["sourceServiceRevisions"][0]["arn"]
    svc = ecs.describe_services(cluster="prod", services=["orders"])["services"][0]
    assert svc["taskDefinition"] == td1 and [x["status"] for x in svc["deployments"]] == ["PRIMARY"]


def test_unknown_service_is_not_found(ecs):
    ecs, *_ = ecs
    ecs.create_cluster(clusterName="prod")
    with pytest.raises(ecs.exceptions.ServiceNotFoundException):
        ecs.list_service_deployments(cluster="prod", service="nope")
