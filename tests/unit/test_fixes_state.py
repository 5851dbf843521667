"""Fix steps gated on the task's state, launcher and platform: each test has the case the gate is for and a near
miss just across the line that keeps the old step."""

from __future__ import annotations

import dataclasses

from shared.engine import diagnose
from shared.evidence.model import TaskDefinitionFacts
from tests.unit.helpers import evidence, run

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def test_a_task_that_never_started_gets_no_log_stream_step():
    never = run([], stopCode="TaskFailedToStart", stoppedReason="Task failed to start",
                containers=[{"name": "app", "lastStatus": "STOPPED", "image": _ECR}])
    assert never.pattern == "unknown"
    assert "log stream" not in _fix(never) and "aws ecs describe-tasks" in never.remediation[0]
    # Near miss: the container ran (it has an exit code) and left no log lines: its log stream is worth reading.
    ran = run([], containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR}])
    assert ran.pattern == "unknown" and "log stream" in ran.remediation[0]


def test_exit_0_in_a_service_is_not_nothing_to_fix():
    svc = run([], containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED", "image": _ECR}])
    assert svc.pattern == "expected-stop"
    assert "Nothing to fix" not in _fix(svc) and "exits 0" not in svc.summary
    assert "churn" in svc.remediation[0] and "command" in svc.remediation[0]
    assert "docker image inspect" in svc.remediation[0]
    # Near miss: the same exit 0 in a run-task job is its end.
    job = run([], group="family:orders-api", startedBy="ops",
              containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED", "image": _ECR}])
    assert job.pattern == "expected-stop" and job.remediation[0] == "Nothing to fix."


_CRASH = ["Starting worker", "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
          "ValueError: invalid literal for int() with base 10: 'abc'"]


def test_a_windows_task_gets_no_bash_or_linux_docker_repro():
    linux = run(_CRASH)
    assert linux.pattern == "app-crash" and "docker run" in _fix(linux)
    win = run(_CRASH, platformFamily="Windows_Server")
    assert win.pattern == "app-crash"
    assert "docker run" not in _fix(win) and "in bash" not in _fix(win)


_EXEC = 'standard_init_linux.go:228: exec user process caused: exec format error'


def test_a_bare_exec_format_error_on_x86_asserts_no_architecture():
    bare = run([_EXEC], containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR}])
    assert bare.pattern == "container-start-failed"
    # (fix29: the event shows no architecture, so both are named only as conditions; no switch to ARM64)
    assert '"cpuArchitecture": "ARM64"' not in _fix(bare) and "another CPU architecture than" not in _fix(bare)
    assert "docker image inspect --format '{{.Os}}/{{.Architecture}}'" in bare.remediation[0]
    assert "GOOS=linux" in _fix(bare)
    # Near miss: on an arm64 task the mismatch has evidence, and the architecture steps stay.
    arm = run([_EXEC], attributes=[{"name": "ecs.cpu-architecture", "value": "arm64"}],
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR}])
    assert arm.pattern == "container-start-failed" and "another CPU architecture" in arm.remediation[0]


_NO_CREDS = ["botocore.exceptions.NoCredentialsError: Unable to locate credentials"]
_TD = "arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12"


def _with_td(role: str | None):
    ev = evidence(_NO_CREDS)
    return diagnose(dataclasses.replace(ev, task_definition=TaskDefinitionFacts(arn=_TD, task_role_arn=role)))


def test_no_credentials_with_a_task_role_is_about_the_process_not_a_missing_role():
    has = _with_td("arn:aws:iam::111122223333:role/orders-task")
    assert has.pattern == "iam-access-denied" and "Create an IAM role" not in _fix(has)
    assert "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" in has.remediation[0]
    # Near miss: the task definition read has no task role: creating one is step 1.
    none = _with_td(None)
    assert none.remediation[0].startswith("Create an IAM role") and "taskRoleArn" in none.remediation[0]
    # Unread task definition: checked first, not assumed.
    offline = run(_NO_CREDS)
    assert "describe-task-definition" in offline.remediation[0] and "taskRoleArn" in offline.remediation[0]


def test_no_credentials_in_a_batch_job_points_at_the_job_definition_role():
    batch = run(_NO_CREDS, group="family:nightly",
                clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-nightly-0b8e2f61-44c1-3a9d-8e7b-61a2c9d4f310",
                startedBy="3c1d9e27-5f40-4a8b-b2d6-7e90a41f58c3")
    assert batch.pattern == "iam-access-denied"
    assert "jobRoleArn" in batch.remediation[0] and "aws batch describe-jobs --jobs 3c1d9e27" in batch.remediation[0]
    # Near miss: the same error in a plain ECS task names taskRoleArn, not a job definition.
    plain = run(_NO_CREDS, group="family:nightly", startedBy="ops")
    assert "jobRoleArn" not in _fix(plain) and "taskRoleArn" in plain.remediation[0]


_MONGO = ["MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"]


def test_a_sibling_container_on_localhost_is_advised_only_where_containers_share_it():
    bridge = run(_MONGO, launchType="EC2", attachments=[],
                 containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0a1b2c3d4e5f",
                 containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _ECR,
                              "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 8080,
                                                   "protocol": "tcp"}]}])
    assert bridge.pattern == "database-connection-failed"
    assert "container to the task" not in _fix(bridge) and "`links`" in bridge.remediation[0]
    # Near miss: on Fargate (awsvpc) the task's containers share localhost: a mongodb container of the task works.
    fargate = run(_MONGO)
    assert "add a mongodb container to the task" in fargate.remediation[0]


_NODE_MISSING = ["Error: Cannot find module '/usr/src/app/dist/worker.js'", "    at Module._resolveFilename (node:internal/modules/cjs/loader:1476:15)"]


def test_a_published_image_gets_no_rebuild_steps_for_a_missing_file():
    hub = run(_NODE_MISSING, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                          "image": "bitnami/node:latest"}])
    assert hub.pattern == "missing-dependency"
    assert "npm run build" not in _fix(hub) and "COPY" not in _fix(hub) and "Build and run the image" not in _fix(hub)
    assert "command" in hub.remediation[0] and "docker image inspect" in hub.remediation[0]
    # Near miss: a Docker Hub organisation's image may be the team's own: the command check is hedged and the
    # build advice stays as the alternative.
    org = run(_NODE_MISSING, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                                          "image": "someorg/worker:latest"}])
    assert org.remediation[0].startswith("If `someorg/worker:latest` is not built from your source")
    assert "docker image inspect" in org.remediation[0] and "npm run build" in org.remediation[1]
    # Near miss: the team's own ECR image keeps the build advice.
    own = run(_NODE_MISSING)
    assert own.pattern == "missing-dependency" and "npm run build" in own.remediation[0]


def test_no_credentials_names_the_aws_call_the_traceback_shows():
    tb = ["Traceback (most recent call last):", '  File "/app/main.py", line 12, in <module>',
          "    resp = client.get_parameter(Name=name, WithDecryption=True)",
          '  File "/usr/local/lib/python3.11/site-packages/botocore/client.py", line 553, in _api_call',
          "    return self._make_api_call(operation_name, kwargs)", *_NO_CREDS]
    got = run(tb)
    assert got.pattern == "iam-access-denied" and "`ssm:GetParameter`" in got.remediation[0]
    split = ["Traceback (most recent call last):", '  File "/app/job.py", line 29, in run', "    SecretId=secret_name",
             *_NO_CREDS]
    assert "`secretsmanager:GetSecretValue`" in run(split).remediation[0]
    # Near miss: an app's own snake_case function is not an AWS operation, so no call is named.
    own = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
           "    load_settings_from_cloud(name)", *_NO_CREDS]
    assert "the log shows it calling" not in run(own).remediation[0]


def _host_config(reason: str):
    return run([], launchType="EC2", stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited",
               containers=[{"name": "worker", "lastStatus": "STOPPED", "reason": reason,
                            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/worker:3"}])


def test_the_agents_host_config_error_is_a_task_definition_fix_not_a_log_to_read():
    empty = _host_config("HostConfigError: Unable to resolve volume mounts; invalid path: worker scratch;  -> /scratch")
    assert empty.pattern == "volume-mount-failed"
    assert "host.sourcePath" in empty.remediation[0] and "`scratch`" in empty.remediation[0]
    assert "volumes[?name=='scratch']" in empty.remediation[0]
    no_dst = _host_config("HostConfigError: Unable to resolve volume mounts; invalid path: worker scratch; /data -> ")
    assert "containerPath" in no_dst.remediation[0]
    ref = _host_config("HostConfigError: Invalid volume referenced: Scratch")
    assert ref.pattern == "volume-mount-failed" and "does not define" in ref.remediation[0]
    # Near miss: a volume failure without the agent's wording keeps the generic volumes/mountPoints check.
    other = _host_config("CannotCreateContainerError: Error response from daemon: error while mounting volume ''")
    assert "host.sourcePath" not in other.remediation[0]


def test_a_database_of_unknown_engine_is_not_named_twice():
    app = [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "orders:1"}]
    got = run(["SequelizeConnectionError: connect ETIMEDOUT", "    at Sequelize.connect (/app/node_modules/x.js:1:1)"],
              containers=app)
    assert got.pattern == "database-connection-failed" and "its database:" in got.summary
    assert "database database" not in got.summary
    # Near miss: a named engine keeps its name.
    pg = run(["psycopg2.OperationalError: could not connect to server: Connection timed out",
              '\tIs the server running on host "db.internal" (10.0.3.7) and accepting TCP/IP connections on port 5432?'],
             containers=app)
    assert "its postgres database at db.internal:5432" in pg.summary
