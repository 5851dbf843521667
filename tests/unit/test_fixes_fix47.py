"""fix47: dev34's graded findings, each by a general rule beside a near miss the rule must leave alone.

007: a runtime's own memory cap whose size the evidence gives (PHP's memory_limit, an explicit -Xmx), well below the
container's memory, is raised alone: no container resize is offered, and the last step watches the runtime's own use,
not the container's MemoryUtilized. A container kill (137), or a cap at the container's size, keeps the resize.
014: an environment file whose download timed out (context deadline exceeded, i/o timeout, signal: killed) gets the
network path first and the execution role's S3 grant only as a check for a later AccessDenied; an AccessDenied keeps
the grant first and unconditional.
"""

from __future__ import annotations

from shared.models.finding import Finding
from shared.render import steps as render_steps
from tests.support.fixcheck import command_problems
from tests.unit.helpers import run


def _fix(finding: Finding) -> str:
    return "\n".join(finding.remediation)


def _commands_valid(step: str) -> None:
    for cmd in render_steps.commands(step):
        assert command_problems(cmd) == [], (cmd, command_problems(cmd))


def _php(limit_bytes: int, exit_code: int = 255, reason: str | None = None, **detail: object) -> Finding:
    app = {"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED",
           "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"}
    if reason:
        app["reason"] = reason
    line = f"PHP Fatal error:  Allowed memory size of {limit_bytes} bytes exhausted (tried to allocate 20480 bytes)"
    return run([line], containers=[app], **detail)


_MIB = 1024 * 1024


# -- 007: PHP's memory_limit well below the container's memory ------------------------------------------------------


def test_a_php_memory_limit_well_below_the_container_is_raised_alone_with_no_resize():
    got = _php(128 * _MIB)  # the task has 1024 MiB
    assert got.pattern == "out-of-memory"
    first = got.remediation[0]
    assert "`memory_limit` of 128 MiB" in first and "not the container's 1024 MiB" in first
    assert "php -d memory_limit=256M" in first and "up to about 768 MiB" in first
    assert "--force-new-deployment" in first  # the new limit is rolled out by the step that sets it
    assert "only if the job needs more than that room" in first
    text = _fix(got)
    assert "plus 25 % headroom" not in text and '"memory": "2048"' not in text  # no container resize
    assert "chart MemoryUtilized" not in text and "memory_get_peak_usage(true)" in got.remediation[-1]
    assert "not one PHP process against its 128 MiB cap" in got.remediation[-1]
    assert "well below the container's 1024 MiB" in got.summary
    for step in got.remediation:
        _commands_valid(step)


def test_a_php_fpm_pool_sets_the_limit_in_the_pool_and_counts_its_workers():
    line = ('[12-Mar-2022 20:52:36] WARNING: [pool www] child 41 said into stderr: "NOTICE: PHP message: PHP Fatal '
            'error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 32768 bytes) in /a.php on '
            'line 1"')
    got = run([line], containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED"}])
    first = got.remediation[0]
    assert "php_admin_value[memory_limit] = 256M" in first and "pm.max_children" in first
    assert "php -d" not in first


def test_near_miss_a_php_memory_limit_at_the_container_size_keeps_the_resize():
    got = _php(1024 * _MIB)  # memory_limit = the task's 1024 MiB: raising it needs the memory too
    text = _fix(got)
    assert "give app at least 1280 MiB" in text and "plus 25 % headroom" in text
    assert "chart MemoryUtilized" in text or "docker stats" in text
    assert "memory_get_peak_usage" not in text


def test_near_miss_a_container_oom_kill_keeps_the_resize_unchanged():
    got = _php(128 * _MIB, exit_code=137, reason="OutOfMemoryError: Container killed due to memory usage")
    text = _fix(got)
    assert got.pattern == "out-of-memory"
    assert "plus 25 % headroom" in text and "memory_get_peak_usage" not in text
    assert "so more task or container memory changes nothing" not in text


# -- 007's rule on an explicit -Xmx: the heap, not the container, is what to watch ------------------------------------


def _jvm(xmx: str, memory: str) -> Finding:
    logs = [f"JAVA_OPTS=-Xms256m {xmx}", "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"]
    return run(logs, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}], memory=memory)


def test_an_explicit_xmx_well_below_the_container_watches_the_heap_not_the_container():
    got = _jvm("-Xmx1g", "4096")
    text = _fix(got)
    assert "plus 25 % headroom" not in text and "chart MemoryUtilized" not in text
    assert "-XX:+HeapDumpOnOutOfMemoryError" in got.remediation[-1]
    assert "not one JVM's heap against its 1024 MiB cap" in got.remediation[-1]


def test_near_miss_an_xmx_that_fills_the_container_keeps_the_resize_and_the_container_chart():
    got = _jvm("-Xmx3500m", "4096")
    text = _fix(got)
    assert "plus 25 % headroom" in text
    assert "HeapDumpPath" not in got.remediation[-1]


# -- 014: an environment file's download timed out ---------------------------------------------------------------------

_ENV_FILE = "arn:aws:s3:::myenvfiles/prod.env"
_OVERRIDES = {"containerOverrides": [{"name": "app", "environmentFiles": [{"type": "s3", "value": _ENV_FILE}]}]}
_DOWNLOAD = "ResourceInitializationError: failed to download env files: file download command: non empty error stream: "


def _env_file(tail: str) -> Finding:
    return run(stopCode="TaskFailedToStart", stoppedReason=_DOWNLOAD + tail, overrides=_OVERRIDES)


def _grant_index(finding: Finding) -> int:
    return next(i for i, s in enumerate(finding.remediation) if "s3:GetObject" in s)


def test_a_timed_out_download_checks_the_role_only_once_the_network_path_works():
    for tail in ("RequestCanceled: request context canceled caused by: context deadline exceeded",
                 'RequestError: send request failed caused by: Get "https://myenvfiles.s3.amazonaws.com/prod.env": '
                 "dial tcp 52.216.1.1:443: i/o timeout",
                 "signal: killed"):
        got = _env_file(tail)
        assert got.pattern == "secrets-retrieval-failed", tail
        assert "com.amazonaws.us-east-1.s3" in got.remediation[0], tail
        i = _grant_index(got)
        assert i > 0 and got.remediation[i].startswith("If, once the network path works, the download fails with "
                                                       "AccessDenied"), tail
        assert all("Add these statements" not in s for s in got.remediation), tail
        assert "fetch the environment files again" in got.remediation[-1] and "secrets[].valueFrom" not in _fix(got)


def test_near_miss_an_access_denied_download_grants_the_read_first_and_unconditionally():
    got = _env_file("service call has been retried 1 time(s): AccessDenied: Access Denied status code: 403")
    assert got.facts.get("cause") == "access-denied"
    assert _grant_index(got) == 0 and got.remediation[0].startswith("Add this statement")
    assert "If, once the network path works" not in _fix(got)


def test_near_miss_a_secrets_manager_timeout_names_no_s3_grant():
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): RequestError: "
              "send request failed caused by: Post \"https://secretsmanager.us-east-1.amazonaws.com/\": dial tcp "
              "10.0.0.1:443: i/o timeout")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason)
    assert got.facts.get("cause") == "network"
    assert "s3:GetObject" not in _fix(got) and "Add this statement" not in _fix(got)
