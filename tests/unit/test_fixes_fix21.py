"""Advice for a diagnosis that is right but whose step 1 was generic or said something untrue: each rule has a near
miss that must keep today's step."""

from __future__ import annotations

from tests.unit.helpers import run

_SCALING = {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            "stopCode": "ServiceSchedulerInitiated"}


def _stopping(seconds: int) -> dict[str, str]:
    return {"stoppingAt": "2024-05-01T10:00:00Z", "executionStoppedAt": f"2024-05-01T10:00:{seconds:02d}Z",
            "stoppedAt": f"2024-05-01T10:00:{seconds + 1:02d}Z"}


def test_an_ordered_stop_that_ended_in_sigkill_after_the_stop_timeout_says_sigterm_was_not_handled():
    got = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}], **_SCALING, **_stopping(31))
    assert got.pattern == "expected-stop"
    step = got.remediation[0]
    assert "SIGTERM" in step and "exec" in step and "initProcessEnabled" in step and "stopTimeout" in step
    assert "31 s" in step


def test_a_quick_137_or_a_sidecars_137_on_an_ordered_stop_is_still_nothing_to_fix():
    quick = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}], **_SCALING, **_stopping(2))
    assert quick.remediation[0] == "Nothing to fix."
    sidecar = run([], containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"},
                                  {"name": "datadog-agent", "exitCode": 137, "lastStatus": "STOPPED"}],
                  **_SCALING, **_stopping(31))
    assert sidecar.remediation[0] == "Nothing to fix."
