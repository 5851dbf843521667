"""deliver(): independent channels, retries without re-sending, noise control; moto DynamoDB, SNS->SQS,
and a real HTTP server on 127.0.0.1 for Slack."""

from __future__ import annotations

import json

import boto3
import pytest

from shared.notify import (
    ChatbotChannel,
    DeliveryError,
    DynamoState,
    MemoryState,
    SlackChannel,
    SnsChannel,
    deliver,
    delivery_id,
    from_settings,
    state_from_settings,
)
from shared.notify.noise import is_threshold, next_threshold, noise_key
from shared.notify.slack import BoundedRetryHandler
from shared.settings import Settings
from tests.support.aws import REGION, aws, drain, make_table, make_topic_with_queue  # noqa: F401  (fixture)
from tests.support.slack_receiver import SlackReceiver
from tests.unit.helpers import run

T0 = 1_700_000_000
CRASH = ["Traceback (most recent call last):", '  File "app.py", line 3', "KeyError: 'DATABASE_URL'"]


def task_arn(i: int) -> str:
    return f"arn:aws:ecs:us-east-1:111122223333:task/prod/{i:032x}"


@pytest.fixture
def slack():
    with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture
def env(aws, slack):  # noqa: F811
    """A state table, a topic with a raw SQS subscriber, and Slack: the channels as deployed."""
    table = make_table()
    topic, queue = make_topic_with_queue(raw=True)
    sns = boto3.client("sns", region_name=REGION)
    ddb = boto3.client("dynamodb", region_name=REGION)
    channels = [SnsChannel(topic, sns), SlackChannel(url=slack.url, retry=BoundedRetryHandler(base_delay=0.01))]
    return {"state": DynamoState(table, ddb), "channels": channels, "queue": queue, "slack": slack, "ddb": ddb,
            "table": table, "topic": topic, "sns": sns}


def noise_item(env, f) -> dict:
    item = env["ddb"].get_item(TableName=env["table"], Key={"id": {"S": noise_key(f)}})["Item"]
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


def test_failed_slack_fails_the_invocation_and_the_retry_sends_only_slack(env):
    f = run(CRASH)
    env["slack"].script(500, 500, 500, 500)  # the first invocation exhausts its retries
    with pytest.raises(DeliveryError) as err:
        deliver(f, env["channels"], env["state"], Settings(), now=T0)
    outcomes = err.value.result.outcomes
    assert outcomes["sns"].status == "sent" and outcomes["slack"].status == "failed"
    assert "Slack answered 500" in outcomes["slack"].detail
    assert len(drain(env["queue"])) == 1

    again = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 60)  # Lambda's retry
    assert again.outcomes["sns"].status == "already" and again.outcomes["slack"].status == "sent"
    assert drain(env["queue"]) == []  # SNS not re-sent
    assert len(env["slack"].accepted) == 1
    assert noise_item(env, f)["count"] == 1  # the retry did not count the task again
    assert "Still happening" not in json.dumps(env["slack"].accepted[0])


def test_failed_sns_does_not_stop_slack(env):
    f = run(CRASH)
    channels = [SnsChannel(f"arn:aws:sns:{REGION}:111122223333:absent", env["sns"]), env["channels"][1]]
    with pytest.raises(DeliveryError) as err:
        deliver(f, channels, env["state"], Settings(), now=T0)
    assert err.value.result.outcomes["slack"].status == "sent"
    assert [o.channel for o in err.value.result.failed] == ["sns"]
    assert "sns" in str(err.value)
    retry = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 60)  # topic fixed
    assert retry.outcomes["sns"].status == "sent" and retry.outcomes["slack"].status == "already"
    assert len(env["slack"].accepted) == 1 and len(drain(env["queue"])) == 1


def test_duplicate_event_is_delivered_once(env):
    f = run(CRASH)
    first = deliver(f, env["channels"], env["state"], Settings(), now=T0)
    second = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 1)
    assert {o.status for o in first.outcomes.values()} == {"sent"}
    assert {o.status for o in second.outcomes.values()} == {"already"}
    assert len(env["slack"].accepted) == 1 and len(drain(env["queue"])) == 1
    assert noise_item(env, f)["count"] == 1


def test_storm_of_500_tasks(env):
    settings = Settings()
    findings = [run(CRASH, taskArn=task_arn(i)) for i in range(500)]
    assert len({f.fingerprint for f in findings}) == 1 and len({delivery_id(f) for f in findings}) == 500
    for i, f in enumerate(findings):
        deliver(f, env["channels"], env["state"], settings, now=T0 + i)  # 500 tasks in 500 s: one window
    posts = env["slack"].accepted
    assert len(posts) <= 5
    assert len(posts) == 4  # at 1, 10, 50 and 200
    lines = [p["blocks"][1]["text"]["text"] for p in posts[1:]]
    assert [int(x.split("seen ")[1].split(" ")[0]) for x in lines] == [10, 50, 200]
    item = noise_item(env, findings[0])
    assert item["count"] == 500 and item["posts"] == 4
    received = drain(env["queue"])
    assert len(received) == 500  # every task is on SNS
    assert {json.loads(m["Body"])["task"]["task_arn"] for m in received} == {task_arn(i) for i in range(500)}


def test_post_cap_per_window(env):
    settings = Settings(max_slack_posts_per_window=2)
    for i in range(60):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], settings, now=T0 + i)
    assert len(env["slack"].accepted) == 2  # 1 and 10; the post at 50 is over the cap
    assert len(drain(env["queue"])) == 60


def test_next_window_posts_again_with_the_previous_count(env):
    for i in range(30):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], Settings(), now=T0 + i)
    assert len(env["slack"].accepted) == 2
    later = run(CRASH, taskArn=task_arn(999))
    deliver(later, env["channels"], env["state"], Settings(), now=T0 + 900 + 30)
    posts = env["slack"].accepted
    assert len(posts) == 3
    assert "Seen 30 times in the previous 15 min window" in posts[-1]["blocks"][1]["text"]["text"]
    assert noise_item(env, later)["count"] == 1


def test_other_failures_have_their_own_windows(env):
    deliver(run(CRASH, taskArn=task_arn(1)), env["channels"], env["state"], Settings(), now=T0)
    deliver(run(["OSError: [Errno 98] Address already in use"], taskArn=task_arn(2)), env["channels"], env["state"],
            Settings(), now=T0 + 1)
    deliver(run(CRASH, taskArn=task_arn(3), group="service:payments"), env["channels"], env["state"], Settings(),
            now=T0 + 2)
    assert len(env["slack"].accepted) == 3


def expected_stop(i: int = 0):
    return run([], taskArn=task_arn(i), stopCode="ServiceSchedulerInitiated",
               stoppedReason="Scaling activity initiated by deployment",
               containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}])


def test_expected_stop_is_not_posted_to_slack_by_default(env):
    f = expected_stop()
    assert f.pattern == "expected-stop"
    result = deliver(f, env["channels"], env["state"], Settings(), now=T0)
    assert result.outcomes["slack"].status == "skipped" and "expected-stop" in result.outcomes["slack"].detail
    assert result.outcomes["sns"].status == "sent"
    assert env["slack"].accepted == [] and len(drain(env["queue"])) == 1


def test_expected_stop_is_posted_when_configured(env):
    deliver(expected_stop(), env["channels"], env["state"], Settings(post_expected_stops=True), now=T0)
    assert len(env["slack"].accepted) == 1


def test_noise_control_off(env):
    for i in range(12):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], Settings(noise_window_seconds=0),
                now=T0 + i)
    assert len(env["slack"].accepted) == 12


def test_chatbot_follows_the_noise_decision(env):
    _, chatbot_q = make_topic_with_queue(raw=True, filter_policy={"format": ["chatbot"]}, queue="chatbot")
    channels = [*env["channels"], ChatbotChannel(env["topic"], env["sns"])]
    for i in range(12):
        deliver(run(CRASH, taskArn=task_arn(i)), channels, env["state"], Settings(), now=T0 + i)
    bodies = [json.loads(m["Body"]) for m in drain(chatbot_q)]
    assert len(bodies) == 2 == len(env["slack"].accepted)
    assert bodies[1]["content"]["description"].startswith(":repeat: *Still happening: seen 10 times")
    assert bodies[0]["metadata"]["threadId"] == bodies[1]["metadata"]["threadId"]


def test_state_table_down_still_delivers_sns_and_fails_for_a_retry(env):
    broken = DynamoState("no-such-table", env["ddb"])
    f = run(CRASH)
    with pytest.raises(DeliveryError) as err:
        deliver(f, env["channels"], broken, Settings(), now=T0)
    outcomes = err.value.result.outcomes
    assert outcomes["sns"].status == "sent"
    assert outcomes["slack"].status == "failed" and "noise-control state unavailable" in outcomes["slack"].detail
    assert env["slack"].accepted == []


def test_from_settings(aws):  # noqa: F811
    s = Settings(topic_arn="arn:aws:sns:us-east-1:111122223333:t", slack_secret_id="slack/x", table_name="tbl",
                 chatbot_format=True)
    assert [c.name for c in from_settings(s)] == ["sns", "chatbot", "slack"]
    assert [c.name for c in from_settings(Settings(slack_secret_id="s"))] == ["slack"]
    assert isinstance(state_from_settings(s), DynamoState)
    assert isinstance(state_from_settings(Settings()), MemoryState)


# -- the policy, on both state implementations --------------------------------------------------------
def test_thresholds():
    assert [n for n in range(1, 5001) if is_threshold(n)] == [1, 10, 50, 200, 1000, 2000, 3000, 4000, 5000]
    assert next_threshold(1) == 10 and next_threshold(200) == 1000 and next_threshold(1500) == 2000


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_state_semantics(aws, kind):  # noqa: F811
    state = MemoryState() if kind == "memory" else DynamoState(make_table(), boto3.client("dynamodb", region_name=REGION))
    w = state.observe("noise#x", T0, 900)
    assert (w.start, w.count, w.previous_count) == (T0, 1, 0)
    assert state.observe("noise#x", T0 + 899, 900).count == 2
    assert state.claim_post("noise#x", T0, 2) == 1
    assert state.claim_post("noise#x", T0, 2) == 2
    assert state.claim_post("noise#x", T0, 2) is None  # cap
    assert state.claim_post("noise#x", T0 - 5, 9) is None  # another window
    w = state.observe("noise#x", T0 + 900, 900)  # the window is over
    assert (w.start, w.count, w.previous_count) == (T0 + 900, 1, 2)
    assert state.claim_post("noise#x", T0 + 900, 2) == 1

    assert state.get_delivery("d1") == {}
    stored = state.put_decision("d1", {"post": True, "reason": "first", "count": 1}, T0)
    assert stored["reason"] == "first"
    assert state.put_decision("d1", {"post": False, "reason": "second"}, T0)["reason"] == "first"  # first wins
    state.mark_channel("d1", "sns", {"status": "sent", "detail": "mid-1", "at": T0}, T0)
    rec = state.get_delivery("d1")
    assert rec["channels"] == {"sns": {"status": "sent", "detail": "mid-1", "at": T0}}
    assert rec["decision"]["post"] is True


def test_items_expire(env):
    f = run(CRASH)
    deliver(f, env["channels"], env["state"], Settings(), now=T0)
    ddb, table = env["ddb"], env["table"]
    delivery = ddb.get_item(TableName=table, Key={"id": {"S": f"delivery#{delivery_id(f)}"}})["Item"]
    noise = ddb.get_item(TableName=table, Key={"id": {"S": noise_key(f)}})["Item"]
    assert int(delivery["expiration"]["N"]) == T0 + 7 * 86_400
    assert int(noise["expiration"]["N"]) == T0 + 900 + 86_400


def test_delivery_ids():
    a = run(CRASH, taskArn=task_arn(1))
    assert delivery_id(a) == delivery_id(run(CRASH, taskArn=task_arn(1)))  # same event twice: same id
    assert delivery_id(a) != delivery_id(run(CRASH, taskArn=task_arn(1), version=6))  # a later event version
    assert delivery_id(a) != delivery_id(run(CRASH, taskArn=task_arn(2)))
    from shared.models.finding import DeploymentSummary

    def dep(deployment_id: str):
        return a.model_copy(update={"scope": "deployment", "deployment": DeploymentSummary(
            deployment_id=deployment_id, event_name="SERVICE_DEPLOYMENT_FAILED")})

    assert delivery_id(dep("ecs-svc/1")) != delivery_id(dep("ecs-svc/2")) != delivery_id(a)
