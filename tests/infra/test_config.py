"""Configuration: validated at synth, readable errors naming the key."""

from __future__ import annotations

import pytest

from infra.config import AutopsyConfig, ConfigError
from shared.settings import Settings
from tests.infra.conftest import cdk_json_context


def test_cdk_json_context_is_valid_and_equals_the_defaults():
    assert AutopsyConfig.from_context(cdk_json_context()) == AutopsyConfig()


def test_cdk_json_lists_the_main_keys():
    keys = set(AutopsyConfig.context_keys())
    member_only = {"autopsy:hubAccount", "autopsy:hubRegion", "autopsy:memberReaderRole", "autopsy:topicKmsKeyArn"}
    assert set(cdk_json_context()) & keys == keys - member_only


def test_defaults_match_the_functions_settings():
    c, s = AutopsyConfig(), Settings()
    assert (c.log_lines, c.post_expected_stops, c.noise_window_seconds, c.chatbot_format,
            c.log_group_prefixes, c.max_slack_posts_per_window) == (
        s.log_lines, s.post_expected_stops, s.noise_window_seconds, s.chatbot_format,
        s.log_group_prefixes, s.max_slack_posts_per_window)


def test_bounds_match_the_functions_settings():
    for field in ("log_lines", "noise_window_seconds", "max_slack_posts_per_window"):
        assert AutopsyConfig.model_fields[field].metadata == Settings.model_fields[field].metadata, field


@pytest.mark.parametrize("key,hint", [
    ("autopsy:cluster", "autopsy:clusters"),
    ("autopsy:logline", "autopsy:logLines"),
    ("autopsy:slackWebhookSecrets", "autopsy:slackWebhookSecret"),
    ("autpsy:clusters", "autopsy:clusters"),
    ("clusters", "autopsy:clusters"),
])
def test_a_typo_in_a_key_fails_and_names_it(key, hint):
    with pytest.raises(ConfigError) as err:
        AutopsyConfig.from_context({key: "x"})
    assert f"{key}: unknown setting" in str(err.value)
    assert f"did you mean {hint!r}" in str(err.value)


def test_other_tools_context_is_ignored():
    c = AutopsyConfig.from_context({"@aws-cdk/core:newStyleStackSynthesis": True, "aws:cdk:bundling-stacks": [],
                                    "acknowledged-issue-numbers": [1]})
    assert c == AutopsyConfig()


def test_command_line_strings_are_parsed():
    c = AutopsyConfig.from_context({
        "autopsy:clusters": "prod, staging", "autopsy:logLines": "200", "autopsy:postExpectedStops": "true",
        "autopsy:sourceAccounts": "111111111111,222222222222", "autopsy:reservedConcurrency": "off",
        "autopsy:hubAccount": "333333333333",
    })
    assert c.clusters == ("prod", "staging")
    assert c.log_lines == 200 and c.post_expected_stops is True
    assert c.source_accounts == ("111111111111", "222222222222") and c.is_hub
    assert c.reserved_concurrency is None


@pytest.mark.parametrize("context,message", [
    ({"autopsy:logLines": 0}, "autopsy:logLines: Input should be greater than or equal to 1"),
    ({"autopsy:logLines": "many"}, "autopsy:logLines: Input should be a valid integer"),
    ({"autopsy:clusters": ["prod", "prod"]}, "autopsy:clusters: cluster 'prod' is listed twice"),
    ({"autopsy:clusters": "my cluster"}, "'my cluster' is neither a cluster name nor a cluster ARN"),
    ({"autopsy:logGroupPrefixes": "/ecs/*"}, "autopsy:logGroupPrefixes: '/ecs/*' is not a log group name prefix"),
    ({"autopsy:logGroupPrefixes": []}, "at least one log group prefix"),
    ({"autopsy:logGroupPrefixes": "*/"}, "every log group of the account"),
    ({"autopsy:taskRolePatterns": "*"}, "not only '*'"),
    ({"autopsy:taskRoleTag": "team"}, "'team' is not KEY=VALUE"),
    ({"autopsy:organizationId": "org-1"}, "is not an AWS Organizations id"),
    ({"autopsy:organizationUnitPaths": "o-abcdefghij/r-ab12/ou-ab12-abcdefgh/"}, "needs autopsy:organizationId"),
    ({"autopsy:organizationId": "o-abcdefghij", "autopsy:organizationUnitPaths": "o-zzzzzzzzzz/r-ab12/"},
     "are not in organization o-abcdefghij"),
    ({"autopsy:alarmEmails": "ops"}, "'ops' is not an email address"),
    ({"autopsy:alarmSlackWorkspaceId": "T0123ABCD"}, "needs both autopsy:alarmSlackWorkspaceId and"),
    ({"autopsy:slackSecretKmsKeyArn": "alias/x"}, "is not a KMS key ARN"),
    ({"autopsy:topicArn": "arn:aws:sns:eu-west-1:123456789012:t",
      "autopsy:topicKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"}, "in another Region than"),
    ({"autopsy:sourceAccounts": "1234"}, "autopsy:sourceAccounts: '1234' is not a 12-digit AWS account id"),
    ({"autopsy:topicArn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "is not a standard SNS topic ARN"),
    ({"autopsy:topicKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"}, "set autopsy:topicArn too"),
    ({"autopsy:slackWebhookSecret": "arn:aws:s3:::bucket"}, "is not a Secrets Manager secret ARN"),
    ({"autopsy:logRetentionDays": 10}, "autopsy:logRetentionDays: 10 is not a CloudWatch Logs retention period"),
    ({"autopsy:memberRoleName": "a/b"}, "autopsy:memberRoleName: 'a/b' is not an IAM role name"),
    ({"autopsy:hubRegion": "Europe"}, "autopsy:hubRegion: 'Europe' is not a Region name"),
    ({"autopsy:reservedConcurrency": 0}, "autopsy:reservedConcurrency: Input should be greater than or equal to 1"),
    ({"autopsy:hubAccount": "111111111111", "autopsy:sourceAccounts": ["111111111111"]},
     "autopsy:hubAccount 111111111111 is also in autopsy:sourceAccounts"),
])
def test_bad_values_fail_with_the_key_and_the_reason(context, message):
    with pytest.raises(ConfigError) as err:
        AutopsyConfig.from_context(context)
    text = str(err.value)
    assert text.startswith("invalid ecs-autopsy configuration:")
    assert message in text


def test_reserved_concurrency_is_off_by_default():
    """New accounts have a concurrency quota of 10, all unreserved: reserving 5+2+2 failed the deploy
    (UnreservedConcurrentExecution below its minimum value of [10])."""
    assert AutopsyConfig().reserved_concurrency is None
    assert AutopsyConfig.from_context(cdk_json_context()).reserved_concurrency is None
    assert AutopsyConfig.from_context({"autopsy:reservedConcurrency": 5}).reserved_concurrency == 5


def test_default_log_prefixes_cover_cdk_and_copilot_groups():
    from shared.settings import log_group_allowed

    prefixes = AutopsyConfig().log_group_prefixes
    for group in ("/ecs/orders", "/aws/ecs/containerinsights/prod/performance", "/copilot/shop-prod-api",
                  "ShopStack-TaskDefwebLogGroup4D9E8A2B-0a1B2c3D4e5F",  # CDK's AwsLogDriver, CloudFormation-named
                  "ShopStack-ApiServiceTaskDefapiLogGroupE5B1C2D3-xYz"):  # ecs_patterns
        assert log_group_allowed(group, prefixes), group
    for group in ("/aws/lambda/payments", "/aws/rds/instance/db/error", "secrets-audit"):
        assert not log_group_allowed(group, prefixes), group


def test_organization_hub():
    c = AutopsyConfig.from_context({"autopsy:organizationId": "o-abcdefghij",
                                    "autopsy:organizationUnitPaths": "o-abcdefghij/r-ab12/ou-ab12-abcdefgh/"})
    assert c.is_hub and c.source_accounts == ()


def test_every_error_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        AutopsyConfig.from_context({"autopsy:logLines": 0, "autopsy:noiseWindowSeconds": -1})
    assert "autopsy:logLines" in str(err.value) and "autopsy:noiseWindowSeconds" in str(err.value)


def test_options_for_code_that_places_the_construct():
    assert AutopsyConfig.from_options(clusters=["prod"], log_lines=5).clusters == ("prod",)
    with pytest.raises(ConfigError, match=r"cluster: unknown option \(did you mean 'clusters'\?\)"):
        AutopsyConfig.from_options(cluster=["prod"])
    with pytest.raises(ConfigError, match="log_lines: Input should be greater than or equal to 1"):
        AutopsyConfig.from_options(log_lines=0)


def test_config_is_immutable():
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        AutopsyConfig().log_lines = 3  # type: ignore[misc]
