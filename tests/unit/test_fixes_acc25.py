"""A known sidecar agent's own wording (the X-Ray daemon, the Datadog agent) in the app's stream is that agent's noise,
never the app's cause when the app failed on its own; a JVM heap error Akka exits on is out-of-memory without the
class name; a supervisor restarting workers over their memory budget before the job failed is out-of-memory; an AWS
SDK error code that says IAM refused the call is an access denial even when the message names no action; a bare
BindException takes the container's one mapped port. Each with near misses that must stay as they are."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

APP = {"name": "web", "image": "example/web:2", "lastStatus": "STOPPED"}
XRAY = {"name": "tracing", "image": "public.ecr.aws/xray/aws-xray-daemon:3.3.12", "exitCode": 0,
        "lastStatus": "STOPPED"}
AGENT = {"name": "metrics", "image": "public.ecr.aws/datadog/agent:7.52.0", "exitCode": 0, "lastStatus": "STOPPED"}
XRAY_NOISE = ["2024-05-01T10:00:01Z [Error] Sending segment batch failed with: NoCredentialProviders: no valid "
              "providers in chain. Deprecated.",
              "\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors"]
AGENT_NOISE = ["2024-05-01 10:00:01 UTC | CORE | ERROR | (pkg/collector/worker/check_logger.go:71 in Error) | "
               "check:redisdb | Error running check: Error 111 connecting to localhost:6379. Connection refused."]
REFUSED = ["Traceback (most recent call last):",
           '  File "/srv/app/db.py", line 12, in connect',
           "    conn = psycopg2.connect(dsn)",
           'psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: Connection refused']


def _containers(app_exit: int, *others: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**APP, "exitCode": app_exit}, *others]


# (a) sidecar noise in the app's stream

def test_xray_credentials_noise_does_not_outrank_the_apps_refused_database():
    got = run(REFUSED + XRAY_NOISE, containers=_containers(1, XRAY))
    assert got.pattern == "database-connection-failed" and got.facts["container"] == "web"
    assert got.facts["port"] == 5432


def test_datadog_check_error_does_not_outrank_the_apps_heap_exhaustion():
    got = run([*AGENT_NOISE, "Uncaught error from thread [main-dispatcher-7]: Java heap space, shutting down JVM "
                             "since 'akka.jvm-exit-on-fatal-error' is enabled for ActorSystem[main]"],
              containers=_containers(255, AGENT))
    assert got.pattern == "out-of-memory" and got.facts["container"] == "web"


def test_sidecar_noise_alone_with_a_failed_app_blames_neither_the_app_nor_the_agent():
    for noise, sidecar in ((XRAY_NOISE, XRAY), (AGENT_NOISE, AGENT)):
        got = run(["starting worker", *noise], containers=_containers(1, sidecar))
        assert got.pattern not in ("iam-access-denied", "database-connection-failed", "app-crash"), noise
        assert "Sending segment" not in str(got.facts) and "Error running check" not in str(got.facts)


def test_xray_noise_with_a_clean_app_exit_stays_a_credentials_finding_of_the_daemon():
    got = run(["server started", *XRAY_NOISE], containers=_containers(0, XRAY))
    assert got.pattern == "iam-access-denied" and got.facts["container"] == "tracing"


def test_xray_noise_in_a_deployment_stop_stays_an_expected_stop():
    got = run(["server started", *XRAY_NOISE], containers=[{**APP, "exitCode": 143}, {**XRAY, "exitCode": 143}],
              stopCode="ServiceSchedulerInitiated",
              stoppedReason="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)")
    assert got.pattern == "expected-stop"


def test_a_real_app_access_denial_still_wins_next_to_the_xray_daemon():
    got = run(["botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject "
               "operation: Access Denied", *XRAY_NOISE], containers=_containers(1, XRAY))
    assert got.pattern == "iam-access-denied" and got.facts["container"] == "web"
    assert got.facts["action"] == "s3:GetObject"


def test_datadog_check_error_with_a_healthy_app_is_not_a_database_failure_of_the_app():
    got = run(["server started", *AGENT_NOISE], containers=_containers(0, AGENT))
    assert not (got.pattern == "database-connection-failed" and got.facts.get("container") == "web")


def test_agent_wording_without_that_agent_in_the_task_is_read_as_today():
    # no X-Ray daemon in the task: nothing to hand the line to, so the app's line it stays
    got = run(["server started", *XRAY_NOISE], containers=_containers(1))
    assert got.pattern == "iam-access-denied" and got.facts["container"] == "web"


# (b) the JVM's heap message without its class

def test_heap_space_without_a_jvm_exit_is_not_out_of_memory():
    got = run(["WARN cache: eviction after Java heap space pressure reported by the monitor",
               "ERROR main: cannot read /etc/app/app.conf: no such file"], containers=_containers(1))
    assert got.pattern != "out-of-memory"


# (c) a supervisor's memory-budget restarts

BUDGET = "distributed.nanny - WARNING - Worker exceeded 95% memory budget. Restarting"
LOST = ["Traceback (most recent call last):",
        '  File "/srv/job/run.py", line 40, in main',
        "    client.gather(futures)",
        "distributed.scheduler.KilledWorker: ('sum-9f2', <WorkerState 'tcp://127.0.0.1:40101', name: 1>)"]


def test_a_worker_restarted_over_its_memory_budget_before_the_job_failed_is_out_of_memory():
    got = run([BUDGET, BUDGET, *LOST], containers=_containers(1))
    assert got.pattern == "out-of-memory" and got.facts["kind"].startswith("a worker over its memory budget")
    assert "memory budget" in " ".join(got.remediation)


def test_a_memory_budget_restart_in_a_job_that_exited_zero_is_not_the_cause():
    got = run([BUDGET, "job finished: 120 partitions written"], containers=_containers(0))
    assert got.pattern != "out-of-memory"


def test_a_confident_cause_in_the_same_incident_outranks_a_memory_budget_restart():
    got = run([BUDGET, *REFUSED], containers=_containers(1))
    assert got.pattern == "database-connection-failed"


# (d) an SDK error code that says IAM refused the call

DENIED = ("Message: You are not authorized to perform this operation. (Service: AmazonEC2; Status Code: 403; "
          "Error Code: UnauthorizedOperation; Request ID: 5a6b7c8d-0000-4000-8000-000000000001)")


def test_an_sdk_unauthorized_operation_at_startup_outranks_the_health_check_stop():
    got = run(["ERROR Bootstrap - startup failed", DENIED, "    at com.amazonaws.http.AmazonHttpClient.execute"],
              containers=[{**APP, "exitCode": 143}], stopCode="ServiceSchedulerInitiated",
              stoppedReason="Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:"
                            "111122223333:targetgroup/web/0123456789abcdef)")
    assert got.pattern == "iam-access-denied" and got.facts["service"] == "ec2"
    assert got.facts["action"] == "unknown"  # the message names no call: no service-wide grant
    assert "UnauthorizedOperation" in " ".join(got.remediation) and "ec2:*" not in " ".join(got.remediation)


def test_an_sdk_403_with_another_error_code_is_not_an_access_denial():
    got = run(["ERROR upload failed", "Message: The request signature we calculated does not match. (Service: "
               "AmazonS3; Status Code: 403; Error Code: SignatureDoesNotMatch; Request ID: 0000)"],
              containers=_containers(1))
    assert got.pattern != "iam-access-denied"


# (e) a bare bind error takes the container's one mapped port

BIND = ["Caused by: java.net.BindException: Address already in use",
        "        at java.base/sun.nio.ch.Net.bind0(Native Method) ~[na:na]"]


def _bound(*ports: int) -> list[dict[str, Any]]:
    return [{**APP, "exitCode": 1, "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": p, "hostPort": p,
                                                        "protocol": "tcp"} for p in ports]}]


def test_a_bare_bind_error_takes_the_one_mapped_port():
    got = run(BIND, containers=_bound(8080), launchType="EC2", attachments=[])
    assert got.pattern == "port-in-use" and got.facts["port"] == 8080


def test_a_bare_bind_error_with_two_mapped_ports_names_none():
    got = run(BIND, containers=_bound(8080, 9090), launchType="EC2", attachments=[])
    assert got.pattern == "port-in-use" and "port" not in got.facts


def test_a_port_the_error_names_beats_the_mapping():
    got = run(["Web server failed to start. Port 9000 was already in use."], containers=_bound(8080),
              launchType="EC2", attachments=[])
    assert got.facts["port"] == 9000
