"""unknown: nothing matched. The engine's fallback; it still explains what the evidence says.

Facts: exit codes with their meaning (137 = SIGKILL: OOM kill without an ECS reason, or stopTimeout
exceeded after SIGTERM; 143 = SIGTERM from outside), stop code. The remediation says what to
collect next.

Without any container (the event listed none and ECS could not describe the task: it keeps stopped
tasks about an hour, or the read failed), the finding says plainly that the evidence is insufficient,
and its gaps say what could not be read; it is not posted to Slack unless ECS_AUTOPSY_POST_INSUFFICIENT
(shared/notify/noise.py), SNS gets it (issue 10.4).
"""

from __future__ import annotations

from datetime import UTC, timedelta

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import SIGNAL_EXITS, Evidence
from shared.patterns.base import KILL_REPORT, Explanation, Facts, Match, Pattern, Proof, Stage

_MEANING = {
    137: "SIGKILL: killed from outside (kernel OOM killer without an ECS reason, or not stopping within "
         "stopTimeout after SIGTERM)",
    143: "SIGTERM: asked to stop from outside (scheduler, deployment, StopTask)",
    130: "SIGINT",
    129: "SIGHUP",
    1: "the application returned 1 (generic failure)",
}


# Signals a process gets from its own fault, not from outside: exit code -> (signal, what it means)
_SELF_SIGNALS = {
    139: ("SIGSEGV", "a segmentation fault in a C extension, a shared library or an APM/profiler agent (e.g. "
                     "ddtrace, grpc, wheels built for another libc or CPU)"),
    134: ("SIGABRT", "abort() in native code (a failed assertion, glibc 'double free' or 'corrupted size')"),
    132: ("SIGILL", "an instruction the CPU does not have (a build for newer CPUs, AVX, or the wrong architecture)"),
    136: ("SIGFPE", "an arithmetic fault in native code (an integer division by zero)"),
    135: ("SIGBUS", "a bus error in native code (often a memory-mapped file that shrank or /dev/shm too small)"),
}


def _host_events(ev: Evidence) -> str:
    """Where an EC2 host recorded who stopped a container: docker events over the stop time, the agent log."""
    if remedy.is_fargate(ev):
        return ""
    at = ev.detail.execution_stopped_at or ev.detail.stopping_at or ev.detail.stopped_at
    if at is None:
        return ("; on the EC2 instance (the daemon keeps recent events), `docker events --since 24h --until 1s "
                "--filter event=kill --filter event=stop` lists the signals sent, and /var/log/ecs/ecs-agent.log "
                "says whether the agent sent them")
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    since = (at - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (at + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ("; on the EC2 instance (the daemon keeps recent events), "
            f"`docker events --since {since} --until {until} --filter event=kill --filter event=stop` lists "
            "the signals sent around the stop, and /var/log/ecs/ecs-agent.log says whether the agent sent them")


def _clear_culprit(ev: Evidence) -> str | None:
    """The container that failed, when exactly one failed on its own (an exit code the process returned,
    not 0 and not a signal, or a reason of its own) and attribution ranks it first: the cause is unknown,
    not which container it was in. None when the others were also killed or failed, or none stands out."""
    waiting = ev.attribution.waiting_on
    own = [c.name for c in ev.detail.containers if c.name and (
        (c.exit_code not in (None, 0) and c.exit_code not in SIGNAL_EXITS) or (c.reason and c.name not in waiting))]
    return own[0] if len(own) == 1 and own[0] == ev.attribution.culprit else None


class UnknownFacts(Facts):
    """The facts of unknown."""

    exit_codes: dict[str, int | None] | None = Field(None, description="Exit code of each container.")
    exit_meaning: dict[str, str] | None = Field(None, description="What each exit code means.")
    stop_code: str | None = Field(None, description="ECS's stop code.")


class Unknown(Pattern):
    id = "unknown"
    priority = 0
    severity = "warning"
    Facts = UnknownFacts
    key_facts = ()
    verdict = "undetermined"
    fallback = True

    def match(self, ev: Evidence) -> Match | None:
        facts: dict = {}
        exits = {c.name or f"containers[{i}]": c.exit_code for i, c in enumerate(ev.detail.containers)
                 if c.exit_code is not None}
        if exits:
            facts["exit_codes"] = exits
            meanings = {str(code): _MEANING[code] for code in set(exits.values()) if code in _MEANING}
            if meanings:
                facts["exit_meaning"] = meanings
        if ev.stop_code:
            facts["stop_code"] = ev.stop_code
        culprit = _clear_culprit(ev)
        if culprit:
            facts["container"] = culprit
        proofs = [Proof("stoppedReason", ev.stopped_reason)] if ev.stopped_reason else []
        return Match(facts=facts, proofs=tuple(proofs), confidence=0.3, stage=Stage.BENIGN, container=ev.primary)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        if not ev.detail.containers:
            return _insufficient(ev)
        exits = m.facts.get("exit_codes", {})
        killed = [n for n, c in exits.items() if c in SIGNAL_EXITS]
        steps = []
        if killed:
            codes = {exits[n] for n in killed}
            advice = []
            if 137 in codes:
                # stopTimeout only matters when ECS stopped the task (SIGTERM, then SIGKILL after the timeout);
                # EssentialContainerExited means the container died first, so ECS sent no SIGTERM.
                ecs_stopped = ev.stop_code not in ("EssentialContainerExited", "")
                advice.append("With 137 (SIGKILL) check memory (Container Insights MemoryUtilized near the limit)"
                              + (" and whether it ignores SIGTERM (stopTimeout)" if ecs_stopped else
                                 "; ECS did not stop it (EssentialContainerExited), so no SIGTERM or stopTimeout "
                                 "was involved: something on the task or host killed it")
                              + ("; on the EC2 instance, the kernel log (`sudo journalctl -k --since -2h`, or dmesg) "
                                 "shows an OOM kill by the host's kernel, which ECS does not report as one"
                                 if not remedy.is_fargate(ev) else ""))
            if 143 in codes:
                # 143 is SIGTERM: a request to stop, never the memory limit.
                advice.append("143 is SIGTERM, a request to stop (not memory): find who sent it"
                              + (" (the stop code EssentialContainerExited says ECS did not: something inside the "
                                 "task or on the host did)" if ev.stop_code == "EssentialContainerExited" else
                                 " in the stop code and the service events")
                              + _host_events(ev))
            steps.append(f"{', '.join(map(str, killed))} exited with a signal code ({', '.join(str(exits[n]) for n in killed)}): "
                         "the process was killed from outside."
                         + "".join(f" {a}." for a in advice))
        report = _kill_report(ev)
        if report is not None and not killed:
            # A wrapper (shell, supervisor) reported that a process it ran was killed, and exited with a code of its
            # own: the kill is the lead, not an error of the app's.
            steps.append(f"The log's last line says a process was killed by a signal (`{report}`); "
                         "ECS gave no reason. Most often that is the kernel OOM killer (a process over the "
                         "container's memory; a child can be killed while the main process lives on to exit): check "
                         "memory (Container Insights MemoryUtilized near the limit, the task's and container's memory "
                         "settings)" + ("; on the EC2 instance, the kernel log (`sudo journalctl -k --since -2h`, or "
                                        "dmesg) shows an OOM kill, which ECS does not report as one"
                                        if not remedy.is_fargate(ev) else "") + ".")
        crashed = {n: c for n, c in exits.items() if c in _SELF_SIGNALS}
        if crashed:
            n, c = next(iter(crashed.items()))
            name, what = _SELF_SIGNALS[c]
            img = remedy.image(ev, n)
            # SIGSEGV is a crash inside native code: an image built for another architecture fails at exec
            # ("exec format error") and Node's --report-on-fatalerror does not fire on a segfault, so neither fits.
            # SIGILL is an instruction this CPU lacks: the build's target CPU is the thing to check.
            steps.insert(0, f"{n} exited {c} = 128 + {c - 128}, signal {c - 128} ({name}): the process crashed "
                            f"by itself in native code, {what}. Get the native stack (Python "
                            "`PYTHONFAULTHANDLER=1`"
                            + (", Node `--report-on-fatalerror`" if c != 139 else "")
                            + ", a core dump) and reproduce with the image and the task's limits"
                            + (f": `{remedy.docker_run(ev, n, env=['PYTHONFAULTHANDLER=1'])}`" if img and not remedy.local_repro_blocked(ev, n) else "")
                            + "; upgrade, pin or disable the native extension or agent added last"
                            + (", and rebuild it for the instance's CPU (check the instance type and "
                               "`ecs.cpu-architecture`)." if c == 132 else
                               "." if c == 139 else
                               ", and check the image's architecture matches the task's (X86_64 / ARM64)."))
        if not ev.logs:
            tail = remedy.logs_tail(ev, ev.primary)
            steps.append("No log lines were available: check the container's log configuration (`logConfiguration`) "
                         + (f"and read this task's log stream: `{tail}`." if tail else
                            "and read this task's log stream in CloudWatch Logs."))
        events = remedy.service_events(ev)
        steps.append("Read the full stop reason"
                     + (" and the service events" if events else "")
                     + f" (ECS keeps a stopped task about an hour): `{remedy.describe_task(ev)}`"
                     + (f" and `{events}`." if events else "."))
        steps.append("If you find the cause, tell us: a pattern for it makes the next diagnosis automatic.")
        reason = ev.stopped_reason or "no stop reason"
        return Explanation(
            title=f"Task stopped, cause not recognised ({reason[:80]})",
            summary=("ecs-autopsy could not match the evidence to a known failure. "
                     + (f"Exit codes: {', '.join(f'{n}={c}' for n, c in exits.items())}. " if exits else "")
                     + "See the exit code meaning and the log excerpt."),
            remediation=steps,
        )


def _kill_report(ev: Evidence) -> str | None:
    """The essential container's last log line when it only reports that a process was killed by a signal."""
    logs = ev.logs
    for i in range(len(logs) - 1, -1, -1):
        if logs.containers[i] not in (ev.primary, None) or not logs.texts[i].strip():
            continue
        text = logs.texts[i].strip()
        return text if KILL_REPORT.match(text) else None
    return None


def _insufficient(ev: Evidence) -> Explanation:
    """Nothing to diagnose from: no container, so no exit code, container reason or log stream."""
    reason = ev.stopped_reason
    task = (ev.detail.task_arn or "").rsplit("/", 1)[-1] or "the task"
    return Explanation(
        title=f"Insufficient evidence: no container details for task {task[:40]}",
        summary=("The stop event listed no containers and ECS could not describe the task (it keeps stopped "
                 "tasks for about an hour; the gaps say what could not be read), so there is no exit code, "
                 "container reason or log stream to diagnose from. "
                 + (f"ECS's stop reason: {reason[:300]}." if reason else "The event gives no stop reason either.")),
        remediation=[
            f"Describe the task while ECS still keeps it: `{remedy.describe_task(ev)}` (the containers' exit codes "
            "and reasons), then invoke the manual function with the cluster and task to diagnose it again.",
            *([f"Read the service's events: `{events}`."] if (events := remedy.service_events(ev)) else []),
            "If a read was denied or throttled (see the gaps), fix that: the next stop is then diagnosed in full.",
        ],
    )


PATTERN = Unknown()
