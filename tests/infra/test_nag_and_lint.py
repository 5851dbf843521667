"""cdk-nag (AwsSolutions, Validations API) and cfn-lint on every synthesized configuration."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from infra.nag import REASONS, acknowledgements

CONFIGS = ("default_synth", "hub_synth", "topic_synth")

# Every rule acknowledged anywhere, per configuration (IAM5 findings are per wildcard resource).
EXPECTED_RULES = {"AwsSolutions-L1", "AwsSolutions-SQS3", "AwsSolutions-DDB3", "AwsSolutions-IAM5[Resource::*]"}


@pytest.mark.parametrize("config", CONFIGS)
def test_cdk_nag_reports_nothing_unacknowledged(request, config):
    s = request.getfixturevalue(config)
    # Synth itself raises on a finding; the report must be empty too.
    violations = [v for r in s.report["pluginReports"] for v in r.get("violations", [])]
    assert violations == []


@pytest.mark.parametrize("config", CONFIGS)
def test_every_acknowledgement_has_a_reason(request, config):
    s = request.getfixturevalue(config)
    acks = acknowledgements(s.app)
    assert acks
    for path, rule, reason in acks:
        assert rule.startswith("AwsSolutions-"), (path, rule)
        assert len(reason) >= 40, (path, rule, reason)
    rules = {rule for _, rule, _ in acks}
    assert rules >= EXPECTED_RULES
    assert {r.split("[")[0] for r in rules} <= {"AwsSolutions-L1", "AwsSolutions-SQS3", "AwsSolutions-DDB3",
                                                "AwsSolutions-IAM5"}


def test_acknowledged_iam5_findings_are_the_wildcards_of_the_default_stack(default_synth):
    rules = {rule for path, rule, _ in acknowledgements(default_synth.app) if path.endswith("TaskStoppedRole")}
    assert rules == {
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service-revision/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:cluster/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/ecs/*"
        ":log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/ecs/*"
        ":log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/copilot/*"
        ":log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*LogGroup*"
        ":log-stream:*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*TaskRole*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*ExecutionRole*]",
        "AwsSolutions-IAM5[Resource::*]",
    }


def test_star_resource_reason_names_each_action(default_synth):
    (reason,) = [r for p, rule, r in acknowledgements(default_synth.app)
                 if p.endswith("DeployFailedRole") and rule == "AwsSolutions-IAM5[Resource::*]"]
    for action in ("ecs:DescribeTaskDefinition", "ecs:ListTasks", "elasticloadbalancing:DescribeTargetGroups",
                   "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeLoadBalancers",
                   "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints",
                   "ec2:DescribeSubnets"):
        assert action in reason


def test_whole_resource_reasons_are_the_documented_ones():
    assert set(REASONS) == {"AwsSolutions-L1", "AwsSolutions-SQS3", "AwsSolutions-DDB3"}


@pytest.mark.parametrize("config", CONFIGS)
def test_cfn_lint_reports_no_error(request, config):
    s = request.getfixturevalue(config)
    for name, template in s.templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
        errors = [f"{m.rule.id} {m.message} @ {'/'.join(map(str, m.path))}" for m in matches
                  if m.rule.severity == "error"]
        assert errors == [], (name, errors)
