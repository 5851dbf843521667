"""The three Lambda handlers end to end: moto for AWS, a real HTTP server on 127.0.0.1 for Slack.

Assertions are on what a subscriber (an SQS queue on the topic) and a Slack channel receive.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import boto3
import pytest

from demo.lambda_local import cold_start, invoke
from tests.functional.aws_world import CRASH_LOGS, SERVICE, World, container_def
from tests.support.aws import REGION, aws, drain, make_table, make_topic_with_queue  # noqa: F401
from tests.support.slack_receiver import SlackReceiver


@pytest.fixture
def env(aws, monkeypatch):  # noqa: F811
    """Topic + subscriber queue, state table, Slack webhook secret, a task definition with logs."""
    topic_arn, queue_url = make_topic_with_queue(raw=True)
    table = make_table()
    receiver = SlackReceiver().start()
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="ecs-autopsy/slack", SecretString=json.dumps({"url": receiver.url}))["ARN"]
    monkeypatch.setenv("ECS_AUTOPSY_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("ECS_AUTOPSY_TABLE_NAME", table)
    monkeypatch.setenv("ECS_AUTOPSY_SLACK_SECRET_ID", secret)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "EcsAutopsyTest")
    cold_start()
    from shared.aws import Clients

    world = World.build(Clients(REGION), [container_def("app")])
    world.write_logs("app", CRASH_LOGS)
    import functions.runtime as runtime

    out = io.StringIO()  # the powertools handler keeps the stream it was built with: point it here
    previous = runtime.logger.registered_handler.setStream(out)
    yield {"world": world, "queue": queue_url, "slack": receiver, "topic": topic_arn, "out": out}
    runtime.logger.registered_handler.setStream(previous)
    receiver.stop()
    cold_start()


def _json_lines(env: dict, capsys: Any) -> list[dict]:
    """Structured log lines (powertools Logger) and EMF metric lines (stdout) of the test."""
    text = env["out"].getvalue() + capsys.readouterr().out
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_task_stopped_posts_to_sns_and_slack(env):
    event = env["world"].stopped_event()
    result = invoke("task_stopped", event)
    assert result["pattern"] == "missing-env-var"

    messages = drain(env["queue"])
    assert len(messages) == 1
    finding = json.loads(messages[0]["Body"])
    assert finding["pattern"] == "missing-env-var"
    assert finding["facts"]["variable"] == "DATABASE_URL"
    assert finding["task"]["service"] == SERVICE
    # The task definition was read live: the variable is absent from it.
    assert finding["facts"]["absent_from_task_definition"] == ["DATABASE_URL"]
    assert finding["links"]["log_stream"].startswith(f"https://{REGION}.console.aws.amazon.com/cloudwatch/")

    posts = env["slack"].accepted
    assert len(posts) == 1
    text = json.dumps(posts[0])
    assert "DATABASE_URL" in text and "KeyError" in text


def test_duplicate_event_is_delivered_once(env):
    event = env["world"].stopped_event()
    first = invoke("task_stopped", event)
    second = invoke("task_stopped", json.loads(json.dumps(event)), aws_request_id="another-request")
    assert second["delivery"]["duplicate"] == "completed" and "duplicate" not in first["delivery"]
    assert {k: v for k, v in first.items() if k != "delivery"} == {k: v for k, v in second.items() if k != "delivery"}
    assert len(drain(env["queue"])) == 1
    assert len(env["slack"].accepted) == 1


def test_later_versions_of_the_same_task_are_one_finding(env):
    """Issue 10.4: idempotency is per stopped task. Versions 5, 6 and 7 of the task's STOPPED event (only an
    attachment changed), each delivered twice: one SNS message, one Slack post."""
    results = []
    for version in (5, 6, 7):
        for attempt in range(2):
            event = env["world"].stopped_event(version=version)
            event["id"] = f"event-{version}-{attempt}"
            results.append(invoke("task_stopped", event, aws_request_id=f"req-{version}-{attempt}"))
    assert len(drain(env["queue"])) == 1
    assert len(env["slack"].accepted) == 1
    assert [r["delivery"].get("duplicate") for r in results] == [None] + ["completed"] * 5


def test_a_later_version_that_changes_the_diagnosis_is_published_as_an_update(env):
    world = env["world"]
    first = invoke("task_stopped", world.stopped_event(version=5, containers=[], stopCode="TaskFailedToStart",
                                                     stoppedReason="CannotPullContainerError: pull image manifest has "
                                                                   "been retried 1 time(s): failed to resolve ref "
                                                                   "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
                                                                   "app:v9: not found"),
                   aws_request_id="v5")
    second = invoke("task_stopped", world.stopped_event(version=6), aws_request_id="v6")
    assert first["fingerprint"] != second["fingerprint"]
    messages = drain(env["queue"])
    assert len(messages) == 2
    attributes = messages[1]["MessageAttributes"]
    assert attributes["supersedes"]["StringValue"] == first["fingerprint"]
    assert "supersedes" not in messages[0]["MessageAttributes"]
    assert second["delivery"]["supersedes"] == first["fingerprint"]
    third = invoke("task_stopped", world.stopped_event(version=7), aws_request_id="v7")  # same as v6: nothing new
    assert third["delivery"]["duplicate"] == "completed" and drain(env["queue"]) == []


def test_concurrent_duplicates_end_without_an_error(env, monkeypatch, capsys):
    """Issue 10.4: two invocations of the same event at once. The second finds the delivery in progress and
    returns normally, saying so, with a metric (no Lambda error for the errors alarm to count).

    moto's DynamoDB applies a conditional write in several steps without a lock, so two requests at once
    could both pass the condition (DynamoDB itself never lets them): the stand-in takes a lock around
    UpdateItem, as the real service serialises writes to one item."""
    import threading
    import time

    from moto.dynamodb.models import DynamoDBBackend

    from tests.support.slack_receiver import Reply

    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def serialised(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", serialised)
    event = env["world"].stopped_event()
    invoke("task_stopped", env["world"].stopped_event(taskArn=event["detail"]["taskArn"][:-1] + "e"))  # warm
    drain(env["queue"])
    env["slack"].reset()
    env["slack"].script(Reply(200, delay=1.5))  # the first invocation is still posting when the second claims
    results: dict[str, object] = {}

    def deliver(name: str) -> None:
        try:
            results[name] = invoke("task_stopped", json.loads(json.dumps(event)), aws_request_id=name)
        except Exception as exc:  # a Lambda error
            results[name] = exc

    first = threading.Thread(target=deliver, args=("first",))
    first.start()
    time.sleep(0.5)
    second = threading.Thread(target=deliver, args=("second",))
    second.start()
    first.join(10)
    second.join(10)
    assert not any(isinstance(r, Exception) for r in results.values()), results
    assert results["second"]["delivery"]["duplicate"] == "in progress"
    assert {o["status"] for o in results["second"]["delivery"]["channels"].values()} == {"in-progress"}
    assert "duplicate" not in results["first"]["delivery"]
    assert len(drain(env["queue"])) == 1 and len(env["slack"].accepted) == 1
    emf = [line for line in _json_lines(env, capsys) if "_aws" in line]
    assert any("DuplicatesInProgress" in m for m in emf)


def test_slack_failure_fails_the_invocation_and_the_retry_sends_only_slack(env):
    from shared.notify import DeliveryError

    env["slack"].script(500, 500, 500, 500, 500)  # more 5xx than the retry budget
    event = env["world"].stopped_event()
    with pytest.raises(DeliveryError):
        invoke("task_stopped", event)
    assert len(drain(env["queue"])) == 1
    env["slack"].reset()
    invoke("task_stopped", event, aws_request_id="retry")
    assert len(env["slack"].accepted) == 1
    assert drain(env["queue"]) == []  # SNS already had it


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ({"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "detail": {}},
         "not an ECS task event"),
        ({"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": {"containers": "x"}},
         "taskArn"),
        ([], "expected a JSON object"),
    ],
)
def test_malformed_event_logs_one_error_line_and_raises(env, capsys, event, needle):
    from functions.runtime import MalformedEvent

    with pytest.raises(MalformedEvent) as info:
        invoke("task_stopped", event)
    assert needle in str(info.value)
    errors = [line for line in _json_lines(env, capsys) if line.get("level") == "ERROR"]
    assert len(errors) == 1 and needle in errors[0]["message"]
    assert drain(env["queue"]) == [] and env["slack"].accepted == []


def test_metrics_are_emitted_as_emf(env, capsys):
    invoke("task_stopped", env["world"].stopped_event())
    emf = [line for line in _json_lines(env, capsys) if "_aws" in line]
    findings = [m for m in emf if "Findings" in m]
    assert findings and findings[0]["pattern"] == "missing-env-var" and findings[0]["severity"] == "critical"
    dims = findings[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
    assert {"pattern", "severity"} <= set(dims)
    assert any("EvidenceGaps" in m for m in emf)


def test_correlation_id_is_the_event_id(env, capsys):
    event = env["world"].stopped_event()
    invoke("task_stopped", event)
    logs = [line for line in _json_lines(env, capsys) if line.get("message") == "finding"]
    assert logs and logs[0]["correlation_id"] == event["id"]


def test_manual_for_an_expired_task_says_why_and_posts_nothing(env):
    from tests.functional.aws_world import CLUSTER, TASK_ID

    # ECS no longer knows the task (moto keeps no stopped task): the answer says so, nothing is posted.
    out = invoke("manual", {"cluster": CLUSTER, "task": TASK_ID, "notify": True})
    assert set(out) == {"error"}
    assert f"ECS no longer knows task {TASK_ID}" in out["error"] and "about an hour" in out["error"]
    assert drain(env["queue"]) == [] and env["slack"].accepted == []


def test_manual_with_a_full_event_and_notify(env):
    event = env["world"].stopped_event()
    out = invoke("manual", {**event, "notify": True})
    assert [f["pattern"] for f in out["findings"]] == ["missing-env-var"]
    assert len(drain(env["queue"])) == 1 and len(env["slack"].accepted) == 1


def test_manual_bad_request_is_an_error_answer(env):
    out = invoke("manual", {"service": "orders-api"})
    assert out == {"error": '"service" needs "cluster"'}


def test_deploy_event_that_is_not_a_failure_is_skipped(env):
    event = {
        "version": "0", "id": "ddd", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
        "account": "123456789012", "time": "2026-11-27T10:00:00Z", "region": REGION,
        "resources": [f"arn:aws:ecs:{REGION}:123456789012:service/prod/{SERVICE}"],
        "detail": {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
                   "deploymentId": "ecs-svc/123", "updatedAt": "2026-11-27T10:00:00Z", "reason": "done"},
    }
    assert invoke("deploy_failed", event) == {"skipped": "SERVICE_DEPLOYMENT_COMPLETED"}
    assert drain(env["queue"]) == []


def test_deploy_failed_produces_one_deploy_level_finding(env):
    event = {
        "version": "0", "id": "eee", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
        "account": "123456789012", "time": "2026-11-27T10:00:00Z", "region": REGION,
        "resources": [f"arn:aws:ecs:{REGION}:123456789012:service/prod/{SERVICE}"],
        "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED",
                   "deploymentId": "ecs-svc/123", "updatedAt": "2026-11-27T10:00:00Z",
                   "reason": "ECS deployment circuit breaker: tasks failed to start."},
    }
    result = invoke("deploy_failed", event)
    messages = drain(env["queue"])
    assert len(messages) == 1
    finding = json.loads(messages[0]["Body"])
    assert finding["scope"] == "deployment"
    assert finding["deployment"]["deployment_id"] == "ecs-svc/123"
    assert result["fingerprint"] == finding["fingerprint"]


def test_logger_never_prints_the_webhook_url(env, capsys, caplog):
    # Our loggers and slack_sdk at DEBUG (botocore's own DEBUG wire logs are off in Lambda and print
    # every response body, secrets included: never enable them in production).
    for name in ("shared", "functions", "slack_sdk", "ecs-autopsy"):
        caplog.set_level(logging.DEBUG, logger=name)
    invoke("task_stopped", env["world"].stopped_event())
    out = capsys.readouterr()
    assert env["slack"].url not in out.out + out.err + caplog.text + env["out"].getvalue()


def test_a_slow_slack_cannot_outlive_the_invocation(env):
    """With little time left, a Slack post that would run past the end fails fast: the invocation
    records what is still to send and fails cleanly, and the retry posts it (nothing lost)."""
    import time

    from shared.notify import DeliveryError
    from tests.support.slack_receiver import Reply

    env["slack"].script(Reply(200, delay=6.0))
    event = env["world"].stopped_event()
    started = time.monotonic()
    with pytest.raises(DeliveryError):
        invoke("task_stopped", event, remaining_ms=11_000)  # 3 s for Slack after the 8 s kept back
    assert time.monotonic() - started < 6.0
    assert len(drain(env["queue"])) == 1
    env["slack"].reset()
    invoke("task_stopped", event, aws_request_id="retry")
    assert len(env["slack"].accepted) == 1 and drain(env["queue"]) == []


def _thin_event(env, task_id: str = "feedfacefeedfacefeedfacefeedface") -> dict:
    """An event without containers (nor stop reason) for a task ECS no longer describes."""
    from tests.functional.aws_world import CLUSTER

    event = env["world"].stopped_event(containers=[], stopCode=None, stoppedReason=None)
    arn = f"arn:aws:ecs:{REGION}:123456789012:task/{CLUSTER}/{task_id}"
    event["detail"]["taskArn"] = event["resources"][0] = arn
    return event


def test_an_event_nothing_can_be_learned_from_is_insufficient_evidence_on_sns_only(env):
    """Issue 10.4: no containers, and DescribeTasks cannot find the task. The finding says so (unknown,
    undetermined, a title that says insufficient evidence, the gaps), SNS gets it, Slack does not."""
    out = invoke("task_stopped", _thin_event(env))
    assert out["pattern"] == "unknown"
    assert out["delivery"]["channels"]["slack"]["status"] == "skipped"
    assert "ECS_AUTOPSY_POST_INSUFFICIENT" in out["delivery"]["channels"]["slack"]["detail"]
    (message,) = drain(env["queue"])
    finding = json.loads(message["Body"])
    assert finding["verdict"] == "undetermined" and "Insufficient evidence" in finding["title"]
    assert any("feedface" in g for g in finding["gaps"]), finding["gaps"]  # DescribeTasks did not find it
    assert env["slack"].accepted == []


def test_insufficient_evidence_is_posted_when_configured(env, monkeypatch):
    monkeypatch.setenv("ECS_AUTOPSY_POST_INSUFFICIENT", "true")
    cold_start()
    out = invoke("task_stopped", _thin_event(env))
    assert out["delivery"]["channels"]["slack"]["status"] == "sent"
    assert len(env["slack"].accepted) == 1 and len(drain(env["queue"])) == 1
