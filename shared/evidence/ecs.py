"""ECS reads: the task (DescribeTasks), its task definition (DescribeTaskDefinition, cached while
warm), its service (DescribeServices) and a service's recent stopped tasks (ListTasks).

Only names of environment variables and secrets are kept, never their values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.evidence.errors import Gap
from shared.evidence.model import ContainerDefinition, ServiceFacts, TaskDefinitionFacts
from shared.models.event import TaskStateChangeEvent, cluster_name
from shared.warm import on_reset

TASK_EXPIRED = ("ECS no longer knows task {task} ({reason}): stopped tasks stay visible for about an hour, so "
                "its stop reason and exit codes could not be read.")
TD_CACHE_SIZE = 128
DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks per call

_td_cache: OrderedDict[str, TaskDefinitionFacts] = OrderedDict()
# The value-free snapshot of each task definition read (shared.changes.snapshot), for the deploy diff.
_snapshots: OrderedDict[str, dict] = OrderedDict()
_td_lock = threading.Lock()


# -- tasks ----------------------------------------------------------------------------------------
def describe_tasks(client: Any, cluster: str | None, task_arns: list[str]) -> tuple[list[dict], list[dict]]:
    """(tasks, failures) for up to any number of task ARNs/ids, in batches of 100."""
    tasks: list[dict] = []
    failures: list[dict] = []
    for start in range(0, len(task_arns), DESCRIBE_BATCH):
        kwargs: dict[str, Any] = {"tasks": task_arns[start : start + DESCRIBE_BATCH]}
        if cluster:
            kwargs["cluster"] = cluster
        resp = client.describe_tasks(**kwargs)
        tasks.extend(resp.get("tasks") or [])
        failures.extend(resp.get("failures") or [])
    return tasks, failures


def fetch_task(client: Any, cluster: str | None, task: str) -> dict:
    """The DescribeTasks object of one task; `Gap` when ECS no longer has it."""
    tasks, failures = describe_tasks(client, cluster or cluster_of_task(task), [task])
    if not tasks:
        reason = (failures[0].get("reason") if failures else None) or "not found"
        raise Gap(TASK_EXPIRED.format(task=task, reason=reason))
    return tasks[0]


def cluster_of_task(task_arn: str | None) -> str | None:
    """The cluster name inside a long-format task ARN (task/CLUSTER/ID), else None."""
    if not task_arn or not task_arn.startswith("arn:"):
        return None
    parts = task_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 else None


def task_event(task: dict) -> TaskStateChangeEvent:
    """A DescribeTasks task wrapped in the EventBridge envelope the engine reads."""
    from shared.models.parse import parse_task_event

    return parse_task_event(_jsonable(task))


def needs_describe(event: TaskStateChangeEvent) -> bool:
    """Does the event lack what a diagnosis needs (containers, or the stop reason of a stopped task)?"""
    d = event.detail
    if not d.containers:
        return True
    stopped = (d.last_status or "").upper() == "STOPPED"
    return stopped and not d.stopped_reason and not d.stop_code


def list_stopped_tasks(client: Any, cluster: str, service: str, limit: int = 100) -> list[str]:
    """ARNs of the service's stopped tasks ECS still knows (newest first is not guaranteed)."""
    arns: list[str] = []
    token: str | None = None
    while len(arns) < limit:
        kwargs: dict[str, Any] = {"cluster": cluster, "serviceName": service, "desiredStatus": "STOPPED",
                                  "maxResults": min(100, limit - len(arns))}
        if token:
            kwargs["nextToken"] = token
        resp = client.list_tasks(**kwargs)
        arns.extend(resp.get("taskArns") or [])
        token = resp.get("nextToken")
        if not token:
            break
    return arns[:limit]


def recent_stopped_tasks(client: Any, cluster: str, service: str, *, started_by: str | None = None,
                         limit: int = 10, scan: int = 100) -> tuple[list[dict], int]:
    """(the `limit` most recently stopped tasks, how many matched) of a service, optionally only
    those started by `started_by` (a deployment id, ecs-svc/...)."""
    arns = list_stopped_tasks(client, cluster, service, scan)
    if not arns:
        return [], 0
    tasks, _ = describe_tasks(client, cluster, arns)
    if started_by:
        tasks = [t for t in tasks if t.get("startedBy") == started_by]
    tasks.sort(key=_stopped_key, reverse=True)
    return tasks[:limit], len(tasks)


def _stopped_key(task: dict) -> float:
    for key in ("stoppedAt", "executionStoppedAt", "stoppingAt", "updatedAt", "createdAt"):
        value = task.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return (obj if obj.tzinfo else obj.replace(tzinfo=UTC)).isoformat()
    return obj


# -- task definitions -----------------------------------------------------------------------------
def fetch_task_definition(client: Any, arn: str) -> TaskDefinitionFacts:
    """DescribeTaskDefinition, cached per ARN while the process is warm."""
    with _td_lock:
        cached = _td_cache.get(arn)
        if cached is not None:
            _td_cache.move_to_end(arn)
            return cached
    resp = client.describe_task_definition(taskDefinition=arn)
    facts = task_definition_facts(resp["taskDefinition"])
    from shared.changes import snapshot

    snap = snapshot(resp["taskDefinition"])
    with _td_lock:
        for key in dict.fromkeys((arn, facts.arn)):
            _td_cache[key] = facts
            _snapshots[key] = snap
        while len(_td_cache) > TD_CACHE_SIZE:
            _td_cache.popitem(last=False)
        while len(_snapshots) > TD_CACHE_SIZE:
            _snapshots.popitem(last=False)
    return facts


def fetch_snapshot(client: Any, arn: str) -> dict:
    """The value-free snapshot of a task definition (shared.changes.snapshot), read once while warm."""
    with _td_lock:
        cached = _snapshots.get(arn)
        if cached is None:
            _td_cache.pop(arn, None)  # evicted: read the task definition again
    if cached is None:
        fetch_task_definition(client, arn)
        with _td_lock:
            cached = _snapshots[arn]
    return cached


def cached_snapshot(arn: str) -> dict | None:
    with _td_lock:
        return _snapshots.get(arn)


def cached_task_definition(arn: str) -> TaskDefinitionFacts | None:
    with _td_lock:
        return _td_cache.get(arn)


@on_reset
def clear_cache() -> None:
    """Forget the task definitions read, and their snapshots (a cold start)."""
    with _td_lock:
        _td_cache.clear()
        _snapshots.clear()


def task_definition_facts(td: dict) -> TaskDefinitionFacts:
    platform = td.get("runtimePlatform") or {}
    return TaskDefinitionFacts(
        arn=td.get("taskDefinitionArn") or "",
        family=td.get("family"),
        revision=td.get("revision"),
        cpu=_text(td.get("cpu")),
        memory=_text(td.get("memory")),
        network_mode=td.get("networkMode"),
        task_role_arn=td.get("taskRoleArn"),
        execution_role_arn=td.get("executionRoleArn"),
        cpu_architecture=platform.get("cpuArchitecture"),
        os_family=platform.get("operatingSystemFamily"),
        containers=tuple(_container(c) for c in td.get("containerDefinitions") or []),
        ephemeral_storage_gib=(td.get("ephemeralStorage") or {}).get("sizeInGiB"),
    )


def _container(c: dict) -> ContainerDefinition:
    health = c.get("healthCheck") or {}
    log_config = c.get("logConfiguration") or {}
    return ContainerDefinition(
        name=c.get("name") or "",
        image=c.get("image"),
        essential=c.get("essential", True),
        memory=c.get("memory"),
        memory_reservation=c.get("memoryReservation"),
        cpu=c.get("cpu"),
        port_mappings=tuple(p["containerPort"] for p in c.get("portMappings") or [] if p.get("containerPort")),
        health_check=tuple(health.get("command") or ()),
        health_check_start_period=health.get("startPeriod"),
        # Names only: values of variables and secrets never leave this function.
        env_names=frozenset(e["name"] for e in c.get("environment") or [] if e.get("name")),
        secret_names=frozenset(s["name"] for s in c.get("secrets") or [] if s.get("name")),
        log_driver=log_config.get("logDriver"),
        log_options=dict(log_config.get("options") or {}),
        entry_point=tuple(c.get("entryPoint") or ()),
        command=tuple(c.get("command") or ()),
        depends_on=tuple((d["containerName"], d.get("condition") or "START") for d in c.get("dependsOn") or []
                         if d.get("containerName")),
        firelens=(c.get("firelensConfiguration") or {}).get("type"),
        gpus=sum(int(r["value"]) for r in c.get("resourceRequirements") or []
                 if r.get("type") == "GPU" and str(r.get("value", "")).isdigit()),
        restarts=(c.get("restartPolicy") or {}).get("enabled") is True,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# -- services -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadBalancerLink:
    target_group_arn: str | None
    container_name: str | None
    container_port: int | None
    load_balancer_name: str | None = None  # classic load balancers


@dataclass(frozen=True)
class ServiceInfo:
    facts: ServiceFacts
    load_balancers: tuple[LoadBalancerLink, ...] = ()
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    assign_public_ip: bool | None = None


def fetch_service(client: Any, cluster: str, service: str) -> ServiceInfo:
    resp = client.describe_services(cluster=cluster, services=[service])
    services = resp.get("services") or []
    if not services:
        failures = resp.get("failures") or []
        reason = (failures[0].get("reason") if failures else None) or "not found"
        raise Gap(f"Service {service} in cluster {cluster_name(cluster) or cluster}: {reason}.")
    s = services[0]
    lbs = tuple(LoadBalancerLink(lb.get("targetGroupArn"), lb.get("containerName"), lb.get("containerPort"),
                                 lb.get("loadBalancerName"))
                for lb in s.get("loadBalancers") or [])
    vpc = ((s.get("networkConfiguration") or {}).get("awsvpcConfiguration")) or {}
    public = vpc.get("assignPublicIp")
    return ServiceInfo(
        facts=ServiceFacts(
            name=s.get("serviceName") or service,
            health_check_grace_period=s.get("healthCheckGracePeriodSeconds"),
            desired_count=s.get("desiredCount"),
            target_group_arns=tuple(lb.target_group_arn for lb in lbs if lb.target_group_arn),
        ),
        load_balancers=lbs,
        subnets=tuple(vpc.get("subnets") or ()),
        security_groups=tuple(vpc.get("securityGroups") or ()),
        assign_public_ip=None if public is None else public == "ENABLED",
    )
