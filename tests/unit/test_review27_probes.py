"""review27: probes of 66c4d28 and the fix41 merge (6f670b9..69d2131); each failed (strict xfail) until fix43 fixed
its defect by a general rule (the neighbours each fix must not change are in test_fixes_fix43.py)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from shared import remediation as remedy
from shared.models.finding import Finding
from tests.unit.helpers import run
from tests.unit.patterns.common import box, failed_to_start

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"
_ROUTER = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


def _crashed(image: str = _ECR + "orders-api:1.4.2", *extra: dict[str, Any]) -> dict[str, Any]:
    return {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image}, *extra]}


def _spot(code: int = 0) -> dict[str, Any]:
    return {"stopCode": "SpotInterruption", "stoppedReason": "Your Spot Task was interrupted.",
            "containers": [{"name": "api", "exitCode": code, "lastStatus": "STOPPED", "image": "acme/api:1"}]}


def _long_oom(hours: float, name: str = "app", image: str = _ECR + "orders-api:1.4.2", code: int = 137,
              logs: Any = ()) -> Finding:
    start = datetime(2024, 5, 1)
    stop = start + timedelta(hours=hours)
    box_: dict[str, Any] = {"name": name, "exitCode": code, "lastStatus": "STOPPED", "memory": "2048", "image": image}
    if code == 137:
        box_["reason"] = "OutOfMemoryError: Container killed due to memory usage"
    return run(logs, launchType="FARGATE", startedAt=start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               stoppingAt=stop.strftime("%Y-%m-%dT%H:%M:%S.000Z"), stoppedAt=stop.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               containers=[box_])


# --- out of memory after a long run -------------------------------------------------------------------------------


def test_an_app_named_hotel_is_no_otel_agent_and_gets_the_growth_step_first():
    got = _long_oom(24 * 19, name="hotel-api", image=_ECR + "hotel-api:3")
    assert "postpones" in got.remediation[0], got.remediation[0]


def test_a_go_runtime_long_run_oom_names_gos_own_heap_tools():
    got = _long_oom(72, code=2, logs={"app": ["fatal error: runtime: out of memory", "",
                                              "goroutine 1 [running]:", "runtime.throw({0x9c1a3b, 0x16})"]})
    assert got.facts.get("kind") == "Go runtime"
    first = got.remediation[0]
    assert "postpones" in first
    assert "DOTNET_GCHeapHardLimitPercent" not in first and "-XX:MaxRAMPercentage" not in first, first
    assert "GOMEMLIMIT" in first or "pprof" in first, first


def test_a_run_of_one_day_and_some_hours_is_not_one_days():
    first = _long_oom(30).remediation[0]
    assert first.startswith("app ran ") and "1 days" not in first, first


# --- shutdown noise of an expected stop ---------------------------------------------------------------------------


def test_a_go_panic_trace_is_named_by_its_panic_line_not_a_frame():
    lines = ['level=info msg="received SIGTERM, shutting down"', "panic: send on closed channel", "",
             "goroutine 7 [running]:", "main.(*Worker).reportError(0xc000010000)", "\t/app/worker.go:88 +0x65",
             "created by main.main in goroutine 1", "\t/app/main.go:40 +0x1d"]
    first = run({"api": lines}, **_spot(143)).remediation[0]
    assert "panic: send on closed channel" in first and "reportError" not in first, first


def test_a_line_reporting_no_error_is_not_called_shutdown_noise():
    lines = ["2024/05/01 11:00:00 received SIGTERM, shutting down", "2024/05/01 11:00:01 server stopped, error: <nil>"]
    assert run({"api": lines}, **_spot()).remediation[0] == "Nothing to fix."


def test_an_unstamped_connection_terminated_error_with_no_shutdown_before_it_is_not_noise():
    lines = ["INFO: started", "GET /orders 200", "Error: Connection terminated unexpectedly",
             "    at Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)"]
    assert run({"api": lines}, **_spot()).remediation[0] == "Nothing to fix."


# --- database: the framework's connection variables ---------------------------------------------------------------

_PG_LOCAL = ("org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and "
             "port are correct and that the postmaster is accepting TCP/IP connections.")


def test_a_micronaut_app_on_hikari_is_not_told_the_spring_variable():
    got = run({"app": ["INFO  io.micronaut.runtime.Micronaut - Startup completed in 812ms",
                       "ERROR com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - Exception during pool initialization.",
                       _PG_LOCAL]}, **_crashed())
    assert got.pattern == "database-connection-failed"
    assert "SPRING_DATASOURCE_URL" not in got.remediation[0], got.remediation[0]


def test_a_plain_vertx_app_is_not_told_the_quarkus_reactive_url():
    got = run({"app": ["INFO io.vertx.core.impl.launcher.commands.VertxIsolatedDeployer - Succeeded in deploying "
                       "verticle", "io.vertx.core.impl.NoStackTraceThrowable: Connection refused: localhost/127.0.0.1:5432",
                       "\tat io.vertx.pgclient.impl.PgConnectionFactory.connect(PgConnectionFactory.java:99)"]},
              **_crashed())
    assert got.pattern == "database-connection-failed"
    assert "QUARKUS" not in got.remediation[0], got.remediation[0]


def test_an_image_named_artisan_something_is_no_laravel_app():
    got = run({"app": ['psycopg2.OperationalError: connection to server at "localhost" (127.0.0.1), port 5432 failed: '
                       "Connection refused"]}, **_crashed(_ECR + "artisan-marketplace:3"))
    assert got.pattern == "database-connection-failed"
    assert "DB_HOST" not in got.remediation[0], got.remediation[0]


def test_the_framework_search_is_linear_on_16_kb_lines():
    run({"app": [_PG_LOCAL]}, **_crashed())  # warm up
    t0 = time.thread_time()
    got = run({"app": ["debug: " + "reactive-" * 1800] * 8 + [_PG_LOCAL]}, **_crashed())
    took = time.thread_time() - t0
    assert got.pattern == "database-connection-failed"
    assert took < 1.0, took  # about 2.8 s today; a linear search takes well under 0.1 s


# --- database: a refusal with no host, and local sockets ------------------------------------------------------------


def test_a_no_host_refusal_in_a_task_with_a_mysql_container_does_not_deny_it():
    got = run({"app": ["SQLSTATE[HY000] [2002] Connection refused"]},
              **_crashed(_ECR + "orders-api:1.4.2", {"name": "mysql", "exitCode": 137, "lastStatus": "STOPPED",
                                                     "image": "mysql:8.0"}))
    first = got.remediation[0]
    assert "no mysql server runs" not in first and "`mysql`" in first, first


def test_mariadbs_local_socket_wording_is_a_database_connection_failure():
    got = run({"app": ["ERROR 2002 (HY000): Can't connect to local server through socket '/run/mysqld/mysqld.sock' "
                       "(2)"]}, **_crashed())
    assert got.pattern == "database-connection-failed", (got.pattern, got.remediation[0])


def test_postgres_local_socket_failure_is_a_database_connection_failure():
    got = run({"app": ['psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No '
                       "such file or directory", "\tIs the server running locally and accepting connections on that "
                                                 "socket?"]}, **_crashed())
    assert got.pattern == "database-connection-failed", (got.pattern, got.remediation[0])


def test_a_local_socket_failure_is_not_told_a_tcp_reset_reached_the_host():
    got = run({"app": ["SQLSTATE[HY000] [2002] No such file or directory"]}, **_crashed())
    assert got.pattern == "database-connection-failed"
    text = "\n".join(got.remediation)
    assert "TCP reset" not in text and "host is reachable" not in text, text


def test_pdo_host_not_allowed_is_a_mysql_connection_failure():
    got = run({"app": ["SQLSTATE[HY000] [1130] Host '10.0.1.23' is not allowed to connect to this MySQL server"]},
              **_crashed())
    assert got.pattern == "database-connection-failed", got.pattern


# --- FireLens options of a named container ----------------------------------------------------------------------------


def _firelens(reason: str) -> Finding:
    return run([], **failed_to_start(reason, box(None, "app"), box(None, "log_router", image=_ROUTER)))


def test_a_fluentd_routers_missing_type_key_is_named_not_name():
    first = _firelens("unable to generate firelens config: unable to apply log options of container app to firelens "
                      "config: missing output key @type which is required for firelens configuration of type "
                      "fluentd").remediation[0]
    assert "`@type`" in first and "at least `Name`" not in first, first


def test_the_older_agents_missing_output_option_wording_gets_the_key_step():
    got = _firelens("unable to generate firelens config: unable to apply log options of container app to firelens "
                    "config: missing output option Name which is required for firelens configuration of type fluentbit")
    assert "case-sensitive" in got.remediation[0], got.remediation[0]


def test_the_agents_own_config_file_write_error_is_not_blamed_on_the_log_options():
    got = _firelens("unable to generate firelens config file: rename /var/lib/ecs/data/firelens/0123456789abcdef/"
                    ".tmp4120 /var/lib/ecs/data/firelens/0123456789abcdef/config/fluent.conf: input/output error")
    assert got.pattern == "log-driver-failed"
    assert "fluentd driver's arguments" not in got.remediation[0], got.remediation[0]


# --- error families ---------------------------------------------------------------------------------------------------


def test_an_unconfigured_service_extension_is_the_collector_family():
    got = remedy.error_family('Error: invalid configuration: service::extensions: references extension '
                              '"health_check" which is not configured') or ""
    assert "`health_check`" in got and "extensions" in got, got


def test_a_setting_named_mlock_enabled_is_set_false_to_turn_locking_off():
    got = run({"kv": ["Error: failed to lock memory: cannot allocate memory",
                      "Set mlock_enabled to false in the configuration to run without memory locking."]},
              containers=[{"name": "kv", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR + "kv-store:2"}])
    text = "\n".join(got.remediation)
    assert "mlock_enabled" in text and "`mlock_enabled = true`" not in text, text


# --- a push to ECR logs in first ----------------------------------------------------------------------------------


def test_a_rebuild_pushed_with_push_true_logs_in_to_ecr_first():
    got = run(stopCode="TaskFailedToStart",
              stoppedReason="CannotPullContainerError: failed to register layer: number of layers and diffIDs don't "
                            "match: 7 != 6",
              containers=[{"name": "web", "lastStatus": "STOPPED", "image": _ECR + "web:1"}])
    pushing = [s for s in got.remediation if "push=true" in s]
    assert pushing and all("get-login-password --region us-east-1 |" in s for s in pushing), got.remediation
