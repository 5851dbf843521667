"""Slack delivery against a real HTTP server on 127.0.0.1 (429, 5xx, 4xx answers) and moto Secrets Manager."""

from __future__ import annotations

import json
import logging
import socket
import time
from email.utils import formatdate

import boto3
import pytest

from shared.notify.channels import SlackChannel
from shared.notify.secrets import WebhookSecretError, parse_webhook_secret, webhook_url
from shared.notify.slack import BoundedRetryHandler, SlackDeliveryError, post, retry_after
from shared.render.slack import render_slack
from tests.support.aws import REGION, aws  # noqa: F401  (fixture)
from tests.support.slack_receiver import WEBHOOK_PATH, Reply, SlackReceiver
from tests.unit.helpers import run


@pytest.fixture
def slack():
    with SlackReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def finding():
    return run(["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"])


def fast(**kw) -> BoundedRetryHandler:
    return BoundedRetryHandler(base_delay=0.01, **kw)


def test_posts_the_rendered_message(slack, finding):
    receipt = SlackChannel(url=slack.url, retry=fast()).send(finding)
    assert receipt == "ok"
    assert slack.accepted == [render_slack(finding)]
    req = slack.requests[0]
    assert req.path == WEBHOOK_PATH and req.headers["Content-Type"].startswith("application/json")


def test_429_honours_retry_after(slack, finding):
    slack.script(Reply(429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    SlackChannel(url=slack.url).send(finding)
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in slack.requests] == [429, 200]
    assert len(slack.accepted) == 1


def test_every_5xx_is_retried(slack, finding):
    slack.script(500, 502, 503)
    SlackChannel(url=slack.url, retry=fast()).send(finding)
    assert [r.status for r in slack.requests] == [500, 502, 503, 200]


def test_504_is_retried_too(slack, finding):
    slack.script(504)
    SlackChannel(url=slack.url, retry=fast()).send(finding)
    assert [r.status for r in slack.requests] == [504, 200]


def test_retries_are_bounded(slack, finding):
    slack.script(500, 500, 500, 500, 500, 500)
    with pytest.raises(SlackDeliveryError) as err:
        SlackChannel(url=slack.url, retry=fast(max_retries=3)).send(finding)
    assert err.value.status == 500
    assert len(slack.requests) == 4  # one try + 3 retries
    assert slack.accepted == []


def test_retry_after_beyond_the_budget_fails_at_once(slack, finding):
    slack.script(Reply(429, headers={"Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(SlackDeliveryError) as err:
        SlackChannel(url=slack.url, retry=BoundedRetryHandler(max_wait=20)).send(finding)
    assert time.monotonic() - started < 5
    assert err.value.status == 429 and "retry budget" in str(err.value)
    assert len(slack.requests) == 1


def test_total_wait_is_bounded(slack, finding):
    slack.script(*[Reply(429, headers={"Retry-After": "1"})] * 5)
    sleeps: list[float] = []
    with pytest.raises(SlackDeliveryError):
        post(slack.url, {"text": "x"}, handler=BoundedRetryHandler(max_retries=10, max_wait=2.5, sleep=sleeps.append))
    assert sum(sleeps) <= 2.5 and len(sleeps) == 2


def test_retry_after_http_date():
    future = formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after({"Retry-After": [future]}) <= 31
    assert retry_after({"retry-after": ["7"]}) == 7
    assert retry_after({}) == 1.0
    assert retry_after({"Retry-After": ["soon"]}) == 1.0


def test_rejected_blocks_fall_back_to_text(slack, finding):
    slack.script(Reply(400, "invalid_blocks"))
    SlackChannel(url=slack.url, retry=fast()).send(finding)
    assert [r.status for r in slack.requests] == [400, 200]
    minimal = slack.accepted[0]
    assert "blocks" not in minimal and "DATABASE_URL" in minimal["text"]


def test_client_errors_are_not_retried(slack, finding):
    slack.script(Reply(403, "action_prohibited"))
    with pytest.raises(SlackDeliveryError) as err:
        SlackChannel(url=slack.url, retry=fast()).send(finding)
    assert err.value.status == 403 and len(slack.requests) == 1


def test_the_receiver_rejects_what_slack_would():
    with SlackReceiver() as strict:
        with pytest.raises(SlackDeliveryError) as err:
            post(strict.url, {"text": "x", "blocks": [{"type": "divider"}] * 51}, handler=fast())
        assert err.value.body == "invalid_blocks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_webhook_url_is_never_logged(caplog, finding):
    url = f"http://127.0.0.1:{_free_port()}{WEBHOOK_PATH}"  # nothing listens: connection refused
    caplog.set_level(logging.DEBUG)
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG)
    with pytest.raises(SlackDeliveryError) as err:
        SlackChannel(url=url, retry=fast(max_retries=2)).send(finding)
    assert "unreachable" in str(err.value)
    assert url not in str(err.value) and WEBHOOK_PATH not in str(err.value)
    assert caplog.records, "expected the retries to be logged"
    for record in caplog.records:
        assert WEBHOOK_PATH not in record.getMessage()


# -- the webhook secret -----------------------------------------------------------------------------
@pytest.mark.parametrize("secret", [
    "{url}",
    '{{"url": "{url}"}}',
    '{{"webhook_url": "{url}", "channel": "#ops"}}',
])
def test_secret_forms(aws, slack, finding, secret):  # noqa: F811
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="slack/ecs-autopsy", SecretString=secret.format(url=slack.url))
    SlackChannel(secret_id="slack/ecs-autopsy", secrets_client=sm, retry=fast()).send(finding)
    assert len(slack.accepted) == 1


@pytest.mark.parametrize("value,problem", [
    ("not a url", "no host"),
    ("http://hooks.example.com/services/x", "https required"),
    ('{"channel": "#ops"}', 'without a "url"'),
    ("{broken", "does not parse"),
])
def test_bad_secrets_say_why_without_the_value(value, problem):
    with pytest.raises(WebhookSecretError) as err:
        parse_webhook_secret(value, "slack/ecs-autopsy")
    assert problem in str(err.value) and "hooks.example.com" not in str(err.value)


def test_https_anywhere_and_http_only_to_loopback():
    assert parse_webhook_secret("https://hooks.slack.com/services/T/B/X") == "https://hooks.slack.com/services/T/B/X"
    assert parse_webhook_secret("http://localhost:9/x") == "http://localhost:9/x"
    assert parse_webhook_secret(b'{"url": "http://[::1]:9/x"}') == "http://[::1]:9/x"


class CountingClient:
    def __init__(self, client):
        self.client = client
        self.calls = 0

    def get_secret_value(self, **kw):
        self.calls += 1
        return self.client.get_secret_value(**kw)


def test_secret_is_cached_per_container(aws, slack, finding):  # noqa: F811
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="slack/cached", SecretString=slack.url)
    counting = CountingClient(sm)
    channel = SlackChannel(secret_id="slack/cached", secrets_client=counting, retry=fast())
    for _ in range(3):
        channel.send(finding)
    assert counting.calls == 1 and len(slack.accepted) == 3


def test_rotated_secret_is_refetched_when_slack_says_gone(aws, slack, finding):  # noqa: F811
    sm = boto3.client("secretsmanager", region_name=REGION)
    stale = slack.url.replace(WEBHOOK_PATH, "/services/T00000000/B00000000/REVOKED")
    sm.create_secret(Name="slack/rotated", SecretString=stale)
    channel = SlackChannel(secret_id="slack/rotated", secrets_client=sm, retry=fast())
    assert webhook_url("slack/rotated", client=sm) == stale  # cached now
    sm.put_secret_value(SecretId="slack/rotated", SecretString=json.dumps({"url": slack.url}))
    channel.send(finding)
    assert [(r.path, r.status) for r in slack.requests] == [("/services/T00000000/B00000000/REVOKED", 404),
                                                           (WEBHOOK_PATH, 200)]


def test_the_secret_is_cached_for_max_age_and_read_again_on_refresh(aws, slack):  # noqa: F811
    """Powertools Parameters' cache: a value read with max_age=N is served for N seconds; refresh reads again;
    max_age=0 caches nothing. A binary secret is read too."""
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.create_secret(Name="slack/aged", SecretBinary=json.dumps({"url": slack.url}).encode())  # binary is read too
    assert webhook_url("slack/aged", client=sm, max_age=300) == slack.url
    moved = slack.url.replace(WEBHOOK_PATH, "/services/T00000000/B00000000/MOVED")
    sm.put_secret_value(SecretId="slack/aged", SecretString=moved)
    assert webhook_url("slack/aged", client=sm, max_age=300) == slack.url  # within max_age: the cached value
    assert webhook_url("slack/aged", client=sm, refresh=True) == moved  # refresh: read again
    sm.create_secret(Name="slack/uncached", SecretString=slack.url)
    assert webhook_url("slack/uncached", client=sm, max_age=0) == slack.url
    sm.put_secret_value(SecretId="slack/uncached", SecretString=moved)
    assert webhook_url("slack/uncached", client=sm, max_age=0) == moved  # max_age=0: nothing was cached


def test_missing_secret_is_a_clear_error(aws, finding):  # noqa: F811
    sm = boto3.client("secretsmanager", region_name=REGION)
    with pytest.raises(WebhookSecretError) as err:
        SlackChannel(secret_id="slack/absent", secrets_client=sm).send(finding)
    assert "slack/absent could not be read" in str(err.value)


def test_a_payload_failing_validation_is_replaced_by_the_minimal_message(slack, finding, monkeypatch):
    import shared.render.slack as slack_render

    real = slack_render.render_slack
    monkeypatch.setattr(slack_render, "render_slack",
                        lambda f, o=None: {**real(f, o), "blocks": real(f, o)["blocks"] * 10})  # 100+ blocks
    SlackChannel(url=slack.url, retry=fast()).send(finding)
    [sent] = slack.accepted
    assert "blocks" not in sent and "Missing environment variable DATABASE_URL" in sent["text"]
    assert [r.status for r in slack.requests] == [200]  # never sent the invalid one
