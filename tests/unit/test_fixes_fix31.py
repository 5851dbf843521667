"""dev30's graded faults, as general rules with near misses:
- iam-access-denied pointed at "the CloudTrail event of the denied call" for s3:GetObject, a CloudTrail DATA event
  (not recorded by default, never in Event history); management events keep the pointer.
- missing-dependency for "cannot import name 'X' from 'a.b'" verified with `import X` (X is a name inside a.b, so
  that always fails), and always pinned a pip package although a.b can be the app's own code in a stale image.
- a task another program starts (startedBy names a scheduler, an executor, a dispatcher) was "rolled out" with a
  one-off run-task, which changes nothing that program starts next."""

from __future__ import annotations

import shlex

import pytest

from shared.patterns.iam_access_denied import data_event
from tests.unit.helpers import run

_ROLE = "arn:aws:sts::111122223333:assumed-role/orders-task/0123456789abcdef"


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


@pytest.mark.parametrize("action", ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObjectVersion",
                                    "lambda:InvokeFunction", "dynamodb:PutItem", "dynamodb:Query",
                                    "dynamodb:BatchWriteItem", "sqs:SendMessage", "sqs:ReceiveMessage",
                                    "sns:Publish", "kinesis:PutRecords"])
def test_data_event_actions(action):
    assert data_event(action)


@pytest.mark.parametrize("action", ["s3:CreateBucket", "s3:GetBucketLocation", "s3:PutBucketPolicy",
                                    "lambda:GetFunction", "dynamodb:DescribeTable", "dynamodb:CreateTable",
                                    "sqs:GetQueueUrl", "sqs:CreateQueue", "sns:CreateTopic", "kms:Decrypt",
                                    "secretsmanager:GetSecretValue", "ssm:GetParameter", "kinesis:DescribeStream"])
def test_management_event_actions(action):
    assert not data_event(action)


def test_a_denied_data_event_call_is_not_sent_to_cloudtrail():
    got = run(["AccessDeniedException: User is not authorized to perform s3:GetObject"])
    assert got.pattern == "iam-access-denied"
    text = _fix(got)
    assert "the CloudTrail event of the denied call names it" not in text
    assert "data event" in text and "server access logs" in text


def test_a_denied_management_event_call_keeps_the_cloudtrail_pointer():
    got = run([f"AccessDeniedException: User: {_ROLE} is not authorized to perform: sqs:GetQueueUrl"])
    assert got.pattern == "iam-access-denied"
    text = _fix(got)
    assert "the CloudTrail event of the denied call names it" in text
    assert "data event" not in text
