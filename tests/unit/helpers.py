"""Building evidence for pattern tests: a minimal real-shaped event plus log lines."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from shared.engine import diagnose
from shared.evidence.model import Evidence
from shared.inputs import offline_evidence, parse_task_event
from shared.models.finding import Finding

_BASE: dict[str, Any] = {
    "version": "0",
    "id": "3317b2af-7005-947d-b652-f55e762e571a",
    "detail-type": "ECS Task State Change",
    "source": "aws.ecs",
    "account": "111122223333",
    "time": "2024-05-01T10:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ecs:us-east-1:111122223333:task/prod/0123456789abcdef0123456789abcdef"],
    "detail": {
        "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
        "taskArn": "arn:aws:ecs:us-east-1:111122223333:task/prod/0123456789abcdef0123456789abcdef",
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12",
        "group": "service:orders-api",
        "startedBy": "ecs-svc/1234567890123456789",
        "launchType": "FARGATE",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": "Essential container in task exited",
        "cpu": "512",
        "memory": "1024",
        "version": 5,
        "containers": [
            {"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"},
        ],
        "attachments": [{"id": "a", "type": "eni", "status": "DELETED",
                         "details": [{"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}]}],
    },
}


def event(**detail: Any) -> dict[str, Any]:
    """A task-stopped event; keyword arguments replace detail fields (containers=[...], stopCode=...)."""
    ev = copy.deepcopy(_BASE)
    ev["detail"].update(detail)
    return ev


def evidence(logs: Any = (), **detail: Any) -> Evidence:
    return offline_evidence(parse_task_event(event(**detail)), list(logs) if isinstance(logs, tuple) else logs)


def run(logs: Any = (), **detail: Any) -> Finding:
    return diagnose(evidence(logs, **detail))


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield from obj.split("\n")
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


@cache
def corpus_lines() -> tuple[str, ...]:
    """Every line of every case's logs and event, sorted (the corpus side of the regex equivalence checks)."""
    lines: set[str] = set()
    for path in sorted((Path(__file__).resolve().parents[2] / "tests/cases").glob("*/*.json")):
        case = json.loads(path.read_text())
        lines.update(s for s in _strings([case.get("logs"), case.get("event")]) if s)
    return tuple(sorted(lines))
