"""gather(): the only code that reads AWS to diagnose a stopped task. Every failed read is a gap.

It reads and never decides: which second-phase reads to make comes from the caller (shared.pipeline,
which asks the first diagnosis' pattern what it `wants`).

The event comes first: an "ECS Task State Change" event already carries the stop code, the stopped
reason, the containers and their exit codes, so DescribeTasks is called only when the event lacks
them. Then, in two phases to keep calls (and quota) down:

1. `Gatherer.first`: the task definition (cached per ARN while warm) and the log tails of the failing
   containers (one GetLogEvents per stream, from the end);
2. `Gatherer.more`: only what was asked for: target groups and target health, an IAM simulation of the
   action a finding names, the network path (routes, endpoints, security groups).

A warm diagnosis of an application crash in a one-container task makes one AWS call: the log tail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shared.evidence import cwlogs, ecs, elbv2, iam, network
from shared.evidence.errors import Gap, guarded
from shared.evidence.model import (
    NEEDS,
    Evidence,
    GapKind,
    GapNote,
    LogSource,
    Need,
    ServiceFacts,
    TaskDefinitionFacts,
)
from shared.logs import LogSet, from_cloudwatch, from_lines
from shared.models.event import TaskStateChangeEvent, service_name, split_arn, task_id
from shared.settings import log_group_allowed
from shared.warm import on_reset

if TYPE_CHECKING:
    from shared.aws import Clients
    from shared.settings import Settings

log = logging.getLogger(__name__)

MAX_LOG_STREAMS = 3  # containers whose logs are read, failing ones first
DEEP_LINES = 10_000  # a deeper read: one GetLogEvents of up to 10,000 events / 1 MB, when the tail named no cause
NOTHING: frozenset[Need] = frozenset()
EVERYTHING: frozenset[Need] = frozenset(NEEDS)


def gather(event: TaskStateChangeEvent, clients: Clients, settings: Settings | None = None, *,
           need: frozenset[Need] = NOTHING, facts: Mapping[str, Any] | None = None, logs: Any = None,
           log_lines: int | None = None, fresh: bool = False, collapse: bool = False) -> Evidence:
    """Evidence about the stopped task: phase 1, then the phase-2 reads in `need` (`facts`: what a
    diagnosis named, e.g. the principal and action of an AccessDenied to simulate). `logs`: log lines
    already at hand (then no log stream is read). `fresh`: the event was just built from DescribeTasks
    (never described again). `collapse`: in a crash loop faster than the log-read budget, borrow a
    same-stop sibling's logs (the task-stopped function; a person asking about a few tasks gets each
    one's own logs)."""
    g = Gatherer(clients, settings, log_lines, collapse)
    ev = g.first(event, logs, fresh)
    return g.more(ev, need, facts or {}) if need else ev


# -------------------------------------------------------------------------------------------------
class Gatherer:
    def __init__(self, clients: Clients, settings: Settings | None, log_lines: int | None,
                 collapse: bool = False) -> None:
        from shared.settings import Settings

        self.settings = settings or Settings()
        self.root = clients
        self._clients: Clients | None = clients  # None once the member account could not be assumed
        self.log_lines = log_lines or self.settings.log_lines
        self.gaps: list[str] = []
        self.collapse = collapse
        self.read: dict[str, tuple[LogSource, list[str]]] = {}  # container -> (stream, lines read)

    def _gap(self, text: str | None, kind: GapKind | None = None) -> None:
        if text and text not in self.gaps:
            self.gaps.append(GapNote(text, kind or getattr(text, "kind", None) or "missing"))

    @property
    def blocked(self) -> bool:
        """Nothing can be read: the member account could not be entered."""
        return self._clients is None

    @property
    def clients(self) -> Clients:
        """The clients of the task's account; read only when not `blocked`."""
        if self._clients is None:
            raise RuntimeError("no clients: the task's account could not be assumed (check `blocked` first)")
        return self._clients

    def first(self, event: TaskStateChangeEvent, logs: Any = None, fresh: bool = False) -> Evidence:
        """Phase 1: the event (described when thin), the task definition and the failing containers' logs."""
        d = event.detail
        region = event.region or split_arn(d.task_arn)[0]
        self.region = region
        member, gap = guarded(f"Member account {event.account}", "sts:AssumeRole", self.root.for_account,
                              event.account, region)
        if gap:
            self._gap(GapNote(gap + " Nothing could be read in that account.", getattr(gap, "kind", "denied")))
            self._clients = None
            return self._evidence(event, None, _logset(event, logs or []), ())
        self._clients = member

        if not fresh and ecs.needs_describe(event):
            event = self._describe(event)
            d = event.detail

        td = self._task_definition(event)
        sources: list[LogSource] = []
        if td is not None:
            sources, unreadable = cwlogs.sources(td, d, region)
            if logs is None:
                # Only the containers whose logs matter: the failing ones.
                failing = Evidence(event=event, logs=from_cloudwatch({}), task_definition=td).failing
                for name in failing:
                    self._gap(unreadable.get(name))
        logset = _logset(event, logs) if logs is not None else self._read_logs(event, td, sources)
        return self._evidence(event, td, logset, tuple(sources))

    # -- phase 1 ---------------------------------------------------------------------------------
    def _describe(self, event: TaskStateChangeEvent) -> TaskStateChangeEvent:
        d = event.detail
        task, gap = guarded(f"Task {task_id(d.task_arn)}", "ecs:DescribeTasks", ecs.fetch_task,
                            self.clients("ecs", self.region), d.cluster_arn, d.task_arn)
        if task is None:  # the read failed: `gap` says why
            self._gap(gap)
            return event
        fresh = ecs.task_event(task)
        return fresh.model_copy(update={"id": event.id, "time": event.time or fresh.time,
                                        "account": event.account or fresh.account,
                                        "region": event.region or fresh.region})

    def _task_definition(self, event: TaskStateChangeEvent) -> TaskDefinitionFacts | None:
        arn = event.detail.task_definition_arn
        if not arn:
            self._gap("The event names no task definition: environment, memory, ports and log configuration "
                      "were not read.")
            return None
        td, gap = guarded(f"Task definition {arn.rsplit('/', 1)[-1]}", "ecs:DescribeTaskDefinition",
                          ecs.fetch_task_definition, self.clients("ecs", self.region), arn)
        self._gap(gap)
        return td

    def _read_logs(self, event: TaskStateChangeEvent, td: TaskDefinitionFacts | None,
                   sources: list[LogSource]) -> Any:
        d = event.detail
        if not sources:
            return _logset(event, [])
        if d.started_at is None and all(c.exit_code is None for c in d.containers) and d.containers:
            # The containers never ran (pull, secrets, ENI, capacity): there is no stream to read.
            return _logset(event, [])
        probe = Evidence(event=event, logs=from_cloudwatch({}), task_definition=td)
        failing = [n for n in probe.failing]
        ran = {c.name for c in d.containers if c.exit_code is not None or d.started_at is not None}
        by_name = {s.container: s for s in sources if s.stream}
        first = [by_name[n] for n in failing if n in by_name and n in ran]
        rest = [s for name, s in by_name.items() if name not in failing and name in ran]
        storm = _storm_key(event) if self.collapse else None
        reused = _STORM.get(storm) if storm is not None else None
        now = time.monotonic()
        sibling = (storm is not None and reused is not None and now - reused[0] < STORM_SECONDS
                   and reused[2] != task_id(d.task_arn))
        if sibling and not LOG_READS.take(now):
            # A crash loop faster than the log-read budget: the same task definition stopped the same
            # way moments ago. Its logs stand for this task's, so a storm of stopped tasks does not
            # become a storm of GetLogEvents (throttled per account). The finding says so.
            assert storm is not None and reused is not None  # `sibling` says both are
            _, cached, source_task, seen = reused
            _STORM[storm] = (reused[0], cached, source_task, seen + 1)
            self._gap(f"Logs of this task were not read: {seen + 1} tasks of the same task definition stopped "
                      f"the same way within {STORM_SECONDS} s (same stop reason and exit codes); the logs of "
                      f"task {source_task} were used.", "borrowed")
            return from_cloudwatch(cached)
        lines: dict[str, list[str]] = {}
        for batch in (first[:MAX_LOG_STREAMS], rest[: max(0, MAX_LOG_STREAMS - len(first))]):
            for source in batch:
                got = self._read_stream(source)
                if got:
                    lines[source.container] = got
            if lines:
                break
        if storm is not None and not sibling:
            LOG_READS.take(now)
        if lines and storm is not None:
            _STORM[storm] = (now, lines, task_id(d.task_arn), 1)
            while len(_STORM) > STORM_ENTRIES:
                _STORM.pop(next(iter(_STORM)))
        self.read = {name: (by_name[name], got) for name, got in lines.items()}
        return from_cloudwatch(lines)

    # -- deeper ----------------------------------------------------------------------------------
    def can_read_deeper(self, container: str | None) -> bool:
        """The tail read of `container` came back full: older lines exist that were not read."""
        got = self.read.get(container or "")
        return got is not None and len(got[1]) >= self.log_lines and self.log_lines < DEEP_LINES

    def deeper(self, ev: Evidence, container: str) -> Evidence:
        """Read further back in `container`'s stream: one GetLogEvents of up to DEEP_LINES events (the API's
        own cap is 10,000 events or 1 MB), the tail included, in place of the tail that was read."""
        source, _ = self.read[container]
        got = self._read_stream(source, DEEP_LINES)
        if not got:
            return replace(ev, gaps=tuple(self.gaps))
        self.read[container] = (source, got)
        logs = from_cloudwatch({name: lines for name, (_, lines) in self.read.items()})
        return replace(ev, logs=logs, gaps=tuple(self.gaps))

    def _read_stream(self, source: LogSource, limit: int | None = None) -> list[str]:
        client = self.clients("logs", source.region or self.region)
        got, gap = guarded(f"Logs of {source.container} ({source.group})", "logs:GetLogEvents", cwlogs.fetch,
                           client, source, limit or self.log_lines)
        if gap:
            prefixes = self.settings.log_group_prefixes
            if ("access denied" in gap and prefixes and source.group
                    and not log_group_allowed(source.group, prefixes)):
                gap += (f" The group is outside the prefixes ecs-autopsy may read ({', '.join(prefixes)}; "
                        "ECS_AUTOPSY_LOG_GROUP_PREFIXES).")
            self._gap(gap)
        return got or []

    def _evidence(self, event: TaskStateChangeEvent, td: TaskDefinitionFacts | None, logs: Any,
                  sources: tuple[LogSource, ...], **extra: Any) -> Evidence:
        return Evidence(event=event, logs=logs, task_definition=td, log_sources=sources,
                        gaps=tuple(self.gaps), offline=False, **extra)

    # -- what changed in the deploy ------------------------------------------------------------------
    def comparison(self, ev: Evidence) -> tuple[Any, list[str]]:
        """(the healthy and the failing revision of the task's service, or None; gaps): a read, for the pipeline
        to relate to its diagnosis (shared.changes.relate)."""
        if self.blocked or ev.task_definition is None or not service_name(ev.detail.group):
            return None, []
        from shared.evidence import changes

        return changes.read(ev.event, self.clients, self.region)

    # -- phase 2 ---------------------------------------------------------------------------------
    def more(self, ev: Evidence, need: frozenset[Need], facts: Mapping[str, Any]) -> Evidence:
        """Phase 2: the reads in `need`, on top of phase 1's evidence."""
        if not need or self.blocked:
            return ev
        d = ev.detail
        svc_name = service_name(d.group)
        cluster = d.cluster_arn
        info: ecs.ServiceInfo | None = None
        if svc_name and cluster and ("target_health" in need or "network" in need):
            info, gap = guarded(f"Service {svc_name}", "ecs:DescribeServices", ecs.fetch_service,
                                self.clients("ecs", self.region), cluster, svc_name)
            self._gap(gap)
        service: ServiceFacts | None = info.facts if info else None

        target_groups: tuple = ()
        vpc_id = None
        if "target_health" in need:
            links = []
            named = elbv2.target_group_in_reason(d.stopped_reason)
            for lb in info.load_balancers if info else ():
                if lb.target_group_arn:
                    links.append(elbv2.TargetGroupLink(lb.target_group_arn, lb.container_name, lb.container_port))
            if named:
                links.sort(key=lambda link: link.arn != named)
                if all(link.arn != named for link in links):
                    links.insert(0, elbv2.TargetGroupLink(named))
            if links:
                read, gap = guarded("Target groups", "elasticloadbalancing:DescribeTargetGroups", elbv2.fetch,
                                    self.clients("elbv2", self.region), links, d.eni_detail("privateIPv4Address"))
                self._gap(gap)
                if read:
                    target_groups, vpc_id = read.target_groups, read.vpc_id
                    for g in read.gaps:
                        self._gap(g)
            elif elbv2.classic_elb_in_reason(d.stopped_reason):
                self._gap("The task is behind a Classic Load Balancer: its health check was not read.")
            else:
                self._gap("No target group found for the task (not in the stop reason, no service load balancer).")

        iam_check = self._iam(ev, facts) if "iam" in need else None

        net = None
        if "network" in need:
            lb_sgs: tuple[str, ...] = ()
            port = None
            if target_groups:
                tg = target_groups[0]
                lb_sgs = tg.load_balancer_security_groups
                port = (int(tg.health_check_port) if tg.health_check_port and tg.health_check_port.isdigit()
                        else tg.container_port or tg.port)
            subnet = d.eni_detail("subnetId")
            net, gaps = network.fetch(self.clients("ec2", self.region), subnet, vpc_id=vpc_id,
                                      security_groups=info.security_groups if info else (),
                                      lb_security_groups=lb_sgs, port=port,
                                      public_ip=info.assign_public_ip if info else None)
            for g in gaps:
                self._gap(g)
        return replace(ev, service=service, target_groups=target_groups, iam=iam_check, network=net,
                       gaps=tuple(self.gaps))

    def _iam(self, ev: Evidence, facts: Mapping[str, Any]) -> Any:
        principal = facts.get("principal")
        action = facts.get("action")
        if not principal or not action:
            return None
        check, gap = guarded(f"IAM simulation of {action} for {principal}", "iam:SimulatePrincipalPolicy",
                             iam.fetch, self.clients("iam"), principal, action, facts.get("resource"),
                             ev.task_definition)
        self._gap(gap)
        return check


class _Bucket:
    """Token bucket: `rate` log reads per second, bursts of `capacity` (per warm container)."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.last = capacity, time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def reset(self) -> None:
        self.tokens, self.last = self.capacity, time.monotonic()


# GetLogEvents is throttled per account (about 25 per second). A container reads at most one log
# tail per second for crash-loop siblings (burst 1): in any one-second window that is at most 2 reads
# per container, so at most 10 with the functions' reserved concurrency of 5. Beyond the budget, a
# task that stopped like a sibling of the last minute borrows that sibling's logs.
LOG_READS = _Bucket(rate=1.0, capacity=1.0)

# Storm collapse: per warm container, the logs read for a (task definition, stop) signature.
STORM_SECONDS = 60
STORM_ENTRIES = 256
_STORM: dict[tuple, tuple[float, dict[str, list[str]], str | None, int]] = {}


def _storm_key(event: TaskStateChangeEvent) -> tuple | None:
    d = event.detail
    if not d.task_definition_arn or not d.group:
        return None
    # key=repr: exit codes may be None next to ints (containers without a name or exit code).
    exits = tuple(sorted(((c.name or "", c.exit_code, c.reason or "") for c in d.containers), key=repr))
    return (event.account, d.cluster_arn, d.group, d.task_definition_arn, d.stop_code, d.stopped_reason, exits)


@on_reset
def clear_storm_cache() -> None:
    _STORM.clear()
    LOG_READS.reset()


def _logset(event: TaskStateChangeEvent, logs: Any) -> Any:
    """Log lines handed to gather: a LogSet as built (the CLI reads what a person pasted), or lines as
    the application printed them (the only container's when the task has one)."""
    if isinstance(logs, LogSet):
        return logs
    names = [c.name for c in event.detail.containers if c.name]
    return from_lines(logs, names[0] if len(names) == 1 else None)


__all__ = ["EVERYTHING", "NOTHING", "Gap", "Gatherer", "gather"]
