"""The EventBridge event patterns: which ECS events reach which function.

Shared by the hub/single-account construct (rules that invoke the functions) and the member
forwarder (rules that send the same events to the hub's bus), so both filter alike.

Cluster filter: a cluster given by name matches that name in any account and Region (an
organization hub receives its members' events with their own account ids); a cluster given by ARN
matches exactly. Deployment events carry no clusterArn: they are filtered on the service ARN in
`resources`, whose long format (the default since 2021) names the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_events as events

from infra.config import AutopsyConfig

SOURCE = "aws.ecs"
TASK_STATE_CHANGE = "ECS Task State Change"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"


@dataclass(frozen=True)
class RuleSpec:
    id: str  # construct id of the rule
    function: str  # which function handles it (shared.permissions.FUNCTION_ACTIONS key)
    description: str
    pattern: events.EventPattern


def _cluster_matchers(clusters: Sequence[str]) -> list[str]:
    m = events.Match
    parts = [m.exact_string(c) if c.startswith("arn:") else m.wildcard(f"arn:*:ecs:*:*:cluster/{c}") for c in clusters]
    return m.any_of(*parts)


def _service_matchers(clusters: Sequence[str]) -> list[str]:
    m = events.Match
    parts = [m.prefix(c.replace(":cluster/", ":service/", 1) + "/") if c.startswith("arn:")
             else m.wildcard(f"arn:*:ecs:*:*:service/{c}/*") for c in clusters]
    return m.any_of(*parts)


def rule_specs(config: AutopsyConfig, accounts: Sequence[str] | None = None) -> list[RuleSpec]:
    """The three rules (five in Slack app mode). `accounts`: restrict to events of these accounts (hub mode), else any."""
    clusters = config.clusters
    account = list(accounts) if accounts else None

    stopped_detail: dict[str, object] = {"lastStatus": ["STOPPED"]}
    impaired_detail: dict[str, object] = {"eventName": ["SERVICE_TASK_START_IMPAIRED"]}
    if clusters:
        stopped_detail["clusterArn"] = _cluster_matchers(clusters)
        impaired_detail["clusterArn"] = _cluster_matchers(clusters)

    specs = [
        RuleSpec(
            "TaskStoppedRule", "task_stopped",
            "ecs-autopsy: every stopped ECS task" + (" in the watched clusters" if clusters else ""),
            events.EventPattern(source=[SOURCE], detail_type=[TASK_STATE_CHANGE], account=account,
                                detail=stopped_detail),
        ),
        RuleSpec(
            "DeploymentFailedRule", "deploy_failed",
            "ecs-autopsy: failed ECS service deployments (circuit breaker, rollback)",
            events.EventPattern(source=[SOURCE], detail_type=[DEPLOYMENT_STATE_CHANGE], account=account,
                                resources=_service_matchers(clusters) if clusters else None,
                                detail={"eventName": ["SERVICE_DEPLOYMENT_FAILED"]}),
        ),
        RuleSpec(
            "TaskStartImpairedRule", "deploy_failed",
            "ecs-autopsy: ECS services that cannot start tasks (SERVICE_TASK_START_IMPAIRED)",
            events.EventPattern(source=[SOURCE], detail_type=[SERVICE_ACTION], account=account,
                                detail=impaired_detail),
        ),
    ]
    if config.slack_app:
        specs += recovery_specs(config, account)
    return specs


def recovery_specs(config: AutopsyConfig, account: list[str] | None) -> list[RuleSpec]:
    """Slack app mode: a service is healthy again. Filtered on the event name (and the watched clusters):
    the function then costs one GetItem for a service without an open incident."""
    clusters = config.clusters
    steady: dict[str, object] = {"eventName": ["SERVICE_STEADY_STATE"]}
    if clusters:
        steady["clusterArn"] = _cluster_matchers(clusters)
    return [
        RuleSpec(
            "ServiceSteadyStateRule", "recovered",
            "ecs-autopsy: a service reached a steady state (reply 'recovered' in its open Slack thread)",
            events.EventPattern(source=[SOURCE], detail_type=[SERVICE_ACTION], account=account, detail=steady),
        ),
        RuleSpec(
            "DeploymentCompletedRule", "recovered",
            "ecs-autopsy: a deployment (or its rollback) completed (reply 'recovered' in its open Slack thread)",
            events.EventPattern(source=[SOURCE], detail_type=[DEPLOYMENT_STATE_CHANGE], account=account,
                                resources=_service_matchers(clusters) if clusters else None,
                                detail={"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]}),
        ),
    ]
