"""dev26/dev27 grading: a start-up refusal on an insecure setting, an HTTP download that timed out, a Liquibase lock
left by a killed migration, a JVM heap fixed by an explicit -Xmx, a bind mount on a read-only host path. Each rule
comes with a near miss that keeps today's answer."""

from __future__ import annotations

from tests.unit.helpers import run
from tests.unit.patterns.common import failed_to_start

_ELB = {"stopCode": "ServiceSchedulerInitiated",
        "stoppedReason": "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:"
                         "111122223333:targetgroup/web/0123456789abcdef)",
        "containers": [{"name": "app", "exitCode": 0, "lastStatus": "STOPPED", "image": "acme/dash:2.1"}]}


# -- an app that refuses to start on a setting it names -------------------------------------------------------


def test_an_app_refusing_to_start_on_an_insecure_setting_names_the_variable_to_set():
    got = run(["[INFO] Booting worker with pid: 41", "Refusing to start due to insecure JWT_SIGNING_KEY",
               "[INFO] Worker exiting (pid: 41)"], **_ELB)
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "JWT_SIGNING_KEY"
    assert got.facts["insecure_default"] is True
    assert 'JWT_SIGNING_KEY="$(openssl rand -base64 42)"' in got.remediation[0]


def test_a_refusal_that_says_the_variable_is_not_set_is_a_plain_missing_variable():
    got = run(["refusing to start: ADMIN_API_TOKEN is not set"])
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "ADMIN_API_TOKEN"
    assert "insecure_default" not in got.facts


def test_a_warning_about_a_default_key_that_the_app_goes_on_with_is_no_missing_variable():
    got = run(["WARNING: A default JWT_SIGNING_KEY was detected, please override it.",
               "[INFO] Booting worker with pid: 41"], **_ELB)
    assert got.pattern == "health-check-failed"


# -- an HTTP download at start-up that timed out -----------------------------------------------------------


def test_an_orm_downloading_its_engine_over_https_that_times_out_is_blocked_egress():
    got = run(["Fetching query engine for linux-musl",
               "Error: request to https://engines.example-orm.dev/v5/linux-musl/query-engine.gz failed, "
               "reason: Socket connection timeout"],
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/api:1.0"}])
    assert got.pattern == "network-egress-blocked" and got.facts["host"] == "engines.example-orm.dev"
    # the prisma word in the line named no database connection
    got = run(["> Downloading Prisma engines for debian-openssl-3.0.x [ ] 0%Error: request to "
               "https://downloads.example.net/engines/query-engine.gz failed, reason: Socket connection timeout"],
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/api:1.0"}])
    assert got.pattern == "network-egress-blocked"
    joined = " ".join(got.remediation)
    assert "TCP 443" in joined and "when the image is built" in joined


def test_an_orm_timing_out_on_its_database_address_stays_a_database_failure():
    got = run(["prisma:error Can't reach database server at `orders-db.internal`:`5432`",
               "Error: P1001: Can't reach database server at `orders-db.internal`:`5432`"],
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/api:1.0"}])
    assert got.pattern == "database-connection-failed"


# -- a bind mount whose host path cannot be created on a read-only file system --------------------------------


def _mount(reason: str) -> list[str]:
    got = run([], **failed_to_start(reason, launchType="EC2"))
    assert got.pattern == "volume-mount-failed"
    return got.remediation


def test_a_bind_mount_source_on_a_read_only_host_path_moves_the_source_path_not_efs_advice():
    steps = _mount("CannotStartContainerError: Error response from daemon: error while creating mount source path "
                   "'/srv/reports/cache': mkdir /srv/reports: read-only file system")
    assert "`/srv/reports/cache`" in steps[0] and "sourcePath" in steps[0] and "findmnt -no OPTIONS -T /srv" in steps[0]
    assert "elasticfilesystem" not in " ".join(steps)


def test_a_mount_point_that_runc_cannot_make_in_a_read_only_container_root_is_made_in_the_image():
    steps = _mount('CannotStartContainerError: oci runtime error: rootfs_linux.go:54: mounting "/srv/conf" to rootfs '
                   '"/var/lib/docker/overlay2/ab12/merged" at "/var/lib/docker/overlay2/ab12/merged/etc/app/conf.d" '
                   'caused "mkdir /var/lib/docker/overlay2/ab12/merged/etc/app/conf.d: read-only file system"')
    assert "RUN mkdir -p /etc/app/conf.d" in steps[0] and "readonlyRootFilesystem" in steps[0]
    assert "elasticfilesystem" not in " ".join(steps)


def test_an_efs_mount_refused_by_the_server_keeps_the_iam_advice():
    steps = _mount("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
                   "mount.nfs4: access denied by server while mounting 127.0.0.1:/ : unsuccessful EFS utils command "
                   "execution; code: 32")
    # fix42: the volume's IAM authorization leads (what must change first), the role's grant follows
    assert '"iam": "ENABLED"' in steps[0] and "elasticfilesystem:ClientMount" in steps[1]


# -- a start-up waiting on a Liquibase lock left by a killed migration ------------------------------------------


def _elb(logs: list[str], image: str = "acme/identity:24.0") -> list[str]:
    got = run(logs, **{**_ELB, "containers": [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED",
                                                "image": image}]})
    assert got.pattern == "health-check-failed"
    return got.remediation


def test_a_start_up_waiting_for_liquibases_changelog_lock_releases_the_stale_lock_first():
    steps = _elb(["INFO  [org.acme.connections.jpa] Database info: PostgreSQL 15.4",
                  "INFO  [liquibase.lockservice] Waiting for changelog lock....",
                  "INFO  [liquibase.lockservice] Waiting for changelog lock...."])
    assert "DATABASECHANGELOGLOCK SET LOCKED=FALSE" in steps[0] and "liquibase release-locks" in steps[0]
    assert "grace period" in steps[0]


def test_an_app_with_its_own_release_command_gets_it_as_a_one_off_task():
    steps = _elb(["INFO db.liquibase :: Database has unrun migrations. Waiting for migration lock to be cleared..."],
                 image="metabase/metabase:v0.47.2")
    assert '"command":["migrate","release-locks"]' in steps[0] and "DATABASECHANGELOGLOCK" in steps[0]


def test_a_migration_lock_wait_with_no_liquibase_evidence_or_one_that_ended_keeps_todays_step():
    for logs in (["Running migrations", "Waiting for migration lock held by another instance..."],
                 ["INFO [liquibase.lockservice] Waiting for changelog lock....",
                  "INFO [liquibase.lockservice] Successfully acquired change log lock",
                  "INFO [liquibase.changelog] Running Changeset: db/changelog/042-add-index.xml"]):
        steps = _elb(logs)
        assert "DATABASECHANGELOGLOCK" not in " ".join(steps)
        assert steps[0].startswith("Compare the target group's health check")


# -- a JVM heap fixed by an explicit -Xmx ---------------------------------------------------------------------

_HEAP = ["java.lang.OutOfMemoryError: Java heap space", "\tat java.util.Arrays.copyOf(Arrays.java:3332)"]


def _heap(logs: list[str], memory: str = "4096") -> list[str]:
    got = run(logs, memory=memory, cpu="1024",
              containers=[{"name": "worker", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/etl:3.2"}])
    assert got.pattern == "out-of-memory"
    return got.remediation


def test_a_heap_error_under_an_explicit_xmx_below_the_limit_raises_xmx_not_the_task_memory():
    steps = _heap(["JAVA_OPTS=-Xms256m -Xmx1g -XX:+UseG1GC", *_HEAP])
    assert "`-Xmx1g` (`JAVA_OPTS`" in steps[0] and "raising the task's memory alone changes nothing" in steps[0]
    assert "`-Xmx3072m`" in steps[0]
    assert not any("at least" in s and "MiB" in s for s in steps)


def test_an_xmx_at_or_above_the_limit_is_lowered_to_three_quarters_of_it():
    steps = _heap(["exec java -Xmx6g -jar /app/etl.jar", *_HEAP])
    assert "at or above the container's 4096 MiB" in steps[0] and "`-Xmx3072m`" in steps[0]


def test_a_heap_error_without_an_explicit_xmx_keeps_the_max_ram_percentage_step():
    steps = _heap(_HEAP)
    assert "MaxRAMPercentage=75.0" in steps[0] and "explicit" not in steps[0]
