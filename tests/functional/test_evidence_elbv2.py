"""ELB health-check stops: target group, target health reasons and the load balancer -> task rule.

moto builds the VPC, security groups, load balancer, target group and ECS service; target health
reasons (which moto never reports) come from a recorded real-shaped DescribeTargetHealth answer.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs, elbv2
from shared.inputs import parse_task_event
from shared.pipeline import investigate
from tests.functional.aws_world import CLUSTER, REGION, SERVICE, World, container_def


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


def answer(clients: Clients, service: str, operation: str, parsed: dict) -> None:
    """Answer one operation with a recorded response (what botocore's Stubber does, for one call only)."""
    from botocore.awsrequest import AWSResponse

    def respond(**_):
        return AWSResponse("https://stub", 200, {}, None), parsed

    clients(service).meta.events.register(f"before-call.{clients(service).meta.service_model.service_id.hyphenize()}"
                                          f".{operation}", respond)


def build_lb_world(aws: Clients, *, admit_lb: bool, health_path: str = "/healthz") -> dict:
    ec2, elb = aws("ec2"), aws("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    lb_sg = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=vpc)["GroupId"]
    task_sg = ec2.create_security_group(GroupName="task", Description="task", VpcId=vpc)["GroupId"]
    if admit_lb:
        ec2.authorize_security_group_ingress(GroupId=task_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [{"GroupId": lb_sg}]}])
    else:  # the classic mistake: the rule admits the LB on another port
        ec2.authorize_security_group_ingress(GroupId=task_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": lb_sg}]}])
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=sub_a)
    lb = elb.create_load_balancer(Name="orders", Subnets=[sub_a, sub_b], SecurityGroups=[lb_sg])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="orders", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip",
                                 HealthCheckPath=health_path, HealthCheckTimeoutSeconds=5)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    world = World.build(aws, [container_def(ports=(8000,))])
    aws("ecs").create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=world.task_definition_arn, desiredCount=2,
        launchType="FARGATE", healthCheckGracePeriodSeconds=30,
        loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "app", "containerPort": 8000}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [sub_a], "securityGroups": [task_sg],
                                                      "assignPublicIp": "ENABLED"}})
    return {"world": world, "tg": tg["TargetGroupArn"], "lb_sg": lb_sg, "task_sg": task_sg, "subnet": sub_a,
            "vpc": vpc}


def hc_event(w: dict, **detail):
    return parse_task_event(w["world"].stopped_event(
        stopCode="ServiceSchedulerInitiated",
        stoppedReason=f"Task failed ELB health checks in (target-group {w['tg']})",
        containers=[{"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}],
        attachments=[{"id": "a", "type": "eni", "status": "DELETED",
                      "details": [{"name": "subnetId", "value": w["subnet"]},
                                  {"name": "privateIPv4Address", "value": "10.0.1.25"}]}],
        **detail))


def test_path_not_found_from_target_health_with_the_mismatch_side_by_side(aws):
    w = build_lb_world(aws, admit_lb=True)
    w["world"].write_logs("app", ["INFO:     Started server process [1]",
                                  "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)"])
    answer(aws, "elbv2", "DescribeTargetHealth", {"TargetHealthDescriptions": [
        {"Target": {"Id": "10.0.1.99", "Port": 8000}, "HealthCheckPort": "8000",
         "TargetHealth": {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                          "Description": "Health checks failed with these codes: [200]"}},
        {"Target": {"Id": "10.0.1.25", "Port": 8000}, "HealthCheckPort": "8000",
         "TargetHealth": {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                          "Description": "Health checks failed with these codes: [404]"}},
    ]})
    aws.reset_calls()
    ev, finding = investigate(hc_event(w), aws)
    assert finding.pattern == "health-check-failed"
    assert finding.facts["cause"] == "path-not-found"
    assert finding.facts["health_check_path"] == "/healthz"
    assert finding.facts["target_health_reason"] == "Target.ResponseCodeMismatch"
    assert finding.facts["status_codes"] == ["404"]  # the stopped task's own target is read first
    assert ev.service.name == SERVICE and ev.service.target_group_arns == (w["tg"],)
    tg = ev.target_groups[0]
    assert (tg.container_name, tg.container_port, tg.matcher, tg.timeout_seconds) == ("app", 8000, "200", 5)
    assert tg.load_balancer_security_groups == (w["lb_sg"],)
    assert ev.network.lb_ingress_ok is True and ev.network.internet_route == "igw" and ev.network.public_ip is True
    assert any("| path /healthz | no route /healthz | 404 |" in step for step in finding.remediation)
    assert aws.calls["elbv2.DescribeTargetHealth"] == 1, dict(aws.calls)
    assert aws.calls["ecs.DescribeServices"] == 1


def test_security_group_not_admitting_the_load_balancer(aws):
    w = build_lb_world(aws, admit_lb=False)
    w["world"].write_logs("app", ["Listening on http://0.0.0.0:8000"])
    answer(aws, "elbv2", "DescribeTargetHealth", {"TargetHealthDescriptions": []})
    ev, finding = investigate(hc_event(w), aws)
    assert ev.network.lb_ingress_ok is False
    assert w["task_sg"] in ev.network.lb_ingress_detail and "port 8000" in ev.network.lb_ingress_detail
    assert finding.facts["cause"] == "no-requests-seen"
    check = next(c for c in finding.checks if c.name.startswith("Network path"))
    assert "LB -> task: no rule of" in check.result


def test_loopback_bind_wins_over_target_health(aws):
    w = build_lb_world(aws, admit_lb=True)
    w["world"].write_logs("app", ["INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"])
    answer(aws, "elbv2", "DescribeTargetHealth", {"TargetHealthDescriptions": [
        {"Target": {"Id": "10.0.1.25", "Port": 8000},
         "TargetHealth": {"State": "unhealthy", "Reason": "Target.FailedHealthChecks",
                          "Description": "Health checks failed"}}]})
    _, finding = investigate(hc_event(w), aws)
    assert finding.facts["cause"] == "not-listening"
    assert finding.facts["listen_address"] == "127.0.0.1"


def test_root_cause_in_logs_skips_target_health_reads(aws):
    w = build_lb_world(aws, admit_lb=True)
    w["world"].write_logs("app", ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>',
                                  "KeyError: 'DATABASE_URL'"])
    aws.reset_calls()
    _, finding = investigate(hc_event(w), aws)
    assert finding.pattern == "missing-env-var" and finding.symptom == "health-check-failed"
    assert not any(k.startswith("elbv2.") for k in aws.calls)


def test_denied_target_group_read_is_a_gap(aws):
    from botocore.stub import Stubber

    w = build_lb_world(aws, admit_lb=True)
    w["world"].write_logs("app", ["Listening on http://0.0.0.0:8000"])
    stub = Stubber(aws("elbv2"))
    stub.add_client_error("describe_target_groups", "AccessDenied", "not allowed", 403)
    stub.activate()
    _, finding = investigate(hc_event(w), aws)
    assert finding.pattern == "health-check-failed"
    assert any("elasticloadbalancing:DescribeTargetGroups (AccessDenied)" in g for g in finding.gaps)


def test_target_group_in_stopped_reason():
    arn = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/sin-web-tg/4f4a5f8e9c7b6a5d"
    assert elbv2.target_group_in_reason(f"Task failed ELB health checks in (target-group {arn})") == arn
    assert elbv2.target_group_in_reason("Essential container in task exited") is None
    assert elbv2.classic_elb_in_reason("Task failed ELB health checks in (elb my-classic)") == "my-classic"


def test_service_facts_from_a_real_shaped_describe_services():
    from botocore.session import get_session
    from botocore.stub import Stubber

    client = get_session().create_client("ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    tg = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/orders/590db4486586f21e"
    with Stubber(client) as stub:
        stub.add_response("describe_services", {"services": [{
            "serviceName": SERVICE, "desiredCount": 3, "healthCheckGracePeriodSeconds": 60,
            "loadBalancers": [{"targetGroupArn": tg, "containerName": "app", "containerPort": 8000}],
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"],
                                                             "assignPublicIp": "DISABLED"}}}], "failures": []},
            {"cluster": CLUSTER, "services": [SERVICE]})
        stub.add_response("describe_services", {"services": [], "failures": [
            {"arn": f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/gone", "reason": "MISSING"}]})
        info = ecs.fetch_service(client, CLUSTER, SERVICE)
        with pytest.raises(ecs.Gap, match="gone in cluster prod: MISSING"):
            ecs.fetch_service(client, CLUSTER, "gone")
    assert info.facts.health_check_grace_period == 60 and info.facts.desired_count == 3
    assert info.load_balancers[0] == ecs.LoadBalancerLink(tg, "app", 8000)
    assert (info.security_groups, info.assign_public_ip) == (("sg-1",), False)
