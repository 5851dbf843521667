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
from shared.notify.state import windows
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


@pytest.fixture(params=["dynamodb", "memory"])
def env(request, aws, slack):  # noqa: F811
    """A state table (or process memory), a topic with a raw SQS subscriber, and Slack: the channels as deployed."""
    table = make_table()
    topic, queue = make_topic_with_queue(raw=True)
    sns = boto3.client("sns", region_name=REGION)
    ddb = boto3.client("dynamodb", region_name=REGION)
    channels = [SnsChannel(topic, sns), SlackChannel(url=slack.url, retry=BoundedRetryHandler(base_delay=0.01))]
    state = DynamoState(table, ddb) if request.param == "dynamodb" else MemoryState()
    return {"state": state, "channels": channels, "queue": queue, "slack": slack, "ddb": ddb,
            "table": table, "topic": topic, "sns": sns, "backend": request.param}


def state_item(env, f) -> dict:
    """The service's state item (one per service: its failures' windows, its tasks, pending deliveries)."""
    if env["backend"] == "memory":
        return env["state"].items[noise_key(f)]
    from shared.notify.dynamo import load as _load

    return _load(env["ddb"].get_item(TableName=env["table"], Key={"id": {"S": noise_key(f)}})["Item"])


def noise_item(env, f) -> dict:
    """The failure's noise window in its service's item (count, window_start, previous_count) and the expiration."""
    item = state_item(env, f)
    return {**windows(item)[f.fingerprint], "expiration": int(item["expiration"])}


def pending(env, f) -> dict:
    return state_item(env, f)["pending"]


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
    assert again.decision is not None and again.decision.count == 1  # the stored decision, not a new one
    assert pending(env, f) == {}  # the retry cleared its entry
    third = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 120)  # a late duplicate
    assert {o.status for o in third.outcomes.values()} == {"already"}
    assert len(env["slack"].accepted) == 1 and drain(env["queue"]) == []


def test_a_retry_that_fails_again_keeps_only_what_is_still_pending(env, slack):
    f = run(CRASH)
    _, chatbot_q = make_topic_with_queue(raw=True, filter_policy={"format": ["chatbot"]}, queue="chatbot")
    broken = ChatbotChannel(f"arn:aws:sns:{REGION}:111122223333:absent", env["sns"])
    slack.script(500, 500, 500, 500)
    with pytest.raises(DeliveryError):
        deliver(f, [*env["channels"], broken], env["state"], Settings(), now=T0)
    assert sorted(pending(env, f)[delivery_id(f)]["channels"]) == ["chatbot", "slack"]
    with pytest.raises(DeliveryError) as err:  # Slack is back, the Chatbot topic is still missing
        deliver(f, [*env["channels"], broken], env["state"], Settings(), now=T0 + 60)
    assert {k: o.status for k, o in err.value.result.outcomes.items()} == {
        "sns": "already", "slack": "sent", "chatbot": "failed"}
    assert pending(env, f)[delivery_id(f)]["channels"] == ["chatbot"]
    fixed = ChatbotChannel(env["topic"], env["sns"])
    last = deliver(f, [*env["channels"], fixed], env["state"], Settings(), now=T0 + 120)
    assert {k: o.status for k, o in last.outcomes.items()} == {"sns": "already", "slack": "already", "chatbot": "sent"}
    assert len(drain(chatbot_q)) == 1 and len(env["slack"].accepted) == 1
    bodies = [json.loads(m["Body"]) for m in drain(env["queue"])]  # this subscriber has no filter: both formats
    assert len(bodies) == 2 and sum("task" in b for b in bodies) == 1  # the finding once, the Chatbot message once
    assert pending(env, f) == {} and noise_item(env, f)["count"] == 1


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
    assert noise_item(env, f)["count"] == 1 and pending(env, f) == {}


def test_a_suppressed_task_whose_sns_failed_is_not_counted_again(env):
    for i in range(3):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], Settings(), now=T0 + i)
    f = run(CRASH, taskArn=task_arn(3))
    channels = [SnsChannel(f"arn:aws:sns:{REGION}:111122223333:absent", env["sns"]), env["channels"][1]]
    with pytest.raises(DeliveryError) as err:
        deliver(f, channels, env["state"], Settings(), now=T0 + 3)
    assert err.value.result.outcomes["slack"].status == "skipped"  # count 4: no post
    retry = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 60)
    assert retry.outcomes["sns"].status == "sent" and retry.outcomes["slack"].status == "already"
    assert retry.decision is not None and retry.decision.count == 4 and not retry.decision.post
    assert noise_item(env, f)["count"] == 4 and len(env["slack"].accepted) == 1


def test_sns_only_failure_is_held_and_the_retry_resends_sns_once(env):
    f = run(CRASH)
    with pytest.raises(DeliveryError):
        deliver(f, [SnsChannel(f"arn:aws:sns:{REGION}:111122223333:absent", env["sns"])], env["state"], Settings(),
                now=T0)
    assert pending(env, f)[delivery_id(f)]["channels"] == ["sns"]
    assert deliver(f, env["channels"][:1], env["state"], Settings(), now=T0 + 60).outcomes["sns"].status == "sent"
    assert len(drain(env["queue"])) == 1
    assert pending(env, f) == {}
    # SNS-only setups are deduplicated too (before, they kept no state and a duplicate published again)
    dup = deliver(f, env["channels"][:1], env["state"], Settings(), now=T0 + 61)
    assert dup.outcomes["sns"].status == "already" and dup.duplicate == "completed"
    assert drain(env["queue"]) == []


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
    received = []
    for i, f in enumerate(findings):
        deliver(f, env["channels"], env["state"], settings, now=T0 + i)  # 500 tasks in 500 s: one window
        if i % 10 == 9:
            received += drain(env["queue"])  # moto's SQS slows down with the queue's length: keep it short
    posts = env["slack"].accepted
    assert len(posts) <= 5
    assert len(posts) == 4  # at 1, 10, 50 and 200
    lines = [p["blocks"][0]["text"]["text"] for p in posts[1:]]  # a repeat is one line
    assert [int(x.split("seen ")[1].split(" ")[0]) for x in lines] == [10, 50, 200]
    assert noise_item(env, findings[0])["count"] == 500
    assert pending(env, findings[0]) == {}
    assert len(received) == 500  # every task is on SNS
    assert {json.loads(m["Body"])["task"]["task_arn"] for m in received} == {task_arn(i) for i in range(500)}


def test_post_cap_per_window(env):
    settings = Settings(max_slack_posts_per_window=2)
    for i in range(60):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], settings, now=T0 + i)
    assert len(env["slack"].accepted) == 2  # 1 and 10; the post at 50 is over the cap
    assert len(drain(env["queue"])) == 60
    r = deliver(run(CRASH, taskArn=task_arn(60)), env["channels"], env["state"], settings, now=T0 + 60)
    assert "limit of 2 posts per window is reached" in r.outcomes["slack"].detail


def test_next_window_posts_again_with_the_previous_count(env):
    for i in range(30):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], Settings(), now=T0 + i)
    assert len(env["slack"].accepted) == 2
    later = run(CRASH, taskArn=task_arn(999))
    deliver(later, env["channels"], env["state"], Settings(), now=T0 + 900 + 30)
    posts = env["slack"].accepted
    assert len(posts) == 3
    assert "Seen 30 times in the previous 15 min window" in posts[-1]["blocks"][1]["text"]["text"]
    item = noise_item(env, later)
    assert (item["count"], item["window_start"], item["previous_count"]) == (1, T0 + 930, 30)
    deliver(run(CRASH, taskArn=task_arn(1000)), env["channels"], env["state"], Settings(), now=T0 + 931)
    assert noise_item(env, later)["count"] == 2 and len(env["slack"].accepted) == 3


def test_a_window_long_over_does_not_mention_its_count(env):
    deliver(run(CRASH, taskArn=task_arn(1)), env["channels"], env["state"], Settings(), now=T0)
    f = run(CRASH, taskArn=task_arn(2))
    r = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 900 + 86_400)
    assert r.decision is not None and r.decision.previous_count == 0 and r.decision.post
    assert "previous" not in json.dumps(env["slack"].accepted[-1])


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
    assert result.outcomes["slack"].status == "skipped" and "expected stop" in result.outcomes["slack"].detail
    assert result.outcomes["sns"].status == "sent"
    assert env["slack"].accepted == [] and len(drain(env["queue"])) == 1


def test_expected_stop_duplicate_is_not_published_again(env):
    f = expected_stop()
    deliver(f, env["channels"], env["state"], Settings(), now=T0)
    again = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 5)
    assert again.outcomes["sns"].status == "already" and len(drain(env["queue"])) == 1


def test_expected_stop_is_posted_when_configured(env):
    deliver(expected_stop(), env["channels"], env["state"], Settings(post_expected_stops=True), now=T0)
    assert len(env["slack"].accepted) == 1


def test_noise_control_off(env):
    for i in range(12):
        deliver(run(CRASH, taskArn=task_arn(i)), env["channels"], env["state"], Settings(noise_window_seconds=0),
                now=T0 + i * 1000)
    assert len(env["slack"].accepted) == 12
    assert all("Still happening" not in json.dumps(p) for p in env["slack"].accepted)
    f = run(CRASH, taskArn=task_arn(99))
    env["slack"].script(500, 500, 500, 500)
    with pytest.raises(DeliveryError):
        deliver(f, env["channels"], env["state"], Settings(noise_window_seconds=0), now=T0 + 99_000)
    retry = deliver(f, env["channels"], env["state"], Settings(noise_window_seconds=0), now=T0 + 99_060)
    assert retry.outcomes["sns"].status == "already" and retry.outcomes["slack"].status == "sent"
    assert noise_item(env, f)["count"] == 13


def test_chatbot_follows_the_noise_decision(env):
    _, chatbot_q = make_topic_with_queue(raw=True, filter_policy={"format": ["chatbot"]}, queue="chatbot")
    channels = [*env["channels"], ChatbotChannel(env["topic"], env["sns"])]
    for i in range(12):
        deliver(run(CRASH, taskArn=task_arn(i)), channels, env["state"], Settings(), now=T0 + i)
    bodies = [json.loads(m["Body"]) for m in drain(chatbot_q)]
    assert len(bodies) == 2 == len(env["slack"].accepted)
    assert bodies[1]["content"]["description"].startswith(":repeat: *Still happening: seen 10 times")
    assert bodies[0]["metadata"]["threadId"] == bodies[1]["metadata"]["threadId"]


def test_state_table_down_sends_nothing_and_fails_for_a_retry_that_sends_once(env):
    # SNS sent without a record of it would be sent again by the retry (issue 6: nothing twice).
    broken = DynamoState("no-such-table", env["ddb"])
    f = run(CRASH)
    with pytest.raises(DeliveryError) as err:
        deliver(f, env["channels"], broken, Settings(), now=T0)
    outcomes = err.value.result.outcomes
    for name in ("sns", "slack"):
        assert outcomes[name].status == "failed" and "noise-control state unavailable" in outcomes[name].detail
    assert "ResourceNotFoundException" in outcomes["slack"].detail
    assert env["slack"].accepted == [] and drain(env["queue"]) == []
    retry = deliver(f, env["channels"], env["state"], Settings(), now=T0 + 60)  # the table is back
    assert retry.outcomes["slack"].status == "sent" and len(env["slack"].accepted) == 1
    assert retry.outcomes["sns"].status == "sent" and len(drain(env["queue"])) == 1


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


def _claim(task: str, now: int, window: int = 900, fp: str = "f1", until_ms: int | None = None):
    from shared.notify.state import Claim

    return Claim("noise#svc", fp, task, f"{fp}-{task}", now, until_ms if until_ms is not None else (now + 60) * 1000,
                 window, T0 + 10**6)


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_state_semantics(aws, kind):  # noqa: F811
    from shared.notify.state import Counted, InProgress, Seen, Stale

    state = MemoryState() if kind == "memory" else DynamoState(make_table(), boto3.client("dynamodb", region_name=REGION))
    k = "noise#svc"
    assert state.claim(_claim("t1", T0)) == Counted(T0, 1, 0, {})
    state.release(k, "f1-t1")
    assert state.claim(_claim("t2", T0 + 899)) == Counted(T0, 2, 0, {})
    # claimed and not finished: a concurrent duplicate is told so, with the count it claimed
    assert state.claim(_claim("t2", T0 + 899)) == InProgress((T0 + 899 + 60) * 1000, 2, T0, 0)
    state.hold(k, "f1-t2", {"channels": ["slack"], "at": T0 + 899})
    assert state.claim(_claim("t2", T0 + 950)) == Seen({"channels": ["slack"], "at": T0 + 899})  # before Stale
    assert state.claim(_claim("t1", T0 + 950)) == Seen(None)  # a completed task: before Stale too
    assert state.claim(_claim("t3", T0 + 900)) == Stale(T0, 2)
    # two invocations find the window over; the first opens the next one, the second counts in it
    assert state.claim(_claim("t4", T0 + 900)) == Stale(T0, 2)
    assert state.roll(_claim("t3", T0 + 900), T0, 2) == Counted(T0 + 900, 1, 2, {"f1-t2": T0 + 899})
    assert state.roll(_claim("t4", T0 + 900), T0, 2) is None
    assert state.claim(_claim("t4", T0 + 900)) == Counted(T0 + 900, 2, 2, {"f1-t2": T0 + 899})
    state.release(k, "f1-t2")
    state.release(k, "f1-t3")
    state.hold(k, "d5", {"channels": ["sns"], "at": T0 + 901})
    state.hold(k, "d6", {"channels": ["sns"], "at": T0 + 902}, drop=["d5"])
    assert state.claim(_claim("t7", T0 + 903, window=0)) == Counted(T0 + 900, 3, 2, {"d6": T0 + 902})  # window 0
    # the same task with another diagnosis (a later event version): counted in its own window, superseding
    assert state.claim(_claim("t7", T0 + 904, fp="f2")) == Counted(T0 + 904, 1, 0, {"d6": T0 + 902}, "f1")
    # an invocation that died: its mark expires; one retry takes it over, a second one does not
    dead = _claim("t8", T0 + 905, until_ms=(T0 + 906) * 1000)
    state.claim(dead)
    late = _claim("t8", T0 + 907)
    got = state.claim(late)
    assert got == InProgress((T0 + 906) * 1000, 4, T0 + 900, 2)
    assert state.take_over(late, got.until_ms)
    assert not state.take_over(_claim("t8", T0 + 907, until_ms=(T0 + 970) * 1000), got.until_ms)
    state.release("noise#absent", "d1")  # nothing to release: no error, no item
    assert state.claim(_claim_absent()) == Counted(T0, 1, 0, {})


def _claim_absent():
    from dataclasses import replace

    return replace(_claim("t1", T0), key="noise#absent")


def test_the_item_is_read_when_a_failed_write_does_not_return_it(aws):  # noqa: F811
    """DynamoDB returns the item of a failed conditional write (ReturnValuesOnConditionCheckFailure);
    an endpoint that does not is read with a GetItem, only on that path."""
    from shared.aws import Clients
    from shared.notify.state import Seen

    clients = Clients(REGION)
    ddb = clients("dynamodb")

    def strip_item(parsed, **_):
        parsed.pop("Item", None)

    ddb.meta.events.register("after-call.dynamodb.UpdateItem", strip_item)
    state = DynamoState(make_table(), ddb)
    state.claim(_claim("t1", T0))
    state.hold("noise#svc", "f1-t1", {"channels": ["slack"], "at": T0})
    clients.reset_calls()
    assert state.claim(_claim("t1", T0 + 1)) == Seen({"channels": ["slack"], "at": T0})
    assert dict(clients.calls) == {"dynamodb.UpdateItem": 1, "dynamodb.GetItem": 1}


def test_one_item_per_service_and_it_expires(env):
    f = run(CRASH)
    deliver(f, env["channels"], env["state"], Settings(), now=T0)
    deliver(run(CRASH, taskArn=task_arn(7)), env["channels"], env["state"], Settings(), now=T0 + 5)
    assert noise_item(env, f)["expiration"] == T0 + 5 + 900 + 7 * 86_400  # retries within re-send only what failed
    if env["backend"] == "dynamodb":
        assert [i["id"]["S"] for i in env["ddb"].scan(TableName=env["table"])["Items"]] == [noise_key(f)]


def test_delivery_ids():
    a = run(CRASH, taskArn=task_arn(1))
    assert delivery_id(a) == delivery_id(run(CRASH, taskArn=task_arn(1)))  # same event twice: same id
    # per stopped task, not per event version (issue 10.4): a later version with the same diagnosis is the same
    assert delivery_id(a) == delivery_id(run(CRASH, taskArn=task_arn(1), version=6))
    assert delivery_id(a) != delivery_id(run(CRASH, taskArn=task_arn(2)))
    from shared.models.finding import DeploymentSummary

    def dep(deployment_id: str):
        return a.model_copy(update={"scope": "deployment", "deployment": DeploymentSummary(
            deployment_id=deployment_id, event_name="SERVICE_DEPLOYMENT_FAILED")})

    assert delivery_id(dep("ecs-svc/1")) != delivery_id(dep("ecs-svc/2")) != delivery_id(a)


def test_a_concurrent_duplicate_is_in_progress_and_a_dead_invocation_is_taken_over(env):
    """The claim marks the delivery in progress until the invocation's deadline: a duplicate before then ends
    normally and sends nothing; a retry after it (the invocation died between claim and completion) takes
    the delivery over and sends every channel, with the decision of the count it claimed."""
    from shared.notify import noise

    f = run(CRASH)
    state = env["state"]

    did = delivery_id(f)
    claimed = noise.observe(noise.claim_for(f, did, Settings(), T0, (T0 + 60) * 1000), state)  # then it died
    assert claimed.count == 1
    dup = deliver(f, env["channels"], state, Settings(), now=T0 + 5)
    assert dup.duplicate == "in progress" and {o.status for o in dup.outcomes.values()} == {"in-progress"}
    assert env["slack"].accepted == [] and drain(env["queue"]) == []
    retry = deliver(f, env["channels"], state, Settings(), now=T0 + 61)  # Lambda's retry, after the deadline
    assert retry.taken_over and {o.status for o in retry.outcomes.values()} == {"sent"}
    assert retry.decision is not None and retry.decision.post and retry.decision.count == 1
    assert len(env["slack"].accepted) == 1 and len(drain(env["queue"])) == 1
    late = deliver(f, env["channels"], state, Settings(), now=T0 + 120)
    assert late.duplicate == "completed" and noise_item(env, f)["count"] == 1


def test_a_later_version_with_another_diagnosis_supersedes_the_first(env):
    first = run(CRASH, taskArn=task_arn(1), version=5)
    second = run(["OSError: [Errno 98] Address already in use"], taskArn=task_arn(1), version=6)
    assert first.fingerprint != second.fingerprint
    deliver(first, env["channels"], env["state"], Settings(), now=T0)
    update = deliver(second, env["channels"], env["state"], Settings(), now=T0 + 1)
    assert update.supersedes == first.fingerprint and update.summary()["supersedes"] == first.fingerprint
    messages = drain(env["queue"])
    assert len(messages) == 2
    assert messages[1]["MessageAttributes"]["supersedes"]["StringValue"] == first.fingerprint
    again = deliver(run(["OSError: [Errno 98] Address already in use"], taskArn=task_arn(1), version=7),
                    env["channels"], env["state"], Settings(), now=T0 + 2)
    assert again.duplicate == "completed" and drain(env["queue"]) == []


def test_long_gone_windows_and_dead_marks_are_dropped(env):
    """One item per service lives as long as the service fails now and then: what no delivery reads again
    (another failure's window over for two days, the in-progress mark of an invocation that died and was
    never retried) is dropped by the next completion, so the item stays bounded."""
    from shared.notify import noise

    old = run(["OSError: [Errno 98] Address already in use"], taskArn=task_arn(1))
    deliver(old, env["channels"], env["state"], Settings(), now=T0)
    dead = run(CRASH, taskArn=task_arn(2))
    noise.observe(noise.claim_for(dead, delivery_id(dead), Settings(), T0, (T0 + 60) * 1000), env["state"])
    later = T0 + 900 + 3 * 86_400
    deliver(run(CRASH, taskArn=task_arn(3)), env["channels"], env["state"], Settings(), now=later)
    item = state_item(env, old)
    assert old.fingerprint not in windows(item)  # the other failure's window is gone
    assert not any(k.startswith(("ip_", "ic_")) for k in item)  # the dead mark too
    assert windows(item)[dead.fingerprint]["count"] == 1  # the failure just counted stays (a new window)
