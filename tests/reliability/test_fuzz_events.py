"""Bad input never crashes the offline path (issue 6, part 1).

Generated events go through the real path: parse_task_event -> offline_evidence -> diagnose, then
the Finding is serialised (JSON, the public contract) and rendered as text. Each generated event
is labelled by the generator itself, independently of the code under test:
- well-formed (any optional field missing or odd, any log text): must give a Finding;
- malformed (wrong type, missing required field, other detail-type, not an object, truncated
  JSON): must raise BadInput whose message is one line naming the problem.
Anything else is an unhandled exception and fails the test (after being counted).
The dead-letter path belongs to the Lambda handler and is tested there.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic.alias_generators import to_camel

from shared.engine import diagnose
from shared.inputs import BadInput, load_event, offline_evidence, parse_task_event
from shared.models.event import TASK_STATE_CHANGE, TaskDetail
from shared.models.finding import Finding
from shared.render.text import render_text
from tests.reliability.figures import add, record
from tests.unit.helpers import _BASE

FIG = "bad input (issue 6.1), offline path"
BENIGN = (Path(__file__).resolve().parents[1] / "data" / "secrets" / "benign.log").read_text().splitlines()
SETTINGS = {"deadline": None, "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]}


# --- the path under test and its bookkeeping ------------------------------------------------------
def diagnose_event(obj: Any, logs: Any = ()) -> Finding:
    event = parse_task_event(obj)
    finding = diagnose(offline_evidence(event, logs))
    json.loads(finding.model_dump_json())  # the public contract must serialise
    render_text(finding)
    return finding


def expect_finding(obj: Any, logs: Any = ()) -> Finding:
    add(FIG, "events generated")
    add(FIG, "well-formed events")
    try:
        finding = diagnose_event(obj, logs)
    except BadInput as exc:
        add(FIG, "well-formed events rejected (must be 0)")
        raise AssertionError(f"well-formed event rejected: {exc}") from None
    except Exception:
        add(FIG, "unhandled exceptions (must be 0)")
        raise
    add(FIG, "well-formed events -> finding")
    return finding


def expect_bad_input(obj: Any, names: tuple[str, ...] = (), via_file: bool = False) -> str:
    """`names`: words one of which the message must contain (the field or the problem)."""
    add(FIG, "events generated")
    add(FIG, "malformed events")
    try:
        if via_file:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "event.json"
                path.write_bytes(obj)
                diagnose_event(load_event(path))
        else:
            diagnose_event(obj)
    except BadInput as exc:
        message = str(exc)
    except Exception:
        add(FIG, "unhandled exceptions (must be 0)")
        raise
    else:
        add(FIG, "malformed events accepted (must be 0)")
        raise AssertionError(f"malformed event accepted: {str(obj)[:300]}")
    add(FIG, "malformed events -> BadInput")
    assert message and "\n" not in message and len(message) <= 400, message[:500]
    assert not names or any(n in message for n in names), f"{message!r} names none of {names}"
    add(FIG, "BadInput messages: one line naming the problem")
    return message


# --- generators -----------------------------------------------------------------------------------
# Written once against a small "pick" interface with two drivers: Hypothesis draws (structured,
# shrinkable; slow here, ~10 ms an event) and a seeded random.Random that Hypothesis supplies
# (fast, for volume: failures still replay from the reported seed).
class RandomPick:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def bool(self) -> bool:
        return self.rng.random() < 0.5

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, seq: list) -> Any:
        return self.rng.choice(seq)

    def subset(self, seq: list, most: int) -> list:
        return self.rng.sample(seq, self.rng.randint(0, min(most, len(seq))))

    def text(self, most: int) -> str:
        n = self.rng.randint(0, most)
        return "".join(chr(self.rng.choice(_CODEPOINTS[self.rng.randrange(len(_CODEPOINTS))])) for _ in range(n))

    def raw(self, most: int) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, most))

    def fraction(self) -> float:
        return self.rng.uniform(-1e9, 1e9) + 0.5


# Code points for random text: control characters, ASCII, Latin-1, combining marks, RTL, CJK,
# emoji (outside the BMP); never lone surrogates (no JSON document or decoded log holds one).
_CODEPOINTS = [range(0, 32), range(32, 127), range(127, 256), range(0x300, 0x370), range(0x590, 0x700),
               range(0x4E00, 0x4F00), range(0x1F600, 0x1F650), range(0x2000, 0x2070)]


class HypothesisPick:
    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def bool(self) -> bool:
        return self.draw(st.booleans())

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, seq: list) -> Any:
        return self.draw(st.sampled_from(seq))

    def subset(self, seq: list, most: int) -> list:
        return self.draw(st.lists(st.sampled_from(seq), max_size=most, unique=True))

    def text(self, most: int) -> str:
        return self.draw(st.text(max_size=most))

    def raw(self, most: int) -> bytes:
        return self.draw(st.binary(min_size=1, max_size=most))

    def fraction(self) -> float:
        return self.draw(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9)
                         .filter(lambda f: f != int(f)))


Pick = RandomPick | HypothesisPick
ANSI = ["\x1b[31m", "\x1b[0m", "\x1b[1;32m", "\x1b]0;title\x07", "\x1b[2K"]
REAL = [*BENIGN,
        "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>', "KeyError: 'DB_PASSWORD'",
        "java.lang.OutOfMemoryError: Java heap space", "Error: listen EADDRINUSE: address already in use :::3000",
        "panic: runtime error: invalid memory address or nil pointer dereference", "Killed",
        'psycopg2.OperationalError: connection to server at "db" (10.0.0.5), port 5432 failed: Connection timed out',
        "ModuleNotFoundError: No module named 'flask'", "Error: Cannot find module 'express'",
        "OSError: [Errno 28] No space left on device"]
REASONS = ["Essential container in task exited", "Task failed ELB health checks in (target-group arn:aws:"
           "elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0123456789abcdef)",
           "OutOfMemoryError: Container killed due to memory usage",
           "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref",
           "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed",
           "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", "Task stopped by user"]
STOP_CODES = [None, "EssentialContainerExited", "TaskFailedToStart", "UserInitiated", "ServiceSchedulerInitiated",
              "SpotInterruption", "TerminationNotice", "ZZZ"]
OTHER_EVENTS = ["ECS Container Instance State Change", "ECS Deployment State Change", "ECS Service Action",
                "EC2 Instance State-change Notification", "", "ecs task state change", None, 5]


def log_line(p: Pick) -> str:
    kind = p.int(0, 9)
    if kind <= 3:
        return p.choice(REAL)
    if kind == 4:
        return p.text(200)  # any character, control characters included
    if kind == 5:
        return p.raw(200).decode("utf-8", "replace")  # undecodable bytes, read the way the CLI reads files
    if kind == 6:
        return p.choice(ANSI) + p.choice(REAL) + p.choice(ANSI)
    if kind == 7:
        return p.choice(REAL) + p.choice(["\r", "\r\n", "\n", "\t", "\x00", "\x0c"]) + p.choice(REAL)
    if kind == 8:
        return p.choice(REAL) * p.int(5, 60)  # long lines, up to ~12 KB (test_huge_fields: 256 KB)
    return "".join(p.choice(["{", "}", "[", "]", '"', ":", ",", "\\", "\x07", "\x1b", " ", "null", "message"])
                   for _ in range(p.int(0, 12)))


def logs(p: Pick) -> Any:
    shape = p.int(0, 2)
    lines = [log_line(p) for _ in range(p.int(0, 40))]
    if shape == 0:
        return lines
    if shape == 1:
        return "\n".join(lines)
    return {name: lines[i::2] for i, name in enumerate(p.subset(["app", "sidecar", "envoy"], 2))}


def text_value(p: Pick) -> str | None:
    kind = p.int(0, 3)
    return None if kind == 0 else p.text(120) if kind == 1 else p.raw(120).decode("utf-8", "replace") if kind == 2 \
        else p.choice(REAL)


def json_ish(p: Pick, depth: int = 0) -> Any:
    kind = p.int(0, 6 if depth < 2 else 3)
    if kind == 0:
        return None
    if kind == 1:
        return p.bool()
    if kind == 2:
        return p.int(-(2**40), 2**40)
    if kind == 3:
        return p.text(20)
    if kind == 4:
        return [json_ish(p, depth + 1) for _ in range(p.int(0, 3))]
    return {p.text(8): json_ish(p, depth + 1) for _ in range(p.int(0, 3))}


def container(p: Pick) -> dict:
    c: dict[str, Any] = {}
    if p.bool():
        c["name"] = p.choice([None, "app", "sidecar", "envoy"]) if p.bool() else p.text(30)
    if p.bool():
        c["exitCode"] = p.choice([None, 0, 1, 2, 126, 127, 137, 139, 143, 255]) if p.bool() else p.int(-(2**31), 2**31)
    if p.bool():
        c["reason"] = text_value(p)
    if p.bool():
        c["lastStatus"] = p.choice(["STOPPED", "RUNNING", "PENDING", None])
    if p.bool():
        c["image"] = p.text(80)
    if p.bool():
        c["healthStatus"] = p.choice(["HEALTHY", "UNHEALTHY", "UNKNOWN", None])
    if p.bool():
        c["cpu"] = p.int(0, 4096) if p.bool() else p.text(5)
    return c


# Every name pydantic reads for a detail field (alias and snake case): random extra keys avoid them.
_KNOWN = {n for name, f in TaskDetail.model_fields.items() for n in (name, f.alias or to_camel(name))}
OPTIONAL_DETAIL = ["clusterArn", "taskDefinitionArn", "group", "startedBy", "launchType", "lastStatus", "desiredStatus",
                   "stopCode", "stoppedReason", "cpu", "memory", "version", "containers", "attachments"]


def well_formed_event(p: Pick) -> dict:
    ev = copy.deepcopy(_BASE)
    d = ev["detail"]
    d["containers"] = [container(p) for _ in range(p.int(0, 6))]
    d["stopCode"] = p.choice(STOP_CODES)
    d["stoppedReason"] = p.choice(REASONS) if p.bool() else text_value(p)
    for key in p.subset(OPTIONAL_DETAIL, 6):
        d.pop(key, None)
    if p.bool():
        for _ in range(p.int(1, 3)):
            key = p.text(10)
            if key and key not in _KNOWN:
                d[key] = json_ish(p)
    if p.bool():
        d["stoppedAt"] = p.choice(["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123+00:00", 1714557600])
    if p.bool():
        d["cpu"] = p.int(0, 16384) if p.bool() else p.choice(["256", ".25 vCPU"])
    shape = p.choice(["eventbridge", "detailType", "describe-tasks", "bare-task"])
    if shape == "detailType":
        ev["detailType"] = ev.pop("detail-type")
    elif shape == "describe-tasks":
        return {"tasks": [d], "failures": []}
    elif shape == "bare-task":
        return d
    return ev


def not_a_string(p: Pick) -> Any:
    return p.choice([lambda: p.int(-5, 10**6), lambda: [p.int(0, 9)], lambda: {"a": 1}, lambda: p.bool()])()


def not_an_int(p: Pick) -> Any:
    return p.choice([lambda: p.choice(["abc", "1.5", "", "one", "0x1g"]), p.fraction, lambda: [1], lambda: {"a": 1}])()


def not_a_time(p: Pick) -> Any:
    return p.choice(["yesterday", "2024-13-45T00:00:00Z", "", "10:00", [], {}, "2024-05-01T25:00:00Z"])


def not_a_list(p: Pick) -> Any:
    return p.choice([lambda: p.text(10), lambda: p.int(-5, 5), lambda: {"a": 1}])()


def not_an_object(p: Pick) -> Any:
    return p.choice([lambda: p.text(10), lambda: p.int(-5, 5), lambda: [1, 2], lambda: None])()


# (where, the word the message must name, a wrong value): one field made wrong per malformed event.
WRONG_FIELDS: list[tuple[tuple[Any, ...], str, Any]] = [
    (("detail", "taskArn"), "taskArn", lambda p: None if p.bool() else not_a_string(p)),
    (("detail", "containers"), "containers", not_a_list),
    (("detail", "containers", 0), "containers", not_an_object),
    (("detail", "containers", 0, "exitCode"), "exitCode", not_an_int),
    (("detail", "containers", 0, "name"), "name", not_a_string),
    (("detail", "containers", 0, "reason"), "reason", not_a_string),
    (("detail", "stoppedReason"), "stoppedReason", not_a_string),
    (("detail", "stopCode"), "stopCode", not_a_string),
    (("detail", "group"), "group", not_a_string),
    (("detail", "stoppedAt"), "stoppedAt", not_a_time),
    (("detail", "createdAt"), "createdAt", not_a_time),
    (("detail", "version"), "version", not_an_int),
    (("detail", "cpu"), "cpu", lambda p: p.choice([[1], {"a": 1}])),
    (("detail", "attachments"), "attachments", not_a_list),
    (("detail", "attachments", 0, "details"), "details", not_a_list),
    (("detail",), "detail", lambda p: p.choice([None, "x", 5, [1]])),
    (("time",), "time", not_a_time),
    (("resources",), "resources", not_a_list),
    (("account",), "account", not_a_string),
    (("region",), "region", not_a_string),
]


def _set(obj: Any, where: tuple[Any, ...], value: Any) -> None:
    for key in where[:-1]:
        obj = obj[key]
    obj[where[-1]] = value


def malformed_event(p: Pick) -> tuple[Any, tuple[str, ...]]:
    """A malformed event and the words (one of which) its error message must hold."""
    kind = p.int(0, 9)
    ev = copy.deepcopy(_BASE)
    ev["detail"]["containers"] = [{"name": "app", "exitCode": 1}, *(container(p) for _ in range(p.int(0, 2)))]
    if kind <= 4:  # one field of the wrong type
        where, name, wrong = p.choice(WRONG_FIELDS)
        _set(ev, where, wrong(p))
        return ev, (name,)
    if kind == 5:  # a required field missing
        where = p.choice([("detail", "taskArn"), ("detail",), ("source",)])
        obj = ev
        for key in where[:-1]:
            obj = obj[key]
        del obj[where[-1]]
        return ev, (where[-1],)
    if kind == 6:  # another event
        if p.bool():
            other = p.choice(OTHER_EVENTS) if p.bool() else p.text(40)
            ev["detail-type"] = other if other != TASK_STATE_CHANGE else "x"
            return ev, ("detail-type",)
        ev["source"] = p.choice(["aws.ec2", "aws.batch", "", 5, "AWS.ECS"])
        return ev, ("source",)
    if kind == 7:  # not an object at all (a list is read as `--query tasks` output: its first item must be a task)
        if p.bool():
            return [json_ish(p)], ("expected an object", "tasks.0", "the list of tasks is empty", "invalid ECS task event")
        return p.choice([lambda: p.text(30), lambda: p.int(-9, 9), lambda: 1.5, lambda: True,
                         lambda: None])(), ("expected a JSON object",)
    if kind == 8:  # an object that is no ECS event
        obj = {}
        for _ in range(p.int(0, 4)):
            key = p.text(10)
            if key not in ("detail-type", "detailType", "detail_type", "tasks", "taskArn"):
                obj[key] = json_ish(p)
        return obj, ("not an ECS task event",)
    return p.choice([  # DescribeTasks responses without a usable task
        ({"tasks": [], "failures": [{"arn": "x", "reason": "MISSING"}]}, ("no task",)),
        ({"tasks": []}, ("no task",)),
        ({"tasks": [1]}, ("tasks.0",)),
        ({"tasks": ["arn:aws:ecs:us-east-1:1:task/x"]}, ("tasks.0",)),
        ({"tasks": [{"lastStatus": "STOPPED"}]}, ("taskArn",)),
    ])


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) < 600 else text[:600] + "..."


# --- tests ----------------------------------------------------------------------------------------
@settings(max_examples=200, **SETTINGS)
@given(data=st.data())
def test_well_formed_events_give_a_finding(data):
    p = HypothesisPick(data.draw)
    expect_finding(well_formed_event(p), logs(p))


@settings(max_examples=500, **SETTINGS)
@given(data=st.data())
def test_malformed_events_raise_bad_input(data):
    obj, names = malformed_event(HypothesisPick(data.draw))
    expect_bad_input(obj, names)


@settings(max_examples=50, **SETTINGS)
@given(rng=st.randoms(use_true_random=True))
def test_bulk_well_formed_events_give_a_finding(rng):
    p = RandomPick(rng)
    for _ in range(50):
        event, lines = well_formed_event(p), logs(p)
        try:
            expect_finding(event, lines)
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc}\nevent: {_short(event)}\nlogs: {_short(lines)}") from exc


@settings(max_examples=70, **SETTINGS)
@given(rng=st.randoms(use_true_random=True))
def test_bulk_malformed_events_raise_bad_input(rng):
    p = RandomPick(rng)
    for _ in range(100):
        obj, names = malformed_event(p)
        try:
            expect_bad_input(obj, names)
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc}\nevent: {_short(obj)}") from exc


@settings(max_examples=150, **SETTINGS)
@given(data=st.data())
def test_any_log_text_gives_a_finding(data):
    p = HypothesisPick(data.draw)
    lines = [log_line(p) for _ in range(p.int(1, 60))]
    finding = expect_finding(copy.deepcopy(_BASE), lines)
    assert len(finding.log_excerpt) <= 50 and all(len(line) <= 1000 for line in finding.log_excerpt)


@settings(max_examples=300, **SETTINGS)
@given(data=st.data())
def test_truncated_and_undecodable_event_files(data):
    """The CLI path: bytes on disk. A truncated event is malformed; undecodable bytes inside a
    string are decoded as U+FFFD (the file is still JSON, a finding is expected) unless they hold
    control characters, which JSON forbids inside strings."""
    raw = json.dumps(_BASE).encode()
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(0, len(raw) - 1))
        expect_bad_input(raw[:cut], ("not JSON",), via_file=True)
        return
    junk = data.draw(st.binary(min_size=1, max_size=40).filter(lambda b: not set(b) & set(b'"\\\x00')))
    add(FIG, "events generated")
    add(FIG, "event files with undecodable bytes in a string")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "event.json"
        path.write_bytes(raw.replace(b"Essential container in task exited", junk))
        try:
            finding = diagnose(offline_evidence(load_event(path), []))
        except BadInput as exc:
            assert "not JSON" in str(exc) and any(b < 32 for b in junk), str(exc)
        else:
            json.loads(finding.model_dump_json())


@settings(max_examples=15, **SETTINGS)
@given(n_containers=st.integers(50, 100), reason_kb=st.integers(16, 256), line_kb=st.integers(16, 256),
       n_lines=st.integers(0, 3000))
def test_huge_fields(n_containers, reason_kb, line_kb, n_lines):
    ev = copy.deepcopy(_BASE)
    ev["detail"]["containers"] = [{"name": f"c{i}", "exitCode": i % 3, "reason": "x" * 200} for i in range(n_containers)]
    ev["detail"]["stoppedReason"] = ("Essential container in task exited " * 8000)[: reason_kb * 1024]
    lines = [f"line {i} " + BENIGN[i % len(BENIGN)] for i in range(n_lines)] + ["y" * (line_kb * 1024)]
    finding = expect_finding(ev, lines)
    add(FIG, "huge events (50-100 containers, 16-256 KB reason and log line, <= 3,000 lines)")
    assert len(finding.task.containers) == n_containers


def test_lone_surrogates_from_json_escapes():
    """JSON may escape lone surrogates ("\\udcff"); json.loads keeps them, UTF-8 cannot encode them."""
    ev = json.loads(json.dumps(_BASE).replace("Essential container in task exited", "exited \\udcff \\ud800"))
    finding = expect_finding(ev, ["boom \udcfe", "Traceback (most recent call last):", "RuntimeError: \udcff"])
    assert "\ufffd" in finding.task.stopped_reason


def test_one_megabyte_stopped_reason():
    ev = copy.deepcopy(_BASE)
    ev["detail"]["stoppedReason"] = "x" * 1_048_576
    ev["detail"]["containers"] = [{"name": f"c{i}", "exitCode": 1} for i in range(100)]
    start = time.perf_counter()
    expect_finding(ev, ["boom"])
    record(FIG, "1 MB stoppedReason + 100 containers: seconds to a finding", f"{time.perf_counter() - start:.1f}")


def test_figures_hold():
    """Runs last in this module: the totals the issue asks for."""
    from tests.reliability.figures import FIGURES

    fig = FIGURES[FIG]
    if fig.get("events generated", 0) >= 10_000:  # the whole module ran
        assert fig.get("unhandled exceptions (must be 0)", 0) == 0
        assert fig.get("well-formed events -> finding") == fig.get("well-formed events")
        assert fig.get("malformed events -> BadInput") == fig.get("malformed events")
    record(FIG, "unhandled exceptions (must be 0)", fig.get("unhandled exceptions (must be 0)", 0))
