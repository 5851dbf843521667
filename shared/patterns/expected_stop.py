"""expected-stop: the stop was intended, not a failure.

Signals: stopCode UserInitiated / SpotInterruption / TerminationNotice; stoppedReason "Scaling
activity initiated by (deployment ...)", "Task stopped by user", "Your Spot Task was
interrupted.", ECS maintenance/retirement, a deleted service; and, weaker, every exited container
returning 0 under "Essential container in task exited". Only when nothing indicates a failure: the
engine lets ECS-reported failures win, and log failures win over a clean exit 0 (not over a stop
ordered from outside). Facts: reason, deployment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import Explanation, Facts, Match, Pattern, Proof, Stage
from shared.scan import lazy_re

_EXTERNAL = (
    ("spot", lazy_re(r"spot (?:task )?(?:was )?interrupt|spot instance interruption|spot capacity reclaimed",
                        re.IGNORECASE)),
    ("scale-in", lazy_re(r"scaling activity initiated by", re.IGNORECASE)),
    ("deployment", lazy_re(r"deployment (?:ecs-svc/\d+ )?(?:replaced|completed)|replaced by a new deployment|"
                              r"task replaced|stopped by deployment", re.IGNORECASE)),
    ("user", lazy_re(r"(?:task )?stopped by (?:user|the user|an? user)|user initiated|manually stopped",
                        re.IGNORECASE)),
    ("maintenance", lazy_re(r"performing maintenance|task retirement|scheduled retirement|being retired|"
                               r"maintenance on the underlying infrastructure", re.IGNORECASE)),
    ("service-deleted", lazy_re(r"service (?:was |has been )?deleted|service .{0,40}(?:draining|deleting)",
                                   re.IGNORECASE)),
    ("instance-draining", lazy_re(r"container instance (?:is )?(?:being )?drain", re.IGNORECASE)),
)
_SIDECAR = lazy_re(r"log[_-]?router|firelens|fluent-?bit|fluentd|datadog|dd-agent|envoy|xray|x-ray|otel|"
                      r"cloudwatch-agent|cwagent|aws-otel|statsd|newrelic|splunk|app-?mesh|proxy|"
                      r"timberio|(?:^|[\s/])vector(?=$|[\s:@])|logstash|filebeat|promtail", re.IGNORECASE)
# A log shipper: its last buffered lines are lost when it is killed.
_LOG_SHIPPER = lazy_re(r"log.?router|firelens|fluent|timberio|(?:^|[\s/])vector(?=$|[\s:@])|logstash|filebeat|"
                       r"promtail", re.IGNORECASE)
_STOP_CODES = {"UserInitiated": "user", "SpotInterruption": "spot", "TerminationNotice": "spot"}
_DEPLOYMENT = lazy_re(r"\(deployment ([\w/-]+)\)")



# After ECS's SIGTERM: a backtrace a wrapper prints (bundler's "failed to load command", SignalException).
_SIGTERM_TRACE = lazy_re(r"SignalException|bundler: failed to load command|received SIGTERM|"
                            r"signal: terminated|Goodbye!", re.IGNORECASE)

class ExpectedStopFacts(Facts):
    """The facts of expected-stop."""

    deployment: str | None = Field(None, description="The deployment that replaced the task.")
    reason: str | None = Field(None, description="Why the stop was intended: scale-in, deployment, spot, user stop, exit 0.")
    stopped_reason: str | None = Field(None, description="ECS's stopped reason.")


class ExpectedStop(Pattern):
    id = "expected-stop"
    priority = 10
    severity = "info"
    Facts = ExpectedStopFacts
    key_facts = ("reason",)
    verdict = "expected"

    def match(self, ev: Evidence) -> Match | None:
        reason_text = ev.stopped_reason
        for reason, regex in _EXTERNAL:
            if regex.search(reason_text):
                return self._match(ev, reason, True, Proof("stoppedReason", reason_text))
        if ev.stop_code in _STOP_CODES:
            return self._match(ev, _STOP_CODES[ev.stop_code], True,
                               Proof("stopCode", f"{ev.stop_code}: {reason_text}".rstrip(": ")))
        unhealthy = any((c.health_status or "").upper() == "UNHEALTHY" for c in ev.detail.containers)
        if ev.stop_code == "ServiceSchedulerInitiated" and not reason_text and not unhealthy:
            # With no reason text, an UNHEALTHY container is why the scheduler replaced the task.
            return self._match(ev, "scheduler", True, Proof("stopCode", ev.stop_code))
        exited = [c for c in ev.detail.containers if c.exit_code is not None]
        sidecars = {c.name for c in exited if c.name in ev.attribution.sidecars
                    or _SIDECAR.search(f"{c.name} {c.image or ''}")}
        # Sidecars (log router, agents, proxies) are stopped, sometimes killed, after the app finished. In a job
        # (a task no service keeps running) whose own containers all exited 0, a sidecar's exit code on that
        # shutdown is not why the task stopped: the job's end is.
        job = not (ev.detail.group or "").startswith("service:")
        finished = [c for c in exited if not (c.name in sidecars and (c.exit_code in (137, 143) or job))]
        if finished and all(c.exit_code == 0 for c in finished) and not any(c.reason for c in ev.detail.containers) \
                and (ev.stop_code in ("EssentialContainerExited", "") or "essential container" in reason_text.lower()):
            return self._match(ev, "completed", False,
                               Proof("containers.exitCode", ", ".join(f"{c.name}={c.exit_code}" for c in exited)),
                               container=finished[0].name if len(finished) < len(exited) else None)
        return None

    def _match(self, ev: Evidence, reason: str, strong: bool, proof: Proof, container: str | None = None) -> Match:
        facts: dict = {"reason": reason}
        if container:
            facts["container"] = container  # the job that completed, when a sidecar's exit could be blamed
        dep = _DEPLOYMENT.search(ev.stopped_reason)
        if dep:
            facts["deployment"] = dep.group(1)
        if ev.stopped_reason:
            facts["stopped_reason"] = ev.stopped_reason
        return Match(facts=facts, proofs=(proof,), confidence=0.9 if strong else 0.8, stage=Stage.BENIGN,
                     strong=strong, container=container or ev.primary)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        reason = m.facts.get("reason")
        fargate = remedy.is_fargate(ev)
        # Who starts it again: the service, or Batch / a schedule / nobody (never "the service" for a one-off task).
        again = remedy.start_again(ev)
        again = (again[0].upper() + again[1:]) if again else again
        words = {
            "spot": ("Fargate Spot reclaimed the capacity (two-minute notice). " if fargate else
                     "The Spot instance it ran on was reclaimed (two-minute notice). ") + again + ".",
            "scale-in": "The service scaled in or a deployment replaced this task.",
            "deployment": "A deployment replaced this task with a newer one.",
            "user": "Someone (or automation) stopped the task with StopTask.",
            "maintenance": f"AWS retired the task for infrastructure maintenance. {again}.",
            "service-deleted": "The service was deleted or scaled to zero.",
            "instance-draining": "Its container instance was drained.",
            "scheduler": "The service scheduler stopped it.",
            "completed": "Its essential container finished and exited with code 0.",
        }.get(reason or "", "The stop was intended.")
        dep = m.facts.get("deployment") if reason == "scale-in" else None
        if dep:
            # "Scaling activity initiated by (deployment ecs-svc/...)": the reason names the deployment that stopped
            # the task, which ECS writes both when a deployment replaces tasks and when the service scales in.
            words = (f"The service's deployment {dep} stopped it: a deployment replacing the service's tasks with "
                     "a newer revision's, or the service scaling in (its desired count lowered).")
        steps = ["Nothing to fix."]
        codes = [c.exit_code for c in ev.detail.containers if c.exit_code not in (None, 0, 137, 143)]
        if codes and reason not in ("completed",) and any(_SIGTERM_TRACE.search(t) for t in ev.logs.texts[-40:]):
            # A runtime that turns SIGTERM into an exception exits non-zero with a backtrace after a clean stop.
            steps[0] = (f"Nothing to fix: the exit code {codes[0]} and the backtrace after the shutdown are how the "
                        "runtime reports the SIGTERM ECS sent (e.g. `bundle exec` raising SignalException), not a "
                        "crash. To exit 0, let the server handle SIGTERM itself (run it without the wrapper, or "
                        "trap the signal).")
        unheard = _sigterm_unheard(ev, sidecars=lambda c: c.name in ev.attribution.sidecars
                                   or bool(_SIDECAR.search(f"{c.name} {c.image or ''}"))) \
            if reason in _ORDERED_STOPS else None
        if unheard and remedy.is_windows(ev):
            name, waited = unheard
            # Windows: no SIGTERM, no shell PID 1, no init process: Docker sends the container's processes a
            # console shutdown event (CTRL_SHUTDOWN_EVENT) and kills them when the stop timeout runs out.
            steps[0] = (f"Stopping the task was intended, but {name} did not exit when ECS stopped it: it was killed "
                        f"(exit 137) {waited:.0f} s after the stop began, when the stop timeout ran out. On Windows "
                        "the container's processes get a console shutdown event (CTRL_SHUTDOWN_EVENT), not SIGTERM: "
                        "the app (or the entrypoint that runs it, such as ServiceMonitor.exe for IIS) must handle it "
                        "and exit; then set the container's `stopTimeout` to the time it needs to finish.")
        elif unheard and remedy.launcher(ev) == "batch":
            name, waited = unheard
            # An AWS Batch job: no requests to drain and no stopTimeout in a job definition; its work is what is cut.
            steps[0] = (f"Stopping the job was intended, but {name} did not exit on the SIGTERM it was sent: it exited "
                        f"137 (SIGKILL) {waited:.0f} s after the stop began, so its work was cut off wherever it was. "
                        "Make the process exit on SIGTERM: handle it (checkpoint or record how far it got, clean up, "
                        "exit); a shell entrypoint or a shell-form `command` (run by `sh -c`) is PID 1 and does not "
                        "forward it, so start the program with `exec` (or the exec form of the command), or set "
                        "`\"initProcessEnabled\": true` in the job definition's `linuxParameters` for an init that "
                        "forwards signals.")
        elif unheard:
            name, waited = unheard
            steps[0] = (f"Stopping the task was intended, but {name} did not exit on the SIGTERM ECS sent: it exited "
                        f"137 (SIGKILL) {waited:.0f} s after the stop began, when the stop timeout ran out, so its "
                        "in-flight requests and connections were cut instead of drained. Make the process exit on "
                        "SIGTERM: the app must handle it (stop accepting work, finish or close what is open, exit); "
                        "a shell entrypoint or a shell-form `command` (run by `sh -c`) is PID 1 and does not forward "
                        "it, so start the app with `exec` (or the exec form, `[\"node\", \"server.js\"]`) so it is "
                        "PID 1, or set `\"initProcessEnabled\": true` in the container's `linuxParameters` for an "
                        "init that forwards signals; then set the container's `stopTimeout` (30 s by default, at most "
                        "120 s) to the time it needs to drain.")
        stuck = _stuck_on_dependency(ev) if reason in _ORDERED_STOPS or reason == "spot" else None
        if stuck and not unheard:
            steps[0] = _stuck_step(ev, *stuck)
        if steps[0] == "Nothing to fix." and (reason in _ORDERED_STOPS or reason == "spot") \
                and (noise := _shutdown_noise(ev)):
            steps[0] = noise
        if reason == "spot" and remedy.launcher(ev) == "batch":
            # An AWS Batch job: no service and no capacity provider strategy of its own; Batch's job queue and
            # compute environments choose the capacity, and its retry strategy resubmits the job.
            steps.append("Handle SIGTERM to checkpoint within the two-minute notice, and exit non-zero when it cuts "
                         "the work short so the attempt does not count as a success; give the job definition a "
                         "`retryStrategy` with attempts > 1 so Batch resubmits a reclaimed job, and for jobs that "
                         "must not be interrupted put an On-Demand compute environment "
                         + ("(FARGATE rather than FARGATE_SPOT) " if fargate else "")
                         + "in the job queue.")
        elif reason == "spot":
            steps.append("Handle SIGTERM to finish in-flight work within the two-minute notice; "
                         + ("keep some FARGATE (on-demand) capacity in the capacity provider strategy for critical "
                            "services." if fargate else
                            "keep some On-Demand instances (an On-Demand capacity provider or compute environment) for "
                            "work that must not be interrupted."))
        if reason == "completed" and remedy.launcher(ev) == "service":
            # A service keeps its tasks running: it starts a replacement for each exit 0, which exits 0 again, so
            # the service churns. The process ending is the fault to find, not nothing (a job's exit 0 is its end).
            steps[0] = _why_exit_zero(ev, m.container)
        if reason == "user":
            region = remedy.region(ev)
            steps.append("To see who stopped it: CloudTrail records the StopTask call, "
                         "`aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=StopTask"
                         + (f" --region {region}" if region else "") + "` (its userIdentity names the caller).")
        killed = [c.name for c in ev.detail.containers
                  if c.exit_code == 137 and c.name and (cd := ev.container_definition(c.name)) is not None
                  and not cd.essential] if reason in ("completed", "user", "deployment", "scale-in") else []
        routers = [c.name for c in ev.detail.containers if c.exit_code == 137 and c.name
                   and _LOG_SHIPPER.search(f"{c.name} {c.image or ''}")]
        for name in dict.fromkeys(routers + killed):
            # When the essential container had already exited, the router did stop last: dependsOn changes
            # nothing; its process ignored SIGTERM (a shell entrypoint that does not forward it).
            last = reason == "completed"
            steps.append(f"{name} exited 137: as the task stopped, ECS sent it SIGTERM and then SIGKILL after the "
                         "stop timeout; a log router that does not exit on SIGTERM can lose its last buffered lines "
                         + ("(it already stopped last, after the essential container exited, so dependsOn changes "
                            "nothing: make its process exit on SIGTERM, e.g. `exec` it from a shell entrypoint so it "
                            "is PID 1, and give it a shorter flush)." if last else
                            "(give it a shorter flush or a dependsOn so it stops last)."))
        churn = reason == "completed" and remedy.launcher(ev) == "service"
        return Explanation(
            title=f"Expected stop (deployment {dep}: replacement or scale-in)" if dep else f"Expected stop ({reason})",
            summary=(f"{words} It belongs to a service, which starts a replacement each time it exits: a process "
                     "that ends by itself makes the service churn." if churn else
                     f"{words} The task was stuck before that: {stuck[0]} exited {stuck[1]} and {stuck[2]}, which "
                     "waits on it, never started." if stuck and not unheard else
                     f"The task was not a failure. {words}"),
            remediation=steps,
        )


# Stops ordered from outside, after which ECS sends SIGTERM and, when the stop timeout runs out, SIGKILL.
_ORDERED_STOPS = ("scale-in", "deployment", "user", "maintenance", "service-deleted", "instance-draining", "scheduler")
# Seconds between stoppingAt and the task's stop that only a stop timeout explains (ECS's default is 30 s; an app
# that exits on SIGTERM is gone in a second or two). Shorter waits with 137 say nothing about SIGTERM.
STOP_TIMEOUT_SECONDS = 25


# An error line: its level (the line's or the entry's it continues), else an error word in it.
_ERROR_WORDS = lazy_re(r"\berror\b|\[error\]|\w(?:Error|Exception)\b|\btraceback\b|\bfatal\b|\bpanic\b|"
                       r"\bexception\b", re.IGNORECASE)
# A stack frame line (Node/Java "at ...", Python 'File "..."').
_FRAME = lazy_re(r"^\s*(?:at\s|File \")")
# The header of a Go goroutine dump: the panic or fatal error is above it, and every line below it is a frame
# ("main.(*Worker).reportError(0xc000010000)"), whatever its function is called.
_GOROUTINE = lazy_re(r"^goroutine \d+ \[")
# A line's error word saying there was none: Go's "error: <nil>", "err=nil", "error=null", "0 errors", "no errors".
_NO_ERROR = lazy_re(r"(?i)\berr(?:or)?s?\s*[:=]\s*(?:<nil>|nil|null|none)(?!\w)|\b(?:no|0|zero) errors?\b")
# How far back from the end of the log an error is still the shutdown's.
_NOISE_TAIL = 40
# A line saying the process is being stopped (its server's, its runtime's or its supervisor's words).
_SHUTTING_DOWN = lazy_re(r"(?i)shutting down|\bshutdown\b|\bSIGTERM\b|\bsignal 15\b|\bterminat(?:ed|ing)\b|"
                         r"\bstopping\b|finished server process|caught signal|received (?:term|signal|stop)|"
                         r"\bgraceful(?:ly)?\b|context (?:canceled|cancelled|done)|\bexiting\b|SignalException")
# The same words, less those an error line uses of its own subject ("Connection terminated unexpectedly", "fatal
# error, exiting"): an error line says by itself that it was written during the stop only with these.
_SELF_SHUTTING_DOWN = lazy_re(r"(?i)shutting down|\bshutdown\b|\bSIGTERM\b|\bsignal 15\b|\bstopping\b|"
                              r"finished server process|caught signal|received (?:term|signal|stop)|"
                              r"\bgraceful(?:ly)?\b|context (?:canceled|cancelled|done)|SignalException")
# A line's own clock near its start: 2022/10/10 23:03:04, 2021-02-10T16:40:30.731Z, 2022-04-20T14:25:06.545-0400.
_LINE_CLOCK = lazy_re(r"(?P<d>\d{4}[-/]\d{2}[-/]\d{2})[T ](?P<t>\d{2}:\d{2}:\d{2})(?:[.,]\d+)?"
                      r"(?:\s?(?P<z>Z|UTC|[+-]\d{2}:?\d{2}))?")
# Seconds before stoppingAt at which a line's clock still counts as the stop's (clocks and flushes differ a little).
_NOISE_SLACK_SECONDS = 10


def _line_time(text: str) -> datetime | None:
    """When a line says it was written (its own timestamp near its start, UTC unless it gives an offset)."""
    m = _LINE_CLOCK.search(text[:60])
    if m is None:
        return None
    zone = m.group("z") or "+0000"
    zone = "+0000" if zone in ("Z", "UTC") else zone.replace(":", "")
    try:
        return datetime.strptime(f"{m.group('d').replace('/', '-')} {m.group('t')} {zone}", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None


def _during_stop(ev: Evidence, i: int) -> bool:
    """Line i was written as the task was being stopped: its clock is at (or just before) stoppingAt, or, with no
    clock, an earlier line of the same container says the process is shutting down, or the line itself does in words
    that are not its own subject's (a connection "terminated" is not the process)."""
    logs = ev.logs
    stopping = ev.detail.stopping_at
    at = _line_time(logs.texts[i])
    if at is not None and stopping is not None:
        if stopping.tzinfo is None:
            stopping = stopping.replace(tzinfo=UTC)
        return (stopping - at).total_seconds() <= _NOISE_SLACK_SECONDS
    who = logs.containers[i]
    return bool(_SELF_SHUTTING_DOWN.search(logs.texts[i])) or any(
        _SHUTTING_DOWN.search(logs.texts[j]) for j in range(max(0, i - _NOISE_TAIL), i) if logs.containers[j] == who)


def _shutdown_noise(ev: Evidence) -> str | None:
    """An expected stop whose log ends with an error or traceback written as the task was being stopped (an app's
    server cancelling its lifespan task, a sidecar that lost the ECS agent's metadata as the task ended): "Nothing
    to fix", naming that line as what the stop itself made the container log, so it is not read as the cause. None
    when the tail holds no error, or its last error was written before the stop (that one may be a fault of its
    own)."""
    logs = ev.logs
    n = len(logs.texts)
    for i in range(n - 1, max(n - _NOISE_TAIL, 0) - 1, -1):
        text = logs.texts[i].strip()
        level = logs.level(i)
        if not text or level not in ("error", "fatal", None) or (
                level is None and not _ERROR_WORDS.search(_NO_ERROR.sub("", text))):
            continue
        if not _during_stop(ev, i):
            return None
        who = logs.containers[i] or (ev.primary if len(ev.detail.containers) == 1 else None)
        start = logs.block_start(i)
        if start != i:
            # A trace: name its error line (Python's comes last, Node's and Java's first, Go's above its goroutine
            # dump), not a frame.
            end = next((j for j in range(start, i + 1) if _GOROUTINE.match(logs.texts[j])), i + 1)
            first = start
            if end == start:
                # The dump's own block: its panic is the block above it, across the blank line Go writes between.
                k = start - 1
                while k >= 0 and not logs.texts[k].strip():
                    k -= 1
                first = logs.block_start(k) if k >= 0 and logs.containers[k] == logs.containers[i] else start
            named = [j for j in range(first, end) if _ERROR_WORDS.search(logs.texts[j])
                     and not _FRAME.match(logs.texts[j])]
            text = logs.texts[named[-1] if named else start].strip()
        line = text if len(text) <= 120 else text[:117].rstrip() + "…"
        what = f"The trace with “{line}”" if start != i else f"“{line}”"
        return (f"Nothing to fix. {what}" + (f" (from {who})" if who else "") + " is shutdown noise: the "
                "container logged it while the task was being stopped, not what stopped the task.")
    return None


def _sigterm_unheard(ev: Evidence, sidecars: Callable[[Any], bool]) -> tuple[str, float] | None:
    """(container, seconds) when an essential, non-sidecar container exited 137 only once the stop timeout had run
    out after ECS began stopping the task: it got SIGKILL because it did not exit on SIGTERM."""
    d = ev.detail
    end = d.execution_stopped_at or d.stopped_at
    if d.stopping_at is None or end is None:
        return None
    waited = (end - d.stopping_at).total_seconds()
    if waited < STOP_TIMEOUT_SECONDS:
        return None
    for c in d.containers:
        cdef = ev.container_definition(c.name)
        if c.exit_code == 137 and c.name and not c.reason and not sidecars(c) and (cdef is None or cdef.essential):
            return c.name, waited
    return None


# Words of a container's name that say it prepares the task and is meant to exit (an init container).
_INIT_NAME = lazy_re(r"(?:^|[^a-z])(?:init\w*|setup|bootstrap|prepare|migrat\w*)(?:$|[^a-z])", re.IGNORECASE)


def _stuck_on_dependency(ev: Evidence) -> tuple[str, int, str, str | None] | None:
    """(failed, exit code, waiter, condition) when an essential container never started because a container it waits
    on to succeed exited non-zero: the task then waits until something stops it. The link is the waiter's dependsOn
    with condition SUCCESS when the task definition was read (COMPLETE starts it whatever the exit code); without it,
    the agent's dependency reason on the waiter, or a failed container whose name says it is an init container.
    A container with lines in its own log stream did start (a missing exit code says only that it was not recorded),
    so it is no waiter, whatever the links say."""
    containers = ev.detail.containers
    logged = set(ev.logs.container_names())
    failed = [c for c in containers if c.name and c.exit_code not in (None, 0, 137, 143)
              and not _SIDECAR.search(f"{c.name} {c.image or ''}") and c.name not in ev.attribution.sidecars]
    for w in containers:
        if not w.name or w.exit_code is not None or w.name in logged or w.name in ev.attribution.sidecars \
                or _SIDECAR.search(f"{w.name} {w.image or ''}"):
            continue
        cdef = ev.container_definition(w.name)
        if cdef is not None and not cdef.essential:
            continue
        waits = dict(cdef.depends_on) if cdef is not None else {}
        for f in failed:
            if f.name == w.name or not f.name:
                continue
            if cdef is not None and ev.task_definition is not None:
                if waits.get(f.name) == "SUCCESS":
                    return f.name, int(f.exit_code or 0), w.name, "SUCCESS"
                continue
            said = ev.attribution.waiting_on.get(w.name)
            if said == f.name or (said == "" and len(failed) == 1) or (said is None and _INIT_NAME.search(f.name)):
                return f.name, int(f.exit_code or 0), w.name, None
    return None


def _stuck_step(ev: Evidence, failed: str, code: int, waiter: str, cond: str | None) -> str:
    """Step 1 for a stop ordered while the task was stuck: the container another waits on failed."""
    d = ev.detail
    waited = ""
    if d.started_at is not None and d.stopping_at is not None:
        minutes = (d.stopping_at - d.started_at).total_seconds() / 60
        if minutes >= 2:
            waited = f" for {minutes:.0f} min"
    link = (f"{waiter} (dependsOn {failed} with condition SUCCESS)" if cond else
            f"{waiter} (no exit code: it waits on {failed}, a dependsOn with condition SUCCESS; confirm in "
            f"{waiter}'s dependsOn)")
    tail = remedy.logs_tail(ev, failed)
    tid = remedy.task(ev)
    where = (f"`{tail}`" if tail else
             f"with awslogs, the stream `<its awslogs-stream-prefix>/{failed}/{tid}` of the group {failed}'s logConfiguration names" if tid
             else f"the group {failed}'s logConfiguration names")
    err = remedy.logged_error(ev, failed)
    texts, names = ev.logs.texts, ev.logs.containers
    last = err[1] if err else next((remedy.message(texts[i]) for i in range(len(texts) - 1, -1, -1)
                                    if names[i] == failed and texts[i].strip()), None)
    said = (f"; its {'error' if err else 'last line'}: “{last[:160]}”" if last else "")
    return (f"Stopping the task was intended, but it was stuck: {failed} exited {code} and {link} never started, so "
            f"the task waited{waited} until it was stopped. Find why {failed} failed in its log ({where}{said}). "
            f"Fix {failed} so it exits 0 (then {waiter} starts), or, if {waiter} may start whatever {failed} returns, "
            "make the condition COMPLETE.")


def _why_exit_zero(ev: Evidence, container: str | None) -> str:
    """Step 1 for a service task whose process exited 0: find why it ends instead of serving."""
    name = remedy.container_name(ev, container)
    img = remedy.image(ev, name)
    query = remedy.container_query(ev, name, "[image, entryPoint, command]")
    inspect = ""
    if img and remedy.is_image_ref(img):
        login = remedy.ecr_login_aside(ev, img)
        inspect = (f" with the image's own{login}: `docker pull {remedy.q(img)}`, then "
                   f"`docker image inspect --format '{{{{json .Config.Entrypoint}}}} {{{{json .Config.Cmd}}}}' "
                   f"{remedy.q(img)}`")
    return ("The process exited 0 by itself, and the service starts a replacement that does the same, so the "
            "service churns: find out why it ends instead of staying up as the long-running process a service "
            "expects. The usual causes: a wrong image or "
            "tag whose CMD is not the server (a base or build image, one without a CMD), a one-shot `command` (a "
            "migration, a script, a job) run in a service (run it with run-task or a schedule instead), or a server "
            "started in the background (`&`, a daemon flag) so PID 1 returns. Compare the task definition's image, "
            f"entryPoint and command, `{remedy.describe_task_definition(ev, query)}`{inspect}.")


PATTERN = ExpectedStop()
