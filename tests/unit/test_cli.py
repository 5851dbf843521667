"""The offline CLI: formats, exit codes, one-line errors, batches that keep going."""

from __future__ import annotations

import json

import pytest

from shared.cli import main
from tests.conftest import case_files
from tests.unit.helpers import event


@pytest.fixture
def event_file(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event()))
    logs = tmp_path / "logs.txt"
    logs.write_text("Traceback (most recent call last):\n  File \"/app/settings.py\", line 4, in <module>\n"
                    "    DB = os.environ[\"DATABASE_URL\"]\nKeyError: 'DATABASE_URL'\n")
    return path, logs


def test_event_and_logs_json(event_file, capsys):
    path, logs = event_file
    assert main(["diagnose", "--event", str(path), "--logs", str(logs), "--offline", "--format", "json"]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["pattern"] == "missing-env-var"
    assert finding["facts"]["variable"] == "DATABASE_URL"
    assert finding["schema"].startswith("urn:ecs-autopsy:finding:")


def test_text_format_has_title_cause_fix_and_excerpt(event_file, capsys):
    path, logs = event_file
    assert main(["diagnose", "--event", str(path), "--logs", str(logs), "--offline", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "Missing environment variable DATABASE_URL" in out
    assert "Cause:      missing-env-var" in out
    assert "\nFix\n  1. " in out
    assert "  | KeyError: 'DATABASE_URL'" in out


def test_markdown_is_an_escalation_packet(event_file, capsys):
    path, logs = event_file
    assert main(["diagnose", "--event", str(path), "--logs", str(logs), "--offline", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    for heading in ("## Service and environment", "## What is failing", "## Stop code and stopped reason",
                    "## CloudWatch Logs excerpt", "## Relevant configuration", "## What was checked automatically"):
        assert heading in out
    assert "KeyError: 'DATABASE_URL'" in out


def test_describe_tasks_output_is_accepted(tmp_path, capsys):
    path = tmp_path / "describe.json"
    path.write_text(json.dumps({"tasks": [event()["detail"]], "failures": []}))
    assert main(["diagnose", "--event", str(path), "--offline", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["task"]["task_arn"].endswith("0123456789abcdef0123456789abcdef")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}}',
         "not an ECS task event"),
        ('{"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": {"containers": []}}',
         "detail.taskArn"),
        ('[1, 2]', "expected an object"),
    ],
)
def test_bad_event_exits_2_with_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    assert main(["diagnose", "--event", str(path), "--offline"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert str(path) in err and needle in err
    assert "Traceback" not in err


def test_unreadable_log_file(event_file, tmp_path, capsys):
    path, _ = event_file
    binary = tmp_path / "logs.bin"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert main(["diagnose", "--event", str(path), "--logs", str(binary), "--offline"]) == 2
    assert "binary data" in capsys.readouterr().err


def test_batch_keeps_going_and_prints_one_line_per_case(tmp_path, capsys):
    good = case_files()[:2]  # the public corpus comes first
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["diagnose", "--case", str(good[0]), str(bad), str(good[1]), "--offline", "--format", "json"]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1]) == {"error": f"{bad}: not a case file (expected an object with \"event\" and \"logs\")",
                                    "case": str(bad)}
    assert json.loads(lines[0])["pattern"] and json.loads(lines[2])["pattern"]


def test_schema_command(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "pattern" in schema["properties"]


# -- what changed, offline ------------------------------------------------------------------------
SAMPLE = "events/missing-env-var--deploy-drops-database-url"


def _revision(rev: int, env: dict[str, str]) -> dict:
    return {"taskDefinitionArn": f"arn:aws:ecs:us-east-1:111122223333:task-definition/checkout-api:{rev}",
            "family": "checkout-api", "revision": rev, "memory": "1024",
            "containerDefinitions": [{"name": "app", "image": "checkout-api:3.2.0", "essential": True,
                                      "environment": [{"name": k, "value": v} for k, v in env.items()]}]}


def test_previous_task_definition_says_what_changed(tmp_path, capsys):
    prev = tmp_path / "prev.json"
    cur = tmp_path / "cur.json"
    prev.write_text(json.dumps({"taskDefinition": _revision(41, {"DATABASE_URL": "postgres://u:pw@db/x"})}))
    cur.write_text(json.dumps(_revision(42, {"LOG_LEVEL": "info"})))  # a bare task definition
    assert main(["diagnose", "--event", f"{SAMPLE}.json", "--logs", f"{SAMPLE}.log", "--task-definition", str(cur),
                 "--previous-task-definition", str(prev), "--format", "json"]) == 0
    finding = json.loads(capsys.readouterr().out)
    assert finding["pattern"] == "missing-env-var"
    assert finding["facts"]["absent_from_task_definition"] == ["DATABASE_URL"]
    assert finding["changes"]["basis"] == "given"
    assert finding["changes"]["verdict"].startswith("DATABASE_URL was removed in revision 42; revision 41 had it")
    assert finding["changes"]["rollback_command"] == ("aws ecs update-service --cluster prod --service checkout-api "
                                                      "--task-definition checkout-api:41")
    assert "postgres://" not in json.dumps(finding)

    assert main(["diagnose", "--event", f"{SAMPLE}.json", "--logs", f"{SAMPLE}.log", "--task-definition", str(cur),
                 "--previous-task-definition", str(prev), "--no-color"]) == 0
    text = capsys.readouterr().out
    assert "Changed in this deploy (checkout-api:41 -> checkout-api:42)" in text


@pytest.mark.parametrize(("args", "needle"), [
    (["--previous-task-definition", "x.json"], "--previous-task-definition needs --task-definition"),
    (["--task-definition", "events/app-crash.json"], "not a task definition"),
])
def test_task_definition_flags_bad_input(args, needle, capsys):
    assert main(["diagnose", "--event", f"{SAMPLE}.json", *args]) == 2
    assert needle in capsys.readouterr().err
