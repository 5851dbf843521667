"""fix43: the neighbours of review27's probes (tests/unit/test_review27_probes.py) that each fix must not change."""

from __future__ import annotations

import time

from shared import remediation as remedy
from shared.patterns import database_connection_failed as dbf
from tests.unit.helpers import run
from tests.unit.test_review27_probes import _ECR, _PG_LOCAL, _crashed, _firelens, _long_oom, _spot

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


# --- database: the framework's connection variables ---------------------------------------------------------------

_HIKARI = "ERROR com.zaxxer.hikari.pool.HikariPool - HikariPool-1 - Exception during pool initialization."
_VERTX_PG = ["io.vertx.core.impl.NoStackTraceThrowable: Connection refused: localhost/127.0.0.1:5432",
             "\tat io.vertx.pgclient.impl.PgConnectionFactory.connect(PgConnectionFactory.java:99)"]


def test_near_miss_a_spring_boot_app_on_hikari_is_still_told_the_spring_variable():
    for banner in ("INFO 1 --- [main] o.s.boot.SpringApplication : Starting OrdersApplication",
                   "INFO 1 --- [main] org.springframework.boot.StartupInfoLogger : Starting OrdersApplication"):
        got = run({"app": [banner, _HIKARI, _PG_LOCAL]}, **_crashed())
        assert "SPRING_DATASOURCE_URL" in got.remediation[0], (banner, got.remediation[0])


def test_near_miss_a_quarkus_app_on_the_vertx_pg_client_is_still_told_the_reactive_url():
    got = run({"app": ["INFO  [io.quarkus] (main) orders 1.0 on JVM (powered by Quarkus 3.8.1) started", *_VERTX_PG]},
              **_crashed())
    assert "QUARKUS_DATASOURCE_REACTIVE_URL" in got.remediation[0], got.remediation[0]


def test_near_miss_laravels_artisan_command_or_a_laravel_image_keeps_laravels_variables():
    refused = ["SQLSTATE[HY000] [2002] Connection refused"]
    for lines, image in ((["$ php artisan migrate --force", *refused], _ECR + "orders-api:1.4.2"),
                         (refused, _ECR + "laravel-shop:3")):
        got = run({"app": lines}, **_crashed(image))
        assert "`DB_HOST` / `DB_PORT`" in got.remediation[0], (image, got.remediation[0])


def test_the_framework_search_on_a_16_kb_line_costs_about_what_a_benign_line_does():
    # Bounded gaps: a line of "reactive-" repeated costs a constant factor more than any other line of its length
    # (about 30x measured, from the 40-character window); the unbounded gap was about 600x at 16 KB, growing with
    # the length.
    evil = "debug: " + "reactive-" * 1800
    benign = "debug: " + "x" * (len(evil) - 7)
    search = dbf._FRAMEWORK_VARS[0][0].search
    best = {evil: 9.0, benign: 9.0}
    for _ in range(7):
        for line in (evil, benign):
            t0 = time.thread_time()
            search(line)
            best[line] = min(best[line], time.thread_time() - t0)
    assert best[evil] < 150 * best[benign], (best[evil], best[benign])


# --- database: a refusal with no host, and local sockets ------------------------------------------------------------

_MYSQL_BOX = {"name": "mysql", "exitCode": 137, "lastStatus": "STOPPED", "image": "mysql:8.0"}


def test_near_miss_a_no_host_refusal_with_only_another_engines_container_still_says_no_server_runs():
    got = run({"app": ["SQLSTATE[HY000] [2002] Connection refused"]},
              **_crashed(_ECR + "orders-api:1.4.2", {"name": "cache", "exitCode": 137, "lastStatus": "STOPPED",
                                                     "image": "redis:7"}))
    assert "where no mysql server runs" in got.remediation[0], got.remediation[0]


def test_a_local_socket_failure_beside_a_mysql_container_is_told_to_reach_it_over_tcp():
    got = run({"app": ["SQLSTATE[HY000] [2002] No such file or directory"]}, **_crashed(_ECR + "orders-api:1.4.2",
                                                                                      _MYSQL_BOX))
    first = got.remediation[0]
    assert "`mysql`" in first and "`127.0.0.1`" in first and "HEALTHY" in first, first


def test_near_miss_mysqls_own_socket_wording_and_a_tcp_refusal_keep_their_diagnoses():
    got = run({"app": ["ERROR 2002 (HY000): Can't connect to local MySQL server through socket "
                       "'/var/run/mysqld/mysqld.sock' (2)"]}, **_crashed())
    assert got.pattern == "database-connection-failed" and got.facts.get("host") == "localhost"
    got = run({"app": ["SQLSTATE[HY000] [2002] Connection refused (host db.internal.example.com port 3306)",
                       "could not connect to mysql at db.internal.example.com:3306: Connection refused"]}, **_crashed())
    assert any("TCP reset" in s for s in got.remediation), got.remediation


def test_near_miss_postgres_over_tcp_keeps_its_named_host():
    got = run({"app": ['psycopg2.OperationalError: connection to server at "db.internal.example.com" (10.0.1.5), '
                       "port 5432 failed: Connection refused"]}, **_crashed())
    assert got.pattern == "database-connection-failed" and got.facts.get("host") == "db.internal.example.com"


def test_near_miss_a_bracketed_1130_that_is_no_pdo_error_is_no_database_failure():
    got = run({"app": ["INFO: processed [1130] rows from the orders table", "ERROR: exiting"]}, **_crashed())
    assert got.pattern != "database-connection-failed", got.pattern


# --- FireLens options of a named container ----------------------------------------------------------------------------


def test_near_miss_the_current_agents_missing_name_key_keeps_its_case_sensitive_step():
    first = _firelens("unable to generate firelens config: unable to apply log options of container app to firelens "
                      "config: missing output key Name which is required for firelens configuration of type "
                      "fluentbit").remediation[0]
    assert "`Name`" in first and "case-sensitive" in first and "cloudwatch_logs" in first, first


def test_near_miss_a_firelens_config_fault_without_a_named_key_keeps_the_options_step():
    got = _firelens("unable to generate firelens config: unable to apply log options of container app: "
                    "firelens configuration is invalid")
    assert "fluentd driver's arguments" in got.remediation[0], got.remediation[0]


def test_the_agents_own_config_file_write_error_names_the_hosts_storage():
    got = _firelens("unable to generate firelens config file: rename /var/lib/ecs/data/firelens/0123/.tmp4120 "
                    "/var/lib/ecs/data/firelens/0123/config/fluent.conf: input/output error")
    assert "`input/output error`" in got.remediation[0] and "not the fault" in got.remediation[0], got.remediation


# --- error families ---------------------------------------------------------------------------------------------------


def test_near_miss_a_pipelines_unconfigured_component_still_names_its_pipeline():
    got = remedy.error_family('Error: invalid configuration: service::pipelines::traces: references exporter '
                              '"awsxray" which is not configured') or ""
    assert "pipeline `traces`" in got and "service.pipelines.traces.exporters" in got, got


def test_near_miss_a_setting_that_disables_locking_is_still_set_true():
    got = run({"kv": ["Error: failed to lock memory: cannot allocate memory",
                      "Set disable_mlock to true in the configuration to run without memory locking."]},
              containers=[{"name": "kv", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR + "kv-store:2"}])
    assert "`disable_mlock = true`" in "\n".join(got.remediation), got.remediation


# --- a push to ECR logs in first ----------------------------------------------------------------------------------


def test_near_miss_a_layers_mismatch_of_an_image_outside_ecr_gets_no_ecr_login():
    got = run(stopCode="TaskFailedToStart",
              stoppedReason="CannotPullContainerError: failed to register layer: number of layers and diffIDs don't "
                            "match: 7 != 6",
              containers=[{"name": "web", "lastStatus": "STOPPED", "image": "ghcr.io/acme/web:1"}])
    pushing = [s for s in got.remediation if "push=true" in s]
    assert pushing and not any("get-login-password" in s for s in pushing), got.remediation
