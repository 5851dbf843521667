"""expected-stop: stops ordered from outside, and clean exits; never when something failed."""

from __future__ import annotations

import pytest

from shared.patterns.expected_stop import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited

ID = "expected-stop"
SHUTDOWN = ["[2024-05-01 10:00:00 +0000] [1] [INFO] Handling signal: term",
            "[2024-05-01 10:00:00 +0000] [7] [INFO] Worker exiting (pid: 7)",
            "[2024-05-01 10:00:01 +0000] [1] [INFO] Shutting down: Master"]

POSITIVES = [
    pytest.param(SHUTDOWN, {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
                            "stopCode": "ServiceSchedulerInitiated", "containers": [box(0)]},
                 {"reason": "scale-in", "deployment": "ecs-svc/1234567890123456789"}, id="scale-in"),
    pytest.param([], {"stoppedReason": "Task stopped by user", "stopCode": "UserInitiated", "containers": [box(143)]},
                 {"reason": "user"}, id="stop-task"),
    pytest.param([], {"stoppedReason": "Your Spot Task was interrupted.", "stopCode": "SpotInterruption",
                      "containers": [box(143)]}, {"reason": "spot"}, id="fargate-spot"),
    pytest.param(SHUTDOWN, {"stoppedReason": "Your Spot Task was interrupted.", "stopCode": "TerminationNotice",
                            "containers": [box(0)]}, {"reason": "spot"}, id="spot-termination-notice"),
    pytest.param([], {"stoppedReason": "ECS is performing maintenance on the underlying infrastructure hosting the "
                                       "task", "stopCode": "ServiceSchedulerInitiated", "containers": [box(143)]},
                 {"reason": "maintenance"}, id="task-retirement"),
    pytest.param([], {"stoppedReason": "", "stopCode": "ServiceSchedulerInitiated", "containers": [box(143)]},
                 {"reason": "scheduler"}, id="scheduler-no-reason"),
    pytest.param(["INFO processed 1200 records", "INFO done"], {**exited(0), "group": "family:nightly-report",
                                                               "startedBy": "events-rule/nightly"},
                 {"reason": "completed"}, id="batch-job-exit-0"),
    # The job finished; the CloudWatch agent then exited 2 on the shutdown, with nothing in its log.
    pytest.param({"cloudwatch-agent": []}, {"group": "family:nightly-export", "startedBy": "events-rule/nightly",
                                            "containers": [box(0, "export"), box(2, "cloudwatch-agent",
                                                                                 image="amazon/cloudwatch-agent:1.247")]},
                 {"reason": "completed", "container": "export"}, id="job-done-then-its-sidecar-exits-non-zero"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    finding = run(logs, **detail)
    assert_finding(finding, ID, facts)
    assert finding.severity == "info"
    assert finding.remediation[0] == "Nothing to fix."


def test_spot_interruption_wins_over_errors_logged_while_shutting_down():
    logs = ["[ERROR] consumer: connection to broker lost", "Traceback (most recent call last):",
            '  File "/app/worker.py", line 30, in run', "    msg = q.get()",
            "ConnectionResetError: [Errno 104] Connection reset by peer"]
    # The worker died of the shutdown (exit 1), so app-crash matches too: the stop order still explains it.
    finding = run(logs, stoppedReason="Your Spot Task was interrupted.", stopCode="SpotInterruption",
                  containers=[box(1)])
    assert_finding(finding, ID, {"reason": "spot"})
    assert "app-crash" in finding.also_matched


def test_deployment_replacement_wins_over_a_database_error_at_shutdown():
    finding = run(["Error: connect ECONNREFUSED 10.0.3.4:5432"],
                  stoppedReason="Scaling activity initiated by (deployment ecs-svc/0987654321)",
                  stopCode="ServiceSchedulerInitiated", containers=[box(137)])
    assert_finding(finding, ID, {"reason": "scale-in"})


def test_service_task_that_exits_0_is_questioned():
    finding = run([], **exited(0))
    assert_finding(finding, ID, {"reason": "completed"})
    assert any("long-running" in step for step in finding.remediation)


NEGATIVES = [
    pytest.param(["Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>',
                  "ModuleNotFoundError: No module named 'x'"], exited(0), "missing-dependency", True,
                 id="exit-0-but-a-failure-was-logged"),
    pytest.param([], {"containers": [box(0, "app"), box(1, "log-router")]}, "unknown", False,
                 id="exit-0-but-a-sidecar-failed"),
    pytest.param([], {"group": "family:nightly-export", "containers": [box(0, "export"), box(2, "uploader")]},
                 "unknown", False, id="job-whose-second-own-container-failed"),
    pytest.param([], {"group": "family:nightly-export", "containers": [box(1, "export"), box(2, "cloudwatch-agent")]},
                 "unknown", False, id="job-that-failed-and-its-sidecar-too"),
    pytest.param([], {"containers": [box(0, reason="OutOfMemoryError: Container killed due to memory usage")]},
                 "out-of-memory", False, id="exit-0-with-an-ecs-reason"),
    pytest.param([], {"stoppedReason": "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:"
                                       "us-east-1:111122223333:targetgroup/a/b)", "stopCode": "ServiceSchedulerInitiated",
                      "containers": [box(143)]}, "health-check-failed", False,
                 id="scheduler-stop-for-health-checks"),
    pytest.param([], exited(143), "unknown", False, id="bare-sigterm"),
    pytest.param([], {"stoppedReason": "", "stopCode": "ServiceSchedulerInitiated",
                      "containers": [box(143, healthStatus="UNHEALTHY")]}, "container-health-check-failed", False,
                 id="scheduler-stop-of-an-unhealthy-container"),
]


@pytest.mark.parametrize(("logs", "detail", "expected", "fires"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected, fires):
    assert run(logs, **detail).pattern == expected
    assert (PATTERN.match(evidence(logs, **detail)) is not None) is fires


def test_a_user_stop_says_where_to_find_who_and_a_killed_log_router_is_explained():
    from shared.render import steps
    from tests.support.fixcheck import command_problems

    f = run([], stoppedReason="Task stopped by user", stopCode="UserInitiated", containers=[box(143, "app")])
    if f.pattern != ID:
        pytest.skip(f.pattern)
    assert any("StopTask" in s for s in f.remediation)
    assert all(command_problems(c) == [] for s in f.remediation for c in steps.commands(s))
    f = run([], stoppedReason="Essential container in task exited", stopCode="EssentialContainerExited",
            containers=[box(0, "etl"), box(137, "log_router", image="amazon/aws-for-fluent-bit:stable")])
    if f.pattern == ID:
        assert any(s.startswith("log_router exited 137") for s in f.remediation), f.remediation


_DEPLOY = {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/0987654321)",
           "stopCode": "ServiceSchedulerInitiated"}


def test_a_non_zero_exit_from_a_wrapper_after_sigterm_is_explained_as_the_signal():
    logs = ["- Gracefully stopping, waiting for requests to finish", "- Goodbye!",
            "bundler: failed to load command: puma (/app/bin/puma)"]
    finding = run(logs, **_DEPLOY, containers=[box(1)])
    assert finding.pattern == ID and "SIGTERM" in finding.remediation[0] and "exit code 1" in finding.remediation[0]


def test_near_miss_a_clean_143_is_just_nothing_to_fix():
    finding = run(["- Goodbye!"], **_DEPLOY, containers=[box(143)])
    assert finding.remediation[0] == "Nothing to fix."
