"""platform-error: an AWS-side, agent or container-runtime failure, not the application's.

Signals: InternalError; ContainerRuntimeError; ContainerRuntimeTimeoutError; DockerTimeoutError;
CannotStopContainerError; CannotInspectContainerError; CannotCreateContainerError (other than
disk space); stopCode InfrastructureHealth; "Host EC2 (instance ...) terminated/stopped" (AWS Batch:
"Host EC2 Terminated"); the agent failing to create the awsvpc pause container; a stop reason saying ECS
could not register the task in Cloud Map (service discovery) in time.
Facts: error_code.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    DAEMON_UNREACHABLE,
    RUNTIME_INTERNAL,
    Cause,
    Explanation,
    Extract,
    Facts,
    Match,
    Proof,
    ReasonPattern,
    Stage,
    classify,
    container_for_line,
    container_for_reason,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
)
from shared.scan import lazy_re, run_regex

_SIGNAL_HEAD = (
    r"\b(InternalError|ContainerRuntimeError|ContainerRuntimeTimeoutError|DockerTimeoutError"
    r"|CannotStopContainerError|CannotInspectContainerError|CannotCreateContainerError"
    r"|CannotStartContainerError(?=: API error \(5\d\d\))|TaskFailedToStart(?=: InternalError)|AgentError)\b"
    # ECS names the instance ("Host EC2 (instance i-...) terminated."); AWS Batch's status reason does not
    # ("Host EC2 Terminated"), capitalised.
    r"|(Host EC2 (?:\(instance [\w-]+\) )?(?i:terminated|stopped|was terminated))"
    r"|(container instance (?:is )?(?:being )?(?:deregistered|disconnected)|agent (?:was )?disconnected"
    r"|encountered error \"AGENT\"|"
)
# "<Name>Error: Agent could not" starts at the first capital of its word: from each capital of a 16 KB word the
# search read the rest of the word again (0.5 s); every start in the word ends the name at the same place, so the
# search starts at words only, then the regex is matched where its own search would have found it (run_regex).
_SIGNAL = run_regex(_SIGNAL_HEAD + r"[A-Z]\w*Error: Agent could not)",
                    _SIGNAL_HEAD + r"(?<!\w)[^\WA-Z]*+(?P<capital>[A-Z])\w*Error: Agent could not)", None, r"\w",
                    start="capital")
# awsvpc on EC2: the agent's pause container (it holds the task's network namespace) could not be made,
# e.g. a custom AMI that runs the agent without ecs-init, which loads the amazon/amazon-ecs-pause image.
_PAUSE = lazy_re(r"(?:error|failed) (?:creating|starting|pulling|to create|to start) (?:the )?container "
                    r"\[?~internal~ecs~pause\]?|No such image: amazon/amazon-ecs-pause", re.IGNORECASE)

# ECS registers each task of a service with serviceRegistries in Cloud Map before it counts as started; a
# registration that never completes stops the task ("Timeout waiting for service discovery instance
# provisioning to complete"). Only in a stop reason: an application's own discovery client (Eureka, Consul)
# says similar words in its log.
_SERVICE_DISCOVERY = lazy_re(r"service discovery (?:instance )?(?:provisioning|registration)"
                             r"|(?:register|registering|registration of) (?:the )?(?:task|instance) (?:with|in) "
                             r"(?:AWS )?Cloud ?Map", re.IGNORECASE)


def _code(value: str) -> Extract:
    return lambda text, m, ev: {"error_code": value}


# The error code of a reason, from the words the signal matched, first row that matches: the code itself
# (InternalError, CannotStopContainerError ...), the instance gone, the agent naming its error, the agent
# in the task's error, else the agent disconnected or the instance deregistered.
_CODES = (
    Cause(None, lazy_re(r"^\w+$"), lambda text, m, ev: {"error_code": text}),
    Cause(None, lazy_re(r"^Host EC2\b"), _code("HostEC2Terminated")),
    Cause(None, lazy_re(r"^([A-Z]\w*Error): Agent could not"), lambda text, m, ev: {"error_code": m.group(1)}),
    Cause(None, lazy_re(r"AGENT"), _code("AGENT")),
    Cause(None, lazy_re(r""), _code("AgentDisconnected")),
)
_RUNTIME_CODES = frozenset({"DockerTimeoutError", "CannotStopContainerError", "CannotInspectContainerError",
                            "ContainerRuntimeTimeoutError", "ContainerRuntimeError"})
_NEEDLES = ("internalerror", "containerruntime", "dockertimeouterror", "cannotstopcontainer",
            "cannotinspectcontainer", "cannotcreatecontainer", "agenterror", "~internal~ecs~pause", "amazon-ecs-pause")


# A stop that ECS reports as the container failing its health checks.
_HEALTH_STOP = lazy_re(r"failed container health checks|unhealthy", re.IGNORECASE)

class PlatformErrorFacts(Facts):
    """The facts of platform-error."""

    error_code: str | None = Field(None, description="The ECS/agent/runtime error code.")


_HOST_BROKEN = frozenset({"PauseContainerError", "DockerDaemonUnreachable"})


class PlatformError(ReasonPattern):
    id = "platform-error"
    priority = 50
    severity = "warning"
    Facts = PlatformErrorFacts
    key_facts = ("error_code",)
    outranks = ("image-pull-failed", "container-start-failed", "insufficient-capacity")
    needles = _NEEDLES
    signal = _SIGNAL
    confidence = 0.85

    def match(self, ev: Evidence) -> Match | None:
        m = self._find(ev)
        if m is None:
            return None
        # The agent could not reach the runtime, or the runtime failed inside itself, or the instance's agent
        # is unhealthy: whatever the agent was doing (pulling, starting, placing) failed because of it.
        runtime = (find_in_reasons(ev, DAEMON_UNREACHABLE) or find_in_reasons(ev, RUNTIME_INTERNAL)
                   or m.facts.get("error_code") == "AGENT")
        return m if runtime else replace(m, outranks=())

    def _find(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, self.signal)
        if hit and hit[2].group(2) and (ev.stop_code in ("SpotInterruption", "TerminationNotice")
                                        or "spot" in ev.stopped_reason.lower()):
            hit = None  # the instance was reclaimed on purpose (Spot): an expected stop
        if not hit:
            daemon = find_in_reasons(ev, DAEMON_UNREACHABLE)
            if daemon:
                source, text, _ = daemon
                return self._match("DockerDaemonUnreachable", (reason_proof(source, text),),
                                   container_for_reason(ev, source), Stage.PLATFORM, None)
            internal = find_in_reasons(ev, RUNTIME_INTERNAL)
            if internal:
                source, text, _ = internal
                return self._match("ContainerRuntimeError", (reason_proof(source, text),),
                                   container_for_reason(ev, source), Stage.PLATFORM, None)
        if hit:
            source, text, m = hit
            code = classify(m.group(0), _CODES, ev)["error_code"]
            return self._match(code, (reason_proof(source, text),), container_for_reason(ev, source),
                               Stage.PLATFORM, None)
        discovery = None if hit else find_in_reasons(ev, _SERVICE_DISCOVERY)
        if discovery:
            source, text, _ = discovery
            return self._match("ServiceDiscoveryRegistration", (reason_proof(source, text),),
                               container_for_reason(ev, source), Stage.PLATFORM, None)
        if ev.stop_code.lower() in ("infrastructurehealth", "infrastructurefailure"):
            return self._match(ev.stop_code, (Proof("stopCode", ev.stop_code),), ev.primary, Stage.PLATFORM, None)
        pause = find_in_logs(ev, ("~internal~ecs~pause", "amazon-ecs-pause"), _PAUSE, allow_quiet=True)
        if pause:
            return self._match("PauseContainerError", (log_proof(ev, pause[0]),), ev.primary, Stage.PLATFORM,
                               pause[0])
        found = find_in_logs(ev, self.needles, self.signal, allow_quiet=True)
        if found:
            i, m = found
            code = m.group(1) or "AgentError"
            # The runtime's own timeouts and failures (in agent log lines) are platform evidence; an
            # application may say "InternalError" for its own reasons.
            stage = Stage.PLATFORM if code in _RUNTIME_CODES else Stage.APP
            return self._match(code, (log_proof(ev, i),), container_for_line(ev, i), stage, i)
        return None

    def _match(self, code, proofs, container, stage, anchor) -> Match:
        return Match(facts={"error_code": code, "container": container}, proofs=proofs, confidence=self.confidence,
                     stage=stage, anchor=anchor, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        code = m.facts.get("error_code", "platform error")
        ec2 = (ev.detail.launch_type or "").upper() == "EC2" or ev.detail.container_instance_arn
        # A host that lacks a piece (the pause image, a running Docker) fails every task placed on it: not transient.
        if code in _HOST_BROKEN:
            inst = (ev.detail.container_instance_arn or "").rsplit("/", 1)[-1]
            drain = (f"`aws ecs update-container-instances-state --cluster {remedy.q(remedy.cluster(ev))} "
                     f"--container-instances {remedy.q(inst)} --status DRAINING`" if inst else
                     "drain it (update-container-instances-state DRAINING)")
            steps = [f"This repeats for every task placed on that instance until it is fixed: {drain} or replace it, "
                     f"then {remedy.start_again(ev)}."]
        elif code == "DockerTimeoutError" and not ec2:
            # AWS documents a Fargate container that timed out on its way to CREATED/STARTED as the task's network
            # configuration: what the start needs (the image, the log stream, the secrets) is out of its reach.
            region = remedy.region(ev) or remedy.REGION_UNKNOWN
            steps = ["On Fargate a DockerTimeoutError (the container did not reach CREATED/STARTED in time) is "
                     "documented as the task's network configuration, not a transient fault: a private subnet "
                     "without a NAT gateway or VPC endpoints for what the start needs. Give the task's subnets a "
                     "route to a NAT gateway"
                     + (" (or assignPublicIp ENABLED in a public subnet)" if remedy.public_ip_allowed(ev) else "")
                     + f", or add the VPC endpoints `com.amazonaws.{region}.ecr.api`, `com.amazonaws.{region}.ecr.dkr`"
                     f" and the S3 gateway endpoint (the image), `com.amazonaws.{region}.logs` (awslogs), and "
                     f"`com.amazonaws.{region}.secretsmanager` / `com.amazonaws.{region}.ssm` (secrets), with a "
                     f"security group that admits 443 from the task; then {remedy.start_again(ev)}."]
        elif (code == "DockerTimeoutError" and ec2 and _HEALTH_STOP.search(ev.reason_text)
              and re.search(r"(?i)transition to stopped", " ".join(p.text for p in m.proofs))):
            # The container went unhealthy, then Docker did not stop it in time: both point at the instance's
            # container runtime (hung, overloaded, or slow to stop containers), which a replacement placed on the
            # same instance meets again.
            inst = (ev.detail.container_instance_arn or "").rsplit("/", 1)[-1]
            win = remedy.windows_instance(ev)
            check = ("`Get-Service docker, AmazonECS` and `docker ps` (which should answer at once) in PowerShell on "
                     "it; `Restart-Service docker; Restart-Service AmazonECS` clears a hung runtime" if win else
                     "`sudo systemctl status docker ecs` and `docker ps` (which should answer at once) on it; "
                     "`sudo systemctl restart docker ecs` clears a hung runtime")
            steps = ["The container first failed its health checks, then Docker did not stop it within the timeout: "
                     "both point at the container instance's runtime (hung or overloaded Docker, exhausted CPU, "
                     "memory or disk I/O), not at the app alone. Check that instance"
                     + (f" (`{inst}`)" if inst else "") + ": "
                     + f"`aws ecs describe-container-instances --cluster {remedy.q(remedy.cluster(ev))} "
                     f"--container-instances {remedy.q(inst or '<container-instance-id>')}"
                     f"{remedy.region_flag(ev)} --query 'containerInstances[0].[agentConnected, status, versionInfo]'`, "
                     f"then {check}; drain and replace the instance if it repeats there. If the instance is healthy, "
                     "the container's health check itself is what to fix (its command and timings, the app behind it)."]
        elif code == "ServiceDiscoveryRegistration":
            # Not transient as a rule: the service's registry points at a Cloud Map service ECS cannot register in.
            svc = remedy.service(ev)
            srv = (f"SRV=$(aws ecs describe-services --cluster {remedy.q(remedy.cluster(ev))} --services "
                   f"{remedy.q(svc)} --query 'services[0].serviceRegistries[0].registryArn' --output text | cut -d/ -f2)"
                   if svc else None)
            steps = ["ECS could not register the task in the AWS Cloud Map service named by the ECS service's "
                     "`serviceRegistries` in time, so it stopped the task. When it repeats it is the configuration, "
                     "not a passing fault: check that `registryArn` names a Cloud Map service that still exists "
                     "(one deleted and re-created needs the ECS service updated), in the namespace you meant, whose "
                     "private DNS zone is associated with the task's VPC, with a record type the network mode "
                     "supports (A for awsvpc; SRV with a container name and port for bridge or host)"
                     + (f": ```\n{srv}\naws servicediscovery get-service --id \"$SRV\"\n"
                        "aws servicediscovery get-namespace --id \"$(aws servicediscovery get-service --id \"$SRV\" "
                        f"--query Service.NamespaceId --output text{remedy.region_flag(ev)})\"{remedy.region_flag(ev)}\n```" if srv else ".")
                     + f" Then {remedy.start_again(ev)}."]
        else:
            # A Fargate task has no instance of yours: only the Availability Zone can repeat.
            steps = [f"This is usually transient: {remedy.start_again(ev)}. Note whether it "
                     + ("recurs in the same Availability Zone." if not ec2 else
                        "recurs on the same instance or Availability Zone.")]
        if code in ("CannotStopContainerError",):
            said = " ".join(p.text for p in m.proofs)
            if re.search(r"(?:failed|unable|could not)(?: to)? (?:send|sending|deliver) (?:the )?(?:SIG\w+|signal)",
                         said, re.IGNORECASE):
                # The runtime could not even deliver the signal: the host's runtime, not the app's handler.
                steps.append("The container runtime failed to send the stop signal; this is not the app's SIGTERM "
                             "handling (a container that ignores SIGTERM is SIGKILLed and exits 137 instead)"
                             + (": restart the ECS agent and Docker on that instance (`sudo systemctl restart "
                                "docker ecs`), or drain and replace it, and update the ECS agent/AMI." if ec2 else
                                ": the Fargate runtime is AWS's, so nothing in the task definition changes it."))
            else:
                steps.append("The container did not stop in time: handle SIGTERM and exit within `stopTimeout` "
                             "(30 s by default).")
        if code == "ServiceDiscoveryRegistration":
            pass  # the service's registry, not the agent or the host: the step above is the whole fix
        elif ec2 and code in _HOST_BROKEN:
            steps.append(f"On the container instance, `{remedy.agent_log(ev)}`"
                         + (" shows" if remedy.windows_instance(ev) else " and `/var/log/ecs/ecs-init.log` show") + " "
                         "whether the fix took (the agent loads the pause image at start; `docker images` lists it).")
        elif ec2 and code == "HostEC2Terminated":
            # The event says the instance is gone: there is no instance left to read the agent's log on.
            pass
        elif ec2:
            said = " ".join([code, *(p.text for p in m.proofs)])
            # Slow disks and an old agent explain a runtime that timed out, not a name conflict or a panic.
            timed = bool(re.search(r"(?i)timeout|timed out|deadline exceeded", said))
            steps.append(f"On the container instance, read `{remedy.agent_log(ev)}` and the Docker/containerd "
                         "logs around the stop"
                         + ("; slow disks (gp2 burst balance) and an old agent cause runtime timeouts: update the "
                            "ECS agent/AMI and check disk I/O. (Why: the runtime timed out.)" if timed else "."))
        else:
            steps.append("On Fargate, if it repeats for the same task definition"
                         + (" once the network path is right" if code == "DockerTimeoutError" else "")
                         + ", open an AWS Support case with "
                         "the task ARN and the time of the stop.")
        if code == "DockerDaemonUnreachable":
            steps.insert(0, "The ECS agent could not talk to the container runtime on the instance (Docker daemon "
                            "stopped or unreachable; on Windows the agent must run as a service with administrator "
                            "rights to use the Docker named pipe). On the instance: check the docker service "
                            "(`systemctl status docker` / `Get-Service docker`), restart it and the agent, or replace "
                            "the instance.")
        if code == "PauseContainerError":
            steps.insert(0, "The ECS agent could not create the task's pause container (it holds the awsvpc network "
                            "namespace), usually because the `amazon/amazon-ecs-pause` image is not on the instance: "
                            "a custom AMI that runs the agent without the `ecs-init` package, or an image prune "
                            "that removed it. Use the ECS-optimized AMI or install `ecs-init` (it loads the pause "
                            "image when the agent starts), then restart the agent (`sudo systemctl restart ecs`).")
        if code == "HostEC2Terminated":
            steps.append("The instance under the task went away (Spot reclaim, ASG scale-in or health replacement): "
                         "enable managed termination protection / instance draining on the capacity provider.")
        steps[0] += remedy.cite(m)
        if code == "ServiceDiscoveryRegistration":
            return Explanation(
                title="Service discovery registration timed out",
                summary=("ECS could not register the task in AWS Cloud Map (the service's service discovery) in "
                         "time and stopped it before it counted as started; the application was not at fault."),
                remediation=steps,
            )
        return Explanation(
            title=f"Platform error: {code}",
            summary=(f"The task stopped because of {code}, a failure in the ECS agent, container runtime or the "
                     "infrastructure under the task, not in the application."),
            remediation=steps,
        )


PATTERN = PlatformError()
