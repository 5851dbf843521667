"""Which line of a crashed container's log is THE error: a configuration parser's "file:line: message" at start-up
outranks later noise (a sidecar's refused connection, a missing pid file) and its own closing summary; a summary
points back to the lines above it; a stack frame is never the message; Spring's failed context refresh at WARN is
the crash when the process exits non-zero; an "unrecognized" option is a fatal error. Deno's permission flag in its
older wordings gets its step. Each with near misses that must stay as they are."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


def _exit(code: int) -> list[dict[str, Any]]:
    return [{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": "example/app:3"}]


# A configuration file rejected at a line.

def test_a_config_line_error_outranks_a_later_refused_connection():
    got = run(["proxy: /srv/conf/proxy.yaml:14:3: cannot unmarshal string into int",
               "2024/01/02 10:00:03 [ERR] scrape failed: dial tcp 127.0.0.1:9901: connect: connection refused"])
    assert got.pattern == "app-crash" and "proxy.yaml:14" in got.facts["exception"]
    steps = _steps(got)
    assert "`/srv/conf/proxy.yaml` at line 14" in steps and "dependsOn" not in steps


def test_a_parse_error_without_a_file_outranks_later_missing_file_noise():
    got = run(["broker: syntax error at line 9: unexpected '}'",
               "2024/01/02 10:00:01 Error: open /run/broker/broker.pid: no such file or directory",
               "2024/01/02 10:00:03 Error: open /run/broker/broker.pid: no such file or directory"])
    assert "line 9" in got.facts["exception"] and "its configuration at line 9" in _steps(got)


def test_several_rejected_lines_of_one_file_are_named_as_a_range():
    got = run(["[ALERT] (1) : parsing [/etc/lb/lb.cfg:20] : 'bind' expects a port",
               "[ALERT] (1) : parsing [/etc/lb/lb.cfg:21] : 'bind' expects a port",
               "[ALERT] (1) : Fatal errors found in configuration."])
    assert "lb.cfg:20" in got.facts["exception"] and "lines 20-21" in _steps(got)


def test_an_unrecognized_option_is_a_fatal_error_with_a_release_step():
    got = run(["{\"level\":\"info\",\"msg\":\"loading config\"}",
               "error loading: /etc/web/web.toml:3: unrecognized option: http3_tuning"])
    assert got.pattern == "app-crash" and "another release" in _steps(got)


def test_unrecognized_wording_alone_is_an_app_error():
    got = run(["starting gateway", "unrecognized flag --listen-tls for command serve"])
    assert got.pattern == "app-crash" and "--listen-tls" in got.facts["exception"]


def test_a_config_complaint_followed_by_a_successful_start_is_not_the_cause():
    got = run(["settings.toml:7: colour: deprecated spelling, accepted",
               "server started, listening on :8080",
               "ERROR lost the queue: broker unreachable, exiting"])
    assert "broker unreachable" in got.facts["exception"]


def test_a_config_warning_is_not_the_cause():
    got = run(["WARN app.yaml:4: key 'timeout' is deprecated", "ERROR payment provider rejected the api key, exiting"])
    assert "api key" in got.facts["exception"]


def test_a_source_file_location_is_not_a_configuration_error():
    got = run(["main.go:12: loading plugins", "ERROR plugin registry unreachable"])
    assert "registry unreachable" in got.facts["exception"]


def test_a_real_refused_database_connection_stays_the_cause():
    got = run(["Starting worker", "FATAL: could not connect to database at db.internal:5432: connection refused"])
    assert got.pattern == "database-connection-failed"


# A closing summary points back to the specific errors above it.

def test_a_summary_line_points_back_to_the_error_above_it():
    got = run(["ERROR: listener 'public': port must be a number", "ERROR: configuration file contains errors"])
    assert "port must be a number" in got.facts["exception"]


def test_a_summary_with_nothing_specific_above_it_stays():
    got = run(["INFO reading /etc/svc/main.conf", "ERROR: configuration file contains errors"])
    assert "contains errors" in got.facts["exception"]


# A stack frame is never the message; Deno's permission flag.

def test_a_stack_frame_is_not_the_error_and_the_old_deno_wording_gets_its_flag():
    got = run(["error: Uncaught PermissionDenied: read access to \"/etc/app\", run again with the --allow-read flag",
               "    at PermissionDenied (deno:core/errors.ts:12:5)",
               "    at main (file:///app/main.ts:3:1)"])
    assert got.facts["exception"].startswith("error: Uncaught PermissionDenied")
    assert "--allow-read=/etc/app" in _steps(got)


def test_a_deno_permission_on_a_whole_kind_names_the_flag_without_a_target():
    got = run(["error: Uncaught PermissionDenied: Requires env access, run again with the --allow-env flag",
               "    at Object.toObject (ext:runtime/30_os.js:77:16)"])
    assert "add `--allow-env` to the `deno run` command" in _steps(got)


# Spring's failed context refresh at WARN.

_REFRESH = ("12:00:03.100 WARN  AnnotationConfigServletWebServerApplicationContext - Exception encountered during "
            "context initialization - cancelling refresh attempt: org.springframework.beans.factory."
            "BeanCreationException: Error creating bean with name 'billingJob': Invocation of init method failed; "
            "nested exception is java.lang.ExceptionInInitializerError")


def test_a_spring_refresh_failure_at_warn_then_a_non_zero_exit_is_the_crash():
    got = run(["12:00:01.000 INFO  BillingApp - Starting BillingApp", _REFRESH])
    assert got.pattern == "app-crash" and got.facts["exception"].startswith(
        "org.springframework.beans.factory.BeanCreationException")
    steps = _steps(got)
    assert "bean `billingJob`" in steps and "static initializer" in steps and "Caused by:" in steps


def test_a_spring_refresh_failure_at_warn_then_exit_zero_is_no_crash():
    got = run(["12:00:01.000 INFO  BillingApp - Starting BillingApp", _REFRESH], containers=_exit(0))
    assert got.pattern != "app-crash"


def test_a_spring_refresh_failure_with_its_cause_chain_keeps_the_root_cause():
    got = run([_REFRESH, "12:00:03.200 ERROR SpringApplication - Application run failed",
               "org.springframework.beans.factory.BeanCreationException: Error creating bean",
               "\tat org.springframework.Foo.bar(Foo.java:1)",
               "Caused by: java.lang.IllegalStateException: billing.rate not set",
               "\tat com.example.Billing.<clinit>(Billing.kt:9)"])
    assert "billing.rate not set" in got.facts["exception"] or "billing.rate not set" in _steps(got)
