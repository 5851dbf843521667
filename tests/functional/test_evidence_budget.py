"""The AWS call budget of a warm diagnosis, end to end on moto: evidence, idempotency record, publish.

A warm diagnosis of an application crash in a one-container task reads AWS once for evidence (the
log tail; the task definition is cached) and makes at most 5 AWS calls in all.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs
from shared.evidence.gather import investigate
from shared.inputs import parse_task_event
from shared.settings import Settings
from tests.functional.aws_world import PANIC_LOGS, REGION, World, container_def


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ecs.clear_cache()
    with mock_aws():
        yield Clients(REGION)
    ecs.clear_cache()


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
    aws.reset_calls()
    _, finding = investigate(warm, aws)
    assert finding.pattern == "app-crash"
    assert dict(aws.calls) == {"logs.GetLogEvents": 1}

    deliver(finding, [SnsChannel(topic, aws("sns"))], DynamoState(table, aws("dynamodb")), Settings(topic_arn=topic))
    assert aws.calls["sns.Publish"] == 1
    assert aws.total_calls <= 5, dict(aws.calls)
