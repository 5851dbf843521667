"""fix41: the dev33 remediation faults, by general rules: a roll-out after a task definition change names the
family; a push to ECR logs in first; EFS IAM authorization leads with what must change; an app that never saw a
health check listens on localhost; a long run's OOM is a leak first; Fluent Bit's missing plugin; reproductions
run the digest that ran; a refused database whose host the log does not name; Vault's disable_mlock; Quarkus's
reactive URL; an OpenTelemetry pipeline's unconfigured component; shutdown noise of an expected stop."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _pull(reason: str, image: str) -> dict[str, Any]:
    return {"stopCode": "TaskFailedToStart", "stoppedReason": reason,
            "containers": [{"name": "web", "lastStatus": "STOPPED", "image": image}]}


def _last(steps: list[str]) -> str:
    return steps[-1]


# (2) a pull rate limit fixed in the task definition rolls out its new revision


def test_a_docker_hub_rate_limit_rolls_out_the_family():
    got = run(**_pull("CannotPullContainerError: toomanyrequests: You have reached your pull rate limit.",
                      "nginx:1.25"))
    assert got.pattern == "image-pull-failed"
    assert "--task-definition orders-api --force-new-deployment" in _last(got.remediation)


def test_a_public_ecr_rate_limit_rolls_out_the_family():
    got = run(**_pull("CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                      "toomanyrequests: Rate exceeded", "public.ecr.aws/nginx/nginx:1.25"))
    assert "--task-definition orders-api --force-new-deployment" in _last(got.remediation)


def test_near_miss_private_ecr_throttling_redeploys_the_same_revision():
    # ECR's own API throttling is fixed by staggering launches: nothing in the task definition changes.
    got = run(**_pull("CannotPullContainerError: ThrottlingException: Rate exceeded",
                      "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"))
    steps = got.remediation
    assert "--force-new-deployment" in _last(steps) and "--task-definition" not in _last(steps)


# (1) a push to ECR logs Docker in to that registry first, in the same step


def _pushes_after_login(step: str) -> bool:
    from shared.render import steps as st

    cmds = st.commands(step)
    pushes = [i for i, c in enumerate(cmds) if "--push" in c or c.startswith("docker push")]
    for i in pushes:
        registry = next(w for w in cmds[i].split() if ".dkr.ecr." in w).split("/", 1)[0]
        region = registry.split(".")[3]
        login = (f"aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin "
                 f"{registry}")
        if login not in cmds[:i]:
            return False
    return bool(pushes)


def test_a_copy_of_a_third_party_image_built_into_ecr_logs_in_before_the_push():
    from shared import remediation as remedy
    from tests.unit.helpers import evidence

    got = remedy.rebuild_for(evidence([]), "konard/hive-mind:latest", "linux/arm64")
    assert _pushes_after_login(got[-1]), got[-1]


def test_a_rebuild_of_the_tasks_own_ecr_image_logs_in_to_its_registry_and_region():
    from shared import remediation as remedy
    from tests.unit.helpers import evidence

    # The repository's region, not the task's: an image in eu-west-1's ECR logs in there.
    ref = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:7"
    step = remedy.rebuild_for(evidence([]), ref, "linux/amd64")[0]
    assert _pushes_after_login(step) and "--region eu-west-1 |" in step


def test_an_image_that_did_not_unpack_is_rebuilt_after_the_login():
    ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:7"
    got = run(**_pull("CannotPullContainerError: failed to register layer: failed to extract layer sha256:ab: "
                      "failed to get stream processor for application/vnd.in-toto+json", ref))
    pushing = [s for s in got.remediation if "--push" in s]
    assert pushing and all(_pushes_after_login(s) for s in pushing), got.remediation


def test_near_miss_a_pull_only_step_gets_no_login_command():
    # Pinning another tag of a public image pushes nothing, so it needs no login.
    from shared import remediation as remedy
    from tests.unit.helpers import evidence

    got = remedy.rebuild_for(evidence([]), "konard/hive-mind:latest", "linux/arm64")
    assert "get-login-password" not in got[0] and "--push" not in got[0]


# (12) an expected stop whose log ends with an error names that line as shutdown noise

_SPOT = {"stopCode": "SpotInterruption", "stoppedReason": "Your Spot Task was interrupted.",
         "containers": [{"name": "api", "exitCode": 0, "lastStatus": "STOPPED", "image": "acme/api:1"}]}
_UVICORN = ["INFO:     Uvicorn running on http://0.0.0.0:8000", "INFO:     Shutting down",
            "ERROR:    Traceback (most recent call last):",
            '  File "/usr/lib/python3.11/asyncio/queues.py", line 159, in get',
            "asyncio.exceptions.CancelledError"]


def test_a_spot_stop_names_the_traceback_it_logged_as_shutdown_noise():
    got = run({"api": _UVICORN}, **_SPOT)
    assert got.pattern == "expected-stop"
    first = got.remediation[0]
    assert first.startswith("Nothing to fix.") and "CancelledError" in first and "shutdown noise" in first
    assert "(from api)" in first


def test_a_scale_in_names_a_sidecars_error_line():
    first = _scale_in("2024/05/01 10:59:58").remediation[0]
    assert "Could not retrieve cluster metadata" in first and "(from log_router)" in first, first


def _scale_in(clock: str) -> Any:
    # The error line's own clock; the task began stopping at 11:00:00.
    lines = [f"[{clock}] [ warn] [filter:ecs:ecs.0] Failed to get metadata from /v1/metadata, will retry",
             f"[{clock}] [error] [filter:ecs:ecs.0] Could not retrieve cluster metadata from ECS Agent",
             "[2024/05/01 11:00:01] [ info] [engine] service has stopped (0 pending tasks)"]
    return run({"log_router": lines}, stopCode="ServiceSchedulerInitiated",
               stoppedReason="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
               startedAt="2024-05-01T08:00:00Z", stoppingAt="2024-05-01T11:00:00Z",
               containers=[{"name": "web", "exitCode": 0, "lastStatus": "STOPPED", "image": "acme/web:1"},
                           {"name": "log_router", "exitCode": 0, "lastStatus": "STOPPED",
                            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"}])


def test_near_miss_an_error_written_long_before_the_stop_began_is_not_shutdown_noise():
    # Its clock is two hours before stoppingAt: a fault of its own, maybe, but not the stop's.
    assert _scale_in("2024/05/01 09:00:00").remediation[0] == "Nothing to fix."


def test_near_miss_an_unstamped_error_with_no_shutdown_before_it_is_not_called_noise():
    got = run({"api": ["INFO: started", "ERROR: AccessDenied when calling the AssumeRole operation"]}, **_SPOT)
    assert got.remediation[0] == "Nothing to fix."


def test_a_node_trace_names_its_error_line_not_a_frame():
    lines = ["SIGTERM received, shutting down", "Error: Connection terminated unexpectedly",
             "    at Connection.<anonymous> (/app/node_modules/pg/lib/client.js:132:73)",
             "    at Socket.<anonymous> (/app/node_modules/pg/lib/connection.js:62:12)"]
    first = run({"api": lines}, **_SPOT).remediation[0]
    assert "Connection terminated unexpectedly" in first and "connection.js" not in first, first


def test_near_miss_a_clean_shutdown_log_keeps_nothing_to_fix():
    got = run({"api": ["INFO:     Shutting down", "INFO:     Finished server process [1]"]}, **_SPOT)
    assert got.remediation[0] == "Nothing to fix."


def test_near_miss_an_error_long_before_the_stop_is_not_called_shutdown_noise():
    lines = ["ERROR: cache warm-up failed, continuing"] + [f"INFO: GET /items/{i} 200" for i in range(60)]
    got = run({"api": lines}, **_SPOT)
    assert got.remediation[0] == "Nothing to fix."


# (9) a memory-lock refusal whose log names the setting that turns locking off

_VAULT_LOG = ["Error initializing core: Failed to lock memory: cannot allocate memory",
              "This usually means that the mlock syscall is not available.",
              "disable Vault from using it. To disable Vault from using it,",
              "set the `disable_mlock` configuration option in your configuration", "file."]


def _vault(launch: str) -> dict[str, Any]:
    return {"launchType": launch,
            "containers": [{"name": "vault", "exitCode": 1, "lastStatus": "STOPPED", "image": "hashicorp/vault:1.14.1"}]}


def test_fargate_vault_names_disable_mlock_and_not_the_ec2_capability():
    first = run({"vault": _VAULT_LOG}, **_vault("FARGATE")).remediation[0]
    assert "`disable_mlock = true`" in first and "VAULT_LOCAL_CONFIG" in first
    assert "linuxParameters.capabilities.add" not in first


def test_ec2_vault_keeps_ipc_lock_with_disable_mlock_as_the_alternative():
    first = run({"vault": _VAULT_LOG}, **_vault("EC2")).remediation[0]
    assert first.index("IPC_LOCK") < first.index("disable_mlock")


def test_near_miss_a_lock_refusal_whose_log_names_no_setting_keeps_the_general_advice():
    first = run({"vault": _VAULT_LOG[:2]}, **_vault("FARGATE")).remediation[0]
    assert "disable_mlock" not in first and "configure the application not to lock memory" in first


# (10) the connection variable of the app's framework; (8) a refused connection whose host the log does not name

_CRASHED = {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}]}
_MUTINY = ["Caused by: java.util.concurrent.CompletionException: io.netty.channel.AbstractChannel$"
           "AnnotatedConnectException: Connection refused: localhost/127.0.0.1:5432",
           "\tat io.smallrye.mutiny.operators.uni.UniBlockingAwait.await(UniBlockingAwait.java:79)"]
_PG_JDBC = ["org.postgresql.util.PSQLException: Connection to localhost:5432 refused. Check that the hostname and "
            "port are correct and that the postmaster is accepting TCP/IP connections."]


def test_a_quarkus_reactive_client_is_pointed_at_the_reactive_url():
    got = run({"app": _MUTINY}, **_CRASHED)
    assert got.pattern == "database-connection-failed"
    assert "QUARKUS_DATASOURCE_REACTIVE_URL" in got.remediation[0]
    assert "DATABASE_URL" not in got.remediation[0] and "PGHOST" not in got.remediation[0]


def test_near_miss_a_quarkus_app_over_jdbc_is_not_given_the_reactive_url():
    # Keycloak and other Quarkus apps over JDBC read variables of their own: the reactive URL would do nothing.
    got = run({"app": ["INFO [io.quarkus] (main) orders 1.0 on JVM started", *_PG_JDBC]}, **_CRASHED)
    assert "QUARKUS_DATASOURCE_REACTIVE_URL" not in got.remediation[0]


def test_near_miss_plain_jdbc_keeps_the_common_variables():
    got = run({"app": _PG_JDBC}, **_CRASHED)
    assert "`DATABASE_URL` / `PGHOST`" in got.remediation[0] and "QUARKUS" not in got.remediation[0]


_LARAVEL = ["   Illuminate\\Database\\QueryException", "",
            "  SQLSTATE[HY000] [2002] Connection refused (SQL: select * from information_schema.tables)"]


def test_a_refusal_with_no_host_reads_the_configured_host_first_with_laravels_names():
    got = run({"app": _LARAVEL}, **_CRASHED)
    assert got.pattern == "database-connection-failed"
    first = got.remediation[0]
    assert "`DB_HOST` / `DB_PORT`" in first and "describe-task-definition --task-definition orders-api:12" in first
    assert "[environment, secrets[].name]" in first and "the task itself" in first


def test_a_refusal_with_no_host_and_no_framework_names_the_engines_common_variables():
    got = run({"app": ["SQLSTATE[HY000] [2002] Connection refused"]}, **_CRASHED)
    assert got.remediation[0].startswith("The log does not name the host")
    assert "`DATABASE_URL` / `MYSQL_HOST`" in got.remediation[0]


def test_near_miss_a_refusal_that_names_a_remote_host_keeps_the_server_steps():
    got = run({"app": ["SQLSTATE[HY000] [2002] Connection refused (host db.internal.example.com port 3306)",
                       "could not connect to mysql at db.internal.example.com:3306: Connection refused"]}, **_CRASHED)
    assert not got.remediation[0].startswith("The log does not name the host"), got.remediation[0]


# (11) an OpenTelemetry collector pipeline that names a component its configuration does not define

_ADOT = {"containers": [
    {"name": "app", "exitCode": 143, "lastStatus": "STOPPED", "image": "acme/app:1"},
    {"name": "aws-otel-collector", "exitCode": 1, "lastStatus": "STOPPED",
     "image": "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.1"}]}


def test_a_pipeline_referencing_an_unconfigured_processor_names_it_and_the_pipeline():
    line = ('Error: invalid configuration: service:: pipelines::metrics/ecs: references processor "resource" '
            "which is not configured")
    first = run({"aws-otel-collector": [line]}, **_ADOT).remediation[0]
    assert "`resource`" in first and "`metrics/ecs`" in first and "under `processors:`" in first
    assert "AOT_CONFIG_CONTENT" in first and "new task definition revision" in first


def test_an_unconfigured_exporter_names_the_exporters_section():
    line = ('Error: failed to build pipelines: service::pipelines::traces: references exporter "awsxray/x" '
            "which is not configured")
    first = run({"aws-otel-collector": [line]}, **_ADOT).remediation[0]
    assert "`awsxray/x`" in first and "under `exporters:`" in first and "`traces`" in first


def test_near_miss_a_referenced_but_configured_word_elsewhere_is_not_the_collector_family():
    from shared import remediation as remedy

    assert remedy.error_family("the processor resource is configured") is None


# (5) an out-of-memory kill after a long run: find the growth before raising the limit

def _oom(hours: float) -> Any:
    from datetime import datetime, timedelta

    start = datetime(2024, 5, 1, 0, 0, 0)
    stop = start + timedelta(hours=hours)
    return run(launchType="FARGATE", startedAt=start.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               stoppingAt=stop.strftime("%Y-%m-%dT%H:%M:%S.000Z"), stoppedAt=stop.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
               containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED", "memory": "2048",
                            "reason": "OutOfMemoryError: Container killed due to memory usage",
                            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}])


def test_a_kill_after_days_leads_with_the_memory_trend_of_the_service():
    steps = _oom(24 * 19 + 3).remediation
    assert steps[0].startswith("app ran 19 days 3 h") and "postpones" in steps[0]
    assert ("get-metric-statistics --namespace ECS/ContainerInsights --metric-name MemoryUtilized --dimensions "
            "Name=ClusterName,Value=prod Name=ServiceName,Value=orders-api --start-time 2024-05-01T00:00:00Z") in steps[0]
    assert "(Why: " in steps[0] and not any("(Why: " in s for s in steps[1:])
    assert steps[1].startswith("Raise the memory only once the growth is explained")


def test_a_kill_at_the_threshold_counts_as_a_long_run():
    from shared.patterns.out_of_memory import LONG_RUN_HOURS

    assert "postpones" in _oom(LONG_RUN_HOURS).remediation[0]


def test_near_miss_a_kill_just_under_the_threshold_keeps_the_sizing_first():
    from shared.patterns.out_of_memory import LONG_RUN_HOURS

    steps = _oom(LONG_RUN_HOURS - 0.5).remediation
    assert steps[0].startswith("Give app at least") and not any("postpones" in s for s in steps)


def test_a_run_of_months_keeps_the_metric_call_within_its_datapoint_limit():
    step = _oom(24 * 120).remediation[0]
    period = int(step.split("--period ", 1)[1].split()[0])
    assert 120 * 24 * 3600 / period <= 1440


def test_near_miss_a_long_run_of_a_well_known_agent_image_or_a_one_off_task_keeps_the_sizing_first():
    from tests.unit.helpers import event

    base = event()["detail"]
    got = run(launchType="FARGATE", startedAt="2024-05-01T00:00:00.000Z", stoppingAt="2024-05-03T00:00:00.000Z",
              containers=[{"name": "log_router", "exitCode": 137, "lastStatus": "STOPPED", "memory": "64",
                           "reason": "OutOfMemoryError: Container killed due to memory usage",
                           "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.15.0"}])
    assert not any("postpones" in s for s in got.remediation)
    assert base["group"] == "service:orders-api"
    one_off = run(launchType="FARGATE", group="family:orders-api", startedBy="scheduler",
                  startedAt="2024-05-01T00:00:00.000Z", stoppingAt="2024-05-03T00:00:00.000Z",
                  containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED", "memory": "2048",
                               "reason": "OutOfMemoryError: Container killed due to memory usage",
                               "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}])
    assert not any("postpones" in s for s in one_off.remediation)


# (6) Fluent Bit asked for a plugin it does not have

_ROUTER = {"containers": [
    {"name": "api", "exitCode": 143, "lastStatus": "STOPPED", "image": "acme/api:1"},
    {"name": "log_router", "exitCode": 1, "lastStatus": "STOPPED",
     "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/fluent-bit-custom:3.2.8"}]}


def test_a_plugin_name_that_does_not_exist_names_the_plugin_and_plugins_file():
    lines = ["[error] [config] section 'my-output' tried to instance a plugin name that doesn't exist",
             "[error] configuration file contains errors, aborting."]
    first = run({"log_router": lines}, **_ROUTER).remediation[0]
    assert "no plugin named `my-output`" in first and "`plugins_file`" in first
    assert "COPYs" not in first and "--dry-run" not in first


def test_an_output_plugin_not_found_is_the_same_family():
    from shared import remediation as remedy

    got = remedy.error_family("[error] [output] plugin 'datadogx' not found")
    assert got is not None and "`datadogx`" in got


def test_near_miss_a_missing_config_file_keeps_the_file_advice():
    from shared import remediation as remedy

    got = remedy.error_family("[error] [config] section 'x' could not open file /fluent-bit/etc/extra.conf") or ""
    assert "plugins_file" not in got
