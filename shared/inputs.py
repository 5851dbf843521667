"""Reading what a person hands the CLI: event, log and case files (parsing lives in shared.models.parse).

Every problem becomes `BadInput` with a one-line message naming the file and the problem, so the
CLI can print it without a traceback. Nothing here talks to AWS. A path of `-` is standard input
(named `<stdin>` in messages); it can be read once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.evidence.model import Evidence, GapNote
from shared.logs import LogSet
from shared.models.event import TaskStateChangeEvent
from shared.models.parse import BadInput, describe_validation_error, parse_task_event
from shared.pasted import normalise

__all__ = ["BadInput", "describe_validation_error", "load_case", "load_event", "load_logs", "offline_evidence",
           "parse_task_event", "pasted_logs", "read_json", "read_text"]

MAX_FILE_BYTES = 256 * 1024 * 1024
OFFLINE_GAP = ("Offline diagnosis: the task definition, target group health, IAM policies and network "
               "configuration were not read.")


STDIN = "-"


def is_stdin(path: Path | str | None) -> bool:
    return path is not None and str(path) == STDIN


def display(path: Path | str) -> str:
    """How messages name a path: `<stdin>` for `-`."""
    return "<stdin>" if is_stdin(path) else str(path)


def read_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{display(path)}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def _read_stdin() -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream (tests, some embedders)
        data = sys.stdin.read(MAX_FILE_BYTES + 1)
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    else:
        raw = stream.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise BadInput(f"<stdin>: too large (more than {MAX_FILE_BYTES} bytes)")
    if not raw.strip():
        raise BadInput("<stdin>: empty (pipe a file in, or give its path instead of -)")
    return raw


def read_text(path: Path) -> str:
    data = _read_stdin() if is_stdin(path) else _read_file(path)
    name = display(path)
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BadInput(f"{name}: binary data, not a text file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    return data.decode("utf-8-sig", "replace")


def _read_file(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise BadInput(f"{path}: is a directory")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path}: too large ({size} bytes; the limit is {MAX_FILE_BYTES})")
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except PermissionError:
        raise BadInput(f"{path}: permission denied") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror or exc})") from None


def load_event(path: Path) -> TaskStateChangeEvent:
    try:
        return parse_task_event(read_json(path))
    except BadInput as exc:
        msg, name = str(exc), display(path)
        raise BadInput(msg if msg.startswith(name) else f"{name}: {msg}") from None


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
    return Evidence(event=event, logs=pasted_logs(event, logs), gaps=tuple(GapNote(g, "skipped") for g in gaps),
                    offline=True)


def load_case(path: Path) -> tuple[TaskStateChangeEvent, Any]:
    """(event, logs) of a case file: {"id", "event", "logs", "expect"?}."""
    obj = read_json(path)
    if not isinstance(obj, dict) or "event" not in obj:
        raise BadInput(f"{display(path)}: not a case file (expected an object with \"event\" and \"logs\")")
    try:
        event = parse_task_event(obj["event"])
    except BadInput as exc:
        raise BadInput(f"{display(path)}: {exc}") from None
    logs = obj.get("logs", [])
    if logs is None:
        logs = []
    if not isinstance(logs, list | str | dict):
        raise BadInput(f"{display(path)}: \"logs\" must be a list of lines, a text or an object of container -> lines")
    return event, logs
