"""fix43: the neighbours of review27's probes (tests/unit/test_review27_probes.py) that each fix must not change."""

from __future__ import annotations

from tests.unit.helpers import run
from tests.unit.test_review27_probes import _ECR, _long_oom, _spot

# --- out of memory after a long run -------------------------------------------------------------------------------


def test_an_otel_collector_by_its_own_name_is_still_an_agent_and_keeps_the_sizing_first():
    for name, image in (("aws-otel-collector", "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"),
                        ("otelcol", _ECR + "otelcol:1"), ("log_router", _ECR + "fluentd-custom:2")):
        got = _long_oom(24 * 19, name=name, image=image)
        assert "postpones" not in got.remediation[0], (name, got.remediation[0])


def test_a_jvm_long_run_oom_keeps_the_jvm_heap_tools_and_names_no_go_setting():
    got = _long_oom(72, logs={"app": ["Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"]})
    first = got.remediation[0]
    assert "postpones" in first and "-XX:MaxRAMPercentage" in first and "GOMEMLIMIT" not in first, first


def test_runs_of_two_days_and_of_under_a_day_read_days_and_hours():
    assert "ran 2 days 3 h" in _long_oom(51).remediation[0]
    assert "ran 20 h" in _long_oom(20).remediation[0]
    assert "ran 1 day 0 h" in _long_oom(24).remediation[0]


# --- shutdown noise of an expected stop ---------------------------------------------------------------------------


def test_a_go_panic_with_no_blank_line_before_its_dump_is_named_by_its_panic_line_too():
    lines = ['level=info msg="received SIGTERM, shutting down"', "panic: runtime error: invalid memory address",
             "goroutine 7 [running]:", "main.(*Worker).handleError(0xc000010000)", "\t/app/worker.go:88 +0x65"]
    first = run({"api": lines}, **_spot(143)).remediation[0]
    assert "panic: runtime error" in first and "handleError" not in first, first


def test_near_miss_a_shutdown_summary_with_a_real_error_is_still_shutdown_noise():
    lines = ["2024/05/01 11:00:00 received SIGTERM, shutting down",
             "2024/05/01 11:00:01 server stopped, error: context deadline exceeded"]
    first = run({"api": lines}, **_spot()).remediation[0]
    assert "shutdown noise" in first and "context deadline exceeded" in first, first


def test_near_miss_an_error_line_that_itself_says_the_process_is_shutting_down_is_still_noise():
    lines = ["INFO: started", "ERROR: graceful shutdown timed out, closing 3 connections"]
    first = run({"api": lines}, **_spot()).remediation[0]
    assert "shutdown noise" in first, first
