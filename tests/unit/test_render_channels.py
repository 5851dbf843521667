"""`ecs-autopsy diagnose --format slack|sns|chatbot` prints exactly what the channel would post."""

from __future__ import annotations

import json

import pytest

from shared.cli import main
from shared.engine import diagnose
from shared.inputs import BadInput, load_event, offline_evidence
from shared.render.channels import renderer
from shared.render.chatbot import render_chatbot
from shared.render.slack import render_slack
from shared.render.sns import render_sns
from tests.unit.helpers import event


@pytest.fixture
def event_file(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event()))
    logs = tmp_path / "logs.txt"
    logs.write_text("Traceback (most recent call last):\nKeyError: 'DATABASE_URL'\n")
    return path, logs


def _finding(event_file):
    path, logs = event_file
    from shared.inputs import load_logs

    return diagnose(offline_evidence(load_event(path), load_logs(logs)))


def _cli(capsys, event_file, fmt):
    path, logs = event_file
    assert main(["diagnose", "--event", str(path), "--logs", str(logs), "--offline", "--format", fmt]) == 0
    return json.loads(capsys.readouterr().out)


def test_slack_format(capsys, event_file):
    assert _cli(capsys, event_file, "slack") == render_slack(_finding(event_file))


def test_sns_format(capsys, event_file):
    out = _cli(capsys, event_file, "sns")
    expected = render_sns(_finding(event_file)).request()
    assert out == expected
    assert json.loads(out["Message"])["pattern"] == "missing-env-var"
    assert out["MessageAttributes"]["service"]["StringValue"] == "orders-api"


def test_chatbot_format(capsys, event_file):
    out = _cli(capsys, event_file, "chatbot")
    assert json.loads(out["Message"]) == render_chatbot(_finding(event_file))
    assert out["MessageAttributes"]["format"]["StringValue"] == "chatbot"


def test_unknown_format_is_a_clear_error(capsys, event_file):
    path, _ = event_file
    assert main(["diagnose", "--event", str(path), "--offline", "--format", "teams"]) == 2
    assert "--format teams: unknown format" in capsys.readouterr().err
    with pytest.raises(BadInput):
        renderer("teams")
