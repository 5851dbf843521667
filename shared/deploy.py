"""Deploy-level findings: one message for a failed deployment of many tasks.

"ECS Deployment State Change" SERVICE_DEPLOYMENT_FAILED and "ECS Service Action"
SERVICE_TASK_START_IMPAIRED name a service (and, for the first, the deployment). The service's
recently stopped tasks of that deployment are diagnosed one by one and `deploy_finding` folds
their findings into ONE finding with scope="deployment":

    deploy ecs-svc/123 of orders-api failed: 12 tasks stopped, root cause missing-env-var DATABASE_URL in 12/12

`deploy_finding` is pure; `diagnose_deployment` reads AWS through the evidence gatherers.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.models.event import DeploymentEvent, cluster_name, split_arn
from shared.models.finding import Changes, Check, DeploymentSummary, Finding, TaskSummary
from shared.redact import redact

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.settings import Settings

DEPLOYMENT_FAILED = "SERVICE_DEPLOYMENT_FAILED"
TASK_START_IMPAIRED = "SERVICE_TASK_START_IMPAIRED"
DEPLOY_EVENTS = frozenset({DEPLOYMENT_FAILED, TASK_START_IMPAIRED})
MAX_TASKS = 20  # stopped tasks diagnosed per deployment (each costs one log read)
MAX_GAPS = 10
NO_TASKS_GAP = ("No stopped task of the service was found: ECS keeps stopped tasks for about an hour, and a "
                "deployment whose tasks never got an ARN leaves none.")

# The fact that tells one root cause from another of the same pattern (missing-env-var DATABASE_URL).
KEY_FACTS: dict[str, tuple[str, ...]] = {
    "missing-env-var": ("variable", "variables"),
    "missing-dependency": ("module",),
    "port-in-use": ("port",),
    "database-connection-failed": ("host", "cause"),
    "iam-access-denied": ("action",),
    "network-egress-blocked": ("host",),
    "out-of-memory": ("container",),
    "image-pull-failed": ("image", "cause"),
    "secrets-retrieval-failed": ("secret", "cause"),
    "log-driver-failed": ("log_group", "cause"),
    "container-start-failed": ("cause",),
    "health-check-failed": ("cause",),
    "container-health-check-failed": ("container",),
    "network-setup-failed": ("subnet",),
    "insufficient-capacity": ("resource",),
    "volume-mount-failed": ("file_system", "volume", "cause"),
    "platform-error": ("error_code",),
    "disk-full": ("path",),
    "app-crash": ("exception",),
    "expected-stop": ("reason",),
}
_NOT_A_CAUSE = ("expected-stop", "unknown")
# The gap gather() gives a crash-looping task whose logs it borrowed from a sibling (storm collapse): one
# per task, each with its own count, so the deploy-level finding states them once, counted.
BORROWED_LOGS = "Logs of this task were not read:"


@dataclass(frozen=True)
class DeployTarget:
    account: str | None
    region: str | None
    cluster: str | None  # ARN or name
    service: str | None
    service_arn: str | None
    deployment_id: str | None
    event_name: str
    reason: str | None


def target(event: DeploymentEvent) -> DeployTarget:
    """Cluster, service and deployment of a deploy event (service from `resources`)."""
    d = event.detail
    service_arn = next((r for r in event.resources if ":service/" in r), None)
    cluster = d.cluster_arn
    service = None
    if service_arn:
        parts = (split_arn(service_arn)[2] or "").split("/")
        if len(parts) >= 3:  # service/cluster/name (long ARN format)
            cluster = cluster or parts[1]
            service = parts[2]
        elif len(parts) == 2:  # service/name (old format: the cluster is only in the detail)
            service = parts[1]
    return DeployTarget(
        account=event.account, region=event.region or split_arn(service_arn)[0], cluster=cluster, service=service,
        service_arn=service_arn, deployment_id=d.deployment_id, event_name=d.event_name, reason=d.reason,
    )


def key_fact(finding: Finding) -> str | None:
    """The distinguishing fact of a finding's root cause, as text (e.g. "DATABASE_URL")."""
    for name in KEY_FACTS.get(finding.pattern, ()):
        value = finding.facts.get(name)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        text = str(value)
        return text if len(text) <= 120 else text[:119] + "…"
    return None


def _cause_label(pattern: str, key: str | None) -> str:
    return f"{pattern} {key}" if key else pattern


def deploy_finding(event: DeploymentEvent, findings: Sequence[Finding], *, tasks_stopped: int | None = None,
                   deployment_id: str | None = None, extra_gaps: Sequence[str] = ()) -> Finding:
    """ONE finding for a failed deployment from the findings of its stopped tasks (newest first)."""
    t = target(event)
    dep_id = t.deployment_id or deployment_id or _common_started_by(findings)
    svc = t.service or next((f.task.service for f in findings if f.task.service), None) or "the service"
    stopped = max(tasks_stopped if tasks_stopped is not None else len(findings), len(findings))
    diagnosed = len(findings)
    causes = Counter((f.pattern, key_fact(f)) for f in findings)
    patterns = dict(Counter(f.pattern for f in findings).most_common())
    if t.event_name == TASK_START_IMPAIRED:
        what = f"{svc} cannot start tasks" + (f" (deploy {dep_id})" if dep_id else "")
    else:
        what = f"deploy {dep_id} of {svc} failed" if dep_id else f"deploy of {svc} failed"
    summary_head = (f"{_plural(stopped, 'task')} of {svc} stopped"
                    + (f" during deployment {dep_id}" if dep_id else "")
                    + f" ({t.event_name}" + (f": {redact(t.reason)}" if t.reason else "") + ").")
    borrowed = sum(1 for f in findings if any(g.startswith(BORROWED_LOGS) for g in f.gaps))
    collapsed = ([f"Logs of {borrowed} of the {len(findings)} diagnosed tasks were not read: they stopped the same "
                  "way as another task of the service moments before, whose logs were used (a crash loop does not "
                  "become a storm of CloudWatch Logs reads)."] if borrowed else [])
    own = (g for f in findings for g in f.gaps if not g.startswith(BORROWED_LOGS))
    gaps = list(dict.fromkeys([*extra_gaps, *collapsed, *own]))[:MAX_GAPS]
    changes = next((f.changes for f in findings if f.changes is not None), None)
    summary = DeploymentSummary(
        cluster=cluster_name(t.cluster) or t.cluster, service=t.service or svc, deployment_id=dep_id,
        event_name=t.event_name, reason=redact(t.reason) if t.reason else None, tasks_stopped=stopped,
        tasks_diagnosed=diagnosed, patterns=patterns, task_arns=[f.task.task_arn for f in findings],
        **rollback(changes.deployment_status if changes else None, changes.rolled_back_to if changes else None),
    )
    if not findings:
        return _empty(event, t, what, summary_head, summary, gaps or [NO_TASKS_GAP], dep_id)

    ranked = sorted(causes.items(), key=lambda kv: (kv[0][0] not in _NOT_A_CAUSE, kv[1], _severity(kv[0][0])),
                    reverse=True)
    (pattern, key), count = ranked[0]
    rep = next(f for f in findings if f.pattern == pattern and key_fact(f) == key)
    share = f"{count}/{diagnosed}"
    label = _cause_label(pattern, key)
    title = f"{what}: {_plural(stopped, 'task')} stopped, root cause {label} in {share}"
    others = [f"{_cause_label(p, k)} in {n}" for (p, k), n in ranked[1:]]
    verdict = _verdict(summary, rep.changes)
    body = (f"{summary_head} {share} diagnosed tasks stopped for the same root cause: {rep.summary}"
            + (f" Other causes: {'; '.join(others)}." if others else "") + (f" {verdict}" if verdict else ""))
    checks = [Check(name="Stopped tasks of the deployment",
                    result=(f"{stopped} stopped, {diagnosed} diagnosed: "
                            + ", ".join(f"{p} {n}" for p, n in patterns.items())),
                    ok=pattern == "expected-stop"), *_deploy_checks(summary, rep.changes), *rep.checks]
    facts = {**rep.facts, "tasks_with_cause": count, "tasks_diagnosed": diagnosed, "share": share}
    return rep.model_copy(update={
        "title": title,
        "summary": body,
        "facts": facts,
        "also_matched": list(dict.fromkeys(p for p in patterns if p != pattern)),
        "gaps": gaps,
        "checks": checks,
        "fingerprint": _fingerprint(t, dep_id, pattern, key),
        "scope": "deployment",
        "deployment": summary,
    })


def rollback(status: str | None, rolled_back_to: str | None) -> dict[str, Any]:
    """The rollback fields of the deployment summary, from the service deployment's status."""
    if not status:
        return {}
    rolled = status.startswith("ROLLBACK") or None
    succeeded = {"ROLLBACK_SUCCESSFUL": True, "ROLLBACK_FAILED": False}.get(status)
    if status in ("STOPPED", "SUCCESSFUL"):
        rolled = False
    return {"status": status, "rolled_back": rolled, "rollback_succeeded": succeeded,
            "rolled_back_to": rolled_back_to if rolled else None}


def _verdict(summary: DeploymentSummary, changes: Changes | None) -> str:
    """The deploy verdict: the rollback, and what changed."""
    parts = []
    if summary.rolled_back:
        to = f" to {summary.rolled_back_to}" if summary.rolled_back_to else ""
        state = {True: "it succeeded", False: "the rollback FAILED"}.get(summary.rollback_succeeded,  # type: ignore[arg-type]
                                                                         "still in progress")
        parts.append(f"The circuit breaker rolled the deployment back{to}: {state}.")
    elif summary.status == "STOPPED":
        parts.append("The deployment was stopped without a rollback.")
    if changes is not None:
        parts.append(f"What changed ({changes.before} -> {changes.after}): {changes.verdict}")
    return " ".join(parts)


def _deploy_checks(summary: DeploymentSummary, changes: Changes | None) -> list[Check]:
    out = []
    if summary.status:
        out.append(Check(name="Circuit breaker and rollback", result=(
            f"{summary.status}" + (f", back to {summary.rolled_back_to}" if summary.rolled_back_to else "")),
            ok=summary.rollback_succeeded))
    if changes is not None:
        out.append(Check(name=f"What changed ({changes.before} -> {changes.after})", result=changes.verdict,
                         ok=not changes.explained))
    return out


def _empty(event: DeploymentEvent, t: DeployTarget, what: str, head: str, summary: DeploymentSummary,
           gaps: list[str], dep_id: str | None) -> Finding:
    task = TaskSummary(account=t.account, region=t.region, cluster=cluster_name(t.cluster) or t.cluster,
                       cluster_arn=t.cluster if t.cluster and t.cluster.startswith("arn:") else None,
                       task_arn=t.service_arn or "", service=t.service, deployment_id=dep_id)
    return Finding(
        pattern="unknown", severity="warning", confidence=0.0,
        title=f"{what}: no stopped task left to diagnose",
        summary=f"{head} No stopped task of this deployment could be read, so the root cause is unknown.",
        remediation=[f"Look at the service's events: `aws ecs describe-services --cluster {summary.cluster} "
                     f"--services {summary.service}` (the newest events name the failure), and at the "
                     "deployment's stopped tasks in the console while ECS still lists them."],
        task=task, gaps=gaps, fingerprint=_fingerprint(t, dep_id, "unknown", None),
        checks=[Check(name="Stopped tasks of the deployment", result="none found", ok=None)],
        scope="deployment", deployment=summary,
    )


def _fingerprint(t: DeployTarget, dep_id: str | None, pattern: str, key: str | None) -> str:
    raw = f"deployment|{t.account}|{t.region}|{cluster_name(t.cluster) or t.cluster}|{t.service}|{dep_id}|{pattern}|{key}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _common_started_by(findings: Sequence[Finding]) -> str | None:
    ids = Counter(f.task.deployment_id for f in findings if f.task.deployment_id)
    return ids.most_common(1)[0][0] if ids else None


def _severity(pattern: str) -> int:
    return {"unknown": 0, "expected-stop": 0}.get(pattern, 1)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- reading AWS ----------------------------------------------------------------------------------
def tasks_for_deployment(clients: Clients, cluster: str, service: str, deployment_id: str | None,
                         limit: int = MAX_TASKS, region: str | None = None) -> tuple[list[dict], int]:
    """(the most recently stopped tasks of the deployment, up to `limit`; how many stopped in all).

    ListTasks(STOPPED, serviceName) then DescribeTasks; only tasks started by the deployment when its
    id is known (ECS starts a service's tasks with startedBy = the deployment id)."""
    from shared.evidence import ecs

    return ecs.recent_stopped_tasks(clients("ecs", region), cluster, service, started_by=deployment_id, limit=limit)


def diagnose_deployment(event: DeploymentEvent, clients: Clients, settings: Settings | None = None, *,
                        limit: int = MAX_TASKS) -> Finding:
    """Find the deployment's stopped tasks, diagnose each, return ONE deploy-level finding."""
    from shared.evidence import ecs
    from shared.evidence.errors import guarded
    from shared.evidence.gather import investigate

    t = target(event)
    gaps: list[str] = []
    member, gap = guarded(f"Member account {t.account}", "sts:AssumeRole", clients.for_account, t.account, t.region)
    if gap or member is None or not t.service or not t.cluster:
        gaps.append(gap or "The event names no service or cluster.")
        return deploy_finding(event, [], tasks_stopped=0, extra_gaps=gaps)
    got, gap = guarded(f"Stopped tasks of {t.service}", "ecs:ListTasks", tasks_for_deployment, member, t.cluster,
                       t.service, t.deployment_id, limit, t.region)
    if gap:
        gaps.append(gap)
    tasks, total = got or ([], 0)
    findings: list[Finding] = []
    for task in tasks:
        event_of_task = ecs.task_event(task)
        _, finding = investigate(event_of_task, member, settings, fresh=True)
        findings.append(finding)
    if tasks and total > len(tasks):
        gaps.append(f"{total} tasks stopped; the {len(tasks)} most recent were diagnosed.")
    return deploy_finding(event, findings, tasks_stopped=total, extra_gaps=gaps)


def parse_deploy_event(obj: Any) -> DeploymentEvent:
    from pydantic import ValidationError

    from shared.inputs import BadInput, describe_validation_error

    try:
        return DeploymentEvent.model_validate(obj)
    except ValidationError as exc:
        raise BadInput(describe_validation_error(exc, "invalid ECS deployment event at ")) from None
