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
from shared.patterns.base import Explanation, Facts, Match, Pattern, Proof, Stage, log_proof, reason_proof
from shared.scan import lazy_re

_SIGNAL = lazy_re(r"failed container health checks?|container health check(?:s)? failed|unhealthy container",
                     re.IGNORECASE)
# The check command's output: "/bin/sh: curl: not found", "sh: 1: wget: not found"
_SHELL_MISSING = lazy_re(r"\b(?:/bin/)?(?:sh|bash|ash|dash): (?:\d+: )?(curl|wget|nc|python3?|node|grpc_health_probe)"
                            r"\b:? (?:command )?not found")
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
                         "Dockerfile or use a command the image has (e.g. a small script in the app's language).")
        elif f.get("hint"):
            steps.append(f"{container} listens on {f['listen_address']}:{f['listen_port']} only, but the health check "
                         "runs inside the container against localhost: bind to 0.0.0.0 (Next.js standalone: set "
                         "`HOSTNAME=0.0.0.0`; Fargate sets HOSTNAME to the task's name) or check that address.")
        why = remedy.cite(m)
        if steps and why:
            steps[0] += why
            why = ""
        if cmd:
            shell = cmd.split("CMD-SHELL", 1)[-1].strip(" ,[]\"'") if "CMD-SHELL" in cmd else cmd
            steps.append("Run the check yourself in the image (the task has stopped): "
                         f"`{remedy.docker_run(ev, f.get('container'), entrypoint='sh', args='-c ' + remedy.q(shell))}`"
                         f"; it must exit 0.{why}")
        else:
            steps.append("Read the check the task definition runs, then run it yourself in the image: "
                         f"`{remedy.describe_task_definition(ev, 'taskDefinition.containerDefinitions[].[name, healthCheck]')}`.{why}")
        port = f.get("listen_port") or next(iter(_ports(ev, f.get("container"))), None) or "<the port the app listens on>"
        example = json.dumps(["CMD-SHELL", "python -c 'import urllib.request; urllib.request.urlopen("
                              f"\"http://localhost:{port}<the path your app answers health checks on>\")'"])
        steps.append("The command must exist in the image: slim and distroless images have no curl/wget "
                     f"(use `{example}` or add the tool)"
                     + (f"; the current check is `{cmd}`." if cmd else "."))
        steps.append("Give start-up time with `healthCheck.startPeriod` (up to 300 s) and make the command exit 0 "
                     "only when healthy (`curl -f`, not plain curl).")
        return Explanation(
            title=f"Container health check failed: {container}",
            summary=(f"The HEALTHCHECK of {container} kept failing, so ECS stopped the task"
                     + (f": {f['hint']}." if f.get("missing_command")
                        else ": the server is bound to one hostname and the check cannot reach it on localhost."
                        if f.get("hint") else ". The application log shows no error of its own.")),
            remediation=steps,
        )


PATTERN = ContainerHealthCheckFailed()
