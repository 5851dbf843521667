"""SNS delivery read back from SQS subscribers (moto): what a subscriber gets, with and without raw delivery."""

from __future__ import annotations

import json

import boto3
import pytest

from shared.models.finding import Finding
from shared.notify.channels import ChatbotChannel, SnsChannel
from tests.support.aws import REGION, aws, drain, make_topic_with_queue  # noqa: F401  (fixture)
from tests.unit.helpers import run


@pytest.fixture(scope="module")
def finding():
    return run(["KeyError: 'DATABASE_URL'"])


def test_raw_subscriber_gets_the_finding_and_attributes(aws, finding):  # noqa: F811
    topic, queue = make_topic_with_queue(raw=True)
    message_id = SnsChannel(topic, boto3.client("sns", region_name=REGION)).send(finding)
    [msg] = drain(queue)
    assert Finding.model_validate_json(msg["Body"]) == finding
    attrs = {k: v["StringValue"] for k, v in msg["MessageAttributes"].items()}
    assert attrs["pattern"] == "missing-env-var" and attrs["severity"] == "critical"
    assert attrs["cluster"] == "prod" and attrs["service"] == "orders-api" and attrs["account"] == "111122223333"
    assert attrs["format"] == "finding"
    assert message_id


def test_enveloped_subscriber_gets_the_sns_notification(aws, finding):  # noqa: F811
    topic, queue = make_topic_with_queue(raw=False)
    SnsChannel(topic).send(finding)  # default client, built in the mocked environment
    [msg] = drain(queue)
    envelope = json.loads(msg["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"].startswith("ECS critical: orders-api: Missing environment variable")
    assert Finding.model_validate_json(envelope["Message"]).fingerprint == finding.fingerprint
    assert envelope["MessageAttributes"]["pattern"] == {"Type": "String", "Value": "missing-env-var"}
    assert envelope["MessageAttributes"]["service"] == {"Type": "String", "Value": "orders-api"}


def test_filter_policies_select_by_attribute(aws):  # noqa: F811
    topic, critical_q = make_topic_with_queue(filter_policy={"severity": ["critical"]}, queue="critical")
    _, orders_q = make_topic_with_queue(filter_policy={"service": ["orders-api"], "pattern": ["out-of-memory"]},
                                        queue="orders-oom")
    sns = boto3.client("sns", region_name=REGION)
    crash = run(["KeyError: 'DATABASE_URL'"])
    oom = run(["java.lang.OutOfMemoryError: Java heap space"])
    stop = run([], stopCode="ServiceSchedulerInitiated", stoppedReason="Scaling activity initiated by deployment",
               containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}])
    assert stop.severity != "critical"
    for f in (crash, oom, stop):
        SnsChannel(topic, sns).send(f)
    assert sorted(json.loads(m["Body"])["pattern"] for m in drain(critical_q)) == sorted([crash.pattern, oom.pattern])
    assert [json.loads(m["Body"])["pattern"] for m in drain(orders_q)] == ["out-of-memory"]


def test_chatbot_and_raw_subscribers_each_get_their_format(aws, finding):  # noqa: F811
    topic, raw_q = make_topic_with_queue(filter_policy={"format": ["finding"]}, queue="raw")
    _, chatbot_q = make_topic_with_queue(raw=False, filter_policy={"format": ["chatbot"]}, queue="chatbot")
    sns = boto3.client("sns", region_name=REGION)
    SnsChannel(topic, sns).send(finding)
    ChatbotChannel(topic, sns).send(finding)
    [raw] = drain(raw_q)
    [bot] = drain(chatbot_q)
    assert Finding.model_validate_json(raw["Body"]).pattern == "missing-env-var"
    body = json.loads(json.loads(bot["Body"])["Message"])  # what Chatbot reads: the notification's Message
    assert body["version"] == "1.0" and body["source"] == "custom"
    assert body["content"]["title"].startswith(":red_circle: orders-api: Missing environment variable")


def test_publish_failure_raises(aws, finding):  # noqa: F811
    with pytest.raises(Exception, match=r"NotFound|does not exist"):
        SnsChannel(f"arn:aws:sns:{REGION}:123456789012:absent").send(finding)
