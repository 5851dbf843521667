"""Elastic Load Balancing v2: the target group's health check and its targets' health reasons.

One DescribeTargetGroups for all the groups, one DescribeTargetHealth per group, and one
DescribeLoadBalancers for the load balancers' security groups (compared with the task's by the
network read). The stopped task's own target (its IP) is listed first when it is still there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.evidence.errors import guarded
from shared.evidence.model import TargetGroupFacts, TargetHealth
from shared.scan import lazy_re

MAX_TARGET_GROUPS = 3
_TG_IN_REASON = lazy_re(r"\(target-group (arn:aws[\w-]*:elasticloadbalancing:[^)\s]+)\)")
_CLASSIC_IN_REASON = lazy_re(r"\(elb ([^)\s]+)\)")


def target_group_in_reason(stopped_reason: str | None) -> str | None:
    """The target-group ARN ECS names in "Task failed ELB health checks in (target-group ARN)"."""
    m = _TG_IN_REASON.search(stopped_reason or "")
    return m.group(1) if m else None


def classic_elb_in_reason(stopped_reason: str | None) -> str | None:
    m = _CLASSIC_IN_REASON.search(stopped_reason or "")
    return m.group(1) if m else None


@dataclass(frozen=True)
class TargetGroupLink:
    arn: str
    container_name: str | None = None
    container_port: int | None = None


@dataclass(frozen=True)
class TargetGroupsRead:
    target_groups: tuple[TargetGroupFacts, ...]
    vpc_id: str | None
    gaps: tuple[str, ...] = ()


def fetch(client: Any, links: list[TargetGroupLink], task_ip: str | None = None) -> TargetGroupsRead:
    links = _dedupe(links)[:MAX_TARGET_GROUPS]
    if not links:
        return TargetGroupsRead((), None)
    resp = client.describe_target_groups(TargetGroupArns=[link.arn for link in links])
    groups = {g["TargetGroupArn"]: g for g in resp.get("TargetGroups") or []}
    gaps: list[str] = []
    lb_arns = sorted({arn for g in groups.values() for arn in g.get("LoadBalancerArns") or []})
    lb_sgs: dict[str, tuple[str, ...]] = {}
    if lb_arns:
        lbs, gap = guarded("Load balancer security groups", "elasticloadbalancing:DescribeLoadBalancers",
                           client.describe_load_balancers, LoadBalancerArns=lb_arns)
        if gap:
            gaps.append(gap)
        for lb in (lbs or {}).get("LoadBalancers") or []:
            lb_sgs[lb["LoadBalancerArn"]] = tuple(lb.get("SecurityGroups") or ())
    out: list[TargetGroupFacts] = []
    vpc_id = None
    for link in links:
        g = groups.get(link.arn)
        if g is None:
            gaps.append(f"Target group {link.arn}: not found.")
            continue
        vpc_id = vpc_id or g.get("VpcId")
        health, gap = guarded(f"Target health of {g.get('TargetGroupName') or link.arn}",
                              "elasticloadbalancing:DescribeTargetHealth", client.describe_target_health,
                              TargetGroupArn=link.arn)
        if gap:
            gaps.append(gap)
        targets = [_target(d) for d in (health or {}).get("TargetHealthDescriptions") or []]
        targets.sort(key=lambda t: (t.target_id != task_ip, t.state == "healthy"))
        matcher = g.get("Matcher") or {}
        lb_arns_of = tuple(g.get("LoadBalancerArns") or ())
        out.append(TargetGroupFacts(
            arn=link.arn,
            name=g.get("TargetGroupName"),
            protocol=g.get("Protocol"),
            port=g.get("Port"),
            target_type=g.get("TargetType"),
            health_check_protocol=g.get("HealthCheckProtocol"),
            health_check_path=g.get("HealthCheckPath"),
            health_check_port=str(g["HealthCheckPort"]) if g.get("HealthCheckPort") is not None else None,
            matcher=matcher.get("HttpCode") or matcher.get("GrpcCode"),
            timeout_seconds=g.get("HealthCheckTimeoutSeconds"),
            interval_seconds=g.get("HealthCheckIntervalSeconds"),
            healthy_threshold=g.get("HealthyThresholdCount"),
            unhealthy_threshold=g.get("UnhealthyThresholdCount"),
            load_balancer_arns=lb_arns_of,
            load_balancer_security_groups=tuple(dict.fromkeys(sg for arn in lb_arns_of for sg in lb_sgs.get(arn, ()))),
            targets=tuple(targets),
            container_name=link.container_name,
            container_port=link.container_port,
        ))
    return TargetGroupsRead(tuple(out), vpc_id, tuple(gaps))


def _target(d: dict) -> TargetHealth:
    target = d.get("Target") or {}
    health = d.get("TargetHealth") or {}
    return TargetHealth(target_id=str(target.get("Id", "")), port=target.get("Port"), state=health.get("State"),
                        reason=health.get("Reason"), description=health.get("Description"))


def _dedupe(links: list[TargetGroupLink]) -> list[TargetGroupLink]:
    seen: dict[str, TargetGroupLink] = {}
    for link in links:
        prev = seen.get(link.arn)
        if prev is None or (prev.container_name is None and link.container_name):
            seen[link.arn] = link
    return list(seen.values())
