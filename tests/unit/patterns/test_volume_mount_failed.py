"""volume-mount-failed: EFS, bind mounts and Docker volumes that could not be set up."""

from __future__ import annotations

import pytest

from shared.patterns.volume_mount_failed import PATTERN
from tests.support.fixcheck import problems
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, failed_to_start

ID = "volume-mount-failed"
EFS = "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "

POSITIVES = [
    pytest.param(EFS + "Failed to resolve \"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\" - check that your file "
                 "system ID is correct, and ensure that the VPC has an EFS mount target for this file system ID. See "
                 "https://docs.aws.amazon.com/console/efs/mount-dns-name for more detail. Attempting to lookup mount "
                 "target ip address using botocore. Failed to import necessary dependency botocore, please install "
                 "botocore first. : unsuccessful EFS utils command execution; code: 1",
                 {"cause": "network", "file_system": "fs-0123456789abcdef0"}, id="efs-no-mount-target-dns"),
    pytest.param(EFS + "Failed to resolve \"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com\" - check that your "
                 "file system ID is correct. Failed to describe mount targets: FileSystemNotFound",
                 {"cause": "not-found", "file_system": "fs-0123456789abcdef0"}, id="efs-file-system-deleted"),
    pytest.param(EFS + "b'mount.nfs4: Connection timed out' : unsuccessful EFS utils command execution; code: 32",
                 {"cause": "network"}, id="efs-nfs-timeout-security-group"),
    pytest.param(EFS + "b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' : unsuccessful EFS utils "
                 "command execution; code: 32", {"cause": "access-denied"}, id="efs-access-denied"),
    pytest.param(EFS + "b'mount.nfs4: access denied by server while mounting 127.0.0.1:/' User: arn:aws:sts::"
                 "111122223333:assumed-role/app-task/abc is not authorized to perform: elasticfilesystem:ClientMount "
                 "on the specified resource fs-0123456789abcdef0 fsap-0a1b2c3d4e5f60718",
                 {"cause": "access-denied", "file_system": "fs-0123456789abcdef0",
                  "access_point": "fsap-0a1b2c3d4e5f60718"}, id="efs-iam-clientmount"),
    pytest.param("CannotStartContainerError: Error response from daemon: invalid mount config for type \"bind\": bind "
                 "source path does not exist: /data/app", {"cause": "not-found", "volume": "/data/app"},
                 id="bind-source-missing"),
    pytest.param("CannotCreateVolumeError: Error response from daemon: create pgdata: VolumeDriver.Create: mounting "
                 "volume failed: rexray: no such volume", {"volume": "pgdata", "cause": "not-found"},
                 id="docker-volume-plugin"),
    pytest.param("CannotCreateContainerError: API error (500): create orders-data: VolumeDriver.Create: mounting "
                 "volume failed: rexray: timeout", {"volume": "orders-data"}, id="docker-volume-plugin-create"),
    pytest.param('CannotStartContainerError: API error (500): invalid header field value "oci runtime error: '
                 'container_linux.go:247: starting container process caused \\"process_linux.go:359: container init '
                 'caused \\\\\\"rootfs_linux.go:53: mounting \\\\\\"/etc/app.properties', {},
                 id="runc-mounting-into-rootfs"),
    pytest.param('CannotStartContainerError: API error (500): oci runtime error: container_linux.go:247: starting '
                 'container process caused "process_linux.go:359: container init caused \\"rootfs_linux.go:54: '
                 'mounting \\\\\\"/opt/conf/web\\\\\\" to rootfs \\\\\\"/var/lib/docker/overlay/9fe4/merged\\\\\\" at '
                 '\\\\\\"/var/lib/docker/overlay/9fe4/merged/etc/nginx/sites-enabled\\\\\\" caused \\\\\\"mkdir '
                 '/var/lib/docker/overlay/9fe4/merged/etc/nginx/sites-enabled: read-only file system\\\\\\"\\""',
                 {"volume": "/opt/conf/web"}, id="runc-bind-mount-escaped-quotes"),
    pytest.param("CannotCreateContainerError: Error response from daemon: create ecs-orders-4-shared-a1b2c3d4e5f6: "
                 "Post http://%2Frun%2Fdocker%2Fplugins%2Famazon-ecs-volume-plugin.sock/VolumeDriver.Mount: context "
                 "deadline exceeded", {"cause": "network"}, id="volume-plugin-mount-never-answered"),
    pytest.param("CannotCreateContainerError: Error response from daemon: failed to copy file info for "
                 "/var/lib/docker/volumes/ecs-orders-4-uploads-a1b2c3d4e5f6/_data: failed to chown "
                 "/var/lib/docker/volumes/ecs-orders-4-uploads-a1b2c3d4e5f6/_data: lchown "
                 "/var/lib/docker/volumes/ecs-orders-4-uploads-a1b2c3d4e5f6/_data: operation not permitted",
                 {"cause": "access-denied"}, id="copy-up-into-a-volume-refused-chown"),
    # The agent building Docker binds from mountPoints (HostConfigError): a host volume with no source path (here
    # the container path is the empty side), and a mount point naming a volume the task does not define.
    pytest.param("HostConfigError: Unable to resolve volume mounts; invalid path: web shared-data; /srv/data -> ",
                 {"volume": "shared-data", "container": "app"}, id="agent-bind-without-a-path"),
    pytest.param("HostConfigError: Invalid volume referenced: cache-vol", {"volume": "cache-vol"},
                 id="agent-mount-point-names-an-undefined-volume"),
    # Docker reads a source that is no absolute path as a named volume, and refuses the name.
    pytest.param('CannotCreateContainerError: Error response from daemon: create ../media/uploads: "../media/uploads" '
                 'includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. '
                 'If you intended to pass a host directory, use absolute path', {"volume": "../media/uploads"},
                 id="relative-source-path-read-as-a-volume-name"),
    # The volume driver a dockerVolumeConfiguration names is not on the instance.
    pytest.param('CannotCreateContainerError: Error response from daemon: create ecs-web-7-cache-9e8d7c6b5a: error '
                 'looking up volume plugin rexray/ebs: plugin "rexray/ebs" not found', {"cause": "not-found"},
                 id="volume-plugin-missing-on-the-instance"),
    # Fargate seeding a task volume with what the image holds at the mount path.
    pytest.param("CannotCreateVolumeError: unable mirror /var/lib/fargate/volumes/a1/data to /var/lib/fargate/volumes/b2"
                 "/data: failed to copy existing contents to task volume: input/output error", {},
                 id="fargate-copy-into-a-task-volume"),
]


@pytest.mark.parametrize(("reason", "facts"), POSITIVES)
def test_positive(reason, facts):
    assert_finding(run([], **failed_to_start(reason)), ID, facts)


def test_network_remediation_checks_mount_targets_and_nfs_port():
    finding = run([], **failed_to_start(POSITIVES[0].values[0]))
    assert "describe-mount-targets --file-system-id fs-0123456789abcdef0" in finding.remediation[0]
    assert "2049" in finding.remediation[0]


NEGATIVES = [
    pytest.param("Timeout waiting for network interface provisioning to complete.", "network-setup-failed",
                 id="eni-timeout"),
    pytest.param("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime "
                 "create failed: runc create failed: unable to start container process: exec: \"/entrypoint.sh\": "
                 "stat /entrypoint.sh: no such file or directory: unknown", "container-start-failed",
                 id="missing-entrypoint-file"),
    # chown refused while unpacking the image's own layers (user namespaces): the image store, not a task volume
    pytest.param("CannotCreateContainerError: Error response from daemon: failed to chown "
                 "/var/lib/docker/overlay2/4f1c2e0d9a8b/diff/app: lchown /var/lib/docker/overlay2/4f1c2e0d9a8b/diff/app: "
                 "operation not permitted", "platform-error", id="chown-in-the-image-store-not-a-volume"),
    pytest.param("CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write "
                 "/var/lib/docker/overlay2/x: no space left on device", "disk-full", id="disk-full-while-pulling"),
    # Another HostConfigError of the agent: the container's dockerConfig hostConfig is not valid JSON, no volume.
    pytest.param("HostConfigError: Unable to decode given host config: invalid character '}' looking for beginning "
                 "of object key string", "unknown", id="agent-host-config-not-json-is-no-volume"),

    # CannotCreateContainerError about the container itself (a name clash), not a volume: the platform.
    pytest.param('CannotCreateContainerError: Error response from daemon: Conflict. The container name '
                 '"/ecs-web-7-app-a1b2c3" is already in use by container "4f1c2e0d9a8b"', "platform-error",
                 id="container-name-conflict-is-no-volume"),
]


@pytest.mark.parametrize(("reason", "expected"), NEGATIVES)
def test_nearest_neighbour(reason, expected):
    detail = failed_to_start(reason)
    assert run([], **detail).pattern == expected
    assert PATTERN.match(evidence([], **detail)) is None


def test_the_file_system_is_taken_from_the_log_when_the_reason_names_only_the_mount_helper():
    reason = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
              "mount.nfs4: access denied by server while mounting 127.0.0.1:/ : unsuccessful EFS utils command "
              "execution; code: 32")
    logs = ["2022-05-02 09:48:59 CEST - ERROR - Failed to mount fs-079584105417exxxx.efs.eu-south-1.amazonaws.com at "
            "/var/www/media: returncode=32, stderr=\"b'mount.nfs4: access denied by server while mounting 127.0.0.1:/'\""]
    assert_finding(run(logs, **failed_to_start(reason)), ID, {"file_system": "fs-079584105417exxxx",
                                                              "cause": "access-denied"})


_EFS = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: "
        "mounting fs-0a1b2c3d.efs.us-east-1.amazonaws.com:{path} failed, reason given by server: No such file or "
        "directory")


def test_a_missing_efs_directory_is_created_and_no_host_path_is_offered_on_fargate():
    finding = run([], **failed_to_start(_EFS.format(path="/data/app")))
    fix = "\n".join(finding.remediation)
    assert "sudo mkdir -p /mnt/efs/data/app" in finding.remediation[0]
    assert "aws efs create-access-point --file-system-id fs-0a1b2c3d" in fix and "Path=/data/app" in fix
    assert "sourcePath" not in fix
    assert not [p for ps in problems(finding).values() for p in ps]


def test_near_miss_a_missing_access_point_root_reads_the_access_point_not_a_made_up_path():
    reason = _EFS.format(path="/") + " (access point fsap-0123456789abcdef0)"
    fix = "\n".join(run([], **failed_to_start(reason)).remediation)
    assert "describe-access-points --file-system-id fs-0a1b2c3d" in fix and "mkdir -p /mnt/efs/ " not in fix


def test_a_docker_volume_plugin_is_checked_on_the_host_not_from_the_subnets():
    """A Docker volume plugin failing on EC2: the plugin on the instance, not "reachable from the task's
    subnets"; near miss: an EFS timeout keeps the mount-target and NFS network advice."""
    reason = ("CannotCreateContainerError: Error response from daemon: create data: VolumeDriver.Create: docker-legacy: "
              "Create: data: failed: error getting volume")
    f = run([], **failed_to_start(reason, launchType="EC2"))
    text = "\n".join(f.remediation)
    assert f.pattern == ID and "docker-legacy" in f.remediation[0] and "docker plugin ls" in text, text
    assert "subnets" not in text
    text = "\n".join(run([], **failed_to_start(POSITIVES[0].values[0])).remediation)
    assert "2049" in text and "docker plugin" not in text


def test_a_masked_file_system_id_is_read_from_the_task_definition_into_a_variable():
    reason = _EFS.format(path="/grafana").replace("fs-0a1b2c3d", "fs-<some numbers>")
    finding = run([], **failed_to_start(reason))
    assert 'fs=$(aws ecs describe-task-definition' in finding.remediation[0]
    assert 'sudo mount -t efs "$fs":/ /mnt/efs' in finding.remediation[0] and "<some numbers>" not in finding.remediation[0]
    assert not [p for ps in problems(finding).values() for p in ps]


def test_a_missing_root_directory_on_an_existing_file_system_is_named():
    """"reason given by server: No such file or directory" for fs:/path: the file system exists, the directory
    does not: create it; near miss: a file system that does not exist keeps the exists/volumes check."""
    reason = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4:"
              " mounting fs-0123456789abcdef0.efs.us-east-1.amazonaws.com:/var/jenkins_home failed, reason given by "
              "server: No such file or directory")
    f = run([], **failed_to_start(reason))
    if f.facts.get("cause") != "not-found":
        pytest.skip(str(f.facts))
    assert "/var/jenkins_home" in f.remediation[0] and "mkdir" in f.remediation[0], f.remediation
    assert "sourcePath" not in "\n".join(f.remediation)


def test_copying_the_images_volume_contents_is_the_instance_not_a_task_volume_named_on():
    """'unable to copy contents to volume on host: ... deadline exceeded': no volume named "on", no volumes[] /
    file-system step; the instance's image store. Near miss: a named task volume keeps the volumes[] check."""
    from tests.unit.patterns.common import failed_to_start

    f = run([], **failed_to_start("CannotCreateVolumeError: unable to copy contents to volume on host: containerd: "
                                  "failed to get image reference: context deadline exceeded", launchType="EC2"))
    assert f.pattern == "volume-mount-failed" and "volume" not in f.facts
    fix = "\n".join(f.remediation)
    assert "VOLUME" in f.remediation[0] and "volumes[]" not in fix and "subnets" not in fix, fix
    near = run([], **failed_to_start("CannotCreateVolumeError: volume 'pgdata' could not be created", launchType="EC2"))
    assert near.facts.get("volume") == "pgdata" and "volumes[]" in "\n".join(near.remediation)


def test_near_miss_a_deadline_reading_the_image_is_no_network_cause():
    """A Go deadline counts as the network when the mount (or volume plugin) never answered; the runtime timing out
    on the image while copying its VOLUME contents is the instance, with no network cause."""
    f = run([], **failed_to_start("CannotCreateVolumeError: unable to copy contents to volume on host: containerd: "
                                  "failed to get image reference: context deadline exceeded", launchType="EC2"))
    assert f.pattern == ID and "cause" not in f.facts, f.facts


# runc's error cut where ECS clips a long reason, right after the rootfs_linux.go step (which mounts the task's
# volumes into the container): a mount failed, inferred, so less sure than a reason that says "mounting".
_CUT_HEAD = ("CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: "
             "OCI runtime create failed: container_linux.go:370: starting container process caused "
             "\"process_linux.go:459: container init caused \\\"")


@pytest.mark.parametrize("tail", [
    pytest.param("rootfs_linux.go:76", id="cut-after-the-line-number"),
    pytest.param("rootfs_linux.go:76\\\"\"", id="cut-with-its-closing-quotes"),
])
def test_a_reason_cut_at_the_rootfs_step_is_a_mount(tail):
    finding = run([], **failed_to_start(_CUT_HEAD + tail))
    assert_finding(finding, ID)
    assert finding.confidence < 0.7  # inferred from where the message stops
    assert "rootfs_linux.go:76" in finding.remediation[0] and "mountPoints" in finding.remediation[0]
    assert not [p for ps in problems(finding).values() for p in ps]


@pytest.mark.parametrize(("tail", "expected"), [
    # The same step, but the reason goes on to say it was not a mount: the runtime's own words decide.
    pytest.param("rootfs_linux.go:109: jailing process inside rootfs caused \\\\\\\"pivot_root invalid argument"
                 "\\\\\\\"\\\"\"", "container-start-failed", id="rootfs-step-that-says-pivot-root"),
    # Cut at another step of container init (not the rootfs one): nothing says a mount.
    pytest.param("process_linux.go:402: setting cgroup config", "container-start-failed", id="cut-at-another-step"),
])
def test_near_miss_a_rootfs_or_cut_reason_that_is_not_a_mount(tail, expected):
    detail = failed_to_start(_CUT_HEAD + tail)
    assert run([], **detail).pattern == expected
    assert PATTERN.match(evidence([], **detail)) is None


def test_volume_words_in_an_applications_log_are_not_a_mount_failure():
    """Near miss: Docker's volume-name refusal quoted in the app's own log (a CI job shelling out to docker) is
    not why ECS stopped the task: the pattern reads the stop reasons only."""
    logs = ['docker: Error response from daemon: create ./cache: "./cache" includes invalid characters for a local '
            'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed.']
    assert PATTERN.match(evidence(logs, stoppedReason="Essential container in task exited",
                                  containers=[{"name": "app", "exitCode": 125}])) is None


def test_no_english_word_is_taken_for_the_volume_of_a_task_volume_copy():
    f = run([], **failed_to_start("CannotCreateVolumeError: failed to copy existing contents to task volume unable to "
                                  "copy contents from the image /var/lib/fargate/volumes/v1: input/output error"))
    assert f.pattern == ID and "volume" not in f.facts, f.facts


def test_a_missing_plugin_of_another_kind_is_no_volume():
    """Near miss: Docker's same wording for a logging plugin that is not installed is not a volume failure."""
    reason = ('CannotStartContainerError: Error response from daemon: error looking up logging plugin '
              'grafana/loki-docker-driver: plugin "grafana/loki-docker-driver" not found')
    assert PATTERN.match(evidence([], **failed_to_start(reason))) is None


def test_a_missing_volume_plugin_is_fixed_on_the_instance_not_in_volumes():
    """The plugin, not the volume, was not found: start it on the instance (the ECS agent's own EFS plugin is a
    service); near miss: a volume a present plugin cannot find keeps the volumes[] check."""
    ecs = ('CannotCreateContainerError: Error response from daemon: create ecs-web-3-data-a1b2c3: error looking up volume '
           'plugin amazon-ecs-volume-plugin: plugin "amazon-ecs-volume-plugin" not found')
    fix = "\n".join(run([], **failed_to_start(ecs, launchType="EC2")).remediation)
    assert "systemctl enable --now amazon-ecs-volume-plugin" in fix and "volumes[]" not in fix, fix
    other = ecs.replace("amazon-ecs-volume-plugin", "rexray/ebs")
    fix = "\n".join(run([], **failed_to_start(other, launchType="EC2")).remediation)
    assert "`rexray/ebs`" in fix and "docker plugin ls" in fix and "systemctl" not in fix, fix
    near = run([], **failed_to_start("CannotCreateVolumeError: Error response from daemon: create pgdata: VolumeDriver."
                                     "Create: mounting volume failed: rexray: no such volume", launchType="EC2"))
    assert "volumes[]" in "\n".join(near.remediation) and "systemctl" not in "\n".join(near.remediation)


def test_a_relative_source_path_is_told_to_be_absolute():
    """Near miss: a valid volume name the driver cannot create gets no relative-path advice."""
    reason = ('CannotCreateContainerError: API error (500): create ./conf/app.ini: "./conf/app.ini" includes invalid '
              'characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed')
    fix = "\n".join(run([], **failed_to_start(reason, launchType="EC2")).remediation)
    assert "`./conf/app.ini` is not an absolute path" in fix and "sourcePath" in fix, fix
    near = run([], **failed_to_start("CannotCreateVolumeError: volume 'pgdata' could not be created", launchType="EC2"))
    assert "absolute path" not in "\n".join(near.remediation)
