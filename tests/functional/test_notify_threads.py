"""Slack app mode against the local stand-in (a real HTTP server on 127.0.0.1 answering chat.postMessage
and chat.update): one thread per incident, live count, replies that add something, recovery, routing
by ECS tags (moto), and each Slack failure falling back without losing or doubling a post."""

from __future__ import annotations

import itertools
import json
import time

import boto3
import pytest

from shared.notify import MemoryState, SlackChannel, SnsChannel, deliver, delivery_id
from shared.notify.routing import Route, Router, parse_mentions, parse_mute, route_from_tags
from shared.notify.secrets import SlackApp, SlackWebhook, WebhookSecretError, parse_slack_secret
from shared.notify.slack_app import FALLBACKS
from shared.notify.threads import DynamoThreads, MemoryThreads
from shared.settings import Settings
from tests.support.aws import REGION, aws, drain, make_table, make_topic_with_queue  # noqa: F401  (fixture)
from tests.support.slack_receiver import TOKEN, SlackReceiver
from tests.unit.helpers import run

CRASH = ["Traceback (most recent call last):", '  File "app.py", line 3', "KeyError: 'DATABASE_URL'"]
OOM = ["java.lang.OutOfMemoryError: Java heap space"]
CHANNELS = {"C0ALERTS1": "alerts", "C0ORDERS1": "orders-team", "C0PAYMNT1": "payments"}


def task_arn(i: int) -> str:
    return f"arn:aws:ecs:us-east-1:111122223333:task/prod/{i:032x}"


def nth(finding, i: int):
    return finding.model_copy(update={"task": finding.task.model_copy(update={"task_arn": task_arn(i),
                                                                            "task_id": f"{i:032x}"})})


@pytest.fixture
def slack():
    with SlackReceiver(channels=dict(CHANNELS)) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def crash():
    return run(CRASH)


def secret(slack: SlackReceiver, **extra) -> str:
    body = {"bot_token": TOKEN, "channel": "C0ALERTS1", "api_url": slack.api_url, **extra}
    return boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"slack-app-{time.monotonic_ns()}", SecretString=json.dumps(body))["ARN"]


def app_channel(slack: SlackReceiver, threads=None, router=None, **extra) -> SlackChannel:
    return SlackChannel(secret_id=secret(slack, **extra), threads=threads if threads is not None else MemoryThreads(),
                        router=router)


SETTINGS = Settings(noise_window_seconds=900)


# -------------------------------------------------------------------------------------------------
# Secret formats
# -------------------------------------------------------------------------------------------------
def test_secret_formats():
    assert isinstance(parse_slack_secret("https://hooks.slack.com/services/T/B/X"), SlackWebhook)
    assert isinstance(parse_slack_secret('{"url": "https://hooks.slack.com/services/T/B/X"}'), SlackWebhook)
    app = parse_slack_secret("xoxb-1234-5678-abcdef")
    assert isinstance(app, SlackApp) and app.channel is None and "xoxb" not in repr(app)
    app = parse_slack_secret(json.dumps({"bot_token": "xoxb-1234-5678-abcdef", "channel": "C0ALERTS1",
                                         "webhook_url": "https://hooks.slack.com/services/T/B/X"}))
    assert app.channel == "C0ALERTS1" and app.webhook_url
    for bad in ({"bot_token": "xoxa-nope"}, {"bot_token": "xoxb-1234-5678", "api_url": "http://example.com/api/"},
                {"bot_token": "xoxb-1234-5678", "channel": "<!channel>"}):
        with pytest.raises(WebhookSecretError) as err:
            parse_slack_secret(json.dumps(bad))
        assert "xoxb-1234" not in str(err.value)


# -------------------------------------------------------------------------------------------------
# Threads
# -------------------------------------------------------------------------------------------------
class Clock:
    """Simulated time: a storm of `rate` tasks a second."""

    def __init__(self, rate: float) -> None:
        self.now = 1_800_000_000.0
        self.step = 1 / rate

    def __call__(self) -> float:
        return self.now


def test_storm_of_500_is_one_thread(slack, crash):
    """500 tasks, one cause, one service, at 20 tasks a second: 1 parent, <= 3 replies, the parent
    updated at most once a second (by the clock the invocations see)."""
    threads, state, clock = MemoryThreads(), MemoryState(), Clock(rate=20)
    ch = app_channel_no_secret(slack, threads)
    poster = ch._thread_poster(ch._app)
    poster.clock = clock
    updates: list[float] = []
    update = poster.api.update
    poster.api.update = lambda *a, **k: updates.append(clock.now) or update(*a, **k)
    for i in range(500):
        result = deliver(nth(crash, i), [ch], state, SETTINGS, now=clock.now)
        assert result.ok, result.summary()
        clock.now += clock.step
    (parent,) = slack.parents()
    detail, *replies = slack.replies(parent.ts)
    assert detail.payload["text"].startswith("Details: ")
    assert 1 <= len(replies) <= 3
    assert all("Still happening" in r.payload["text"] for r in replies)
    assert len(updates) == len(parent.edits) <= 25 + 1
    assert all(b - a >= 1 for a, b in itertools.pairwise(updates))
    (item,) = [v for k, v in threads.items.items() if k.startswith("thread#")]
    assert item["count"] == 500 and item["status"] == "open"
    assert "tasks so far" in json.dumps(parent.current)
    print(f"storm: 1 parent, {len(replies)} replies, {len(updates)} chat.update over 25 s of storm")


@pytest.mark.usefixtures("aws")
def test_thread_state_on_dynamodb(slack, crash):
    """The same bookkeeping on DynamoDB (moto): one thread, replies at 10 and 50, a retry posts nothing."""
    threads = DynamoThreads(make_table())
    ch = app_channel(slack, threads)
    state = MemoryState()
    for i in range(60):
        assert deliver(nth(crash, i), [ch], state, SETTINGS).ok
    deliver(nth(crash, 59), [ch], state, SETTINGS)  # a duplicate of the last one
    (parent,) = slack.parents()
    assert [r.payload["text"][:8] for r in slack.replies(parent.ts)] == ["Details:", ":repeat:", ":repeat:"]
    service = f"{crash.task.account}/{crash.task.region}/{crash.task.cluster}/{crash.task.service}"
    (key,) = threads.open_get(service)
    item = threads.get("thread#" + key)
    assert item["count"] == 60 and item["ts"] == parent.ts and item["posted"]["count:10"]


def test_recovery_replies_once(slack, crash):
    threads = MemoryThreads()
    ch = SlackChannel(url=None, secret_id=None, threads=threads)
    ch._app = SlackApp(TOKEN, "C0ALERTS1", api_url=slack.api_url)
    poster = ch._thread_poster(ch._app)
    state = MemoryState()
    ch._credentials = lambda: ch._app  # type: ignore[method-assign]
    for i in range(37):
        deliver(nth(crash, i), [ch], state, SETTINGS)
    service = f"{crash.task.account}/{crash.task.region}/{crash.task.cluster}/{crash.task.service}"
    assert threads.open_get(service)
    got = poster.recover(service, "service reached a steady state", "event-1",
                         revision_note=lambda item: "rolled back to revision 41")
    again = poster.recover(service, "service reached a steady state", "event-2")  # a second steady-state event
    assert len(got) == 1 and again == []
    (parent,) = slack.parents()
    recovered = [r for r in slack.replies(parent.ts) if "Recovered" in r.payload["text"]]
    assert len(recovered) == 1
    assert "37 tasks failed; rolled back to revision 41" in recovered[0].payload["text"]
    assert "Recovered" in json.dumps(parent.current)
    assert threads.open_get(service) == {}


def test_a_new_cause_in_a_deployment_is_a_reply(slack, crash):
    oom = run(OOM)
    threads = MemoryThreads()
    ch = app_channel_no_secret(slack, threads)
    state = MemoryState()
    deliver(crash, [ch], state, Settings(noise_window_seconds=0))
    service = f"{crash.task.account}/{crash.task.region}/{crash.task.cluster}/{crash.task.service}"
    assert len(threads.open_get(service)) == 1
    # another cause in the same incident (as a deploy's thread would get it): one reply, once
    from shared.notify.slack_app import incident_id

    poster = ch._thread_poster(ch._app)
    same = oom.model_copy(update={"fingerprint": crash.fingerprint})
    occ = None
    assert incident_id(same, occ) == incident_id(crash, occ)
    poster.deliver(nth(same, 7), occ, Route("C0ALERTS1"), "d-7")
    poster.deliver(nth(same, 7), occ, Route("C0ALERTS1"), "d-7")  # a retry: nothing twice
    (parent,) = slack.parents()
    causes = [r for r in slack.replies(parent.ts) if r.payload["text"].startswith("New cause")]
    assert len(causes) == 1


def test_the_parent_reads_at_a_glance_and_its_details_are_the_first_reply(slack, crash):
    """App mode: the parent holds the glance blocks (title, cause, key facts, first step); the evidence, every
    fix step and the log excerpt are the first reply in its thread, posted exactly once even when the
    invocation fails between the two posts and Lambda retries it."""
    from shared.notify import DeliveryError
    from shared.notify.slack_app import SlackApiFailure

    assert len(crash.remediation) > 1 and crash.log_excerpt and crash.evidence
    ch = app_channel_no_secret(slack, MemoryThreads())
    poster = ch._thread_poster(ch._app)
    post, failed = poster.api.post, []

    def post_failing_the_first_reply(channel, payload, thread_ts=None):
        if thread_ts and not failed:
            failed.append(thread_ts)
            raise SlackApiFailure("chat.postMessage", "internal_error", 500)
        return post(channel, payload, thread_ts=thread_ts)

    poster.api.post = post_failing_the_first_reply  # type: ignore[method-assign]
    state = MemoryState()
    with pytest.raises(DeliveryError):
        deliver(crash, [ch], state, SETTINGS)
    assert len(slack.parents()) == 1 and failed
    deliver(crash, [ch], state, SETTINGS)  # Lambda's retry of the same delivery
    deliver(crash, [ch], state, SETTINGS)  # and a duplicate after it completed
    (parent,) = slack.parents()
    (detail,) = slack.replies(parent.ts)
    glance, details = json.dumps(parent.payload), json.dumps(detail.payload)
    assert "Fix, first step" in glance and "more steps in the thread" in glance
    assert "Log excerpt" not in glance and "*Evidence*" not in glance
    assert "Log excerpt" in details and "*Evidence*" in details and "Fix, next steps" in details
    assert crash.fingerprint in details


def app_channel_no_secret(slack: SlackReceiver, threads) -> SlackChannel:
    ch = SlackChannel(threads=threads)
    ch._app = SlackApp(TOKEN, "C0ALERTS1", api_url=slack.api_url)
    ch._credentials = lambda: ch._app  # type: ignore[method-assign]
    return ch


# -------------------------------------------------------------------------------------------------
# Routing
# -------------------------------------------------------------------------------------------------
def test_route_from_tags_and_validation():
    base = Route("C0ALERTS1")
    r = route_from_tags([{"key": "ecs-autopsy:slack-channel", "value": "C0ORDERS1"},
                         {"key": "ecs-autopsy:mention", "value": "<!subteam^S0TEAM123> U0ALICE1, @here <!channel>"},
                         {"key": "ecs-autopsy:min-severity", "value": "critical"},
                         {"key": "ecs-autopsy:team", "value": "orders"}], base, "service tag")
    assert r.channel == "C0ORDERS1" and r.team == "orders" and r.min_severity == "critical"
    assert r.mention == ("<!subteam^S0TEAM123>", "<@U0ALICE1>")  # @here and <!channel> dropped
    assert not r.wants("warning") and r.wants("critical")
    assert parse_mentions("<@U0X|evil> <https://evil|x>") == ()
    assert parse_mute("true") == float("inf") and parse_mute("false") is None
    assert Route(muted_until=parse_mute("2000-01-01")).muted() is False
    assert Route(muted_until=parse_mute("2999-01-01T00:00:00+00:00")).muted() is True


def _tagged_world(service_tags, cluster_tags=(), td_tags=()):
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = ecs.create_cluster(clusterName="prod", tags=list(cluster_tags))["cluster"]["clusterArn"]
    td = ecs.register_task_definition(family="orders", containerDefinitions=[{"name": "app", "image": "x", "memory": 256}],
                                      tags=list(td_tags) or [{"key": "x", "value": "y"}])
    td_arn = td["taskDefinition"]["taskDefinitionArn"]
    svc = ecs.create_service(cluster="prod", serviceName="orders-api", taskDefinition=td_arn, desiredCount=0)
    svc_arn = svc["service"]["serviceArn"]
    if service_tags:
        ecs.tag_resource(resourceArn=svc_arn, tags=list(service_tags))
    return cluster, td_arn


def _in_world(finding, cluster_arn, td_arn):
    account = cluster_arn.split(":")[4]
    return finding.model_copy(update={"task": finding.task.model_copy(update={
        "cluster": "prod", "cluster_arn": cluster_arn, "service": "orders-api", "account": account,
        "region": REGION, "task_definition_arn": td_arn})})


@pytest.mark.usefixtures("aws")
def test_routing_by_tags_two_services_two_channels(slack, crash):
    from shared.aws import Clients

    cluster, td = _tagged_world([{"key": "ecs-autopsy:slack-channel", "value": "C0ORDERS1"},
                                 {"key": "ecs-autopsy:mention", "value": "<!subteam^S0TEAM123>"},
                                 {"key": "ecs-autopsy:team", "value": "orders"}],
                                cluster_tags=[{"key": "ecs-autopsy:slack-channel", "value": "payments"}])
    clients = Clients(REGION)
    router = Router(Route("C0ALERTS1"), clients)
    f = _in_world(crash, cluster, td)
    ch = app_channel_no_secret(slack, MemoryThreads())
    ch.router = router
    topic, queue = make_topic_with_queue(raw=True)
    sns = SnsChannel(topic, boto3.client("sns", region_name=REGION), router=router)
    state = MemoryState()
    deliver(f, [sns, ch], state, SETTINGS)
    (parent,) = slack.parents()
    assert parent.channel == "C0ORDERS1"
    assert parent.payload["text"].startswith("<!subteam^S0TEAM123> ")
    reads_first = clients.calls["ecs.ListTagsForResource"]
    assert reads_first == 3  # service, task definition, cluster
    # the same service again: cached, no tag read
    deliver(nth(f, 2), [sns, ch], state, SETTINGS)
    assert clients.calls["ecs.ListTagsForResource"] == 3
    # another service of the cluster, without its own tag: the cluster's channel (by name)
    other = f.model_copy(update={"fingerprint": "f" * 16, "task": f.task.model_copy(update={"service": "billing"})})
    deliver(other, [ch], state, SETTINGS)
    assert [p.channel for p in slack.parents()] == ["C0ORDERS1", "C0PAYMNT1"]
    bodies = drain(queue)
    attrs = [m.get("MessageAttributes", {}) for m in bodies]
    assert attrs and all(a["team"]["StringValue"] == "orders" and a["slack_channel"]["StringValue"] == "C0ORDERS1"
                         for a in attrs), attrs
    assert all(len(a) <= 10 for a in attrs)  # SNS: at most 10 attributes to a raw-delivery subscription


def test_log_text_never_mentions(slack):
    evil = run(["<!channel> <!subteam^S0EVIL123> @here <@U0EVIL1> boom", "KeyError: 'X'"])
    ch = app_channel_no_secret(slack, MemoryThreads())
    deliver(evil, [ch], MemoryState(), SETTINGS)
    (parent,) = slack.parents()
    text = json.dumps(parent.payload)
    assert "<!channel>" not in text and "<!subteam^S0EVIL123>" not in text and "<@U0EVIL1>" not in text


def test_muted_and_min_severity_skip_slack(slack, crash):
    ch = app_channel_no_secret(slack, MemoryThreads())
    ch.router = Router(Route("C0ALERTS1", muted_until=float("inf")))
    result = deliver(crash, [ch], MemoryState(), SETTINGS)
    assert result.outcomes["slack"].status == "skipped" and "muted" in result.outcomes["slack"].detail
    ch.router = Router(Route("C0ALERTS1", min_severity="critical"))
    result = deliver(nth(crash, 3).model_copy(update={"severity": "warning"}), [ch], MemoryState(), SETTINGS)
    assert result.outcomes["slack"].status == "skipped"
    assert slack.messages == []


# -------------------------------------------------------------------------------------------------
# Failures: fall back, never lose, never post twice
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "missing_scope", "ratelimited"])
def test_routed_channel_refuses_falls_back_to_default(slack, crash, error):
    FALLBACKS.clear()
    ch = app_channel_no_secret(slack, MemoryThreads())
    ch.router = Router(Route("C0ORDERS1"))
    slack.fail_api("chat.postMessage", error, times=3 if error == "ratelimited" else 1)
    result = deliver(crash, [ch], MemoryState(), SETTINGS)
    assert result.ok
    (parent,) = slack.parents()
    assert parent.channel == "C0ALERTS1"
    assert f"could not post to `C0ORDERS1` ({error})" in json.dumps(parent.payload)
    assert FALLBACKS[error] == 1


def test_invalid_auth_falls_back_to_the_webhook(slack, crash, caplog):
    FALLBACKS.clear()
    caplog.set_level("DEBUG")
    ch = app_channel_no_secret(slack, MemoryThreads())
    ch._app = SlackApp("xoxb-0000-wrong-token", "C0ALERTS1", webhook_url=slack.url, api_url=slack.api_url)
    result = deliver(crash, [ch], MemoryState(), SETTINGS)
    assert result.ok and slack.messages == []
    posted, detail = slack.accepted  # no thread through a webhook: the details follow as a second message
    assert "invalid_auth" in json.dumps(posted) and json.dumps(detail).startswith('{"text": "Details: ')
    assert FALLBACKS["invalid_auth"] == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "invalid_auth" in logged and "xoxb-" not in logged and slack.url not in logged  # no credential logged


def test_a_failed_post_is_retried_once_and_never_doubled(slack, crash):
    from shared.notify import DeliveryError

    ch = app_channel_no_secret(slack, MemoryThreads())
    state = MemoryState()
    slack.fail_api("chat.postMessage", "internal_error")
    with pytest.raises(DeliveryError):
        deliver(crash, [ch], state, SETTINGS)
    assert slack.messages == []
    deliver(crash, [ch], state, SETTINGS)  # Lambda's retry of the same delivery
    deliver(crash, [ch], state, SETTINGS)  # and a duplicate after it completed
    assert len(slack.parents()) == 1
    assert delivery_id(crash)


# -------------------------------------------------------------------------------------------------
# The recovery handler's input
# -------------------------------------------------------------------------------------------------
def _event(kind: str, name: str, resources: list, **detail) -> dict:
    return {"version": "0", "id": "e-1", "detail-type": kind, "source": "aws.ecs", "account": "111122223333",
            "region": "us-east-1", "resources": resources, "detail": {"eventName": name, **detail}}


def test_recovery_events_name_the_service():
    from functions.recovered.handler import validate
    from functions.runtime import MalformedEvent

    arn = "arn:aws:ecs:us-east-1:111122223333:service/prod/orders-api"
    assert validate(_event("ECS Service Action", "SERVICE_STEADY_STATE", [arn]))[0] == \
        "111122223333/us-east-1/prod/orders-api"
    assert validate(_event("ECS Deployment State Change", "SERVICE_DEPLOYMENT_COMPLETED", [arn]))[1] == arn
    short = "arn:aws:ecs:us-east-1:111122223333:service/orders-api"  # the old ARN format names no cluster
    assert validate(_event("ECS Service Action", "SERVICE_STEADY_STATE", [short],
                           clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/prod"))[0].endswith("/prod/orders-api")
    for bad in (_event("ECS Service Action", "SERVICE_TASK_START_IMPAIRED", [arn]),
                _event("ECS Task State Change", "SERVICE_STEADY_STATE", [arn]),
                _event("ECS Service Action", "SERVICE_STEADY_STATE", []),
                _event("ECS Service Action", "SERVICE_STEADY_STATE", [short]), "not an event"):
        with pytest.raises(MalformedEvent):
            validate(bad)


def test_a_deploy_finding_joins_the_open_thread_else_opens_its_own(slack, crash):
    from shared.models.finding import DeploymentSummary

    deploy = crash.model_copy(update={"scope": "deployment", "fingerprint": "d" * 16, "deployment": DeploymentSummary(
        cluster=crash.task.cluster, service=crash.task.service, deployment_id="ecs-svc/42",
        event_name="SERVICE_DEPLOYMENT_FAILED", tasks_stopped=12, tasks_diagnosed=12, patterns={crash.pattern: 12})})
    # no thread open for the service: the deploy finding is the parent, counting its 12 tasks
    threads = MemoryThreads()
    ch = app_channel_no_secret(slack, threads)
    assert deliver(deploy, [ch], MemoryState(), SETTINGS).ok
    (parent,) = slack.parents()
    (item,) = [v for k, v in threads.items.items() if k.startswith("thread#deploy#")]
    assert item["count"] == 12 and [r.payload["text"][:8] for r in slack.replies(parent.ts)] == ["Details:"]
    # a crash loop's thread is open: the deploy finding is one reply there, counting no task
    slack.reset()
    threads = MemoryThreads()
    ch = app_channel_no_secret(slack, threads)
    state = MemoryState()
    for i in range(3):
        deliver(nth(crash, i), [ch], state, SETTINGS)
    deliver(deploy, [ch], state, SETTINGS)
    (parent,) = slack.parents()
    detail, reply = slack.replies(parent.ts)
    assert detail.payload["text"].startswith("Details: ") and reply.payload["blocks"][0]["type"] == "header"
    (item,) = [v for k, v in threads.items.items() if k.startswith("thread#fp#")]
    assert item["count"] == 3
