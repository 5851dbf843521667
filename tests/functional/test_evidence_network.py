"""Network causes: the task subnet's route to the internet and the VPC's endpoints (moto EC2)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs, network
from shared.evidence.gather import EVERYTHING, NOTHING, gather
from shared.inputs import parse_task_event
from shared.pipeline import investigate
from tests.functional.aws_world import CLUSTER, REGION, SERVICE, World, container_def

TIMEOUT = [
    "Traceback (most recent call last):",
    '  File "/app/pay.py", line 30, in charge',
    "requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded "
    "with url: /v1/charges (Caused by ConnectTimeoutError(<urllib3.connection.HTTPSConnection object at "
    "0x7f3a2c1b2d30>, 'Connection to api.stripe.com timed out. (connect timeout=10)'))",
]


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


def vpc_world(aws: Clients, *, route: str | None, explicit: bool = True) -> dict:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]
    if explicit:
        rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
    else:
        rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0][
            "RouteTableId"]
    if route == "nat":
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=[rt],
                            VpcEndpointType="Gateway")
    task_sg = ec2.create_security_group(GroupName="task", Description="task", VpcId=vpc)["GroupId"]
    world = World.build(aws, [container_def()])
    aws("ecs").create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=world.task_definition_arn, desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [task_sg],
                                                      "assignPublicIp": "DISABLED"}})
    world.write_logs("app", TIMEOUT)
    event = parse_task_event(world.stopped_event(attachments=[
        {"id": "a", "type": "eni", "status": "DELETED", "details": [{"name": "subnetId", "value": subnet}]}]))
    return {"event": event, "subnet": subnet, "vpc": vpc}


def test_egress_timeout_in_a_subnet_without_nat(aws):
    w = vpc_world(aws, route=None)
    aws.reset_calls()
    ev, finding = investigate(w["event"], aws)
    assert finding.pattern == "network-egress-blocked"
    assert ev.network.subnet_id == w["subnet"] and ev.network.vpc_id == w["vpc"]
    assert ev.network.internet_route is None and ev.network.public_ip is False
    assert finding.facts["internet_route"] == "none"
    assert finding.facts["vpc_endpoints"] == [f"com.amazonaws.{REGION}.s3"]
    assert any("no route to the internet" in step for step in finding.remediation)
    # Extra reads for this pattern only: the service (security groups, public IP), routes, endpoints.
    assert {k: v for k, v in aws.calls.items() if k.startswith("ec2.")} == {
        "ec2.DescribeRouteTables": 1, "ec2.DescribeVpcEndpoints": 1}


def test_nat_route_in_the_main_route_table(aws):
    w = vpc_world(aws, route="nat", explicit=False)
    ev = gather(w["event"], aws, need=EVERYTHING)
    assert ev.network.internet_route == "nat"
    assert ev.network.vpc_id == w["vpc"]


def test_no_network_reads_when_not_needed(aws):
    w = vpc_world(aws, route=None)
    aws.reset_calls()
    ev = gather(w["event"], aws, need=NOTHING)
    assert ev.network is None and not any(k.startswith("ec2.") for k in aws.calls)


def test_unknown_subnet_is_a_gap(aws):
    w = vpc_world(aws, route=None)
    event = w["event"].model_copy(update={"detail": w["event"].detail.model_copy(update={"attachments": []})})
    ev = gather(event, aws, need=EVERYTHING)
    assert any("subnet is unknown" in g for g in ev.gaps)


@pytest.mark.parametrize(("routes", "expected"), [
    ([{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}], None),
    ([{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}], "nat"),
    ([{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}], "igw"),
    ([{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"}], None),
    ([{"DestinationCidrBlock": "0.0.0.0/0", "TransitGatewayId": "tgw-1", "State": "active"}], "tgw"),
    ([{"DestinationCidrBlock": "0.0.0.0/0", "NetworkInterfaceId": "eni-1", "State": "active"}], "instance"),
    ([{"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-1", "State": "active"}], None),
])
def test_internet_route(routes, expected):
    assert network.internet_route(routes) == expected


def _sg(*perms):
    return [{"GroupId": "sg-task", "IpPermissions": list(perms)}]


@pytest.mark.parametrize(("groups", "ok", "words"), [
    (_sg({"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}),
     True, "admits sg-lb on port 8000"),
    (_sg({"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}), True, "sg-lb"),
    (_sg({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}), True,
     "0.0.0.0/0"),
    (_sg({"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}), None,
     "not checked"),
    (_sg({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}), False,
     "no rule of sg-task admits the load balancer security group sg-lb on port 8000"),
    (_sg({"IpProtocol": "udp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]}), False,
     "no rule"),
    (_sg({"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "UserIdGroupPairs": [{"GroupId": "sg-other"}]}),
     False, "no rule"),
])
def test_lb_ingress(groups, ok, words):
    got, detail = network.lb_ingress(groups, ("sg-lb",), 8000)
    assert got is ok
    assert words in detail
