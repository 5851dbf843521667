"""Steps that must fit the task's own state (fix14): each test has the case where the step applies and a near miss
where it does not."""

from __future__ import annotations

from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _app(exit_code: int, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2") -> list[dict]:
    return [{"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED", "image": image}]


_PY_CRASH = ["Traceback (most recent call last):", '  File "/srv/app/main.py", line 9, in <module>',
             "    start()", "ValueError: bad port number"]


def test_the_circuit_breaker_step_is_for_a_task_that_failed_soon_after_start():
    soon = run(_PY_CRASH, containers=_app(1), startedAt="2024-05-01T09:58:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert soon.pattern == "app-crash" and "deploymentCircuitBreaker" in _fix(soon)
    unknown = run(_PY_CRASH, containers=_app(1))
    assert "deploymentCircuitBreaker" in _fix(unknown)
    # Near miss: the task ran for hours before it crashed, past any deployment.
    long = run(_PY_CRASH, containers=_app(1), startedAt="2024-05-01T02:00:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert long.pattern == "app-crash" and "deploymentCircuitBreaker" not in _fix(long)


def test_a_node_trace_with_caused_by_is_not_called_java():
    node = run(["BrokerPoolError", "  Caused by: SocketClosedError: connection lost",
                "    at Socket.onClose (/opt/svc/node_modules/somelib/src/socket.js:88:17)",
                "    at Socket.emit (node:events:517:28)"], containers=_app(1))
    assert node.pattern == "app-crash" and node.facts["language"] == "node"
    java = run(["com.example.OrdersException: start failed", "Caused by: java.net.ConnectException: refused",
                "    at com.example.Orders.start(Orders.java:41)"], containers=_app(1))
    assert java.facts["language"] == "java"


_VALGRIND_TAIL = ["[2024/05/01 09:58:00] [engine] caught signal (SIGSEGV)", "#0  0x0   in  ???() at ???:0",
                  "==1== Process terminating with default action of signal 6 (SIGABRT): dumping core",
                  "==1==    at 0x67ACC20: raise (in /usr/lib64/libc-2.26.so)",
                  "==1==    by 0x67AE0C7: abort (in /usr/lib64/libc-2.26.so)",
                  "==1==    by 0x447611: crash_handler (agent.c:514)"]


def test_a_native_crash_quotes_its_fault_signal_not_the_abort_frames():
    f = run(_VALGRIND_TAIL, containers=_app(134))
    assert "SIGSEGV" in f.facts["exception"] and "abort (in" not in f.remediation[0]
    # Near miss: an abort with no fault signal before it keeps its own last error line.
    plain = run(["[error] invariant broken: queue depth < 0", "assertion failed, aborting"], containers=_app(134))
    assert "SIGSEGV" not in _fix(plain)


def _pull(reason: str, image: str, **detail):
    return run(stopCode="TaskFailedToStart", stoppedReason=reason,
               containers=[{"name": "app", "lastStatus": "STOPPED", "image": image}], **detail)


def test_a_reason_ecs_cut_at_its_limit_is_not_read_again_with_describe_tasks():
    head = "CannotPullContainerError: inspect image has been retried 5 time(s): failed to resolve ref: " \
           "unexpected status from GET request to https://registry.example.net/v2/acme/api/manifests/"
    cut = (head + "a" * 300)[:252] + "..."
    f = _pull(cut, "registry.example.net/acme/api:2.0")
    assert f.pattern == "image-pull-failed" and "describe-tasks returns the same cut text" in f.remediation[0]
    assert "docker pull registry.example.net/acme/api:2.0" in f.remediation[0]
    # Near miss: a short reason a console cut; describe-tasks shows the whole.
    short = _pull(head[:120] + "...", "registry.example.net/acme/api:2.0")
    assert "describe-tasks" in short.remediation[0] and "same cut text" not in short.remediation[0]


def test_a_layer_that_failed_to_unpack_is_a_faulty_image_not_access_or_network():
    own = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
    f = _pull("CannotPullContainerError: failed to register layer: wrong diff ID calculated on extraction", own)
    fix = f.remediation[0]
    assert f.pattern == "image-pull-failed" and "docker buildx build" in fix and "NAT" not in fix
    assert "orders-api:1.4.2-rebuilt" in fix
    # Near miss: a pull that never reached the layers keeps the reference / permissions / network check.
    other = _pull("CannotPullContainerError: failed to do request: Head https://111122223333.dkr.ecr.us-east-1"
                  ".amazonaws.com/v2/orders-api/manifests/1.4.2: EOF", own)
    assert "buildx" not in other.remediation[0]


def test_a_docker_hub_user_repository_not_found_may_be_private():
    f = _pull("CannotPullContainerError: Error: image acme/billing:latest not found", "acme/billing:latest")
    fix = f.remediation[0]
    assert "repositoryCredentials" in fix and "does not publish" not in fix
    # Near miss: an official image (no user) is public: no credentials step.
    official = _pull("CannotPullContainerError: Error: image library/elasticsearch:latest not found",
                     "elasticsearch:latest")
    assert "repositoryCredentials" not in official.remediation[0]


def test_a_secret_reason_ecs_cut_points_at_cloudtrail_not_describe_tasks():
    head = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
            "failed: unable to retrieve secret from asm: service call has been retried 3 time(s): failed to "
            "fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:orders/db-AbCdEf from secrets ")
    cut = (head + "manager: " + "x" * 200)[:252] + "..."
    f = run(stopCode="TaskFailedToStart", stoppedReason=cut, containers=_app(0))
    assert f.pattern == "secrets-retrieval-failed"
    fix = _fix(f)
    assert "CloudTrail" in fix and "same cut text" in fix
    short = run(stopCode="TaskFailedToStart", stoppedReason=head[:150] + "...", containers=_app(0))
    assert "CloudTrail" not in _fix(short)


def _with_sidecar(image: str, code: int) -> list[dict]:
    return [{"name": "app", "lastStatus": "STOPPED", "exitCode": 0,
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"},
            {"name": "sidecar", "lastStatus": "STOPPED", "exitCode": code, "image": image}]


_PROXY_LOG = [("[2024-05-01 09:58:00.100][1][info][config] loading 2 cluster(s)", "sidecar"),
              ("[2024-05-01 09:58:00.120][1][critical][main] error initializing configuration: bad listener port",
               "sidecar"),
              ("[2024-05-01 09:58:00.121][1][info][main] exiting", "sidecar")]


def _logs(rows):
    return [{"message": t, "container": c} for t, c in rows]


def test_a_traffic_proxy_is_never_made_non_essential_and_its_critical_line_is_quoted():
    f = run(_logs(_PROXY_LOG), containers=_with_sidecar(
        "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.25.1.0-prod", 1))
    assert f.pattern == "app-crash" and "critical" in f.remediation[0] and "exiting" not in f.facts["exception"]
    assert "essential" not in f.remediation[0]
    # Near miss: a metrics agent sidecar carries no traffic, so it may be made non-essential.
    agent = run(_logs(_PROXY_LOG), containers=_with_sidecar("public.ecr.aws/datadog/agent:7.50.0", 1))
    assert '"essential": false' in agent.remediation[0]


def test_an_entrypoint_that_is_a_directory_is_corrected_not_made_executable():
    reason = ("CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: "
              "OCI runtime create failed: runc create failed: unable to start container process: exec: \"{}\": "
              "permission denied: unknown")
    f = run(stopCode="TaskFailedToStart", stoppedReason=reason.format("/opt/app/"), containers=_app(0))
    assert f.pattern == "container-start-failed"
    assert "directory" in f.remediation[0] and "chmod +x" not in f.remediation[0] and '"sh"' not in f.remediation[0]
    # Near miss: a script without its execute bit is made executable.
    script = run(stopCode="TaskFailedToStart", stoppedReason=reason.format("/opt/app/start.sh"), containers=_app(0))
    assert "chmod +x" in script.remediation[0]


_CREDS_TIMEOUT = ("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed "
                  "to create Cloudwatch log stream: CredentialsEndpointError: failed to load credentials caused by: "
                  "RequestError: send request failed caused by: Get \"http://169.254.170.2/v2/credentials/"
                  "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\": dial tcp 169.254.170.2:80: i/o timeout")


def test_an_ecs_anywhere_host_gets_no_vpc_advice_for_the_credentials_endpoint():
    ext = run(stopCode="TaskFailedToStart", stoppedReason=_CREDS_TIMEOUT, containers=_app(0), launchType="EXTERNAL",
              attachments=[])
    fix = _fix(ext)
    assert ext.pattern == "log-driver-failed" and "credentials endpoint" in fix
    assert "NAT" not in fix and "VPC endpoint `" not in fix
    # Near miss: the same failure on EC2 in a VPC keeps the route / endpoint advice.
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason=_CREDS_TIMEOUT, containers=_app(0), launchType="EC2")
    assert "ECS Anywhere" not in _fix(ec2)


def test_a_batch_job_on_spot_gets_no_service_capacity_provider_advice():
    batch = run(stopCode="SpotInterruption", stoppedReason="Your Spot Task was interrupted.", containers=_app(0),
                group="family:quake-shards", startedBy="0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
                clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-shards-spot-0b1c2d3e-4f50-6172-"
                           "8394-a5b6c7d8e9f0")
    assert batch.pattern == "expected-stop" and "capacity provider strategy" not in _fix(batch)
    assert "retryStrategy" in _fix(batch)
    svc = run(stopCode="SpotInterruption", stoppedReason="Your Spot Task was interrupted.", containers=_app(0))
    assert "capacity provider strategy" in _fix(svc)


_DROPPED = ["Error: Connection lost: The server closed the connection.",
            "    at Protocol.end (/srv/app/node_modules/dbclient/lib/protocol/Protocol.js:112:13)",
            "    at Socket.emit (node:events:517:28)"]


def test_a_connection_dropped_after_a_long_run_points_at_the_server_and_reconnecting():
    long = run(_DROPPED, containers=_app(1), startedAt="2024-05-01T08:00:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert long.pattern == "app-crash" and "reconnect" in long.remediation[0]
    # Near miss: the same error seconds after start is no dropped long-lived connection.
    soon = run(_DROPPED, containers=_app(1), startedAt="2024-05-01T09:58:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert "reconnect" not in soon.remediation[0]
