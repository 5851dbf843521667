"""network-setup-failed: task networking (the awsvpc ENI) could not be provisioned.

Signals: "ResourceInitializationError: failed to configure ENI"; "Timeout waiting for network
interface provisioning to complete"; "subnet does not have enough free addresses"; "failed to
provision/attach ENI"; an ENI allocation (provisioning, attachment) that "could not be completed" / "did not
complete" (cause incomplete: bursts of launches, the subnet's addresses, on Fargate the account's network interfaces
per Region). Facts: subnet (from the message, else the task's ENI attachment).
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
    # The platform saying the interface's allocation (provisioning, attachment) never finished, in any tense.
    r"|(?:ENI|network interface) (?:allocation|provisioning|attachment|creation)"
    r" (?:could not be|cannot be|was not|has not been|did not|didn't|never) (?:completed?|finish(?:ed)?|succeed(?:ed)?)"
    r"|failed to set ?up (?:the )?(?:task )?network(?: namespace)?|CNI plugin|cni setup|eni plugin"
    r"|InsufficientFreeAddressesInSubnet|configure pause container namespace|(?:set ?up|create) veth pair"
    r"|(?:EC2 )?error while attempting to (?:create|attach|tag|describe|delete) (?:the |a )?network interface",
    re.IGNORECASE,
)
_NEEDLES = ("eni", "network interface", "free address", "freeaddresses", "assign", "allocate", "network namespace",
            "setup network", "set up network", "cni", "pause container namespace", "veth pair")
_SUBNET = lazy_re(r"\bsubnet-[0-9a-f]{8,17}\b")
# Faults the network plugin names in the instance's own plumbing (not the VPC subnet), and what they mean.
_PLUMBING = (
    (lazy_re(r"ecs-ipam|ipstore|available ip from the db", re.IGNORECASE),
     "the ECS agent's own address pool for task networking on the instance (ecs-ipam, 169.254.172.0/22) has no "
     "free address, usually entries leaked by earlier tasks; that is not the VPC subnet"),
    (lazy_re(r"veth\b.*already exists", re.IGNORECASE | re.DOTALL),
     "a network device left over from an earlier task (its veth pair) still exists on the instance"),
    (lazy_re(r"invalid MAC address", re.IGNORECASE),
     "the agent got an invalid MAC address for the attached interface"),
    (lazy_re(r"(?:hardware|mac) address|getInterfaceDeviceName|device with mac|no such network interface",
                re.IGNORECASE),
     "the attached interface never appeared as a device on the container instance, so the agent could not move "
     "it into the task's namespace"),
)
# What a burst of launches does to provisioning, by cause (the step that says to launch in smaller batches).
_BURSTS = {
    "timeout": "Provisioning timeouts come in bursts of launches (hundreds of tasks at once)",
    "incomplete": ("ENI allocations that do not complete come in bursts of launches (a scale-out of hundreds of tasks "
                   "at once)"),
}
_CAUSES = (
    # (\A: with DOTALL the lookaheads hold at the start whenever they hold anywhere; unanchored, each position
    # re-read the rest of the text, seconds on a 16 KB line)
    Cause("no-free-addresses", lazy_re(r"\A(?=.*free)(?=.*address)", re.IGNORECASE | re.DOTALL)),
    Cause("instance-eni-limit", lazy_re(r"device index|maximum number of network interfaces", re.IGNORECASE)),
    Cause("tag-policy", lazy_re(r"tagpolicy", re.IGNORECASE)),
    Cause("timeout", lazy_re(r"timeout|timed out", re.IGNORECASE)),
    # The allocation was started and never finished, without a reason: the same bursts of launches as a timeout.
    Cause("incomplete", lazy_re(r"(?:could not|cannot|was not|has not|did not|didn't|never) (?:be |been )?"
                                r"complete", re.IGNORECASE)),
)


class NetworkSetupFailedFacts(Facts):
    """The facts of network-setup-failed."""

    cause: str | None = Field(None, description="no-free-addresses, instance-eni-limit, tag-policy, timeout, "
                                                   "incomplete.")
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
        text = " ".join(p.text for p in m.proofs) or (ev.detail.stopped_reason or "")
        plumbing = next((what for regex, what in _PLUMBING if regex.search(text)), None)
        address = ev.detail.eni_detail("privateIPv4Address")
        # An interface that was created (it got an address), or a plugin that names a fault of the instance's
        # plumbing, rules out subnet exhaustion. A limit or tag-policy cause keeps its own advice.
        attached = cause in (None, "timeout", "incomplete") and bool(address or plumbing)
        inst = (ev.detail.container_instance_arn or "").rsplit("/", 1)[-1]
        drain = (f"drain it (`aws ecs update-container-instances-state --cluster {remedy.q(remedy.cluster(ev))} "
                 f"--container-instances {remedy.q(inst)} --status DRAINING{remedy.region_flag(ev)}`)" if inst
                 else "drain it")
        if attached:
            got = f"the task's interface was created and got {address}" if address else None
            if plumbing:
                steps.append(f"The network plugin names its reason: {plumbing}"
                             + (f" ({got})" if got else "") + ". This is the container instance's network plumbing, "
                             f"not the subnet's addresses: {retry}."
                             + (f" If it recurs on the same instance, {drain} and check `{remedy.agent_log(ev)}` "
                                "and the ECS agent/AMI version there." if ec2 else "") + why)
            elif cause is None:
                # Say "no cause" only when the error says so; else it names one we have no advice for.
                silent = re.search(r"no error message|without (?:an? )?(?:error|message|reason)", text, re.IGNORECASE)
                steps.append(("The error names no specific cause" if silent else "The error names a cause this tool "
                              "has no specific advice for (see the stop reason)")
                             + f", and {got}, so the subnet had free addresses; a failure after that is usually "
                             f"passing (bursts of launches, an instance's ENI plumbing): {retry}." + why)
            elif cause == "incomplete" and not ec2:
                # Fargate: the allocation that did not complete is the one to act on; the address rules out the
                # subnet, not the account's interfaces per Region that a burst of launches can exhaust.
                steps.append(_eni_quota_check(ev, first=True) + f" Subnet addresses are not the cause: {got}; the "
                             "allocation did not complete after that." + why)
            else:
                ended = "timed out" if cause == "timeout" else "did not complete"
                steps.append(f"Subnet addresses are not the cause: {got}. Provisioning {ended} after that, on "
                             "the ENI attachment itself" + (": check the instance's ENI attachments and its ECS "
                                                            f"agent log (`{remedy.agent_log(ev)}`)" if ec2 else "")
                             + "." + why)
            why = ""
            if cause in ("timeout", "incomplete"):
                steps.append(f"{_BURSTS[cause]}: launch in smaller batches; {retry}.")
            # The interface was created: the subnets and the AZs are not in question; the instance (or the platform)
            # that plumbs it is, and on Fargate the account's interface quota a burst of launches can reach.
            case = (f"open an AWS Support case with the task ARN (`{ev.detail.task_arn}`)" if ev.detail.task_arn
                    else "open an AWS Support case with the task ARN")
            # The plumbing step already says to drain the instance if it recurs: only the replacement and the
            # support case are new here.
            said = ec2 and plumbing and any(drain in st for st in steps)
            steps.append((f"If the failure recurs on that instance after the drain, replace it (the Auto Scaling "
                          f"group launches a fresh one) and {case}." if said else
                          f"If it recurs on the same container instance, {drain} so its tasks move to other "
                          "instances, and replace it (the Auto Scaling group launches a fresh one); retry with "
                          f"backoff meanwhile, and {case}.") if ec2 else
                         f"If it recurs: retry with backoff, and {case}.")
        if cause is None and not attached:
            # No reason given: usually a passing failure of the ENI plumbing; retry first.
            steps.append("The network plugin failed without naming a reason, which is usually passing (bursts of "
                         f"launches, an instance's ENI plumbing): {retry}. If it recurs, check the steps below." + why)
            why = ""
        if cause != "instance-eni-limit" and not attached:
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
        if cause in ("timeout", "incomplete") and not attached:
            steps.append(f"{_BURSTS[cause]}: launch in smaller batches; {retry}.")
        if cause == "incomplete" and not ec2 and not attached:
            # Fargate: every task's interface counts against the account's network interfaces in the Region, which
            # a scale-out of hundreds of tasks next to everything else in the VPC can use up.
            steps.append(_eni_quota_check(ev, first=False))
        if cause != "instance-eni-limit" and ec2 and not windows and not attached:
            steps.append("On EC2, also check the instance ENI limit (enable `awsvpcTrunking`) and the account's "
                         "network interface quota.")
        return Explanation(
            title=f"Task networking could not be set up in {subnet or 'its subnet'}",
            summary=(f"ECS could not provision the task's network interface in {sn}, so the task never started. "
                     + ("This is about the container instance's network interface slots, not the subnet or the "
                        "application." if cause == "instance-eni-limit" else
                        "The subnet's free addresses are ruled out (the interface got an address, or the error names "
                        "a fault of the instance's plumbing): this is the ENI plumbing, not the subnet or the "
                        "application." if attached else
                        "This is about the subnet and ENI capacity, not the application.")),
            remediation=steps,
        )


def _eni_quota_check(ev: Evidence, *, first: bool) -> str:
    """The step that compares the account's network interfaces in the Region with their quota (Fargate: every task's
    interface counts, next to load balancers, Lambda functions in the VPC and databases)."""
    rf = remedy.region_flag(ev)
    return (("Check the account's network interfaces in the Region against their quota first: "
             if first else "Every Fargate task's interface counts against the account's network interfaces per Region: "
             "compare the count with the quota: ")
            + "```\n"
            f"aws service-quotas get-service-quota --service-code vpc --quota-code L-DF5E4CA3 --query 'Quota.Value'{rf}\n"
            f"aws ec2 describe-network-interfaces --query 'length(NetworkInterfaces)'{rf}\n"
            f"aws ec2 describe-network-interfaces --filters Name=status,Values=available "
            f"--query 'length(NetworkInterfaces)'{rf}\n"
            "``` (the first is the quota, the second every interface that counts against it: load balancers, Lambda "
            "functions in the VPC, databases and every Fargate task take one; the third the unattached ones, which "
            "still count and can be deleted when nothing uses them). Near the quota, request an increase (Service "
            "Quotas, `Network interfaces per Region`) before large scale-outs.")


PATTERN = NetworkSetupFailed()
