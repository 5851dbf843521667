"""Deploy-level findings: one message for a failed deployment of many tasks.

"ECS Deployment State Change" SERVICE_DEPLOYMENT_FAILED and "ECS Service Action"
SERVICE_TASK_START_IMPAIRED name a service (and, for the first, the deployment). The service's
recently stopped tasks of that deployment are diagnosed one by one and `deploy_finding` folds
their findings into ONE finding with scope="deployment":

    deploy ecs-svc/123 of orders-api failed: 12 tasks stopped, root cause missing-env-var DATABASE_URL in 12/12

`deploy_finding` is pure; `shared.pipeline.diagnose_deployment` reads AWS and calls it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.models.event import DeploymentEvent, cluster_name, split_arn
from shared.models.finding import Changes, Check, DeploymentSummary, EvidenceGap, Finding, TaskSummary
from shared.models.parse import parse_deploy_event as parse_deploy_event  # re-exported
from shared.patterns import by_id, fallback
from shared.redact import redact

DEPLOYMENT_FAILED = "SERVICE_DEPLOYMENT_FAILED"
TASK_START_IMPAIRED = "SERVICE_TASK_START_IMPAIRED"
DEPLOY_EVENTS = frozenset({DEPLOYMENT_FAILED, TASK_START_IMPAIRED})
MAX_TASKS = 20  # stopped tasks diagnosed per deployment (each costs one log read)
MAX_GAPS = 10
NO_TASKS_GAP = ("No stopped task of the service was found: ECS keeps stopped tasks for about an hour, and a "
                "deployment whose tasks never got an ARN leaves none.")

# Gaps of kind "borrowed" in a live diagnosis: a crash-looping task whose logs gather() borrowed from a
# sibling (storm collapse). One per task, each with its own count, so the deploy-level finding states
# them once, counted.


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
    """The distinguishing fact of a finding's root cause, as text (e.g. "DATABASE_URL"): the first of its
    pattern's declared key facts that the finding has."""
    for name in by_id(finding.pattern).key_facts:
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
    borrowed = sum(1 for f in findings if any(g.kind == "borrowed" for g in f.evidence_gaps))
    collapsed = ([f"Logs of {borrowed} of the {len(findings)} diagnosed tasks were not read: they stopped the same "
                  "way as another task of the service moments before, whose logs were used (a crash loop does not "
                  "become a storm of CloudWatch Logs reads)."] if borrowed else [])
    kinds: dict[str, str] = {}  # gap text -> kind, in order, each once
    for text in extra_gaps:
        kinds.setdefault(text, getattr(text, "kind", "missing"))
    for text in collapsed:
        kinds.setdefault(text, "borrowed")
    for f in findings:
        for g in f.evidence_gaps:
            if g.kind != "borrowed":
                kinds.setdefault(g.text, g.kind)
    gaps = list(kinds)[:MAX_GAPS]
    evidence_gaps = [EvidenceGap(kind=kinds[g], text=g) for g in gaps]
    changes = next((f.changes for f in findings if f.changes is not None), None)
    summary = DeploymentSummary(
        cluster=cluster_name(t.cluster) or t.cluster, service=t.service or svc, deployment_id=dep_id,
        service_arn=t.service_arn, event_name=t.event_name, reason=redact(t.reason) if t.reason else None,
        tasks_stopped=stopped,
        tasks_diagnosed=diagnosed, patterns=patterns, task_arns=[f.task.task_arn for f in findings],
        **rollback(changes.deployment_status if changes else None, changes.rolled_back_to if changes else None),
    )
    if not findings:
        return _empty(event, t, what, summary_head, summary,
                      evidence_gaps or [EvidenceGap(kind="missing", text=NO_TASKS_GAP)], dep_id)

    verdicts = {f.pattern: f.verdict for f in findings}
    ranked = sorted(causes.items(), key=lambda kv: (verdicts[kv[0][0]] == "failure", kv[1]), reverse=True)
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
                    ok=verdicts[pattern] == "expected"), *_deploy_checks(summary, rep.changes), *rep.checks]
    facts = {**rep.facts, "tasks_with_cause": count, "tasks_diagnosed": diagnosed, "share": share}
    return rep.model_copy(update={
        "title": title,
        "summary": body,
        "facts": facts,
        "also_matched": list(dict.fromkeys(p for p in patterns if p != pattern)),
        "gaps": gaps,
        "evidence_gaps": evidence_gaps,
        "checks": checks,
        "fingerprint": _fingerprint(t, dep_id, pattern, key),
        "scope": "deployment",
        "deployment": summary,
    })


def rollback(status: str | None, rolled_back_to: str | None) -> dict[str, Any]:
    """The rollback fields of the deployment summary, from the service deployment's status."""
    if not status:
        return {}
    rolled: bool | None = status.startswith("ROLLBACK") or None
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
        succeeded = summary.rollback_succeeded
        state = ("still in progress" if succeeded is None else "it succeeded" if succeeded
                 else "the rollback FAILED")
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
           evidence_gaps: list[EvidenceGap], dep_id: str | None) -> Finding:
    task = TaskSummary(account=t.account, region=t.region, cluster=cluster_name(t.cluster) or t.cluster,
                       cluster_arn=t.cluster if t.cluster and t.cluster.startswith("arn:") else None,
                       service=t.service, deployment_id=dep_id)
    return Finding(
        pattern=fallback().id, verdict=fallback().verdict, severity=fallback().severity, confidence=0.0,
        title=f"{what}: no stopped task left to diagnose",
        summary=f"{head} No stopped task of this deployment could be read, so the root cause is unknown.",
        remediation=[f"Look at the service's events: `aws ecs describe-services --cluster {summary.cluster} "
                     f"--services {summary.service}` (the newest events name the failure), and at the "
                     "deployment's stopped tasks in the console while ECS still lists them."],
        task=task, gaps=[g.text for g in evidence_gaps], evidence_gaps=evidence_gaps,
        fingerprint=_fingerprint(t, dep_id, fallback().id, None),
        checks=[Check(name="Stopped tasks of the deployment", result="none found", ok=None)],
        scope="deployment", deployment=summary,
    )


def _fingerprint(t: DeployTarget, dep_id: str | None, pattern: str, key: str | None) -> str:
    raw = f"deployment|{t.account}|{t.region}|{cluster_name(t.cluster) or t.cluster}|{t.service}|{dep_id}|{pattern}|{key}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _common_started_by(findings: Sequence[Finding]) -> str | None:
    ids = Counter(f.task.deployment_id for f in findings if f.task.deployment_id)
    return ids.most_common(1)[0][0] if ids else None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
