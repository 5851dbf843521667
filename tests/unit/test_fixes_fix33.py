"""fix33: near misses of the review22 defects. A kernel parameter a check calls too high is above it and gets the
value the check asks for; only an Erlang node's cookie gets the Erlang cookie step; error wording the app went on
from (then started, or said it carried on) is not its fatal error, nor what it could not do while shutting down."""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from tests.unit.helpers import run


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


def _app(lines: list[str], code: int = 1, image: str = "example/app:1", **detail: Any) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}],
               **detail)


def test_a_kernel_parameter_too_low_is_still_below_and_gets_the_asked_value():
    got = _app(["vm.max_map_count [65530] is too low, increase to at least [262144]"], code=78, launchType="EC2")
    steps = _steps(got)
    assert "is below what the program checks for" in steps and "sysctl -w vm.max_map_count=262144" in steps


def test_a_namespaced_parameter_too_high_is_above_with_the_value_asked_for():
    got = _app(["net.ipv4.tcp_fin_timeout is too high (60), must be at most 30"])
    steps = _steps(got)
    assert "is above what the program checks for" in steps and '"value": "30"' in steps


def test_a_check_naming_no_wanted_value_asks_for_it():
    got = _app(["net.core.somaxconn is too low (128)"])
    assert '"value": "128"' not in _steps(got)


def test_an_erlang_cookie_mismatch_by_node_name_or_image_keeps_the_cookie_step():
    assert "Erlang" in (remedy.error_family("Connection attempt from node 'rabbit@mq-2' rejected: cookie mismatch")
                        or "")
    assert "Erlang" in (remedy.error_family("Cookie file contains different cookie", "rabbitmq:3.13") or "")
    assert "Erlang" not in (remedy.error_family("csrf cookie does not match the token", "example/web:1") or "")


def test_a_could_not_line_the_app_said_it_carried_on_from_is_not_fatal_but_a_later_error_is():
    got = _app(["Could not read /etc/app/extra.yaml, using defaults", "ERROR: database password is empty"])
    assert got.pattern == "app-crash" and "password is empty" in got.facts["exception"]


def test_a_could_not_line_with_nothing_after_it_is_still_the_fatal_error():
    got = _app(["Server starting", "Could not open /data/state.db: no space left"])
    assert got.pattern == "app-crash" and "state.db" in got.facts["exception"]


def test_advice_about_a_listening_process_is_not_a_start():
    got = _app(["Web server failed to start. Port 8080 was already in use.",
                "Identify and stop the process that's listening on port 8080."])
    assert "app-crash" in [got.pattern, *got.also_matched]


def test_what_a_stopping_app_could_not_flush_is_not_a_crash():
    got = _app(["Received SIGTERM, shutting down", "could not flush metrics buffer: connection reset"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern != "app-crash"


def test_a_signal_exit_whose_last_words_are_an_error_without_a_shutdown_notice_stays_a_crash():
    got = _app(["FATAL: could not open lock file /tmp/app.lock"], code=143, stopCode="EssentialContainerExited")
    assert got.pattern == "app-crash"


def test_object_level_s3_calls_stay_data_events_and_bucket_level_ones_are_management():
    from shared.patterns.iam_access_denied import data_event
    assert data_event("s3:GetObject") and data_event("s3:PutObjectRetention") and data_event("s3:ListBucket")
    assert not data_event("s3:GetBucketPolicy") and not data_event("s3:PutBucketObjectLockConfiguration")


def test_a_launcher_is_named_by_a_whole_word_of_its_role_or_engine():
    from tests.unit.helpers import evidence
    for by in ("prefect-worker", "airflow", "etl-executor", "nightly-scheduler", "lambda"):
        assert remedy.launcher(evidence(group="family:etl", startedBy=by)) == "program", by
    for by in ("deploy-worker", "terraform-trigger", "gitlab-ci-worker", "manual-trigger", "rescheduled-by-hand-x"):
        assert remedy.launcher(evidence(group="family:etl", startedBy=by)) == "run-task", by


def test_a_go_panic_is_still_a_crash_in_the_code_but_a_postgres_panic_level_is_not():
    from shared.patterns.app_crash import _CODE_CRASH
    assert _CODE_CRASH.search("panic: runtime error: invalid memory address")
    assert _CODE_CRASH.search("thread 'main' panicked at src/main.rs:4:5")
    assert not _CODE_CRASH.search("[27] PANIC:  could not locate a valid checkpoint record")


def test_a_linux_bridge_task_still_gets_links_for_an_unresolved_sibling():
    got = run({"edge": ['nginx: [emerg] host not found in upstream "backend:9000" in /etc/nginx/conf.d/default.conf:3']},
              containers=[{"name": "edge", "exitCode": 1, "lastStatus": "STOPPED", "image": "nginx:1.25"},
                          {"name": "backend", "exitCode": 0, "lastStatus": "STOPPED"}],
              launchType="EC2", attachments=[])
    assert '"links"' in got.remediation[0]


def test_an_embedded_database_error_names_its_engine_and_file_and_one_naming_none_keeps_the_question():
    derby = _app(["ERROR HikariPool-1 - Exception during pool initialization.",
                  "java.sql.SQLNonTransientConnectionException: Failed to start database '/var/lib/app/db' with "
                  "class loader, see the next exception for details. org.apache.derby.iapi.error.StandardException"])
    assert derby.pattern == "database-connection-failed"
    assert "embedded Derby database" in _steps(derby) and "names no database server" not in _steps(derby)
    bare = _app(["ERROR HikariPool-1 - Exception during pool initialization."])
    assert bare.pattern == "database-connection-failed" and "names no database server" in _steps(bare)
    assert "The error comes from the embedded" not in _steps(bare)


_CI = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/16c18f40065d2cf2"
_ALLOC = ["docker: Error response from daemon: driver failed programming external connectivity on endpoint web: "
          "Bind for 0.0.0.0:7070 failed: port is already allocated."]


def test_a_windows_instance_is_sent_powershell_and_a_linux_one_keeps_the_shell_script():
    win = run({"web": _ALLOC}, containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED",
                                             "image": "mcr.microsoft.com/windows/servercore:ltsc2022"}],
              launchType="EC2", attachments=[], containerInstanceArn=_CI)
    assert "AWS-RunPowerShellScript" in _steps(win) and "Get-NetTCPConnection -LocalPort 7070 -State Listen" in _steps(win)
    assert "AWS-RunShellScript" not in _steps(win) and " ss " not in _steps(win)
    linux = run({"web": _ALLOC}, containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED",
                                               "image": "nginx:1.25"}],
                launchType="EC2", attachments=[], containerInstanceArn=_CI)
    assert "AWS-RunShellScript" in _steps(linux) and "PowerShell" not in _steps(linux)


def test_a_windows_bind_conflict_is_not_told_bridge_or_host_mode():
    got = run({"web": ["System.IO.IOException: Failed to bind to address http://0.0.0.0:7070: address already in use."]},
              containers=[{"name": "web", "exitCode": 1, "lastStatus": "STOPPED",
                           "image": "mcr.microsoft.com/dotnet/aspnet:8.0-windowsservercore-ltsc2022"}],
              launchType="EC2", attachments=[], containerInstanceArn=_CI)
    assert got.pattern == "port-in-use"
    assert "bridge or host mode" not in _steps(got) and "`default` network mode" in _steps(got)


def test_a_setting_refused_at_start_up_is_the_fatal_error_but_one_refused_for_a_request_it_served_is_not():
    # "must be at least N" naming a setting with nothing after it and exit 1: the start-up check refused it.
    got = _app(["ADMIN_PASSWORD must be at least 8 characters"])
    assert got.pattern == "app-crash" and "ADMIN_PASSWORD" in got.facts["exception"]
    # The same wording answering a request it then went on serving: a validation message, not why it exited.
    served = _app(["Password must be at least 8 characters", "POST /signup 400 12ms", "GET /health 200 1ms"])
    assert served.pattern != "app-crash"


def test_an_error_that_itself_says_it_is_shutting_down_stays_a_crash_on_a_signal_exit():
    got = _app(["FATAL: lost the lock file /tmp/app.lock, shutting down"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern == "app-crash"
