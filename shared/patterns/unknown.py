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
from shared.patterns.base import KILL_REPORT, Explanation, Facts, Match, Pattern, Proof, Stage, never_started

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
                f"--filter event=kill --filter event=stop` lists the signals sent, and {remedy.agent_log(ev)} "
                "says whether the agent sent them")
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    since = (at - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (at + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ("; on the EC2 instance (the daemon keeps recent events), "
            f"`docker events --since {since} --until {until} --filter event=kill --filter event=stop` lists "
            f"the signals sent around the stop, and {remedy.agent_log(ev)} says whether the agent sent them")


def _clear_culprit(ev: Evidence) -> str | None:
    """The container that failed, when exactly one failed on its own (an exit code the process returned,
    not 0 and not a signal, or a reason of its own) and attribution ranks it first: the cause is unknown,
    not which container it was in. A task of one container that exited abnormally (a signal too) and so stopped
    the task (EssentialContainerExited) names it: there is no other. None when the others were also killed or
    failed, or none stands out."""
    only = ev.detail.containers
    if len(only) == 1 and ev.stop_code == "EssentialContainerExited" and only[0].exit_code not in (None, 0):
        return only[0].name or None
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
        # Containers ECS stopped with the task after another failed on its own (shared.attribution): their
        # 143/137 is ECS's SIGTERM (then SIGKILL after stopTimeout), not a fault to chase.
        victims = [n for n in ev.attribution.victims if exits.get(n) in SIGNAL_EXITS]
        culprit = ev.attribution.culprit if victims else None
        killed = [n for n, c in exits.items() if c in SIGNAL_EXITS and n not in victims]
        essential_exit = ev.stop_code == "EssentialContainerExited"
        # Several containers killed by a signal after an essential one exited: ECS sent the later ones theirs,
        # and the codes alone do not say which container exited first.
        several = essential_exit and len(killed) > 1
        steps = []
        if culprit:
            steps.append(_first_failure_step(ev, culprit, exits.get(culprit), victims, exits, essential_exit))
        if killed:
            codes = {exits[n] for n in killed}
            advice = []
            if 137 in codes:
                # stopTimeout only matters when ECS stopped the container (SIGTERM, then SIGKILL after the timeout);
                # EssentialContainerExited means the first container died on its own, so ECS sent it no SIGTERM.
                ecs_stopped = ev.stop_code not in ("EssentialContainerExited", "")
                advice.append("With 137 (SIGKILL) check memory (Container Insights MemoryUtilized near the limit)"
                              + (" and whether it ignores SIGTERM (stopTimeout)" if ecs_stopped else
                                 "; if it exited first, ECS did not stop it (EssentialContainerExited): something on "
                                 "the task or host killed it; if it exited after another container, it is ECS's "
                                 "SIGKILL after stopTimeout" if several else
                                 "; ECS did not stop it (EssentialContainerExited), so no SIGTERM or stopTimeout "
                                 "was involved: something on the task or host killed it")
                              + ("; on the EC2 instance, the kernel log (`sudo journalctl -k --since -2h`, or dmesg) "
                                 "shows an OOM kill by the host's kernel, which ECS does not report as one"
                                 if not remedy.is_fargate(ev) else ""))
            if 143 in codes:
                # 143 is SIGTERM: a request to stop, never the memory limit.
                advice.append("143 is SIGTERM, a request to stop (not memory): find who sent it"
                              + (" (after an essential container exits, ECS sends SIGTERM to the others, so only "
                                 "the container that exited first got its signal from something else, inside the "
                                 "task or on the host; the exit codes do not say which one that was: compare the "
                                 "times of each container's last log lines)" if several else
                                 " (the stop code EssentialContainerExited says ECS did not: something inside the "
                                 "task or on the host did)" if essential_exit else
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
            steps.insert(1 if culprit else 0, f"{n} exited {c} = 128 + {c - 128}, signal {c - 128} ({name}): the process crashed "
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
        # A task that never started a container wrote no application log: its log stream does not exist, and
        # the containers' reasons in DescribeTasks (and the service events) are where the cause is.
        unstarted = never_started(ev) and all(c.exit_code is None for c in ev.detail.containers)
        if not ev.logs and not unstarted:
            tail = remedy.logs_tail(ev, ev.primary)
            steps.append("No log lines were available: check the container's log configuration (`logConfiguration`) "
                         + (f"and read this task's log stream: `{tail}`." if tail else
                            "and read this task's log stream in CloudWatch Logs."))
        events = remedy.service_events(ev)
        steps.append(("No container of the task ran (no exit code), so there is no application log to read: "
                      "the containers' `reason` and the stop reason say why it failed. Read them"
                      if unstarted and not ev.logs else "Read the full stop reason")
                     + (" and the service events" if events else "")
                     + f" (ECS keeps a stopped task about an hour): `{remedy.describe_task(ev)}`"
                     + (f" and `{events}`." if events else "."))
        steps.append("If you find the cause, tell us: a pattern for it makes the next diagnosis automatic.")
        reason = ev.stopped_reason or "no stop reason"
        return Explanation(
            title=f"Task stopped, cause not recognised ({reason[:80]})",
            summary=("ecs-autopsy could not match the evidence to a known failure. "
                     + (f"Exit codes: {', '.join(f'{n}={c}' for n, c in exits.items())}. " if exits else "")
                     + (f"{culprit} failed first ({_failed(ev, culprit, exits.get(culprit))}); ECS then stopped "
                        f"{', '.join(victims)} with the task. " if culprit else "")
                     + "See the exit code meaning and the log excerpt."),
            remediation=steps,
        )


def _failed(ev: Evidence, name: str, code: int | None) -> str:
    """How the container that failed first failed, in a few words: its exit code, else its reason."""
    if code is not None and code not in SIGNAL_EXITS:
        return f"exit {code}"
    reason = next((c.reason for c in ev.detail.containers if c.name == name and c.reason), None)
    return f"reason: {reason.split(':')[0][:60]}" if reason else f"exit {code}" if code is not None else "no exit code"


def _first_failure_step(ev: Evidence, culprit: str, code: int | None, victims: list[str], exits: dict,
                        essential_exit: bool) -> str:
    """Where to look: the container that failed on its own first, not the ones ECS stopped after it."""
    stopped = ", ".join(f"{n} ({exits[n]})" for n in victims)
    kind = ev.attribution.sidecars.get(culprit)
    image = remedy.image(ev, culprit) or ""
    floating = remedy.floating_tag(image)
    return (f"{culprit} failed first, on its own ({_failed(ev, culprit, code)}): start there, with its own logs"
            + (f"; its image `{image}` follows a tag that moves to each new release, so the image can change under "
               "the same task definition: pin a version to rule that out" if floating else "")
            + f". {stopped} exited only because ECS stops the task's other containers (SIGTERM, then "
            "SIGKILL after stopTimeout) when it stops the task: not a cause."
            + (f" {culprit} is a sidecar ({kind}), and an essential one: its exit alone takes the whole task down; "
               "if the application should keep running without it, mark it `essential: false`."
               if kind and essential_exit and remedy.may_be_non_essential(ev, culprit) else ""))


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
