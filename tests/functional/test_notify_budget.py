"""The AWS calls of a delivery, counted on moto with shared.aws.Clients (one counter for every client).

Idempotency and noise control share one state item (issue 15.7): a delivery claims and counts the task
in one conditional write and clears its in-progress mark in a second, whatever its channels (SNS only
and expected stops are deduplicated too). A warm first-seen app crash costs GetLogEvents + 2 writes +
Publish (+ the Slack post, not an AWS call: its secret is cached while warm); an exact duplicate and a
later event version with the same diagnosis cost the diagnosis and ONE failed conditional write.
"""

from __future__ import annotations

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


ONE = {"dynamodb.UpdateItem": 2, "sns.Publish": 1}  # claim + count, publish, clear the in-progress mark


def test_happy_path_is_two_dynamodb_writes_and_one_publish(world):
    assert calls(world, run(CRASH, taskArn=task_arn(1))) == ONE  # first occurrence: posts
    for i in range(2, 10):
        assert calls(world, run(CRASH, taskArn=task_arn(i)), now=T0 + i) == ONE  # repeats: suppressed
    assert calls(world, run(CRASH, taskArn=task_arn(10)), now=T0 + 10) == ONE  # threshold: "still happening"
    assert len(world["slack"].accepted) == 2


def test_chatbot_and_slack_together_still_two_dynamodb_writes(world):
    channels = [*world["channels"], ChatbotChannel(world["topic"], world["clients"]("sns"))]
    assert calls(world, run(CRASH), channels) == {"dynamodb.UpdateItem": 2, "sns.Publish": 2}


def test_expected_stops_and_sns_only_are_deduplicated_too(world):
    expected_stop = run([], taskArn=task_arn(1), stopCode="ServiceSchedulerInitiated",
                        stoppedReason="Scaling activity initiated by deployment",
                        containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}])
    assert calls(world, expected_stop) == ONE
    assert calls(world, expected_stop, now=T0 + 1) == {"dynamodb.UpdateItem": 1}  # its duplicate: nothing sent
    assert calls(world, run(CRASH), world["channels"][:1]) == ONE  # SNS only
    assert calls(world, run(CRASH), world["channels"][:1], now=T0 + 1) == {"dynamodb.UpdateItem": 1}
    g = run(CRASH, taskArn=task_arn(2))  # SNS only, failing: held for the retry
    assert calls(world, g, [SnsChannel(MISSING_TOPIC, world["clients"]("sns"))], fails=True) == ONE


def test_noise_control_off_is_still_two_writes(world):
    off = Settings(noise_window_seconds=0)
    for i in range(3):
        assert calls(world, run(CRASH, taskArn=task_arn(i)), settings=off, now=T0 + 5000 * i) == ONE


def test_failures_and_retries(world):
    f = run(CRASH)
    world["slack"].script(500, 500, 500, 500)
    assert calls(world, f, fails=True) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}  # claim, publish, hold
    assert calls(world, f, now=T0 + 60) == {"dynamodb.UpdateItem": 2}  # found pending (failed write), release
    assert calls(world, f, now=T0 + 61) == {"dynamodb.UpdateItem": 1}  # a duplicate of a completed delivery

    g = run(CRASH, taskArn=task_arn(2))
    broken = [SnsChannel(MISSING_TOPIC, world["clients"]("sns")), world["channels"][1]]
    assert calls(world, g, broken, now=T0 + 70, fails=True) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}
    assert calls(world, g, now=T0 + 80) == {"dynamodb.UpdateItem": 2, "sns.Publish": 1}


def test_a_new_window_costs_one_more_write(world):
    calls(world, run(CRASH, taskArn=task_arn(1)))
    assert calls(world, run(CRASH, taskArn=task_arn(2)), now=T0 + 900) == {"dynamodb.UpdateItem": 3, "sns.Publish": 1}
    assert calls(world, run(CRASH, taskArn=task_arn(3)), now=T0 + 901) == ONE


def test_table_down_costs_the_failed_call_only(world):
    world["state"] = DynamoState("no-such-table", world["clients"]("dynamodb"))
    # Nothing is sent without the count: SNS sent now would be sent again by the retry.
    assert calls(world, run(CRASH), fails=True) == {"dynamodb.UpdateItem": 1}


def test_warm_app_crash_with_slack_is_four_calls(aws):  # noqa: F811
    """End to end on moto: warm evidence, delivery with its state item (idempotency and noise control in one),
    SNS and Slack: GetLogEvents + 2 DynamoDB writes + Publish (before issue 15.7: 5, with a Powertools
    idempotency record of its own, PutItem + UpdateItem, next to the noise write)."""
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

    with SlackReceiver() as slack:
        channels = [SnsChannel(topic, clients("sns")), SlackChannel(url=slack.url)]
        state = DynamoState(table, clients("dynamodb"))

        def handle(event: dict) -> dict:
            _, finding = investigate(parse_task_event(event), clients)
            return deliver(finding, channels, state, Settings(topic_arn=topic)).summary()

        raw = world.stopped_event(containers=[{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}])
        handle(raw)  # the cold start reads the task definition
        other = {**raw, "detail": {**raw["detail"], "taskArn": raw["detail"]["taskArn"][:-1] + "e"}}
        world.write_logs("app", PANIC_LOGS, task_id=other["detail"]["taskArn"].rsplit("/", 1)[-1])
        clients.reset_calls()
        handle(other)
        assert len(slack.accepted) == 1  # the second task of the failure is counted, not posted
        assert dict(clients.calls) == {"logs.GetLogEvents": 1, "dynamodb.UpdateItem": 2, "sns.Publish": 1}
        assert clients.total_calls == 4
        clients.reset_calls()
        later = {**other, "detail": {**other["detail"], "version": other["detail"].get("version", 1) + 1}}
        out = handle(later)  # a later STOPPED event of the same task, same diagnosis:
        assert out["duplicate"] == "completed" and out["channels"]["sns"]["status"] == "already"
        assert dict(clients.calls) == {"logs.GetLogEvents": 1, "dynamodb.UpdateItem": 1}  # nothing is sent
        assert len(slack.accepted) == 1
    ecs.clear_cache()
