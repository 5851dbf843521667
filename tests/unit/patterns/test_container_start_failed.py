"""container-start-failed: the process could not be started (architecture, entrypoint, permissions)."""

from __future__ import annotations

import pytest

from shared.patterns.container_start_failed import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, exited, failed_to_start

ID = "container-start-failed"
OCI = ("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create "
       "failed: runc create failed: unable to start container process: ")

POSITIVES = [
    pytest.param([], failed_to_start('CannotStartContainerError: ResourceInitializationError: failed to create new '
                                     'container runtime task: failed to create shim: OCI runtime create failed: '
                                     'container_linux.go:380: starting container process caused: exec: "-url": '
                                     'executable file not found in'),
                 {"cause": "entrypoint-not-found", "executable": "-url"}, id="reason-cut-before-PATH"),
    pytest.param(['standard_init_linux.go:190: exec user process caused "permission denied"'], exited(1),
                 {"cause": "permission"}, id="old-runc-quoted-permission-denied"),
    pytest.param([], failed_to_start(OCI + 'exec: "/app/start.sh": permission denied: unknown'),
                 {"cause": "permission", "executable": "/app/start.sh"}, id="oci-permission-denied"),
    pytest.param([], failed_to_start(OCI + 'exec: "uvicorn": executable file not found in $PATH: unknown'),
                 {"cause": "entrypoint-not-found", "executable": "uvicorn"}, id="oci-not-in-path"),
    pytest.param([], failed_to_start("CannotStartContainerError: ResourceInitializationError: failed to create new "
                                     "container runtime task: failed to create shim task: OCI runtime create failed: "
                                     "runc create failed: unable to start container process: exec: \"node\": "
                                     "executable file not found in $PATH: unknown"),
                 {"cause": "entrypoint-not-found", "executable": "node"}, id="fargate-containerd"),
    pytest.param(["exec /usr/local/bin/streamlit: exec format error"], {},
                 {"cause": "exec-format", "executable": "/usr/local/bin/streamlit",
                  }, id="exec-format-fargate-default"),
    pytest.param(["standard_init_linux.go:228: exec user process caused: exec format error"],
                 {"attributes": [{"name": "ecs.cpu-architecture", "value": "arm64"}]},
                 {"cause": "exec-format", "cpu_architecture": "arm64"}, id="exec-format-graviton"),
    pytest.param(["exec /docker-entrypoint.sh: no such file or directory"], {},
                 {"cause": "entrypoint-not-found", "executable": "/docker-entrypoint.sh"}, id="entrypoint-missing"),
    pytest.param(["/usr/bin/env: 'bash\\r': No such file or directory"], exited(127),
                 {"cause": "entrypoint-not-found", "crlf": True}, id="crlf-shebang"),
    pytest.param(["/bin/sh: 1: gunicorn: not found"], exited(127),
                 {"cause": "entrypoint-not-found", "executable": "gunicorn", "exit_code": 127}, id="sh-127"),
    pytest.param(["/usr/local/bin/docker-entrypoint.sh: exec: line 11: python: not found"], exited(127),
                 {"cause": "entrypoint-not-found", "executable": "python"}, id="entrypoint-script-exec-line"),
    pytest.param(["/bin/sh: 1: /app/run.sh: Permission denied"], exited(126),
                 {"cause": "permission", "exit_code": 126}, id="sh-126"),
    pytest.param([], exited(127), {"cause": "entrypoint-not-found", "exit_code": 127}, id="bare-exit-127"),
    pytest.param([], failed_to_start("CannotStartContainerError: API error (404): invalid header field value \"oci "
                                     "runtime error: container_linux.go:247: ",
                                     {"name": "php", "lastStatus": "STOPPED", "reason": "CannotStartContainerError: API "
                                      "error (404): oci runtime error: starting container process caused \\\"exec: "
                                      "\\\\\\\"apt-get update \\\\\\\\n && apt-get -y install php-memcached p"}),
                 {"container": "php", "cause": "entrypoint-not-found"}, id="shell-line-in-exec-form-cut-short"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_exec_format_remediation_rebuilds_for_the_task_architecture():
    finding = run(["exec /app/server: exec format error"], attributes=[{"name": "ecs.cpu-architecture",
                                                                          "value": "arm64"}])
    assert "docker buildx build --platform linux/arm64" in finding.remediation[0]
    assert '"cpuArchitecture": "X86_64"' in finding.remediation[1]


NEGATIVES = [
    pytest.param(["/app/server: error while loading shared libraries: libssl.so.1.1: cannot open shared object "
                  "file: No such file or directory"], exited(127), "missing-dependency", True,
                 id="missing-shared-library-is-a-dependency"),
    pytest.param(["FileNotFoundError: [Errno 2] No such file or directory: '/app/config.yaml'"], {}, "app-crash", False,
                 id="app-opens-a-missing-file"),
    pytest.param(["PermissionError: [Errno 13] Permission denied: '/var/log/app.log'"], {}, "app-crash", False,
                 id="app-writes-a-protected-file"),
    pytest.param([], failed_to_start("CannotStartContainerError: Error response from daemon: failed to initialize "
                                     "logging driver: failed to create Cloudwatch log stream: "
                                     "ResourceNotFoundException: The specified log group does not exist."),
                 "log-driver-failed", True, id="cannotstart-caused-by-logging-driver"),
    pytest.param([], failed_to_start("CannotStartContainerError: Error response from daemon: invalid mount config for "
                                     "type \"bind\": bind source path does not exist: /data/app"),
                 "volume-mount-failed", True, id="cannotstart-caused-by-bind-mount"),
    pytest.param(["/bin/sh: curl: not found", "/bin/sh: curl: not found"],
                 {"stoppedReason": "Task failed container health checks", "stopCode": "EssentialContainerExited",
                  "containers": [{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}]},
                 "container-health-check-failed", False, id="health-check-command-output-is-not-a-start-failure"),
    pytest.param([], failed_to_start("CannotStartContainerError: ResourceInitializationError: failed to create new "
                                     "container runtime task: failed to create shim task: OCI runtime create failed: "
                                     "runc create failed: unable to start container process: error during container "
                                     "init: error creating device nodes: mknod /run/rootfs/dev/null: errno 524: unknown"),
                 # It matches the start failure too; platform-error declares it outranks it (the runtime failed).
                 "platform-error", True, id="runtime-internal-failure-is-the-platform"),
]


@pytest.mark.parametrize(("logs", "detail", "expected", "fires"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected, fires):
    assert run(logs, **detail).pattern == expected
    assert (PATTERN.match(evidence(logs, **detail)) is not None) is fires


def test_exec_format_of_someone_elses_image_runs_it_where_it_was_built_and_never_pushes_to_it():
    detail = {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
                              "image": "onerahmet/openai-whisper-asr-webservice:latest"}],
              "attributes": [{"name": "ecs.cpu-architecture", "value": "arm64"}]}
    finding = run(["exec /app/server: exec format error"], **detail)
    fix = "\n".join(finding.remediation)
    assert '"cpuArchitecture": "X86_64"' in finding.remediation[0]
    assert "-t onerahmet/" not in fix and "docker image inspect" not in fix
    assert "-t 111122223333.dkr.ecr.us-east-1.amazonaws.com/onerahmet/openai-whisper-asr-webservice:latest" in fix


def test_an_unnamed_entrypoint_is_read_from_the_task_definition_so_the_probe_runs():
    """No `<the entrypoint ...>` in the probe: the first word of entryPoint (else command) is read first; near
    miss: a named executable is probed directly."""
    from shared.render import steps
    from tests.support.fixcheck import command_problems

    unnamed = ('CannotStartContainerError: Error response from daemon: OCI runtime create failed: container_linux.go:'
               '348: starting container process caused "exec: \\"docker-entrypoint.sh\\": executable file not found in '
               '$PATH": unknown')
    for reason, _named in ((unnamed, None), (OCI + 'exec: "uvicorn": executable file not found in $PATH: unknown',
                                            "uvicorn")):
        f = run([], **failed_to_start(reason))
        if f.facts.get("cause") != "entrypoint-not-found":
            continue
        rem = f.remediation
        assert not any(steps.placeholders(s) for s in rem), rem
        cmds = [c for s in rem for c in steps.commands(s)]
        assert all(command_problems(c) == [] for c in cmds), cmds
        exe = f.facts.get("executable")
        assert any(("command -v " + exe) in c if exe else '"command -v $exe"' in c for c in cmds), cmds
        assert any("entryPoint || command" in c for c in cmds) == (exe is None)


def test_a_windows_host_os_mismatch_is_a_version_mismatch_not_an_entrypoint_check():
    reason = ("CannotStartContainerError: Error response from daemon: hcsshim::CreateComputeSystem abc: The container "
              "operating system does not match the host operating system.")
    detail = {"stopCode": "TaskFailedToStart", "launchType": "EC2",
              "containers": [{"name": "app", "lastStatus": "STOPPED", "reason": reason,
                              "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/portal:4.8-ltsc2022"}]}
    finding = run([], **detail)
    assert "WINDOWS_SERVER_2022_CORE" in finding.remediation[0] and "docker run" not in finding.remediation[0]


def test_near_miss_an_unexplained_start_failure_keeps_the_local_run():
    detail = {"stopCode": "TaskFailedToStart",
              "containers": [{"name": "app", "lastStatus": "STOPPED", "image": "repo/app:1",
                              "reason": "CannotStartContainerError: Error response from daemon: failed to start"}]}
    finding = run([], **detail)
    assert finding.pattern == "container-start-failed"
    assert "docker run" in finding.remediation[0] and "WINDOWS_SERVER" not in finding.remediation[0]


@pytest.mark.parametrize(("launch", "external"), [("EXTERNAL", True), ("FARGATE", False)])
def test_an_external_host_compares_its_own_architecture_and_gets_no_runtime_platform(launch, external):
    """ECS Anywhere: uname -m on the host against the image, no runtimePlatform (it does not select external
    hosts); near miss: Fargate keeps runtimePlatform (on arm64, where the mismatch has evidence)."""
    f = run(["exec /usr/local/bin/app: exec format error"], **exited(1), launchType=launch,
            attributes=[{"name": "ecs.cpu-architecture", "value": "arm64"}])
    if f.facts.get("cause") != "exec-format":
        pytest.skip(str(f.facts))
    text = "\n".join(f.remediation)
    assert ("uname -m" in text) == external
    assert ('"runtimePlatform"' in text) == (not external), text


@pytest.mark.parametrize(("reason", "passwd"), [
    ("CannotStartContainerError: ResourceInitializationError: unable to create new container: mount callback failed "
     "on /tmp/containerd-mount1: open /tmp/containerd-mount1/etc/passwd: no such file or directory", True),
    ("CannotStartContainerError: Error response from daemon: unable to find user app: no matching entries in passwd "
     "file", True),
    ("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create failed: "
     "runc create failed: unable to start container process: exec format error: unknown", False),
])
def test_a_user_the_image_cannot_resolve_gets_a_numeric_user_not_a_volume_check(reason, passwd):
    f = run([], **failed_to_start(reason))
    if f.pattern != "container-start-failed":
        pytest.skip(f.pattern)
    assert ("numeric UID" in f.remediation[0]) == passwd, f.remediation[0]


def test_a_non_executable_entrypoint_script_gets_a_no_rebuild_alternative():
    reason = ('CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create '
              'failed: runc create failed: unable to start container process: exec: "/entrypoint.sh": permission '
              'denied: unknown')
    f = run([], **failed_to_start(reason))
    if f.facts.get("cause") != "permission":
        pytest.skip(str(f.facts))
    assert '"entryPoint": ["sh", "/entrypoint.sh"]' in f.remediation[0] and "chmod +x" in f.remediation[0]


@pytest.mark.parametrize("line", ["/usr/bin/env: 'bash\\r': No such file or directory",
                                  "/usr/bin/env: 'python3\\r': No such file or directory"])
def test_a_carriage_return_in_the_shebang_is_crlf_first_and_the_interpreter_is_not_missing(line):
    """`bash\\r` is a CRLF script: dos2unix/.gitattributes first, no 'install the interpreter', no 'missing' title;
    near miss: a plainly missing interpreter keeps the PATH probe and the install step."""
    f = run([line], **exited(127))
    assert f.facts.get("crlf") is True
    assert "dos2unix" in f.remediation[0] and ".gitattributes" in f.remediation[0]
    fix = "\n".join(f.remediation)
    assert "install the interpreter" not in fix and "does not exist in the image" not in fix
    assert "CRLF" in f.title and "entrypoint-not-found" not in f.title
    near = run(["/bin/sh: 1: gunicorn: not found"], **exited(127))
    assert "crlf" not in near.facts and "dos2unix" not in "\n".join(near.remediation)
    assert "command -v gunicorn" in near.remediation[0] and "install the interpreter" in "\n".join(near.remediation)


@pytest.mark.parametrize(("reason", "exe"), [
    # Docker's old API error wraps runc's message in a Go-quoted string: the name's quotes come escaped.
    pytest.param('CannotStartContainerError: API error (500): oci runtime error: container_linux.go:262: starting '
                 'container process caused "exec: \\"gunicorn\\": executable file not found in $PATH"',
                 "gunicorn", id="escaped-quotes-name"),
    pytest.param('CannotStartContainerError: API error (400): OCI runtime create failed: starting container process '
                 'caused "exec: \\"/opt/app/run\\": permission denied":', "/opt/app/run", id="escaped-quotes-path"),
])
def test_an_escaped_executable_name_is_read_without_its_backslashes(reason, exe):
    finding = run([], **failed_to_start(reason))
    assert finding.facts["executable"] == exe


def test_near_miss_an_escaped_shell_line_stays_the_whole_line():
    reason = ('CannotStartContainerError: API error (400): OCI runtime create failed: starting container process '
              'caused "exec: \\"npm run serve\\": executable file not found in $PATH":')
    finding = run([], **failed_to_start(reason))
    assert finding.facts["executable"] == "npm run serve"
