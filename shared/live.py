"""The live CLI: the same pipeline as the Lambda functions (shared.pipeline), with the caller's credentials.

    ecs-autopsy diagnose --cluster C --task T        one task (ARN or id)
    ecs-autopsy diagnose --cluster C --service S     the service's most recent stopped tasks
    ecs-autopsy diagnose --event EVENT.json          a task or deployment event, enriched from AWS

boto3 honours AWS_ENDPOINT_URL (moto, LocalStack). Reads go to the Region the task's ARN or the
event's `region` names; --region, AWS_REGION or the profile's Region are only the fallback, and none
is needed when the input names one. Without credentials nothing starts (exit 2); when not one read of
a task event succeeds, the finding from the event alone is printed and the exit status is 3
(NoEvidence), so a script cannot take it for a diagnosis.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.evidence.ecs import cluster_of_task
from shared.inputs import BadInput, display, load_logs, parse_task_event, pasted_logs, read_json
from shared.models.event import DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, split_arn
from shared.pipeline import diagnose_request, diagnose_service, diagnose_task, investigate

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.models.finding import Finding
    from shared.settings import Settings


NO_EVIDENCE_EXIT = 3


class NoEvidence(Exception):
    """A live diagnosis read nothing from AWS: every read failed (the gaps say why)."""


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
    event_obj = read_json(args.event) if getattr(args, "event", None) else None
    logs = load_logs(args.logs) if getattr(args, "logs", None) else None
    region = getattr(args, "region", None) or (split_arn(task)[0] if task else _event_region(event_obj))
    clients = _clients(region)
    answered = _count_answers(clients)

    if task:
        pasted = None if logs is None else (lambda event: pasted_logs(event, logs))
        findings = [diagnose_task(clients, cluster, task, settings, logs=pasted)]
    elif service and cluster:  # checked above: --service needs --cluster
        if logs is not None:
            raise BadInput("--logs goes with --event or --task")
        findings = diagnose_service(clients, cluster, service, settings)
    else:
        try:
            findings = _event_findings(display(args.event), event_obj, clients, settings, logs, answered)
        except NoEvidence as exc:
            finding = exc.args[1]
            _emit([finding], render, args.format)
            print(f"ecs-autopsy: error: {exc.args[0]}", file=sys.stderr)
            return NO_EVIDENCE_EXIT
    _emit(findings, render, args.format)
    return 0


def _event_findings(name: str, obj: Any, clients: Clients, settings: Settings, logs: Any,
                    answered: Callable[[], int] = lambda: 1) -> list[Finding]:
    if isinstance(obj, dict) and (obj.get("detail-type") or obj.get("detailType")) in (DEPLOYMENT_STATE_CHANGE,
                                                                                      SERVICE_ACTION):
        return diagnose_request(obj, clients, settings)
    try:
        event = parse_task_event(obj)
    except BadInput as exc:
        raise BadInput(f"{name}: {exc}") from None
    ev, finding = investigate(event, clients, settings, logs=None if logs is None else pasted_logs(event, logs))
    if logs is None and clients.total_calls and not answered():
        failed = [str(g) for g in ev.gaps if getattr(g, "kind", None) not in ("skipped", "borrowed")]
        why = failed[0].rstrip(".") if failed else f"{clients.total_calls} calls, none answered"
        raise NoEvidence(f"no evidence could be read from AWS in {event.region or clients.region} ({why}); the "
                         "finding above is from the event alone. Check the credentials and the Region, or add "
                         "--offline to diagnose from the files alone.", finding)
    return [finding]


def _count_answers(clients: Clients) -> Callable[[], int]:
    """How many AWS calls of `clients` got a successful answer (counted by a botocore hook on its session,
    which every client built from it inherits)."""
    answers = [0]

    def after_call(http_response: Any = None, **_: Any) -> None:
        if http_response is not None and getattr(http_response, "status_code", 500) < 300:
            answers[0] += 1

    clients.session.events.register("after-call", after_call)
    return lambda: answers[0]


def _event_region(obj: Any) -> str | None:
    """The Region an event (or DescribeTasks output, or task) names: its `region`, else its task's ARN."""
    if isinstance(obj, list):
        obj = obj[0] if obj and isinstance(obj[0], dict) else None
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("region"), str) and obj["region"]:
        return obj["region"]
    tasks = obj.get("tasks")
    task = tasks[0] if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict) else obj
    detail = obj.get("detail") if isinstance(obj.get("detail"), dict) else task
    arn = detail.get("taskArn") if isinstance(detail, dict) else None
    if isinstance(arn, str) and arn.count(":") >= 5:
        return split_arn(arn)[0] or None
    return None


def _clients(region: str | None) -> Clients:
    from shared.aws import Clients, default_region

    region = region or default_region() or _configured_region()
    if not region:
        raise BadInput("no AWS region: pass --region, set AWS_REGION, or give the full task ARN")
    clients = Clients(region)
    if clients.session.get_credentials() is None:
        raise BadInput("no AWS credentials found (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY): configure them, or add --offline to diagnose from files alone")
    return clients


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
