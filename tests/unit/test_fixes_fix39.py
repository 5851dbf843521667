"""fix39: a user stop of a task stuck on a failed init container says so; a Fargate ENI allocation that did not
complete after the interface got an address starts with the account's interface quota."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run
from tests.unit.test_fixes_acc23 import _ENI_FAILED


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


_STUCK = {"stopCode": "UserInitiated", "stoppedReason": "Task stopped by user",
          "startedAt": "2024-03-01T10:00:00Z", "stoppingAt": "2024-03-01T10:30:00Z",
          "stoppedAt": "2024-03-01T10:30:02Z"}


def _containers(first: str, code: int | None, second_code: int | None = None) -> list[dict]:
    return [{"name": first, "lastStatus": "STOPPED", "image": "busybox:1", "exitCode": code},
            {"name": "web", "lastStatus": "STOPPED", "image": "example/web:2", "exitCode": second_code}]


def test_a_user_stop_of_a_task_stuck_on_a_failed_init_container_names_it():
    got = run(["copying assets", "cp: cannot stat '/src/assets': No such file or directory"],
              containers=_containers("assets-init", 2), **_STUCK)
    assert got.pattern == "expected-stop"
    first = got.remediation[0]
    assert "Nothing to fix" not in _steps(got)
    assert "assets-init exited 2" in first and "web" in first and "SUCCESS" in first and "30 min" in first


def test_near_miss_a_user_stop_after_every_container_ran_is_nothing_to_fix():
    # The second container ran (it has an exit code): nothing was stuck.
    got = run([], containers=_containers("assets-init", 2, 0), **_STUCK)
    assert got.pattern == "expected-stop" and "Nothing to fix" in _steps(got)


def test_near_miss_a_failed_container_that_is_no_init_is_not_blamed_without_a_dependency():
    # Nothing links the never-started container to the failed one: no init name, no dependency reason.
    got = run([], containers=_containers("worker", 1), **_STUCK)
    assert got.pattern == "expected-stop" and "Nothing to fix" in _steps(got)


def test_near_miss_an_init_container_killed_by_the_stop_is_not_a_failure():
    got = run([], containers=_containers("init", 137), **_STUCK)
    assert got.pattern == "expected-stop" and "stuck" not in _steps(got)


def test_a_fargate_eni_allocation_with_an_address_checks_the_interface_quota_first():
    attach = [{"id": "a", "type": "eni", "status": "FAILED", "details": [
        {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}, {"name": "privateIPv4Address", "value": "10.0.3.7"}]}]
    got = run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed", attachments=attach,
              launchType="FARGATE", **_ENI_FAILED)
    first = got.remediation[0]
    assert got.pattern == "network-setup-failed"
    assert first.startswith("Check the account's network interfaces") and "L-DF5E4CA3" in first
    assert "describe-network-interfaces" in first and "10.0.3.7" in first
    assert any("smaller batches" in st for st in got.remediation)


def test_near_miss_an_ec2_eni_allocation_with_an_address_keeps_the_instance_steps():
    attach = [{"id": "a", "type": "eni", "status": "FAILED", "details": [
        {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}, {"name": "privateIPv4Address", "value": "10.0.3.7"}]}]
    got = run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed", attachments=attach,
              launchType="EC2", containerInstanceArn="arn:aws:ecs:us-east-1:123456789012:container-instance/c/abc",
              **_ENI_FAILED)
    assert "L-DF5E4CA3" not in _steps(got) and "did not complete" in _steps(got)


def _with_dependency(first: str, condition: str) -> Any:
    from dataclasses import replace

    from shared.engine import diagnose
    from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
    from tests.unit.helpers import evidence

    ev = evidence([], containers=_containers(first, 1), **_STUCK)
    defs = (ContainerDefinition(name=first, essential=False),
            ContainerDefinition(name="web", depends_on=((first, condition),)))
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/web:3", containers=defs)
    return diagnose(replace(ev, task_definition=td))


def test_a_read_success_dependency_links_any_name():
    # The task definition says web waits on `worker` with SUCCESS: no init-like name is needed.
    got = _with_dependency("worker", "SUCCESS")
    assert got.pattern == "expected-stop"
    assert "worker exited 1 and web (dependsOn worker with condition SUCCESS) never started" in got.remediation[0]


def test_near_miss_a_complete_dependency_starts_the_waiter_whatever_the_exit_code():
    # COMPLETE starts web even after a non-zero exit: a failed init does not explain why web never started.
    got = _with_dependency("db-init", "COMPLETE")
    assert got.pattern == "expected-stop" and "Nothing to fix" in got.remediation[0]
