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

# Deliberately narrow roles: the path lets a member account trust exactly these roles of the hub.
ROLE_PATH = "/ecs-autopsy/"


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

    def in_clusters(self, kind: str) -> list[str]:
        """ARNs of `kind` (task, service) in the watched clusters; the long ARN format names the cluster."""
        if not self.clusters:
            return [self.ecs_arn(f"{kind}/*")]
        return [f"arn:{p}:ecs:{r}:{a}:{kind}/{n}/*" for p, r, a, n in self.cluster_parts()]


# ---- one scope builder per action ---------------------------------------------------------------
Builder = Callable[[Scope], "Grant | None"]

_ALL_CLUSTERS = "every cluster of the account and Region is watched: autopsy:clusters is empty"


def _describe_tasks(s: Scope) -> Grant:
    return Grant("EcsDescribeTasks", ("ecs:DescribeTasks",), tuple(s.in_clusters("task")),
                 wildcard_reason=f"task ids are not known in advance; scoped to the watched clusters' tasks"
                                 f"{'' if s.clusters else ' (' + _ALL_CLUSTERS + ')'}")


def _describe_services(s: Scope) -> Grant:
    return Grant("EcsDescribeServices", ("ecs:DescribeServices",), tuple(s.in_clusters("service")),
                 wildcard_reason=f"service names are not known in advance; scoped to the watched clusters' services"
                                 f"{'' if s.clusters else ' (' + _ALL_CLUSTERS + ')'}")


def _service_history(action: str, kind: str) -> Builder:
    """ListServiceDeployments authorises on the service, DescribeServiceRevisions on the revision."""
    def build(s: Scope) -> Grant:
        return Grant("Ecs" + action.split(":")[1], (action,), tuple(s.in_clusters(kind)),
                     wildcard_reason=f"service names are not known in advance; scoped to the watched clusters' "
                                     f"services{'' if s.clusters else ' (' + _ALL_CLUSTERS + ')'}")

    return build


def _list_tasks(s: Scope) -> Grant:
    # ListTasks authorises on container instances (none on Fargate): IAM scopes it by cluster only,
    # through the ecs:cluster condition key.
    clusters = s.cluster_arns() if s.clusters else [s.ecs_arn("cluster/*")]
    condition = {"ArnLike": {"ecs:cluster": clusters}}
    return Grant("EcsListTasks", ("ecs:ListTasks",), ("*",), condition,
                 wildcard_reason="ecs:ListTasks has no task-level resource; it is scoped to the watched clusters "
                                 "by the ecs:cluster condition")


def _list_tags(s: Scope) -> Grant:
    clusters = s.cluster_arns() if s.clusters else [s.ecs_arn("cluster/*")]
    return Grant("EcsReadRoutingTags", ("ecs:ListTagsForResource",),
                 (*s.in_clusters("service"), s.ecs_arn("task-definition/*"), *clusters),
                 wildcard_reason="routing tags (ecs-autopsy:*) are read from the stopped task's service, task "
                                 "definition and cluster, not known in advance; scoped to the watched clusters "
                                 "and the account's task definitions")


def _log_events(s: Scope) -> Grant:
    arns = tuple(f"arn:{s.partition}:logs:{s.region}:{s.account}:log-group:{p}*:log-stream:*"
                 for p in s.log_group_prefixes)
    return Grant("ReadTaskLogs", P.LOGS_READ, arns,
                 wildcard_reason="task log groups and streams are named by each task definition; reads are "
                                 "limited to the configured log group prefixes (autopsy:logGroupPrefixes)")


def _simulate(s: Scope) -> Grant:
    return Grant("SimulateTaskRolePolicy", P.IAM_SIMULATE, (f"arn:{s.partition}:iam::{s.account}:role/*",),
                 wildcard_reason="the simulated principal is the stopped task's role, any role of the account; "
                                 "SimulatePrincipalPolicy only reads policies")


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
        grant = build(scope)
        if grant is None:
            continue
        if grant.sid in merged:
            old = merged[grant.sid]
            grant = Grant(old.sid, old.actions + tuple(a for a in grant.actions if a not in old.actions),
                          old.resources, old.conditions, old.wildcard_reason, old.runtime)
        merged[grant.sid] = grant
    return list(merged.values())


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


def member_role_arns(partition: str, accounts: Iterable[str], role_name: str) -> tuple[str, ...]:
    return tuple(f"arn:{partition}:iam::{a}:role/{role_name}" for a in accounts)
