"""platform-error: agent, runtime or infrastructure failures that are not the application's."""

from __future__ import annotations

import pytest

from shared.patterns.platform_error import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, failed_to_start

ID = "platform-error"

POSITIVES = [
    pytest.param(failed_to_start("CgroupError: Agent could not create task's platform resources"),
                 {"error_code": "CgroupError"}, id="agent-cgroup-error"),
    pytest.param(failed_to_start("service orders was unable to place a task because no container instance met all "
                                 "of its requirements. The closest matching container-instance 5b4e0f0c-1d2e-4f5a-"
                                 "9b8c-7d6e5f4a3b2c encountered error \"AGENT\". For more information, see the "
                                 "Troubleshooting section."),
                 {"error_code": "AGENT"}, id="closest-instance-agent-unhealthy"),
    pytest.param({"containers": [box(None, reason="CannotInspectContainerError: Could not transition to inspecting; "
                                                  "timed out after waiting 30s")]},
                 {"error_code": "CannotInspectContainerError"}, id="cannot-inspect"),
    pytest.param({"containers": [box(None, reason="DockerTimeoutError: Could not transition to created; timed out "
                                                  "after waiting 4m0s")]}, {"error_code": "DockerTimeoutError"},
                 id="docker-timeout"),
    pytest.param({"containers": [box(None, reason="ContainerRuntimeTimeoutError: Could not transition to running; "
                                                  "timed out after waiting 1m0s")]},
                 {"error_code": "ContainerRuntimeTimeoutError"}, id="containerd-timeout"),
    pytest.param({"containers": [box(137, reason="CannotStopContainerError: API error (500): Cannot kill container: "
                                                 "1a2b3c: permission denied")]},
                 {"error_code": "CannotStopContainerError"}, id="cannot-stop"),
    pytest.param(failed_to_start("InternalError: Task failed to start due to an internal error"),
                 {"error_code": "InternalError"}, id="internal-error"),
    pytest.param(failed_to_start("CannotStartContainerError: API error (500): error creating overlay mount to "
                                 "/var/lib/docker/overlay2/abc/merged: device or resource busy", launchType="EC2"),
                 {"error_code": "CannotStartContainerError"}, id="docker-500-on-start"),
    pytest.param({"stoppedReason": "Host EC2 (instance i-0123456789abcdef0) terminated.", "launchType": "EC2",
                  "containers": [box(143)]}, {"error_code": "HostEC2Terminated"}, id="host-terminated"),
    # AWS Batch's status reason for the same loss names no instance.
    pytest.param({"stoppedReason": "Host EC2 Terminated", "launchType": "EC2", "containers": [box(None)]},
                 {"error_code": "HostEC2Terminated"}, id="host-terminated-batch-wording"),
    pytest.param(failed_to_start("CannotPullContainerError: error during connect: In the default daemon configuration "
                                 "on Windows, the docker client must be run with elevated privileges"),
                 {"error_code": "DockerDaemonUnreachable"}, id="agent-cannot-reach-docker-while-pulling"),
    pytest.param(failed_to_start("CannotPullContainerError: Cannot connect to the Docker daemon at "
                                 "unix:///var/run/docker.sock. Is the docker daemon running?"),
                 {"error_code": "DockerDaemonUnreachable"}, id="docker-daemon-down"),
    pytest.param(failed_to_start("Essential container in task exited",
                                 box(None, reason="CannotStartContainerError: ResourceInitializationError: failed to "
                                     "create new container runtime task: failed to create shim task: OCI runtime create "
                                     "failed: runc create failed: unable to start container process: error during "
                                     "container init: error creating device nodes: mknod /run/containerd/rootfs/dev/"
                                     "null: errno 524: unknown")),
                 {"error_code": "ContainerRuntimeError"}, id="fargate-runtime-cannot-create-device-nodes"),
]


@pytest.mark.parametrize(("detail", "facts"), POSITIVES)
def test_positive(detail, facts):
    finding = run([], **detail)
    assert_finding(finding, ID, facts)
    assert finding.severity == "warning"


def test_ec2_remediation_points_at_the_agent_log():
    finding = run([], **failed_to_start("CannotStartContainerError: API error (500): error creating overlay mount",
                                        launchType="EC2"))
    assert any("/var/log/ecs/ecs-agent.log" in step for step in finding.remediation)


def test_runtime_error_in_pasted_agent_log_lines_is_platform_evidence():
    # Applications do not log DockerTimeoutError: such a line is the ECS agent's, pasted with the logs.
    m = PATTERN.match(evidence(["level=error msg=\"DockerTimeoutError: Could not transition to created\""]))
    assert m is not None and m.stage.name == "PLATFORM"


def test_an_application_internal_error_in_its_log_is_weak():
    m = PATTERN.match(evidence(["graphql: InternalError: resolver failed"]))
    assert m is not None and m.stage.name == "APP"


NEGATIVES = [
    pytest.param(failed_to_start("CannotCreateContainerError: API error (500): devmapper: Thin Pool has 4350 free data "
                                 "blocks which is less than minimum required 4454 free data blocks. Create more free "
                                 "space in thin pool or use dm.min_free_space option to change behavior",
                                 launchType="EC2"), "disk-full", True, id="thin-pool-is-disk-full"),
    pytest.param(failed_to_start("CannotStartContainerError: Error response from daemon: failed to create shim task: "
                                 "OCI runtime create failed: runc create failed: unable to start container process: "
                                 "exec: \"uvicorn\": executable file not found in $PATH: unknown"),
                 "container-start-failed", False, id="cannot-start-because-of-the-image"),
    pytest.param({"containers": [box(137, reason="OutOfMemoryError: Container killed due to memory usage")]},
                 "out-of-memory", False, id="oom-kill-is-not-platform"),
]


@pytest.mark.parametrize(("detail", "expected", "fires"), NEGATIVES)
def test_nearest_neighbour(detail, expected, fires):
    assert run([], **detail).pattern == expected
    assert (PATTERN.match(evidence([], **detail)) is not None) is fires


def test_the_agent_failing_to_create_the_pause_container_is_a_platform_error():
    logs = ["2019-07-22T08:30:05Z [WARN] Managed task [arn:aws:ecs:us-west-2:111122223333:task/c/39adb961b00f387c3fc75ffb"
            "0192ebb1]: error creating container [~internal~ecs~pause]; marking its desired status as STOPPED: Error: "
            "No such image: amazon/amazon-ecs-pause:0.1.0"]
    finding = run(logs, **failed_to_start("Task failed to start", launchType="EC2"))
    assert_finding(finding, ID, {"error_code": "PauseContainerError"})
    assert "ecs-init" in finding.remediation[0]


def test_a_host_missing_a_piece_is_not_called_transient_but_a_runtime_timeout_is():
    """A missing pause image fails every task on that instance: drain or fix it, no "usually transient"; near
    miss: a Docker timeout on the same kind of host keeps the transient advice."""
    logs = ["[WARN] Managed task [arn:aws:ecs:us-west-2:111122223333:task/c/39adb961b00f387c3fc75ffb0192ebb1]: error "
            "creating container [~internal~ecs~pause]; marking its desired status as STOPPED: Error: No such image: "
            "amazon/amazon-ecs-pause:0.1.0"]
    text = "\n".join(run(logs, **failed_to_start("Task failed to start", launchType="EC2")).remediation)
    assert "transient" not in text and ("DRAINING" in text or "drain" in text), text
    text = "\n".join(run([], **failed_to_start("DockerTimeoutError: Could not transition to created; timed out after "
                                               "waiting 4m0s", launchType="EC2")).remediation)
    assert "transient" in text


@pytest.mark.parametrize("reason", ["Host EC2 Terminated", "Host EC2 (instance i-0123456789abcdef0) terminated."])
def test_a_host_lost_to_a_spot_interruption_is_expected_not_a_platform_error(reason):
    """Near miss: the same words with ECS's SpotInterruption stop code are a reclaim the team chose (Spot)."""
    detail = {"stoppedReason": reason, "stopCode": "SpotInterruption", "launchType": "EC2", "containers": [box(None)]}
    assert PATTERN.match(evidence([], **detail)) is None
    assert run([], **detail).pattern == "expected-stop"


def test_an_unhealthy_container_docker_could_not_stop_on_ec2_checks_the_instance_not_transient():
    inst = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0123456789abcdef0123456789abcdef"
    detail = {"stoppedReason": "Task failed container health checks", "stopCode": "ServiceSchedulerInitiated",
              "launchType": "EC2", "containerInstanceArn": inst, "group": "service:api",
              "containers": [box(None, reason="DockerTimeoutError: Could not transition to stopped; timed out after "
                                 "waiting 1m0s")]}
    got = run([], **detail)
    assert got.pattern == "platform-error" and "usually transient" not in got.remediation[0]
    assert "describe-container-instances" in got.remediation[0] and "0123456789abcdef" in got.remediation[0]
    # Near miss: the same timeout with no health-check stop keeps the transient step.
    plain = run([], **{**detail, "stoppedReason": "Essential container in task exited", "stopCode": "EssentialContainerExited"})
    assert plain.pattern == "platform-error" and "usually transient" in plain.remediation[0]


def test_a_service_discovery_registration_that_never_completed_checks_the_registry_not_transient():
    # ECS registers a service's task in Cloud Map (serviceRegistries) before it counts as started.
    finding = run([], **failed_to_start("Timeout waiting for service discovery instance provisioning to complete.",
                                        group="service:orders"))
    assert_finding(finding, ID, {"error_code": "ServiceDiscoveryRegistration"})
    text = "\n".join(finding.remediation)
    assert "serviceRegistries" in text and "aws servicediscovery get-service" in text
    assert "usually transient" not in text


def test_near_miss_an_apps_own_discovery_client_failing_to_register_is_not_ecs():
    # Eureka/Consul clients log similar words; only ECS's stop reason is the platform's registration.
    logs = ["ERROR DiscoveryClient: service discovery registration failed: connection refused to eureka:8761"]
    detail = {"containers": [box(1)]}
    assert run(logs, **detail).pattern != ID
    assert PATTERN.match(evidence(logs, **detail)) is None
