"""review22: probes of defects found in the fix31, fix29 and acc23 merges. Each was xfail(strict) until fixed (fix33) and asserts
the right behaviour, so it passes (and must lose its mark) once the defect is fixed."""

from __future__ import annotations

from typing import Any

import pytest

from shared import remediation as remedy
from shared.patterns.iam_access_denied import data_event
from tests.unit.helpers import run

_INSTANCE = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2"
_OWN = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1"


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


def _app(lines: list[str], code: int = 1, image: str = _OWN, name: str = "app", **detail: Any) -> Any:
    return run({name: lines}, containers=[{"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image}],
               **detail)


# -- acc23: kernel parameters a start-up check refuses ---------------------------------------------------------

def test_a_kernel_parameter_too_high_is_not_called_below_the_check():
    got = _app(["vm.swappiness [60] is too high, lower it to at most [1]"], code=78, launchType="EC2")
    assert got.pattern == "app-crash"
    assert "sysctl -w vm.swappiness=1" in _steps(got)
    assert "is below what the program checks for" not in _steps(got)


def test_the_value_set_is_the_one_the_check_asks_for_not_the_current_one():
    got = _app(["net.core.somaxconn is too low (128), must be at least 1024"])
    assert got.pattern == "app-crash"
    assert '"namespace": "net.core.somaxconn", "value": "1024"' in _steps(got)


def test_an_http_session_cookie_mismatch_is_not_an_erlang_cookie():
    said = remedy.error_family("ERROR session cookie signature does not match, refusing to start") or ""
    assert "Erlang" not in said


# -- acc23: 'could not' as error wording --------------------------------------------------------------------------

def test_a_could_not_line_the_app_went_on_from_is_not_its_fatal_error():
    got = _app(["Could not find optional config /etc/app/local.yaml, using defaults", "Server listening on :8080",
                "Received request GET /health", "Shutting down"])
    assert got.pattern != "app-crash"


# -- acc23: a database-only client's error with no cause ----------------------------------------------------------

def test_an_h2_error_is_not_said_to_name_no_engine():
    got = _app(["ERROR com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - Exception during pool initialization.",
                "org.h2.jdbc.JdbcSQLNonTransientConnectionException: Database may be already in use: "
                "\"/data/app.mv.db\". Possible solutions: close all other connection(s); use the server mode "
                "[90020-224]"])
    assert got.pattern == "database-connection-failed"
    assert "names no database server, engine or cause" not in _steps(got)


# -- fix31: CloudTrail data events and launchers ------------------------------------------------------------------

@pytest.mark.parametrize("action", ["s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"])
def test_bucket_object_lock_configuration_is_a_management_event(action: str) -> None:
    assert not data_event(action)


def test_a_manual_trigger_is_a_one_off_run_task_not_a_program():
    got = _app(["ImportError: cannot import name 'Notifier' from 'plugins.alerts'"], group="family:etl-task",
               startedBy="manual-trigger",
               taskDefinitionArn="arn:aws:ecs:us-east-1:111122223333:task-definition/etl-task:7")
    assert "launcher" not in got.remediation[-1] and "aws ecs run-task" in got.remediation[-1]


# -- fix29: third-party crashes, host-mode port holders, links ------------------------------------------------------

def test_a_postgres_panic_is_not_called_a_crash_in_the_programs_code():
    got = _app(["2024-05-01 10:00:00.000 UTC [1] LOG:  starting PostgreSQL 16.2",
                "2024-05-01 10:00:00.100 UTC [27] PANIC:  could not locate a valid checkpoint record"],
               image="postgres:16", name="db")
    assert "crashed in the program's own code" not in _steps(got)


_WINDOWS: dict[str, Any] = {"launchType": "EC2", "attachments": [], "containerInstanceArn": _INSTANCE,
                            "platformFamily": "WINDOWS_SERVER_2022_CORE"}


def test_a_windows_instance_is_not_sent_a_shell_script():
    got = _app(["System.IO.IOException: Failed to bind to address http://0.0.0.0:7070: address already in use."],
               image="mcr.microsoft.com/dotnet/aspnet:8.0-windowsservercore-ltsc2022", name="media", **_WINDOWS)
    assert got.pattern == "port-in-use"
    assert "AWS-RunShellScript" not in _steps(got)


def test_a_windows_task_is_not_told_to_add_links():
    got = run({"edge": ['nginx: [emerg] host not found in upstream "backend:9000" in C:\\nginx\\conf\\nginx.conf:3']},
              containers=[{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/nginx:ltsc2022"},
                          {"name": "backend", "exitCode": 0, "lastStatus": "STOPPED"}], **_WINDOWS)
    assert '"links"' not in got.remediation[0]
