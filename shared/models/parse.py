"""Turning what arrives (an EventBridge event, a DescribeTasks response, a task object) into models.

Every problem becomes `BadInput` with a one-line message naming the field, so callers (the CLI, the
handlers, the manual function) can report it without a traceback. Nothing here reads files or AWS.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from shared.models.event import ECS_SOURCE, TASK_STATE_CHANGE, DeploymentEvent, TaskStateChangeEvent


class BadInput(ValueError):
    """Input that cannot be diagnosed; str() is the one-line message for the user."""


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{prefix}{loc}: {first.get('msg', 'invalid')}{more}"


def parse_task_event(obj: Any) -> TaskStateChangeEvent:
    """An "ECS Task State Change" event from an EventBridge envelope, a DescribeTasks response
    ({"tasks": [...]}), a bare JSON array of tasks (`--query tasks`) or a bare task object."""
    if isinstance(obj, list):
        if not obj:
            raise BadInput("the list of tasks is empty")
        obj = {"tasks": obj}
    if not isinstance(obj, dict):
        raise BadInput(f"expected a JSON object, got {type(obj).__name__}")
    if "detail-type" in obj or "detailType" in obj or "detail_type" in obj:
        detail_type = obj.get("detail-type") or obj.get("detailType") or obj.get("detail_type")
        if detail_type != TASK_STATE_CHANGE:
            raise BadInput(f"not an ECS task event: detail-type is {detail_type!r}, expected {TASK_STATE_CHANGE!r}")
        if obj.get("source") not in (ECS_SOURCE, None):
            raise BadInput(f"not an ECS task event: source is {obj.get('source')!r}, expected {ECS_SOURCE!r}")
        envelope = obj
    elif isinstance(obj.get("tasks"), list):
        tasks = obj["tasks"]
        if not tasks:
            failures = obj.get("failures") or []
            why = f": {failures[0].get('reason')}" if failures and isinstance(failures[0], dict) else ""
            raise BadInput(f"the DescribeTasks response holds no task{why}")
        if not isinstance(tasks[0], dict):
            raise BadInput(f"invalid DescribeTasks response at tasks.0: expected an object, got {type(tasks[0]).__name__}")
        envelope = _wrap(tasks[0])
    elif "taskArn" in obj:
        envelope = _wrap(obj)
    elif "detail" in obj:
        raise BadInput("not an ECS task event: the envelope has no detail-type")
    else:
        raise BadInput("not an ECS task event: no detail-type, no tasks[], no taskArn")
    try:
        return TaskStateChangeEvent.model_validate(envelope)
    except ValidationError as exc:
        raise BadInput(describe_validation_error(exc, "invalid ECS task event at ")) from None


def parse_deploy_event(obj: Any) -> DeploymentEvent:
    try:
        return DeploymentEvent.model_validate(obj)
    except ValidationError as exc:
        raise BadInput(describe_validation_error(exc, "invalid ECS deployment event at ")) from None


def _wrap(task: dict) -> dict:
    arn = task.get("taskArn")
    if not isinstance(arn, str):
        arn = ""  # validation names it
    parts = arn.split(":")
    return {
        "version": "0",
        "id": None,
        "detail-type": TASK_STATE_CHANGE,
        "source": ECS_SOURCE,
        "account": parts[4] if len(parts) > 5 else None,
        "region": parts[3] if len(parts) > 5 else None,
        "resources": [arn] if arn else [],
        "time": task.get("stoppedAt") or task.get("updatedAt"),
        "detail": task,
    }
