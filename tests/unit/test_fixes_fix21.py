"""Advice for a diagnosis that is right but whose step 1 was generic or said something untrue: each rule has a near
miss that must keep today's step."""

from __future__ import annotations

from tests.unit.helpers import run

_SCALING = {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            "stopCode": "ServiceSchedulerInitiated"}


def _stopping(seconds: int) -> dict[str, str]:
    return {"stoppingAt": "2024-05-01T10:00:00Z", "executionStoppedAt": f"2024-05-01T10:00:{seconds:02d}Z",
            "stoppedAt": f"2024-05-01T10:00:{seconds + 1:02d}Z"}


def test_an_ordered_stop_that_ended_in_sigkill_after_the_stop_timeout_says_sigterm_was_not_handled():
    got = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}], **_SCALING, **_stopping(31))
    assert got.pattern == "expected-stop"
    step = got.remediation[0]
    assert "SIGTERM" in step and "exec" in step and "initProcessEnabled" in step and "stopTimeout" in step
    assert "31 s" in step


def test_a_quick_137_or_a_sidecars_137_on_an_ordered_stop_is_still_nothing_to_fix():
    quick = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"}], **_SCALING, **_stopping(2))
    assert quick.remediation[0] == "Nothing to fix."
    sidecar = run([], containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"},
                                  {"name": "datadog-agent", "exitCode": 137, "lastStatus": "STOPPED"}],
                  **_SCALING, **_stopping(31))
    assert sidecar.remediation[0] == "Nothing to fix."


_ELB = {"stoppedReason": "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:"
                         "111122223333:targetgroup/web-tg/0123456789abcdef)",
        "stopCode": "ServiceSchedulerInitiated", "containers": [{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}]}


def test_a_server_that_exits_under_supervisord_is_step_1_of_an_elb_health_check_stop():
    logs = ["INFO spawned: 'web' with pid 10", "INFO success: web entered RUNNING state",
            "INFO exited: web (exit status 1; not expected)", "INFO spawned: 'web' with pid 31"]
    got = run(logs, **_ELB)
    assert got.pattern == "health-check-failed"
    step = got.remediation[0]
    assert "`web` exiting with status 1" in step and "[program:web]" in step and "redirect_stderr" in step


def test_a_program_that_exits_as_expected_keeps_the_target_group_step():
    logs = ["INFO spawned: 'cron' with pid 10", "INFO exited: cron (exit status 0; expected)"]
    got = run(logs, **_ELB)
    assert got.remediation[0].startswith("Compare the target group's health check")


def test_an_access_log_without_a_supervised_exit_keeps_the_target_group_step():
    line = '10.0.1.9 - - [01/May/2024:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.0"'
    assert run([line], **_ELB).remediation[0].startswith("Compare the target group's health check")


def test_node_frames_pasted_without_their_indentation_still_make_the_thrown_error_the_exception():
    logs = ["Error: EACCES: permission denied, mkdir '/srv/cache/assets'", "at mkdir (node:internal/fs/promises:858:10)",
            "at build (/srv/app/dist/start.js:109:17)", "Exiting due to an error.", "Error: Exiting due to an error."]
    got = run(logs)
    assert got.pattern == "app-crash"
    assert got.facts["exception"].startswith("Error: EACCES") and got.facts["language"] == "node"
    step = got.remediation[0]
    assert "may not write `/srv/cache/assets`" in step and "readonlyRootFilesystem" in step
    # Near miss: an English line starting with "at" and no file location is no frame.
    plain = run(["Error: queue drained", "at least one worker must stay up", "Error: Exiting due to an error."])
    assert "EACCES" not in plain.facts.get("exception", "") and plain.facts.get("language") != "node"


def test_a_path_refused_for_reading_keeps_the_ownership_step_and_a_read_only_fs_says_so():
    read = run(["open /etc/app/key.pem: permission denied"]).remediation[0]
    assert "may not use `/etc/app/key.pem`" in read and "readonlyRootFilesystem" not in read
    rofs = run(["Error: mkdir /var/cache/app: read-only file system"]).remediation[0]
    assert "read-only file system" in rofs and "mountPoint at `/var/cache/app`" in rofs


_SPRING = ["ERROR 7 --- [ main] o.s.boot.SpringApplication : Application run failed",
           "org.springframework.context.ApplicationContextException: Unable to start web server; nested exception is "
           "org.springframework.boot.web.server.WebServerException: Unable to start embedded Tomcat",
           "at org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext.onRefresh("
           "ServletWebServerApplicationContext.java:163) ~[spring-boot-2.6.1.jar!/:2.6.1]"]


def test_a_jvm_trace_the_log_cuts_after_its_first_frame_is_not_called_whole():
    step = run(_SPRING).remediation[0]
    assert "whole trace" not in step and "log stream" in step and "Caused by:" in step


def test_a_jvm_trace_with_its_causes_and_a_go_panic_in_main_keep_the_whole_trace():
    frames = [f"at org.example.App.step{i}(App.java:{i + 10})" for i in range(6)]
    whole = _SPRING + frames + ["Caused by: java.net.BindException: Address already in use",
                                "at sun.nio.ch.Net.bind0(Native Method)", "at sun.nio.ch.Net.bind(Net.java:555)",
                                "at org.example.App.main(App.java:9)"]
    assert "log stream" not in run(whole).remediation[0]
    go = ["panic: runtime error: index out of range [1] with length 1", "", "goroutine 1 [running]:", "main.main()",
          "\t/src/app/main.go:92 +0x153"]
    step = run(go, containers=[{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}]).remediation[0]
    assert "whole trace" in step and "log stream" not in step


def _died(code: int) -> list[dict]:
    return [{"name": "app", "exitCode": code, "lastStatus": "STOPPED"}]


def test_a_runner_reporting_only_its_childs_exit_139_gets_the_segfault_step_first():
    got = run(["worker : Exited with error code 139"], containers=_died(139))
    assert got.pattern == "app-crash"
    step = got.remediation[0]
    assert "SIGSEGV" in step and "--disable-dev-shm-usage" in step and not step.startswith("Fix the error")
    assert not any(s.startswith("Exit 139 is a segmentation fault") for s in got.remediation)


def test_an_exit_report_of_a_plain_error_code_keeps_the_generic_step():
    got = run(["worker : Exited with error code 1"], containers=_died(1))
    assert "SIGSEGV" not in got.remediation[0]


_NO_CREDS = ("CannotStartContainerError: API error (500): Failed to initialize logging driver: NoCredentialProviders: "
             "no valid providers in chain. Deprecated.")


def _log_driver(reason: str, launch: str) -> dict:
    return {"stopCode": "TaskFailedToStart", "stoppedReason": "Essential container in task exited", "launchType": launch,
            "containers": [{"name": "app", "lastStatus": "STOPPED", "reason": reason}]}


def test_a_log_driver_with_no_credentials_at_all_is_not_sent_to_create_the_group():
    ec2 = run([], **_log_driver(_NO_CREDS, "EC2"))
    assert ec2.pattern == "log-driver-failed"
    text = " ".join(ec2.remediation)
    assert "create-log-group" not in text and "instance role" in text and "NO_PROXY=169.254.169.254" in text
    fargate = " ".join(run([], **_log_driver(_NO_CREDS, "FARGATE")).remediation)
    assert "executionRoleArn" in fargate and "NO_PROXY" not in fargate and "create-log-group" not in fargate


def test_a_missing_log_group_keeps_its_create_step():
    missing = ("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
               "create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")
    got = run([], **_log_driver(missing, "EC2"))
    assert "create-log-group" in got.remediation[0] and "NO_PROXY" not in " ".join(got.remediation)


_CREDS_TIMEOUT = ["Error when retrieving credentials from container-role: Error retrieving metadata: Received error when "
                  "attempting to retrieve ECS metadata: Connect timeout on endpoint URL: "
                  "\"http://169.254.170.2/v2/credentials/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\""]


def test_the_agent_log_path_follows_the_instances_platform():
    def agent_step(image: str) -> str:
        got = run(_CREDS_TIMEOUT, launchType="EC2", containers=[{"name": "app", "exitCode": 255,
                                                                 "lastStatus": "STOPPED", "image": image}])
        return " ".join(got.remediation)
    windows = agent_step("111122223333.dkr.ecr.us-east-1.amazonaws.com/ingest:ltsc2019")
    assert "C:\\ProgramData\\Amazon\\ECS\\log\\ecs-agent.log" in windows and "/var/log/ecs" not in windows
    # Near miss: a Linux image keeps the Linux path.
    linux = agent_step("111122223333.dkr.ecr.us-east-1.amazonaws.com/ingest:2024.05")
    assert "/var/log/ecs/ecs-agent.log" in linux and "ProgramData" not in linux


def test_a_log_shippers_named_call_is_the_denied_action():
    logs = ["[2024/05/01 10:00:00] [ info] [output:cloudwatch_logs:cloudwatch_logs.0] Creating log group /app/orders",
            "[2024/05/01 10:00:00] [error] [output:cloudwatch_logs:cloudwatch_logs.0] CreateLogGroup API responded "
            "with error='AccessDeniedException'",
            "[2024/05/01 10:00:00] [error] [output:cloudwatch_logs:cloudwatch_logs.0] Failed to create log group"]
    got = run(logs, containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}])
    assert got.pattern == "iam-access-denied" and got.facts["action"] == "logs:CreateLogGroup"
    assert "does not name the denied action" not in got.remediation[0] and "logs:CreateLogGroup" in got.remediation[0]
    # Near miss: an API error that is no denial names no denied action.
    other = run([logs[0], logs[1].replace("AccessDeniedException", "ThrottlingException")],
                containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"}])
    assert other.facts.get("action") != "logs:CreateLogGroup"


def _oom(**detail: object) -> list[str]:
    got = run([], containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                               "reason": "OutOfMemoryError: Container killed due to memory usage",
                               "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/worker:1.2"}], **detail)
    assert got.pattern == "out-of-memory"
    return [s for s in got.remediation if s.startswith("Reproduce locally")]


def test_the_out_of_memory_repro_runs_the_tasks_command():
    (step,) = _oom()
    assert "describe-task-definition" in step and 'worker:1.2 "${cmd[@]}"' in step


def test_a_batch_jobs_repro_reads_the_command_from_the_job():
    (step,) = _oom(startedBy="arn:aws:batch:us-east-1:111122223333:job/8d0c5a7e-2f41-4c3a-9e6b-7a1d2c3b4f50",
                   clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-ce-0123")
    assert "aws batch describe-jobs --jobs 8d0c5a7e-2f41-4c3a-9e6b-7a1d2c3b4f50" in step
    assert "jobs[0].container.command" in step and "describe-task-definition" not in step
