"""Grants derive from shared/permissions.py; an action infra cannot scope fails synth."""

from __future__ import annotations

import pytest

from infra import grants as G
from shared import permissions as P

SCOPE = G.Scope(partition="aws", region="eu-west-1", account="123456789012", topic_arn="arn:topic",
                topic_key_arn="arn:key", table_arn="arn:table", secret_resources=("arn:secret",),
                member_role_arns=("arn:role",))


def test_every_action_shared_permissions_lists_has_a_scope():
    every = {a for actions in P.FUNCTION_ACTIONS.values() for a in actions} | set(P.ASSUME_MEMBER_ROLE)
    assert every <= set(G.SCOPES)
    for fn, actions in P.FUNCTION_ACTIONS.items():
        granted = [a for g in G.code_grants(actions, SCOPE) for a in g.actions]
        assert sorted(granted) == sorted(set(actions)), fn


def test_an_unknown_action_fails_with_a_pointer_to_the_fix():
    with pytest.raises(G.UnscopedActionError, match=r"ecs:StopTask.*add it to SCOPES"):
        G.code_grants(("ecs:DescribeTasks", "ecs:StopTask"), SCOPE)


@pytest.mark.parametrize("clusters", [(), ("prod", "staging")])
def test_star_only_where_iam_has_no_resource_level_permission_or_a_condition_scopes_it(clusters):
    scope = G.Scope(**{**SCOPE.__dict__, "clusters": clusters})
    for g in G.code_grants(P.FUNCTION_ACTIONS["manual"], scope):
        if "*" in g.resources:
            assert g.wildcard_reason
            assert len(g.actions) == 1
            if g.conditions:
                continue  # ecs:ListTasks, scoped by its ecs:cluster condition
            assert g.actions[0] in P.NO_RESOURCE_LEVEL, g


def test_no_wildcard_in_any_action():
    for actions in P.FUNCTION_ACTIONS.values():
        for g in G.code_grants(actions, SCOPE) + G.runtime_grants("arn:lg", "arn:q"):
            assert all("*" not in a and "?" not in a for a in g.actions), g


def test_resources_absent_from_the_deployment_are_not_granted():
    bare = G.Scope(partition="aws", region="eu-west-1", account="123456789012", table_arn="arn:table",
                   topic_arn="arn:topic")
    granted = {a for g in G.code_grants(P.FUNCTION_ACTIONS["task_stopped"], bare) for a in g.actions}
    assert "secretsmanager:GetSecretValue" not in granted  # no Slack secret
    assert not granted & set(P.KMS_FOR_TOPIC)  # existing topic without a customer managed key
    assert "sts:AssumeRole" not in {a for g in G.code_grants(P.ASSUME_MEMBER_ROLE, bare) for a in g.actions}


@pytest.mark.parametrize("secret,expected", [
    ("ecs/slack", ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecs/slack-??????",)),
    ("arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
     ("arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf",
      "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-AbCdEf-??????")),
    (None, ()),
])
def test_secret_resources(secret, expected):
    assert G.secret_resources("aws", "eu-west-1", "123456789012", secret) == expected


def test_cluster_scoping_is_one_condition_list():
    s = G.Scope(partition="aws", region="eu-west-1", account="123456789012",
                clusters=("prod", "arn:aws-cn:ecs:cn-north-1:222222222222:cluster/cn"))
    assert s.cluster_arns() == ["arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
                                "arn:aws-cn:ecs:cn-north-1:222222222222:cluster/cn"]
    grants = {g.sid: g for g in G.code_grants(P.FUNCTION_ACTIONS["manual"], s)}
    g = grants["EcsInWatchedClusters"]
    # The deploy history (what changed) reads the same services, under the same condition.
    assert set(g.actions) == {"ecs:DescribeTasks", "ecs:DescribeServices", "ecs:ListServiceDeployments",
                              "ecs:DescribeServiceRevisions"}
    assert set(g.resources) == {"arn:aws:ecs:eu-west-1:123456789012:task/*",
                                "arn:aws-cn:ecs:cn-north-1:222222222222:task/*",
                                "arn:aws:ecs:eu-west-1:123456789012:service/*",
                                "arn:aws-cn:ecs:cn-north-1:222222222222:service/*",
                                "arn:aws:ecs:eu-west-1:123456789012:service-revision/*",
                                "arn:aws-cn:ecs:cn-north-1:222222222222:service-revision/*"}
    assert g.conditions == {"ArnLike": {"ecs:cluster": s.cluster_arns()}}
    listing = grants["EcsListTasksInWatchedClusters"]
    assert (listing.actions, listing.resources) == (("ecs:ListTasks",), ("*",))
    assert listing.conditions == g.conditions
    # 30 clusters: the same statements, whatever the number (until the budget).
    many = G.Scope(partition="aws", region="eu-west-1", account="123456789012",
                   clusters=tuple(f"c{n}" for n in range(30)))
    assert len(G.code_grants(P.FUNCTION_ACTIONS["manual"], many)) == len(grants)
    every = G.Scope(partition="aws", region="eu-west-1", account="123456789012")
    grants = {g.sid: g for g in G.code_grants(P.FUNCTION_ACTIONS["manual"], every)}
    assert grants["EcsDescribeServices"].resources == ("arn:aws:ecs:eu-west-1:123456789012:service/*",)


def test_past_the_budget_clusters_are_not_listed_in_iam():
    many = tuple(f"cluster-{n:03d}" for n in range(200))
    s = G.Scope(partition="aws", region="eu-west-1", account="123456789012", clusters=many)
    assert G.cluster_list_size(many) > G.CLUSTER_CONDITION_BUDGET and not s.clusters_in_iam
    grants = {g.sid: g for g in G.code_grants(P.FUNCTION_ACTIONS["manual"], s)}
    assert grants["EcsDescribeTasks"].resources == ("arn:aws:ecs:eu-west-1:123456789012:task/*",)
    assert "too many to list" in grants["EcsDescribeTasks"].wildcard_reason
    few = G.Scope(partition="aws", region="eu-west-1", account="123456789012", clusters=many[:30])
    assert few.clusters_in_iam


def test_policy_size_counts_resolved_text_without_whitespace():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                                                                 ":s3:::b/*"]]}}]}
    text = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws-iso-b:s3:::b/*"}]}'
    assert G.policy_size(doc) == len(text)


def test_the_size_check_catches_the_old_per_cluster_arn_lists():
    """Before: each cluster added an ARN to three statements; about 40 clusters passed IAM's limit."""
    clusters = [f"cluster-{n:03d}" for n in range(200)]

    def arn(kind: str, cluster: str) -> dict:
        return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ecs:", {"Ref": "AWS::Region"}, ":",
                                  {"Ref": "AWS::AccountId"}, f":{kind}/{cluster}/*"]]}

    old_style = {"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": [arn(kind, c) for c in clusters]}
        for sid, action, kind in (("EcsDescribeTasks", "ecs:DescribeTasks", "task"),
                                  ("EcsDescribeServices", "ecs:DescribeServices", "service"),
                                  ("EcsListTasks", "ecs:ListTasks", "cluster"))]}
    with pytest.raises(G.PolicySizeError, match="more than IAM's 10,240"):
        G.check_inline_policy_size("Role", [old_style])
    assert G.check_inline_policy_size("Role", [{"Statement": []}]) < G.INLINE_POLICY_LIMIT


def test_member_read_actions_leave_delivery_out():
    assert set(G.MEMBER_READ_ACTIONS).isdisjoint(G.DELIVERY_ACTIONS)
    assert set(P.ECS_READ + P.ECS_LIST + P.LOGS_READ) <= set(G.MEMBER_READ_ACTIONS)
