"""fix48: the near misses of the review29 fixes (tests/unit/test_review29_probes.py holds the probes themselves):
each is a case the general rule must still treat as it did before."""

from __future__ import annotations

from typing import Any

from shared.logs import _text_level
from shared.patterns.iam_access_denied import PATTERN as IAM
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import box

# --- a probe copy's siblings: a dependency named exactly -----------------------------------------------------------

_PG_DNS = ['PG::ConnectionBad: could not translate host name "db" to address: Name or service not known']


def _waits_on(dep: str) -> str:
    reason = ("CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
              f"[{dep}(example/app:1) (STOPPED->RUNNING) - Exit: 1] for target [web(example/app:1) "
              "(NONE->RUNNING)] as dependency did not exit successfully.")
    containers: list[dict[str, Any]] = [
        {"name": "migrate", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/app:1"},
        {"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "reason": reason}]
    got = run({"migrate": _PG_DNS}, containers=containers)
    return next(s for s in got.remediation if "one-off copy" in s)


def test_a_container_others_wait_on_by_its_exact_name_still_gets_the_probe_tag():
    # The left boundary only rules out a longer name ending in the probed one (`db-migrate(`); `[migrate(` and
    # ` migrate(` are waits on migrate, whose copy keeps web running.
    assert "--started-by" in _waits_on("migrate")
    assert "--started-by" not in _waits_on("db-migrate")
    assert "--started-by" not in _waits_on("pre_migrate")


# --- Go's pre-bind announcement: a served path after a Llongfile prefix --------------------------------------------

_API_AND_NGINX = [{"name": "api", "exitCode": 2, "lastStatus": "STOPPED", "image": "example/ping-api:0.1.0"},
                  {"name": "nginx", "exitCode": 0, "lastStatus": "STOPPED", "image": "nginx:1.25"}]
_LONG_BIND = "2024/05/01 10:00:00 /src/cmd/api/main.go:44: listen tcp :4000: bind: address already in use"


def _twice(lines: list[str]) -> bool:
    got = run({"api": lines}, containers=_API_AND_NGINX)
    assert got.pattern == "port-in-use", got.pattern
    return any(s.startswith("Make sure the server is started once") for s in got.remediation)


def test_a_served_path_still_names_another_server_behind_a_go_source_path():
    # Only the source location (a path running into `file.go:42`) is skipped; a path the line says it serves, after
    # that prefix, is still a second server on the port.
    assert _twice(["2024/05/01 10:00:00 /src/cmd/api/main.go:42: serving /static on :4000", _LONG_BIND])
    assert not _twice(["2024/05/01 10:00:00 /src/cmd/api/main.go:42: listening on :4000", _LONG_BIND])


# --- an environment file's S3 statements: the partition ------------------------------------------------------------

_ENV_TIMEOUT = ("ResourceInitializationError: failed to download env files: file download command: non empty error "
                "stream: RequestCanceled: request context canceled caused by: context deadline exceeded")


def _bucket_statement(env_file: str) -> str:
    got = run([], stoppedReason=_ENV_TIMEOUT, stopCode="TaskFailedToStart", group="family:orders-api", startedBy=None,
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": "example/app:1"}],
              overrides={"containerOverrides": [{"name": "app",
                                                 "environmentFiles": [{"type": "s3", "value": env_file}]}]})
    return next(s for s in got.remediation if "s3:GetBucketLocation" in s)


def test_a_commercial_partition_env_file_keeps_arn_aws():
    # The partition comes from the file's own ARN: the ordinary `arn:aws:` file keeps `arn:aws:` (no partition made
    # up from anything else), and a China file keeps `aws-cn`.
    assert '"arn:aws:s3:::orders-config"' in _bucket_statement("arn:aws:s3:::orders-config/prod.env")
    assert '"arn:aws-cn:s3:::orders-config"' in _bucket_statement("arn:aws-cn:s3:::orders-config/prod.env")


# --- disk-full: the sizing pull of a public image -------------------------------------------------------------------

_CI = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/7dfa9baa86a7b41221d41559d9c5e733"
_PULL_FULL = ("CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write "
              "/usr/share/vim/vim74/syntax/sisu.vim: no space left on device")


def _sizing_step(image: str) -> str:
    got = run([], stoppedReason=_PULL_FULL, stopCode="TaskFailedToStart", launchType="EC2", containerInstanceArn=_CI,
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": image}])
    assert got.pattern == "disk-full", got.pattern
    return next(s for s in got.remediation if f"docker pull {image}" in s)


def test_the_sizing_pull_of_a_public_image_needs_no_ecr_login():
    # Only a private ECR repository (<account>.dkr.ecr.<region>.amazonaws.com) refuses an anonymous pull; Docker Hub
    # and ECR Public images pull as they are, and the private one logs in to its own registry.
    assert "docker login" not in _sizing_step("nginx:1.25")
    assert "docker login" not in _sizing_step("public.ecr.aws/nginx/nginx:1.25")
    step = _sizing_step("444455556666.dkr.ecr.eu-west-1.amazonaws.com/orders-api:1.4.2")
    assert ("aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin "
            "444455556666.dkr.ecr.eu-west-1.amazonaws.com\ndocker pull") in step, step


# --- a log stream's creation denied: the execution role's under awslogs stops the task ------------------------------


def _create_stream_confidence(line: str) -> float:
    m = IAM.match(evidence({"web": [line]}))
    assert m is not None and m.facts["action"] == "logs:CreateLogStream", m
    return m.confidence


_DENIED = ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/{role}/abc is not authorized to "
           "perform: logs:CreateLogStream on resource: arn:aws:logs:us-east-1:111122223333:log-group:/ecs/web")


def test_the_execution_roles_or_the_log_drivers_create_log_stream_denial_stays_strong():
    # ECS creates the awslogs stream with the execution role before the container starts: that denial stops the task
    # (the role's name says it; or the line is the driver's own "failed to create Cloudwatch log stream"). The app's
    # own handler, with its task role, only loses records.
    assert _create_stream_confidence(_DENIED.format(role="web-task-role")) == 0.6
    assert _create_stream_confidence(_DENIED.format(role="web-execution-role")) == 0.93
    assert _create_stream_confidence("failed to create Cloudwatch log stream: "
                                     + _DENIED.format(role="web-task-role")) == 0.93


# --- exit 139: the program's own frame beside glibc's source paths and loaded addons ------------------------------

_SEGV = "[2023/04/08 16:04:31] [engine] caught signal (SIGSEGV)"
_RAN_20_S = {"startedAt": "2024-05-01T10:00:00Z", "stoppingAt": "2024-05-01T10:00:20Z"}


def _step_139(lines: list[str], image: str = "fluent/fluent-bit:2.0.9") -> str:
    got = run(lines, containers=[box(139, "router", image=image)], **_RAN_20_S)
    return next(s for s in got.remediation if s.startswith("Exit 139"))


def test_the_programs_own_source_dirs_named_like_glibcs_stay_its_own_code():
    # Only glibc's trees (sysdeps/, glibc-<version>/, or ./malloc/ ./string/ ... relative as glibc's debug info
    # names them) are the C library: the program's own src/string/ or src/malloc/ is its own code.
    own = _step_139([_SEGV, "#0  0x0000555d360e36cb in flb_str_copy () at src/string/flb_str.c:41"])
    assert "own code" in own and "flb_str_copy() at src/string/flb_str.c:41" in own, own
    own = _step_139([_SEGV, "#0  0x0000555d360e36cb in pool_alloc () at /src/app/malloc/pool.c:12"])
    assert "own code" in own and "pool_alloc()" in own, own


def test_a_native_executables_own_frame_is_still_its_own_code_beside_node_addons():
    # A backtrace_symbols line of the program itself (no .so / .node suffix) is still its own code.
    lines = ["PID 17 received SIGSEGV for address: 0x0", "/usr/local/bin/server(handle_request+0x1a)[0x55d3c0a1b2c1]"]
    assert "own code" in _step_139(lines, image="example/server:1.2.0")


# --- undecorated php-fpm relay: only a PHP level in the message overrides the relay's NOTICE ---------------------


def test_an_undecorated_fpm_message_without_a_php_level_keeps_the_relays_notice():
    assert _text_level("NOTICE: PHP message: user 42 logged in") == "info"
    assert _text_level("NOTICE: PHP message: PHP Notice:  Undefined index: id in /www/x.php on line 3") == "info"
    assert _text_level("[08-Dec-2026 04:00:00] NOTICE: PHP message: PHP Warning:  Division by zero") == "warn"
    assert _text_level("[08-Dec-2026 04:00:00] NOTICE: PHP message: PHP Fatal error:  Uncaught Exception") == "fatal"
    # "PHP message:" inside another program's text is no relay prefix.
    assert _text_level("INFO: forwarded PHP message: PHP Fatal error: x") == "info"


# --- s6-overlay: the runner's own lines are the error when no script failed ----------------------------------------

_AGENT = {"name": "agent", "exitCode": 1, "lastStatus": "STOPPED", "image": "example/agent:2.3.1"}
_APP = {"name": "app", "exitCode": 143, "lastStatus": "STOPPED"}


def test_s6_runner_lines_with_no_failed_script_are_still_quoted():
    # Only after a script s6 reports as failed are its summary and shutdown lines wrappers; a runner that fails on
    # its own (not PID 1, a service that did not come up) says the error itself.
    lines = ["s6-overlay-suexec: fatal: can only run as pid 1"]
    assert run({"agent": lines}, containers=[_APP, _AGENT]).facts["exception"] == lines[0]
    ok = ["cont-init: info: running /etc/cont-init.d/01-check-key.sh",
          "cont-init: info: /etc/cont-init.d/01-check-key.sh exited 0",
          "/run/s6/basedir/scripts/rc.init: fatal: stopping the container."]
    assert run({"agent": ok}, containers=[_APP, _AGENT]).facts["exception"] == ok[-1]


def test_a_linux_instances_pull_disk_full_keeps_the_df_check():
    got = run([], stoppedReason=_PULL_FULL, stopCode="TaskFailedToStart", launchType="EC2", containerInstanceArn=_CI,
              containers=[{"name": "app", "lastStatus": "STOPPED", "image": "nginx:1.25"}])
    rem = "\n".join(got.remediation)
    assert "`df -h /var/lib/docker` shows the space left and `docker system df`" in rem and "Get-PSDrive" not in rem


# --- an option that names where a secret is (a path) is no secret ---------------------------------------------------


def test_an_option_naming_a_secrets_file_or_an_ordinary_setting_still_goes_in_command():
    # Only an option whose value is the secret (a name word secret/password/token/key, not file/path/...) moves to
    # `secrets`; `--key-file` and `--cache-dir` take a path, which may be written in `command`.
    for option, what in (("--key-file", "key file"), ("--cache-dir", "cache directory")):
        step = run([f"FATAL: {what} not set. Use option {option}"]).remediation[0]
        assert f"pass `{option}` with the value this deployment needs in its arguments" in step, step
        assert "`secrets`" not in step, step


# --- a digest-pinned image that is not the task's own: no 'push the rebuilt image' ---------------------------------


def test_an_exec_format_error_in_anothers_digest_pinned_image_keeps_the_plain_roll_out():
    # The task's own ECR image is rebuilt and pushed to its repository (then a revision must name the new digest);
    # another's (ghcr.io, Docker Hub) is never pushed to: the fix is another tag or an own copy, itself a revision.
    ref = "ghcr.io/runatlantis/atlantis@sha256:" + "66d431df" * 8
    got = run(["exec /usr/local/bin/atlantis: exec format error"],
              containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": ref}])
    assert got.pattern == "container-start-failed", got.pattern
    assert "pins the image by digest" not in "\n".join(got.remediation)


def test_a_batch_jobs_digest_pinned_image_goes_to_the_job_definition():
    # AWS Batch registers the task definition from the job definition: the change (the new digest) belongs there.
    digest = "111122223333.dkr.ecr.us-east-1.amazonaws.com/gateway@sha256:" + "9c2e4b7d" * 8
    cluster = "arn:aws:ecs:us-east-1:111122223333:cluster/etl_Batch_3c4f7a2e-1b2c-4d5e-8f9a-0b1c2d3e4f5a"
    got = run(["exec /usr/local/bin/server: exec format error"], group="family:orders-api", clusterArn=cluster,
              startedBy="3c4f7a2e-1b2c-4d5e-8f9a-0b1c2d3e4f5a",
              containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": digest}])
    rem = "\n".join(got.remediation)
    assert "pins the image by digest" not in rem and "job definition" in rem, rem


# --- the architecture rebuild's tag: a digest is never a build's tag -------------------------------------------------


def _build_steps(image: str) -> str:
    got = run(["exec /usr/local/bin/server: exec format error"],
              containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "image": image}])
    return "\n".join(s for s in got.remediation if "buildx build" in s)


def test_a_digest_pinned_rebuild_is_tagged_and_a_tagged_one_keeps_its_tag():
    repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/gateway"
    pinned = _build_steps(f"{repo}@sha256:" + "9c2e4b7d" * 8)
    assert "-t " + repo + ":amd64 --push" in pinned and "@sha256" not in pinned.split("buildx build", 1)[1], pinned
    assert "-t " + repo + ":1.4 --push" in _build_steps(f"{repo}:1.4@sha256:" + "9c2e4b7d" * 8)
    plain = _build_steps(f"{repo}:1.4")  # the near miss: a tag stays the build's tag, no digest step
    assert f"-t {repo}:1.4 --push ." in plain and "imagetools inspect" not in plain, plain


# --- a log router's own job: its CreateLogGroup denial, when it failed its health check, is the cause -----------------

_ROUTER_DENIED = ("[error] [output:cloudwatch_logs:cloudwatch_logs.0] CreateLogGroup API responded with error="
                  "'AccessDeniedException', message='User: arn:aws:sts::111122223333:assumed-role/ledger-task-role/abc "
                  "is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:111122223333:"
                  "log-group:/ecs/ledger:log-stream:'")
_ROUTER_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"


def _router_confidence(router: dict[str, Any]) -> float:
    m = IAM.match(evidence({"log_router": [_ROUTER_DENIED]}, stoppedReason="Task failed container health checks",
                           containers=[box(143, "ledger"), router]))
    assert m is not None and m.facts["action"] == "logs:CreateLogGroup" and m.facts["container"] == "log_router", m
    return m.confidence


def test_a_log_router_that_failed_its_health_check_over_a_denial_is_stopped_by_that_denial():
    # Shipping logs is the router's whole job: refused its group, it goes unhealthy and stops the task.
    assert _router_confidence(box(143, "log_router", image=_ROUTER_IMAGE, healthStatus="UNHEALTHY")) == 0.93
    assert _router_confidence(box(1, "log_router", image=_ROUTER_IMAGE)) == 0.93


def test_near_miss_a_healthy_router_stopped_from_outside_keeps_the_denial_a_side_note():
    # Healthy and stopped by a signal with the task: the denial lost records and stopped nothing.
    assert _router_confidence(box(143, "log_router", image=_ROUTER_IMAGE, healthStatus="HEALTHY")) == 0.6
