"""Reading what a person hands the CLI: events, log files and case files.

Every problem becomes `BadInput` with a one-line message naming the file and the problem, so the
CLI can print it without a traceback. Nothing here talks to AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.evidence.model import Evidence
from shared.logs import LogSet
from shared.models.event import ECS_SOURCE, TASK_STATE_CHANGE, TaskStateChangeEvent
from shared.pasted import normalise

MAX_FILE_BYTES = 256 * 1024 * 1024
OFFLINE_GAP = ("Offline diagnosis: the task definition, target group health, IAM policies and network "
               "configuration were not read.")


class BadInput(ValueError):
    """Input that cannot be diagnosed; str() is the one-line message for the user."""


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{prefix}{loc}: {first.get('msg', 'invalid')}{more}"


def parse_task_event(obj: Any) -> TaskStateChangeEvent:
    """An "ECS Task State Change" event from an EventBridge envelope, a DescribeTasks response
    ({"tasks": [...]}) or a bare task object."""
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


def _wrap(task: dict) -> dict:
    arn = task.get("taskArn") if isinstance(task.get("taskArn"), str) else ""  # else validation names it
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


def read_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise BadInput(f"{path}: is a directory")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: too large ({size} bytes; the limit is {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except PermissionError:
        raise BadInput(f"{path}: permission denied") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{path}: binary data, not a text file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


def load_event(path: Path) -> TaskStateChangeEvent:
    try:
        return parse_task_event(read_json(path))
    except BadInput as exc:
        msg = str(exc)
        raise BadInput(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def load_logs(path: Path) -> str:
    return read_text(path)


def pasted_logs(event: TaskStateChangeEvent, logs: Any) -> LogSet:
    """The log set of what a person handed the CLI (see shared.pasted), the only container's when
    the task has one."""
    if isinstance(logs, LogSet):
        return logs
    names = [c.name for c in event.detail.containers if c.name]
    logset = normalise(logs, names)
    if len(names) == 1:
        logset = logset.attribute_unlabelled(names[0])
    return logset


def offline_evidence(event: TaskStateChangeEvent, logs: Any, gaps: tuple[str, ...] = (OFFLINE_GAP,)) -> Evidence:
    return Evidence(event=event, logs=pasted_logs(event, logs), gaps=gaps, offline=True)


def load_case(path: Path) -> tuple[TaskStateChangeEvent, Any]:
    """(event, logs) of a case file: {"id", "event", "logs", "expect"?}."""
    obj = read_json(path)
    if not isinstance(obj, dict) or "event" not in obj:
        raise BadInput(f"{path}: not a case file (expected an object with \"event\" and \"logs\")")
    try:
        event = parse_task_event(obj["event"])
    except BadInput as exc:
        raise BadInput(f"{path}: {exc}") from None
    logs = obj.get("logs", [])
    if logs is None:
        logs = []
    if not isinstance(logs, list | str | dict):
        raise BadInput(f"{path}: \"logs\" must be a list of lines, a text or an object of container -> lines")
    return event, logs
