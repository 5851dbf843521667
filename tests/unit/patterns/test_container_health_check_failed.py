"""container-health-check-failed: the task definition's HEALTHCHECK kept failing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
from shared.patterns.container_health_check_failed import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box

ID = "container-health-check-failed"


def unhealthy(*containers):
    return {"stoppedReason": "Task failed container health checks", "stopCode": "ServiceSchedulerInitiated",
            "containers": list(containers) or [box(143, healthStatus="UNHEALTHY")]}


POSITIVES = [
    pytest.param([], unhealthy(), {"container": "app"}, id="no-logs"),
    pytest.param(["  ▲ Next.js 14.2.3", "  - Local:        http://ip-10-0-97-61.us-west-2.compute.internal:3000",
                  "  - Network:      http://10.0.97.61:3000", " ✓ Ready in 120ms"], unhealthy(),
                 {"container": "app", "listen_address": "ip-10-0-97-61.us-west-2.compute.internal", "listen_port": 3000},
                 id="nextjs-standalone-binds-the-task-hostname"),
    pytest.param([], unhealthy(box(143, "app", healthStatus="HEALTHY"), box(143, "envoy", healthStatus="UNHEALTHY")),
                 {"container": "envoy"}, id="unhealthy-sidecar-is-named"),
    pytest.param([], {"stoppedReason": "", "stopCode": "ServiceSchedulerInitiated",
                      "containers": [box(143, healthStatus="UNHEALTHY")]},
                 {"container": "app"}, id="unhealthy-status-without-reason-text"),
    pytest.param(["/bin/sh: curl: not found", "/bin/sh: curl: not found"],
                 {"stoppedReason": "Task failed container health checks", "stopCode": "EssentialContainerExited",
                  "containers": [box(137, "exporter")]},
                 {"container": "exporter", "missing_command": "curl"}, id="check-command-missing-from-the-image"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_health_check_command_from_the_task_definition_is_shown():
    base = evidence([], **unhealthy())
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12", containers=(
        ContainerDefinition(name="app", health_check=("CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"),
                            health_check_start_period=10),))
    ev = replace(base, task_definition=td)
    m = PATTERN.match(ev)
    assert m is not None
    assert m.facts["health_check"] == "CMD-SHELL curl -f http://localhost:8000/health || exit 1"
    assert m.facts["start_period"] == 10
    assert "curl -f http://localhost:8000/health" in "\n".join(PATTERN.explain(m, ev).remediation)


def test_a_cause_in_the_logs_wins_and_this_becomes_the_symptom():
    finding = run(["ModuleNotFoundError: No module named 'requests'"], **unhealthy())
    assert finding.pattern == "missing-dependency"
    assert finding.symptom == ID


NEGATIVES = [
    pytest.param([], {"stoppedReason": "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:"
                                       "us-east-1:111122223333:targetgroup/a/b)", "stopCode": "ServiceSchedulerInitiated",
                      "containers": [box(143)]}, "health-check-failed", id="elb-health-checks"),
    pytest.param([], {"containers": [box(1, healthStatus="UNHEALTHY")]}, "unknown",
                 id="unhealthy-but-it-exited-on-its-own"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def _steps(detail):
    from shared.render import steps as st

    rem = run([], **detail).remediation
    return rem, [c for s in rem for c in st.commands(s)], [p for s in rem for p in st.placeholders(s)]


def test_an_unknown_check_is_read_from_the_task_definition_and_run_next_to_the_app():
    """No python fallback with <port><path> placeholders: the check is read from the task definition and run
    with docker exec beside the running image; the image is named for the tool check."""
    from tests.support.fixcheck import command_problems

    rem, cmds, holes = _steps(unhealthy())
    text = "\n".join(rem)
    assert not holes and "python -c" not in text and "urllib" not in text, text
    assert any(c.startswith("aws ecs describe-task-definition") and "healthCheck.command" in c for c in cmds)
    assert any(c.startswith("docker exec health-test") for c in cmds)
    assert all(command_problems(c) == [] for c in cmds), cmds


def test_a_container_waiting_on_the_unhealthy_one_is_named_and_a_crashed_one_is_not():
    """A container with no exit code beside an UNHEALTHY one never started (dependsOn HEALTHY); near miss: a
    container that exited with a code ran, and is not said to wait."""
    waiting = {"name": "worker", "lastStatus": "STOPPED", "image": "repo/worker:1"}
    rem, _, _ = _steps(unhealthy(box(137, "app", healthStatus="UNHEALTHY"), waiting))
    assert any(s.startswith("worker never started") and "HEALTHY" in s for s in rem), rem
    rem, _, _ = _steps(unhealthy(box(137, "app", healthStatus="UNHEALTHY"), box(1, "worker")))
    assert not any("never started" in s for s in rem), rem


def test_the_service_connect_proxy_is_not_run_locally_and_the_app_is_not_blamed():
    """The ECS-managed Service Connect proxy turned UNHEALTHY: its configuration, not a docker run of an image
    you cannot pull; near miss: an app container keeps the run-the-check step."""
    proxy = box(0, "ecs-service-connect-Qm7xT", image="ecs-service-connect-agent:interface-v1", healthStatus="UNHEALTHY")
    f = run([], **unhealthy(box(143, "api", healthStatus="UNKNOWN"), proxy))
    text = "\n".join(f.remediation)
    assert f.facts["container"] == "ecs-service-connect-Qm7xT"
    assert "docker run" not in text and "Service Connect" in f.remediation[0], text
    f = run([], **unhealthy(box(137, "api", healthStatus="UNHEALTHY")))
    assert "docker exec health-test" in "\n".join(f.remediation)


def test_the_local_check_run_passes_the_task_definitions_environment():
    """A sidecar that exits without its token or endpoint leaves nothing for docker exec: the local run gets the
    task definition's variables in task.env; near miss: the managed Service Connect proxy gets no local run."""
    _rem, cmds, _ = _steps(unhealthy())
    assert any("environment[].[name,value]" in c and "task.env" in c for c in cmds), cmds
    assert any(c.startswith("docker run --rm --env-file task.env -d --name health-test") for c in cmds), cmds
    proxy = box(0, "ecs-service-connect-Qm7xT", image="ecs-service-connect-agent:interface-v1", healthStatus="UNHEALTHY")
    f = run([], **unhealthy(box(143, "api", healthStatus="UNKNOWN"), proxy))
    assert "task.env" not in "\n".join(f.remediation)
