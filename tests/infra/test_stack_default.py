"""The stack as `make synth` builds it from cdk.json (every cluster, created topic, no Slack secret)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra.autopsy import FUNCTION_IDS, MEMORY_MB, POWERTOOLS_ENV, TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE
from shared.permissions import FUNCTION_ACTIONS, NO_RESOURCE_LEVEL
from shared.settings import ENV_VARS, from_env
from tests.infra.helpers import (
    actions_of,
    as_list,
    by_sid,
    function_id,
    function_props,
    function_statements,
    render,
    resources,
    role_id_of,
)

FUNCTIONS = ("task_stopped", "deploy_failed", "manual")
ACCOUNT_TASKS = "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/*"
ACCOUNT_SERVICES = "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/*"
LOGS = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{}*:log-stream:*"
DEFAULT_PREFIXES = ("/ecs/", "/aws/ecs/", "/copilot/", "*LogGroup")


def findings_topic(t: dict) -> str:
    (topic,) = [k for k in resources(t, "AWS::SNS::Topic") if k.startswith("AutopsyTopic")]
    return topic


def alarm_topic(t: dict) -> str:
    (topic,) = [k for k in resources(t, "AWS::SNS::Topic") if k.startswith("AutopsyAlarmTopic")]
    return topic


@pytest.fixture(scope="module")
def t(default_synth) -> dict:
    return default_synth.templates["EcsAutopsy"]


@pytest.fixture(scope="module")
def template(default_synth) -> Template:
    return Template.from_stack(default_synth.stacks["EcsAutopsy"])


def test_only_the_main_stack_without_hub_account(default_synth):
    assert set(default_synth.templates) == {"EcsAutopsy"}


# ---- rules ---------------------------------------------------------------------------------------
def test_rule_patterns_are_pinned(template):
    template.resource_count_is("AWS::Events::Rule", 3)
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_equals({
        "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"], "detail": {"lastStatus": ["STOPPED"]}})})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_equals({
        "source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"],
        "detail": {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}})})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_equals({
        "source": ["aws.ecs"], "detail-type": ["ECS Service Action"],
        "detail": {"eventName": ["SERVICE_TASK_START_IMPAIRED"]}})})


def test_rules_invoke_the_right_function_with_dlq_and_retries(t):
    expect = {"ECS Task State Change": "task_stopped", "ECS Deployment State Change": "deploy_failed",
              "ECS Service Action": "deploy_failed"}
    dlq = [k for k in resources(t, "AWS::SQS::Queue") if k.startswith("AutopsyEventsDlq")]
    assert len(dlq) == 1
    for rule in resources(t, "AWS::Events::Rule").values():
        p = rule["Properties"]
        (target,) = p["Targets"]
        fn = expect[p["EventPattern"]["detail-type"][0]]
        assert target["Arn"] == {"Fn::GetAtt": [function_id(t, fn), "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq[0], "Arn"]}}
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}


# ---- functions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,timeout", [("task_stopped", 60), ("deploy_failed", 120), ("manual", 120)])
def test_function_runtime_and_sizing(t, fn, timeout):
    p = function_props(t, fn)
    assert p["Runtime"] == "python3.12"
    assert p["Architectures"] == ["arm64"]
    assert p["Handler"] == f"functions.{fn}.handler.handler"
    assert p["MemorySize"] == MEMORY_MB
    assert p["Timeout"] == timeout
    # No reservation by default: on a new account (concurrency quota 10) reserving 5+2+2 failed the
    # deploy with "UnreservedConcurrentExecution below its minimum value of [10]".
    assert "ReservedConcurrentExecutions" not in p


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_environment_is_exactly_what_settings_reads(t, fn):
    env = function_props(t, fn)["Environment"]["Variables"]
    assert set(env) == set(ENV_VARS.values()) | set(POWERTOOLS_ENV)
    assert env[ENV_VARS["topic_arn"]] == {"Ref": findings_topic(t)}
    assert env[ENV_VARS["table_name"]] == {"Ref": next(k for k in resources(t, "AWS::DynamoDB::Table"))}
    # The literal values parse with the functions' own settings model, to the configured values.
    literal = {k: v for k, v in env.items() if isinstance(v, str)}
    s = from_env(literal | {ENV_VARS["topic_arn"]: "arn:aws:sns:eu-west-1:123456789012:t",
                            ENV_VARS["table_name"]: "t"})
    assert (s.log_lines, s.post_expected_stops, s.noise_window_seconds, s.chatbot_format) == (100, False, 900, False)
    assert s.log_group_prefixes == DEFAULT_PREFIXES
    assert s.slack_secret_id is None and s.member_role_name is None
    assert s.max_slack_posts_per_window == 5


def test_functions_share_one_code_asset(t):
    keys = {function_props(t, fn)["Code"]["S3Key"] for fn in FUNCTIONS}
    assert len(keys) == 1


# ---- IAM -----------------------------------------------------------------------------------------
RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_exact_actions_per_function(t, fn):
    statements = function_statements(t, fn)
    code_actions = [a for a in actions_of(statements) if a not in RUNTIME]
    # No Slack secret configured: GetSecretValue is not granted; everything else shared/permissions lists is.
    expected = [a for a in FUNCTION_ACTIONS[fn] if a != "secretsmanager:GetSecretValue"]
    assert sorted(code_actions) == sorted(expected)
    assert len(code_actions) == len(set(code_actions))
    assert set(actions_of(statements)) - set(expected) == RUNTIME


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_resources_per_statement(t, fn):
    s = by_sid(function_statements(t, fn))
    topic = findings_topic(t)
    key = next(iter(resources(t, "AWS::KMS::Key")))
    table = next(iter(resources(t, "AWS::DynamoDB::Table")))
    log_group = function_props(t, fn)["LoggingConfig"]["LogGroup"]["Ref"]
    queue = [k for k in resources(t, "AWS::SQS::Queue") if k.startswith(f"Autopsy{FUNCTION_IDS[fn]}FailureQueue")]
    assert render(as_list(s["EcsDescribeTasks"]["Resource"])) == [ACCOUNT_TASKS]
    assert render(as_list(s["EcsDescribeServices"]["Resource"])) == [ACCOUNT_SERVICES]
    assert render(as_list(s["ReadTaskLogs"]["Resource"])) == [LOGS.format(p) for p in DEFAULT_PREFIXES]
    # Only roles named like ECS task/execution roles, not role/* (every role of the account).
    assert render(as_list(s["SimulateTaskRolePolicy"]["Resource"])) == [
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*TaskRole*",
        "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*ExecutionRole*"]
    assert s["PublishFindings"]["Resource"] == {"Ref": topic}
    assert s["UseTopicKey"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
    assert sorted(as_list(s["UseTopicKey"]["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert s["StateTable"]["Resource"] == {"Fn::GetAtt": [table, "Arn"]}
    assert s["WriteOwnLogGroup"]["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
    assert s["SendFailedInvocations"]["Resource"] == {"Fn::GetAtt": [queue[0], "Arn"]}
    if fn != "task_stopped":
        assert s["EcsListTasks"]["Resource"] == "*"
        assert render(s["EcsListTasks"]["Condition"]) == {
            "ArnLike": {"ecs:cluster": ["arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:cluster/*"]}}
    else:
        assert "EcsListTasks" not in s


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_star_resource_only_for_actions_without_resource_level_permissions(t, fn):
    for st in function_statements(t, fn):
        if "*" in as_list(st["Resource"]):
            actions = as_list(st["Action"])
            assert len(actions) == 1, st  # acknowledged one by one, each in its own statement
            assert actions[0] in NO_RESOURCE_LEVEL or (actions[0] == "ecs:ListTasks" and "Condition" in st), st


def test_no_wildcard_action_is_allowed_anywhere(t):
    def statements(doc):
        return doc.get("Statement", []) if isinstance(doc, dict) else []

    found = []
    for key, r in t["Resources"].items():
        p = r.get("Properties", {})
        docs = [p.get("PolicyDocument"), p.get("KeyPolicy"), p.get("AssumeRolePolicyDocument")]
        docs += [pol["PolicyDocument"] for pol in p.get("Policies", [])]
        for doc in docs:
            for st in statements(doc):
                for action in as_list(st["Action"]):
                    if "*" in action and st["Effect"] == "Allow":
                        found.append((key, action))
    assert found == []


def test_function_roles_have_no_managed_policies_and_the_hub_path(t):
    for fn in FUNCTIONS:
        role = t["Resources"][role_id_of(t, fn)]["Properties"]
        assert "ManagedPolicyArns" not in role
        assert role["Path"] == "/ecs-autopsy/"
    assert resources(t, "AWS::IAM::Policy") == {}


# ---- encryption, DLQs, alarms, retention ---------------------------------------------------------
ALARMS_SOURCE = {
    "StringEquals": {"aws:SourceAccount": "<AWS::AccountId>"},
    "ArnLike": {"aws:SourceArn": "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*"}}


def test_topics_are_kms_encrypted_and_ssl_only(t, template):
    (key_id,) = resources(t, "AWS::KMS::Key")
    for topic in resources(t, "AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    policies = {p["Properties"]["Topics"][0]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
                for p in resources(t, "AWS::SNS::TopicPolicy").values()}
    assert set(policies) == {findings_topic(t), alarm_topic(t)}
    for statements in policies.values():
        assert any(st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for st in statements)
    # Only the alarm topic takes CloudWatch's alarms, from this account's alarms only.
    (cw,) = [st for st in policies[alarm_topic(t)] if st.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert render(cw["Condition"]) == ALARMS_SOURCE
    assert not any("Principal" in st and st["Effect"] == "Allow" for st in policies[findings_topic(t)])


def test_key_policy_service_statements_carry_source_conditions(t):
    """Before: cloudwatch.amazonaws.com could use the key with no aws:SourceAccount/aws:SourceArn."""
    (key,) = resources(t, "AWS::KMS::Key").values()
    services = [st for st in key["Properties"]["KeyPolicy"]["Statement"] if "Service" in st["Principal"]]
    assert services
    for st in services:
        assert st["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert st["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert render(st["Condition"]) == ALARMS_SOURCE


def test_queues_are_encrypted_and_ssl_only(t):
    queues = resources(t, "AWS::SQS::Queue")
    assert len(queues) == 4  # rule targets + one on-failure queue per function
    for q in queues.values():
        assert q["Properties"]["SqsManagedSseEnabled"] is True
        assert q["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    policies = resources(t, "AWS::SQS::QueuePolicy").values()
    covered = {q["Ref"] for p in policies for q in p["Properties"]["Queues"]
               for st in p["Properties"]["PolicyDocument"]["Statement"]
               if st["Effect"] == "Deny" and st["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}}
    assert covered == set(queues)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_async_failures_go_to_the_functions_queue(t, fn):
    (cfg,) = [c["Properties"] for c in resources(t, "AWS::Lambda::EventInvokeConfig").values()
              if c["Properties"]["FunctionName"] == {"Ref": function_id(t, fn)}]
    dest = cfg["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert t["Resources"][dest]["Type"] == "AWS::SQS::Queue"
    assert (cfg["MaximumRetryAttempts"], cfg["MaximumEventAgeInSeconds"], cfg["Qualifier"]) == (2, 3600, "$LATEST")


def test_table_has_ttl_and_the_agreed_key(template):
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "KeySchema": [{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        "TimeToLiveSpecification": {"AttributeName": TABLE_TTL_ATTRIBUTE, "Enabled": True},
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"SSEEnabled": True},
    })


def test_alarms_on_every_queue_and_function_publish_to_the_alarm_topic(t):
    """Before: alarms went to the findings topic, whose subscribers filter on findings."""
    topic = alarm_topic(t)
    alarms = [a["Properties"] for a in resources(t, "AWS::CloudWatch::Alarm").values()]
    depth = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms
             if a["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    errors = {a["Dimensions"][0]["Value"]["Ref"] for a in alarms if a["MetricName"] == "Errors"}
    assert depth == set(resources(t, "AWS::SQS::Queue"))
    assert errors == {function_id(t, fn) for fn in FUNCTIONS}
    for a in alarms:
        assert a["AlarmActions"] == [{"Ref": topic}]
        assert (a["Threshold"], a["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_each_function_logs_to_its_own_group_with_retention(t, fn):
    group = function_props(t, fn)["LoggingConfig"]["LogGroup"]["Ref"]
    assert t["Resources"][group]["Properties"]["RetentionInDays"] == 30
    assert len(resources(t, "AWS::Logs::LogGroup")) == 3


def test_no_alarm_subscription_by_default(t):
    assert resources(t, "AWS::SNS::Subscription") == {}
    assert resources(t, "AWS::Chatbot::SlackChannelConfiguration") == {}


def test_no_bus_policy_without_source_accounts(t):
    assert resources(t, "AWS::Events::EventBusPolicy") == {}


def test_synth_needs_no_account_or_region(t):
    # Environment-agnostic: account and Region stay pseudo parameters, resolved at deploy.
    text = str(t)
    assert "AWS::AccountId" in text and "AWS::Region" in text


def test_outputs_name_both_topics(t):
    assert t["Outputs"]["TopicArn"]["Value"] == {"Ref": findings_topic(t)}
    assert t["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": alarm_topic(t)}
