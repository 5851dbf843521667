"""What changed in the deploy: the revision that last ran healthy, read from ECS, and the failing one.

The healthy revision, in this order:
1. from the service's deployments (ListServiceDeployments): the deployment the task belongs to (the
   newest created before the task) and the newest SUCCESSFUL one before it, the revision the deploy
   started from; DescribeServiceRevisions gives both revisions (task definition, images and their
   resolved digests, load balancers, network, capacity providers, Service Connect) in one call;
2. else (no deployment history readable) the previous PRIMARY deployment in DescribeServices;
3. else the family's previous revision (DescribeTaskDefinition of revision - 1), when the service's
   history could not be read (a history that shows no healthy deployment before the failing one is
   an answer: no revision of this service ran healthy, there is nothing to compare).
Then DescribeTaskDefinition of the healthy revision; the failing one was read by gather (cached).

At most 3 AWS calls for a first-seen task or a deploy finding, whichever path is taken; 0 for the
next task of the same deployment and task definition (cached while the container is warm). A denied,
throttled, timed-out or not-found read is a gap; a service or cluster ECS no longer knows (deleted since) and an
API ECS does not offer here (InvalidParameter, UnsupportedFeature) are not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.aws import error_code
from shared.changes import Comparison, compare, label, service_config
from shared.evidence import ecs
from shared.evidence.errors import NOT_FOUND, classify, describe
from shared.evidence.model import GapKind, GapNote
from shared.models.event import TaskStateChangeEvent, cluster_name, service_name
from shared.warm import on_reset

if TYPE_CHECKING:
    from shared.aws import Clients

MAX_CALLS = 3
CACHE_SIZE = 256
# errors.classify's kinds as gap kinds (a "bug" is an error of ecs-autopsy's own).
_KINDS: dict[str, GapKind] = {"denied": "denied", "throttled": "throttled", "missing": "missing",
                              "unreachable": "unreachable", "timeout": "timeout", "bug": "error"}
_GONE = frozenset({"ServiceNotFoundException", "ClusterNotFoundException"})
SILENT = NOT_FOUND | {"InvalidParameterException", "ClientException", "UnsupportedFeatureException"}
HEALTHY = "SUCCESSFUL"

_cache: OrderedDict[tuple, tuple[Comparison | None, tuple[str, ...]]] = OrderedDict()
_lock = threading.Lock()


@on_reset
def clear_cache() -> None:
    """A cold start: no deploy diff carried over."""
    with _lock:
        _cache.clear()


class _Budget:
    def __init__(self, calls: int = MAX_CALLS) -> None:
        self.left = calls
        self.gaps: list[str] = []
        self.unknown = False  # the last failed read: ECS does not know the thing

    def call(self, what: str, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """fn(...) when the budget allows, else None; a failure is a gap unless ECS does not know the thing."""
        if self.left <= 0:
            return None
        self.left -= 1
        self.unknown = False
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # every failed read becomes a gap (or nothing), never an exception
            code = error_code(exc)
            self.unknown = code in SILENT
            # A service ECS no longer knows (deleted since) has no deploy to compare, and an API ECS does not
            # offer here stays silent; any other failure, another not-found included, is a gap.
            if code not in _GONE and (code in NOT_FOUND or not self.unknown):
                kind = _KINDS.get(classify(exc), "error")
                self.gaps.append(GapNote(describe(what, action, exc) + " What changed in the deploy is not shown.",
                                         kind))
            return None


def read(event: TaskStateChangeEvent, clients: Clients, region: str | None = None) -> tuple[Comparison | None, list[str]]:
    """(the comparison of the healthy and the failing revision, or None; gaps) for a task of a service."""
    d = event.detail
    service = service_name(d.group)
    after_arn = d.task_definition_arn
    if not service or not d.cluster_arn or not after_arn:
        return None, []
    key = (event.account, region, d.cluster_arn, service, d.started_by, after_arn)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit[0], list(hit[1])
    comp, gaps = _read(event, clients("ecs", region), service, after_arn)
    with _lock:
        _cache[key] = (comp, tuple(gaps))
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return comp, gaps


def _read(event: TaskStateChangeEvent, client: Any, service: str, after_arn: str) -> tuple[Comparison | None, list[str]]:
    d = event.detail
    cluster = d.cluster_arn or ""
    budget = _Budget()
    # The failing revision's snapshot: gather read its task definition (cached); a cold read counts.
    after = _snapshot(budget, client, after_arn)
    if after is None:
        return None, budget.gaps
    kw = {"cluster": cluster_name(cluster) or cluster, "service": service}
    when = d.created_at or d.started_at or d.stopped_at or event.time

    listed = budget.call(f"Deployments of service {service}", "ecs:ListServiceDeployments",
                         client.list_service_deployments, cluster=cluster, service=service, maxResults=20)
    if listed is not None:
        briefs = listed.get("serviceDeployments") or []
        comp = _from_deployments(budget, client, briefs, after, when, **kw)
        if comp is not None or briefs:
            # Read, or the history shows no deployment of this service that ran healthy: a revision of the
            # family that never ran in this service would not say what changed.
            return comp, budget.gaps
    elif budget.unknown:
        return None, budget.gaps  # no such service (any more): no deploy to compare
    else:
        comp = _from_service(budget, client, cluster, after, **kw)
        if comp is not None:
            return comp, budget.gaps
    return _previous_revision(budget, client, after, **kw), budget.gaps


def _snapshot(budget: _Budget, client: Any, arn: str) -> dict | None:
    cached = ecs.cached_snapshot(arn)
    if cached is not None:
        return cached
    return budget.call(f"Task definition {arn.rsplit('/', 1)[-1]}", "ecs:DescribeTaskDefinition",
                       ecs.fetch_snapshot, client, arn)


def _ts(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
    return float(value or 0)


def _from_deployments(budget: _Budget, client: Any, briefs: list[dict], after: dict, when: Any, *, cluster: str,
                      service: str) -> Comparison | None:
    briefs = sorted(briefs, key=lambda b: _ts(b.get("createdAt")), reverse=True)
    if not briefs:
        return None
    cut = _ts(when) if when else None
    # The task's deployment: the newest created before the task (the newest of all if clocks disagree).
    mine = next((b for b in briefs if cut is None or _ts(b.get("createdAt")) <= cut + 1), briefs[0])
    older = briefs[briefs.index(mine) + 1:]
    status = mine.get("status")
    if status == HEALTHY:  # the task's own deployment completed: its revision ran healthy, nothing changed
        return compare(after, after, basis="service-deployment", cluster=cluster, service=service,
                       deployment_status=status)
    healthy = next((b for b in older if b.get("status") == HEALTHY), None)
    if healthy is None:
        return None
    arns = list(dict.fromkeys([healthy["targetServiceRevisionArn"], mine["targetServiceRevisionArn"]]))
    got = budget.call(f"Service revisions of {service}", "ecs:DescribeServiceRevisions",
                      client.describe_service_revisions, serviceRevisionArns=arns)
    if got is None:
        return None
    by_arn = {r.get("serviceRevisionArn"): r for r in got.get("serviceRevisions") or []}
    rev_before, rev_after = by_arn.get(arns[0]), by_arn.get(arns[-1])
    if rev_before is None or not rev_before.get("taskDefinition"):
        return None
    before = _snapshot(budget, client, rev_before["taskDefinition"])
    if before is None:
        return None
    rolled = status.startswith("ROLLBACK") if status else False
    return compare(before, after, service_config(rev_before), service_config(rev_after), basis="service-deployment",
                   cluster=cluster, service=service, deployment_status=status,
                   rolled_back_to=label(before) if rolled else None)


def _from_service(budget: _Budget, client: Any, cluster_arn: str, after: dict, *, cluster: str,
                  service: str) -> Comparison | None:
    got = budget.call(f"Service {service}", "ecs:DescribeServices", client.describe_services,
                      cluster=cluster_arn, services=[service])
    services = (got or {}).get("services") or []
    if not services:
        return None
    svc = services[0]
    deployments = svc.get("deployments") or []
    failing = next((x for x in deployments if x.get("taskDefinition") == after.get("arn")), None)
    previous = next((x for x in deployments if x.get("status") in ("ACTIVE", "PRIMARY")
                     and x.get("taskDefinition") and x.get("taskDefinition") != after.get("arn")), None)
    if previous is None:
        return None
    before = _snapshot(budget, client, previous["taskDefinition"])
    if before is None:
        return None
    return compare(before, after, service_config(previous), service_config(failing),
                   basis="previous-deployment", cluster=cluster, service=service)


def _previous_revision(budget: _Budget, client: Any, after: dict, *, cluster: str, service: str) -> Comparison | None:
    family, revision = after.get("family"), after.get("revision")
    if not family or not isinstance(revision, int) or revision <= 1:
        return None
    before = _snapshot(budget, client, f"{family}:{revision - 1}")
    if before is None:
        return None
    return compare(before, after, basis="previous-revision", cluster=cluster, service=service)
