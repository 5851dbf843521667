"""The SNS message: the finding JSON, its attributes, the subject, and the 256 KB limit."""

from __future__ import annotations

import json

from shared.models.finding import DeploymentSummary, EvidenceItem, Finding
from shared.render.sns import SNS_MAX_BYTES, attributes, render_chatbot_publish, render_sns, subject
from tests.unit.helpers import run


def test_message_is_the_finding_json_with_attributes():
    f = run(["KeyError: 'DATABASE_URL'"])
    msg = render_sns(f)
    assert Finding.model_validate_json(msg.message) == f
    assert json.loads(msg.message)["schema"] == f.schema_  # by alias: the public contract
    assert msg.attributes == {"pattern": "missing-env-var", "severity": "critical", "cluster": "prod",
                              "service": "orders-api", "account": "111122223333", "region": "us-east-1",
                              "scope": "task", "fingerprint": f.fingerprint, "format": "finding"}
    req = msg.request()
    assert req["MessageAttributes"]["pattern"] == {"DataType": "String", "StringValue": "missing-env-var"}
    assert set(req) == {"Subject", "Message", "MessageAttributes"}
    assert len(req["MessageAttributes"]) <= 10  # the SNS limit


def test_empty_attributes_are_left_out():
    f = run(["KeyError: 'DATABASE_URL'"], group="family:batch-job", startedBy="events-rule/nightly")
    attrs = attributes(f)
    assert "service" not in attrs
    assert all(v for v in attrs.values())


def test_subject_is_short_printable_ascii():
    f = run(["KeyError: 'DATABASE_URL'"])
    long = f.model_copy(update={"title": "ünïcode — title\nwith a newline " + "x" * 200})
    s = subject(long)
    assert len(s) < 100 and s.isascii() and "\n" not in s and s.startswith("ECS critical: ")
    assert all(0x20 <= ord(c) <= 0x7E for c in s)


def test_big_finding_is_trimmed_to_the_limit_and_stays_valid():
    f = run(["KeyError: 'DATABASE_URL'"])
    arns = [f"arn:aws:ecs:us-east-1:111122223333:task/prod/{i:032x}" for i in range(4000)]
    big = f.model_copy(update={
        "log_excerpt": [f"{i:03d} " + "x" * 996 for i in range(50)],
        "evidence": [EvidenceItem(source=f"logs[app]:{i}", text="e" * 1000) for i in range(100)],
        "scope": "deployment",
        "deployment": DeploymentSummary(service="orders-api", tasks_stopped=4000, patterns={"app-crash": 4000},
                                        task_arns=arns),
    })
    assert len(big.model_dump_json(by_alias=True)) > SNS_MAX_BYTES
    msg = render_sns(big)
    assert msg.size() <= SNS_MAX_BYTES
    trimmed = Finding.model_validate_json(msg.message)  # valid JSON, valid contract
    assert trimmed.pattern == f.pattern and trimmed.fingerprint == f.fingerprint
    assert trimmed.log_excerpt == [] or trimmed.log_excerpt[-1].startswith("049 ")  # newest lines kept
    assert trimmed.gaps[-1].startswith("Trimmed to fit the SNS 256 KB message limit")
    assert trimmed.deployment is not None and trimmed.deployment.tasks_stopped == 4000


def test_trimming_takes_old_log_lines_first():
    f = run(["KeyError: 'DATABASE_URL'"])
    big = f.model_copy(update={"log_excerpt": [f"{i:03d} " + "x" * 996 for i in range(50)]})
    msg = render_sns(big, limit=30_000)
    assert msg.size() <= 30_000
    trimmed = Finding.model_validate_json(msg.message)
    assert 0 < len(trimmed.log_excerpt) < 50 and trimmed.log_excerpt[-1].startswith("049 ")
    assert trimmed.evidence == f.evidence  # untouched: trimming the excerpt was enough
    assert "log_excerpt kept the last" in trimmed.gaps[-1]


def test_small_finding_is_not_touched():
    f = run(["KeyError: 'DATABASE_URL'"])
    assert not any("Trimmed" in g for g in Finding.model_validate_json(render_sns(f).message).gaps)


def test_chatbot_publish_carries_the_same_attributes():
    f = run(["KeyError: 'DATABASE_URL'"])
    msg = render_chatbot_publish(f)
    body = json.loads(msg.message)
    assert body["version"] == "1.0" and body["source"] == "custom"
    assert msg.attributes["format"] == "chatbot"
    assert {k: v for k, v in msg.attributes.items() if k != "format"} == \
        {k: v for k, v in attributes(f).items() if k != "format"}
    assert "Subject" not in msg.request()
