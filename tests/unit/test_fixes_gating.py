"""Conditional fix steps are shown only with the evidence that makes them apply: each test has the case with
that evidence (the step appears) and a near miss without it (the step does not)."""

from __future__ import annotations

from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _app(exit_code: int, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2") -> list[dict]:
    return [{"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED", "image": image}]


_S3_DENIED = ("botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject operation: "
              "User: arn:aws:sts::111122223333:assumed-role/orders-task/abc is not authorized to perform: "
              "s3:GetObject on resource: \"arn:aws:s3:::orders-bucket/report.csv\"")


def test_a_kms_step_for_an_iam_denial_needs_kms_in_the_evidence():
    plain = run([_S3_DENIED], containers=_app(1))
    assert plain.pattern == "iam-access-denied" and "kms:Decrypt" not in _fix(plain)
    kms = run([_S3_DENIED + " because the object is encrypted with a KMS key"], containers=_app(1))
    assert kms.pattern == "iam-access-denied" and "kms:Decrypt" in _fix(kms)


_SECRET_DENIED = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                  "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): "
                  "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/orders-exec/abc is not "
                  "authorized to perform: secretsmanager:GetSecretValue on resource: "
                  "arn:aws:secretsmanager:us-east-1:111122223333:secret:orders/db-AbCdEf")


def test_a_kms_step_for_a_secret_denial_needs_kms_in_the_evidence():
    plain = run(stopCode="TaskFailedToStart", stoppedReason=_SECRET_DENIED, containers=_app(0))
    assert plain.pattern == "secrets-retrieval-failed" and "kms:Decrypt" not in _fix(plain)
    # Near miss the other way: the message names the key, so the key step is there.
    kms = run(stopCode="TaskFailedToStart", containers=_app(0),
              stoppedReason=_SECRET_DENIED.replace("secretsmanager:GetSecretValue", "kms:Decrypt"))
    assert "kms:Decrypt" in _fix(kms)


_SSM_TIMEOUT = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                "failed: unable to retrieve secrets from ssm: RequestError: send request failed caused by: Post "
                "\"https://ssm.us-east-1.amazonaws.com/\": dial tcp 52.46.1.1:443: i/o timeout")


def test_ecr_endpoints_are_named_only_for_an_image_in_ecr():
    ecr = run(stopCode="TaskFailedToStart", stoppedReason=_SSM_TIMEOUT, containers=_app(0))
    assert "`ecr.api`, `ecr.dkr`" in _fix(ecr)
    hub = run(stopCode="TaskFailedToStart", stoppedReason=_SSM_TIMEOUT, containers=_app(0, "nginx:1.27"))
    assert hub.pattern == "secrets-retrieval-failed" and "ecr.dkr" not in _fix(hub)


_ELB = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web/0c5d1e8a7b2f4693)"


def test_a_refusal_logged_at_every_check_is_step_one_and_rules_out_start_up_time():
    line = "[ActionDispatch::HostAuthorization::DefaultResponseApp] Blocked host: 10.0.5.{}"
    got = run([line.format(n) for n in (23, 24, 25)], stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert got.pattern == "health-check-failed"
    assert "Blocked host" in got.remediation[0] and "config.hosts" in got.remediation[0]
    assert "grace period" not in _fix(got) and "Target.Timeout" not in _fix(got)
    # A curl to localhost sends another Host header: no local test of a Host refusal.
    assert "Test locally" not in _fix(got)
    # Near miss: no log at all is no evidence of a slow start nor of a refusal: neither step.
    bare = run([], stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert "Blocked host" not in _fix(bare) and "grace period" not in _fix(bare)
    # Near miss: a log in which the server never said it listens (still migrating) keeps the grace period.
    slow = run(["Running migrations:", "  Applying auth.0001_initial... OK"], stopCode="ServiceSchedulerInitiated",
               stoppedReason=_ELB)
    assert "grace period" in _fix(slow) and "Applying auth.0001_initial" in _fix(slow)


def test_a_refusal_not_about_the_host_gets_no_allowed_hosts_advice():
    got = run(["WARN request rejected: missing api key"] * 3, stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert "request rejected" in got.remediation[0] and "ALLOWED_HOSTS" not in got.remediation[0]


def test_container_check_advice_on_curl_needs_a_check_that_runs_plain_curl():
    reason = "Task failed container health checks"
    cont = [{"name": "app", "lastStatus": "STOPPED", "healthStatus": "UNHEALTHY",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:2"}]
    got = run(["GET / 200"], stoppedReason=reason, containers=cont)
    # No check command in the evidence: nothing to say about its curl flags.
    assert got.pattern == "container-health-check-failed" and "curl -f" not in _fix(got)


def test_a_check_that_runs_plain_curl_is_told_to_use_curl_f():
    from dataclasses import replace

    from shared.engine import diagnose
    from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
    from tests.unit.helpers import evidence

    reason = "Task failed container health checks"
    cont = [{"name": "app", "lastStatus": "STOPPED", "healthStatus": "UNHEALTHY",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:2"}]
    ev = evidence(["GET / 200"], stoppedReason=reason, containers=cont)

    def with_check(*check: str):
        td = TaskDefinitionFacts(arn=ev.detail.task_definition_arn or "arn:x",
                                 containers=(ContainerDefinition(name="app", health_check=check),))
        return diagnose(replace(ev, task_definition=td))

    plain = with_check("CMD-SHELL", "curl http://localhost:8080/health || exit 1")
    assert "use `curl -f`" in _fix(plain)
    # Near miss: the check already fails on an error status.
    failing = with_check("CMD-SHELL", "curl -f http://localhost:8080/health || exit 1")
    assert "use `curl -f`" not in _fix(failing)


def _two(image_b: str = "nginx:1.27") -> list[dict]:
    return [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"},
            {"name": "proxy", "lastStatus": "STOPPED", "exitCode": 0, "image": image_b}]


def test_a_server_started_twice_needs_evidence_inside_the_container():
    err = "Error: listen EADDRINUSE: address already in use :::8080"
    # A sidecar shares the network and nothing shows the app bound it itself: the sidecar is the suspect.
    shared = run([err], containers=_two())
    assert shared.pattern == "port-in-use" and "started once" not in _fix(shared)
    # Near miss: the app's own log bound 8080 just before the error: the same process binds it twice.
    twice = run(["Server listening on port 8080", err], containers=_two())
    assert "started once" in _fix(twice) and "Server listening on port 8080" in _fix(twice)
    # Near miss: no other container shares its network: the holder is in the container.
    alone = run([err], containers=_app(1))
    assert "started once" in _fix(alone)


def test_a_known_holder_needs_no_local_reproduction():
    err = "Error: listen EADDRINUSE: address already in use :::8080"
    known = run({"proxy": ["Listening on port 8080"], "app": [err]}, containers=_two())
    assert known.pattern == "port-in-use" and "docker run" not in _fix(known) and "`proxy`" in _fix(known)
    unknown = run({"app": [err]}, containers=_two())
    assert "docker run" in _fix(unknown)


def _unplaced(detail: str) -> str:
    return ("service web was unable to place a task because no container instance met all of its requirements. "
            + detail)


def test_placement_constraints_only_when_no_resource_shortage_is_named():
    vague = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=[], containers=_app(0),
                stoppedReason=_unplaced("The closest matching container-instance abc is missing an attribute "
                                        "required by your task."))
    assert vague.pattern == "insufficient-capacity" and "placement constraints" in _fix(vague)
    # Near miss: the closest instance was short of memory: a memory step, no placement constraints.
    mem = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=[], containers=_app(0),
              stoppedReason="service web was unable to place a task because no container instance met all of its "
                            "requirements. The closest matching container-instance abc has insufficient memory available.")
    assert mem.pattern == "insufficient-capacity" and "Check placement constraints" not in _fix(mem)


def test_a_closest_instance_already_using_the_port_gets_the_port_step():
    port = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=[], containers=_app(0),
               stoppedReason=_unplaced("The closest matching (container-instance 47d5cb9a) is already using a port "
                                       "required by your task."))
    assert port.pattern == "insufficient-capacity"
    assert "hostPort: 0" in port.remediation[0] and "cpu/memory reservation" not in _fix(port)
    assert "Check placement constraints" not in _fix(port)


_PG_REFUSED = "psycopg2.OperationalError: could not connect to server: Connection refused Is the server running on host \"10.0.4.20\" and accepting TCP/IP connections on port 5432?"


def test_retrying_the_first_connection_needs_a_database_that_came_up_later():
    plain = run([_PG_REFUSED], containers=_app(1))
    assert plain.pattern == "database-connection-failed" and "retry the first connection" not in _fix(plain)
    # Near miss: a later line shows a connection that worked: the database was only late.
    late = run([_PG_REFUSED, "INFO connected to postgres at 10.0.4.20:5432"], containers=_app(1))
    assert "retry the first connection" in _fix(late) and "connected to postgres" in _fix(late)


def test_a_refusal_in_a_task_with_a_mesh_proxy_waits_for_the_proxy_first():
    envoy = {"name": "envoy", "exitCode": 143, "lastStatus": "STOPPED",
             "image": "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod"}
    got = run([_PG_REFUSED], containers=[*_app(1), envoy])
    assert got.pattern == "database-connection-failed" and "mesh proxy `envoy`" in got.remediation[0]
    alone = run([_PG_REFUSED], containers=_app(1))
    assert "mesh proxy" not in _fix(alone)


def test_where_the_log_group_lives_matters_only_when_it_was_not_found():
    missing = run(stopCode="TaskFailedToStart", containers=_app(0),
                  stoppedReason="CannotStartContainerError: Error response from daemon: failed to initialize logging "
                                "driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The "
                                "specified log group does not exist.")
    assert missing.pattern == "log-driver-failed" and "awslogs-region" in _fix(missing)
    denied = run(stopCode="TaskFailedToStart", containers=_app(0),
                 stoppedReason="CannotStartContainerError: Error response from daemon: failed to initialize logging "
                               "driver: failed to create Cloudwatch log stream: AccessDeniedException: User: "
                               "arn:aws:sts::111122223333:assumed-role/exec/abc is not authorized to perform: "
                               "logs:CreateLogStream on resource: arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web:*")
    assert denied.pattern == "log-driver-failed" and "awslogs-region" not in _fix(denied)


def test_the_egress_security_group_step_names_only_a_port_the_evidence_gives():
    got = run(["requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.example.com', port=8443): "
               "Max retries exceeded (connect timeout=10)"], containers=_app(1))
    assert got.pattern == "network-egress-blocked" and "TCP 8443" in _fix(got) and "TCP 443." not in _fix(got)
    # Near miss: no port in the message: no 443 guessed.
    bare = run(["FetchError: request to http://api.example.com/v1 failed, reason: connect ETIMEDOUT"], containers=_app(1))
    assert bare.pattern == "network-egress-blocked" and "TCP 443" not in _fix(bare)


def test_platform_errors_get_disk_advice_only_for_timeouts_and_no_instance_on_fargate():
    timeout = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=[], containers=_app(0),
                  stoppedReason="DockerTimeoutError: Could not transition to started; timed out after waiting 3m0s")
    assert timeout.pattern == "platform-error" and "slow disks" in _fix(timeout)
    conflict = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=[], containers=_app(0),
                   stoppedReason="CannotCreateContainerError: Error response from daemon: Conflict. The container "
                                 "name \"/ecs-web-1-app\" is already in use by container \"abc\".")
    assert conflict.pattern == "platform-error" and "slow disks" not in _fix(conflict)
    fargate = run(stopCode="TaskFailedToStart", containers=_app(0),
                  stoppedReason="DockerTimeoutError: Could not transition to started; timed out after waiting 3m0s")
    assert fargate.pattern == "platform-error" and "same instance" not in _fix(fargate)
    assert "same instance" in _fix(timeout)


_UNHEALTHY = [{"name": "agent", "lastStatus": "STOPPED", "healthStatus": "UNHEALTHY",
               "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/agent:7"}]


def test_a_container_check_whose_log_names_the_failure_acts_on_it_first():
    lines = ["2024-05-01T10:00:01Z INFO forwarder started",
             "2024-05-01T10:00:02Z | CORE | ERROR | (forwarder_health.go:116) | No valid api key found, reporting unhealthy."]
    got = run(lines, stoppedReason="Task failed container health checks", containers=_UNHEALTHY)
    assert got.pattern == "container-health-check-failed"
    assert "No valid api key found" in got.remediation[0] and "tool must exist" not in _fix(got)
    # Near miss: an info-only log names nothing: the generic check steps stay.
    quiet = run(["2024-05-01T10:00:01Z INFO forwarder started"], stoppedReason="Task failed container health checks",
                containers=_UNHEALTHY)
    assert "own log names the failure" not in _fix(quiet) and "tool must exist" in _fix(quiet)


def test_a_warning_must_repeat_to_be_taken_as_the_failure():
    warn = "[2022-11-09 05:59:24.941][15][warning][config] config stream to mesh.example.com:443 closed: 13,"
    once = run([warn], stoppedReason="Task failed container health checks", containers=_UNHEALTHY)
    assert "own log names the failure" not in _fix(once)
    often = run([warn] * 3, stoppedReason="Task failed container health checks", containers=_UNHEALTHY)
    assert "config stream to mesh.example.com:443 closed: 13" in often.remediation[0]
    assert "logged 3 times" in often.remediation[0] and "[warning]" not in often.remediation[0].split("(Why")[0]


def test_a_failing_health_route_acts_on_the_error_the_app_logged_in_words():
    req = '10.0.1.9 - - "GET /health HTTP/1.1" 500 0'
    got = run([req, "2024-05-01 10:00:01 ERROR could not open feature flag store: permission denied"],
              stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert got.pattern == "health-check-failed" and got.facts.get("cause") == "server-error"
    assert "could not open feature flag store" in got.remediation[0]
    # Near miss: no error line: the read-the-log step stays.
    near = run([req], stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert "read the errors logged" in near.remediation[0]


def test_a_missing_interpreter_is_offered_only_when_a_file_was_found_and_run():
    lookup = run(stopCode="TaskFailedToStart", containers=_app(0),
                 stoppedReason="CannotStartContainerError: ResourceInitializationError: failed to create new container "
                               "runtime task: failed to create shim task: OCI runtime create failed: runc create failed: "
                               "unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown")
    assert lookup.pattern == "container-start-failed" and "interpreter is missing" not in _fix(lookup)
    nofile = run(stopCode="TaskFailedToStart", containers=_app(0),
                 stoppedReason="CannotStartContainerError: ResourceInitializationError: failed to create new container "
                               "runtime task: failed to create shim task: OCI runtime create failed: runc create failed: "
                               "unable to start container process: exec: \"/app/start.sh\": stat /app/start.sh: no such "
                               "file or directory: unknown")
    assert nofile.pattern == "container-start-failed" and "interpreter is missing" not in _fix(nofile)
    # Near miss: the file was found and executed, and the kernel said "no such file": its interpreter is missing.
    ran = run(["standard_init_linux.go:228: exec user process caused: no such file or directory"], containers=_app(1))
    assert ran.pattern == "container-start-failed", ran.pattern
    assert "interpreter is missing" in _fix(ran)


def test_vpc_dns_settings_only_for_an_efs_name_that_did_not_resolve():
    base = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: {} : "
            "unsuccessful EFS utils command execution; code: 32")
    unresolved = run(stopCode="TaskFailedToStart", containers=_app(0), stoppedReason=base.format(
        "Failed to resolve \\\"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\\\" - check that your file system ID "
        "is correct"))
    assert unresolved.pattern == "volume-mount-failed" and "DNS hostnames" in _fix(unresolved)
    timed = run(stopCode="TaskFailedToStart", containers=_app(0), stoppedReason=base.format(
        "mount.nfs4: Connection timed out mounting fs-0123456789abcdef0.efs.us-east-1.amazonaws.com:/"))
    assert timed.pattern == "volume-mount-failed" and "DNS hostnames" not in _fix(timed)
    assert "2049" in _fix(timed)


def test_an_efs_mount_timeout_without_the_file_system_id_still_gets_the_nfs_step_first():
    got = run(stopCode="TaskFailedToStart", containers=_app(0), stoppedReason=(
        "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
        "b'mount.nfs4: Connection timed out' : unsuccessful EFS utils command execution; code: 32"))
    assert got.pattern == "volume-mount-failed" and not got.facts.get("file_system")
    assert "TCP 2049" in got.remediation[0] and "efsVolumeConfiguration.fileSystemId" in got.remediation[0]
    assert "volumes[]` and `mountPoints[]`" not in _fix(got)


def test_a_crash_on_the_state_of_a_reached_service_gets_no_local_docker_run():
    db = run(["Traceback (most recent call last):", '  File "/app/manage.py", line 22, in <module>',
              "django.db.migrations.exceptions.InconsistentMigrationHistory: Migration a.0002 is applied before its "
              "dependency b.0001 on database 'default'."], containers=_app(1))
    assert db.pattern == "app-crash" and "docker run" not in _fix(db)
    # Near miss: a crash in the app's own code reproduces locally.
    own = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
               "KeyError: 'region'"], containers=_app(1))
    assert own.pattern == "app-crash" and "docker run" in _fix(own)
    # Near miss: an embedded database (SQLite) is in the image, so the local run has it.
    lite = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                "sqlite3.OperationalError: no such table: users (database migration 0003 not applied)"],
               containers=_app(1))
    assert lite.pattern == "app-crash" and "docker run" in _fix(lite)


def test_a_crash_after_the_app_connected_to_its_database_gets_no_local_docker_run():
    lines = ["HikariPool-1 - Added connection org.postgresql.jdbc.PgConnection@6f1d2c3b",
             "Exception in thread \"main\" java.lang.IllegalStateException: route table is empty",
             "\tat com.acme.Routes.build(Routes.java:42)"]
    got = run(lines, containers=_app(1))
    assert got.pattern == "app-crash" and "docker run" not in _fix(got)
    # Near miss: the connection line comes after the error (a later retry), so the crash came first.
    near = run(lines[1:] + lines[:1], containers=_app(1))
    assert near.pattern == "app-crash" and "docker run" in _fix(near)


def test_a_pull_rate_limit_names_the_throttled_registry_and_image():
    hub = ("CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: "
           "unexpected status code https://registry-1.docker.io/v2/library/redis/manifests/sha256:3134: 429 Too Many "
           "Requests - Server message: toomanyrequests: You have reached your pull rate limit.")
    redis = {"name": "redis", "lastStatus": "STOPPED", "image": "redis:7.2-alpine"}
    got = run(stopCode="TaskFailedToStart", stoppedReason=hub, containers=[*_app(0), redis])
    assert got.pattern == "image-pull-failed" and "Docker Hub" in got.remediation[0]
    assert "redis:7.2-alpine" in got.remediation[0] and "orders-api" not in got.remediation[0]
    # Near miss: ECR throttling its own API is not Docker Hub's anonymous limit.
    ecr = run(stopCode="TaskFailedToStart", containers=_app(0),
              stoppedReason="CannotPullContainerError: ThrottlingException: Rate exceeded calling GetAuthorizationToken "
                            "for 111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2")
    assert ecr.pattern == "image-pull-failed" and "Docker Hub" not in _fix(ecr) and "ECR throttled" in _fix(ecr)


def test_the_repository_policy_is_named_only_for_another_accounts_repository():
    reason = ("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
              "{}: pull access denied, repository does not exist or may require authorization: server message: "
              "insufficient_scope: authorization failed")
    own = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
    mine = run(stopCode="TaskFailedToStart", containers=_app(0, own), stoppedReason=reason.format(own))
    assert mine.pattern == "image-pull-failed" and "repository policy" not in _fix(mine)
    theirs = "999988887777.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
    other = run(stopCode="TaskFailedToStart", containers=_app(0, theirs), stoppedReason=reason.format(theirs))
    assert "repository policy must also allow this account (111122223333)" in _fix(other)


def test_ecr_endpoints_for_registry_auth_only_with_an_ecr_image():
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: "
              "send request failed caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp "
              "52.46.1.1:443: i/o timeout")
    ecr = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0))
    hub = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0, "nginx:1.27"))
    assert ecr.pattern == "secrets-retrieval-failed"
    assert "`ecr.dkr`" in _fix(ecr) and "`ecr.dkr`" not in _fix(hub)


def test_a_schema_update_in_progress_is_start_up_work():
    reason = "Task failed container health checks"
    got = run(["2024-02-07 05:30:52,771 INFO  [QuarkusJpaUpdaterProvider] (main) Updating database.",
               "2024-02-07 05:31:58,040 INFO  [DefaultJpaConnectionProviderFactory] (main) Database update in "
               "progress: 12 of 31 changesets"], stoppedReason=reason, containers=_UNHEALTHY)
    assert got.pattern == "container-health-check-failed" and "startPeriod" in _fix(got)


def test_a_host_refusal_that_names_its_setting_points_at_that_setting():
    line = "Invalid HTTP_HOST header: '10.0.1.{}:8000'. You may need to add '10.0.1.{}' to ALLOWED_HOSTS."
    got = run([line.format(n, n) for n in (5, 6, 7)], stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert "allow it in `ALLOWED_HOSTS`" in got.remediation[0] and "HTTP_HOST`" not in got.remediation[0]


def test_a_spot_stop_on_ec2_is_not_called_fargate_spot_nor_replaced_by_a_service():
    ec2 = run(stopCode="TerminationNotice", stoppedReason="Host EC2 (instance i-08784105ffff56b4f) terminated.",
              launchType="EC2", attachments=[], group="family:shredder", startedBy="ecs-cli",
              capacityProviderName="spot-asg", containers=[{"name": "app", "exitCode": 143, "lastStatus": "STOPPED",
                                                            "image": "shredder:1"}])
    assert ec2.pattern == "expected-stop" and ec2.facts.get("reason") == "spot"
    assert "Fargate" not in ec2.summary + _fix(ec2) and "the service" not in ec2.summary
    fargate = run(stopCode="SpotInterruption", stoppedReason="Your Spot Task was interrupted.",
                  capacityProviderName="FARGATE_SPOT", containers=[{"name": "app", "exitCode": 143,
                                                                     "lastStatus": "STOPPED", "image": "web:1"}])
    assert fargate.pattern == "expected-stop" and "Fargate Spot" in fargate.summary
    assert "FARGATE (on-demand)" in _fix(fargate)


def test_an_image_volume_copy_that_timed_out_on_fargate_has_no_instance_to_drain():
    reason = ("CannotCreateVolumeError: unable to copy contents to volume on host: containerd: failed to get image "
              "reference: context deadline exceeded")
    fargate = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0))
    assert fargate.pattern == "volume-mount-failed" and "drain" not in _fix(fargate) and "journalctl" not in _fix(fargate)
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0), launchType="EC2", attachments=[])
    assert ec2.pattern == "volume-mount-failed" and "drain" in _fix(ec2)


def test_a_secrets_fetch_on_ec2_leaves_from_the_instance_not_the_task():
    fargate = run(stopCode="TaskFailedToStart", stoppedReason=_SSM_TIMEOUT, containers=_app(0))
    assert fargate.remediation[0].startswith("The task's subnets")
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason=_SSM_TIMEOUT, containers=_app(0), launchType="EC2")
    assert ec2.pattern == "secrets-retrieval-failed"
    assert ec2.remediation[0].startswith("The container instances' subnets") and "assignPublicIp" not in _fix(ec2)


def test_an_image_pull_on_ec2_leaves_from_the_container_instance():
    reason = ("CannotPullContainerError: Error response from daemon: Get https://111122223333.dkr.ecr.us-east-1."
              "amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded "
              "while awaiting headers)")
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0), launchType="EC2", attachments=[])
    assert ec2.pattern == "image-pull-failed" and ec2.remediation[0].startswith("The container instance")
    fargate = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0))
    assert fargate.remediation[0].startswith("The task cannot reach")


def test_an_unclassified_pull_failure_acts_on_what_the_message_says():
    x509 = run(stopCode="TaskFailedToStart", containers=_app(0, "amazon/aws-for-fluent-bit:stable"), stoppedReason=(
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        "docker.io/amazon/aws-for-fluent-bit:stable: failed to authorize: failed to fetch anonymous token: Get "
        "\"https://auth.docker.io/token\": tls: failed to verify certificate: x509: certificate signed by unknown authority"))
    assert x509.pattern == "image-pull-failed" and "TLS-inspecting proxy" in x509.remediation[0]
    cut = run(stopCode="TaskFailedToStart", containers=_app(0, "amazon/aws-xray-daemon:3.x"), stoppedReason=(
        "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: "
        "unexpected status code https://registry-1.docker.io/v2/amazon/aws-xray-daemon/manifests/sha256:2d96..."))
    assert cut.pattern == "image-pull-failed" and "cut off" in cut.remediation[0]
    # A Docker Hub image is not told about the execution role's ECR permissions.
    assert "ECR permissions" not in _fix(cut) and "ECR permissions" not in _fix(x509)


def test_a_module_missing_after_a_long_run_is_not_said_to_fail_at_start_up():
    line = "ModuleNotFoundError: No module named 'reportlab'"
    late = run(["Traceback (most recent call last):", line], containers=_app(1),
               startedAt="2024-05-01T08:00:00Z", stoppedAt="2024-05-01T10:00:00Z")
    assert late.pattern == "missing-dependency" and "at start-up" not in _fix(late) + late.summary
    early = run(["Traceback (most recent call last):", line], containers=_app(1),
                startedAt="2024-05-01T09:59:00Z", stoppedAt="2024-05-01T10:00:00Z")
    assert "appears at start-up" in _fix(early)


def test_a_health_path_answered_with_a_4xx_is_step_one():
    got = run(['10.0.1.9 - - "GET /health HTTP/1.1" 400 26 "-" "ELB-HealthChecker/2.0"'],
              stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert got.pattern == "health-check-failed" and got.facts.get("status_codes") == ["400"]
    assert "answers `/health` with 400" in got.remediation[0] and "HTTPS" in got.remediation[0]
    # Near miss: no answer in the log: the generic comparison of the target group stays.
    bare = run([], stopCode="ServiceSchedulerInitiated", stoppedReason=_ELB)
    assert bare.remediation[0].startswith("Compare the target group's health check")


def test_a_script_that_was_run_and_not_found_may_have_crlf_line_endings():
    script = run(["exec /app/entrypoint.sh: no such file or directory"], containers=_app(255))
    assert script.pattern == "container-start-failed"
    assert "CRLF" in _fix(script) and "/app/entrypoint.sh" in _fix(script)
    # Near miss: a compiled binary has no #! line, so line endings are not offered.
    binary = run(["exec /usr/local/bin/server: no such file or directory"], containers=_app(255))
    assert binary.pattern == "container-start-failed" and "CRLF" not in _fix(binary)
    # Near miss: a published image's scripts are its maintainers'; no Dockerfile of the team's to convert them in.
    published = run(["exec /app/entrypoint.sh: no such file or directory"], containers=_app(255, "sonarqube:9-community"))
    assert published.pattern == "container-start-failed" and "CRLF" not in _fix(published)
