"""disk-full: task ephemeral storage or the host's Docker storage is exhausted."""

from __future__ import annotations

import pytest

from shared.patterns.disk_full import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited, failed_to_start

ID = "disk-full"
LAYER = ("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/86/fs/usr/local/lib/python3.10/"
         "site-packages/torch/lib/libtorch_cuda.so")

POSITIVES = [
    pytest.param([], failed_to_start("CannotPullContainerError: ref pull has been retried 1 time(s): failed to extract "
                                     f"layer sha256:7c524a86: write {LAYER}: no space left on device: unknown"),
                 {"path": LAYER, "storage": "task ephemeral storage", "during": "image pull (layer extraction)"},
                 id="fargate-layer-extraction"),
    pytest.param([], failed_to_start("CannotCreateContainerError: API error (500): devmapper: Thin Pool has 4350 free "
                                     "data blocks which is less than minimum required 4454 free data blocks. Create "
                                     "more free space in thin pool or use dm.min_free_space option to change behavior",
                                     launchType="EC2"),
                 {"path": "docker devicemapper thin pool", "storage": "host docker storage", "free_blocks": 4350,
                  "required_blocks": 4454}, id="ec2-devicemapper-thin-pool"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/dl.py", line 9, in <module>',
                  "    f.write(chunk)", "OSError: [Errno 28] No space left on device: '/tmp/model.bin'"], {},
                 {"path": "/tmp/model.bin", "storage": "task ephemeral storage"}, id="python-errno-28"),
    pytest.param(["Error: ENOSPC: no space left on device, open '/app/.next/cache/images/a.webp'",
                  "    at Object.openSync (node:fs:601:3)"], {}, {"path": "/app/.next/cache/images/a.webp"},
                 id="node-enospc"),
    pytest.param(["cp: error writing '/data/out.csv': No space left on device"], {}, {"path": "/data/out.csv"},
                 id="coreutils"),
    pytest.param(["java.io.IOException: No space left on device",
                  "\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)"], {},
                 {"storage": "task ephemeral storage"}, id="java-ioexception"),
    pytest.param(['ERROR:  could not write to file "base/pgsql_tmp/pgsql_tmp123.0": No space left on device'], {},
                 {"container": "app"}, id="postgres-temp-file"),
    pytest.param(["sqlite3.OperationalError: database or disk is full"], {}, {"container": "app"}, id="sqlite"),
    pytest.param(["write /var/log/app/app.log: no space left on device"], {"launchType": "EC2"},
                 {"path": "/var/log/app/app.log", "storage": "host docker storage"}, id="go-write-on-ec2"),
    pytest.param(["2022-06-23 09:50:41,498 ERROR: Exception when saving file: /pgdata/pg13/patroni.dynamic.json",
                  "OSError: [Errno 28] No space left on device", "",
                  "During handling of the above exception, another exception occurred:", "",
                  "Traceback (most recent call last):",
                  '  File "/usr/local/lib/python3.6/site-packages/patroni/config.py", line 167, in save_cache',
                  "    json.dump(self.dynamic_configuration, f)", "OSError: [Errno 28] No space left on device",
                  "2022-06-23 09:50:41,501 ERROR: Exception during execution of long running task",
                  "OSError: [Errno 28] No space left on device"],
                 {"launchType": "EC2"}, {"path": "/pgdata/pg13/patroni.dynamic.json"},
                 id="path-from-an-earlier-report-of-the-same-error"),
    pytest.param(['pwritev() "/usr/local/openresty/nginx/proxy_temp/3/00/0000000003" failed (28: No space left on '
                  'device) while reading upstream'], {"launchType": "FARGATE"},
                 {"path": "/usr/local/openresty/nginx/proxy_temp/3/00/0000000003", "storage": "task ephemeral storage"},
                 id="nginx-syscall-path-errno-28"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_disk_full_while_pulling_beats_image_pull_failed():
    finding = run([], **failed_to_start("CannotPullContainerError: failed to register layer: Error processing tar "
                                        "file(exit status 1): write /usr/lib/libLLVM-15.so.1: no space left on device"))
    assert finding.pattern == ID
    assert "image-pull-failed" in finding.also_matched
    assert "ephemeralStorage" in finding.remediation[0]


def test_remediation_reports_the_current_ephemeral_size():
    finding = run(["OSError: [Errno 28] No space left on device: '/tmp/x'"], ephemeralStorage={"sizeInGiB": 21})
    assert "(now 21 GiB)" in finding.remediation[0]


NEGATIVES = [
    pytest.param(['{"level":"warn","msg":"disk usage at 91%, no space left on device soon"}',
                  "Error: connect ECONNREFUSED 10.0.0.5:5432"], {}, "database-connection-failed", id="warn-level"),
    pytest.param(["java.lang.OutOfMemoryError: Java heap space"], {}, "out-of-memory", id="memory-not-disk"),
    pytest.param(["OSError: [Errno 30] Read-only file system: '/app/data'"], {}, "app-crash", id="read-only-fs"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


JENKINS = ["2022-05-02 18:30:31.217+0000 [id=62411] WARNING h.n.AbstractDiskSpaceMonitor#markNodeOfflineIfDiskspace"
           "IsTooLow: Making fargate-agent-114 offline temporarily due to the lack of disk space"]


def test_a_low_disk_warning_as_the_last_word_explains_even_a_user_stop():
    detail = {"stoppedReason": "Task stopped by user", "stopCode": "UserInitiated", "launchType": "FARGATE",
              "containers": [{"name": "jnlp", "exitCode": 143, "lastStatus": "STOPPED"}]}
    assert_finding(run(JENKINS, **detail), ID, {"container": "jnlp", "storage": "task ephemeral storage"})


def test_the_last_word_is_found_behind_a_sidecars_long_log_and_absent_without_a_line_of_its_own():
    """The walk back to the failing container's last line passes a sidecar's long log (pasted `aws logs tail`
    lines, each read for its container); a container with no line at all in it has no last word to find."""
    tail = "2022-05-02T18:30:31.217000+00:00 jenkins/{c}/0123456789abcdef0123456789abcdef {m}"
    detail = {"stoppedReason": "Task stopped by user", "stopCode": "UserInitiated", "launchType": "FARGATE",
              "containers": [box(143, "jnlp"), box(0, "envoy")]}
    sidecar = [tail.format(c="envoy", m=f"[info] upstream ok {n}") for n in range(3000)]
    behind = [tail.format(c="jnlp", m=JENKINS[0][31:]), *sidecar]
    assert_finding(run(behind, **detail), ID, {"container": "jnlp"})
    alone = [tail.format(c="envoy", m=JENKINS[0][31:]), *sidecar]  # the warning is the sidecar's: not jnlp's last word
    assert PATTERN.match(evidence(alone, **detail)) is None


def test_a_low_disk_warning_earlier_in_the_log_is_not_the_cause():
    detail = {"stoppedReason": "Task stopped by user", "stopCode": "UserInitiated",
              "containers": [{"name": "jnlp", "exitCode": 143, "lastStatus": "STOPPED"}]}
    logs = [*JENKINS, "INFO agent back online: disk space freed", "INFO build #42 finished"]
    assert PATTERN.match(evidence(logs, **detail)) is None
    assert run(logs, **detail).pattern == "expected-stop"


def test_a_low_disk_warning_that_stops_nothing_does_not_explain_the_stop():
    scale_in = {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234)",
                "stopCode": "ServiceSchedulerInitiated", "containers": [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}]}
    assert run(["2024-05-01 WARN Low disk space on /data: 9% free"], **scale_in).pattern == "expected-stop"
    crash = {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}]}
    logs = ["Error: connect ECONNREFUSED 10.0.0.5:5432", "    at TCPConnectWrap.afterConnect (node:net:1278:16)",
            "WARN disk usage is almost full (92%)"]
    assert run(logs, **crash).pattern == "database-connection-failed"



def test_a_jenkins_agent_is_changed_in_its_agent_template_not_run_again():
    line = ("2022-05-02 18:30:31.217+0000 [id=62411] WARNING h.n.AbstractDiskSpaceMonitor#"
            "markNodeOfflineIfDiskspaceIsTooLow: Making fargate-test-114-4k591r-v7200 offline temporarily due to "
            "the lack of disk space")
    finding = run([line], launchType="FARGATE", group="family:fargate-test", startedBy="jenkins-amazon-ecs-plugin",
                  containers=[box(143, "jnlp", image="jenkins/inbound-agent:4.13-2-jdk11")],
                  ephemeralStorage={"sizeInGiB": 20})
    assert_finding(finding, ID)
    text = " ".join(finding.remediation)
    assert "run-task" not in text and "agent template" in text, text


@pytest.mark.parametrize(("logs", "data_path"), [
    (["ERROR: Exception when saving file: /pgdata/main/patroni.dynamic.json",
      "OSError: [Errno 28] No space left on device"], True),
    (["OSError: [Errno 28] No space left on device"], False),
])
def test_a_full_data_path_on_ec2_finds_its_file_system_before_blaming_docker_storage(logs, data_path):
    """A named path on EC2: which file system holds it (mountPoints, df) first; near miss: no path keeps the
    Docker storage step first."""
    f = run(logs, **exited(1), launchType="EC2")
    if f.pattern != "disk-full":
        pytest.skip(f.pattern)
    assert ("mountPoints" in f.remediation[0]) == (data_path and bool(f.facts.get("path"))), f.remediation
    if not f.facts.get("path"):
        assert "docker system df" in f.remediation[0]


@pytest.mark.parametrize("path", ["/var/lib/postgresql/data/base/16384/2619", "/pgdata/main/pg_wal/000000010000",
                                  "/data/wal/00001900"])
def test_a_full_data_directory_grows_its_volume_not_the_image_cache(path):
    logs = [f"OSError: [Errno 28] No space left on device: '{path}'"]
    finding = run(logs, launchType="EC2", attachments=[])
    fix = "\n".join(finding.remediation)
    assert "mountPoints" in finding.remediation[0] and "write-ahead log" in fix
    assert "docker system df" not in fix and "ECS_IMAGE_CLEANUP" not in fix and "du -xh" not in fix
    assert "docker storage" not in finding.summary.lower()


def test_near_miss_temp_files_on_an_instance_keep_the_docker_storage_advice():
    logs = ["OSError: [Errno 28] No space left on device: '/tmp/upload-1/part.bin'"]
    finding = run(logs, launchType="EC2", attachments=[])
    fix = " ".join(finding.remediation)
    # /tmp is no data directory: the Docker storage stays in the advice (after finding the file system behind it)
    assert "docker system df" in fix and "not Docker's image cache" not in fix


def test_the_biggest_writers_are_looked_for_where_the_data_was_written_not_in_a_fresh_container():
    """A fresh container of the image has written nothing: `du` there lists the image's own files. The step
    runs du in a copy that did the work (near miss: the du command itself is still offered)."""
    finding = run(["ERROR: write /workspace/build.log: no space left on device"], launchType="FARGATE")
    assert finding.pattern == "disk-full"
    fix = "\n".join(finding.remediation)
    assert "du -xh /" in fix
    assert "docker run" not in " ".join(s for s in finding.remediation if "du -xh" in s)


def test_a_full_thin_pool_never_created_the_container_so_no_app_path_or_mount_steps():
    """CannotCreateContainerError / thin pool: `docker info` (not df), no mountPoints / 'what grew' / app-writes
    steps. Near miss: an app that wrote a named path and hit ENOSPC keeps the mountPoints step."""
    f = run([], **failed_to_start("CannotCreateContainerError: API error (500): devmapper: Thin Pool has 812 free "
                                  "data blocks which is less than minimum required 4454 free data blocks. Create "
                                  "more free space in thin pool or use dm.min_free_space option to change behavior"))
    assert f.pattern == "disk-full"
    fix = "\n".join(f.remediation)
    assert "812 free blocks" in f.remediation[0] and "docker info" in fix
    assert "mountPoints" not in fix and "WAL" not in fix and "If the application fills" not in fix, fix
    assert "never created" in f.title
    near = run(["OSError: [Errno 28] No space left on device: '/var/cache/app/blob.bin'"], **exited(1),
               launchType="EC2")
    assert near.pattern == "disk-full" and "mountPoints" in "\n".join(near.remediation)
    assert "never created" not in near.title


def test_fargate_before_platform_1_4_has_fixed_10_gb_so_move_the_platform_first():
    reason = f"CannotPullContainerError: failed to register layer: write {LAYER}: no space left on device"
    old = run([], **failed_to_start(reason, launchType="FARGATE", platformVersion="1.3.0"))
    assert old.pattern == ID and "1.3.0" in old.remediation[0] and "10 GB" in old.remediation[0]
    assert "1.4.0" in old.remediation[0] and "now 20 GiB" not in old.remediation[0]
    # Near miss: on platform 1.4.0 the ephemeral storage is raised directly.
    new = run([], **failed_to_start(reason, launchType="FARGATE", platformVersion="1.4.0"))
    assert new.remediation[0].startswith("Raise the task's ephemeral storage") and "10 GB" not in new.remediation[0]
