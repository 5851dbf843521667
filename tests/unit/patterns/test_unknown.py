"""unknown: the fallback still says what the evidence shows and what to collect next."""

from __future__ import annotations

import pytest

from shared.patterns.unknown import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import box, exited


@pytest.mark.parametrize(("detail", "meaning"), [
    pytest.param(exited(143), "SIGTERM", id="143"),
    pytest.param(exited(137), "SIGKILL", id="137"),
    pytest.param(exited(1), "generic failure", id="1-with-no-output"),
])
def test_exit_code_is_explained(detail, meaning):
    finding = run([], **detail)
    assert finding.pattern == "unknown"
    code = str(detail["containers"][0]["exitCode"])
    assert meaning in finding.facts["exit_meaning"][code]
    assert finding.facts["stop_code"] == "EssentialContainerExited"
    assert finding.severity == "warning"


def test_no_logs_says_where_to_look():
    finding = run([], **exited(137))
    text = "\n".join(finding.remediation)
    assert "killed from outside" in text
    assert "No log lines were available" in text
    assert any("No container log lines" in gap for gap in finding.gaps)


def test_quiet_logs_do_not_invent_a_cause():
    finding = run(["INFO listening on 0.0.0.0:8080", "INFO GET /orders 200"], **exited(143))
    assert finding.pattern == "unknown"
    assert finding.facts["exit_codes"] == {"app": 143}


def test_fallback_is_never_chosen_by_the_engine_when_anything_matched():
    assert PATTERN.fallback is True
    finding = run(["ModuleNotFoundError: No module named 'x'"])
    assert finding.pattern != "unknown"


def test_matches_anything_with_low_confidence():
    m = PATTERN.match(evidence([], containers=[box(None)], stopCode=None, stoppedReason=None))
    assert m is not None and m.confidence < 0.5
    assert m.facts == {}


@pytest.mark.parametrize(("containers", "culprit"), [
    pytest.param([box(143, "api"), box(136, "log_router", image="amazon/aws-for-fluent-bit:2.19.0")], "log_router",
                 id="router-exits-136-with-no-logs-app-stopped-143"),
    pytest.param([box(143, "orders"), box(1, "xray-daemon", image="amazon/aws-xray-daemon"), box(143, "debugger")],
                 "xray-daemon", id="sidecar-exits-1-the-others-stopped"),
    pytest.param([box(1, "my-service"), box(0, "firelens_log_router")], "my-service",
                 id="app-exits-1-its-logs-never-shipped-router-exits-0"),
])
def test_the_one_container_that_failed_is_named_even_when_the_cause_is_unknown(containers, culprit):
    finding = run([], containers=containers)
    assert finding.pattern == "unknown"
    assert finding.facts["container"] == culprit


@pytest.mark.parametrize("containers", [
    pytest.param([box(143, "api"), box(137, "envoy")], id="all-killed-from-outside"),
    pytest.param([box(1, "api"), box(2, "worker")], id="two-failed-on-their-own"),
    pytest.param([box(0, "api"), box(0, "worker")], id="nothing-failed"),
])
def test_no_container_is_blamed_when_none_stands_out(containers):
    finding = run([], stoppedReason="Essential container in task exited", containers=containers)
    assert "container" not in finding.facts


def test_a_sigterm_gets_who_sent_it_not_memory_advice():
    finding = run(["INFO stopping: received SIGTERM"], launchType="EC2", **exited(143))
    assert finding.pattern == "unknown", finding.pattern
    text = " ".join(finding.remediation)
    assert "137" not in text and "MemoryUtilized" not in text, text
    assert "docker events" in text and "ecs-agent.log" in text
    assert "MemoryUtilized" in " ".join(run([], launchType="EC2", **exited(137)).remediation)


@pytest.mark.parametrize(("code", "signal"), [(139, "SIGSEGV"), (134, "SIGABRT"), (143, None)])
def test_a_self_inflicted_signal_is_named_and_an_outside_one_is_not(code, signal):
    """139 is a segfault of the process itself (native code), named first; near miss: 143 is a stop from
    outside and gets no native-crash advice."""
    f = run([], **exited(code))
    if f.pattern != "unknown":
        pytest.skip(f"{code} matched {f.pattern}")
    text = "\n".join(f.remediation)
    if signal:
        assert signal in f.remediation[0] and "native" in f.remediation[0], text
    else:
        assert "native code" not in text and "SIGTERM" in text


def test_no_containers_still_gives_runnable_commands():
    from shared.render import steps
    from tests.support.fixcheck import command_problems

    f = run([], containers=[], stoppedReason="")
    assert not any(steps.placeholders(s) for s in f.remediation), f.remediation
    assert all(command_problems(c) == [] for s in f.remediation for c in steps.commands(s))


def test_a_143_on_ec2_lists_the_hosts_kill_events_around_the_stop_time_and_fargate_does_not():
    from shared.render import steps
    from tests.support.fixcheck import command_problems

    at = {"stoppedAt": "2021-03-14T11:15:51.000Z", "executionStoppedAt": "2021-03-14T11:15:51.000Z"}
    f = run([], **exited(143), launchType="EC2", **at)
    text = "\n".join(f.remediation)
    if f.pattern != "unknown":
        pytest.skip(f.pattern)
    assert "docker events --since 2021-03-14T11:05:51Z --until 2021-03-14T11:17:51Z --filter event=kill" in text, text
    assert all(command_problems(c) == [] for s in f.remediation for c in steps.commands(s))
    f = run([], **exited(143), launchType="FARGATE", **at)
    assert "docker events" not in "\n".join(f.remediation)


@pytest.mark.parametrize(("launch", "kernel"), [("EC2", True), ("FARGATE", False)])
def test_a_bare_137_on_ec2_points_at_the_hosts_kernel_log(launch, kernel):
    f = run([], **exited(137), launchType=launch)
    if f.pattern != "unknown":
        pytest.skip(f.pattern)
    assert ("journalctl -k" in "\n".join(f.remediation)) == kernel


# When one essential container fails on its own first, ECS stops the others (SIGTERM: exit 143). The finding
# points at the one that failed, sidecar or not, and never chases a 143 ECS itself sent.
_ROUTER = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.31.12"


@pytest.mark.parametrize(("first", "stopped"), [
    pytest.param(box(255, "log_router", image=_ROUTER), box(143, "web"), id="log-router-sidecar-exits-first"),
    pytest.param(box(3, "web"), box(143, "metrics-agent", image="public.ecr.aws/datadog/agent:7"),
                 id="app-exits-first-agent-stopped"),
])
def test_the_container_that_failed_first_is_blamed_not_the_one_ecs_stopped(first, stopped):
    finding = run([], containers=[stopped, first])
    assert finding.pattern == "unknown"
    assert finding.facts.get("container") == first["name"]
    text = "\n".join(finding.remediation)
    assert "ECS did not" not in text and "says ECS did not" not in finding.summary
    assert f"{first['name']} failed first" in finding.remediation[0]
    assert f"{stopped['name']} (143) exited only because ECS stops" in finding.remediation[0]
    assert f"{first['name']} failed first" in finding.summary


def test_a_sidecar_on_a_moving_tag_is_told_to_pin_it():
    finding = run([], containers=[box(143, "web"), box(1, "log_router", image="amazon/aws-for-fluent-bit:stable")])
    assert "pin a version" in finding.remediation[0]
    assert "sidecar (log-router)" in finding.remediation[0]
    pinned = run([], containers=[box(143, "web"), box(1, "log_router", image=_ROUTER)])
    assert "pin a version" not in pinned.remediation[0]


def test_near_miss_a_lone_143_with_essential_container_exited_was_not_ecs():
    # One container, stopped by SIGTERM before ECS stopped anything: ECS did not send it.
    finding = run([], **exited(143))
    assert "says ECS did not" in finding.remediation[0]
    assert "failed first" not in " ".join(finding.remediation)


def test_near_miss_several_signal_exits_do_not_say_which_came_first():
    # 143 and 137, nobody failed on its own: no culprit, and the 143 is not declared "not ECS's".
    finding = run([], containers=[box(143, "web"), box(137, "metrics-agent", image="public.ecr.aws/datadog/agent:7")])
    assert finding.pattern == "unknown"
    assert "container" not in finding.facts
    text = "\n".join(finding.remediation)
    assert "failed first" not in text
    assert "says ECS did not" not in text
    assert "do not say which one" in text


def test_a_last_line_that_reports_a_killed_process_points_at_memory_without_claiming_it():
    """Exit 1 after a wrapper's "Killed": unknown (nothing shows why it was killed), but the step says what a kill
    with no ECS reason most often is and where to look."""
    finding = run(["INFO step 2 of 3: terrain correction", "Proc: Killed"], **exited(1))
    assert finding.pattern == "unknown"
    assert "Proc: Killed" in finding.remediation[0] and "OOM killer" in finding.remediation[0]


def test_near_miss_a_log_that_goes_on_after_a_killed_child_gets_no_kill_step():
    finding = run(["worker: Killed", "INFO retrying step 2 with a smaller tile", "INFO done"], **exited(1))
    assert not any("killed by a signal" in s for s in finding.remediation)


@pytest.mark.parametrize(("detail", "named"), [
    pytest.param(exited(137), True, id="the-one-container-killed-stopped-the-task"),
    pytest.param({**exited(137), "stopCode": "ServiceSchedulerInitiated", "stoppedReason": "Task stopped"}, False,
                 id="near-miss-the-one-container-killed-after-ecs-stopped-the-task"),
    pytest.param({"containers": [box(137, "worker"), box(0, "log_router")]}, False,
                 id="near-miss-a-137-beside-another-container-may-be-ecs-stopping-it"),
])
def test_a_task_of_one_container_that_exited_abnormally_names_it(detail, named):
    """Exit 137 with no words: the cause is unknown, but in a task of one container that container's exit
    stopped the task. Near misses: the task was stopped from outside first, or another container may have
    exited first and the 137 is ECS's SIGKILL after stopTimeout."""
    finding = run([], **detail)
    assert finding.pattern == "unknown"
    assert (finding.facts.get("container") == "app") if named else "container" not in finding.facts, finding.facts
