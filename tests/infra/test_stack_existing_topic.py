"""Publishing to an existing topic (with its customer managed key) and a secret given by ARN."""

from __future__ import annotations

import pytest

from tests.infra.conftest import EXISTING_TOPIC_CONTEXT
from tests.infra.helpers import by_sid, function_props, function_statements, resources

TOPIC = EXISTING_TOPIC_CONTEXT["autopsy:topicArn"]
KEY = EXISTING_TOPIC_CONTEXT["autopsy:topicKmsKeyArn"]
SECRET = EXISTING_TOPIC_CONTEXT["autopsy:slackWebhookSecret"]


@pytest.fixture(scope="module")
def t(topic_synth) -> dict:
    return topic_synth.templates["EcsAutopsy"]


def test_no_topic_or_key_is_created(t):
    assert resources(t, "AWS::SNS::Topic") == {}
    assert resources(t, "AWS::KMS::Key") == {}


@pytest.mark.parametrize("fn", ["task_stopped", "deploy_failed", "manual"])
def test_grants_name_the_given_topic_key_and_secret(t, fn):
    s = by_sid(function_statements(t, fn))
    assert s["PublishFindings"]["Resource"] == TOPIC
    assert s["UseTopicKey"]["Resource"] == KEY
    # A complete ARN is granted as is; the '-??????' reading covers a partial ARN.
    assert s["ReadSlackWebhookSecret"]["Resource"] == [SECRET, f"{SECRET}-??????"]
    env = function_props(t, fn)["Environment"]["Variables"]
    assert env["ECS_AUTOPSY_TOPIC_ARN"] == TOPIC
    assert env["ECS_AUTOPSY_SLACK_SECRET_ID"] == SECRET
    assert "ReservedConcurrentExecutions" not in function_props(t, fn)  # autopsy:reservedConcurrency=off


def test_alarms_publish_to_the_given_topic(t):
    for alarm in resources(t, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [TOPIC]
