"""fix42: the dev33 remediation faults fix41 left: an EFS mount the file system policy refused leads with the
volume's IAM authorization and reads its efsVolumeConfiguration; an app no health check ever reached is told to
listen on 0.0.0.0; a local reproduction of a mutable tag runs the digest the task ran."""

from __future__ import annotations

from tests.support.fixcheck import problems
from tests.unit.helpers import run
from tests.unit.patterns.common import failed_to_start


def _clean(finding) -> bool:
    return not [p for ps in problems(finding).values() for p in ps]


# (3) EFS refused by the server: the volume's IAM authorization first, with the command that shows it

_EFS = "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
_BY_SERVER = "b'mount.nfs4: access denied by server while mounting {at}' : unsuccessful EFS utils command execution; code: 32"


def test_an_efs_mount_refused_through_the_tls_tunnel_leads_with_iam_authorization():
    got = run([], **failed_to_start(_EFS + _BY_SERVER.format(at="127.0.0.1:/")))
    first, second = got.remediation[:2]
    assert got.pattern == "volume-mount-failed"
    assert ("aws ecs describe-task-definition --task-definition orders-api:12 --region us-east-1 --query "
            "'taskDefinition.{taskRoleArn: taskRoleArn, volumes: volumes[?efsVolumeConfiguration]}'") in first
    assert first.index('"iam": "ENABLED"') < first.index("--task-definition orders-api --force-new-deployment")
    assert "ClientMount" not in first and "elasticfilesystem:ClientMount" in second
    # the file system id the message does not give is read from the task definition for the policy command
    assert 'fs=$(aws ecs describe-task-definition' in second and '--file-system-id "$fs"' in second
    assert _clean(got)


def test_an_efs_mount_to_the_file_systems_own_name_had_no_tls_so_no_iam():
    got = run([], **failed_to_start(_EFS + _BY_SERVER.format(at="fs-0a1b2c3d4e5f60718.efs.us-east-1.amazonaws.com:/")))
    first, second = got.remediation[:2]
    assert "not through efs-utils' TLS tunnel" in first and "If `authorizationConfig.iam`" not in first
    assert "volumes[?efsVolumeConfiguration.fileSystemId=='fs-0a1b2c3d4e5f60718']" in first
    assert "aws efs describe-file-system-policy --file-system-id fs-0a1b2c3d4e5f60718 --region us-east-1" in second
    assert _clean(got)


def test_a_masked_file_system_id_is_not_used_as_a_filter():
    logs = ["ERROR - Failed to mount fs-079584105417exxxx.efs.us-east-1.amazonaws.com at /var/www: returncode=32"]
    got = run(logs, **failed_to_start(_EFS + _BY_SERVER.format(at="127.0.0.1:/")))
    assert "fs-079584105417exxxx'" not in " ".join(got.remediation)
    assert "volumes[?efsVolumeConfiguration]" in got.remediation[0]


def test_near_miss_a_refusal_naming_the_role_keeps_the_role_grant_first():
    # IAM authorization was on (the server names the role and the action): the role's grant is what is missing.
    reason = _EFS + _BY_SERVER.format(at="127.0.0.1:/") + (" User: arn:aws:sts::111122223333:assumed-role/app-task/abc"
                                                          " is not authorized to perform: elasticfilesystem:ClientMount")
    got = run([], **failed_to_start(reason))
    assert got.remediation[0].startswith("Allow the TASK role `elasticfilesystem:ClientMount`")


def test_near_miss_a_read_only_efs_mount_keeps_the_old_advice():
    got = run([], **failed_to_start(_EFS + "mount.nfs4: read-only file system while mounting 127.0.0.1:/ : "
                                           "unsuccessful EFS utils command execution; code: 32"))
    assert "describe-file-system-policy" not in " ".join(got.remediation)
    assert "elasticfilesystem:ClientMount" in got.remediation[0]


# (4) health checks failed and not one request reached an app that started: it may listen on localhost only

def _hc(logs: list[str], code: int | None = 143, image: str | None = None):
    from tests.unit.patterns.common import elb_failed

    detail = elb_failed(code)
    if image:
        detail["containers"][0]["image"] = image
    return run(logs, **detail)


def _loopback(steps: list[str]) -> list[int]:
    return [n for n, s in enumerate(steps) if "Make it listen on `0.0.0.0" in s]


def test_an_app_that_started_and_saw_no_request_may_listen_on_localhost():
    got = _hc(["INIT"], image="denoland/deno:alpine-1.12.2")
    assert got.pattern == "health-check-failed"
    steps = got.remediation
    assert _loopback(steps) == [1] and steps[0].startswith("Compare the target group's health check")
    assert "its last line reads \u201cINIT\u201d" in steps[1] and "(exit 143)" in steps[1]
    assert 'oak `app.listen({ hostname: "0.0.0.0", port })`' in steps[1]
    # the container port no evidence gives is read from the task definition, and the local test follows
    assert "--query \"taskDefinition.containerDefinitions[?name=='app'].portMappings | [0]\"" in steps[1]
    assert "The local test below" in steps[1] and steps[2].startswith("Test locally")
    assert _clean(got)


def test_a_banner_naming_localhost_is_the_evidence_and_leads():
    got = _hc(["Listening on http://localhost:8000/"])
    steps = got.remediation
    assert _loopback(steps) == [0] and "says it listens on `localhost:8000`" in steps[0]
    assert "`0.0.0.0:" in steps[0] and "reads \u201cListening on http://localhost:8000/\u201d" in steps[0]
    assert _clean(got)


def test_near_miss_the_app_crashed_on_its_own():
    assert _loopback(_hc(["INIT"], code=1).remediation) == []


def test_near_miss_requests_reached_the_app():
    logs = ["INIT", '10.0.1.5 - - [01/May/2024:10:00:01 +0000] "POST /orders HTTP/1.1" 201 12 "-" "curl/8.0"']
    assert _loopback(_hc(logs).remediation) == []


def test_near_miss_a_banner_on_all_interfaces():
    assert _loopback(_hc(["Listening on http://0.0.0.0:8000/"]).remediation) == []


def test_near_miss_the_last_line_is_work_under_way():
    # still creating its pool when it was judged: a hang is as likely as an unreachable listener
    logs = ["2024-06-07 15:59:39,279 INFO [PersistenceManagerFactory] Creating transactional connection pool"]
    assert _loopback(_hc(logs).remediation) == []


def test_near_miss_an_error_in_the_log():
    assert _loopback(_hc(["INIT", "ERROR could not read /etc/app/config.yml"]).remediation) == []


def test_near_miss_no_log_at_all():
    assert _loopback(_hc([]).remediation) == []


# (7) a local run of a mutable tag runs the digest the task ran; on EC2 a cached image of the tag may be stale

_DIGEST = "sha256:" + "ab" * 32
_KEYERROR = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
             '    key = os.environ["API_KEY"]', "KeyError: 'API_KEY'"]


def _repro(image: str, digest: str | None = _DIGEST, launch: str = "FARGATE") -> str:
    box = {"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image}
    if digest:
        box["imageDigest"] = digest
    got = run(_KEYERROR, containers=[box], launchType=launch)
    assert _clean(got)
    return next(s for s in got.remediation if "docker run" in s)


def test_a_latest_tag_is_run_by_the_digest_the_task_ran():
    step = _repro("acme/api:latest")
    assert f"-e API_KEY acme/api@{_DIGEST}`" in step and "acme/api:latest" not in step
    assert "the digest the task ran (`sha256:abababababab…`): `:latest` is pushed again" in step
    assert "ECS_IMAGE_PULL_BEHAVIOR" not in step  # Fargate pulls every time


def test_on_ec2_the_stale_cached_image_is_named_with_the_tags_digest_now():
    step = _repro("acme/api:dev", launch="EC2")
    assert "`ECS_IMAGE_PULL_BEHAVIOR=prefer-cached` (or `once`)" in step
    assert "`docker buildx imagetools inspect acme/api:dev`" in step
    own = _repro("111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:staging", launch="EC2")
    assert "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api@sha256:" in own
    assert ("`aws ecr describe-images --repository-name orders-api --image-ids imageTag=staging --region us-east-1 "
            "--query 'imageDetails[0].imageDigest'`") in own


def test_near_miss_a_version_tag_keeps_its_tag():
    step = _repro("acme/api:1.4.2")
    assert "acme/api:1.4.2`" in step and "@sha256" not in step and "digest the task ran" not in step


def test_near_miss_no_digest_in_the_event_keeps_the_tag():
    step = _repro("acme/api:latest", digest=None)
    assert "acme/api:latest`" in step and "digest the task ran" not in step


def test_near_miss_a_branch_tag_with_a_commit_id_names_one_build():
    step = _repro("acme/api:main-81f2c0d")
    assert "acme/api:main-81f2c0d`" in step and "@sha256" not in step


def test_mutable_tags():
    from shared.remediation import mutable_tag

    moving = ["a:latest", "a", "a:dev", "a:staging", "a:1.4-SNAPSHOT", "a:main-arm64", "a:18", "a:latest-alpine",
              "a:prod"]
    fixed = ["a:1.4.2", "a:1.4.2-dev.3", "a:main-81f2c0d", "a:dev-20240501", "a:alpine-1.12.2", "a:1.0.0-beta",
             "a@sha256:" + "0" * 64, "a:3.12"]
    assert [r for r in moving if not mutable_tag(r)] == [] and [r for r in fixed if mutable_tag(r)] == []
