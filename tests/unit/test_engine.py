"""The selection rules of shared/engine.py: root cause over symptom, most specific wins, last incident
decides, broken patterns become gaps, and the finding's excerpt and fingerprint behave."""

from __future__ import annotations

import copy

import pytest

from shared.engine import CLUSTER_WINDOW, EXCERPT_LINES, diagnose
from shared.inputs import offline_evidence, parse_task_event
from shared.patterns import by_id
from tests.unit.helpers import event, evidence, run
from tests.unit.patterns.common import box, elb_failed, exited, failed_to_start

CRASH = ["Traceback (most recent call last):", '  File "/app/main.py", line 9, in <module>', "    main()",
         "RuntimeError: boom"]
KEYERROR = ["Traceback (most recent call last):", '  File "/app/settings.py", line 4, in <module>',
            '    DATABASE_URL = os.environ["DATABASE_URL"]', "KeyError: 'DATABASE_URL'"]
OOM = "OutOfMemoryError: Container killed due to memory usage"


# -- 1. a failure ECS reported wins --------------------------------------------------------------
def test_platform_failure_beats_what_the_app_logged():
    finding = run(KEYERROR, **exited(137, reason=OOM))
    assert finding.pattern == "out-of-memory"
    assert "missing-env-var" in finding.also_matched


def test_among_platform_failures_the_more_specific_wins():
    detail = failed_to_start("CannotPullContainerError: ref pull has been retried 1 time(s): failed to extract layer "
                             "sha256:7c52: write /var/lib/containerd/x/libcuda.so: no space left on device: unknown")
    finding = run([], **detail)
    assert finding.pattern == "disk-full"
    assert by_id("disk-full").priority > by_id("image-pull-failed").priority
    assert "image-pull-failed" in finding.also_matched


def test_among_platform_failures_a_confident_match_beats_a_generic_one():
    # A Docker 500 on start is a runtime failure (confident platform-error); container-start-failed only
    # recognises the generic CannotStartContainerError and has the higher priority, yet loses.
    finding = run([], **failed_to_start("CannotStartContainerError: API error (500): error creating overlay mount "
                                        "to /var/lib/docker/overlay2/abc/merged: device or resource busy",
                                        launchType="EC2"))
    assert finding.pattern == "platform-error"
    assert by_id("container-start-failed").priority > by_id("platform-error").priority
    assert "container-start-failed" in finding.also_matched


# -- 2. a stop ordered from outside is expected ---------------------------------------------------
@pytest.mark.parametrize(("reason", "code"), [
    ("Your Spot Task was interrupted.", "SpotInterruption"),
    ("Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", "ServiceSchedulerInitiated"),
    ("Task stopped by user", "UserInitiated"),
])
def test_external_stop_beats_errors_logged_while_stopping(reason, code):
    finding = run([*CRASH, "Error: connect ECONNREFUSED 10.0.3.4:5432"], stoppedReason=reason, stopCode=code,
                  containers=[box(1)])
    assert finding.pattern == "expected-stop"
    assert {"app-crash", "database-connection-failed"} <= set(finding.also_matched)


def test_a_clean_exit_0_does_not_beat_a_logged_failure():
    assert run(["ModuleNotFoundError: No module named 'x'"], **exited(0)).pattern == "missing-dependency"


# -- 3. the application's own output: last incident, failing container first --------------------------
def test_last_incident_wins_over_an_error_recovered_from_earlier():
    logs = ["Error: connect ECONNREFUSED 10.0.3.4:5432", "retrying in 5s",
            *[f"request {n} ok" for n in range(CLUSTER_WINDOW + 5)], *KEYERROR]
    finding = run(logs)
    assert finding.pattern == "missing-env-var"
    assert "database-connection-failed" in finding.also_matched


def test_within_one_incident_the_more_specific_wins_even_if_logged_earlier():
    logs = ["Error: connect ECONNREFUSED 10.0.3.4:5432", *[f"  at frame{n}" for n in range(5)],
            "Uncaught Error: startup failed", "    at main (/app/index.js:3:9)"]
    finding = run(logs)
    assert finding.pattern == "database-connection-failed"
    assert "app-crash" in finding.also_matched


def test_the_failing_containers_lines_come_before_a_healthy_sidecars():
    logs = {"app": ["Error: Cannot find module 'express'", "    at Module._resolveFilename (node:internal/modules/"
                    "cjs/loader:1077:15)"],
            "envoy": ["[critical] error initializing configuration: connect ECONNREFUSED 10.0.0.9:5432"]}
    finding = diagnose(offline_evidence(parse_task_event(event(containers=[box(1, "app"), box(0, "envoy")])), logs))
    assert finding.pattern == "missing-dependency"
    assert finding.facts["container"] == "app"


# -- 4. symptoms only when the logs name nothing ------------------------------------------------
def test_symptom_alone_is_the_finding():
    finding = run([], **elb_failed(143))
    assert finding.pattern == "health-check-failed"
    assert finding.symptom is None


def test_root_cause_in_the_logs_carries_the_symptom():
    finding = run(KEYERROR, **elb_failed(143))
    assert (finding.pattern, finding.symptom) == ("missing-env-var", "health-check-failed")
    assert finding.evidence[-1].source == "stoppedReason"


REFUSED_AT_WARN = ["2024-02-01 10:00:01,100 WARN  [io.agroal.pool] (agroal-11) Datasource '<default>': Connection "
                   "to pg.internal:5432 refused. Check that the hostname and port are correct."]


def test_a_warning_is_the_cause_when_the_app_then_failed_on_its_own_and_nothing_else_explains_it():
    finding = run(REFUSED_AT_WARN, **exited(1))
    assert finding.pattern == "database-connection-failed"
    assert finding.confidence < run([REFUSED_AT_WARN[0].replace(" WARN ", " ERROR")], **exited(1)).confidence


@pytest.mark.parametrize("detail", [exited(143), exited(137), elb_failed(143), exited(0)],
                         ids=["sigterm", "sigkill", "health-check", "clean-exit"])
def test_a_warning_is_not_the_cause_of_a_stop_from_outside(detail):
    assert run(REFUSED_AT_WARN, **detail).pattern != "database-connection-failed"


def test_a_real_stack_trace_is_not_second_guessed_by_an_earlier_warning():
    logs = [*REFUSED_AT_WARN, "Traceback (most recent call last):", '  File "/app/a.py", line 2, in <module>',
            "    x()", "RuntimeError: boom"]
    assert run(logs, **exited(1)).pattern == "app-crash"


# -- 5. exit 0, then unknown ------------------------------------------------------------------
def test_exit_0_is_expected_and_nothing_is_unknown():
    assert run([], **exited(0)).pattern == "expected-stop"
    finding = run([], **exited(143))
    assert finding.pattern == "unknown"
    assert finding.also_matched == []


# -- isolation ---------------------------------------------------------------------------------
def test_a_pattern_that_raises_becomes_a_gap_and_the_diagnosis_goes_on(monkeypatch):
    def broken(ev):
        raise ValueError("regex exploded")

    monkeypatch.setattr(by_id("missing-env-var"), "match", broken)
    finding = run(KEYERROR)
    assert finding.pattern == "app-crash"  # the next best explanation still comes out
    assert "pattern missing-env-var raised ValueError: regex exploded" in finding.gaps


def test_the_fallback_pattern_is_not_evaluated_as_a_candidate(monkeypatch):
    def broken(ev):
        raise AssertionError("unknown must only be asked when nothing matched")

    monkeypatch.setattr(by_id("unknown"), "match", broken)
    assert run(KEYERROR).pattern == "missing-env-var"


# -- excerpt --------------------------------------------------------------------------------
def test_excerpt_is_the_last_50_lines_of_the_failing_container_masked():
    logs = [f"INFO line {n}" for n in range(200)] + [
        "connecting with postgres://orders:s3cr3t-P4ss@db.internal:5432/orders",
        "password=hunter2hunter2", *KEYERROR]
    finding = run(logs)
    assert len(finding.log_excerpt) == EXCERPT_LINES == 50
    assert finding.log_excerpt[-1] == "KeyError: 'DATABASE_URL'"
    joined = "\n".join(finding.log_excerpt)
    assert "s3cr3t-P4ss" not in joined and "hunter2hunter2" not in joined
    assert "[REDACTED]" in joined
    assert "INFO line 149" not in joined and "INFO line 199" in joined


def test_excerpt_keeps_only_the_failing_container_when_there_are_several():
    logs = {"app": KEYERROR, "envoy": ["[info] all clusters initialized"] * 3}
    ev = offline_evidence(parse_task_event(event(containers=[box(1, "app"), box(0, "envoy")])), logs)
    finding = diagnose(ev)
    assert finding.log_excerpt == [f"[app] {line}" for line in KEYERROR]


def test_excerpt_leaves_out_blank_lines_whatever_their_whitespace():
    logs = ["first", " ", "\t", "\u00a0", "\u3000 \t", "", *CRASH, "  ", "\u2028"]
    finding = run(logs)
    assert finding.log_excerpt == ["first", *CRASH]


def test_very_long_lines_are_clipped():
    finding = run(["x" * 5000, *CRASH])
    assert max(len(line) for line in finding.log_excerpt) <= 1000


# -- fingerprint -------------------------------------------------------------------------------
def _other_task(raw, task_hex, ip):
    raw = copy.deepcopy(raw)
    arn = f"arn:aws:ecs:us-east-1:111122223333:task/prod/{task_hex}"
    raw["detail"]["taskArn"], raw["resources"] = arn, [arn]
    raw["detail"]["attachments"][0]["details"][0]["value"] = "subnet-0ffffffffffffffff"
    return raw, [f"Error: connect ECONNREFUSED {ip}:5432"]


def test_fingerprint_is_stable_across_tasks_of_the_same_service_and_failure():
    first, logs1 = _other_task(event(), "0123456789abcdef0123456789abcdef", "10.0.3.4")
    second, logs2 = _other_task(event(), "fedcba9876543210fedcba9876543210", "10.0.7.19")
    f1 = diagnose(offline_evidence(parse_task_event(first), logs1))
    f2 = diagnose(offline_evidence(parse_task_event(second), logs2))
    assert f1.pattern == f2.pattern == "database-connection-failed"
    assert f1.task.task_id != f2.task.task_id
    assert f1.fingerprint == f2.fingerprint


def test_fingerprint_differs_across_patterns_services_and_key_facts():
    base = run(KEYERROR).fingerprint
    assert run(CRASH).fingerprint != base
    assert run(KEYERROR, group="service:billing-api").fingerprint != base
    other_var = [line.replace("DATABASE_URL", "REDIS_URL") for line in KEYERROR]
    assert run(other_var).fingerprint != base
    assert run(KEYERROR).fingerprint == base  # and it is deterministic


def test_finding_is_the_same_for_the_same_input():
    ev = evidence(KEYERROR, **elb_failed(143))
    assert diagnose(ev).model_dump() == diagnose(ev).model_dump()


def test_patterns_read_the_head_of_a_forged_huge_reason_and_the_finding_keeps_it_all():
    from shared.evidence.model import REASON_CHARS

    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found " + "x" * 1_000_000
    ev = evidence([], **failed_to_start(reason))
    assert len(ev.stopped_reason) == REASON_CHARS
    finding = diagnose(ev)
    assert finding.pattern == "image-pull-failed"
    assert len(finding.task.stopped_reason) > REASON_CHARS


def test_mask_masks_every_nested_string_of_a_finding_and_writes_back_only_what_changed():
    """_mask gathers the strings of the masked fields (nested dicts and lists, str subclasses such as GapNote
    included) and puts back exactly those masking changed, each where it was."""
    from shared.engine import _MASKED, _mask
    from shared.evidence.model import GapNote
    from shared.redact import redact

    secret = "DB_PASSWORD=hunter2hunter2"
    kept = "nothing to hide here"
    data = {
        "title": f"svc: {secret}", "summary": kept,
        "facts": {"env": [kept, {"deep": secret}], "n": 3, "none": None, "ok": True, "ratio": 0.5},
        "evidence": [{"source": "logs", "text": secret}], "remediation": [kept, f"Rotate it: {secret}"],
        "gaps": [GapNote(f"gap quoting {secret}", "read_failed"), GapNote(kept)],
        "checks": [{"name": "Stop code", "result": secret, "ok": None}],
        "task": {"stopped_reason": secret, "containers": [{"name": "app", "reason": secret, "exit_code": 1}]},
        "log_excerpt": [kept, secret],
    }
    expected = {k: copy.deepcopy(v) for k, v in data.items()}
    untouched_gap, untouched_summary = data["gaps"][1], data["summary"]
    _mask(data)

    def masked(value):
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, dict):
            return {k: masked(v) for k, v in value.items()}
        if isinstance(value, list):
            return [masked(v) for v in value]
        return value

    for key in _MASKED:
        assert data[key] == masked(expected[key]), key
    assert data["log_excerpt"] == [kept, "DB_PASSWORD=[REDACTED]"]
    assert "hunter2" not in repr(data)
    assert data["gaps"][1] is untouched_gap and type(data["gaps"][1]) is GapNote  # unchanged: the same object
    assert data["summary"] is untouched_summary
