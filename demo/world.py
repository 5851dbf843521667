"""A realistic account on the AWS stand-in, built with ordinary API calls (what `terraform apply` would do).

    account = Account.seed(endpoint)                 # network, cluster, roles, topic + subscriber, table, secret
    account.add_service("orders-api", target_group="orders-api-tg", health_path="/health")
    td_arn = account.register(sample)                # a task definition revision using awslogs
    account.write_logs(sample)                       # the sample's log lines into its streams
    event = account.event_for(sample, td_arn)       # the sample event, pointing at what was just built

Samples are events/<name>.json (a real-shaped "ECS Task State Change" event) and events/<name>.log
(`aws logs tail` output: timestamp, stream, message). The account id is the samples' own
(111122223333, the stand-in is started with it), so their ARNs hold as they are; only what the stand-in
names itself (task definition revisions, target group ARNs, subnet ids) is rewritten in the event.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from demo.standin import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
CLUSTER = "prod"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
TOPIC = "ecs-autopsy-findings"
QUEUE = "findings-subscriber"
TABLE = "ecs-autopsy-state"
SECRET = "ecs-autopsy/slack-webhook"
# The Slack workspace of the demo: the default channel and a team's own channel (routed by service tags).
DEFAULT_CHANNEL = "C0ECSALERT"
SLACK_CHANNELS = {DEFAULT_CHANNEL: "ecs-alerts", "C0BILLING1": "billing-team"}
PORT = 8000
SAMPLE_SUBNET = "subnet-0a1b2c3d4e5f60718"


# -------------------------------------------------------------------------------------------------
# Samples
# -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    name: str
    event: dict[str, Any]
    streams: dict[str, list[str]] = field(default_factory=dict)  # stream name -> messages, oldest first

    @property
    def detail(self) -> dict[str, Any]:
        return self.event["detail"]

    @property
    def family(self) -> str:
        return self.detail["taskDefinitionArn"].rsplit("/", 1)[-1].split(":")[0]

    @property
    def service(self) -> str | None:
        group = self.detail.get("group") or ""
        return group.split(":", 1)[1] if group.startswith("service:") else None

    @property
    def task_id(self) -> str:
        return self.detail["taskArn"].rsplit("/", 1)[-1]

    def messages(self, container: str) -> list[str]:
        """The log lines of one container, whatever the task id in the stream name."""
        for stream, lines in self.streams.items():
            if stream.split("/")[1:2] == [container]:
                return lines
        return []


def load_sample(name: str, folder: Path = EVENTS) -> Sample:
    event = json.loads((folder / f"{name}.json").read_text())
    streams: dict[str, list[str]] = {}
    log = folder / f"{name}.log"
    if log.exists():
        for line in log.read_text().splitlines():
            parts = line.split(" ", 2)
            if len(parts) < 2:
                continue
            streams.setdefault(parts[1], []).append(parts[2] if len(parts) == 3 else "")
    return Sample(name, event, streams)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -------------------------------------------------------------------------------------------------
# The account
# -------------------------------------------------------------------------------------------------
@dataclass
class Account:
    """Handles on what was built; `client(service)` talks to the stand-in (not through ecs-autopsy's
    clients, so the calls the demo makes to build the world are never counted as ecs-autopsy's)."""

    endpoint: str
    clients: dict[str, Any] = field(default_factory=dict)
    vpc: str = ""
    private_subnets: list[str] = field(default_factory=list)
    public_subnets: list[str] = field(default_factory=list)
    task_sg: str = ""
    lb_sg: str = ""
    load_balancer: str = ""
    topic_arn: str = ""
    queue_url: str | None = None
    table: str = TABLE
    secret_arn: str = ""
    app_mode: bool = False
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    target_groups: dict[str, str] = field(default_factory=dict)  # name -> ARN
    built: list[str] = field(default_factory=list)  # what was created, for the progress line
    _listener_port: int = 80

    def client(self, service: str) -> Any:
        if service not in self.clients:
            import boto3

            self.clients[service] = boto3.session.Session(region_name=REGION).client(
                service, endpoint_url=self.endpoint, region_name=REGION)
        return self.clients[service]

    # -- the base account -------------------------------------------------------------------------
    @classmethod
    def seed(cls, endpoint: str, *, webhook_url: str, subscriber: bool = True, api_url: str | None = None,
             token: str | None = None) -> Account:
        account = cls(endpoint)
        account._network()
        account._cluster_and_roles()
        account._delivery(webhook_url, subscriber, api_url, token)
        return account

    def _network(self) -> None:
        ec2 = self.client("ec2")
        self.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[self.vpc], Tags=[{"Key": "Name", "Value": "prod"}])
        ec2.modify_vpc_attribute(VpcId=self.vpc, EnableDnsHostnames={"Value": True})  # task ENIs get DNS names
        for i, az in enumerate(("a", "b")):
            self.public_subnets.append(ec2.create_subnet(
                VpcId=self.vpc, CidrBlock=f"10.0.{101 + i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
            self.private_subnets.append(ec2.create_subnet(
                VpcId=self.vpc, CidrBlock=f"10.0.{1 + i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"])
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=self.vpc)
        public_rt = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=self.public_subnets[0], AllocationId=eip)["NatGateway"]["NatGatewayId"]
        private_rt = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        for subnet in self.public_subnets:
            ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet)
        for subnet in self.private_subnets:
            ec2.associate_route_table(RouteTableId=private_rt, SubnetId=subnet)
        ec2.create_vpc_endpoint(VpcId=self.vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                RouteTableIds=[private_rt], VpcEndpointType="Gateway")
        self.lb_sg = ec2.create_security_group(GroupName="prod-alb", Description="public load balancer",
                                               VpcId=self.vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=self.lb_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        self.task_sg = ec2.create_security_group(GroupName="prod-tasks", Description="ECS tasks",
                                                 VpcId=self.vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=self.task_sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "UserIdGroupPairs": [{"GroupId": self.lb_sg}]}])
        self.load_balancer = self.client("elbv2").create_load_balancer(
            Name="prod-alb", Subnets=self.public_subnets, SecurityGroups=[self.lb_sg], Scheme="internet-facing",
            Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
        self.built.append("VPC with 4 subnets, NAT and internet gateways, route tables, 2 security groups, an ALB")

    def _cluster_and_roles(self) -> None:
        self.client("ecs").create_cluster(clusterName=CLUSTER)
        self.built.append(f"cluster {CLUSTER}")

    def role(self, name: str, actions: list[str] | None = None, resource: str = "*") -> str:
        """An IAM role ECS tasks can assume, with an inline policy allowing `actions`."""
        iam = self.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
        try:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        if actions:
            iam.put_role_policy(RoleName=name, PolicyName="app", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}))
        return str(arn)

    def _delivery(self, webhook_url: str, subscriber: bool, api_url: str | None = None,
                  token: str | None = None) -> None:
        sns, sqs, ddb = self.client("sns"), self.client("sqs"), self.client("dynamodb")
        self.topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
        if subscriber:  # what a subscriber gets: the SNS envelope (no raw delivery), attributes included
            self.queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        ddb.create_table(TableName=self.table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.update_time_to_live(TableName=self.table,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})
        # Slack app mode (a bot token) when the stand-in's Web API is given, else the webhook alone.
        value = ({"bot_token": token, "channel": DEFAULT_CHANNEL, "api_url": api_url, "webhook_url": webhook_url}
                 if api_url and token else {"url": webhook_url})
        self.app_mode = "bot_token" in value
        self.secret_arn = self.client("secretsmanager").create_secret(
            Name=SECRET, SecretString=json.dumps(value))["ARN"]
        self.built.append(f"SNS topic {TOPIC}" + (f" with SQS queue {QUEUE} subscribed" if subscriber else ""))
        self.built.append(f"DynamoDB table {TABLE} (key id, TTL expiration)")
        self.built.append(f"Secrets Manager secret {SECRET} " + ("(a Slack bot token, default channel #ecs-alerts)"
                                                                 if self.app_mode else "(the webhook URL)"))

    def settings_env(self) -> dict[str, str]:
        """The ECS_AUTOPSY_* variables the CDK stack would give the functions."""
        env = {"ECS_AUTOPSY_TOPIC_ARN": self.topic_arn, "ECS_AUTOPSY_TABLE_NAME": self.table,
               "ECS_AUTOPSY_SLACK_SECRET_ID": self.secret_arn}
        if self.app_mode:
            env |= {"ECS_AUTOPSY_SLACK_CHANNEL": DEFAULT_CHANNEL, "ECS_AUTOPSY_ROUTE_BY_TAGS": "true"}
        return env

    # -- services ---------------------------------------------------------------------------------
    def add_service(self, name: str, td_arn: str, *, target_group: str | None = None,
                    health_path: str = "/health", container: str = "app",
                    tags: dict[str, str] | None = None) -> dict[str, Any]:
        if name in self.services:
            return self.services[name]
        load_balancers = []
        tg_arn = None
        if target_group:
            elb = self.client("elbv2")
            tg_arn = elb.create_target_group(
                Name=target_group, Protocol="HTTP", Port=PORT, VpcId=self.vpc, TargetType="ip",
                HealthCheckPath=health_path, HealthCheckIntervalSeconds=30, HealthCheckTimeoutSeconds=5,
                HealthyThresholdCount=5, UnhealthyThresholdCount=2, Matcher={"HttpCode": "200"},
            )["TargetGroups"][0]["TargetGroupArn"]
            elb.create_listener(LoadBalancerArn=self.load_balancer, Protocol="HTTP", Port=self._listener_port,
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
            self._listener_port += 1
            self.target_groups[target_group] = tg_arn
            load_balancers = [{"targetGroupArn": tg_arn, "containerName": container, "containerPort": PORT}]
        self.client("ecs").create_service(
            cluster=CLUSTER, serviceName=name, taskDefinition=td_arn, desiredCount=2, launchType="FARGATE",
            loadBalancers=load_balancers, healthCheckGracePeriodSeconds=60 if load_balancers else 0,
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.private_subnets,
                                                          "securityGroups": [self.task_sg],
                                                          "assignPublicIp": "DISABLED"}},
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        )
        self.services[name] = {"target_group": tg_arn}
        return self.services[name]

    def register(self, sample: Sample, *, env: dict[str, str] | None = None,
                 secrets: dict[str, str] | None = None, task_role_actions: list[str] | None = None,
                 task_role_resource: str = "*", memory: str | None = None) -> str:
        """A task definition revision for the sample's containers: awslogs to /ecs/<family>."""
        family = sample.family
        group = f"/ecs/{family}"
        logs = self.client("logs")
        try:
            logs.create_log_group(logGroupName=group)
            logs.put_retention_policy(logGroupName=group, retentionInDays=30)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        task_role = self.role(f"{family}-task-role", task_role_actions, task_role_resource)
        exec_role = self.role(f"{family}-execution-role", [
            "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
            "logs:CreateLogStream", "logs:PutLogEvents"])
        containers = []
        memory = memory or str(sample.detail.get("memory") or "1024")
        for c in sample.detail["containers"]:
            containers.append({
                "name": c["name"],
                "image": c.get("image") or f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{family}:latest",
                "essential": True,
                "memory": int(memory) // len(sample.detail["containers"]),
                "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
                "environment": [{"name": k, "value": v} for k, v in (env or {}).items()],
                "secrets": [{"name": k, "valueFrom": v} for k, v in (secrets or {}).items()],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}},
            })
        td = self.client("ecs").register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu=str(sample.detail.get("cpu") or "512"), memory=memory,
            taskRoleArn=task_role, executionRoleArn=exec_role, containerDefinitions=containers,
        )["taskDefinition"]
        return str(td["taskDefinitionArn"])

    def push_image(self, image: str, content: str) -> str:
        """Push `image` (repository:tag of this account's ECR) with layers derived from `content`: pushing
        the same tag with other content gives it a new digest, as `docker push` does. Returns the digest."""
        import hashlib

        ecr = self.client("ecr")
        repository, _, tag = image.split("/", 1)[1].rpartition(":")
        with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
            ecr.create_repository(repositoryName=repository)
        layer = "sha256:" + hashlib.sha256(content.encode()).hexdigest()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                               "digest": layer}, "layers": [{"mediaType": "application/vnd.docker.image.rootfs"
                                                             ".diff.tar.gzip", "size": 1, "digest": layer}]}
        got = ecr.put_image(repositoryName=repository, imageTag=tag, imageManifest=json.dumps(manifest))
        return str(got["image"]["imageId"]["imageDigest"])

    def deploy(self, service: str, td_arn: str) -> str:
        """UpdateService to a revision (a new service deployment); the deployment's ecs-svc/ id."""
        ecs = self.client("ecs")
        ecs.update_service(cluster=CLUSTER, service=service, taskDefinition=td_arn, forceNewDeployment=True)
        return str(ecs.describe_services(cluster=CLUSTER, services=[service])["services"][0]["deployments"][0]["id"])

    # -- logs -------------------------------------------------------------------------------------
    def write_logs(self, sample: Sample, task_id: str | None = None) -> int:
        """The sample's log lines into /ecs/<family>, stream ecs/<container>/<task id>."""
        logs = self.client("logs")
        group = f"/ecs/{sample.family}"
        written = 0
        for stream, lines in sample.streams.items():
            prefix, container = stream.split("/")[:2]
            name = f"{prefix}/{container}/{task_id or sample.task_id}"
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(logGroupName=group, logStreamName=name)
            start = int(time.time() * 1000) - 60_000
            events = [{"timestamp": start + i * 137, "message": line or " "} for i, line in enumerate(lines)]
            for i in range(0, len(events), 1000):
                logs.put_log_events(logGroupName=group, logStreamName=name, logEvents=events[i:i + 1000])
            written += len(events)
        return written

    # -- events -----------------------------------------------------------------------------------
    def event_for(self, sample: Sample, td_arn: str, *, task_arn: str | None = None, version: int | None = None,
                  event_id: str | None = None) -> dict[str, Any]:
        """The sample's event, pointing at this account's task definition, target group and subnet."""
        event = copy.deepcopy(sample.event)
        d = event["detail"]
        d["taskDefinitionArn"] = td_arn
        reason = d.get("stoppedReason") or ""
        for name, arn in self.target_groups.items():
            if f"targetgroup/{name}/" in reason:
                start = reason.index("arn:aws:elasticloadbalancing")
                end = reason.index(")", start) if ")" in reason[start:] else len(reason)
                d["stoppedReason"] = reason[:start] + arn + reason[end:]
        for attachment in d.get("attachments") or []:
            for kv in attachment.get("details") or []:
                if kv.get("name") == "subnetId" and kv.get("value") == SAMPLE_SUBNET:
                    kv["value"] = self.private_subnets[0]
        if task_arn:
            old = d["taskArn"]
            d["taskArn"] = task_arn
            event["resources"] = [task_arn]
            for c in d.get("containers") or []:
                c["taskArn"] = task_arn
                if c.get("containerArn"):
                    c["containerArn"] = c["containerArn"].replace(old.rsplit("/", 1)[-1], task_arn.rsplit("/", 1)[-1])
        if version is not None:
            d["version"] = version
        if event_id:
            event["id"] = event_id
        stamp = now_iso()
        event["time"] = stamp[:19] + "Z"
        d["stoppedAt"] = d["updatedAt"] = stamp
        return event

    # -- the subscriber ---------------------------------------------------------------------------
    def drain(self) -> list[str]:
        """Bodies of every message the subscriber queue holds, as received (deleted from the queue)."""
        if not self.queue_url:
            return []
        sqs = self.client("sqs")
        out: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                      MessageAttributeNames=["All"]).get("Messages", [])
            if not got:
                return out
            out.extend(m["Body"] for m in got)
            sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
