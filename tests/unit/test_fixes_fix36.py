"""fix36: near misses of the review24 defects. A shutdown notice dismisses only what follows it, and one naming the
signal it was sent still says the stop came from outside; a server starting to listen is a start; a line the app
carried on from is skipped unless it is its last words and promised a retry; the asked-for value follows the
instruction, never a bare "to"; camelCase and whole-word launchers are programs, one-off names are not; a log saying
CUDA is at work is a GPU; an embedded database named in the failing container's own log is it; PostgreSQL's PANIC
level is not a code crash; a Lua configuration's parse error is still the file's; a servercore container keeps
PowerShell."""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from shared.patterns.app_crash import _CODE_CRASH
from tests.unit.helpers import evidence, run


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


def _app(lines: list[str], code: int = 1, image: str = "example/app:1", **detail: Any) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}],
               **detail)


# -- 1: the shutdown notice ---------------------------------------------------------------------------------------

def test_an_error_logged_after_the_shutdown_notice_is_still_dismissed():
    got = _app(["Shutting down", "ERROR: could not flush metrics: connection refused"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern != "app-crash"


def test_a_notice_naming_the_signal_it_received_still_says_the_stop_came_from_outside():
    got = _app(["ERROR: request failed: upstream timed out", "Received SIGTERM, shutting down"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern != "app-crash"


# -- 2: a start is a start ----------------------------------------------------------------------------------------

def test_a_server_that_starts_listening_after_a_complaint_still_started():
    got = _app(["could not load license key /etc/app/license.key: permission denied",
                "Server listening on 0.0.0.0:8080"])
    assert got.pattern != "app-crash"


# -- 3: carried-on wording ----------------------------------------------------------------------------------------

def test_a_retrying_line_the_app_went_on_from_is_not_the_lead():
    got = _app(["could not reach license server at lic:27000, retrying in 30s", "Starting worker"])
    assert got.pattern != "app-crash"


def test_a_using_defaults_line_is_skipped_even_as_the_last_words():
    got = _app(["Starting worker", "could not read optional file /etc/app/extra.yaml, using defaults"])
    assert got.pattern != "app-crash"


# -- 4: the value asked for ---------------------------------------------------------------------------------------

def test_the_value_after_an_instruction_is_still_taken():
    said = remedy.error_family("vm.max_map_count [65530] is too low, increase to at least [262144]") or ""
    assert "vm.max_map_count=262144" in said
    said = remedy.error_family("vm.swappiness is too high, lower it to 1") or ""
    assert "vm.swappiness=1" in said and "is above" in said


# -- 5: launchers -------------------------------------------------------------------------------------------------

def test_one_off_launchers_and_word_insides_are_not_programs():
    for by in ("manual-trigger", "deploy-worker", "nocronjob", "microncron"):
        assert remedy.launcher(evidence(group="family:etl", startedBy=by)) == "run-task", by
    for by in ("airflow-scheduler", "Scheduler", "cron-runner"):
        assert remedy.launcher(evidence(group="family:etl", startedBy=by)) == "program", by


# -- 6: the GPU ---------------------------------------------------------------------------------------------------

def test_a_log_saying_cuda_is_available_is_a_gpu():
    for line in ("CUDA available: True", "Using device: cuda:0"):
        ev = evidence({"app": [line]}, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                                    "image": "example/ml:1"}])
        assert remedy.uses_gpu(ev, "app"), line


# -- 7: the embedded database -------------------------------------------------------------------------------------

def test_the_failing_containers_own_h2_line_is_still_its_embedded_database():
    got = run({"app": ["ERROR HikariPool-1 - Exception during pool initialization.",
                       "org.h2.jdbc.JdbcSQLNonTransientConnectionException: Database may be already in use: "
                       "\"/data/app.mv.db\". Possible solutions: close all other connection(s)"],
               "envoy": ["[2024-01-02 10:00:00.000][1][info][upstream] cluster app using protocol H2"]},
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                          {"name": "envoy", "exitCode": 0, "lastStatus": "STOPPED", "image": "envoyproxy/envoy:v1.29"}])
    assert got.pattern == "database-connection-failed"
    assert "names no database server, engine or cause" not in _steps(got)


# -- 8: PostgreSQL's PANIC level ----------------------------------------------------------------------------------

def test_postgres_panic_level_lines_are_still_not_a_code_crash():
    for line in ("2024-05-01 10:00:00.100 UTC [27] PANIC:  could not locate a valid checkpoint record",
                 "PANIC:  could not write to file \"pg_wal/xlogtemp.27\": No space left on device"):
        assert not _CODE_CRASH.search(line), line
    assert _CODE_CRASH.search("panic: runtime error: index out of range [3] with length 3")


# -- 9: a Lua configuration file ----------------------------------------------------------------------------------

def test_a_lua_configuration_files_parse_error_is_still_the_files():
    said = remedy.config_detail("error loading /etc/prosody/prosody.cfg.lua:12: unexpected symbol near 'true'") or ""
    assert "wrong at line 12 of `/etc/prosody/prosody.cfg.lua`" in said


# -- 10: Windows port holders -------------------------------------------------------------------------------------

def _windows_port(image: str) -> Any:
    return run({"web": ["System.IO.IOException: Failed to bind to address http://0.0.0.0:7070: address already in use."]},
               containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED", "image": image}],
               launchType="EC2", attachments=[],
               containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2")


def test_a_nanoserver_container_gets_netstat_and_a_servercore_one_keeps_powershell():
    nano = _windows_port("mcr.microsoft.com/windows/nanoserver:ltsc2022")
    assert nano.pattern == "port-in-use" and "`netstat -ano | findstr :7070`" in _steps(nano)
    core = _windows_port("mcr.microsoft.com/windows/servercore:ltsc2022")
    assert core.pattern == "port-in-use" and "in the container, in PowerShell" in _steps(core)
    assert "netstat" not in _steps(core)
