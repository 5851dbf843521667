"""Second review of fix32 + fix33 + fix34 (and the unknown_setting_release reconcile): each test is a confirmed
defect (asserting the right behaviour), fixed in fix36."""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from tests.unit.helpers import evidence, run


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


def _app(lines: list[str], code: int = 1, image: str = "example/app:1", **detail: Any) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}],
               **detail)


def test_an_error_logged_before_the_shutdown_notice_is_still_the_crash() -> None:
    got = _app(["ERROR: lost connection to the database, giving up", "Shutting down"], code=143,
               stopCode="EssentialContainerExited")
    assert "app-crash" in [got.pattern, *got.also_matched]
    assert "lost connection" in (got.facts.get("exception") or "")


def test_a_server_closing_its_listener_is_not_a_start() -> None:
    for stop in ("Stopped listening on 0.0.0.0:8080", "Closing server listening on 0.0.0.0:8080"):
        got = _app(["could not load license key /etc/app/license.key: permission denied", stop])
        assert got.pattern == "app-crash" and "license key" in (got.facts.get("exception") or ""), stop


def test_a_retrying_line_that_is_the_last_words_before_the_exit_is_still_the_lead() -> None:
    got = _app(["Starting worker", "could not reach license server at lic:27000, retrying in 30s"])
    assert got.pattern == "app-crash" and "license server" in (got.facts.get("exception") or "")


def test_the_sysctl_value_asked_for_is_not_the_current_one_after_set_to() -> None:
    said = remedy.error_family("net.core.somaxconn is set to 128, which is too low: must be at least 1024") or ""
    assert '"value": "1024"' in said and '"value": "128"' not in said
    said = remedy.error_family("vm.max_map_count is set to 65530 which is too low, must be at least 262144") or ""
    assert "vm.max_map_count=262144" in said and "vm.max_map_count=65530" not in said


def test_a_camel_case_scheduler_or_executor_is_still_a_program_launcher() -> None:
    for by in ("nightlyScheduler", "etlExecutor", "ecsTaskScheduler"):
        assert remedy.launcher(evidence(group="family:etl", startedBy=by)) == "program", by


def test_a_log_saying_cuda_is_unavailable_is_no_gpu() -> None:
    for line in ("CUDA available: False", "torch.cuda.is_available() = False, using cpu"):
        ev = evidence({"app": [line]}, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                                    "image": "example/ml:1"}])
        assert not remedy.uses_gpu(ev, "app"), line
        assert "--gpus" not in remedy.docker_run(ev, "app"), line


def test_a_sidecar_mentioning_h2_does_not_make_the_apps_database_embedded() -> None:
    got = run({"app": ["ERROR HikariPool-1 - Exception during pool initialization."],
               "envoy": ["[2024-01-02 10:00:00.000][1][info][upstream] cluster app using protocol H2"]},
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                          {"name": "envoy", "exitCode": 0, "lastStatus": "STOPPED", "image": "envoyproxy/envoy:v1.29"}])
    assert got.pattern == "database-connection-failed"
    assert "embedded H2" not in _steps(got) and "names no database server" in _steps(got)


def test_a_lua_vm_panic_is_still_a_crash_in_the_code() -> None:
    from shared.patterns.app_crash import _CODE_CRASH
    assert _CODE_CRASH.search("PANIC: unprotected error in call to Lua API (attempt to index a nil value)")


def test_a_lua_runtime_error_is_not_a_configuration_file_error() -> None:
    said = remedy.config_detail("*1 lua entry thread aborted: runtime error: "
                                "/usr/local/openresty/lualib/app/handler.lua:42: attempt to index a nil value") or ""
    assert "configuration file" not in said


def test_a_nanoserver_container_is_not_told_to_run_powershell_in_it() -> None:
    got = run({"web": ["System.IO.IOException: Failed to bind to address http://0.0.0.0:7070: address already in use."]},
              containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED",
                           "image": "mcr.microsoft.com/windows/nanoserver:ltsc2022"}],
              launchType="EC2", attachments=[],
              containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2")
    assert got.pattern == "port-in-use"
    assert "in the container, in PowerShell" not in _steps(got)
