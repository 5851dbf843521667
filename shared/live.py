"""The live CLI: the same pipeline as the Lambda functions (shared.pipeline), with the caller's credentials.

    ecs-autopsy diagnose --cluster C --task T        one task (ARN or id)
    ecs-autopsy diagnose --cluster C --service S     the service's most recent stopped tasks
    ecs-autopsy diagnose --event EVENT.json          a task or deployment event, enriched from AWS

boto3 honours AWS_ENDPOINT_URL (moto, LocalStack).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.evidence.ecs import cluster_of_task
from shared.inputs import BadInput, load_logs, parse_task_event, read_json
from shared.models.event import DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, split_arn
from shared.pipeline import diagnose_request, diagnose_service, diagnose_task, investigate

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.models.finding import Finding
    from shared.settings import Settings


# -- the CLI --------------------------------------------------------------------------------------
def cli_diagnose(args: argparse.Namespace) -> int:
    """`ecs-autopsy diagnose` without --offline."""
    from shared.render.formats import renderer
    from shared.render.text import use_colour
    from shared.settings import Settings

    if getattr(args, "case", None):
        raise BadInput("--case files are diagnosed offline only: add --offline")
    task = getattr(args, "task", None)
    service = getattr(args, "service", None)
    cluster = getattr(args, "cluster", None)
    if service and not cluster:
        raise BadInput("--service needs --cluster")
    if task and not cluster and not cluster_of_task(task):
        raise BadInput("--task needs --cluster (or give the full task ARN)")
    if cluster and not (task or service):
        raise BadInput("--cluster goes with --task or --service")
    render = renderer(args.format, colour=not getattr(args, "no_color", False) and use_colour())
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
