"""Slack app mode in the stack (autopsy:slackChannel): the recovery function, its two filtered rules,
its least-privilege role, the routing grant and the default route in every function's environment."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import AutopsyConfig, ConfigError
from shared.permissions import FUNCTION_ACTIONS
from shared.settings import ENV_VARS
from tests.infra.conftest import synth
from tests.infra.helpers import (
    actions_of,
    as_list,
    by_sid,
    function_id,
    function_props,
    function_statements,
    render,
    resources,
)

CONTEXT = {"autopsy:slackWebhookSecret": "ecs-autopsy/slack", "autopsy:slackChannel": "C0ALERTS1",
           "autopsy:slackMention": "<!subteam^S0TEAM123>", "autopsy:clusters": ["prod"]}


@pytest.fixture(scope="module")
def app_synth(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("cdk-slack-app"), CONTEXT)


@pytest.fixture(scope="module")
def t(app_synth) -> dict:
    return app_synth.templates["EcsAutopsy"]


def test_recovery_rules_are_filtered_and_target_the_recovery_function(app_synth, t):
    template = Template.from_stack(app_synth.stacks["EcsAutopsy"])
    template.resource_count_is("AWS::Events::Rule", 5)
    template.resource_count_is("AWS::Lambda::Function", 4)
    recovered = function_id(t, "recovered")
    rules = [r["Properties"] for r in resources(t, "AWS::Events::Rule").values()
             if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [recovered, "Arn"]}]
    patterns = sorted((render(p["EventPattern"]) for p in rules), key=lambda p: p["detail-type"][0])
    assert patterns[0]["detail-type"] == ["ECS Deployment State Change"]
    assert patterns[0]["detail"] == {"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]}
    assert patterns[0]["resources"] == [{"wildcard": "arn:*:ecs:*:*:service/prod/*"}]
    assert patterns[1]["detail-type"] == ["ECS Service Action"]
    assert patterns[1]["detail"] == {"eventName": ["SERVICE_STEADY_STATE"],
                                     "clusterArn": [{"wildcard": "arn:*:ecs:*:*:cluster/prod"}]}
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": "functions.recovered.handler.handler",
                                                               "Timeout": 30, "ReservedConcurrentExecutions": 2,
                                                               "Environment": Match.any_value()})


def test_recovery_role_is_least_privilege(t):
    code = {a for a in actions_of(function_statements(t, "recovered"))
            if a not in {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}}
    assert code == set(FUNCTION_ACTIONS["recovered"])


def test_routing_grant_is_scoped(t):
    s = by_sid(function_statements(t, "task_stopped"))
    assert render(as_list(s["EcsReadRoutingTags"]["Resource"])) == [
        "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/prod/*",
        "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/*",
        "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:cluster/prod"]


def test_default_route_in_the_environment(t):
    env = function_props(t, "task_stopped")["Environment"]["Variables"]
    assert env[ENV_VARS["slack_channel"]] == "C0ALERTS1"
    assert env[ENV_VARS["slack_mention"]] == "<!subteam^S0TEAM123>"
    assert env[ENV_VARS["route_by_tags"]] == "true"


def test_config_rejects_a_mention_that_is_not_an_id():
    with pytest.raises(ConfigError, match="slackMention"):
        AutopsyConfig.from_context({"autopsy:slackMention": "@here"})
    with pytest.raises(ConfigError, match="slackChannel"):
        AutopsyConfig.from_context({"autopsy:slackChannel": "<!channel>"})
    assert not AutopsyConfig.from_context({"autopsy:slackChannel": "C0ALERTS1"}).slack_app  # no secret: no app
