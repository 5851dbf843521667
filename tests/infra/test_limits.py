"""Any number of watched clusters stays within AWS's size limits: IAM's 10,240 characters of inline
policy per role, EventBridge's 2,048 characters per event pattern. Checked at synth on the templates
themselves, with 200 clusters."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Annotations, Match

from infra import grants as G
from infra.config import AutopsyConfig
from infra.rules import EVENT_PATTERN_LIMIT, pattern_size, rule_specs
from tests.infra.helpers import resources

CLUSTERS = [f"team-{n:03d}-cluster" for n in range(200)]
MANY_CONTEXT = {
    "autopsy:clusters": CLUSTERS,
    "autopsy:sourceAccounts": ["111111111111", "222222222222"],
    "autopsy:hubAccount": "333333333333",
    "autopsy:slackWebhookSecret": "ecs-autopsy/slack",
}


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    from tests.infra.conftest import synth

    return synth(tmp_path_factory.mktemp("cdk-many"), MANY_CONTEXT)


def _inline_sizes(template: dict) -> dict[str, int]:
    return {k: sum(G.policy_size(p["PolicyDocument"]) for p in r["Properties"].get("Policies", []))
            for k, r in resources(template, "AWS::IAM::Role").items()}


def test_200_clusters_fit_every_role_within_iams_limit(many):
    for name, template in many.templates.items():
        sizes = _inline_sizes(template)
        assert sizes and max(sizes.values()) <= G.INLINE_POLICY_LIMIT, (name, sizes)


def test_200_clusters_widen_the_iam_scope_with_a_warning(many):
    Annotations.from_stack(many.stacks["EcsAutopsy"]).has_warning(
        "*", Match.string_like_regexp("200 watched clusters are too many to list in IAM policies"))
    for role in resources(many.templates["EcsAutopsy"], "AWS::IAM::Role").values():
        assert "team-" not in json.dumps(role["Properties"].get("Policies", []))


def _worst_pattern(pattern: dict) -> dict:
    return json.loads(json.dumps(pattern).replace('{"Ref": "AWS::AccountId"}', '"000000000000"'))


def test_200_clusters_are_split_over_rules_within_eventbridges_limit(many):
    for name, template in many.templates.items():
        rules = resources(template, "AWS::Events::Rule")
        assert len(rules) > 3, name
        covered: set[str] = set()
        for rule in rules.values():
            pattern = rule["Properties"]["EventPattern"]
            assert pattern_size(_worst_pattern(pattern)) <= EVENT_PATTERN_LIMIT, name
            text = json.dumps(pattern)
            covered |= {c for c in CLUSTERS if f"/{c}" in text}
        assert covered == set(CLUSTERS), name


def test_the_pattern_check_catches_one_rule_for_200_clusters():
    """Before: one rule per kind listed every cluster; 200 names made a 9,000-character pattern."""
    one_rule = {"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                "detail": {"lastStatus": ["STOPPED"],
                           "clusterArn": [{"wildcard": f"arn:*:ecs:*:*:cluster/{c}"} for c in CLUSTERS]}}
    assert pattern_size(one_rule) > EVENT_PATTERN_LIMIT
    specs = rule_specs(AutopsyConfig(clusters=tuple(CLUSTERS)))
    assert all(s.size <= EVENT_PATTERN_LIMIT for s in specs)
    assert [s.id for s in specs][:2] == ["TaskStoppedRule", "TaskStoppedRule2"]
    assert len(rule_specs(AutopsyConfig(clusters=("prod",)))) == 3


def test_the_policy_check_fails_synth_with_the_keys_to_change(tmp_path):
    from infra.config import ConfigError
    from tests.infra.conftest import synth

    prefixes = [f"/team-{n:03d}/service-logs/" for n in range(300)]
    with pytest.raises(ConfigError, match=r"inline policies of role .*Role would take [\d,]+ characters, more "
                                          r"than IAM's 10,240.*autopsy:logGroupPrefixes"):
        synth(tmp_path, {"autopsy:logGroupPrefixes": prefixes})


def test_many_clusters_is_nag_and_lint_clean(many):
    from cfnlint.api import ManualArgs, lint

    assert [v for r in many.report["pluginReports"] for v in r.get("violations", [])] == []
    for name, template in many.templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
        assert [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity == "error"] == [], name


def test_the_most_clusters_still_listed_fit_a_full_hub_policy(tmp_path):
    """At the listing budget's edge (both lists, Slack secret and its key, member roles), synth passes
    its own size check, and the clusters are still named in IAM."""
    from tests.infra.conftest import synth

    listed = [c for i, c in enumerate(CLUSTERS) if G.cluster_list_size(CLUSTERS[: i + 1]) <= G.CLUSTER_CONDITION_BUDGET]
    s = synth(tmp_path, MANY_CONTEXT | {
        "autopsy:clusters": listed,
        "autopsy:slackSecretKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab",
        "autopsy:taskRoleTag": "ecs-autopsy=simulate"})
    sizes = _inline_sizes(s.templates["EcsAutopsy"])
    assert max(sizes.values()) <= G.INLINE_POLICY_LIMIT
    assert len(listed) >= 30
    assert any(listed[-1] in json.dumps(r["Properties"].get("Policies", []))
               for r in resources(s.templates["EcsAutopsy"], "AWS::IAM::Role").values())
