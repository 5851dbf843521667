"""fix44: review28's defects in fix42's rules, each probe now a plain test beside a near miss the fix must leave
alone: an NFS refusal is EFS's only when the message is EFS's; an app no health check reached listens on localhost only
when no banner shows it elsewhere; a local run of a mutable tag by the digest the task ran."""

from __future__ import annotations

from typing import Any

from shared import remediation as remedy
from shared.models.finding import Finding
from tests.unit.helpers import run
from tests.unit.patterns.common import elb_failed, failed_to_start


def _hc(logs: list[str], code: int | None = 143) -> Finding:
    return run(logs, **elb_failed(code))


def _loopback(steps: list[str]) -> list[int]:
    return [n for n, s in enumerate(steps) if "Make it listen on `0.0.0.0" in s]


# --- (b) an app no health check reached: listen on 0.0.0.0 --------------------------------------------------------


def test_a_local_and_network_banner_pair_is_no_localhost_only_server():
    got = _hc(["\u25b2 Next.js 14.2.3", "- Local:        http://localhost:3000",
               "- Network:      http://10.0.1.5:3000", "\u2713 Ready in 120ms"])
    assert not [s for s in got.remediation if "says it listens on `localhost:3000`" in s], got.remediation[0]


def test_nodes_ipv6_any_address_banner_is_all_interfaces():
    assert _loopback(_hc(["Server listening on :::3000", "ready"]).remediation) == []


def test_a_shutdown_line_after_sigterm_does_not_hide_a_localhost_banner():
    got = _hc(["Listening on http://localhost:8000/", "SIGTERM received, waiting for open connections to close"])
    assert _loopback(got.remediation) == [0], got.remediation[0]


def test_a_graceful_exit_0_after_ecs_stopped_it_counts_too():
    got = _hc(["Listening on http://localhost:3000", "SIGTERM received: closing HTTP server", "HTTP server closed"],
              code=0)
    assert _loopback(got.remediation) == [0], got.remediation[0]


def test_rails_started_get_is_a_request_that_reached_the_app():
    got = _hc(['Started GET "/" for 10.0.1.5 at 2024-05-01 10:00:01 +0000', "Processing by HomeController#index as HTML",
               "Redirected to http://10.0.1.5/users/sign_in", "Completed 302 Found in 3ms (ActiveRecord: 0.0ms)"])
    assert _loopback(got.remediation) == [], got.remediation[1]


def test_near_miss_a_local_banner_without_a_network_address_keeps_the_localhost_claim():
    # Vite without --host: its Network line names no address, so localhost is all it listens on.
    got = _hc(["VITE v5.2.0  ready in 300 ms", "\u279c  Local:   http://localhost:3000/",
               "\u279c  Network: use --host to expose"])
    assert _loopback(got.remediation) == [0], got.remediation[0]
    assert "says it listens on `localhost:3000`" in got.remediation[0]


def test_near_miss_a_loopback_address_banner_is_not_an_address_of_the_tasks():
    # Not "another address" that the load balancer reaches: it still leads with binding to 0.0.0.0.
    for banner in ("Server listening on [::1]:3000", "Listening on http://127.0.0.1:3000"):
        first = _hc([banner, "ready"]).remediation[0]
        assert first.startswith("Bind the server to all interfaces"), (banner, first)


def test_near_miss_a_start_up_line_before_the_sigterm_still_counts_as_starting():
    got = _hc(["Listening on http://localhost:8000/", "Waiting for database connection",
               "SIGTERM received, shutting down"])
    assert _loopback(got.remediation) == [], got.remediation[0]


def test_near_miss_exit_0_without_the_apps_own_shutdown_is_no_server_ecs_stopped():
    # A supervisor or runner that exits 0 on its own, no SIGTERM handling in the log.
    assert _loopback(_hc(["Listening on http://localhost:3000", "ready"], code=0).remediation) == []


def test_near_miss_a_rails_boot_with_no_request_still_gets_the_step():
    got = _hc(["* Puma version: 6.4.2", "* Listening on http://localhost:3000", "Use Ctrl-C to stop"])
    assert _loopback(got.remediation) != [], got.remediation


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
