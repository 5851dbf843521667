"""fix45: dev34's faults, each rule beside a near miss it must leave alone: the CloudWatch agent's older plugin-prefix
lines are the agent's; PHP-FPM's relay of a worker's stderr carries the message's level, not the relay's; an IAM
denial of a telemetry-only call is a weak lead that a confident cause in the app outranks."""

from __future__ import annotations

from typing import Any

from shared.attribution import speaker
from shared.logs import _text_level
from shared.models.finding import Finding
from shared.patterns.base import container_for_line
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import TG_ARN, box

_CW = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.247350.0"
_PUT_METRIC = ("E! cloudwatch: WriteToCloudWatch failure, err:  AccessDeniedException: User: "
               "arn:aws:sts::111122223333:assumed-role/web-task-role/abc is not authorized to perform: "
               "cloudwatch:PutMetricData because no identity-based policy allows the cloudwatch:PutMetricData action")
_PHP_OOM = ('[12-Mar-2022 20:52:36] WARNING: [pool www] child 41 said into stderr: "NOTICE: PHP message: PHP Fatal '
            'error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /www/x.php on '
            'line 38"')
_DB_DOWN = ("psycopg2.OperationalError: could not connect to server: Connection refused  Is the server running on host "
            '"orders.cluster-abc.us-east-1.rds.amazonaws.com" and accepting TCP/IP connections on port 5432?')
_FPM_STOP = ["[12-Mar-2022 20:52:41] NOTICE: Terminating ...", "[12-Mar-2022 20:52:41] NOTICE: exiting, bye-bye!"]


def _elb(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"stoppedReason": f"Task failed ELB health checks in (target-group {TG_ARN})",
            "stopCode": "ServiceSchedulerInitiated", "containers": list(containers)}


def _with_agent(logs: Any, code: int = 0) -> Finding:
    return run(logs, **_elb(box(code, "web"), box(0, "cloudwatch-agent", image=_CW)))


# --- (a) the CloudWatch agent's "E! <plugin>: ..." lines ----------------------------------------------------------


def test_the_agents_plugin_prefix_line_is_the_agents():
    sidecars = {"cloudwatch-agent": "cloudwatch-agent"}
    for line in (_PUT_METRIC, "W! ec2tagger: Unable to describe ec2 tags",
                 "2024-05-01T10:00:00Z E! cloudwatchlogs: Aws error received when sending logs"):
        assert speaker(line, sidecars) == "cloudwatch-agent", line


def test_near_miss_other_e_bang_lines_are_not_the_agents():
    sidecars = {"cloudwatch-agent": "cloudwatch-agent"}
    for line in ("E! Error: could not open config", "E!: boom", "retrying E! db: x", "E! OK: 3 jobs",
                 "ERROR! cloudwatch: x"):
        assert speaker(line, sidecars) is None, line


def test_an_unlabelled_agent_denial_is_put_on_the_agent():
    ev = evidence([_PUT_METRIC, "boot ok"], **_elb(box(1, "web"), box(0, "cloudwatch-agent", image=_CW)))
    assert container_for_line(ev, 0) == "cloudwatch-agent"
    # the app failed on its own and the agent did not: the agent's complaint is noise, not the cause
    assert _with_agent([_PUT_METRIC, "boot ok"], code=1).pattern == "health-check-failed"


def test_near_miss_the_same_line_in_the_apps_own_stream_stays_the_apps():
    got = _with_agent({"web": [_PUT_METRIC]}, code=1)
    assert got.pattern == "iam-access-denied" and got.facts.get("container") == "web"


# --- PHP-FPM's relay of a worker's stderr --------------------------------------------------------------------------


def test_a_relayed_php_fatal_error_is_fatal_whatever_the_relays_level():
    assert _text_level(_PHP_OOM) == "fatal"
    assert _text_level('WARNING: [pool www] child 7 said into stderr: "ERROR: boom"') == "error"


def test_near_miss_relayed_php_warnings_and_plain_messages_stay_quiet_or_levelless():
    assert _text_level('WARNING: [pool www] child 7 said into stderr: "NOTICE: PHP message: PHP Warning:  x"') == "warn"
    assert _text_level('WARNING: [pool www] child 7 said into stderr: "hello"') is None
    assert _text_level("WARNING: [pool www] server reached pm.max_children setting (5)") == "warn"


def test_php_memory_limit_relayed_by_fpm_is_the_cause_of_failed_health_checks():
    got = run([_PHP_OOM, *_FPM_STOP], **_elb(box(0, "web")))
    assert got.pattern == "out-of-memory" and got.facts.get("limit_source") == "PHP memory_limit"


# --- (b) a telemetry-only denial does not outrank the app's own failure -------------------------------------------


def test_a_metrics_denial_from_the_agent_does_not_outrank_the_apps_memory_limit():
    got = _with_agent([_PUT_METRIC, _PHP_OOM, *_FPM_STOP])
    assert got.pattern == "out-of-memory" and got.facts.get("container") == "web"


def test_a_telemetry_denial_in_the_apps_own_stream_does_not_outrank_a_confident_cause_either():
    traces = ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/web-task-role/abc is not "
              "authorized to perform: xray:PutTraceSegments on resource: *")
    got = run({"web": [traces, _DB_DOWN]}, **_elb(box(1, "web")))
    assert got.pattern == "database-connection-failed", (got.pattern, got.also_matched)


def test_near_miss_a_telemetry_denial_alone_is_still_named():
    got = run([_PUT_METRIC], **_elb(box(1, "web")))
    assert got.pattern == "iam-access-denied" and got.facts.get("action") == "cloudwatch:PutMetricData"


def test_near_miss_a_data_call_denial_keeps_its_confidence():
    denied = ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/web-task-role/abc is not "
              "authorized to perform: s3:GetObject on resource: arn:aws:s3:::orders/config.json")
    got = run({"web": [denied, _DB_DOWN]}, **_elb(box(1, "web")))
    assert got.pattern == "iam-access-denied" and got.confidence >= 0.9, (got.pattern, got.confidence)


# --- exit 139: the advice follows the backtrace -------------------------------------------------------------------

_SEGV = "[2023/04/08 16:04:31] [engine] caught signal (SIGSEGV)"
_RAN_20_S = {"startedAt": "2024-05-01T10:00:00Z", "stoppingAt": "2024-05-01T10:00:20Z"}


def _segv(logs: list[str], **detail: Any) -> list[str]:
    return run(logs, containers=[box(139, "router", image="fluent/fluent-bit:2.0.9")], **detail).remediation


def _step_139(steps: list[str]) -> str:
    return next(s for s in steps if s.startswith("Exit 139"))


def test_a_backtrace_in_the_programs_own_code_after_running_is_a_bug_in_that_release():
    step = _step_139(_segv([_SEGV, "#0  0x555d360e36cb      in  flb_task_retry_create() at src/flb_task.c:122",
                            "#1  0x7efc2cdfcea6      in  start_thread() at reate.c:477"], **_RAN_20_S))
    assert "own code" in step and "flb_task_retry_create() at src/flb_task.c:122" in step
    assert "had run 20 s" in step and "fluent/fluent-bit:2.0.9" in step and "architecture mismatch," not in step


def test_system_frames_are_skipped_for_the_programs_own():
    step = _step_139(_segv([_SEGV, "#0: __restore_rt [0x7fa153dbe390]",
                            "#1: Envoy::Server::ConnectionHandlerImpl::ActiveSocket::continueFilterChain() [0x89437c]"]))
    assert "continueFilterChain()" in step and "__restore_rt" not in step


def test_near_miss_a_segfault_without_a_backtrace_keeps_the_native_library_reading():
    step = _step_139(_segv([_SEGV], **_RAN_20_S))
    assert "architecture mismatch" in step and "own code" not in step


def test_near_miss_a_fault_inside_the_c_library_or_a_loaded_library_is_not_the_programs_bug():
    for frame in ("#0  0x00007f3a12345678 in raise () from /lib/x86_64-linux-gnu/libc.so.6",
                  "#0  0x00007f3a12345678 in png_read_row () from /usr/lib/libpng16.so.16",
                  "/usr/local/lib/python3.11/site-packages/numpy/core/_umath.so(+0x1d2f)[0x7f3a12345678]"):
        step = _step_139(_segv([_SEGV, frame], **_RAN_20_S))
        assert "architecture mismatch" in step and "own code" not in step, frame


# --- secrets / registry auth / env files at start: what the agent fetched, over which network ---------------------

_ECR_IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
_KILLED = "ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed"
_ENV_TIMEOUT = ("ResourceInitializationError: failed to download env files: file download command: non empty error "
                "stream: RequestCanceled: request context canceled caused by: context deadline exceeded")
_ENV_FILE = "arn:aws:s3:::orders-config/prod.env"


def _at_start(reason: str, image: str = _ECR_IMAGE, **detail: Any) -> Finding:
    return run([], stoppedReason=reason, stopCode="TaskFailedToStart",
               containers=[{"name": "app", "lastStatus": "STOPPED", "image": image}], **detail)


def test_a_killed_fetch_leads_with_the_network_path_and_the_ecr_api_endpoint():
    steps = _at_start(_KILLED).remediation
    assert steps[0].startswith("`signal: killed`") and "com.amazonaws.us-east-1.ecr.api" in steps[0]
    assert "ecr.dkr" in steps[0] and "com.amazonaws.us-east-1.s3" in steps[0] and _ECR_IMAGE in steps[0]
    assert "subnet-0a1b2c3d4e5f60718" in steps[0] and "secretsmanager" in steps[0]
    assert steps[1].startswith("Then check the task EXECUTION role")


def test_near_miss_a_killed_fetch_of_a_non_ecr_image_names_no_ecr_endpoint():
    steps = _at_start(_KILLED, image="nginx:1.25").remediation
    assert steps[0].startswith("`signal: killed`") and "ecr.api" not in steps[0]


def test_near_miss_a_bare_failure_that_was_not_killed_keeps_the_role_first():
    steps = _at_start("ResourceInitializationError: unable to pull secrets or registry auth: pull command "
                      "failed: : exit status 1").remediation
    assert steps[0].startswith("Check the task EXECUTION role") and "signal: killed" not in steps[0]


def _env_override(*files: str) -> dict[str, Any]:
    return {"containerOverrides": [{"name": "app", "environment": [{"name": "TOKEN", "value": "s3cr3t"}],
                                    "environmentFiles": [{"type": "s3", "value": f} for f in files]}]}


def test_an_env_file_timeout_is_s3_reachability_and_the_rerun_keeps_the_file():
    got = _at_start(_ENV_TIMEOUT, group="family:orders-api", startedBy=None, overrides=_env_override(_ENV_FILE))
    steps = got.remediation
    assert "com.amazonaws.us-east-1.s3" in steps[0] and _ENV_FILE in steps[0] and "secretsmanager" not in steps[0]
    # fix47: a timeout is no refusal, so the role's grant is a later check for an AccessDenied, not step 2
    grant = next(s for s in steps if "s3:GetObject" in s)
    assert "arn:aws:s3:::orders-config" in grant and "s3:GetBucketLocation" in grant
    assert steps.index(grant) > 0 and grant.startswith("If, once the network path works")
    rerun = next(s for s in steps if "aws ecs run-task" in s)
    assert _ENV_FILE in rerun and "environmentFiles" in rerun and "securityGroups" in rerun
    assert "s3cr3t" not in rerun  # an environment override's value is never pasted


def test_near_miss_a_secrets_manager_timeout_still_names_its_endpoint():
    steps = _at_start("ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                      "retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): "
                      "RequestError: send request failed caused by: Post https://secretsmanager.us-east-1.amazonaws.com/"
                      ": dial tcp 10.0.0.1:443: i/o timeout").remediation
    assert "secretsmanager" in " ".join(steps) and "s3:GetObject" not in " ".join(steps)


def test_near_miss_a_rerun_without_file_overrides_adds_none():
    got = _at_start(_ENV_TIMEOUT, group="family:orders-api", startedBy=None)
    rerun = next(s for s in got.remediation if "aws ecs run-task" in s)
    assert "--overrides" not in rerun


# --- a full Docker storage during an image pull on EC2: the image and the instance it has -------------------------

_CI = "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/7dfa9baa86a7b41221d41559d9c5e733"
_PULL_FULL = ("CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): write "
              "/usr/share/vim/vim74/syntax/sisu.vim: no space left on device")


def test_a_pull_that_fills_the_instances_disk_sizes_the_volume_for_that_image():
    got = _at_start(_PULL_FULL, image="nvcr.io/nvidia/digits:18.01", launchType="EC2", containerInstanceArn=_CI)
    assert got.pattern == "disk-full"
    steps = " ".join(got.remediation)
    assert "docker image inspect --format '{{.Size}}' nvcr.io/nvidia/digits:18.01" in steps
    assert f"--container-instances {_CI}" in steps and "df -h /var/lib/docker" in steps


def test_near_miss_an_app_filling_its_disk_gets_no_image_sizing_step():
    got = run({"app": ["OSError: [Errno 28] No space left on device: '/var/cache/app/blob.bin'"]},
              launchType="EC2", containerInstanceArn=_CI, containers=[box(1, "app")])
    assert got.pattern == "disk-full"
    assert not [s for s in got.remediation if "docker image inspect" in s or "downloads and unpacks" in s]
