"""container-health-check-failed: the container's own HEALTHCHECK (task definition) failed.

Signal: stoppedReason "Task failed container health checks" (or a container whose healthStatus
is UNHEALTHY). A symptom like ELB checks: a root cause in the logs wins. Facts: container, the
health check command (live), hints such as a server bound to one hostname (the check runs inside
the container against localhost).
"""

from __future__ import annotations

import json
import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.lock_wait import release_step
from shared.patterns.base import Explanation, Facts, Match, Pattern, Proof, Stage, log_proof, reason_proof
from shared.patterns.health_check_failed import listen_banners
from shared.scan import lazy_re

_SIGNAL = lazy_re(r"failed container health checks?|container health check(?:s)? failed|unhealthy container",
                     re.IGNORECASE)
# The check command's output: "/bin/sh: curl: not found", "sh: 1: wget: not found"
_SHELL_MISSING = lazy_re(r"\b(?:/bin/)?(?:sh|bash|ash|dash): (?:\d+: )?(curl|wget|nc|python3?|node|grpc_health_probe)"
                            r"\b:? (?:command )?not found")
# The app's own start-up time ("Started App in 104.87 seconds", "Keycloak ... started in 45.120s").
_STARTED_IN = lazy_re(r"\bstarted\b[^\n]{0,160}?\bin\s+(\d+(?:\.\d+)?)\s*s(?:ec(?:ond)?s?)?\b", re.IGNORECASE)
_CHECK_CMD = lazy_re(r"exec: \\?\"([^\"\\]+)\\?\": executable file not found")
_HOST_BIND = lazy_re(r"(?:Local|Network|listening on|running on|started on):?\s+(?:https?://)?"
                        r"(ip-[\w-]+(?:\.[\w-]+)*|(?:\d{1,3}\.){3}\d{1,3}):(\d+)", re.IGNORECASE)


class ContainerHealthCheckFailedFacts(Facts):
    """The facts of container-health-check-failed."""

    hint: str | None = Field(None, description="What the health check's failure suggests.")
    listen_address: str | None = Field(None, description="The address the application listens on.")
    listen_port: int | None = Field(None, description="The port the application listens on.")
    missing_command: str | None = Field(None, description="A command the health check runs that the image lacks.")
    health_check: str | None = Field(None, description="The container health-check command.")
    start_period: int | None = Field(None, description="The health check's start period, seconds.")


def _ports(ev: Evidence, container: str | None) -> tuple[int, ...]:
    cdef = ev.container_definition(container)
    return cdef.port_mappings if cdef else ()


class ContainerHealthCheckFailed(Pattern):
    id = "container-health-check-failed"
    explained_by = ("healthCheck",)
    priority = 30
    severity = "critical"
    Facts = ContainerHealthCheckFailedFacts
    key_facts = ("container",)

    def match(self, ev: Evidence) -> Match | None:
        m = _SIGNAL.search(ev.stopped_reason)
        unhealthy = [c.name for c in ev.detail.containers if (c.health_status or "").upper() == "UNHEALTHY"]
        if not m and not (unhealthy and ev.stop_code != "EssentialContainerExited"):
            return None
        container = unhealthy[0] if unhealthy else ev.primary
        proofs = [reason_proof("stoppedReason", ev.stopped_reason)] if m else [
            Proof(f"containers[{container}].healthStatus", "UNHEALTHY")]
        facts: dict = {"container": container}
        cdef = ev.container_definition(container)
        if cdef and cdef.health_check:
            facts["health_check"] = " ".join(cdef.health_check)
            if cdef.health_check_start_period is not None:
                facts["start_period"] = cdef.health_check_start_period
        for i in ev.logs.lines_with("oci runtime exec failed", "exec failed", "not found"):
            missing = _CHECK_CMD.search(ev.logs.texts[i]) or _SHELL_MISSING.search(ev.logs.texts[i])
            if missing:
                facts["hint"] = f"the health check command `{missing.group(1)}` is not in the image"
                facts["missing_command"] = missing.group(1)
                proofs.append(log_proof(ev, i))
                break
        for i in ev.logs.lines_with("local:", "network:", "listening on", "running on", "started on"):
            hb = _HOST_BIND.search(ev.logs.texts[i])
            if hb and not hb.group(1).startswith(("0.0.0.0", "127.")):
                facts["listen_address"] = hb.group(1)
                facts["listen_port"] = int(hb.group(2))
                facts["hint"] = "bound to the task's own hostname/IP, not localhost"
                proofs.append(log_proof(ev, i))
                break
        return Match(facts=facts, proofs=tuple(proofs), confidence=0.9, stage=Stage.SYMPTOM, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        container = f.get("container") or "the container"
        cmd = f.get("health_check")
        steps: list[str] = []
        if f.get("missing_command"):
            steps.append(f"The check runs `{f['missing_command']}`, which the image does not have: install it in the "
                         "Dockerfile (a static curl copied in a build stage works on any base), or use a command "
                         "the image has: a health subcommand of the app's own binary, or wget where busybox has it.")
        elif f.get("hint"):
            steps.append(f"{container} listens on {f['listen_address']}:{f['listen_port']} only, but the health check "
                         "runs inside the container against localhost: bind to 0.0.0.0 (Next.js standalone: set "
                         "`HOSTNAME=0.0.0.0`; Fargate sets HOSTNAME to the task's name) or check that address.")
        why = remedy.cite(m)
        if steps and why:
            steps[0] += why
            why = ""
        name = f.get("container")
        image = remedy.image(ev, name) or "the image"
        if _managed(name, image):
            said_managed = remedy.logged_error(ev, name)
            return _explain_managed(ev, name or container, why or remedy.cite(m), said_managed)
        # The check runs next to the running app: start the image in the background, run it with docker exec.
        # with the task definition's command: many images (Keycloak's start, a server's flags) need it to serve
        start = remedy.read_command(ev, name) + "\n" + remedy.docker_run(ev, name, detach="health-test",
                                                                       args=remedy.RUN_COMMAND)
        env_note = ""
        if remedy.family_revision(ev) and name:
            # Many images (agents with a token, apps with a database URL) exit at once without the task's
            # environment, and the exec then finds no container: pass the task definition's variables.
            query = f"taskDefinition.containerDefinitions[?name=='{name}'].environment[].[name,value]"
            export = f"{remedy.describe_task_definition(ev, query)} --output text | tr '\\t' '=' > task.env"
            start = start.replace("docker run --rm", export + "\ndocker run --rm --env-file task.env", 1)
            env_note = (" (secrets, the task definition's `secrets`, are not exported: add each NAME=value to "
                        "task.env by hand)")
        if cmd:
            shell = cmd.split("CMD-SHELL", 1)[-1].strip(" ,[]\"'") if "CMD-SHELL" in cmd else cmd
            read, run = "", f"docker exec health-test sh -c {remedy.q(shell)}"
        else:
            # CMD-SHELL ["CMD-SHELL", "curl -f ..."] and CMD ["CMD", "curl", "-f", ...] alike: the words after the first
            read = remedy.td_value(ev, "check", name, "join(' ', healthCheck.command[1:])") + "\n"
            run = 'docker exec health-test sh -c "$check"'
        # A missing check tool fails from the first check: the run time does not say the check once passed.
        settled = bool(f.get("missing_command"))
        blocked = remedy.local_repro_blocked(ev, name, at_start=settled, serving=not settled)
        late = not settled and (remedy.ran_for(ev) or 0) > remedy.RAN_A_WHILE_S
        slow = None if settled else _start_seconds(ev, name)  # a start-up slower than the start period: settled
        # A start-up stuck on a migration lock left behind by a killed migration: release it first.
        lock = release_step(ev, name) if not settled and not steps else None
        if lock:
            steps.append(lock)
            why = ""
        # The container's own log names the failure behind the check: step 1 acts on it, not "read the log".
        said = remedy.logged_error(ev, name) if not settled and slow is None and not steps else None
        if said:
            i, text, n = said
            steps.append(f"{container}'s own log names the failure behind the check: \u201c{text}\u201d"
                         + (f" (logged {n} times)" if n > 1 else "")
                         + f": {remedy.error_action(text)}; the check only reports it."
                         + remedy.because(log_proof(ev, i).source, ev.logs.texts[i]))
            why = ""
        if said and blocked:
            pass  # nothing a local run could add
        elif slow is None and blocked:
            tail = remedy.logs_tail(ev, name)
            steps.append(f"A local run cannot show this ({blocked}): read {container}'s own log for the minutes "
                         "before it turned UNHEALTHY" + (f" (`{tail}`)" if tail else "")
                         + " and compare it with what the check asks"
                         + (f" (`{cmd}`)" if cmd else "")
                         + (": a check that passed for a while and then failed points to the process hanging or "
                            "answering slower than the check's `timeout` under load, not to a missing tool or a short "
                            "start period" if late else "")
                         + f".{why}")
        elif slow is None:
            steps.append(f"Run {container}'s check yourself next to the running app (the task has stopped), in bash"
                         f"{env_note}: "
                         f"```\n{read}{start}\nsleep 30\n{run}\necho \"exit $?\"\ndocker rm -f health-test\n``` it must "
                         "exit 0 once the app has started (wait its start-up time)"
                         + (f" (the check is `{cmd}`)" if cmd else "") + f".{why}")
        # Containers that never started because they wait on this one being HEALTHY (dependsOn).
        waiting = [c.name for c in ev.detail.containers
                   if c.name and c.name != name and c.exit_code is None and not c.reason
                   and (c.health_status or "").upper() != "UNHEALTHY"] if name else []
        if waiting and any((c.health_status or "").upper() == "UNHEALTHY" for c in ev.detail.containers):
            chained = [w for w in waiting if (cd := ev.container_definition(w)) and (name, "HEALTHY") in cd.depends_on]
            several = len(waiting) > 1
            steps.append(f"{', '.join(waiting)} never started (no exit code): "
                         + (f"{'they wait' if several else 'it waits'} on {container} with dependsOn condition HEALTHY"
                            if chained else f"a container that waits on {container} with dependsOn condition HEALTHY "
                            "(check its dependsOn) never starts")
                         + f", so fixing {container}'s check also starts {'them' if several else 'it'}; the fault is "
                         f"not in {'their' if several else 'its'} own code.")
        if slow is not None:
            period = f.get("start_period")
            want = min(300, int(slow * 1.2) + 10)
            steps.insert(0, f"{container} took {slow:g} s to start (its log says so), longer than the check's start "
                            f"period{f' ({period} s)' if period is not None else ''} allows, so ECS counted failed "
                            f"checks while it was still starting: raise `healthCheck.startPeriod` to {want} s"
                            + (" (300 s is the maximum: also move the slow start-up work, such as migrations, out of "
                               "start-up)" if slow * 1.2 + 10 > 300 else "")
                            + f", register the revision and roll it out: {remedy.roll_out(ev)}.{why}")
        # A check that passed for a while had its tool; a log naming another failure rules a missing tool out too.
        if not f.get("missing_command") and not late and slow is None and not said:
            port = f.get("listen_port") or next(iter(_ports(ev, name)), None)
            bash = (f" (bash alone can test the port: `{json.dumps(['CMD', 'bash', '-c', f':> /dev/tcp/127.0.0.1/{port}'])}`)"
                    if port else " (bash alone can open a TCP connection to the app's port through /dev/tcp)")
            steps.append(f"The check's tool must exist in {image}"
                         + (f": `docker run --rm --entrypoint sh {remedy.q(image)} -c 'for x in curl wget python3 bash; do command -v \"$x\"; done'` "
                            "lists which of them it has (no sh at all: a distroless image)"
                            if image != "the image" else "")
                         + ". Minimal images (UBI-micro, distroless, slim) often have none of curl, wget and python: "
                         f"use what it has{bash}, the app's own health command, or copy a static curl into the image "
                         "in a build stage.")
        # Start-up time helps only a check failing during start-up, and only the log can show that: the container
        # logged and never said it listens (no log at all is no evidence of a slow start).
        starting = remedy.still_starting(ev, name)
        if starting is not None and any(c in (name, None) for c in
                                        (ev.logs.containers[i] for i, _, _ in listen_banners(ev))):
            starting = None  # it said it listens: it had started
        if not settled and not late and slow is None and starting is not None:
            steps.append("Give start-up time with `healthCheck.startPeriod` (up to 300 s)."
                         + remedy.because(log_proof(ev, starting).source, ev.logs.texts[starting]))
        # `curl` without -f exits 0 on an error status: only a check the evidence shows runs plain curl.
        if cmd and re.search(r"\bcurl\b", cmd) and not re.search(r"\s(?:-\w*f\w*|--fail)\b", cmd):
            steps.append(f"Make the check exit 0 only when healthy: `{cmd}` runs curl without `-f`, which exits 0 "
                         "on an error status; use `curl -f`.")
        return Explanation(
            title=f"Container health check failed: {container}",
            summary=(f"The HEALTHCHECK of {container} kept failing, so ECS stopped the task"
                     + (f": {f['hint']}." if f.get("missing_command")
                        else ": the server is bound to one hostname and the check cannot reach it on localhost."
                        if f.get("hint") else "." if not ev.logs.texts
                        else ". The application log shows no error of its own.")),
            remediation=steps,
        )


def _start_seconds(ev: Evidence, name: str | None) -> float | None:
    """The start-up time the app logged, when it is longer than the check's start period allows."""
    cdef = ev.container_definition(name)
    period = cdef.health_check_start_period if cdef else None
    for i in ev.logs.lines_with("started"):
        hit = _STARTED_IN.search(ev.logs.texts[i])
        if hit and float(hit.group(1)) > max(period or 0, 30):
            return float(hit.group(1))
    return None


def _managed(name: str | None, image: str) -> bool:
    """A container ECS adds and runs itself (the Service Connect proxy): its image is not yours to run."""
    return bool(name and name.startswith("ecs-service-connect-")) or "ecs-service-connect-agent" in image


def _explain_managed(ev: Evidence, name: str, why: str, said: tuple[int, str, int] | None = None) -> Explanation:
    svc = remedy.service(ev)
    steps = [f"{name} is the Service Connect proxy ECS adds to the task (Envoy with the AppNet agent); its health "
             "check is Envoy's readiness, which fails when Envoy gets no configuration or its admin interface is not "
             "where the agent probes it. "
             + (f"Its log names the cause: \u201c{said[1]}\u201d; fix that, and check the " if said else
                "Read its log lines (the readiness error names the cause), and check the ")
             + "service's Service Connect configuration"
             + (f": `aws ecs describe-services --cluster {remedy.q(remedy.cluster(ev))} --services {remedy.q(svc)} "
                "--query 'services[0].deployments[0].serviceConnectConfiguration'`" if svc else "")
             + f".{why}",
             "Do not override the proxy's settings (APPNET_* / ENVOY_* variables) in the task definition unless AWS "
             "documents them for your platform version; remove such overrides, and check the task's port mappings "
             "have the names and appProtocol the Service Connect configuration refers to.",
             "The application container may be healthy: ECS replaces the whole task when an essential container "
             f"turns UNHEALTHY. {remedy.start_again(ev).capitalize()} once the configuration is fixed."]
    return Explanation(
        title=f"Service Connect proxy unhealthy: {name}",
        summary=(f"The Service Connect proxy {name} that ECS runs in the task failed its readiness check, so ECS "
                 "stopped the task. The application container is not what failed."),
        remediation=steps,
    )


PATTERN = ContainerHealthCheckFailed()
