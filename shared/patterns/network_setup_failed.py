"""network-setup-failed: task networking (the awsvpc ENI) could not be provisioned.

Signals: "ResourceInitializationError: failed to configure ENI"; "Timeout waiting for network
interface provisioning to complete"; "subnet does not have enough free addresses"; "failed to
provision/attach ENI". Facts: subnet (from the message, else the task's ENI attachment).
"""

from __future__ import annotations

import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import Cause, Explanation, Facts, Match, ReasonPattern
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    r"failed to configure ENI|network interface provision|enough free (?:ip )?addresses"
    r"|insufficient free addresses|(?:failed|unable) to (?:provision|attach|create|allocate) (?:the |an? )?(?:ENI|network interface)"
    r"|ENI (?:attachment|provisioning) (?:failed|timed out)|unable to (?:assign|allocate) (?:an )?IP"
    r"|failed to set ?up (?:the )?(?:task )?network(?: namespace)?|CNI plugin|cni setup|eni plugin"
    r"|InsufficientFreeAddressesInSubnet|configure pause container namespace|(?:set ?up|create) veth pair"
    r"|(?:EC2 )?error while attempting to (?:create|attach|tag|describe|delete) (?:the |a )?network interface",
    re.IGNORECASE,
)
_NEEDLES = ("eni", "network interface", "free address", "freeaddresses", "assign", "allocate", "network namespace",
            "setup network", "set up network", "cni", "pause container namespace", "veth pair")
_SUBNET = lazy_re(r"\bsubnet-[0-9a-f]{8,17}\b")
_CAUSES = (
    Cause("no-free-addresses", lazy_re(r"(?=.*free)(?=.*address)", re.IGNORECASE | re.DOTALL)),
    Cause("instance-eni-limit", lazy_re(r"device index|maximum number of network interfaces", re.IGNORECASE)),
    Cause("tag-policy", lazy_re(r"tagpolicy", re.IGNORECASE)),
    Cause("timeout", lazy_re(r"timeout|timed out", re.IGNORECASE)),
)


class NetworkSetupFailedFacts(Facts):
    """The facts of network-setup-failed."""

    cause: str | None = Field(None, description="no-free-addresses, instance-eni-limit, tag-policy, timeout.")
    subnet: str | None = Field(None, description="The subnet.")


class NetworkSetupFailed(ReasonPattern):
    id = "network-setup-failed"
    explained_by = ("subnets", "securityGroups", "assignPublicIp")
    priority = 150
    severity = "warning"
    Facts = NetworkSetupFailedFacts
    key_facts = ("subnet",)
    needles = _NEEDLES
    signal = _SIGNAL
    causes = _CAUSES

    def facts(self, text: str, m: re.Match[str], ev: Evidence) -> dict:
        subnet = _SUBNET.search(text)
        return {"subnet": subnet.group(0) if subnet else ev.subnet}

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        subnet = m.facts.get("subnet")
        sn = f"`{subnet}`" if subnet else "the task's subnet"
        windows = remedy.is_windows(ev)
        ec2 = not remedy.is_fargate(ev)
        why = remedy.cite(m)
        steps = []
        if m.facts.get("cause") == "instance-eni-limit":
            trunking = ("" if windows else "turn on ENI trunking (`aws ecs put-account-setting-default --name "
                        "awsvpcTrunking --value enabled`, then replace the instances), ")
            steps.append("The container instance has no free slot for another network interface (each awsvpc task "
                         f"on EC2 takes one, and small instance types allow 2-4): {trunking}use larger instance "
                         f"types, or use bridge networking{' (Windows tasks have no ENI trunking)' if windows else ''}."
                         + why)
            why = ""
        cause = m.facts.get("cause")
        in_service = remedy.launcher(ev) == "service"
        retry = ("the service scheduler retries on its own" if in_service else remedy.start_again(ev))
        if cause is None:
            # No reason given: usually a passing failure of the ENI plumbing; retry first.
            steps.append("The network plugin failed without naming a reason, which is usually passing (bursts of "
                         f"launches, an instance's ENI plumbing): {retry}. If it recurs, check the steps below." + why)
            why = ""
        if cause != "instance-eni-limit":
            svc = remedy.service(ev)
            if subnet:
                steps.append(f"Check free addresses: `aws ec2 describe-subnets --subnet-ids {subnet} "
                             f"--query 'Subnets[0].AvailableIpAddressCount'`; every awsvpc task takes one.{why}")
            elif svc:
                steps.append("Check the free addresses of the service's subnets (every awsvpc task takes one): ```\n"
                             + remedy.read_into("subnets", f"aws ecs describe-services --cluster {remedy.q(remedy.cluster(ev))} "
                                                f"--services {remedy.q(svc)} --query "
                                                "'services[0].networkConfiguration.awsvpcConfiguration.subnets'")
                             + "\naws ec2 describe-subnets --subnet-ids $subnets --query "
                             "'Subnets[].[SubnetId,AvailableIpAddressCount]'\n```" + why)
            else:
                steps.append("Check the free addresses (AvailableIpAddressCount) of the subnets the task was "
                             f"launched in: every awsvpc task takes one.{why}")
            why = ""
            steps.append("Spread the service over more (and larger) subnets in several Availability Zones."
                          if in_service else "Give the task's network configuration more (and larger) subnets in "
                          "several Availability Zones, where whatever launches it sets them.")
        if cause == "timeout":
            steps.append(f"Provisioning timeouts come in bursts of launches (hundreds of tasks at once): launch in "
                         f"smaller batches; {retry}.")
        if cause != "instance-eni-limit" and ec2 and not windows:
            steps.append("On EC2, also check the instance ENI limit (enable `awsvpcTrunking`) and the account's "
                         "network interface quota.")
        return Explanation(
            title=f"Task networking could not be set up in {subnet or 'its subnet'}",
            summary=(f"ECS could not provision the task's network interface in {sn}, so the task never started. "
                     + ("This is about the container instance's network interface slots, not the subnet or the "
                        "application." if cause == "instance-eni-limit" else
                        "This is about the subnet and ENI capacity, not the application.")),
            remediation=steps,
        )


PATTERN = NetworkSetupFailed()
