"""The one pipeline: event -> gather -> diagnose -> (more evidence) -> diagnose -> Finding.

Every live entry point calls it: the task-stopped, deploy-failed and manual functions, the live CLI
and the demo. (Offline, the CLI builds Evidence from files in shared.inputs and calls the engine: there
is nothing to gather.) Evidence code only reads; the engine only decides; what to read in the second
phase is asked of the first diagnosis' pattern (`Pattern.wants`), so no list of pattern ids lives here.

    investigate(event, clients)                 one stopped task, live      -> (Evidence, Finding)
    diagnose_deployment(deploy_event, clients)  a failed deployment         -> Finding (scope "deployment")
    diagnose_request(payload, clients)          the manual function's body  -> [Finding]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.changes import relate
from shared.engine import CONFIDENT, diagnose
from shared.evidence.gather import Gatherer
from shared.evidence.model import Evidence, Need, gap_kind
from shared.models.event import (
    DEPLOYMENT_STATE_CHANGE,
    SERVICE_ACTION,
    TASK_STATE_CHANGE,
    DeploymentEvent,
    TaskStateChangeEvent,
    cluster_name,
    split_arn,
)
from shared.models.finding import EvidenceGap, Finding
from shared.models.parse import BadInput, parse_deploy_event, parse_task_event
from shared.patterns import by_id

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.settings import Settings

SERVICE_TASKS = 5  # a {cluster, service} request: how many of the most recent stopped tasks are diagnosed
EXPIRED_HINT = "ECS keeps stopped tasks for about an hour"


def plan(finding: Finding) -> frozenset[Need]:
    """The second-phase reads a first diagnosis asks for: its pattern's declaration, narrowed by its facts."""
    return by_id(finding.pattern).wants(finding.facts)


def investigate(event: TaskStateChangeEvent, clients: Clients, settings: Settings | None = None, *,
                logs: Any = None, log_lines: int | None = None, fresh: bool = False,
                collapse: bool = False) -> tuple[Evidence, Finding]:
    """Gather phase 1, diagnose; when the diagnosis asks for more, gather it and diagnose again."""
    gatherer = Gatherer(clients, settings, log_lines, collapse)
    ev = gatherer.first(event, logs, fresh)
    finding = diagnose(ev)
    culprit = finding.facts.get("container") or ev.primary
    if culprit is not None and tail_named_no_cause(finding) and gatherer.can_read_deeper(culprit):
        # The tail holds no incident (a goroutine or thread dump, a long shutdown after the error): read
        # further back, once, and diagnose again.
        ev = gatherer.deeper(ev, culprit)
        finding = diagnose(ev)
    need = plan(finding)
    if need and not gatherer.blocked:
        ev = gatherer.more(ev, need, finding.facts)
        finding = diagnose(ev)
    return ev, what_changed(gatherer, ev, finding)


def what_changed(gatherer: Gatherer, ev: Evidence, finding: Finding) -> Finding:
    """The finding with what changed in the deploy, and whether that explains the cause (shared.changes).
    A stop that was meant to happen needs no diff."""
    if finding.verdict == "expected":
        return finding
    comparison, gaps = gatherer.comparison(ev)
    related = relate(finding, comparison)
    new = [g for g in dict.fromkeys(gaps) if g not in related.gaps]
    if not new:
        return related
    return related.model_copy(update={
        "gaps": [*related.gaps, *new],
        "evidence_gaps": [*related.evidence_gaps, *(EvidenceGap(kind=gap_kind(g), text=g) for g in new)]})


def tail_named_no_cause(finding: Finding) -> bool:
    """No cause, or only the catch-all's weak guess: older log lines may hold the incident."""
    pattern = by_id(finding.pattern)
    return finding.verdict == "undetermined" or (pattern.generic and finding.confidence < CONFIDENT)


# -- deployments ----------------------------------------------------------------------------------
def diagnose_deployment(event: DeploymentEvent, clients: Clients, settings: Settings | None = None, *,
                        limit: int | None = None) -> Finding:
    """Find the deployment's stopped tasks, diagnose each, return ONE deploy-level finding."""
    from shared.deploy import MAX_TASKS, deploy_finding, target
    from shared.evidence import ecs
    from shared.evidence.errors import guarded

    t = target(event)
    gaps: list[str] = []
    member, gap = guarded(f"Member account {t.account}", "sts:AssumeRole", clients.for_account, t.account, t.region)
    if gap or member is None or not t.service or not t.cluster:
        gaps.append(gap or "The event names no service or cluster.")
        return deploy_finding(event, [], tasks_stopped=0, extra_gaps=gaps)
    # ListTasks(STOPPED, serviceName) then DescribeTasks; only the tasks the deployment started when its id is
    # known (ECS starts a service's tasks with startedBy = the deployment id).
    got, gap = guarded(f"Stopped tasks of {t.service}", "ecs:ListTasks", ecs.recent_stopped_tasks,
                       member("ecs", t.region), t.cluster, t.service, started_by=t.deployment_id,
                       limit=limit or MAX_TASKS)
    if gap:
        gaps.append(gap)
    tasks, total = got or ([], 0)
    findings = [investigate(ecs.task_event(task), member, settings, fresh=True)[1] for task in tasks]
    if tasks and total > len(tasks):
        gaps.append(f"{total} tasks stopped; the {len(tasks)} most recent were diagnosed.")
    return deploy_finding(event, findings, tasks_stopped=total, extra_gaps=gaps)


# -- requests by hand (the manual function, the live CLI) ----------------------------------------
def diagnose_request(payload: Any, clients: Clients, settings: Settings | None = None) -> list[Finding]:
    """Findings for a manual request: {"cluster", "task"}, {"cluster", "service"} or an event.

    Raises BadInput for a request that names nothing diagnosable (no such task, no stopped task)."""
    if not isinstance(payload, dict):
        raise BadInput(f"expected a JSON object, got {type(payload).__name__}")
    detail_type = payload.get("detail-type") or payload.get("detailType")
    if detail_type in (DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION):
        from shared.deploy import DEPLOY_EVENTS

        event = parse_deploy_event(payload)
        if event.detail.event_name not in DEPLOY_EVENTS:
            raise BadInput(f"{event.detail.event_name} is not a failure: only {', '.join(sorted(DEPLOY_EVENTS))} "
                           "events are diagnosed")
        return [diagnose_deployment(event, clients, settings)]
    if detail_type == TASK_STATE_CHANGE or "taskArn" in payload or "tasks" in payload:
        return [investigate(parse_task_event(payload), clients, settings)[1]]
    cluster = payload.get("cluster")
    if payload.get("task") or payload.get("service"):
        clients = _member_clients(clients, payload)  # hub: the account the request is about
    if payload.get("task"):
        return [diagnose_task(clients, cluster, str(payload["task"]), settings)]
    if payload.get("service"):
        if not cluster:
            raise BadInput("\"service\" needs \"cluster\"")
        limit = int(payload.get("limit") or SERVICE_TASKS)
        return diagnose_service(clients, str(cluster), str(payload["service"]), settings, limit=limit)
    raise BadInput("expected {\"cluster\", \"task\"}, {\"cluster\", \"service\"} or an ECS event")


def _member_clients(clients: Clients, payload: dict) -> Clients:
    """Hub mode: a request about another account (its task/cluster ARN, or "account") is served with
    that account's reader role (shared.aws.clients_for_request)."""
    from shared.aws import clients_for_request
    from shared.evidence.errors import describe

    try:
        return clients_for_request(clients, payload)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    except Exception as exc:
        account = payload.get("account") or "of the request"
        raise BadInput(describe(f"Member account {account}", "sts:AssumeRole", exc)) from None


def diagnose_task(clients: Clients, cluster: str | None, task: str, settings: Settings | None = None, *,
                  logs: Any = None) -> Finding:
    from shared.evidence import ecs
    from shared.evidence.errors import Gap, describe

    cluster = cluster or ecs.cluster_of_task(task)
    try:
        obj = ecs.fetch_task(clients("ecs", split_arn(task)[0]), cluster, task)
    except Gap as exc:
        raise BadInput(str(exc)) from None
    except Exception as exc:
        raise BadInput(describe(f"Task {task}", "ecs:DescribeTasks", exc)) from None
    event = ecs.task_event(obj)
    if callable(logs):  # log lines a person pasted, read once the task's containers are known
        logs = logs(event)
    return investigate(event, clients, settings, logs=logs, fresh=True)[1]


def diagnose_service(clients: Clients, cluster: str, service: str, settings: Settings | None = None, *,
                     limit: int = SERVICE_TASKS) -> list[Finding]:
    """Findings of the service's most recent stopped tasks, newest first, one per distinct root cause."""
    from shared.evidence import ecs
    from shared.evidence.errors import describe

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


def handle(payload: Any, clients: Clients | None = None, settings: Settings | None = None) -> list[dict]:
    """JSON-ready findings for a manual request (the `manual` function's body)."""
    import json

    from shared.aws import default_clients

    clients = clients or default_clients()
    return [json.loads(f.model_dump_json(by_alias=True)) for f in diagnose_request(payload, clients, settings)]
