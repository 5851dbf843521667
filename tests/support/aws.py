"""moto in-process fixtures for delivery tests: fake credentials, one region, nothing leaves the machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and a moto mock of every AWS API; the delivery client caches are cleared."""
    from moto import mock_aws

    from shared.notify import aws as notify_aws
    from shared.notify import secrets

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    notify_aws.client.cache_clear()
    secrets.clear_cache()
    with mock_aws():
        yield
    notify_aws.client.cache_clear()
    secrets.clear_cache()


def make_table(name: str = "ecs-autopsy-state") -> str:
    """The table as the infra creates it: partition key `id` (S), TTL attribute `expiration`."""
    import boto3

    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"})
    return name


def make_topic_with_queue(raw: bool = True, filter_policy: dict[str, Any] | None = None,
                          topic: str = "ecs-autopsy-findings", queue: str | None = None) -> tuple[str, str]:
    """An SNS topic (created or reused) and a new SQS queue subscribed to it; returns (topic ARN, queue URL)."""
    import boto3

    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name=topic)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=queue or f"sub-{'raw' if raw else 'env'}-{abs(hash(str(filter_policy)))}")[
        "QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attrs = {"RawMessageDelivery": "true" if raw else "false"}
    if filter_policy is not None:
        attrs["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attrs)
    return topic_arn, queue_url


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message in the queue (body and SQS message attributes), deleting them."""
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        out.extend(got)
        sqs.delete_message_batch(QueueUrl=queue_url,
                                 Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
