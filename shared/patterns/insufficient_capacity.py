"""insufficient-capacity: no capacity to place or start the task.

Signals: "Capacity is unavailable at this time"; RESOURCE:MEMORY / RESOURCE:CPU / RESOURCE:PORTS /
RESOURCE:GPU / RESOURCE:ENI; "No Container Instances were found in your cluster"; "no container
instance met all of its requirements"; InsufficientCapacity. Facts: resource.
"""

from __future__ import annotations

import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Cause,
    Explanation,
    Extract,
    Facts,
    Match,
    ReasonPattern,
    classify,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    r"capacity is unavailable|RESOURCE:(\w+)|no container instances were found|no container instance met"
    r"|insufficient ?capacity|insufficient (?:memory|cpu) available|not enough (?:capacity|resources)"
    r"|capacity provider .{0,60}(?:no capacity|insufficient)|Fargate Spot capacity"
    r"|limit on the number of (?:\w+ )?(?:tasks|vCPUs?|instances) you can (?:run|launch)(?: concurrently)?|(?:vCPU|task) (?:count |quota |limit )+(?:exceeded|reached)",
    re.IGNORECASE,
)

def _const(value: str) -> Extract:
    return lambda text, m, ev: {"resource": value}


# What ran out, first row that matches: the agent's RESOURCE:<name>, "insufficient <resource>", an account
# quota, no instance at all, Fargate Spot in the words.
_RESOURCES = (
    Cause(None, lazy_re(r"RESOURCE:(\w+)"), lambda text, m, ev: {"resource": m.group(1).upper()}),
    Cause(None, lazy_re(r"insufficient (memory|cpu|gpu|ports?|network interfaces?|enis?)\b", re.IGNORECASE),
          lambda text, m, ev: {"resource": {"port": "PORTS", "ports": "PORTS"}.get(
              m.group(1).lower(), m.group(1).split()[0].upper())}),
    Cause(None, lazy_re(r"concurrently|quota|limit", re.IGNORECASE),
          _const("account quota (concurrent tasks / vCPUs)")),
    Cause(None, lazy_re(r"no container instance", re.IGNORECASE), _const("container instances")),
    Cause(None, lazy_re(r"spot", re.IGNORECASE), _const("FARGATE_SPOT")),
)
_NEEDLES = ("capacity is unavailable", "resource:", "no container instances", "no container instance met",
            "insufficient", "not enough capacity", "not enough resources", "spot capacity", "run concurrently",
            "quota", "limit exceeded", "limit reached")


class InsufficientCapacityFacts(Facts):
    """The facts of insufficient-capacity."""

    capacity_provider: str | None = Field(None, description="The capacity provider.")
    resource: str | None = Field(None, description="MEMORY, CPU, PORTS, ENI, FARGATE, ...")


_CONSTRAINT = lazy_re(r"placement constraint|missing attribute|memberOf|distinctInstance|required attribute",
                      re.IGNORECASE)
_CLOSEST_SHORT = lazy_re(r"closest matching \(?container-instance [^)]*?\)? (?:is )?(?:already using a (?P<port>port)|"
                         r"has insufficient (?:(?P<mem>memory)|cpu))", re.IGNORECASE)
_NO_INSTANCES = lazy_re(r"No Container Instances were found in your cluster", re.IGNORECASE)
_EMPTY_PROVIDER = lazy_re(r"No Container Instances were found in your capacity provider", re.IGNORECASE)


class InsufficientCapacity(ReasonPattern):
    id = "insufficient-capacity"
    priority = 140
    severity = "warning"
    Facts = InsufficientCapacityFacts
    key_facts = ("resource",)
    needles = _NEEDLES
    signal = _SIGNAL

    def facts(self, text: str, m: re.Match[str], ev: Evidence) -> dict:
        resource = classify(text, _RESOURCES, ev).get("resource")
        provider = (ev.detail.capacity_provider_name or "").lower()
        if resource is None and "spot" in provider:
            resource = "FARGATE_SPOT"  # Fargate Spot says the same words as Fargate: the provider tells them apart
        elif resource is None and ((ev.detail.launch_type or "").upper() == "FARGATE" or "fargate" in provider):
            resource = "FARGATE"
        return {"resource": resource, "capacity_provider": ev.detail.capacity_provider_name}

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        resource = m.facts.get("resource")
        said = " ".join([ev.stopped_reason, *(p.text for p in m.proofs)])
        closest = _CLOSEST_SHORT.search(said) if resource == "container instances" else None
        if closest:
            # "The closest matching container-instance ... is already using a port required by your task": the
            # message names what the nearest instance lacked; advise on that, not on cpu/memory.
            resource = "PORTS" if closest.group("port") else "MEMORY" if closest.group("mem") else "CPU"
        steps: list[str] = []
        none = resource == "container instances" and bool(_NO_INSTANCES.search(ev.stopped_reason))
        clus = remedy.cluster(ev)
        provider = m.facts.get("capacity_provider") or ev.detail.capacity_provider_name
        # The capacity provider has no instance at all: its Auto Scaling group launched none (or they did not
        # join); reserving less or loosening placement cannot help while there is nothing to place on.
        empty = resource == "container instances" and not none and bool(provider) and bool(
            _EMPTY_PROVIDER.search(" ".join([ev.stopped_reason, *(p.text for p in m.proofs)])))
        if empty:
            steps += _empty_provider_steps(ev, str(provider), clus)
        elif none:
            # Zero instances registered: nothing to free up; the instances must join the cluster.
            steps.append(f"The cluster {clus} has no registered container instance at all, so cpu, memory and "
                         "placement do not matter yet: check that its instances join it. They need the ECS agent "
                         f"running with `ECS_CLUSTER={clus}` in /etc/ecs/ecs.config (the ECS-optimized AMI's user "
                         "data), an instance role with AmazonEC2ContainerServiceforEC2Role, and a route to the ECS "
                         "endpoint (NAT or VPC endpoints); and that the Auto Scaling group or capacity provider has "
                         f"instances (desired count above 0): `aws ecs list-container-instances --cluster {remedy.q(clus)}"
                         f"{remedy.region_flag(ev)}`"
                         " lists those that joined.")
        elif resource == "GPU":
            # A GPU shortage is a count of whole GPUs on GPU instances: cpu/memory reservations cannot free one.
            steps.append("No container instance has a free GPU for this task (GPUs are reserved whole, one task "
                         "per GPU): add GPU instances to the cluster (a GPU instance type such as g4dn/g5/p3 with "
                         "the ECS GPU-optimized AMI, in the capacity provider or Auto Scaling group, with managed "
                         "scaling or a higher desired count), stop tasks that hold GPUs, or lower the container's "
                         "`resourceRequirements` GPU count; reducing cpu or memory does not free a GPU.")
        elif resource in ("MEMORY", "CPU", "container instances"):
            what = {"MEMORY": ("memory", ev.detail.memory, "MiB"), "CPU": ("CPU", ev.detail.cpu, "CPU units")}.get(resource)
            size = f" (the task reserves {what[1]} {what[2]})" if what and what[1] and str(what[1]).isdigit() else ""
            steps.append((f"No container instance has enough free {resource.lower() if resource != 'CPU' else 'CPU'} "
                          f"for this task{size}" if resource != "container instances" else
                          "No container instance met all of the task's requirements")
                         + ": add instances (capacity provider with managed scaling, or raise the Auto Scaling "
                         "group's desired count), or reduce the task's "
                         + (f"{what[0]} reservation." if what else "cpu/memory reservation."))
        elif resource == "PORTS":
            steps.append("Every instance already uses the task's static host port: use dynamic host ports "
                         "(`hostPort: 0` in bridge mode) or the awsvpc network mode, or add instances.")
        elif resource == "ENI":
            steps.append("No instance has a free network interface for another awsvpc task: "
                         + ("use larger instances (Windows tasks have no ENI trunking) or bridge networking."
                            if remedy.is_windows(ev) else "enable `awsvpcTrunking` or use larger instances."))
        elif resource and resource.startswith("account quota"):
            steps.append("The account hit a Service Quota, not a capacity shortage: check the Fargate vCPU quota "
                         "(`aws service-quotas get-service-quota --service-code fargate --quota-code L-3032A538` "
                         "for On-Demand, L-36FBB829 for Spot) against what runs now, and request an increase or "
                         "stop idle tasks (one-off RunTask jobs and crash loops count too).")
        else:
            spot = resource == "FARGATE_SPOT" or "spot" in (ev.detail.capacity_provider_name or "").lower()
            if remedy.launcher(ev) == "service":
                steps.append("Fargate had no capacity for this size in that Availability Zone: the scheduler "
                             "retries; spread the service over subnets in more AZs"
                             + (", or add a FARGATE capacity provider next to FARGATE_SPOT." if spot else "."))
            else:
                steps.append("Fargate had no capacity for this size in that Availability Zone: give the task "
                             "subnets in more AZs"
                             + (", or a FARGATE capacity provider next to FARGATE_SPOT" if spot else "")
                             + f"; {remedy.start_again(ev)}.")
        steps[0] += remedy.cite(m)
        if empty:
            pass
        elif none:
            # No instance at all may be no instance launched: the Auto Scaling group's activity says why.
            steps.append("If no instance is running at all, the Auto Scaling group's activity names the failed "
                         "launches (an instance type no longer offered in the AZ, insufficient capacity, a broken "
                         "launch template or AMI): `aws autoscaling describe-scaling-activities --max-items 20"
                         + remedy.region_flag(ev) + "`.")
            steps.append(f"On an instance that should have joined, read {remedy.agent_log(ev)} (and "
                         + ("`Get-Service AmazonECS` in PowerShell" if remedy.windows_instance(ev) else
                            "`sudo systemctl status ecs`") + "): it names a wrong cluster, missing credentials or no route to "
                         "ECS.")
        elif not remedy.is_fargate(ev) and (resource == "container instances" or _CONSTRAINT.search(said)):
            # Only where the message says instances were ruled out by requirements, not by a named shortage of
            # memory, CPU, ports or ENIs.
            steps.append("Check placement constraints (memberOf, distinctInstance) and required attributes that "
                         "may leave no eligible instance. (Why: the message says no instance met the task's "
                         "requirements, not which resource ran short.)")
        return Explanation(
            title=(f"Capacity provider {provider} has no container instances" if empty else
                   "Not enough capacity to run the task" + (f" ({resource})" if resource else "")),
            summary=("ECS could not find capacity to place or start the task"
                     + (f": {resource} was exhausted." if resource else ".")
                     + " The application is not at fault."),
            remediation=steps,
        )


def _empty_provider_steps(ev: Evidence, provider: str, clus: str) -> list[str]:
    r = remedy.region_flag(ev)
    read = (f"asg=$(aws ecs describe-capacity-providers --capacity-providers {remedy.q(provider)}{r} --query "
            "'capacityProviders[0].autoScalingGroupProvider.autoScalingGroupArn' --output text); asg=${asg##*/}\n"
            f"aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names \"$asg\"{r} --query "
            "'AutoScalingGroups[0].[MinSize, DesiredCapacity, MaxSize, Instances[].LifecycleState]'\n"
            f"aws autoscaling describe-scaling-activities --auto-scaling-group-name \"$asg\" --max-items 10{r}")
    return [
        f"The capacity provider {provider} has no container instance at all, so the task's cpu, memory and "
        "placement constraints do not matter yet: its Auto Scaling group launched no instance, or they did not "
        "join the cluster. Read the group's size (min / desired / max) and its scaling activities, which name "
        "failed launches (an instance type not offered in the AZ or out of capacity, a vCPU quota, a broken "
        f"launch template or AMI):\n```\n{read}\n```",
        "Check the capacity provider's managed scaling is ENABLED (or raise the group's desired count yourself): "
        f"`aws ecs describe-capacity-providers --capacity-providers {remedy.q(provider)}{r} --query "
        "'capacityProviders[0].autoScalingGroupProvider.managedScaling'`; a maximum size of 0 never launches one.",
        f"If instances launched but are not listed by `aws ecs list-container-instances --cluster {remedy.q(clus)}"
        f"{r}`, they did not join: the launch template's user data must set `ECS_CLUSTER={clus}`, with an "
        "instance role holding AmazonEC2ContainerServiceforEC2Role and a route to the ECS endpoint; "
        f"{remedy.agent_log(ev)} on the instance says which is missing.",
    ]


PATTERN = InsufficientCapacity()
