"""fix30: near misses for the review21 probes (tests/unit/test_review21_probes.py). Each block keeps today's answer
for the case next to the one the fix changed."""

from __future__ import annotations

from shared import remediation as remedy
from shared.patterns import connection
from shared.redact import redact
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import failed_to_start

# -- the refusal rule: "with" and a dash lead in only a qualified name ------------------------------------------


def test_a_refusal_with_a_dash_that_says_the_variable_is_not_set_is_a_plain_missing_variable():
    got = run(["refusing to start - ADMIN_API_TOKEN is not set"])
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "ADMIN_API_TOKEN"
    assert "insecure_default" not in got.facts


def test_a_refusal_with_an_unqualified_setting_or_no_setting_names_no_variable():
    for line in ("Refusing to start with MAX_WORKERS=0", "Refusing to start with the default workers",
                 "refusing to start - port 8080 already in use", "Starting with the default SECRET_KEY"):
        assert run([line]).pattern != "missing-env-var", line


# -- an explicit -Xmx: the value in force and the variable that holds it ----------------------------------------

_HEAP = ["java.lang.OutOfMemoryError: Java heap space", "\tat java.util.Arrays.copyOf(Arrays.java:3332)"]


def _heap(logs: list[str]) -> list[str]:
    got = run(logs, memory="4096", cpu="1024",
              containers=[{"name": "worker", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/etl:3.2"}])
    assert got.pattern == "out-of-memory"
    return got.remediation


def test_xmx_picked_up_from_underscore_java_options_names_that_variable():
    steps = _heap(["Picked up _JAVA_OPTIONS: -XX:+UseG1GC -Xmx1g", *_HEAP])
    assert "`-Xmx1g` (`_JAVA_OPTIONS`" in steps[0]


def test_an_assignment_before_a_command_line_is_not_the_variable_holding_its_xmx():
    # MODE=prod sets MODE; the -Xmx is an argument of the java command that follows, not MODE's value.
    steps = _heap(["MODE=prod exec java -Xmx1g -jar app.jar", *_HEAP])
    assert "`MODE`" not in steps[0] and "the command line" in steps[0]


def test_a_system_property_assignment_inside_the_options_is_not_the_variable():
    steps = _heap(['JAVA_OPTS="-DLOG_LEVEL=info -Xmx1g"', *_HEAP])
    assert "`-Xmx1g` (`JAVA_OPTS`" in steps[0] and "LOG_LEVEL" not in steps[0]


def test_one_xmx_with_a_variable_after_it_keeps_the_variable_that_holds_it():
    steps = _heap(["JAVA_OPTS=-Xms256m -Xmx1g LOG_LEVEL=info", *_HEAP])
    assert "`-Xmx1g` (`JAVA_OPTS`" in steps[0] and "LOG_LEVEL" not in steps[0]


# -- the Kafka receive-buffer step: only from the heap error's own trace ----------------------------------------


def test_a_kafka_receive_frame_in_the_heap_errors_own_trace_keeps_the_receive_buffer_step():
    steps = _heap(["JAVA_OPTS=-Xmx1g", "java.lang.OutOfMemoryError: Java heap space",
                   "\tat java.nio.HeapByteBuffer.<init>(HeapByteBuffer.java:57)",
                   "\tat org.apache.kafka.common.memory.MemoryPool$1.tryAllocate(MemoryPool.java:30)"])
    assert "Kafka client's receive buffer" in steps[1]


# -- a Liquibase lock wait ends with a later started/listening line ---------------------------------------------

_ELB = {"stopCode": "ServiceSchedulerInitiated",
        "stoppedReason": "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:"
                         "111122223333:targetgroup/web/0123456789abcdef)",
        "containers": [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED", "image": "acme/identity:24.0"}]}


def test_a_web_server_started_before_the_lock_wait_does_not_end_it():
    # Jetty launched first, then the migration waits: the newest word is still the wait.
    got = run(["INFO  [org.eclipse.jetty.server.Server] Started Server@5a2e4553 in 812ms",
               "INFO  Listening on: http://0.0.0.0:3000",
               "INFO  [liquibase.lockservice] Waiting for changelog lock....",
               "INFO  [liquibase.lockservice] Waiting for changelog lock...."], **_ELB)
    assert got.pattern == "health-check-failed"
    assert "DATABASECHANGELOGLOCK SET LOCKED=FALSE" in got.remediation[0]


def test_a_lock_wait_followed_by_a_spring_started_line_is_not_the_cause():
    got = run(["INFO  [liquibase.lockservice] Waiting for changelog lock....",
               "INFO  o.s.b.StartupInfoLogger : Started IdentityApplication in 84.113 seconds (JVM running for 86.2)"],
              **_ELB)
    assert "DATABASECHANGELOGLOCK" not in " ".join(got.remediation)


# -- the "downloads each time it starts" step: only for a download at start-up ----------------------------------

_DOWNLOAD = ["> Downloading Prisma engines for debian-openssl-3.0.x [ ] 0%Error: request to "
             "https://downloads.example.net/engines/query-engine.gz failed, reason: Socket connection timeout"]
_APP = {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/api:1.0"}]}


def _egress(logs: list[str], **detail: object) -> str:
    got = run(logs, **{**_APP, **detail})
    assert got.pattern == "network-egress-blocked"
    return " ".join(got.remediation)


def test_a_download_in_a_task_that_ran_two_minutes_is_a_start_up_download():
    steps = _egress(_DOWNLOAD, startedAt="2024-05-01T02:00:00Z", stoppingAt="2024-05-01T02:02:00Z",
                    stoppedAt="2024-05-01T02:02:30Z")
    assert "each time it starts" in steps and "when the image is built" in steps


def test_a_download_after_hours_of_running_is_not_a_start_up_download():
    steps = _egress(_DOWNLOAD, startedAt="2024-05-01T02:00:00Z", stoppingAt="2024-05-01T09:58:00Z",
                    stoppedAt="2024-05-01T09:59:00Z")
    assert "each time it starts" not in steps


def test_a_download_after_the_app_answered_requests_is_not_a_start_up_download():
    steps = _egress(['10.0.1.7 - - "GET /invoices/42 HTTP/1.1" 200 512', *_DOWNLOAD])
    assert "each time it starts" not in steps


# -- volume mounts: a denied host directory, a containerd rootfs mount point ------------------------------------


def _mount(reason: str, launch: str = "EC2") -> list[str]:
    got = run([], **failed_to_start(reason, launchType=launch))
    assert got.pattern == "volume-mount-failed"
    return got.remediation


def test_a_denied_host_directory_that_stat_could_not_read_is_inspected_itself():
    # stat failed on a directory that exists: it is the one to inspect, not its parent.
    steps = _mount("CannotStartContainerError: Error response from daemon: error while creating mount source path "
                   "'/srv/reports/cache': stat /srv/reports: permission denied")
    assert "`ls -ldZ /srv/reports`" in steps[0]


def test_a_read_only_mount_point_under_a_containerd_v1_rootfs_is_made_in_the_image():
    steps = _mount('CannotStartContainerError: OCI runtime create failed: container_linux.go:349: starting container '
                   'process caused: rootfs_linux.go:58: mounting "/srv/conf" to rootfs at "/etc/app/conf.d" caused: '
                   'mkdir /run/containerd/io.containerd.runtime.v1.linux/moby/abc123/rootfs/etc/app/conf.d: '
                   'read-only file system: unknown')
    assert "RUN mkdir -p /etc/app/conf.d" in steps[0]
    assert "elasticfilesystem" not in " ".join(steps)


def test_a_read_only_efs_mount_on_fargate_keeps_the_efs_advice():
    # an EFS mount that failed read-only names no rootfs mount point: today's EFS advice stays
    steps = _mount("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
                   "mount.nfs4: read-only file system while mounting 127.0.0.1:/ : unsuccessful EFS utils command "
                   "execution; code: 32", launch="FARGATE")
    assert "elasticfilesystem:ClientMount" in " ".join(steps)


# -- a one-off's override whose program a shell entrypoint could not find ---------------------------------------

_ONE_OFF = {"group": "family:shop-db-prepare", "startedBy": "deploy-pipeline", "launchType": "FARGATE",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/shop-db-prepare:4",
            "stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited"}


def _rollout_of(logs: list[str], command: list[str], exit_code: int = 127) -> str:
    got = run(logs, containers=[{"name": "worker", "exitCode": exit_code, "lastStatus": "STOPPED"}],
              overrides={"containerOverrides": [{"name": "worker", "command": command}]}, **_ONE_OFF)
    return next(s for s in got.remediation if "aws ecs run-task" in s)


def test_an_override_whose_script_ran_and_then_missed_another_program_is_repeated():
    # the override's own program ran; what the shell could not find is a program the script execs
    rollout = _rollout_of(["/app/bin/ingest.sh: line 4: exec: gunicorn: not found"], ["/app/bin/ingest.sh"])
    assert '"command":["/app/bin/ingest.sh"]' in rollout


def test_a_not_found_line_for_the_override_without_exit_127_or_from_another_container_is_no_failed_override():
    for code, name in ((1, "worker"), (127, "sidecar")):
        ev = evidence({"sidecar": ["sh: exec: ingest-v2: not found"]} if name == "sidecar"
                      else ["warning: exec: ingest-v2: not found, retrying with the bundled copy"],
                      containers=[{"name": "worker", "exitCode": code, "lastStatus": "STOPPED"},
                                  {"name": "sidecar", "exitCode": 0, "lastStatus": "STOPPED"}],
                      overrides={"containerOverrides": [{"name": "worker", "command": ["ingest-v2"]}]}, **_ONE_OFF)
        assert "--overrides" in remedy.roll_out(ev), (code, name)


# -- redaction: a path as a secret setting's value is kept; secrets with slashes stay masked --------------------


def test_a_relative_or_home_path_to_a_credentials_file_is_kept():
    for text in ("CLIENT_SECRETS=./conf/client_secrets.json", "GOOGLE_APPLICATION_CREDENTIALS=~/.config/gcloud/adc.json",
                 "TLS_KEY=certs/server.pem"):
        assert redact(text) == text


def test_secrets_with_slashes_are_no_path_and_stay_masked():
    for text in ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS's documented example key
                 "API_SECRET=dGhpcy9pcy9hL3NlY3JldA/+xyz==",  # base64 with / and +
                 "DB_PASSWORD=s3cr3t/pa55/w0rd",  # slashes but no file type
                 "API_TOKEN=ab+c/d.json",  # a + is no path character
                 "secret: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"):
        out = redact(text)
        assert "[REDACTED]" in out and "K7MDENG" not in out and "pa55" not in out and "xyz==" not in out, text


def test_a_path_without_a_file_type_under_a_secret_key_stays_masked():
    # /run/secrets/db_password could as well be a secret made of path characters: no file type, no exception
    assert redact("DB_PASSWORD=/run/secrets/db_password") == "DB_PASSWORD=[REDACTED]"


# -- EADDRNOTAVAIL: Java's and urllib3's connect wordings are unreachable; a bind stays none ----------------------


def test_java_and_python_binds_that_cannot_assign_their_address_are_no_connection_failure():
    for line in ("java.net.BindException: Cannot assign requested address",
                 "OSError: [Errno 99] Cannot assign requested address",
                 "Error binding new connection listener on 10.0.7.9:9000: Cannot assign requested address"):
        assert connection.failure_cause(line) is None, line


def test_urllib3_new_connection_errors_keep_their_own_cause():
    assert connection.failure_cause("urllib3.exceptions.NewConnectionError: Failed to establish a new connection: "
                                    "[Errno 111] Connection refused") == "refused"
    assert connection.failure_cause("java.net.NoRouteToHostException: No route to host (Host unreachable)") \
        == "unreachable"


# -- the unexpanded ${NAME} rule, now a linear scan: the answers it gave stay ------------------------------------


def test_an_unexpanded_placeholder_after_an_error_word_names_the_variable():
    for line in ("Invalid URL: ${DATABASE_URL}", "getaddrinfo ENOTFOUND ${DB_HOST}",
                 "`tpl` rendered; error connecting to ${DB_HOST}"):  # a backtick before the error word is no template
        got = run([line])
        assert got.pattern == "missing-env-var" and got.facts["variable"] in ("DATABASE_URL", "DB_HOST"), line


def test_placeholders_that_are_no_unexpanded_value_name_no_variable():
    for line in ("error: see `${DB_HOST}` in the template",  # quoted source code
                 "error ${DB_HOST} in `tpl`",  # a backtick after it
                 "${DB_HOST} resolved; no error",  # the placeholder before the error word
                 "error $${DB_HOST}", "error \\${DB_HOST}", "error${DB_HOST}",  # escaped, or part of a word
                 "error ${DB_HOST:-localhost}"):  # with a default
        assert run([line]).pattern != "missing-env-var", line
