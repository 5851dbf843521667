"""Fix steps keyed on the sub-cause the evidence shows, each with a near miss that keeps the other advice."""

from __future__ import annotations

from shared.patterns.network_setup_failed import PATTERN as NETWORK_SETUP
from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _eni(ip: str | None) -> list[dict]:
    details = [{"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}]
    if ip:
        details.append({"name": "privateIPv4Address", "value": ip})
    return [{"id": "a", "type": "eni", "status": "DELETED", "details": details}]


def test_an_interface_that_got_an_address_rules_out_subnet_exhaustion():
    reason = "ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin failed"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, attachments=_eni("10.0.1.5"))
    assert got.pattern == NETWORK_SETUP.id
    assert "AvailableIpAddressCount" not in _fix(got) and "10.0.1.5" in _fix(got)
    assert "Support case" in _fix(got) and "subnet and ENI capacity" not in got.summary
    # Near miss: no address on the interface, so free addresses stay the check.
    near = run(stopCode="TaskFailedToStart", stoppedReason=reason, attachments=_eni(None))
    assert "AvailableIpAddressCount" in _fix(near)


def test_a_missing_device_mac_is_the_named_reason_not_a_silent_plugin_failure():
    reason = ("ResourceInitializationError: failed to setup network namespace: cni setup: invoke eni plugin failed: "
              "unable to get device with hardware address '02:62:5b:0f:db:fa': device with mac address not found")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", attachments=_eni(None))
    assert "names its reason" in _fix(got) and "without naming a reason" not in _fix(got)
    assert "AvailableIpAddressCount" not in _fix(got)
    # Near miss: the message says the subnet has no free addresses: that stays the advice.
    full = run(stopCode="TaskFailedToStart", attachments=_eni("10.0.1.5"),
               stoppedReason="ResourceInitializationError: failed to configure ENI: subnet does not have enough free addresses")
    assert "AvailableIpAddressCount" in _fix(full)


