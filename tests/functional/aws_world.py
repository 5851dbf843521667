"""A small AWS world for evidence tests, built with real API calls (moto in-process or moto_server).

`World.build(clients)` registers a task definition, a cluster, log groups and streams, and returns
handles the tests use to write events; `stopped_event` builds a real-shaped "ECS Task State Change"
event for it (the task-stopped event carries what moto's DescribeTasks lacks: stop codes, exit codes).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
CLUSTER = "prod"
SERVICE = "orders-api"
TASK_ID = "0123456789abcdef0123456789abcdef"
TASK_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{TASK_ID}"
CLUSTER_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
LOG_GROUP = "/ecs/orders-api"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-api-task"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-api-execution"

# The task role may not read an SSM parameter: the app's own AccessDenied, as botocore prints it.
SSM_PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/orders/db"
SSM_DENIED_LOGS = [
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 8, in <module>',
    "    ssm.get_parameter(Name='/prod/orders/db')",
    "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetParameter "
    f"operation: User: arn:aws:sts::{ACCOUNT}:assumed-role/orders-api-task/4f9c2a1b0e8d4c7a is not authorized to "
    f"perform: ssm:GetParameter on resource: {SSM_PARAMETER} because no identity-based policy allows the "
    "ssm:GetParameter action",
]

CRASH_LOGS = [
    "INFO starting orders-api 1.4.2",
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 12, in <module>',
    "    url = os.environ['DATABASE_URL']",
    "  File \"<frozen os>\", line 679, in __getitem__",
    "KeyError: 'DATABASE_URL'",
]
PANIC_LOGS = [
    "starting worker",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]",
    "goroutine 1 [running]:",
    "main.main()",
    "\t/src/main.go:42 +0x1d",
]


def container_def(name: str = "app", *, memory: int | None = 512, env: dict[str, str] | None = None,
                  secrets: dict[str, str] | None = None, ports: tuple[int, ...] = (8000,),
                  log_driver: str = "awslogs", group: str = LOG_GROUP, prefix: str | None = "ecs",
                  essential: bool = True) -> dict:
    options = {"awslogs-group": group, "awslogs-region": REGION}
    if prefix:
        options["awslogs-stream-prefix"] = prefix
    c: dict[str, Any] = {
        "name": name, "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}:1.4.2", "essential": essential,
        "environment": [{"name": k, "value": v} for k, v in (env or {}).items()],
        "secrets": [{"name": k, "valueFrom": v} for k, v in (secrets or {}).items()],
        "portMappings": [{"containerPort": p, "protocol": "tcp"} for p in ports],
        "logConfiguration": ({"logDriver": log_driver, "options": options} if log_driver == "awslogs"
                             else {"logDriver": log_driver, "options": {"Name": "cloudwatch"}}),
    }
    if memory:
        c["memory"] = memory
    return c


@dataclass
class World:
    clients: Any
    task_definition_arn: str = ""
    containers: list[dict] = field(default_factory=list)

    @classmethod
    def build(cls, clients: Any, containers: list[dict] | None = None, *, family: str = SERVICE) -> World:
        world = cls(clients)
        world.containers = containers or [container_def(env={"LOG_LEVEL": "debug-secret-value"},
                                                        secrets={"API_TOKEN": "arn:aws:ssm:us-east-1:1:parameter/t"})]
        ecs = clients("ecs")
        ecs.create_cluster(clusterName=CLUSTER)
        td = ecs.register_task_definition(
            family=family, networkMode="bridge", cpu="512", memory="1024", taskRoleArn=TASK_ROLE,
            executionRoleArn=EXEC_ROLE, containerDefinitions=world.containers,
        )["taskDefinition"]
        world.task_definition_arn = td["taskDefinitionArn"]
        logs = clients("logs")
        groups = {c["logConfiguration"]["options"].get("awslogs-group") for c in world.containers
                  if c["logConfiguration"]["logDriver"] == "awslogs"}
        for group in sorted(g for g in groups if g):
            logs.create_log_group(logGroupName=group)
        return world

    def write_logs(self, container: str, lines: list[str], task_id: str = TASK_ID, prefix: str = "ecs",
                   group: str = LOG_GROUP) -> str:
        logs = self.clients("logs")
        stream = f"{prefix}/{container}/{task_id}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000) - len(lines)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
        return stream

    def stopped_event(self, **detail: Any) -> dict:
        return stopped_event(task_definition_arn=self.task_definition_arn, **detail)


_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "3317b2af-7005-947d-b652-f55e762e571a",
    "detail-type": "ECS Task State Change",
    "source": "aws.ecs",
    "account": ACCOUNT,
    "time": "2026-11-27T10:00:00Z",
    "region": REGION,
    "resources": [TASK_ARN],
    "detail": {
        "clusterArn": CLUSTER_ARN,
        "taskArn": TASK_ARN,
        "group": f"service:{SERVICE}",
        "startedBy": "ecs-svc/1234567890123456789",
        "launchType": "FARGATE",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "cpu": "512",
        "memory": "1024",
        "version": 5,
        "startedAt": "2026-11-27T09:59:00Z",
        "stoppedAt": "2026-11-27T10:00:00Z",
        "containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1.4.2"}],
        "attachments": [{"id": "a", "type": "eni", "status": "DELETED",
                         "details": [{"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"},
                                     {"name": "privateIPv4Address", "value": "10.0.1.25"}]}],
    },
}


def stopped_event(task_definition_arn: str = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{SERVICE}:1",
                  **detail: Any) -> dict:
    ev = copy.deepcopy(_EVENT)
    ev["detail"]["taskDefinitionArn"] = task_definition_arn
    ev["detail"].update(detail)
    return ev
