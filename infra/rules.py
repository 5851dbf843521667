"""The EventBridge event patterns: which ECS events reach which function.

Shared by the hub/single-account construct (rules that invoke the functions) and the member
forwarder (rules that send the same events to the hub's bus), so both filter alike.

Cluster filter: a cluster given by name matches that name in any account and Region (an
organization hub receives its members' events with their own account ids): a `suffix` match on
clusterArn (":cluster/<name>"); a cluster given by ARN matches exactly. Deployment events carry no
clusterArn: they are filtered on the service ARN in `resources`, whose long format (the default
since 2021) names the cluster.

Size: EventBridge accepts event patterns of at most 2,048 characters (EVENT_PATTERN_LIMIT). Past
it, the clusters are split over several rules of the same kind (TaskStoppedRule, TaskStoppedRule2,
...), each within the limit, so any number of clusters can be watched; `pattern_size` is the check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_cdk import aws_events as events

from infra.config import AutopsyConfig, ConfigError

SOURCE = "aws.ecs"
TASK_STATE_CHANGE = "ECS Task State Change"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"


# EventBridge's default quota for an event pattern's size, in characters.
EVENT_PATTERN_LIMIT = 2_048
# Worst-case length of an account id list entry / the pseudo parameter, for the size estimate.
_ACCOUNT_TOKEN = "000000000000"


@dataclass(frozen=True)
class RuleSpec:
    id: str  # construct id of the rule
    function: str  # which function handles it (shared.permissions.FUNCTION_ACTIONS key)
    description: str
    pattern: events.EventPattern
    size: int = 0  # the pattern's worst-case size in characters


def _cluster_matcher(c: str) -> dict | str:
    return c if c.startswith("arn:") else {"suffix": f":cluster/{c}"}


def _service_matcher(c: str) -> dict:
    if c.startswith("arn:"):
        return {"prefix": c.replace(":cluster/", ":service/", 1) + "/"}
    return {"wildcard": f"arn:*:ecs:*:*:service/{c}/*"}


def _match(m: dict | str) -> str:
    """The CDK matcher for a plain matcher (top-level fields are typed lists of strings)."""
    if isinstance(m, str):
        return m
    (op, value), = m.items()
    return {"prefix": events.Match.prefix, "suffix": events.Match.suffix,
            "wildcard": events.Match.wildcard}[op](value)[0]


def pattern_size(pattern: dict) -> int:
    """Characters of an event pattern (plain dict, compact JSON) at worst-case token lengths."""
    text = json.dumps(pattern, separators=(",", ":"), default=str)
    return len(text)


def _chunks(clusters: Sequence[str], base: dict, place: str, matcher: Callable[[str], dict | str]) -> list[list[str]]:
    """Clusters split so that `base` with each chunk's matchers at `place` stays within the limit."""
    def size(chunk: list[str]) -> int:
        pattern = json.loads(json.dumps(base))
        target = pattern["detail"] if place != "resources" else pattern
        target[place] = [matcher(c) for c in chunk]
        return pattern_size(pattern)

    if not clusters:
        return [[]]
    out: list[list[str]] = [[]]
    for c in clusters:
        if out[-1] and size([*out[-1], c]) > EVENT_PATTERN_LIMIT:
            out.append([])
        out[-1].append(c)
        if size([c]) > EVENT_PATTERN_LIMIT:
            raise ConfigError(f"invalid ecs-autopsy configuration:\n  the event pattern for cluster {c!r} alone "
                              f"exceeds EventBridge's {EVENT_PATTERN_LIMIT:,} characters (too many "
                              "autopsy:sourceAccounts? use autopsy:organizationId)")
    return out


def rule_specs(config: AutopsyConfig, accounts: Sequence[str] | None = None) -> list[RuleSpec]:
    """The rules, three kinds, five in Slack app mode (more rules when the clusters do not fit one
    pattern). `accounts`: restrict to events of these accounts (hub mode), else any."""
    clusters = config.clusters
    account = list(accounts) if accounts else None
    worst_accounts = [a if a.isdigit() else _ACCOUNT_TOKEN for a in account] if account else None

    kinds = [
        ("TaskStoppedRule", "task_stopped",
         "ecs-autopsy: every stopped ECS task" + (" in the watched clusters" if clusters else ""),
         TASK_STATE_CHANGE, {"lastStatus": ["STOPPED"]}, "clusterArn", _cluster_matcher),
        ("DeploymentFailedRule", "deploy_failed",
         "ecs-autopsy: failed ECS service deployments (circuit breaker, rollback)",
         DEPLOYMENT_STATE_CHANGE, {"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}, "resources", _service_matcher),
        ("TaskStartImpairedRule", "deploy_failed",
         "ecs-autopsy: ECS services that cannot start tasks (SERVICE_TASK_START_IMPAIRED)",
         SERVICE_ACTION, {"eventName": ["SERVICE_TASK_START_IMPAIRED"]}, "clusterArn", _cluster_matcher),
    ]
    if config.slack_app:
        # A service is healthy again: filtered on the event name (and the watched clusters), so the
        # function costs one GetItem for a service without an open incident.
        kinds += [
            ("ServiceSteadyStateRule", "recovered",
             "ecs-autopsy: a service reached a steady state (reply 'recovered' in its open Slack thread)",
             SERVICE_ACTION, {"eventName": ["SERVICE_STEADY_STATE"]}, "clusterArn", _cluster_matcher),
            ("DeploymentCompletedRule", "recovered",
             "ecs-autopsy: a deployment (or its rollback) completed (reply 'recovered' in its open Slack thread)",
             DEPLOYMENT_STATE_CHANGE, {"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]}, "resources",
             _service_matcher),
        ]
    out: list[RuleSpec] = []
    for rule_id, function, description, detail_type, detail, place, matcher in kinds:
        base: dict = {"source": [SOURCE], "detail-type": [detail_type], "detail": dict(detail)}
        if worst_accounts:
            base["account"] = worst_accounts
        chunks = _chunks(clusters, base, place, matcher)
        for n, chunk in enumerate(chunks, start=1):
            plain = json.loads(json.dumps(base))
            d: dict[str, object] = dict(detail)
            resources = None
            if chunk:
                if place == "resources":
                    plain["resources"] = [matcher(c) for c in chunk]
                    resources = [_match(matcher(c)) for c in chunk]
                else:
                    plain["detail"][place] = [matcher(c) for c in chunk]
                    d[place] = [matcher(c) for c in chunk]
            part = f" (part {n} of {len(chunks)})" if len(chunks) > 1 else ""
            out.append(RuleSpec(
                rule_id if n == 1 else f"{rule_id}{n}", function, description + part,
                events.EventPattern(source=[SOURCE], detail_type=[detail_type], account=account,
                                    resources=resources, detail=d),
                pattern_size(plain)))
    return out
