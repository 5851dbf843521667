"""fix44: review28's defects in fix42's rules, each probe now a plain test beside a near miss the fix must leave
alone: an NFS refusal is EFS's only when the message is EFS's; an app no health check reached listens on localhost only
when no banner shows it elsewhere; a local run of a mutable tag by the digest the task ran."""

from __future__ import annotations

from tests.unit.helpers import run
from tests.unit.patterns.common import failed_to_start

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
