"""An organization at scale: the hub accepts the whole organization (aws:PrincipalOrgID, OU paths),
assumes the reader role of any member account, and `make synth` writes a member template that
service-managed StackSets deploy to every account of an OU with no `cdk bootstrap`."""

from __future__ import annotations

import json

import pytest

from infra.app import MEMBER_STACKSET_FILE, MEMBER_STACKSET_NAME, member_stackset_template
from infra.config import AutopsyConfig
from tests.infra.helpers import by_sid, function_statements, render, resources

ORG = "o-a1b2c3d4e5"
OU = f"{ORG}/r-ab12/ou-ab12-11111111/"
ORG_CONTEXT = {
    "autopsy:organizationId": ORG,
    "autopsy:organizationUnitPaths": [OU],
    "autopsy:clusters": ["prod"],
    "autopsy:hubAccount": "333333333333",
    "autopsy:hubRegion": "eu-west-1",
    "autopsy:alarmEmails": ["ops@example.com"],
    "autopsy:taskRoleTag": "ecs-autopsy=simulate",
}


@pytest.fixture(scope="module")
def org_synth(tmp_path_factory):
    from tests.infra.conftest import synth

    return synth(tmp_path_factory.mktemp("cdk-org"), ORG_CONTEXT)


@pytest.fixture(scope="module")
def t(org_synth) -> dict:
    return org_synth.templates["EcsAutopsy"]


@pytest.fixture(scope="module")
def stackset() -> dict:
    return member_stackset_template(AutopsyConfig.from_context(ORG_CONTEXT))


def test_bus_policy_uses_the_organization_not_a_list_of_accounts(t):
    """Before: the policy listed accounts: each new account needed a hub redeploy, and the size capped the list."""
    (policy,) = resources(t, "AWS::Events::EventBusPolicy").values()
    assert render(policy["Properties"]["Statement"]) == {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": "arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default",
        "Condition": {"StringEquals": {"events:source": "aws.ecs", "aws:PrincipalOrgID": ORG},
                      "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [OU + "*"]}},
    }


def test_hub_rules_do_not_list_accounts(t):
    for rule in resources(t, "AWS::Events::Rule").values():
        assert "account" not in rule["Properties"]["EventPattern"]


@pytest.mark.parametrize("fn", ["task_stopped", "deploy_failed", "manual"])
def test_hub_assumes_the_reader_role_in_any_account_of_the_organization(t, fn):
    s = by_sid(function_statements(t, fn))
    assert render(s["AssumeMemberReaderRole"]["Resource"]) == "arn:<AWS::Partition>:iam::*:role/ecs-autopsy-reader"
    assert s["AssumeMemberReaderRole"]["Condition"] == {"StringEquals": {"aws:ResourceOrgID": ORG}}


@pytest.mark.parametrize("fn", ["task_stopped", "deploy_failed", "manual"])
def test_simulation_also_covers_tagged_roles(t, fn):
    s = by_sid(function_statements(t, fn))
    if "SimulateTaskRolePolicy" not in s:
        return
    assert render(s["SimulateTaggedTaskRoles"]) == {
        "Sid": "SimulateTaggedTaskRoles", "Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy",
        "Resource": "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*",
        "Condition": {"StringEquals": {"aws:ResourceTag/ecs-autopsy": "simulate"}}}


# ---- the StackSet member template ------------------------------------------------------------------
def test_stackset_template_needs_no_bootstrap(stackset):
    """Before: every member account and Region needed `cdk bootstrap`."""
    text = json.dumps(stackset)
    assert "BootstrapVersion" not in stackset.get("Parameters", {})
    assert "CheckBootstrapVersion" not in stackset.get("Rules", {})
    assert "AssetParameters" not in text and "cdk-hnb659fds" not in text and "aws:asset:" not in text
    assert not resources(stackset, "AWS::Lambda::Function")
    assert not resources(stackset, "AWS::CDK::Metadata")  # no CDK-only resource, even under the CDK CLI
    assert set(stackset["Parameters"]) == {"HubAccountId", "HubRegion", "CreateReaderRole"}
    assert stackset["Parameters"]["HubAccountId"]["Default"] == "333333333333"
    assert stackset["Parameters"]["HubRegion"]["Default"] == "eu-west-1"


def test_stackset_template_forwards_to_the_hub_and_trusts_its_functions(stackset):
    rules = resources(stackset, "AWS::Events::Rule")
    assert len(rules) == 3
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert render(target["Arn"]) == "arn:<AWS::Partition>:events:<HubRegion>:<HubAccountId>:event-bus/default"
    (role,) = [r for r in resources(stackset, "AWS::IAM::Role").values()
               if r["Properties"].get("RoleName") == "ecs-autopsy-reader"]
    assert role["Condition"] == "ReaderRoleWanted"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert render(trust["Condition"]) == {"StringEquals": {"aws:PrincipalArn": [
        f"arn:<AWS::Partition>:iam::<HubAccountId>:role/ecs-autopsy/ecs-autopsy-{f}-<HubRegion>"
        for f in ("task-stopped", "deploy-failed", "manual")]}}
    assert resources(stackset, "AWS::CloudWatch::Alarm")  # the forward DLQ is alarmed
    (sub,) = resources(stackset, "AWS::SNS::Subscription").values()
    assert sub["Properties"]["Endpoint"] == "ops@example.com"


def test_stackset_template_has_no_cdk_metadata_under_the_cdk_cli(monkeypatch):
    # The CDK CLI passes its context (version reporting on) to the app through CDK_CONTEXT_JSON.
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"aws:cdk:version-reporting": True}))
    t = member_stackset_template(AutopsyConfig())
    assert not resources(t, "AWS::CDK::Metadata") and "CDKMetadataAvailable" not in t.get("Conditions", {})


def test_stackset_template_without_a_hub_account_asks_for_it():
    t = member_stackset_template(AutopsyConfig())
    assert "Default" not in t["Parameters"]["HubAccountId"]
    assert "Default" not in t["Parameters"]["HubRegion"]


def test_stackset_template_is_lint_clean(stackset):
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(stackset), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity == "error"] == []


def test_main_writes_the_stackset_template_next_to_the_others(tmp_path):
    from aws_cdk import App

    from infra.app import main
    from tests.infra.conftest import cdk_json_context

    app = App(context=cdk_json_context() | {"aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    assert main(app) == 0
    written = json.loads((tmp_path / MEMBER_STACKSET_FILE).read_text())
    assert written["Description"].startswith("ecs-autopsy member (StackSet)")
    assert (tmp_path / "EcsAutopsy.template.json").is_file()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert MEMBER_STACKSET_NAME not in manifest["artifacts"]  # not a stack `cdk deploy` would pick up


def test_org_hub_is_nag_and_lint_clean(org_synth):
    from cfnlint.api import ManualArgs, lint

    assert [v for r in org_synth.report["pluginReports"] for v in r.get("violations", [])] == []
    for name, template in org_synth.templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity == "error"] == [], name
