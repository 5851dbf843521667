"""The AWS calls of a delivery, counted on moto with shared.aws.Clients (one counter for every client).

A warm diagnosis may make 5 AWS calls in all: GetLogEvents, the idempotency record (PutItem +
UpdateItem) and SNS Publish leave ONE DynamoDB call for delivery and noise control. The Slack
webhook is not an AWS call (its secret is cached while warm).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shared.aws import Clients
from shared.notify import ChatbotChannel, DeliveryError, DynamoState, SlackChannel, SnsChannel, deliver
from shared.notify.slack import BoundedRetryHandler
from shared.settings import Settings
from tests.support.aws import REGION, aws, make_table, make_topic_with_queue  # noqa: F401  (fixture)
from tests.support.slack_receiver import SlackReceiver
from tests.unit.helpers import run

T0 = 1_700_000_000
CRASH = ["Traceback (most recent call last):", '  File "app.py", line 3', "KeyError: 'DATABASE_URL'"]
MISSING_TOPIC = f"arn:aws:sns:{REGION}:111122223333:absent"


def task_arn(i: int) -> str:
    return f"arn:aws:ecs:us-east-1:111122223333:task/prod/{i:032x}"


@pytest.fixture
def world(aws):  # noqa: F811
    clients = Clients(REGION)
    topic, _ = make_topic_with_queue(raw=True)
    with SlackReceiver() as slack:
        slack_channel = SlackChannel(url=slack.url, retry=BoundedRetryHandler(base_delay=0.01))
        yield {"clients": clients, "state": DynamoState(make_table(), clients("dynamodb")), "slack": slack,
               "channels": [SnsChannel(topic, clients("sns")), slack_channel], "topic": topic}


def calls(world, finding, channels=None, settings=None, now=T0, fails=False) -> dict[str, int]:
    """The AWS calls of one deliver(), which must raise DeliveryError if and only if `fails`."""
    clients = world["clients"]
    clients.reset_calls()
    if fails:
        with pytest.raises(DeliveryError):
            deliver(finding, channels or world["channels"], world["state"], settings or Settings(), now=now)
    else:
        deliver(finding, channels or world["channels"], world["state"], settings or Settings(), now=now)
    return dict(clients.calls)


ONE = {"dynamodb.UpdateItem": 1, "sns.Publish": 1}


def test_happy_path_is_one_dynamodb_call_and_one_publish(world):
    assert calls(world, run(CRASH, taskArn=task_arn(1))) == ONE  # first occurrence: posts
    for i in range(2, 10):
        assert calls(world, run(CRASH, taskArn=task_arn(i)), now=T0 + i) == ONE  # repeats: suppressed
    assert calls(world, run(CRASH, taskArn=task_arn(10)), now=T0 + 10) == ONE  # threshold: "still happening"
    assert len(world["slack"].accepted) == 2


def test_chatbot_and_slack_together_still_one_dynamodb_call(world):
    channels = [*world["channels"], ChatbotChannel(world["topic"], world["clients"]("sns"))]
    assert calls(world, run(CRASH), channels) == {"dynamodb.UpdateItem": 1, "sns.Publish": 2}


def test_no_human_post_no_dynamodb_call(world):
    expected_stop = run([], taskArn=task_arn(1), stopCode="ServiceSchedulerInitiated",
                        stoppedReason="Scaling activity initiated by deployment",
                        containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}])
    assert calls(world, expected_stop) == {"sns.Publish": 1}
    assert calls(world, run(CRASH), world["channels"][:1]) == {"sns.Publish": 1}  # SNS only
    assert calls(world, run(CRASH), [SnsChannel(MISSING_TOPIC, world["clients"]("sns"))], fails=True) == {
        "sns.Publish": 1}


def test_noise_control_off_is_still_one_call(world):
    off = Settings(noise_window_seconds=0)
    for i in range(3):
        assert calls(world, run(CRASH, taskArn=task_arn(i)), settings=off, now=T0 + 5000 * i) == ONE


def test_failures_and_retries(world):
    f = run(CRASH)
    world["slack"].script(500, 500, 500, 500)
    assert calls(world, f, fails=True) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}  # count, publish, hold
    assert calls(world, f, now=T0 + 60) == {"dynamodb.UpdateItem": 2}  # found pending (failed write), release
    assert calls(world, f, now=T0 + 61) == {"dynamodb.UpdateItem": 1}  # a duplicate of a completed delivery

    g = run(CRASH, taskArn=task_arn(2))
    broken = [SnsChannel(MISSING_TOPIC, world["clients"]("sns")), world["channels"][1]]
    assert calls(world, g, broken, now=T0 + 70, fails=True) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}
    assert calls(world, g, now=T0 + 80) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}


def test_a_new_window_costs_one_more_write(world):
    calls(world, run(CRASH, taskArn=task_arn(1)))
    assert calls(world, run(CRASH, taskArn=task_arn(2)), now=T0 + 900) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}
    assert calls(world, run(CRASH, taskArn=task_arn(3)), now=T0 + 901) == ONE


def test_table_down_costs_the_failed_call_only(world):
    world["state"] = DynamoState("no-such-table", world["clients"]("dynamodb"))
    # Nothing is sent without the count: SNS sent now would be sent again by the retry.
    assert calls(world, run(CRASH), fails=True) == {"dynamodb.UpdateItem": 1}


def test_warm_app_crash_with_slack_is_five_calls_with_the_idempotency_record(aws):  # noqa: F811
    """End to end on moto: warm evidence, a Powertools idempotency record around delivery (as the handler
    keeps it, on the same table), SNS and Slack: GetLogEvents + PutItem + UpdateItem + 1 DynamoDB write
    for noise control + Publish."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from shared.evidence import ecs
    from shared.inputs import parse_task_event
    from shared.pipeline import investigate
    from tests.functional.aws_world import PANIC_LOGS, World, container_def

    clients = Clients(REGION)
    ecs.clear_cache()
    world = World.build(clients, [container_def()])
    world.write_logs("app", PANIC_LOGS)
    table = make_table()
    topic = clients("sns").create_topic(Name="ecs-autopsy-findings")["TopicArn"]
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=clients("dynamodb"))

    with SlackReceiver() as slack:
        channels = [SnsChannel(topic, clients("sns")), SlackChannel(url=slack.url)]
        state = DynamoState(table, clients("dynamodb"))

        config = IdempotencyConfig(event_key_jmespath="detail.[taskArn, version]")
        config.register_lambda_context(SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000))

        @idempotent_function(data_keyword_argument="event", persistence_store=store, config=config)
        def handle(event: dict) -> dict:
            _, finding = investigate(parse_task_event(event), clients)
            return deliver(finding, channels, state, Settings(topic_arn=topic)).summary()

        raw = world.stopped_event(containers=[{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}])
        handle(event=raw)  # the cold start reads the task definition
        warm = {**raw, "detail": {**raw["detail"], "version": raw["detail"].get("version", 1) + 1}}
        clients.reset_calls()
        handle(event=warm)
        assert len(slack.accepted) == 1  # the second task of the failure is counted, not posted
        assert dict(clients.calls) == {"logs.GetLogEvents": 1, "dynamodb.PutItem": 1, "dynamodb.UpdateItem": 2,
                                       "sns.Publish": 1}
        assert clients.total_calls == 5
        clients.reset_calls()
        assert handle(event=warm)["channels"]["slack"]["status"] == "skipped"  # the same event again:
        assert dict(clients.calls) == {"dynamodb.PutItem": 1}  # the idempotency record answers, nothing is sent
        assert len(slack.accepted) == 1
    ecs.clear_cache()
