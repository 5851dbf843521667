"""The AWS call budget of a warm diagnosis, end to end on moto: evidence, idempotency record, publish.

A warm diagnosis of an application crash in a one-container task reads AWS once for evidence (the
log tail; the task definition is cached) and makes at most 5 AWS calls in all.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs
from shared.evidence.gather import clear_storm_cache
from shared.inputs import parse_task_event
from shared.pipeline import investigate
from shared.settings import Settings
from tests.functional.aws_world import PANIC_LOGS, REGION, World, container_def


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ecs.clear_cache()
    clear_storm_cache()
    with mock_aws():
        yield Clients(REGION)
    ecs.clear_cache()
    clear_storm_cache()


def test_warm_app_crash_costs_one_evidence_read_and_at_most_five_calls(aws):
    from shared.notify.channels import SnsChannel
    from shared.notify.delivery import deliver
    from shared.notify.state import DynamoState
    from tests.support.aws import make_table

    world = World.build(aws, [container_def()])
    world.write_logs("app", PANIC_LOGS)
    table = make_table()
    topic = aws("sns").create_topic(Name="ecs-autopsy-findings")["TopicArn"]
    event = parse_task_event(world.stopped_event(containers=[{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}]))
    investigate(event, aws)  # the cold start reads the task definition

    warm = event.model_copy(update={"detail": event.detail.model_copy(update={"version": 6})})
    clear_storm_cache()  # a minute later: no crash-loop sibling to borrow the logs from
    aws.reset_calls()
    _, finding = investigate(warm, aws)
    assert finding.pattern == "app-crash"
    assert dict(aws.calls) == {"logs.GetLogEvents": 1}

    deliver(finding, [SnsChannel(topic, aws("sns"))], DynamoState(table, aws("dynamodb")), Settings(topic_arn=topic))
    assert aws.calls["sns.Publish"] == 1
    assert aws.total_calls <= 5, dict(aws.calls)


def test_a_crash_loop_faster_than_the_read_budget_borrows_logs(aws):
    """Tasks of one task definition stopping the same way: past the per-container log-read budget
    (one read per second, burst 1), a task borrows the logs of a sibling of the last minute."""
    import time

    world = World.build(aws, [container_def()])
    ids = [f"{n:032x}" for n in range(1, 13)]
    for tid in ids:
        world.write_logs("app", PANIC_LOGS, task_id=tid)
    crash = [{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}]
    aws.reset_calls()
    findings = []
    started = time.monotonic()
    for tid in ids:
        arn = f"arn:aws:ecs:{REGION}:123456789012:task/prod/{tid}"
        event = parse_task_event(world.stopped_event(taskArn=arn, containers=crash))
        findings.append(investigate(event, aws, collapse=True)[1])
    elapsed = time.monotonic() - started
    reads = aws.calls["logs.GetLogEvents"]
    assert 1 <= reads <= 1 + int(elapsed) + 1 < len(ids)  # the first, then about one per second
    assert {f.pattern for f in findings} == {"app-crash"}
    assert not any("were used" in g for g in findings[0].gaps)  # the first reads its own logs
    assert any("were used" in g for g in findings[-1].gaps)
    # Without collapse (the CLI, the manual function) every task reads its own logs.
    aws.reset_calls()
    for tid in ids[:3]:
        arn = f"arn:aws:ecs:{REGION}:123456789012:task/prod/{tid}"
        investigate(parse_task_event(world.stopped_event(taskArn=arn, containers=crash)), aws)
    assert aws.calls["logs.GetLogEvents"] == 3
