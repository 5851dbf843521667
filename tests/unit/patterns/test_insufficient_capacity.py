"""insufficient-capacity: nowhere to place or start the task."""

from __future__ import annotations

import pytest

from shared.patterns.insufficient_capacity import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, failed_to_start

ID = "insufficient-capacity"

POSITIVES = [
    pytest.param({"stoppedReason": "service jobs was unable to place a task. Reason: You've reached the limit on the "
                  "number of tasks you can run concurrently. For more information, see the Troubleshooting section."},
                 {"resource": "account quota (concurrent tasks / vCPUs)"}, id="account-task-quota"),
    pytest.param(failed_to_start("Capacity is unavailable at this time. Please try again later or in a different "
                                 "availability zone"), {"resource": "FARGATE"}, id="fargate-az-capacity"),
    pytest.param(failed_to_start("Capacity is unavailable at this time. Please try again later or in a different "
                                 "availability zone", launchType=None, capacityProviderName="FARGATE_SPOT"),
                 {"resource": "FARGATE_SPOT", "capacity_provider": "FARGATE_SPOT"}, id="fargate-spot-provider"),
    pytest.param(failed_to_start("RESOURCE:MEMORY", launchType="EC2"), {"resource": "MEMORY"}, id="ec2-memory"),
    pytest.param(failed_to_start("RESOURCE:CPU", launchType="EC2"), {"resource": "CPU"}, id="ec2-cpu"),
    pytest.param(failed_to_start("RESOURCE:PORTS", launchType="EC2"), {"resource": "PORTS"}, id="ec2-ports"),
    pytest.param(failed_to_start("No Container Instances were found in your cluster.", launchType="EC2"),
                 {"resource": "container instances"}, id="empty-cluster"),
    pytest.param(failed_to_start("service colorteller-blue was unable to place a task because no container instance met "
                                 "all of its requirements. The closest matching container-instance "
                                 "acf43593-6b86-4838-86e5-46d896fdc8b3 encountered error \"RESOURCE:ENI\". For more "
                                 "information, see the Troubleshooting section.", launchType="EC2"),
                 {"resource": "ENI"}, id="closest-instance-names-the-resource"),
    pytest.param(failed_to_start("service (batch-renderer) was unable to place a task. Reason: You’ve reached the "
                                 "limit on the number of vCPUs you can run concurrently"),
                 {"resource": "account quota (concurrent tasks / vCPUs)"}, id="fargate-vcpu-quota"),
]


@pytest.mark.parametrize(("detail", "facts"), POSITIVES)
def test_positive(detail, facts):
    finding = run([], **detail)
    assert_finding(finding, ID, facts)
    assert finding.severity == "warning"


def test_ports_remediation_suggests_dynamic_host_ports():
    finding = run([], **failed_to_start("RESOURCE:PORTS", launchType="EC2"))
    assert "hostPort: 0" in finding.remediation[0]


NEGATIVES = [
    pytest.param(failed_to_start("Timeout waiting for network interface provisioning to complete."),
                 "network-setup-failed", id="eni-timeout"),
    pytest.param({"containers": [{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                                  "reason": "OutOfMemoryError: Container killed due to memory usage"}]},
                 "out-of-memory", id="memory-kill-is-not-placement"),
    pytest.param(failed_to_start("ResourceInitializationError: failed to configure ENI: subnet subnet-0123456789abcdef0 "
                                 "does not have enough free addresses"), "network-setup-failed",
                 id="ip-addresses-are-network"),
]


@pytest.mark.parametrize(("detail", "expected"), NEGATIVES)
def test_nearest_neighbour(detail, expected):
    assert run([], **detail).pattern == expected
    assert PATTERN.match(evidence([], **detail)) is None


def test_a_quota_is_sent_to_service_quotas_not_to_more_subnets():
    finding = run([], **failed_to_start("You've reached the limit on the number of vCPUs you can run concurrently"))
    assert "service-quotas" in finding.remediation[0]
    assert not any("Availability Zone" in step for step in finding.remediation)


@pytest.mark.parametrize(("reason", "zero"), [
    ("unable to place a task because no container instance met all of its requirements. Reason: No Container "
     "Instances were found in your cluster", True),
    ("unable to place a task because no container instance met all of its requirements. The closest matching "
     "container-instance 0123456789abcdef has insufficient memory available.", False),
])
def test_a_cluster_with_no_instances_gets_join_checks_not_resizing(reason, zero):
    """Zero instances: check they join the cluster (agent, ECS_CLUSTER, role), not "reduce cpu/memory" or
    placement constraints; an instance short of memory keeps the resizing advice (near miss)."""
    f = run([], **failed_to_start(reason))
    text = "\n".join(f.remediation)
    assert ("ECS_CLUSTER=" in text) == zero, text
    assert ("reduce the task" in text) == (not zero)
    assert not (zero and "placement constraints" in text)
    assert "free container instances" not in text


def test_an_empty_capacity_provider_checks_its_auto_scaling_group_not_the_task_size():
    """'No Container Instances were found in your capacity provider': the provider's ASG (size, activities,
    managed scaling), with --region; no 'reduce cpu/memory' or placement step. Near miss: instances short of
    memory under the same provider keep the reservation advice."""
    f = run([], **failed_to_start("No Container Instances were found in your capacity provider.",
                                  launchType=None, capacityProviderName="batch-asg-cp"))
    assert f.pattern == "insufficient-capacity"
    fix = "\n".join(f.remediation)
    assert "describe-capacity-providers --capacity-providers batch-asg-cp --region us-east-1" in f.remediation[0]
    assert "describe-scaling-activities" in fix and "managedScaling" in fix
    assert "reduce the task" not in fix and "placement constraints (" not in fix, fix
    assert "batch-asg-cp has no container instances" in f.title
    near = run([], **failed_to_start("RESOURCE:MEMORY", launchType=None, capacityProviderName="batch-asg-cp"))
    assert "reservation" in near.remediation[0] and "describe-capacity-providers" not in "\n".join(near.remediation)


@pytest.mark.parametrize(("reason", "gpu"), [("RESOURCE:GPU", True), ("RESOURCE:MEMORY", False)])
def test_a_gpu_shortage_is_not_fixed_by_shrinking_cpu_or_memory(reason, gpu):
    # Near miss: RESOURCE:MEMORY keeps the reduce-the-reservation advice; RESOURCE:GPU asks for GPU instances.
    finding = run([], **failed_to_start(reason, launchType="EC2"))
    step = finding.remediation[0]
    assert ("free GPU" in step and "reduce the task's" not in step) is gpu
    assert ("reduce the task's memory reservation" in step) is not gpu
