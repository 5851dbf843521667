"""A start-up check refusing a setting it names as too low is a fatal app error; "could not" is an error's wording;
an Erlang cookie that differs between nodes, and a kernel parameter below a program's check, get the step they ask
for; an ENI allocation that did not complete is network setup; a database-only client's connection error with no
cause is a database connection failure. Each with near misses that must stay as they are."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

_EC2: dict[str, Any] = {"launchType": "EC2", "containers": [
    {"name": "search", "exitCode": 78, "lastStatus": "STOPPED", "image": "example/search:8"}]}


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


# An ENI allocation that did not complete.

_ENI_FAILED = {"stopCode": "TaskFailedToStart",
               "containers": [{"name": "app", "lastStatus": "STOPPED", "image": "example/app:1"}]}


def test_an_eni_allocation_that_did_not_complete_is_network_setup():
    for reason in ("ResourcesNotReady: The ENI allocation could not be completed",
                   "ResourceInitializationError: the network interface provisioning did not complete"):
        got = run([], stoppedReason=reason, **_ENI_FAILED)
        assert got.pattern == "network-setup-failed" and got.facts["cause"] == "incomplete", reason
    # No interface address in the event: the subnet and the account's interface quota are in question (Fargate).
    steps = _steps(run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed",
                       **_ENI_FAILED))
    assert "AvailableIpAddressCount" in steps and "L-DF5E4CA3" in steps and "smaller batches" in steps


def test_an_eni_allocation_that_got_an_address_rules_the_subnet_out():
    attach = [{"id": "a", "type": "eni", "status": "FAILED", "details": [
        {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}, {"name": "privateIPv4Address", "value": "10.0.3.7"}]}]
    got = run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed", attachments=attach,
              **_ENI_FAILED)
    steps = _steps(got)
    assert got.pattern == "network-setup-failed" and "10.0.3.7" in steps and "did not complete" in steps
    assert "L-DF5E4CA3" not in steps


def test_a_provisioning_timeout_keeps_its_cause():
    got = run([], stoppedReason="Timeout waiting for network interface provisioning to complete.", **_ENI_FAILED)
    assert got.pattern == "network-setup-failed" and got.facts["cause"] == "timeout"


def test_something_else_that_could_not_be_completed_is_not_network_setup():
    got = run([], stoppedReason="ResourcesNotReady: The volume allocation could not be completed", **_ENI_FAILED)
    assert got.pattern != "network-setup-failed"


