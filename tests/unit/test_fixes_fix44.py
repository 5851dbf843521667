"""fix44: review28's defects in fix42's rules, each probe now a plain test beside a near miss the fix must leave
alone: an NFS refusal is EFS's only when the message is EFS's; an app no health check reached listens on localhost only
when no banner shows it elsewhere; a local run of a mutable tag by the digest the task ran."""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from tests.unit.helpers import run
from tests.unit.patterns.common import failed_to_start

_DIGEST = "sha256:" + "ab" * 32
_KEYERROR = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
             '    key = os.environ["API_KEY"]', "KeyError: 'API_KEY'"]


def _app(image: str, name: str = "app", code: int = 1, digest: str = _DIGEST) -> dict[str, Any]:
    return {"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image, "imageDigest": digest}


def _repro_step(*containers: dict[str, Any], launch: str = "FARGATE") -> str:
    got = run(_KEYERROR, containers=list(containers), launchType=launch)
    return next(s for s in got.remediation if "docker run" in s)


# --- (c) a local run of a mutable tag by the digest the task ran ---------------------------------------------------


def test_the_tags_digest_now_is_read_in_the_registrys_region():
    step = _repro_step(_app("111122223333.dkr.ecr.eu-west-1.amazonaws.com/orders-api:dev"), launch="EC2")
    assert "--image-ids imageTag=dev --region eu-west-1" in step, step


def test_two_containers_of_one_image_get_the_note_once():
    step = _repro_step(_app("acme/api:latest"), _app("acme/api:latest", name="worker", code=143))
    assert step.count("It runs the image by the digest the task ran") == 1, step


def test_a_build_number_tag_is_not_pushed_again():
    assert not remedy.mutable_tag("a:dev-20240501")
    assert [r for r in ("a:20240501", "a:4711") if remedy.mutable_tag(r)] == []
    step = _repro_step(_app("acme/api:20240501"))
    assert "is pushed again" not in step, step


def test_a_major_with_a_variant_and_variant_only_tags_are_mutable():
    assert remedy.mutable_tag("node:18") and remedy.mutable_tag("node:latest-alpine")
    moving = ["node:18-alpine", "python:3-slim", "node:lts", "node:lts-slim", "nginx:alpine", "python:slim"]
    assert [r for r in moving if not remedy.mutable_tag(r)] == []


def test_near_miss_an_ecr_image_in_the_tasks_own_region_keeps_that_region():
    step = _repro_step(_app("111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:dev"), launch="EC2")
    assert "--image-ids imageTag=dev --region us-east-1 --query" in step, step


def test_near_miss_one_container_of_a_mutable_image_gets_the_note():
    step = _repro_step(_app("acme/api:latest"), _app("acme/worker:latest", name="worker", code=143,
                                                        digest="sha256:" + "cd" * 32))
    assert step.count("It runs the image by the digest the task ran") == 1, step
    assert "acme/api@" + _DIGEST in step, step


def test_near_miss_a_bare_major_is_still_mutable_and_a_version_with_a_variant_is_not():
    assert [r for r in ("node:18", "a:v2", "a:3.x", "a:dev", "node:18-alpine3.19") if not remedy.mutable_tag(r)] == []
    fixed = ["node:18.19.0-alpine", "python:3.12.1-slim", "a:alpine-20240501", "a:18-alpine-81f2c0d", "a:100",
             "a:lts-20240501"]
    assert [r for r in fixed if remedy.mutable_tag(r)] == []
    assert "is pushed again" in _repro_step(_app("acme/api:18-alpine"))


# --- (a) EFS "access denied by server": the volume's IAM authorization first --------------------------------------


def test_a_plain_nfs_servers_refusal_is_not_efs():
    reason = ("CannotCreateContainerError: Error response from daemon: VolumeDriver.Mount: netshare: mount.nfs: "
              "access denied by server while mounting 10.0.5.20:/exports/data")
    got = run([], **failed_to_start(reason, launchType="EC2"))
    assert got.pattern == "volume-mount-failed"
    text = " ".join(got.remediation)
    assert "The EFS server refused" not in text and "describe-file-system-policy" not in text, got.remediation[0]


def test_an_efs_utils_mount_to_a_mount_target_ip_had_no_tls_either():
    reason = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
              "b'mount.nfs4: access denied by server while mounting 10.0.1.23:/' : unsuccessful EFS utils command "
              "execution; code: 32")
    first = run([], **failed_to_start(reason)).remediation[0]
    assert "not through efs-utils' TLS tunnel" in first, first


_EFS_DENIED = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
               "b'mount.nfs4: access denied by server while mounting {at}' : unsuccessful EFS utils command "
               "execution; code: 32")


def test_a_plain_nfs_servers_refusal_names_its_export_list():
    reason = ("CannotCreateContainerError: Error response from daemon: VolumeDriver.Mount: netshare: mount.nfs: "
              "access denied by server while mounting 10.0.5.20:/exports/data")
    first = run([], **failed_to_start(reason, launchType="EC2")).remediation[0]
    assert "`10.0.5.20` refused to export `/exports/data`" in first and "showmount -e 10.0.5.20" in first, first


def test_near_miss_the_ecs_volume_plugins_efs_refusal_is_still_efs():
    # amazon-ecs-volume-plugin is the agent's EFS plugin on EC2: its refusal stays the file system policy's.
    reason = ("CannotCreateContainerError: Error response from daemon: VolumeDriver.Mount: amazon-ecs-volume-plugin: "
              "mount.nfs4: access denied by server while mounting 127.0.0.1:/")
    text = " ".join(run([], **failed_to_start(reason, launchType="EC2")).remediation)
    assert "The EFS server refused" in text and "describe-file-system-policy" in text, text


def test_near_miss_an_efs_utils_mount_through_the_tls_tunnel_is_not_plain_nfs():
    first = run([], **failed_to_start(_EFS_DENIED.format(at="127.0.0.1:/"))).remediation[0]
    assert first.startswith("The EFS server refused the mount: its file system policy") and "TLS tunnel" not in first


def test_an_efs_utils_mount_to_the_file_systems_name_still_names_it():
    first = run([], **failed_to_start(_EFS_DENIED.format(at="fs-0123abcd.efs.us-east-1.amazonaws.com:/"))).remediation[0]
    assert "it went to `fs-0123abcd`'s own address, not through efs-utils' TLS tunnel" in first, first
