"""review29: probes of fix45 (36f04b0, e956c4a, 39c23b1) and fix46 (381ea05, 9f70def, bcee801, 19eee78, 9ce9adf,
fcd3e00, ceba29b). Each probe fails on the code it was written against (main f757126) and was marked xfail(strict),
so the suite stayed green until the rule was fixed (fix48 fixed all 15); the comment says what the right behaviour is and why."""

from __future__ import annotations

from typing import Any

from shared.logs import _text_level
from shared.models.finding import Finding
from tests.unit.helpers import run
from tests.unit.patterns.common import TG_ARN, box
from tests.unit.test_fixes_fix46 import _twice  # (api beside an nginx sidecar: is a double start told?)


def _elb(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"stoppedReason": f"Task failed ELB health checks in (target-group {TG_ARN})",
            "stopCode": "ServiceSchedulerInitiated", "containers": list(containers)}


# --- e956c4a: exit 139, "the program's own frame" -----------------------------------------------------------------

_SEGV = "[2023/04/08 16:04:31] [engine] caught signal (SIGSEGV)"
_RAN_20_S = {"startedAt": "2024-05-01T10:00:00Z", "stoppingAt": "2024-05-01T10:00:20Z"}


def _step_139(lines: list[str]) -> str:
    got = run(lines, containers=[box(139, "router", image="fluent/fluent-bit:2.0.9")], **_RAN_20_S)
    return next(s for s in got.remediation if s.startswith("Exit 139"))


def test_a_libc_string_frame_with_glibc_debug_source_is_not_the_programs_own_code():
    # With glibc's debug info installed (debuginfod, libc6-dbg), gdb prints the C library's string functions by their
    # glibc source file, not by "from libc.so.6": "#0 0x... in __strlen_avx2 () at ../sysdeps/x86_64/multiarch/
    # strlen-avx2.S:74". That is the same libc frame as "__strlen_avx2 () from /lib/x86_64-linux-gnu/libc.so.6",
    # which the rule rightly leaves to the native-library reading; here it names `__strlen_avx2()` as router's own
    # code and "a bug in that release". _SYSTEM_FRAME knows sysv/linux/ and nptl/ paths but not sysdeps/ (nor
    # string/, malloc/ ...).
    libc_src = _step_139([_SEGV, "#0  0x00007ffff7e5f3c5 in __strlen_avx2 () at "
                                 "../sysdeps/x86_64/multiarch/strlen-avx2.S:74"])
    libc_so = _step_139([_SEGV, "#0  0x00007ffff7e5f3c5 in __strlen_avx2 () from /lib/x86_64-linux-gnu/libc.so.6"])
    assert "own code" not in libc_so  # the rule's own near miss
    assert "own code" not in libc_src and "__strlen_avx2" not in libc_src, libc_src


def test_glibc_malloc_internals_are_not_the_programs_own_frame():
    # "#0 _int_malloc (...) at ./malloc/malloc.c:4360" is glibc's allocator (Debian/Ubuntu glibc debug source paths
    # are ./malloc/malloc.c). The program's own innermost frame is the caller below it; the step must not tell the
    # user to search fluent-bit's tracker for `_int_malloc()`.
    step = _step_139([_SEGV, "#0  0x00007ffff7e5f3c5 in _int_malloc (av=av@entry=0x7ffff7fb0b80 <main_arena>, "
                             "bytes=bytes@entry=24) at ./malloc/malloc.c:4360",
                      "#1  0x00007ffff7e60d3a in __GI___libc_malloc (bytes=24) at ./malloc/malloc.c:3329",
                      "#2  0x0000555d360e36cb in flb_sds_create_size () at src/flb_sds.c:60"])
    assert "_int_malloc" not in step and "flb_sds_create_size() at src/flb_sds.c:60" in step, step


# --- 36f04b0: PHP-FPM relay levels ----------------------------------------------------------------------------------

_PHP_OOM_UNDECORATED = ("NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted "
                        "(tried to allocate 20480 bytes) in /www/x.php on line 38")
_FPM_STOP = ["NOTICE: Terminating ...", "NOTICE: exiting, bye-bye!"]


def test_an_undecorated_fpm_php_fatal_error_is_fatal_and_the_memory_limit_is_found():
    # PHP >= 7.3 has `decorate_workers_output`; docker-library/php's fpm images set it to `no` (docker.conf), so a
    # worker's error reaches the container log as "NOTICE: PHP message: PHP Fatal error:  Allowed memory size ..."
    # with no "child N said into stderr" wrapper (docker-library/php#1626 shows the prefix). The NOTICE is the same
    # relay prefix _RELAY_PREFIX strips inside the wrapper; the message's own level is fatal, and 36f04b0's own test
    # case (the memory limit behind failed health checks) must be found the same way.
    assert _text_level(_PHP_OOM_UNDECORATED) == "fatal"
    got = run([_PHP_OOM_UNDECORATED, *_FPM_STOP], **_elb(box(0, "web")))
    assert got.pattern == "out-of-memory", (got.pattern, got.title)


# --- 36f04b0: a telemetry-only IAM denial is a weak lead --------------------------------------------------------------

_DB_DOWN = ("psycopg2.OperationalError: could not connect to server: Connection refused  Is the server running on host "
            '"orders.cluster-abc.us-east-1.rds.amazonaws.com" and accepting TCP/IP connections on port 5432?')


def test_a_log_shippers_create_log_stream_denial_is_as_weak_as_its_put_log_events_denial():
    # A CloudWatch Logs handler in the app (watchtower, winston-cloudwatch, a log4j2 appender) calls
    # logs:CreateLogStream (and CreateLogGroup) before logs:PutLogEvents; denied, it loses the log records exactly as a
    # PutLogEvents denial does, stops nothing and fails no health check. The PutLogEvents denial yields to the
    # database failure (0.6); the CreateLogStream one still outranks it at 0.93.
    def denied(action: str) -> Finding:
        line = ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/web-task-role/abc is not "
                f"authorized to perform: {action} on resource: arn:aws:logs:us-east-1:111122223333:log-group:/app/web")
        return run({"web": [line, _DB_DOWN]}, **_elb(box(1, "web")))

    assert denied("logs:PutLogEvents").pattern == "database-connection-failed"  # the rule as written
    got = denied("logs:CreateLogStream")
    assert got.pattern == "database-connection-failed", (got.pattern, got.confidence)


# --- ceba29b: a probe copy's siblings -------------------------------------------------------------------------------

_PG_DNS = ['PG::ConnectionBad: could not translate host name "db" to address: Name or service not known']


def test_a_dependency_on_a_container_whose_name_ends_with_the_probed_ones_is_not_a_wait_on_it():
    # web's reason says it waits on `db-migrate`, not on `migrate` (the probed container). `f"{name}("` in the reason
    # has no left boundary, so migrate is taken as a container others wait on and the probe gets --started-by and the
    # "other containers keep the copy running" note. With no task definition saying migrate is non-essential, an
    # essential migrate's exit ends the copy: no tag, no note (the rule's own near miss).
    waits = ("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
             "[db-migrate(example/app:1) (STOPPED->RUNNING) - Exit: 1] for target [web(example/app:1) "
             "(NONE->RUNNING)] as dependency did not exit successfully.")
    got = run({"migrate": _PG_DNS},
              containers=[{"name": "migrate", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                          {"name": "db-migrate", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
                          {"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "reason": waits}])
    step = next(s for s in got.remediation if "one-off copy" in s)
    assert "--started-by" not in step and "stop-task" not in step, step


# --- fcd3e00 / ceba29b: Go's pre-bind announcement ----------------------------------------------------------------

def test_go_log_llongfile_source_path_is_no_other_server():
    # Go's standard logger with log.Llongfile prints the caller's full source path on every line:
    # "2024/05/01 10:00:00 /src/cmd/api/main.go:42: listening on :4000". The rule skips the pre-bind announcement
    # right before Go's bind error unless it names another server, and its "\s/[\w/-]+" (a path it serves) matches
    # the source file path, so the same attempt becomes "the server is started twice". With log.Lshortfile
    # ("main.go:42: listening on :4000") the rule already gets it right.
    short = ["2024/05/01 10:00:00 main.go:42: listening on :4000",
             "2024/05/01 10:00:00 main.go:44: listen tcp :4000: bind: address already in use"]
    long = ["2024/05/01 10:00:00 /src/cmd/api/main.go:42: listening on :4000",
            "2024/05/01 10:00:00 /src/cmd/api/main.go:44: listen tcp :4000: bind: address already in use"]
    assert not _twice(short)
    assert not _twice(long)


# --- 9ce9adf: a rebuilt image pinned by digest ----------------------------------------------------------------------

_DIGEST = "111122223333.dkr.ecr.us-east-1.amazonaws.com/gateway@sha256:" + "9c2e4b7d" * 8


def test_an_architecture_rebuild_of_an_image_pinned_by_digest_names_the_new_revision_first():
    # The same situation 9ce9adf fixed for missing-dependency and volume-mount-failed: the fix is a rebuilt, pushed
    # image, and the task definition pins `gateway@sha256:...`, so `update-service --force-new-deployment` on the
    # family runs the same (wrong-architecture) digest again. The roll-out must first register a revision naming
    # the new push's digest (or a tag).
    got = run(["exec /usr/local/bin/server: exec format error"],
              containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": _DIGEST}])
    assert got.pattern == "container-start-failed", got.pattern
    rem = "\n".join(got.remediation)
    assert "pins the image by digest" in rem, rem


def test_a_scheduled_tasks_image_pinned_by_digest_also_needs_a_revision_naming_the_new_digest():
    # A task started by an EventBridge rule: roll_out() points the rule's target at the family's latest ACTIVE
    # revision (describe-task-definition --task-definition <family>). After pushing the rebuilt image that is still
    # the revision pinning `gateway@sha256:<old>`, so the next scheduled run fails the same way. The digest note of
    # 9ce9adf (register a revision naming the new digest first) holds for a schedule exactly as for a service.
    bun = ["error: Cannot find package 'bufferutil' from '/app/node_modules/ws/lib/buffer-util.js'"]
    got = run(bun, group="family:orders-api", startedBy="events-rule/nightly-etl",
              containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": _DIGEST}])
    assert got.pattern == "missing-dependency", got.pattern
    rem = "\n".join(got.remediation)
    assert "aws events put-targets" in rem  # the schedule's roll-out is used
    assert "pins the image by digest" in rem, rem


# --- 9f70def: an init runner's exit report is a wrapper -------------------------------------------------------------

_AGENT = {"name": "agent", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/agent:2.3.1"}
_APP = {"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}
_MOVED = "mv: cannot stat '/etc/agent/conf.d/docker.d/conf.yaml.example': No such file or directory"


def test_s6_overlay_v3s_trailing_runner_lines_are_not_the_error_either():
    # s6-overlay v3 (legacy cont-init.d support) prints, after the script's "exited 1", its own summary and stop:
    # "cont-init: warning: some scripts exited nonzero", "s6-rc: warning: unable to start service legacy-cont-init:
    # command exited 1", ".../rc.init: warning: s6-rc failed to properly bring all the services up! ..." and
    # ".../rc.init: fatal: stopping the container.". Those are the runner reporting the same failure; 9f70def's rule
    # (quote the script's own error, not its runner's report) recognises v3's "exited 1" line, but the quoted
    # exception becomes "rc.init: fatal: stopping the container." instead of the mv line, as with s6 v2.
    lines = ["cont-init: info: running /etc/cont-init.d/01-check-key.sh",
             "cont-init: info: /etc/cont-init.d/01-check-key.sh exited 0",
             "cont-init: info: running /etc/cont-init.d/51-docker.sh", _MOVED,
             "cont-init: info: /etc/cont-init.d/51-docker.sh exited 1",
             "cont-init: warning: some scripts exited nonzero",
             "s6-rc: warning: unable to start service legacy-cont-init: command exited 1",
             "/run/s6/basedir/scripts/rc.init: warning: s6-rc failed to properly bring all the services up! Check your "
             "logs (in /run/uncaught-logs/current if you have in-container logging) for more information.",
             "/run/s6/basedir/scripts/rc.init: fatal: stopping the container."]
    assert run({"agent": lines[:5]}, containers=[_APP, _AGENT]).facts["exception"] == _MOVED  # v3 without the tail
    got = run({"agent": lines}, containers=[_APP, _AGENT])
    assert got.facts["exception"] == _MOVED, got.facts.get("exception")


# --- 39c23b1: a pull that fills the instance's disk: measure the image, find the instance ---------------------------

_CI = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/7dfa9baa86a7b41221d41559d9c5e733"
_PULL_FULL = ("CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write "
              "/usr/share/vim/vim74/syntax/sisu.vim: no space left on device")


def _pull_full(image: str) -> Finding:
    got = run([], stoppedReason=_PULL_FULL, stopCode="TaskFailedToStart", launchType="EC2", containerInstanceArn=_CI,
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": image}])
    assert got.pattern == "disk-full", got.pattern
    return got


def test_the_sizing_pull_of_a_private_ecr_image_says_to_log_in_first():
    # A private ECR repository answers an anonymous `docker pull` with "no basic auth credentials"; the pasted
    # measurement only runs after `aws ecr get-login-password --region R | docker login --username AWS
    # --password-stdin <registry>`, which the project's other pull steps (exec format error's) include.
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
    step = next(s for s in _pull_full(image).remediation if f"docker pull {image}" in s)
    assert "get-login-password" in step, step


def test_a_windows_tasks_pull_disk_full_is_not_checked_with_linux_paths():
    # A Windows container instance has no `df` and keeps Docker's data under C:\ProgramData\docker (windowsfilter);
    # `df -h /var/lib/docker` is a Linux command and path. The project knows the task is Windows (remedy.is_windows:
    # a servercore image); the check belongs in PowerShell (Get-PSDrive C / Get-Volume), not df.
    got = _pull_full("mcr.microsoft.com/dotnet/framework/aspnet:4.8-windowsservercore-ltsc2019")
    rem = "\n".join(got.remediation)
    assert "--container-instances" in rem  # the instance step is there
    assert "/var/lib/docker" not in rem, rem


# --- bcee801: an error that names its own remedy --------------------------------------------------------------------


def test_an_option_that_carries_a_secret_is_not_put_in_the_task_definitions_command():
    # The task definition's `command` is plaintext: anyone with ecs:DescribeTaskDefinition reads it, and it shows in
    # the process list. AWS's guidance for ECS is to inject sensitive data with the container definition's `secrets`
    # (Secrets Manager / SSM Parameter Store) as an environment variable; a program that only takes the option gets
    # it through a shell (`sh -c 'exec app --jwt-secret "$JWT_SECRET"'`). The generic "pass the option with its
    # value in `command`" must not be applied to an option named secret/password/token/key.
    step = run(["FATAL: JWT secret not set. Use option --jwt-secret"]).remediation[0]
    assert "pass `--jwt-secret`" in step  # the rule fired
    assert "secrets" in step, step


def test_a_fault_in_a_node_native_addon_is_an_extensions_not_the_node_release():
    # Node's native addons are shared objects with a .node suffix (node-gyp's build/Release/*.node), loaded with
    # dlopen() exactly as a Python extension's *.cpython-311-x86_64-linux-gnu.so is. segfault-handler prints glibc
    # backtrace_symbols() lines; the innermost named frame is sharp's addon, so the fault is in an extension the app
    # loads (the rule's own near miss for numpy's _umath.so), not "a bug in that release (`node:20-bookworm`)".
    lines = ["PID 17 received SIGSEGV for address: 0x0",
             "/app/node_modules/sharp/build/Release/sharp-linux-x64.node(_ZN4vips6VImage5writeEPKc+0x1a)"
             "[0x7f5a0b1c2d3a]",
             "node(_ZN2v88internal9Execution4CallEPNS0_7IsolateE+0x1c1)[0x55d3c0a1b2c1]"]
    got = run(lines, containers=[box(139, "app", image="node:20-bookworm")], **_RAN_20_S)
    step = next(s for s in got.remediation if s.startswith("Exit 139"))
    assert "own code" not in step and "a bug in an extension" in step, step


def test_s6_overlay_v2s_shutdown_lines_after_a_failed_script_are_not_the_error():
    # With S6_BEHAVIOUR_IF_STAGE2_FAILS=2 (stop the container when a cont-init script fails), s6-overlay v2 follows the
    # script's "exited 1." with its own shutdown: "[cont-finish.d] executing container finish scripts...",
    # "[cont-finish.d] done.", "[s6-finish] waiting for services.", "[s6-finish] sending all processes the TERM
    # signal.", "[s6-finish] sending all processes the KILL signal and exiting.". Those are the runner stopping, not
    # the error; the script's own mv line is (as when the log ends at "exited 1.").
    lines = ["[cont-init.d] executing container initialization scripts...",
             "[cont-init.d] 51-docker.sh: executing...", _MOVED, "[cont-init.d] 51-docker.sh: exited 1.",
             "[cont-finish.d] executing container finish scripts...", "[cont-finish.d] done.",
             "[s6-finish] waiting for services.", "[s6-finish] sending all processes the TERM signal.",
             "[s6-finish] sending all processes the KILL signal and exiting."]
    assert run({"agent": lines[:4]}, containers=[_APP, _AGENT]).facts["exception"] == _MOVED
    got = run({"agent": lines}, containers=[_APP, _AGENT])
    assert got.facts["exception"] == _MOVED, got.facts.get("exception")


# --- 39c23b1: an environment file's S3 statements -------------------------------------------------------------------


def test_the_bucket_statement_keeps_the_partition_of_the_environment_files_arn():
    # The env file is `arn:aws-us-gov:s3:::orders-config/prod.env` (GovCloud; likewise aws-cn). The s3:GetObject
    # statement keeps that ARN, but the bucket's is built as "arn:aws:s3:::" + bucket: a statement in a GovCloud
    # role naming an `arn:aws:` resource matches nothing, so s3:GetBucketLocation stays denied. The bucket ARN must
    # be the file ARN's own prefix (arn:<partition>:s3:::orders-config).
    reason = ("ResourceInitializationError: failed to download env files: file download command: non empty error "
              "stream: RequestCanceled: request context canceled caused by: context deadline exceeded")
    env_file = "arn:aws-us-gov:s3:::orders-config/prod.env"
    got = run([], stoppedReason=reason, stopCode="TaskFailedToStart", group="family:orders-api", startedBy=None,
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": "example/app:1"}],
              overrides={"containerOverrides": [{"name": "app",
                                                 "environmentFiles": [{"type": "s3", "value": env_file}]}]})
    stmt = next(s for s in got.remediation if "s3:GetBucketLocation" in s)
    assert f'"Resource": "{env_file}"' in stmt  # the object statement keeps it
    assert '"arn:aws-us-gov:s3:::orders-config"' in stmt, stmt
