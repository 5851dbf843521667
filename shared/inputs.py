"""Reading what a person hands the CLI: event, log and case files (parsing lives in shared.models.parse).

Every problem becomes `BadInput` with a one-line message naming the file and the problem, so the
CLI can print it without a traceback. Nothing here talks to AWS.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.evidence.model import Evidence, GapNote
from shared.logs import normalise
from shared.models.event import TaskStateChangeEvent
from shared.models.parse import BadInput, describe_validation_error, parse_task_event

__all__ = ["BadInput", "describe_validation_error", "load_case", "load_event", "load_logs", "offline_evidence",
           "parse_task_event", "read_json", "read_text"]

MAX_FILE_BYTES = 256 * 1024 * 1024
OFFLINE_GAP = ("Offline diagnosis: the task definition, target group health, IAM policies and network "
               "configuration were not read.")


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


def offline_evidence(event: TaskStateChangeEvent, logs: Any, gaps: tuple[str, ...] = (OFFLINE_GAP,)) -> Evidence:
    names = [c.name for c in event.detail.containers if c.name]
    logset = normalise(logs, names)
    if len(names) == 1:
        logset = logset.attribute_unlabelled(names[0])
    return Evidence(event=event, logs=logset, gaps=tuple(GapNote(g, "skipped") for g in gaps), offline=True)


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
