"""Live diagnosis: the same pipeline as the Lambda functions, run with the caller's credentials.

    ecs-autopsy diagnose --cluster C --task T        one task (ARN or id)
    ecs-autopsy diagnose --cluster C --service S     the service's most recent stopped tasks
    ecs-autopsy diagnose --event EVENT.json          a task or deployment event, enriched from AWS

`diagnose_request` is what the `manual` function runs: {"cluster", "task"}, {"cluster", "service"}
or a full EventBridge event in, finding(s) out. boto3 honours AWS_ENDPOINT_URL (moto, LocalStack).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.inputs import BadInput, load_logs, parse_task_event, read_json
from shared.models.event import (
    DEPLOYMENT_STATE_CHANGE,
    SERVICE_ACTION,
    TASK_STATE_CHANGE,
    cluster_name,
    split_arn,
)

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.models.finding import Finding
    from shared.settings import Settings

SERVICE_TASKS = 5  # --service: how many of the most recent stopped tasks are diagnosed
EXPIRED_HINT = "ECS keeps stopped tasks for about an hour"


def diagnose_request(payload: Any, clients: Clients, settings: Settings | None = None) -> list[Finding]:
    """Findings for a manual request: {"cluster", "task"}, {"cluster", "service"} or an event.

    Raises BadInput for a request that names nothing diagnosable (no such task, no stopped task)."""
    if not isinstance(payload, dict):
        raise BadInput(f"expected a JSON object, got {type(payload).__name__}")
    detail_type = payload.get("detail-type") or payload.get("detailType")
    if detail_type in (DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION):
        from shared.deploy import DEPLOY_EVENTS, diagnose_deployment, parse_deploy_event

        event = parse_deploy_event(payload)
        if event.detail.event_name not in DEPLOY_EVENTS:
            raise BadInput(f"{event.detail.event_name} is not a failure: only {', '.join(sorted(DEPLOY_EVENTS))} "
                           "events are diagnosed")
        return [diagnose_deployment(event, clients, settings)]
    if detail_type == TASK_STATE_CHANGE or "taskArn" in payload or "tasks" in payload:
        from shared.evidence.gather import investigate

        return [investigate(parse_task_event(payload), clients, settings)[1]]
    cluster = payload.get("cluster")
    if payload.get("task") or payload.get("service"):
        clients = _member_clients(clients, payload)
    if payload.get("task"):
        return [diagnose_task(clients, cluster, str(payload["task"]), settings)]
    if payload.get("service"):
        if not cluster:
            raise BadInput("\"service\" needs \"cluster\"")
        limit = int(payload.get("limit") or SERVICE_TASKS)
        return diagnose_service(clients, str(cluster), str(payload["service"]), settings, limit=limit)
    raise BadInput("expected {\"cluster\", \"task\"}, {\"cluster\", \"service\"} or an ECS event")


def diagnose_task(clients: Clients, cluster: str | None, task: str, settings: Settings | None = None, *,
                  logs: Any = None) -> Finding:
    from shared.evidence import ecs
    from shared.evidence.errors import Gap, describe
    from shared.evidence.gather import investigate

    cluster = cluster or _cluster_of(task)
    try:
        obj = ecs.fetch_task(clients("ecs", split_arn(task)[0]), cluster, task)
    except Gap as exc:
        raise BadInput(str(exc)) from None
    except Exception as exc:
        raise BadInput(describe(f"Task {task}", "ecs:DescribeTasks", exc)) from None
    return investigate(ecs.task_event(obj), clients, settings, logs=logs, fresh=True)[1]


def diagnose_service(clients: Clients, cluster: str, service: str, settings: Settings | None = None, *,
                     limit: int = SERVICE_TASKS) -> list[Finding]:
    """Findings of the service's most recent stopped tasks, newest first, one per distinct root cause."""
    from shared.evidence import ecs
    from shared.evidence.errors import describe
    from shared.evidence.gather import investigate

    try:
        tasks, _ = ecs.recent_stopped_tasks(clients("ecs"), cluster, service, limit=limit)
    except Exception as exc:
        raise BadInput(describe(f"Stopped tasks of {service}", "ecs:ListTasks", exc)) from None
    if not tasks:
        raise BadInput(f"service {service} in cluster {cluster_name(cluster) or cluster} has no stopped task to "
                       f"diagnose ({EXPIRED_HINT})")
    findings: dict[str, Finding] = {}
    for task in tasks:
        finding = investigate(ecs.task_event(task), clients, settings, fresh=True)[1]
        findings.setdefault(finding.fingerprint, finding)
    return list(findings.values())


def _member_clients(clients: Clients, payload: dict) -> Clients:
    """Hub mode: a request about another account (its task/cluster ARN, or "account") is served with
    that account's reader role."""
    from shared.aws import clients_for_request
    from shared.evidence.errors import describe

    try:
        return clients_for_request(clients, payload)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except Exception as exc:
        account = payload.get("account") or "of the request"
        raise BadInput(describe(f"Member account {account}", "sts:AssumeRole", exc)) from None


def _cluster_of(task: str) -> str | None:
    from shared.evidence.ecs import cluster_of_task

    return cluster_of_task(task)


# -- the CLI --------------------------------------------------------------------------------------
def cli_diagnose(args: argparse.Namespace) -> int:
    """`ecs-autopsy diagnose` without --offline."""
    from shared.cli import _renderer
    from shared.render.text import use_colour
    from shared.settings import Settings

    if getattr(args, "case", None):
        raise BadInput("--case files are diagnosed offline only: add --offline")
    task = getattr(args, "task", None)
    service = getattr(args, "service", None)
    cluster = getattr(args, "cluster", None)
    if service and not cluster:
        raise BadInput("--service needs --cluster")
    if task and not cluster and not _cluster_of(task):
        raise BadInput("--task needs --cluster (or give the full task ARN)")
    if cluster and not (task or service):
        raise BadInput("--cluster goes with --task or --service")
    render = _renderer(args.format, colour=not getattr(args, "no_color", False) and use_colour())
    log_lines = getattr(args, "log_lines", None)
    try:
        settings = Settings(log_lines=100 if log_lines is None else log_lines, log_group_prefixes=())
    except ValueError as exc:
        raise BadInput(f"--log-lines: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from None
    logs = load_logs(args.logs) if getattr(args, "logs", None) else None
    region = getattr(args, "region", None) or (split_arn(task)[0] if task else None)
    clients = _clients(region)

    if task:
        findings = [diagnose_task(clients, cluster, task, settings, logs=logs)]
    elif service:
        if logs is not None:
            raise BadInput("--logs goes with --event or --task")
        findings = diagnose_service(clients, cluster, service, settings)
    else:
        findings = _event_findings(args.event, clients, settings, logs)
    _emit(findings, render, args.format)
    return 0


def _event_findings(path: Any, clients: Clients, settings: Settings, logs: Any) -> list[Finding]:
    obj = read_json(path)
    if isinstance(obj, dict) and (obj.get("detail-type") or obj.get("detailType")) in (DEPLOYMENT_STATE_CHANGE,
                                                                                      SERVICE_ACTION):
        return diagnose_request(obj, clients, settings)
    from shared.evidence.gather import investigate

    try:
        event = parse_task_event(obj)
    except BadInput as exc:
        raise BadInput(f"{path}: {exc}") from None
    return [investigate(event, clients, settings, logs=logs)[1]]


def _clients(region: str | None) -> Clients:
    from shared.aws import Clients, default_region

    region = region or default_region() or _configured_region()
    if not region:
        raise BadInput("no AWS region: pass --region, set AWS_REGION, or give the full task ARN")
    return Clients(region)


def _configured_region() -> str | None:
    import boto3

    return boto3.session.Session().region_name


def _emit(findings: list[Finding], render: Callable[[Finding], str], fmt: str) -> None:
    for i, finding in enumerate(findings):
        if i and fmt != "json":
            sys.stdout.write("\n")
        out = render(finding)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    sys.stdout.flush()


def handle(payload: Any, clients: Clients | None = None, settings: Settings | None = None) -> list[dict]:
    """JSON-ready findings for a manual request (the `manual` function's body)."""
    from shared.aws import default_clients

    clients = clients or default_clients()
    return [json.loads(f.model_dump_json(by_alias=True)) for f in diagnose_request(payload, clients, settings)]
