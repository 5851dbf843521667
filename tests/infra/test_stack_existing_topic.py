"""Publishing to an existing topic (with its customer managed key), a secret given by ARN with its own
customer managed key, and alarm subscriptions (email, AWS Chatbot)."""

from __future__ import annotations

import pytest

from tests.infra.conftest import EXISTING_TOPIC_CONTEXT
from tests.infra.helpers import by_sid, function_props, function_statements, render, resources

TOPIC = EXISTING_TOPIC_CONTEXT["autopsy:topicArn"]
KEY = EXISTING_TOPIC_CONTEXT["autopsy:topicKmsKeyArn"]
SECRET = EXISTING_TOPIC_CONTEXT["autopsy:slackWebhookSecret"]
SECRET_KEY = EXISTING_TOPIC_CONTEXT["autopsy:slackSecretKmsKeyArn"]


@pytest.fixture(scope="module")
def t(topic_synth) -> dict:
    return topic_synth.templates["EcsAutopsy"]


def test_only_the_alarm_topic_and_its_key_are_created(t):
    (topic,) = resources(t, "AWS::SNS::Topic")
    assert topic.startswith("AutopsyAlarmTopic")
    assert len(resources(t, "AWS::KMS::Key")) == 1


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


def test_alarms_publish_to_the_alarm_topic_not_the_given_one(t):
    (topic,) = resources(t, "AWS::SNS::Topic")
    for alarm in resources(t, "AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]


def test_alarm_topic_subscriptions_email_and_chatbot(t):
    (topic,) = resources(t, "AWS::SNS::Topic")
    (sub,) = resources(t, "AWS::SNS::Subscription").values()
    assert sub["Properties"] == {"Protocol": "email", "TopicArn": {"Ref": topic}, "Endpoint": "ops@example.com"}
    (bot,) = resources(t, "AWS::Chatbot::SlackChannelConfiguration").values()
    p = bot["Properties"]
    assert (p["SlackWorkspaceId"], p["SlackChannelId"]) == ("T0123ABCD", "C0123ABCDEF")
    assert p["SnsTopicArns"] == [{"Ref": topic}]
    role = t["Resources"][p["IamRoleArn"]["Fn::GetAtt"][0]]["Properties"]
    assert "Policies" not in role and "ManagedPolicyArns" not in role  # Chatbot only posts, reads nothing


@pytest.mark.parametrize("fn", ["task_stopped", "deploy_failed", "manual"])
def test_the_secret_key_is_granted_through_secrets_manager_only(t, fn):
    """Before: a secret encrypted with a customer managed key got no kms:Decrypt, every Slack post failed."""
    s = by_sid(function_statements(t, fn))
    assert s["DecryptSlackSecret"]["Action"] == "kms:Decrypt"
    assert s["DecryptSlackSecret"]["Resource"] == SECRET_KEY
    assert render(s["DecryptSlackSecret"]["Condition"]) == {
        "StringEquals": {"kms:ViaService": "secretsmanager.<AWS::Region>.amazonaws.com"}}


def test_the_template_refuses_another_region_at_deploy(t):
    """Environment-agnostic synth (no Region known): a template Rule stops the deploy before any change."""
    rules = [a for r in t["Rules"].values() for a in r["Assertions"] if "Fn::Equals" in a["Assert"]]
    regions = {render(a["Assert"]["Fn::Equals"][1]) for a in rules if render(a["Assert"]["Fn::Equals"][0]) ==
               "<AWS::Region>"}
    assert regions == {"eu-west-1"}
    text = " ".join(a["AssertDescription"] for a in rules)
    for key in ("autopsy:topicArn", "autopsy:topicKmsKeyArn", "autopsy:slackWebhookSecret",
                "autopsy:slackSecretKmsKeyArn"):
        assert key in text


def test_synth_rejects_a_topic_in_another_region(tmp_path, monkeypatch):
    """Cross-Region alarm actions are rejected and the functions publish through their own Region."""
    from infra.config import ConfigError
    from tests.infra.conftest import synth

    monkeypatch.setenv("CDK_DEFAULT_REGION", "us-east-1")  # what the CDK CLI sets from the profile
    with pytest.raises(ConfigError) as err:
        synth(tmp_path, EXISTING_TOPIC_CONTEXT)
    assert "autopsy:topicArn: eu-west-1 is not the stack's Region us-east-1" in str(err.value)


def test_deploy_region_is_the_cdk_cli_region(monkeypatch):
    from aws_cdk import App, Stack

    from infra.autopsy import deploy_region

    stack = Stack(App(), "S")
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    assert deploy_region(stack) is None
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    assert deploy_region(stack) == "eu-west-1"
    assert deploy_region(Stack(App(), "T", env={"region": "ap-south-1"})) == "ap-south-1"
