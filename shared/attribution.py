"""Container attribution: which container failed first and why, and which were only stopped with it.

A pure step before pattern matching. Real tasks carry sidecars (envoy, a FireLens log router, Datadog,
CloudWatch, X-Ray and OTel agents) and init containers gated by `dependsOn`; when one essential container
fails, ECS stops the others (SIGTERM, then SIGKILL: exits 143 and 137). Blaming one of those victims is
worse than saying "unknown", so the culprit is decided from what each container itself shows:

- a container reason of its own (CannotStartContainerError, OutOfMemoryError ...) — except a reason that
  only says a dependency did not exit successfully: that container is a victim of the dependency named;
- an exit code the process returned itself (not 0, not a signal) over a signal exit (137/143 after the
  task was told to stop);
- in a task that failed to start, the container that never ran over one that ran and was stopped;
- an unhealthy container, an essential one (task definition), then the application over a known sidecar.

Which container's logs hold the incident is decided later, by the patterns (their matches name the
container of the line); the engine prefers matches in the containers ranked here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from shared.models.event import Container, TaskDetail
from shared.scan import lazy_re

if TYPE_CHECKING:
    from shared.evidence.model import TaskDefinitionFacts

SIGNALS = {137: "SIGKILL", 143: "SIGTERM", 130: "SIGINT", 129: "SIGHUP"}

# Sidecars by container name or image (kind -> pattern). Known so that the application wins a tie and so
# that a finding can say what the sidecar is.
SIDECARS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("service-connect", lazy_re(r"ecs-service-connect-agent|service-connect", re.I)),
    ("envoy", lazy_re(r"(?:^|[/_.:-])envoy(?:proxy)?(?:$|[/_.:-])|appmesh-envoy|aws-appmesh", re.I)),
    ("log-router", lazy_re(r"log[_-]?router|firelens|fluent-?bit|fluentd", re.I)),
    ("datadog-agent", lazy_re(r"datadog(?:hq)?/agent|datadog-agent|(?:^|[/_-])dd-agent", re.I)),
    ("cloudwatch-agent", lazy_re(r"cloudwatch-agent|cwagent", re.I)),
    # these short words start a word of the name or image (`aws-otel-collector`, `otelcol`, `amazon/aws-xray-daemon`):
    # inside one (`hotel-rates-init`, `shadoto`) they name no agent
    ("xray-daemon", lazy_re(r"(?<![a-z0-9])xray", re.I)),
    ("otel-collector", lazy_re(r"(?<![a-z0-9])(?:otel|opentelemetry|adot)", re.I)),
)
# Each kind's own log wording: a line with it that no container's own stream carries (an unlabelled paste) is the
# sidecar's noise when the task runs that sidecar (see `speaker`); in a container's own stream it is that container's
# (a Telegraf application prints the CloudWatch agent's form).
SIDECAR_WORDS: dict[str, re.Pattern[str]] = {
    # the agent's "<time> UTC | CORE | ERROR | (pkg/collector/runner/runner.go:292 in work) | <message>"
    "datadog-agent": lazy_re(r"\| (?:CORE|TRACE|PROCESS|SYS-PROBE|SECURITY|CLUSTER|JMXFETCH) \| "
                             r"(?:TRACE|DEBUG|INFO|WARN|ERROR|CRITICAL) \| \([\w./-]+\.go:\d+ in \w+\)"),
    # the daemon's "<time> [Error] Sending segment batch failed with: ...", "[Info] Successfully sent batch of ..."
    "xray-daemon": lazy_re(r"\[(?:Error|Warn|Info|Debug)\] (?:Sending (?:segment|telemetry) batch failed|"
                           r"Successfully sent batch of \d+ segments|Initializing AWS X-Ray daemon)"),
    # the collector's components: `{"kind": "exporter", "data_type": "traces", "name": "awsxray"}`
    "otel-collector": lazy_re(r"[\"'](?:otelcol\.component\.)?kind[\"']:\s*[\"'](?i:exporter|receiver|processor|"
                              r"extension)[\"']"),
    # "[2024-05-01 10:00:00.000][1][warning][config] [source/common/config/grpc_stream.h:201] ..."
    "envoy": lazy_re(r"\]\[\d+\]\[(?:trace|debug|info|warning|error|critical)\]\[[\w.]+\] \[(?:source|external)/"),
    # Fluent Bit's "[2024/05/01 10:00:00] [error] [output:cloudwatch_logs:cloudwatch_logs.0] ..."
    "log-router": lazy_re(r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] \[ ?(?:error|warn|info|debug|trace)\] "
                          r"\[(?:output|input|filter|engine|storage|fluent bit|config|http_client|net|tls|upstream|"
                          r"aws_credentials|imds)[\]:]"),
    # the CloudWatch agent's "2024-05-01T10:00:00Z E! [outputs.cloudwatchlogs] ...", and its older (Telegraf's)
    # plugin-prefix form "E! cloudwatch: WriteToCloudWatch failure, err: ...", "W! ec2tagger: ...": the level letter
    # opens the line (after its time) and a lower-case plugin name with a colon follows; "E! Error: ..." or an "E!"
    # inside a message is no agent's.
    "cloudwatch-agent": lazy_re(r"\b[EWID]! \[(?:outputs|inputs|processors|logagent|agent)[.\]]|"
                                r"(?:^|\d\dZ )[EWID]! [a-z][a-z0-9_]{2,}: \S"),
}
# "CannotStartContainerError: dependency graph: failed to resolve container ordering dependency
# [migrate(<image>) (STOPPED->RUNNING) - Exit: 255] for target [app(<image>) ...] as dependency did not exit
# successfully." and the agent's other wordings of a dependsOn condition that was not met.
DEPENDENCY = lazy_re(r"dependency graph|container ordering dependency|dependency \S* ?did not (?:exit|become|start)"
                        r"|dependencies? (?:of|for) .{0,80} (?:did not|failed|not met)|dependsOn condition", re.I)
_DEPENDENCY_NAME = lazy_re(r"dependency \[([\w.-]+)\(|dependency ([\w.-]+) (?:did not|failed)|"
                              r"container ordering dependency \[?([\w.-]+)", re.I)


def speaker(text: str, sidecars: dict[str, str]) -> str | None:
    """The sidecar of the task (name -> kind, as `Attribution.sidecars`) whose own wording `text` is, or None: a
    known agent's line, whatever stream carried it, is that agent's, never the application's. Only a kind the task
    runs, and only when one container of that kind runs (two would not say which)."""
    for kind in set(sidecars.values()):
        words = SIDECAR_WORDS.get(kind)
        if words is None or not words.search(text):
            continue
        named = [name for name, k in sidecars.items() if k == kind]
        return named[0] if len(named) == 1 else None
    return None


def sidecar_kind(c: Container, td: TaskDefinitionFacts | None = None) -> str | None:
    cdef = td.container(c.name) if td and c.name else None
    if cdef is not None and cdef.firelens:
        return "log-router"
    return _kind_of(f"{c.name or ''} {c.image or ''}")


# A service's containers repeat from task to task: each name and image read once. LRU evicts in order, so a cycle
# through more pairs than it holds misses every time (the 1,267 cases hold ~1,500): room for 4,096 short strings.
@lru_cache(maxsize=4096)
def _kind_of(text: str) -> str | None:
    return next((kind for kind, regex in SIDECARS if regex.search(text)), None)


@dataclass(frozen=True)
class Attribution:
    ranked: tuple[str, ...]  # most likely culprit first; empty when no container stands out
    victims: dict[str, str] = field(default_factory=dict)  # name -> why it stopped, in plain words
    sidecars: dict[str, str] = field(default_factory=dict)  # name -> kind
    waiting_on: dict[str, str] = field(default_factory=dict)  # name -> the dependency its reason names

    @property
    def culprit(self) -> str | None:
        return self.ranked[0] if self.ranked else None


def dependency_named(reason: str, names: set[str]) -> str | None:
    """The container a dependency-failure reason names (one of `names`), if any."""
    for m in _DEPENDENCY_NAME.finditer(reason):
        name = next(g for g in m.groups() if g)
        if name in names:
            return name
    return None


def attribute(detail: TaskDetail, td: TaskDefinitionFacts | None = None) -> Attribution:
    containers = [c for c in detail.containers if c.name]
    names = {c.name for c in containers if c.name}
    essential = {c.name for c in td.containers if c.essential} if td else None
    sidecars = {c.name: kind for c in containers if c.name and (kind := sidecar_kind(c, td))}
    reason = (detail.stopped_reason or "").lower()
    start_failure = (detail.stop_code == "TaskFailedToStart" or "failed to start" in reason
                     or "cannotstartcontainer" in reason or "cannotpullcontainer" in reason)

    waiting_on: dict[str, str] = {}
    for c in containers:
        if c.reason and DEPENDENCY.search(c.reason):
            dep = dependency_named(c.reason, names - {c.name})
            waiting_on[c.name or ""] = dep or ""
    own_failure = {c.name for c in containers
                   if (c.reason and c.name not in waiting_on) or (c.exit_code not in (None, 0) and c.exit_code not in SIGNALS)}
    never_ran = {c.name for c in containers if c.exit_code is None and c.name not in waiting_on}

    scores: dict[str, float] = {}
    for pos, c in enumerate(containers):
        name = c.name or ""
        score = 0.0
        if c.reason and name not in waiting_on:
            score += 8
        if c.exit_code not in (None, 0):
            if c.exit_code not in SIGNALS:
                score += 4
            elif not (own_failure - {name}):
                score += 2  # killed from outside, and nobody else failed on their own: still the best lead
        if (c.health_status or "").upper() == "UNHEALTHY":
            score += 3
        if start_failure and name in never_ran and not (own_failure - {name}) and any(
                x.exit_code in SIGNALS for x in containers):
            score += 3  # it never ran while the others ran and were stopped: the start failed here
        if score and essential is not None and name in essential:
            score += 1
        if score and name in sidecars:
            score -= 0.5
        if score > 0:
            scores[name] = score - pos / 1000  # ties: the order of the event
    for dep in waiting_on.values():
        if dep:
            scores[dep] = max(scores.get(dep, 0.0), 8.0)
    ranked = tuple(sorted(scores, key=lambda n: -scores[n]))
    culprit = ranked[0] if ranked else None

    victims: dict[str, str] = {}
    by_name = {c.name: c for c in containers}
    if culprit is not None:
        what = _what_happened(by_name[culprit], culprit, start_failure)
        for c in containers:
            name = c.name or ""
            if name == culprit:
                continue
            if name in waiting_on:
                dep = waiting_on[name] or "a container it depends on"
                victims[name] = f"{name} never started: it waits for {dep} (dependsOn), which did not exit successfully"
            elif c.exit_code in SIGNALS and culprit in own_failure:
                victims[name] = (f"{name} stopped with {SIGNALS[c.exit_code]} (exit {c.exit_code}) after {culprit} "
                                 f"{what}")
    return Attribution(ranked=ranked, victims=victims, sidecars=sidecars, waiting_on=waiting_on)


def _what_happened(c: Container, name: str, start_failure: bool) -> str:
    if c.exit_code not in (None, 0) and c.exit_code not in SIGNALS:
        return f"exited {c.exit_code}"
    if c.reason:
        return "failed (" + c.reason.split(":")[0][:60] + ")"
    return "failed to start" if start_failure else "failed"
