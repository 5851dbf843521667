"""Organization hub with watched clusters and a Slack secret, plus the member stack it implies."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra.grants import MEMBER_READ_ACTIONS
from shared.permissions import ASSUME_MEMBER_ROLE, FUNCTION_ACTIONS
from shared.settings import ENV_VARS, from_env
from tests.infra.helpers import (
    actions_of,
    as_list,
    by_sid,
    function_props,
    function_statements,
    render,
    resources,
)

FUNCTIONS = ("task_stopped", "deploy_failed", "manual")
STAGING = "arn:aws:ecs:eu-west-1:123456789012:cluster/staging"
HERE = "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>"


@pytest.fixture(scope="module")
def t(hub_synth) -> dict:
    return hub_synth.templates["EcsAutopsy"]


@pytest.fixture(scope="module")
def member(hub_synth) -> dict:
    return hub_synth.templates["EcsAutopsyMember"]


def _patterns(template: dict) -> dict[str, dict]:
    return {r["Properties"]["EventPattern"]["detail-type"][0]: render(r["Properties"]["EventPattern"])
            for r in resources(template, "AWS::Events::Rule").values()}


HUB_ACCOUNTS = ["<AWS::AccountId>", "111111111111", "222222222222"]
CLUSTER_FILTER = [{"suffix": ":cluster/prod"}, STAGING]
SERVICE_FILTER = [{"wildcard": "arn:*:ecs:*:*:service/prod/*"},
                  {"prefix": "arn:aws:ecs:eu-west-1:123456789012:service/staging/"}]


def test_hub_rules_filter_clusters_and_accounts(t):
    assert _patterns(t) == {
        "ECS Task State Change": {
            "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "account": HUB_ACCOUNTS,
            "detail": {"lastStatus": ["STOPPED"], "clusterArn": CLUSTER_FILTER}},
        "ECS Deployment State Change": {
            "source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"], "account": HUB_ACCOUNTS,
            "resources": SERVICE_FILTER, "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}},
        "ECS Service Action": {
            "source": ["aws.ecs"], "detail-type": ["ECS Service Action"], "account": HUB_ACCOUNTS,
            "detail": {"eventName": ["SERVICE_TASK_START_IMPAIRED"], "clusterArn": CLUSTER_FILTER}},
    }


def test_bus_accepts_ecs_events_from_the_source_accounts_only(t):
    (policy,) = resources(t, "AWS::Events::EventBusPolicy").values()
    assert render(policy["Properties"]) == {
        "EventBusName": "default",
        "StatementId": "ecs-autopsy-member-accounts",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:<AWS::Partition>:iam::111111111111:root",
                                  "arn:<AWS::Partition>:iam::222222222222:root"]},
            "Action": "events:PutEvents",
            "Resource": "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default",
            "Condition": {"StringEquals": {"events:source": "aws.ecs"}},
        },
    }


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_hub_grants_are_scoped_to_clusters_secret_and_member_roles(t, fn):
    statements = function_statements(t, fn)
    s = by_sid(statements)
    # The clusters are listed once per statement, in the ecs:cluster condition (not one ARN per cluster
    # and action); the resources are the tasks and services of the clusters' Regions and accounts.
    clusters = {"ArnLike": {"ecs:cluster": [f"{HERE}:cluster/prod", STAGING]}}
    ecs = s["EcsInWatchedClusters"]
    in_clusters = {"ecs:DescribeTasks": "task", "ecs:DescribeServices": "service",
                   "ecs:ListServiceDeployments": "service", "ecs:DescribeServiceRevisions": "service-revision"}
    assert sorted(as_list(ecs["Action"])) == sorted(a for a in FUNCTION_ACTIONS[fn] if a in in_clusters)
    kinds = dict.fromkeys(in_clusters[a] for a in in_clusters if a in FUNCTION_ACTIONS[fn])
    assert sorted(render(as_list(ecs["Resource"]))) == sorted(r for k in kinds for r in (
        f"{HERE}:{k}/*", f"arn:aws:ecs:eu-west-1:123456789012:{k}/*"))
    assert render(ecs["Condition"]) == clusters
    if "ecs:ListTasks" in FUNCTION_ACTIONS[fn]:
        listing = s["EcsListTasksInWatchedClusters"]
        assert (listing["Action"], listing["Resource"]) == ("ecs:ListTasks", "*")
        assert render(listing["Condition"]) == clusters
    assert not {"EcsDescribeTasks", "EcsDescribeServices", "EcsListTasks"} & set(s)
    assert render(as_list(s["ReadTaskLogs"]["Resource"])) == [
        f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{p}*:log-stream:*"
        for p in ("/ecs/", "/custom/")]
    assert render(s["ReadSlackWebhookSecret"]["Resource"]) == (
        "arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:ecs-autopsy/slack-??????")
    assert render(as_list(s["AssumeMemberReaderRole"]["Resource"])) == [
        "arn:<AWS::Partition>:iam::111111111111:role/ecs-autopsy-reader",
        "arn:<AWS::Partition>:iam::222222222222:role/ecs-autopsy-reader"]
    code = {a for a in actions_of(statements)} - {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
    assert code == set(FUNCTION_ACTIONS[fn]) | set(ASSUME_MEMBER_ROLE)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_hub_environment(t, fn):
    env = function_props(t, fn)
    s = from_env({k: v for k, v in env["Environment"]["Variables"].items() if isinstance(v, str)})
    assert s.member_role_name == "ecs-autopsy-reader"
    assert s.slack_secret_id == "ecs-autopsy/slack"
    assert (s.log_lines, s.post_expected_stops, s.chatbot_format) == (250, True, True)
    assert s.log_group_prefixes == ("/ecs/", "/custom/")
    assert set(env["Environment"]["Variables"]) >= set(ENV_VARS.values())


def test_hub_function_roles_have_fixed_names_for_the_member_trust(t):
    for fn in FUNCTIONS:
        role = t["Resources"][function_props(t, fn)["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert render(role["RoleName"]) == f"ecs-autopsy-{fn.replace('_', '-')}-<AWS::Region>"
        assert role["Path"] == "/ecs-autopsy/"


def test_hub_sizing_and_retention(t):
    assert function_props(t, "task_stopped")["ReservedConcurrentExecutions"] == 10
    assert function_props(t, "deploy_failed")["ReservedConcurrentExecutions"] == 2
    for group in resources(t, "AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 90


# ---- member stack --------------------------------------------------------------------------------
def test_member_forwards_the_same_events_to_the_hub_bus_with_a_dlq(member):
    patterns = _patterns(member)
    assert patterns["ECS Task State Change"]["detail"] == {"lastStatus": ["STOPPED"], "clusterArn": CLUSTER_FILTER}
    assert patterns["ECS Deployment State Change"]["resources"] == SERVICE_FILTER
    assert "account" not in patterns["ECS Task State Change"]
    (dlq,) = resources(member, "AWS::SQS::Queue")
    for rule in resources(member, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert render(target["Arn"]) == "arn:<AWS::Partition>:events:<AWS::Region>:333333333333:event-bus/default"
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
        assert "RoleArn" in target


def test_member_reader_role_trusts_only_the_hub_functions(member):
    roles = {k: r["Properties"] for k, r in resources(member, "AWS::IAM::Role").items()
             if r["Properties"].get("RoleName") == "ecs-autopsy-reader"}
    (role,) = roles.values()
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # Exactly the three function roles, not any role under /ecs-autopsy/ in the hub account.
    assert render(trust) == {
        "Action": "sts:AssumeRole", "Effect": "Allow",
        "Principal": {"AWS": "arn:<AWS::Partition>:iam::333333333333:root"},
        "Condition": {"StringEquals": {"aws:PrincipalArn": [
            f"arn:<AWS::Partition>:iam::333333333333:role/ecs-autopsy/ecs-autopsy-{f}-<AWS::Region>"
            for f in ("task-stopped", "deploy-failed", "manual")]}},
    }
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert sorted(actions_of(statements)) == sorted(MEMBER_READ_ACTIONS)
    s = by_sid(statements)
    # A global role: any Region of the member account, same cluster and log scoping as the hub.
    assert render(s["EcsInWatchedClusters"]["Condition"]) == {"ArnLike": {"ecs:cluster": [
        "arn:<AWS::Partition>:ecs:*:<AWS::AccountId>:cluster/prod", STAGING]}}
    assert render(as_list(s["ReadTaskLogs"]["Resource"]))[0] == (
        "arn:<AWS::Partition>:logs:*:<AWS::AccountId>:log-group:/ecs/*:log-stream:*")


def test_member_forward_dlq_is_alarmed_to_the_members_alarm_topic(member):
    """Before: the member's DLQ had no alarm; events the hub refused were lost silently."""
    (dlq,) = resources(member, "AWS::SQS::Queue")
    (topic,) = resources(member, "AWS::SNS::Topic")
    (alarm,) = resources(member, "AWS::CloudWatch::Alarm").values()
    p = alarm["Properties"]
    assert p["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert p["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]}
    assert p["AlarmActions"] == [{"Ref": topic}]
    (key,) = resources(member, "AWS::KMS::Key")
    assert member["Resources"][topic]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}


def test_member_read_actions_are_reads_only():
    assert MEMBER_READ_ACTIONS
    for action in MEMBER_READ_ACTIONS:
        verb = action.split(":")[1]
        assert verb.startswith(("Describe", "List", "Get", "Simulate")), action


def test_member_stack_without_reader_role(tmp_path):
    from tests.infra.conftest import HUB_CONTEXT, synth

    s = synth(tmp_path, HUB_CONTEXT | {"autopsy:memberReaderRole": False, "autopsy:hubRegion": "eu-central-1"})
    m = Template.from_json(s.templates["EcsAutopsyMember"])
    roles = resources(s.templates["EcsAutopsyMember"], "AWS::IAM::Role").values()
    assert all("RoleName" not in r["Properties"] for r in roles)
    m.has_resource_properties("AWS::Events::Rule", {"Targets": [Match.object_like({"Arn": {"Fn::Join": [
        "", ["arn:", {"Ref": "AWS::Partition"}, ":events:eu-central-1:333333333333:event-bus/default"]]}})]})
