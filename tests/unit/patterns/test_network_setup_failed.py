"""network-setup-failed: the task's ENI could not be provisioned."""

from __future__ import annotations

import pytest

from shared.patterns.network_setup_failed import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, failed_to_start

ID = "network-setup-failed"

POSITIVES = [
    pytest.param("Timeout waiting for network interface provisioning to complete.",
                 {"subnet": "subnet-0a1b2c3d4e5f60718", "cause": "timeout"}, id="eni-provisioning-timeout"),
    pytest.param("ResourceInitializationError: failed to configure ENI: subnet subnet-0123456789abcdef0 does not have "
                 "enough free addresses to allocate an IP address",
                 {"subnet": "subnet-0123456789abcdef0", "cause": "no-free-addresses"}, id="subnet-exhausted"),
    pytest.param("ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin "
                 "failed: \"failed to configure the network: timed out waiting for the interface\"",
                 {"subnet": "subnet-0a1b2c3d4e5f60718", "cause": "timeout"}, id="netplugin-timeout"),
    pytest.param("Unable to assign an IP address to the task: the subnet has insufficient free addresses",
                 {"cause": "no-free-addresses"}, id="insufficient-free-addresses"),
    pytest.param("Unable to attach network interface to unused device index.", {"cause": "instance-eni-limit"},
                 id="ec2-instance-out-of-eni-slots"),
]


@pytest.mark.parametrize(("reason", "facts"), POSITIVES)
def test_positive(reason, facts):
    assert_finding(run([], **failed_to_start(reason)), ID, facts)


def test_agent_log_pasted_for_a_task_that_never_started():
    logs = ["2018-01-09T16:42:47Z [ERROR] Unable to configure pause container namespace, err: bridge create veth "
            "pair: unable to setup veth pair for interface: ecs-eth0: container veth name provided already exists"]
    assert_finding(run(logs, **failed_to_start("Task failed to start")), ID)


def test_remediation_counts_free_addresses_in_the_subnet():
    finding = run([], **failed_to_start("Timeout waiting for network interface provisioning to complete."))
    assert "--subnet-ids subnet-0a1b2c3d4e5f60718" in finding.remediation[0]
    assert finding.severity == "warning"


NEGATIVES = [
    pytest.param("Capacity is unavailable at this time. Please try again later or in a different availability zone",
                 "insufficient-capacity", id="capacity-not-network"),
    pytest.param("CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.us-east-1."
                 "amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded "
                 "while awaiting headers)", "image-pull-failed", id="pull-timeout-is-not-eni"),
    pytest.param("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
                 "b'mount.nfs4: Connection timed out' : unsuccessful EFS utils command execution; code: 32",
                 "volume-mount-failed", id="efs-timeout-is-not-eni"),
]


@pytest.mark.parametrize(("reason", "expected"), NEGATIVES)
def test_nearest_neighbour(reason, expected):
    detail = failed_to_start(reason)
    assert run([], **detail).pattern == expected
    assert PATTERN.match(evidence([], **detail)) is None


def test_an_instance_out_of_eni_slots_is_told_to_enable_trunking():
    finding = run([], **failed_to_start("Unable to attach network interface to unused device index."))
    assert "awsvpcTrunking" in finding.remediation[0]


def test_a_step_functions_task_is_not_told_about_a_service():
    finding = run([], **failed_to_start("Timeout waiting for network interface provisioning to complete."),
                  group="family:rails-batch", startedBy="AWS Step Functions")
    text = " ".join(finding.remediation)
    assert "service" not in text, text
    assert "re-run the Step Functions execution" in text


def test_an_instance_out_of_eni_slots_gets_no_subnet_steps():
    """The instance's ENI slots, not the subnet: no free-address or more-subnets steps; near miss: a subnet out of
    addresses keeps them."""
    text = "\n".join(run([], **failed_to_start("Unable to attach network interface to unused device index.")).remediation)
    assert "AvailableIpAddressCount" not in text and "subnets" not in text, text
    text = "\n".join(run([], **failed_to_start("ResourceInitializationError: failed to configure ENI: subnet "
                                               "subnet-0a1b2c3d4e5f60718 does not have enough free addresses")).remediation)
    assert "AvailableIpAddressCount" in text


def test_a_failure_without_a_reason_is_retried_first_by_its_launcher():
    """"netplugin failed with no error message": retry first (the Step Functions Retry here), subnet checks after;
    never a service scheduler for a task no service runs."""
    reason = "ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin failed with no error message"
    f = run([], **failed_to_start(reason), group="family:rails-batch", startedBy="AWS Step Functions")
    assert "Retry" in f.remediation[0] and "service" not in " ".join(f.remediation), f.remediation
    assert any("AvailableIpAddressCount" in s for s in f.remediation[1:])
    f = run([], **failed_to_start(reason), group="service:web")
    assert "service scheduler retries" in f.remediation[0]


def test_an_attached_interface_that_never_appeared_on_the_instance_drains_it_not_subnets_or_quota():
    """The plugin failed after the ENI was created and attached (its device never appeared): drain/replace the
    instance and retry, no AZ spreading or account ENI quota. Near miss: an ENI that could not be created keeps
    the subnet and quota steps."""
    from tests.unit.patterns.common import failed_to_start

    reason = ("ResourceInitializationError: failed to configure ENI: failed to setup network namespace: plugin "
              "type=\"ecs-eni\" failed (add): failed to find device with mac address 0a:1b:2c:3d:4e:5f")
    f = run([], **failed_to_start(reason, launchType="EC2",
                                  containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/ab12"))
    assert f.pattern == "network-setup-failed"
    fix = "\n".join(f.remediation)
    assert "--status DRAINING --region us-east-1" in fix and "replace it" in fix
    assert "Availability Zones" not in fix and "quota" not in fix, fix
    near = run([], **failed_to_start("ResourceInitializationError: unable to create ENI: subnet has insufficient free "
                                     "addresses", launchType="EC2"))
    assert near.pattern == "network-setup-failed" and "quota" in "\n".join(near.remediation)
