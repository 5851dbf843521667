"""IAM grants of each function, derived from shared/permissions.py (the single source of actions).

Every action the code calls is mapped here to the narrowest resource IAM supports for it. An action
added to shared/permissions.py that this module does not know fails synth: scoping it is a decision,
not a default. Statements whose resource has a wildcard carry the reason, which becomes the cdk-nag
acknowledgement; actions that have no resource-level permissions get one statement each, so the
template states them one by one.

`Grant.runtime` marks what the Lambda service itself needs (writing the function's own log group,
sending to its on-failure queue), as opposed to calls made by ecs-autopsy's code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_iam as iam

from shared import permissions as P

# The functions' roles live under this path. In hub mode they also get fixed names (role_name), so
# that member accounts trust exactly these roles (aws:PrincipalArn), not any role under the path.
ROLE_PATH = "/ecs-autopsy/"

# IAM: the inline policies of one role may total at most this many characters (whitespace excluded).
INLINE_POLICY_LIMIT = 10_240
# Above this many characters, the list of watched clusters is not written into the roles' policies:
# the IAM scope becomes every cluster of the account (the EventBridge rules still filter the events
# to the watched clusters). A role holds the list at most twice (Describe*, ListTasks): at
# worst-case ARN lengths this is about 33 clusters of 16-character names (two lists and the rest of
# the policy, about 4,000 characters in a hub with Slack, stay under 10,240).
CLUSTER_CONDITION_BUDGET = 2_500
# Worst-case lengths of what CloudFormation resolves at deploy time, for the size estimate.
_WORST = {"AWS::Partition": "aws-iso-b", "AWS::Region": "ap-southeast-3x", "AWS::AccountId": "0" * 12,
          "AWS::URLSuffix": "amazonaws.com.cn", "AWS::StackName": "x" * 128}
_WORST_ARN = "arn:aws-iso-b:service:ap-southeast-3x:000000000000:" + "x" * 100


class PolicySizeError(ValueError):
    """A role's inline policies exceed IAM's size limit: the deploy would fail."""


class UnscopedActionError(ValueError):
    """shared/permissions.py lists an action infra/grants.py has no resource scope for."""


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, Any]] | None = None
    wildcard_reason: str | None = None  # why a resource holds a wildcard (becomes the cdk-nag acknowledgement)
    runtime: bool = False  # needed by the Lambda service, not called by ecs-autopsy's code

    def statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid=self.sid,
            actions=list(self.actions),
            resources=list(self.resources),
            conditions=dict(self.conditions) if self.conditions else None,
        )


@dataclass(frozen=True)
class Scope:
    """The resources the grants may name (literal strings or CDK tokens)."""

    partition: str
    region: str  # "*" for a global role used from every Region (member reader role)
    account: str
    clusters: tuple[str, ...] = ()  # names or ARNs; empty: every cluster of the account
    log_group_prefixes: tuple[str, ...] = ("/ecs/", "/aws/ecs/")
    topic_arn: str | None = None
    topic_key_arn: str | None = None
    table_arn: str | None = None
    secret_resources: tuple[str, ...] = ()
    member_role_arns: tuple[str, ...] = field(default_factory=tuple)
    organization_id: str | None = None  # member roles: any account of this organization
    task_role_patterns: tuple[str, ...] = ("*TaskRole*", "*ExecutionRole*")
    task_role_tag: str | None = None  # KEY=VALUE

    @property
    def clusters_in_iam(self) -> bool:
        """Are the watched clusters named in the policies (False: none watched, or too many to list)?"""
        return bool(self.clusters) and cluster_list_size(self.clusters) <= CLUSTER_CONDITION_BUDGET

    def ecs_arn(self, resource: str) -> str:
        return f"arn:{self.partition}:ecs:{self.region}:{self.account}:{resource}"

    def cluster_parts(self) -> list[tuple[str, str, str, str]]:
        """(partition, region, account, name) of each watched cluster."""
        out = []
        for c in self.clusters:
            if c.startswith("arn:"):
                _, partition, _, region, account, resource = c.split(":", 5)
                out.append((partition, region, account, resource.split("/", 1)[1]))
            else:
                out.append((self.partition, self.region, self.account, c))
        return out

    def cluster_arns(self) -> list[str]:
        return [f"arn:{p}:ecs:{r}:{a}:cluster/{n}" for p, r, a, n in self.cluster_parts()]


# ---- one scope builder per action ---------------------------------------------------------------
Builder = Callable[[Scope], "Grant | list[Grant] | None"]

_ALL_CLUSTERS = "every cluster of the account and Region is watched: autopsy:clusters is empty"


_TOO_MANY = ("the watched clusters are too many to list within IAM's policy size limit: every cluster of the "
             "account (the EventBridge rules still only deliver the watched clusters' events)")
_IN_CLUSTERS = ("task ids and service names are not known in advance; scoped to the watched clusters by the "
                "ecs:cluster condition key (one list for both actions, so the policy stays within IAM's size "
                "limit)")


def _in_watched_clusters(s: Scope, action: str, kind: str) -> Grant:
    """Tasks or services of the Regions and accounts of the watched clusters; which clusters, the
    ecs:cluster condition says (set by code_grants, one list for the statement)."""
    homes = dict.fromkeys(f"arn:{p}:ecs:{r}:{a}:{kind}/*" for p, r, a, _ in s.cluster_parts())
    return Grant("EcsInWatchedClusters", (action,), tuple(homes), None, _IN_CLUSTERS)


def _describe_tasks(s: Scope) -> Grant:
    if s.clusters_in_iam:
        return _in_watched_clusters(s, "ecs:DescribeTasks", "task")
    return Grant("EcsDescribeTasks", ("ecs:DescribeTasks",), (s.ecs_arn("task/*"),),
                 wildcard_reason="task ids are not known in advance; every task of the account: "
                                 + (_TOO_MANY if s.clusters else _ALL_CLUSTERS))


def _describe_services(s: Scope) -> Grant:
    if s.clusters_in_iam:
        return _in_watched_clusters(s, "ecs:DescribeServices", "service")
    return Grant("EcsDescribeServices", ("ecs:DescribeServices",), (s.ecs_arn("service/*"),),
                 wildcard_reason="service names are not known in advance; every service of the account: "
                                 + (_TOO_MANY if s.clusters else _ALL_CLUSTERS))


def _service_history(action: str, kind: str) -> Builder:
    """ListServiceDeployments authorises on the service, DescribeServiceRevisions on the revision: scoped like
    DescribeServices (the watched clusters, by the ecs:cluster condition, when they fit in IAM's limits)."""
    def build(s: Scope) -> Grant:
        if s.clusters_in_iam:
            return _in_watched_clusters(s, action, kind)
        return Grant("Ecs" + action.split(":")[1], (action,), (s.ecs_arn(f"{kind}/*"),),
                     wildcard_reason="service names are not known in advance; every service of the account: "
                                     + (_TOO_MANY if s.clusters else _ALL_CLUSTERS))

    return build


def _list_tasks(s: Scope) -> Grant:
    # ListTasks authorises on container instances (none on Fargate): IAM scopes it by cluster only,
    # through the ecs:cluster condition key.
    if s.clusters_in_iam:
        return Grant("EcsListTasksInWatchedClusters", ("ecs:ListTasks",), ("*",), None,
                     "ecs:ListTasks has no task-level resource; it is scoped to the watched clusters by the "
                     "ecs:cluster condition")
    condition = {"ArnLike": {"ecs:cluster": [s.ecs_arn("cluster/*")]}}
    return Grant("EcsListTasks", ("ecs:ListTasks",), ("*",), condition,
                 wildcard_reason="ecs:ListTasks has no task-level resource; it is scoped to the account's clusters "
                                 "by the ecs:cluster condition")


def cluster_list_size(clusters: Iterable[str]) -> int:
    """Characters the ecs:cluster condition list takes at worst-case ARN lengths."""
    base = len('"arn:aws-iso-b:ecs:ap-southeast-3x:000000000000:cluster/",')
    return sum(len(c) + 3 if c.startswith("arn:") else base + len(c) for c in clusters)


def _list_tags(s: Scope) -> Grant:
    # Routing tags are read from the stopped task's service, task definition and cluster. Granted on the
    # Regions and accounts of the watched clusters, not per cluster: a list per cluster would grow the
    # policy with every cluster (ListTagsForResource on a task definition carries no ecs:cluster key).
    homes = dict.fromkeys((p, r, a) for p, r, a, _ in s.cluster_parts()) if s.clusters_in_iam else \
        {(s.partition, s.region, s.account): None}
    arns = [f"arn:{p}:ecs:{r}:{a}:{kind}/*" for kind in ("service", "cluster") for p, r, a in homes]
    return Grant("EcsReadRoutingTags", ("ecs:ListTagsForResource",), (*arns, s.ecs_arn("task-definition/*")),
                 wildcard_reason="routing tags (ecs-autopsy:*) are read from the stopped task's service, task "
                                 "definition and cluster, not known in advance; tags only, of the watched "
                                 "clusters' accounts and Regions")


def _log_events(s: Scope) -> Grant:
    arns = tuple(f"arn:{s.partition}:logs:{s.region}:{s.account}:log-group:{p}*:log-stream:*"
                 for p in s.log_group_prefixes)
    return Grant("ReadTaskLogs", P.LOGS_READ, arns,
                 wildcard_reason="task log groups and streams are named by each task definition; reads are "
                                 "limited to the configured log group prefixes (autopsy:logGroupPrefixes)")


def _simulate(s: Scope) -> list[Grant]:
    out = [Grant("SimulateTaskRolePolicy", P.IAM_SIMULATE,
                 tuple(f"arn:{s.partition}:iam::{s.account}:role/{p.lstrip('/')}" for p in s.task_role_patterns),
                 wildcard_reason="the simulated principal is the stopped task's task or execution role: roles "
                                 "named like ECS task/execution roles (autopsy:taskRolePatterns); "
                                 "SimulatePrincipalPolicy only reads policies")]
    if s.task_role_tag:
        key, value = s.task_role_tag.split("=", 1)
        out.append(Grant("SimulateTaggedTaskRoles", P.IAM_SIMULATE, (f"arn:{s.partition}:iam::{s.account}:role/*",),
                         {"StringEquals": {f"aws:ResourceTag/{key}": value}},
                         wildcard_reason=f"only roles tagged {key}={value} (autopsy:taskRoleTag), by the "
                                         "aws:ResourceTag condition; SimulatePrincipalPolicy only reads policies"))
    return out


def _no_resource_level(action: str, why: str) -> Builder:
    service, name = action.split(":")
    sid = service.replace("elasticloadbalancing", "Elb").capitalize() + name

    def build(s: Scope) -> Grant:
        return Grant(sid, (action,), ("*",),
                     wildcard_reason=f"{action} supports no resource-level permissions in IAM; {why}")

    return build


def _publish(s: Scope) -> Grant | None:
    return Grant("PublishFindings", P.SNS_PUBLISH, (s.topic_arn,)) if s.topic_arn else None


def _topic_key(action: str) -> Builder:
    def build(s: Scope) -> Grant | None:
        if not s.topic_key_arn:
            return None  # existing topic without a customer managed key: nothing to grant
        return Grant("UseTopicKey", (action,), (s.topic_key_arn,))

    return build


def _secret(s: Scope) -> Grant | None:
    if not s.secret_resources:
        return None
    return Grant("ReadSlackWebhookSecret", P.SLACK_SECRET, s.secret_resources,
                 wildcard_reason="Secrets Manager appends six random characters to a secret's ARN; '-??????' "
                                 "matches exactly that suffix of the configured secret")


def _table(action: str) -> Builder:
    def build(s: Scope) -> Grant | None:
        return Grant("StateTable", (action,), (s.table_arn,)) if s.table_arn else None

    return build


def _assume(s: Scope) -> Grant | None:
    if not s.member_role_arns:
        return None
    if s.organization_id:
        return Grant("AssumeMemberReaderRole", P.ASSUME_MEMBER_ROLE, s.member_role_arns,
                     {"StringEquals": {"aws:ResourceOrgID": s.organization_id}},
                     wildcard_reason="the reader role of any member account of the organization (new accounts "
                                     "need no hub redeploy), by the aws:ResourceOrgID condition")
    return Grant("AssumeMemberReaderRole", P.ASSUME_MEMBER_ROLE, s.member_role_arns)


_NO_RL_WHY = {
    "ecs:DescribeTaskDefinition": "reads the stopped task's definition (containers, log configuration, role)",
    "elasticloadbalancing:DescribeTargetGroups": "reads the task's target groups for health-check diagnoses",
    "elasticloadbalancing:DescribeTargetHealth": "reads why targets were unhealthy for health-check diagnoses",
    "elasticloadbalancing:DescribeLoadBalancers": "reads the load balancer in front of the target group",
    "ec2:DescribeSecurityGroups": "reads the task's security groups for network diagnoses",
    "ec2:DescribeRouteTables": "reads the subnet's routes (NAT, endpoints) for egress diagnoses",
    "ec2:DescribeVpcEndpoints": "reads VPC endpoints for egress and image-pull diagnoses",
    "ec2:DescribeSubnets": "reads the task's subnets (free addresses) for network-setup diagnoses",
}

SCOPES: dict[str, Builder] = {
    "ecs:DescribeTasks": _describe_tasks,
    "ecs:DescribeServices": _describe_services,
    "ecs:ListTasks": _list_tasks,
    "ecs:ListServiceDeployments": _service_history("ecs:ListServiceDeployments", "service"),
    "ecs:DescribeServiceRevisions": _service_history("ecs:DescribeServiceRevisions", "service-revision"),
    "ecs:ListTagsForResource": _list_tags,
    "logs:GetLogEvents": _log_events,
    "iam:SimulatePrincipalPolicy": _simulate,
    "sns:Publish": _publish,
    "secretsmanager:GetSecretValue": _secret,
    "sts:AssumeRole": _assume,
    **{a: _topic_key(a) for a in P.KMS_FOR_TOPIC},
    **{a: _table(a) for a in P.STATE_TABLE},
    **{a: _no_resource_level(a, why) for a, why in _NO_RL_WHY.items()},
}

# Actions the hub functions need in a member account (the reader role): everything that reads
# evidence, nothing that delivers.
DELIVERY_ACTIONS = frozenset(P.SNS_PUBLISH + P.KMS_FOR_TOPIC + P.SLACK_SECRET + P.STATE_TABLE + P.ASSUME_MEMBER_ROLE)
MEMBER_READ_ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(
    a for actions in P.FUNCTION_ACTIONS.values() for a in actions if a not in DELIVERY_ACTIONS))


def code_grants(actions: Iterable[str], scope: Scope) -> list[Grant]:
    """Grants for the actions, merged per statement id, in first-seen order.

    Actions whose resource is absent in this deployment (no Slack secret, no customer managed key
    on an existing topic, no member accounts) are left out.
    """
    merged: dict[str, Grant] = {}
    for action in dict.fromkeys(actions):
        if action in P.NO_RESOURCE_LEVEL and action not in _NO_RL_WHY:
            raise UnscopedActionError(f"{action} is in shared.permissions.NO_RESOURCE_LEVEL: add the reason "
                                      f"it is needed to infra/grants.py _NO_RL_WHY")
        build = SCOPES.get(action)
        if build is None:
            raise UnscopedActionError(f"shared/permissions.py grants {action!r} but infra/grants.py does not "
                                      f"know which resources to scope it to: add it to SCOPES")
        built = build(scope)
        for grant in built if isinstance(built, list) else [built] if built is not None else []:
            if grant.sid in merged:
                old = merged[grant.sid]
                grant = Grant(old.sid, old.actions + tuple(a for a in grant.actions if a not in old.actions),
                              old.resources + tuple(r for r in grant.resources if r not in old.resources),
                              old.conditions, old.wildcard_reason, old.runtime)
            merged[grant.sid] = grant
    out = list(merged.values())
    if scope.clusters_in_iam:
        # The list of watched clusters, for the ECS actions that name a cluster.
        for sid in ("EcsInWatchedClusters", "EcsListTasksInWatchedClusters"):
            if sid in merged:
                g = merged[sid]
                out[out.index(g)] = Grant(g.sid, g.actions, g.resources,
                                          {"ArnLike": {"ecs:cluster": scope.cluster_arns()}},
                                          g.wildcard_reason, g.runtime)
    return out


def key_grants(secret_key_arn: str | None, region: str) -> list[Grant]:
    """Customer managed KMS key of the Slack secret: decrypt, through Secrets Manager only."""
    if not secret_key_arn:
        return []
    return [Grant("DecryptSlackSecret", ("kms:Decrypt",), (secret_key_arn,),
                  {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}})]


def runtime_grants(log_group_arn: str, failure_queue_arn: str | None) -> list[Grant]:
    """What the Lambda service does with the function's role: write its log group, send failed async events."""
    out = [Grant("WriteOwnLogGroup", ("logs:CreateLogStream", "logs:PutLogEvents"), (log_group_arn,), runtime=True)]
    if failure_queue_arn:
        out.append(Grant("SendFailedInvocations", ("sqs:SendMessage",), (failure_queue_arn,), runtime=True))
    return out


def secret_resources(partition: str, region: str, account: str, secret: str | None) -> tuple[str, ...]:
    """IAM resources matching the Slack webhook secret given by name or (partial or complete) ARN."""
    if not secret:
        return ()
    if secret.startswith("arn:"):
        # A complete ARN ends in the random suffix, a partial one does not: grant both readings.
        return (secret, f"{secret}-??????")
    return (f"arn:{partition}:secretsmanager:{region}:{account}:secret:{secret}-??????",)


def member_role_arns(partition: str, accounts: Iterable[str], role_name: str,
                     organization_id: str | None = None) -> tuple[str, ...]:
    if organization_id:
        return (f"arn:{partition}:iam::*:role/{role_name}",)
    return tuple(f"arn:{partition}:iam::{a}:role/{role_name}" for a in accounts)


def function_role_name(function: str, region: str) -> str:
    """Fixed name of a function's role in hub mode (member accounts trust exactly these)."""
    return f"ecs-autopsy-{function.replace('_', '-')}-{region}"


# ---- policy size ----------------------------------------------------------------------------------
def _worst(value: Any) -> Any:
    """A resolved CloudFormation value with every intrinsic replaced by its worst-case text."""
    if isinstance(value, list):
        return [_worst(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return _WORST.get(arg, _WORST_ARN)
            if fn == "Fn::GetAtt":
                return _WORST_ARN
            if fn == "Fn::Join":
                return arg[0].join(str(_worst(p)) for p in arg[1])
            if fn in ("Fn::Sub", "Fn::ImportValue", "Fn::Select", "Fn::If", "Fn::FindInMap"):
                return _WORST_ARN
        return {k: _worst(v) for k, v in value.items()}
    return value


def policy_size(document: Any) -> int:
    """Characters IAM counts for a policy document (whitespace excluded), at worst-case lengths."""
    import json

    text = json.dumps(_worst(document), separators=(",", ":"))
    return sum(1 for ch in text if not ch.isspace())


def check_inline_policy_size(role: str, documents: Iterable[Any]) -> int:
    """The total size of a role's inline policies (resolved documents); raises PolicySizeError past IAM's limit."""
    total = sum(policy_size(d) for d in documents)
    if total > INLINE_POLICY_LIMIT:
        raise PolicySizeError(
            f"the inline policies of role {role} would take {total:,} characters, more than IAM's "
            f"{INLINE_POLICY_LIMIT:,}: deploying would fail (LimitExceeded). Shorten autopsy:logGroupPrefixes, "
            f"autopsy:taskRolePatterns, autopsy:clusters or autopsy:sourceAccounts (use autopsy:organizationId).")
    return total
