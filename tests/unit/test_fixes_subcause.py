"""Fix steps keyed on the sub-cause the evidence shows, each with a near miss that keeps the other advice."""

from __future__ import annotations

import shlex

from shared import remediation as remedy
from shared.inputs import offline_evidence, parse_task_event
from shared.patterns.network_setup_failed import PATTERN as NETWORK_SETUP
from shared.render import steps
from tests.unit.helpers import event, evidence, run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _eni(ip: str | None) -> list[dict]:
    details = [{"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}]
    if ip:
        details.append({"name": "privateIPv4Address", "value": ip})
    return [{"id": "a", "type": "eni", "status": "DELETED", "details": details}]


def test_an_interface_that_got_an_address_rules_out_subnet_exhaustion():
    reason = "ResourceInitializationError: failed to configure ENI: failed to setup regular eni: netplugin failed"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, attachments=_eni("10.0.1.5"))
    assert got.pattern == NETWORK_SETUP.id
    assert "AvailableIpAddressCount" not in _fix(got) and "10.0.1.5" in _fix(got)
    assert "Support case" in _fix(got) and "subnet and ENI capacity" not in got.summary
    # Near miss: no address on the interface, so free addresses stay the check.
    near = run(stopCode="TaskFailedToStart", stoppedReason=reason, attachments=_eni(None))
    assert "AvailableIpAddressCount" in _fix(near)


def test_a_missing_device_mac_is_the_named_reason_not_a_silent_plugin_failure():
    reason = ("ResourceInitializationError: failed to setup network namespace: cni setup: invoke eni plugin failed: "
              "unable to get device with hardware address '02:62:5b:0f:db:fa': device with mac address not found")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", attachments=_eni(None))
    assert "names its reason" in _fix(got) and "without naming a reason" not in _fix(got)
    assert "AvailableIpAddressCount" not in _fix(got)
    # Near miss: the message says the subnet has no free addresses: that stays the advice.
    full = run(stopCode="TaskFailedToStart", attachments=_eni("10.0.1.5"),
               stoppedReason="ResourceInitializationError: failed to configure ENI: subnet does not have enough free addresses")
    assert "AvailableIpAddressCount" in _fix(full)




def _app(exit_code: int, **extra) -> list[dict]:
    return [{"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2", **extra}]


def test_php_memory_limit_is_raised_first_and_no_kill_is_claimed():
    line = "PHP Fatal error:  Allowed memory size of 268435456 bytes exhausted (tried to allocate 4096 bytes)"
    got = run([line], containers=_app(255))
    assert got.pattern == "out-of-memory"
    assert "memory_limit" in got.remediation[0] and "limit it hit" not in _fix(got)
    assert "before the kill" not in _fix(got)
    # Near miss: a plain 137 kill keeps the container-memory step first and the kill wording.
    killed = run(["Killed"], containers=_app(137, reason="OutOfMemoryError: Container killed due to memory usage"),
                 stopCode="EssentialContainerExited")
    assert killed.pattern == "out-of-memory" and "memory_limit" not in killed.remediation[0]


def test_on_ec2_the_task_memory_limit_is_raised_at_the_task_level():
    reason = "OutOfMemoryError: Container killed due to memory usage"
    got = run(["Killed"], containers=_app(137, reason=reason), launchType="EC2", memory="2048")
    assert 'task-level `"memory"' in _fix(got)
    # Near miss: the container has its own hard limit, so that is the one to raise.
    own = run(["Killed"], containers=_app(137, reason=reason, memory="512"), launchType="EC2", memory="2048")
    assert 'task-level `"memory"' not in _fix(own) and '`"memory":' in _fix(own)


def test_the_tool_check_lists_every_tool_in_dash_and_busybox():
    # dash and busybox `command -v a b c` look up only the first name: loop over them.
    got = run(stopCode="TaskFailedToStart", stoppedReason="Task failed container health checks",
              containers=_app(137, healthStatus="UNHEALTHY"))
    text = _fix(got)
    assert "command -v curl wget" not in text
    assert 'for x in curl wget python3 bash; do command -v "$x"; done' in text


_DENIED = ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/orders-task/abc is not authorized to "
           "perform: {action}{on}")


def test_an_action_denied_on_resource_star_keeps_star_and_is_not_told_to_narrow():
    got = run([_DENIED.format(action="ecs:ListClusters", on=" on resource: *")], containers=_app(1))
    assert got.pattern == "iam-access-denied"
    assert "does not name the resource" not in _fix(got) and "no resource-level permissions" in _fix(got)
    # Near miss: the error names no resource at all, so narrowing through CloudTrail stays.
    bare = run([_DENIED.format(action="ecs:ListClusters", on="")], containers=_app(1))
    assert "does not name the resource" in _fix(bare)


def test_keys_from_the_environment_make_the_user_the_caller_and_the_new_revision_is_rolled_out():
    logs = ["Found credentials in environment variables.",
            "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the ReceiveMessage "
            "operation: Access to the resource https://sqs.us-east-1.amazonaws.com/ is denied."]
    got = run(logs, containers=_app(1))
    assert "access keys" in got.summary and "task role does not allow" not in got.summary
    # The new revision is rolled out with a new deployment (a family that names the running revision starts none).
    assert "--task-definition orders-api --force-new-deployment" in got.remediation[-1]
    # Near miss: no sign of environment keys: the task role is the caller and a restart is enough.
    plain = run(logs[1:], containers=_app(1))
    assert "access keys" not in plain.summary and "restart" in plain.remediation[-1]


def test_a_runtime_that_failed_to_send_sigterm_is_not_the_apps_signal_handling():
    reason = "CannotStopContainerError: failed sending SIGTERM to container: context deadline exceeded"
    got = run(containers=_app(137, reason=reason), launchType="EC2",
              containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0123456789abcdef")
    assert got.pattern == "platform-error"
    assert "handle SIGTERM" not in _fix(got) and "restart the ECS agent and Docker" in _fix(got)
    # Near miss: the container did not stop in time: its SIGTERM handling is the fix.
    slow = run(containers=_app(137, reason="CannotStopContainerError: timeout waiting for container to stop"),
               launchType="EC2")
    assert slow.pattern == "platform-error" and "handle SIGTERM" in _fix(slow)


def test_a_fargate_disk_is_not_relieved_by_a_bind_mount():
    line = "OSError: [Errno 28] No space left on device"
    got = run([line], containers=_app(1))
    assert got.pattern == "disk-full" and "EFS or a bind mount" not in _fix(got) and "same ephemeral" in _fix(got)
    # Near miss: on EC2 a bind mount onto the host's larger volume does help.
    ec2 = run([line], containers=_app(1), launchType="EC2")
    assert ec2.pattern == "disk-full" and "EFS or a bind mount" in _fix(ec2)


def test_exit_132_is_an_illegal_instruction_in_a_native_library():
    line = "kernel: traps: ruby[22252] trap invalid opcode ip:7f842b55c166 sp:7ffd in libnative_ext.so[7f842b500000+1b4000]"
    got = run([line], containers=_app(132))
    assert got.pattern == "app-crash"
    assert "SIGILL" in got.remediation[0] and "whole trace" not in _fix(got)


def test_the_whole_trace_is_promised_only_when_frames_were_found():
    got = run(["RuntimeError: something broke"], containers=_app(1))
    assert got.pattern == "app-crash" and "whole trace" not in _fix(got)
    # Near miss: a traceback with a frame is the whole trace.
    traced = run(["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                  "RuntimeError: something broke"], containers=_app(1))
    assert "whole trace" in _fix(traced)


def test_a_segfault_gets_no_architecture_or_node_report_advice():
    got = run(containers=_app(139))
    assert got.pattern == "unknown" and "SIGSEGV" in _fix(got)
    assert "--report-on-fatalerror" not in _fix(got) and "architecture matches" not in _fix(got)
    # Near miss: SIGILL is about the CPU, so the CPU check stays.
    ill = run(containers=_app(132))
    assert ill.pattern == "unknown" and "cpu-architecture" in _fix(ill)


def test_a_read_timeout_on_an_open_socket_is_not_a_security_group_drop():
    line = ("com.mongodb.MongoSocketReadTimeoutException: Timeout while receiving message; "
            "java.net.SocketTimeoutException: Read timed out to docs.cluster-abc.us-east-1.docdb.amazonaws.com:27017")
    got = run([line], containers=_app(1))
    assert got.pattern == "database-connection-failed"
    assert "tls=true" in _fix(got) and "get no answer" not in _fix(got) and "read timeout" in got.summary
    # Near miss: a connect timeout keeps the security-group step.
    conn = run(["com.mongodb.MongoSocketOpenException: Exception opening socket: connect timed out to "
                "docs.cluster-abc.us-east-1.docdb.amazonaws.com:27017"], containers=_app(1))
    assert conn.pattern == "database-connection-failed" and "security group must admit" in _fix(conn)


def test_a_pool_acquire_timeout_is_not_proof_of_a_network_timeout_and_no_default_port_is_invented():
    got = run(["KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full.",
               "    at Client_PG.acquireConnection (/usr/src/app/node_modules/knex/lib/client.js:348:26) {",
               "  sql: \"SELECT datname FROM pg_database WHERE datistemplate = false\","], containers=_app(1))
    assert got.pattern == "database-connection-failed"
    assert "pool" in got.remediation[0] and "get no answer" not in _fix(got) and "5432" not in _fix(got)
    assert "(pool timeout)" in got.title


def test_a_task_an_eventbridge_rule_starts_rolls_out_by_updating_the_rules_target():
    ev = evidence(group="family:orders-api", startedBy="events-rule/nightly-export")
    out = remedy.roll_out(ev)
    assert "aws events put-targets --rule nightly-export" in out and "EcsParameters.TaskDefinitionArn" in out
    # A startedBy at ECS's 36-character cap may be cut short: find the rule by its target instead.
    cut = remedy.roll_out(evidence(group="family:orders-api", startedBy="events-rule/a-very-long-rule-name-xy"))
    assert "list-rule-names-by-target" in cut and "--rule a-very" not in cut
    # Near miss: a person's run-task has no rule: the new revision is run again.
    by_hand = remedy.roll_out(evidence(group="family:orders-api", startedBy="ecs-cli"))
    assert "put-targets" not in by_hand and "aws ecs run-task" in by_hand


def test_a_public_image_pulled_through_the_tasks_own_interface_proves_a_route_out():
    containers = [*_app(1), {"name": "agent", "exitCode": 0, "lastStatus": "STOPPED",
                             "image": "public.ecr.aws/datadog/agent:7.51.0"}]
    line = "ConnectTimeoutError: Connect Timeout Error (attempted address: api.example.com:443, timeout: 10000ms)"
    got = run([line], containers=containers, platformVersion="1.4.0", pullStoppedAt="2024-05-01T09:59:00Z")
    assert got.pattern == "network-egress-blocked"
    assert "route out" in got.remediation[0] and "NAT gateway" not in _fix(got)
    # Near miss: on EC2 with awsvpc the pull used the instance's interface, so the subnet's route stays in question.
    ec2 = run([line], containers=containers, launchType="EC2", pullStoppedAt="2024-05-01T09:59:00Z",
              attachments=_eni("10.0.1.5"))
    assert ec2.pattern == "network-egress-blocked" and "NAT gateway" in _fix(ec2)


def test_a_registry_refusal_of_a_tag_gets_no_s3_layer_or_digest_steps():
    ecr = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api"
    denied = (f"CannotPullContainerError: Error response from daemon: pull access denied for {ecr}, repository does "
              "not exist or may require 'docker login': denied")
    got = run(stopCode="TaskFailedToStart", stoppedReason=denied, containers=_app(0, reason=denied))
    assert got.pattern == "image-pull-failed" and "EXECUTION role" in got.remediation[0]
    assert "starport-layer-bucket" not in _fix(got) and "@sha256:" not in _fix(got)
    # Near miss: the 403 came from the S3 layer bucket, so the endpoint policy step stays.
    layer = ("CannotPullContainerError: failed to copy: httpReadSeeker: failed open: unexpected status code "
             "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abc: 403 Forbidden")
    s3 = run(stopCode="TaskFailedToStart", stoppedReason=layer, containers=_app(0, reason=layer))
    assert s3.pattern == "image-pull-failed" and "starport-layer-bucket/*" in _fix(s3)


def _windows_start(image: str, command_line: str):
    reason = ("CannotStartContainerError: Error response from daemon: container 21395f00 encountered an error during "
              "hcsshim::System::CreateProcess: failure in a Windows system call: The system cannot find the file "
              "specified. (0x2)")
    detail = f'extra info: {{"CommandLine":"{command_line}","User":"ContainerUser","WorkingDirectory":"C:\\\\"}}'
    return run([reason, detail], stopCode="TaskFailedToStart", stoppedReason="Essential container in task exited",
               launchType="EC2", platformFamily="WINDOWS_SERVER_2019_CORE",
               containers=[{"name": "app", "lastStatus": "STOPPED", "image": image, "reason": reason}])


def test_nanoserver_has_no_windows_powershell_so_the_command_becomes_pwsh():
    got = _windows_start("mcr.microsoft.com/powershell:nanoserver-1909", "powershell")
    assert got.pattern == "container-start-failed" and "pwsh" in got.remediation[0]
    # Near miss: another executable named in the command line gets a lookup of that very executable.
    other = _windows_start("mcr.microsoft.com/windows/servercore:ltsc2019", "myjob.exe --once")
    assert "pwsh" not in _fix(other) and "where myjob.exe" in _fix(other)


def test_a_missing_compiled_node_addon_is_reinstalled_for_the_images_platform():
    got = run(["Error: Cannot find module '../build/Release/sharp-linuxmusl-arm64v8.node'",
               "Require stack:", "- /srv/app/node_modules/sharp/lib/sharp.js"], containers=_app(1))
    assert got.pattern == "missing-dependency"
    assert "npm install --os=linux --libc=musl --cpu=arm64 sharp" in _fix(got)
    assert "a file of the app" not in _fix(got) and "require.resolve('../" not in _fix(got)
    # Near miss: a missing build output of the app itself stays the build/COPY/WORKDIR advice.
    app_file = run(["Error: Cannot find module '/app/dist/index.js'"], containers=_app(1))
    assert app_file.pattern == "missing-dependency" and "a file of the app" in _fix(app_file)


def test_commands_name_the_tasks_region_when_it_is_known():
    ev = evidence()
    assert remedy.describe_task_definition(ev).endswith("--region us-east-1")
    assert " --region us-east-1" in remedy.run_task(ev)
    # Near miss: a reporter masked the region (event and ARNs): no --region is guessed.
    raw = event(taskArn="arn:aws:ecs:<region>:111122223333:task/prod/0123456789abcdef0123456789abcdef")
    raw["region"] = "<region>"
    masked = offline_evidence(parse_task_event(raw), [])
    assert "--region" not in remedy.describe_task_definition(masked)


def test_a_secrets_fetch_retried_once_is_a_non_retryable_error_not_a_timeout():
    def reason(n: int) -> str:
        return ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                f"failed: unable to retrieve secrets from ssm: service call has been retried {n} time(s): ...")

    once = run(stopCode="TaskFailedToStart", stoppedReason=reason(1), containers=_app(0))
    assert once.pattern == "secrets-retrieval-failed"
    assert "non-retryable" in _fix(once) and "usually means the fetch timed out" not in _fix(once)
    # Near miss: five retries are the SDK's retries of a timeout: the network path stays first.
    five = run(stopCode="TaskFailedToStart", stoppedReason=reason(5), containers=_app(0))
    assert "non-retryable" not in _fix(five) and "usually means the fetch timed out" in _fix(five)


def test_a_stack_made_service_gets_its_grace_period_in_the_infrastructure_code():
    reason = ("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:111122223333:"
              "targetgroup/web-tg/0123456789abcdef)")
    # A log in which the app never said it listens: the evidence of a slow start that the grace period needs.
    starting = ["Running migrations:"]
    made = run(starting, stopCode="ServiceSchedulerInitiated", stoppedReason=reason, containers=_app(137),
               group="service:shop-prod-web-Service-aB1cD2eF3gH4")
    assert made.pattern == "health-check-failed"
    grace = next(s for s in made.remediation if "grace period" in s)
    assert grace.index("infrastructure code") < grace.index("update-service")
    assert "security group must admit the load balancer" in _fix(made)
    # Near miss: a hand-named service: the command comes first, the IaC note after it.
    plain = run(starting, stopCode="ServiceSchedulerInitiated", stoppedReason=reason, containers=_app(137))
    grace = next(s for s in plain.remediation if "grace period" in s)
    assert grace.index("update-service") < grace.index("infrastructure code")


def test_a_137_ecs_did_not_initiate_gets_no_stop_timeout_advice():
    got = run(containers=_app(137), stopCode="EssentialContainerExited",
              stoppedReason="Essential container in task exited")
    assert got.pattern == "unknown"
    assert "whether it ignores SIGTERM" not in _fix(got) and "ECS did not stop it" in _fix(got)
    # Near miss: the scheduler stopped the task, so SIGTERM then SIGKILL after stopTimeout fits.
    stopped = run(containers=_app(137), stopCode="ServiceSchedulerInitiated", stoppedReason="Task stopped")
    assert stopped.pattern == "unknown" and "whether it ignores SIGTERM (stopTimeout)" in _fix(stopped)


def _store(image: str, path: str):
    return run([f"write {path}: no space left on device"],
               containers=[{"name": "db", "exitCode": 1, "lastStatus": "STOPPED", "image": image}])


def test_what_grows_in_a_full_data_directory_is_named_for_that_store():
    prom = _store("prom/prometheus:v2.45.0", "/data/wal/00001900")
    assert prom.pattern == "disk-full"
    assert "retention.size" in _fix(prom) and "replication slot" not in _fix(prom)
    # Near miss: a Postgres data directory keeps the WAL/replication-slot hint.
    pg = _store("postgres:16", "/var/lib/postgresql/data/pg_wal/000000010000000000000042")
    assert pg.pattern == "disk-full" and "replication slot" in _fix(pg)


def test_a_timeout_to_an_interface_endpoint_is_not_its_policy():
    ev = evidence([], launchType="EC2", attachments=[])
    timed = remedy.endpoint_unreachable_step(ev, "Post https://logs.us-east-2.amazonaws.com/: dial tcp 10.20.10.16:443: "
                                                 "i/o timeout")
    assert timed and "policy" not in timed.lower()
    # Near miss: a 403 through the endpoint can be its policy.
    denied = remedy.endpoint_unreachable_step(ev, "Post https://logs.us-east-2.amazonaws.com/: dial tcp "
                                                  "10.20.10.16:443: 403 AccessDenied")
    assert denied and "endpoint policy" in denied


def test_a_log_router_that_already_stopped_last_is_not_told_to_use_depends_on():
    router = {"name": "log_router", "exitCode": 137, "lastStatus": "STOPPED",
              "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"}
    done = run(containers=[*_app(0), router], stopCode="EssentialContainerExited",
               stoppedReason="Essential container in task exited")
    assert done.pattern == "expected-stop" and "dependsOn changes nothing" in _fix(done)
    # Near miss: a deployment stopped the whole task at once, so making the router stop last helps.
    deploy = run(containers=[*_app(143), router], stopCode="ServiceSchedulerInitiated",
                 stoppedReason="Scaling activity initiated by (deployment ecs-svc/1234567890123456789)")
    assert deploy.pattern == "expected-stop" and "a dependsOn so it stops last" in _fix(deploy)


def test_a_retry_of_a_scheduled_task_points_at_the_rule_targets_security_groups():
    again = remedy.start_again(evidence(group="family:orders-api", startedBy="events-rule/nightly-export"))
    assert "aws ecs run-task" in again and "list-targets-by-rule --rule nightly-export" in again
    # Near miss: a person's run-task has no rule to read them from.
    by_hand = remedy.start_again(evidence(group="family:orders-api", startedBy="ecs-cli"))
    assert "list-targets-by-rule" not in by_hand


def test_a_cluster_without_instances_reads_the_auto_scaling_activity():
    none = run(stopCode="TaskFailedToStart", launchType="EC2", containers=_app(0),
               stoppedReason="No Container Instances were found in your cluster.")
    assert none.pattern == "insufficient-capacity" and "describe-scaling-activities" in _fix(none)
    # Near miss: instances exist but lack memory: the fix is capacity, not failed launches.
    full = run(stopCode="TaskFailedToStart", launchType="EC2", containers=_app(0),
               stoppedReason="RESOURCE:MEMORY")
    assert full.pattern == "insufficient-capacity" and "describe-scaling-activities" not in _fix(full)


def test_a_plain_service_url_goes_in_the_environment_and_a_connection_string_in_a_secret():
    plain = run(["KeyError: 'PUSHGATEWAY_URL'"], containers=_app(1))
    assert plain.pattern == "missing-env-var"
    assert "create-secret" not in _fix(plain) and "PUSHGATEWAY_URL" in plain.remediation[0]
    # Near miss: a broker URL carries credentials, so it goes to Secrets Manager.
    broker = run(["KeyError: 'REDIS_URL'"], containers=_app(1))
    assert broker.pattern == "missing-env-var" and "create-secret" in _fix(broker)


def test_an_instance_whose_docker_storage_filled_during_a_pull_grows_its_root_volume():
    reason = ("CannotPullContainerError: failed to register layer: write /var/lib/docker/overlay2/abc/diff/x: "
              "no space left on device")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", containers=_app(0, reason=reason))
    assert got.pattern == "disk-full" and "root volume" in _fix(got)
    assert "attach a larger data volume" not in _fix(got)


def test_a_runtimes_own_pool_is_named_in_the_title_not_the_container_limit():
    jvm = run(["Exception in thread \"main\" java.lang.OutOfMemoryError: Direct buffer memory"], containers=_app(3))
    assert jvm.pattern == "out-of-memory" and "direct buffer" in jvm.title and "limit" not in jvm.title
    # Near miss: a 137 kill at the container limit keeps the limit in the title.
    killed = run(["Killed"], containers=_app(137, reason="OutOfMemoryError: Container killed due to memory usage"))
    assert "limit" in killed.title


def test_a_service_restarted_after_a_secrets_fix_takes_the_latest_revision():
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: AccessDeniedException")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0))
    assert got.pattern == "secrets-retrieval-failed"
    assert "--task-definition orders-api --force-new-deployment" in got.remediation[-1]
    # Near miss: a one-off task is simply run again.
    lone = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0), group="family:orders-api",
               startedBy="ecs-cli")
    assert "update-service" not in lone.remediation[-1] and "run-task" in lone.remediation[-1]


def test_a_relative_module_is_looked_for_in_the_image_not_resolved_from_the_workdir():
    rel = run(["Error: Cannot find module './config/settings'"], containers=_app(1))
    assert rel.pattern == "missing-dependency"
    assert "require.resolve('./" not in _fix(rel) and "find / -name 'settings*'" in _fix(rel)
    for cmd in [c for s in rel.remediation for c in steps.commands(s) if c.startswith("docker")]:
        shlex.split(cmd)
    # Near miss: an absolute path resolves the same from anywhere, so require.resolve stays.
    absolute = run(["Error: Cannot find module '/app/dist/index.js'"], containers=_app(1))
    assert "require.resolve('/app/dist/index.js')" in _fix(absolute)


def test_a_named_plumbing_fault_rules_out_the_subnet_but_an_eni_limit_keeps_its_advice():
    veth = ("ResourceInitializationError: Unable to configure pause container namespace, err: bridge create veth "
            "pair: container veth name provided (ecs-eth0) already exists")
    got = run(stopCode="TaskFailedToStart", stoppedReason=veth, launchType="EC2", attachments=_eni(None))
    assert "left over from an earlier task" in got.remediation[0] and "AvailableIpAddressCount" not in _fix(got)
    # Near miss: an instance without a free ENI slot keeps the trunking advice even though the ENI has an address.
    limit = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=_eni("10.0.1.5"),
                stoppedReason="ResourceInitializationError: unable to attach ENI: no unused device index")
    assert "awsvpcTrunking" in _fix(limit) and "Subnet addresses are not the cause" not in _fix(limit)


def test_stack_made_service_names_are_recognised_and_hand_made_ones_are_not():
    def managed(name: str) -> bool:
        return remedy.stack_managed(evidence(group=f"service:{name}"))

    assert managed("shop-prod-web-Service-aB1cD2eF3gH4") and managed("examp-test-api-Service-Zq8mXk")
    # Near misses: names people give by hand.
    assert not managed("orders-api") and not managed("api-Service-v2") and not managed("web-service-prod")


def test_the_local_health_test_uses_the_target_groups_check_port_and_waits_for_an_http_answer():
    tg = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-tg/0123456789abcdef"
    got = run(stopCode="ServiceSchedulerInitiated", containers=_app(137),
              stoppedReason=f"Task failed ELB health checks in (target-group {tg})")
    local = next(s for s in got.remediation if "Test locally" in s)
    assert "HealthCheckPort" in local and '[ "$hc" = traffic-port ] || port=$hc' in local
    assert "--region eu-west-1" in local and '[ "$code" != 000 ]' in local
    for cmd in steps.commands(local):
        shlex.split(cmd)
    # Near miss: without a target group ARN there is no check port to read.
    bare = run(stopCode="ServiceSchedulerInitiated", containers=_app(137),
               stoppedReason="Task failed ELB health checks in (target-group web-tg)")
    assert "HealthCheckPort" not in _fix(bare)


def test_a_trace_without_a_located_frame_is_still_called_a_trace():
    # (Three frames: a JVM trace the log cuts after one or two is not whole, see test_fixes_fix21.)
    got = run(["java.lang.IllegalStateException: Failed to execute CommandLineRunner",
               "\tat org.springframework.boot.SpringApplication.callRunner(SpringApplication.java:774)",
               "\tat org.springframework.boot.SpringApplication.callRunners(SpringApplication.java:755)",
               "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:315)"],
              containers=_app(1))
    assert got.pattern == "app-crash" and "whole trace" in _fix(got)


def test_a_port_shared_with_a_sibling_container_says_how_to_move_one():
    line = "System.Net.Sockets.SocketException (98): Address already in use"
    web = {"name": "web", "exitCode": 0, "lastStatus": "STOPPED", "image": "nginx:1.25"}
    got = run([line, "Failed to bind to address http://[::]:80: address already in use."],
              containers=[*_app(1), web])
    assert got.pattern == "port-in-use" and "ASPNETCORE_URLS" in _fix(got)
    # Near miss: a lone container has no sibling to move: the second-process advice stays alone.
    lone = run([line, "Failed to bind to address http://[::]:80: address already in use."], containers=_app(1))
    assert lone.pattern == "port-in-use" and "ASPNETCORE_URLS" not in _fix(lone)


def test_a_secrets_fetch_without_a_route_names_the_other_endpoints_a_task_needs():
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secrets from ssm: RequestError: send request failed caused by: Post "
              "\"https://ssm.us-east-1.amazonaws.com/\": dial tcp 52.46.1.1:443: i/o timeout")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0))
    assert got.pattern == "secrets-retrieval-failed" and "`ecr.api`, `ecr.dkr`" in _fix(got)


def test_an_outbound_read_timeout_is_not_a_missing_route():
    read = run(["requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.example.com', port=443): "
                "Read timed out. (read timeout=10)"], containers=_app(1))
    assert read.pattern == "network-egress-blocked"
    assert "NAT gateway" not in _fix(read) and "read timeout" in read.remediation[0]
    # Near miss: a connect timeout keeps the route advice.
    conn = run(["requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.example.com', port=443): "
                "Max retries exceeded (connect timeout=10)"], containers=_app(1))
    assert conn.pattern == "network-egress-blocked" and "NAT gateway" in _fix(conn)


def test_a_task_step_functions_starts_rolls_out_through_its_state_machine():
    sfn = remedy.roll_out(evidence(group="family:orders-api", startedBy="AWS Step Functions"))
    assert "state machine" in sfn and "run-task" not in sfn
    # Near miss: a task run by hand is run again on the new revision.
    assert "run-task" in remedy.roll_out(evidence(group="family:orders-api", startedBy="ecs-deploy"))


def test_a_named_but_unknown_plugin_error_is_not_called_a_failure_without_a_cause():
    named = run(stopCode="TaskFailedToStart", attachments=_eni("10.0.1.5"),
                stoppedReason="Unexpected EC2 error while attempting to attach network interface to instance")
    assert "names no specific cause" not in _fix(named) and "AvailableIpAddressCount" not in _fix(named)
    # Near miss: the plugin really said nothing.
    silent = run(stopCode="TaskFailedToStart", attachments=_eni("10.0.1.5"),
                 stoppedReason="ResourceInitializationError: failed to configure ENI: netplugin failed with no error message")
    assert "names no specific cause" in _fix(silent)


def test_a_task_without_its_own_interface_opens_the_instances_security_group_not_the_tasks():
    """Bridge/host mode (no ENI): the load balancer's checks, an EFS mount and a private host are admitted by the
    container instances' security group (for checks on the host port); near miss: awsvpc keeps the task's."""
    reason = ("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:111122223333:"
              "targetgroup/web-tg/0123456789abcdef)")
    bridge = run(stopCode="ServiceSchedulerInitiated", stoppedReason=reason, containers=_app(137),
                 launchType="EC2", attachments=[])
    assert bridge.pattern == "health-check-failed"
    assert "container instances' security group" in _fix(bridge) and "task's security group" not in _fix(bridge)
    assert "host port" in _fix(bridge)
    eni = run(stopCode="ServiceSchedulerInitiated", stoppedReason=reason, containers=_app(137),
              launchType="EC2", attachments=_eni("10.0.1.5"))
    assert "task's security group must admit the load balancer" in _fix(eni)
    line = "connect ETIMEDOUT 10.0.4.20:8443"
    private = run([line, "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)"],
                  containers=_app(1), launchType="EC2", attachments=[])
    assert private.pattern == "network-egress-blocked"
    assert "from the container instances' security group" in _fix(private), _fix(private)


# --- Local reproductions only where a laptop can reproduce the failure ---------------------------------------

_T0 = "2024-05-01T10:00:00Z"


def test_a_crash_after_hours_of_running_gets_no_local_docker_run():
    line = "TypeError: Cannot read properties of undefined (reading 'id')"
    late = run([line], containers=_app(1), startedAt=_T0, stoppedAt="2024-05-01T14:00:00Z")
    assert late.pattern == "app-crash" and "docker run" not in _fix(late)
    # Near miss: the same crash a few seconds after start-up is reproduced with the task's image and command.
    early = run([line], containers=_app(1), startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" in _fix(early)


def test_an_image_that_needs_the_task_metadata_endpoint_is_not_run_locally():
    ev = evidence(["panic: runtime error: invalid memory address or nil pointer dereference"],
                  containers=[{"name": "telegraf", "exitCode": 2, "image": "telegraf:1.30"}],
                  startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert remedy.local_repro_blocked(ev, "telegraf")
    # Near miss: an application image of the same name shape, started and failed at once, can be run locally.
    near = evidence(["panic: boom"], containers=[{"name": "api", "exitCode": 2, "image": "acme/telegraf-exporter:1"}],
                    startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert remedy.local_repro_blocked(near, "api") is None


def test_a_path_the_user_may_not_write_is_not_reproduced_from_the_image_alone():
    # Who may write a data directory depends on the volume the task mounts there; a plain run mounts nothing.
    denied = run(["open /srv/data/cache.db: permission denied"], containers=_app(1),
                 startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" not in _fix(denied)
    # Near misses: a missing file at that path, or a refused port bind, is the image's own: a local run shows it.
    missing = run(["open /srv/data/cache.db: no such file or directory"], containers=_app(1),
                  startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" in _fix(missing)
    bind = run(["listen tcp :80: bind: permission denied"], containers=_app(1),
               startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" in _fix(bind)


def test_a_container_check_that_failed_after_a_long_run_gets_no_start_up_advice():
    reason = "Task failed container health checks"
    cont = [{"name": "app", "lastStatus": "STOPPED", "healthStatus": "UNHEALTHY",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/worker:2"}]
    late = run(["job done"], stoppedReason=reason, containers=cont, startedAt=_T0, stoppedAt="2024-05-01T14:00:00Z")
    assert late.pattern == "container-health-check-failed"
    assert "startPeriod" not in _fix(late) and "docker run" not in _fix(late) and "passed for a while" in _fix(late)
    # Near miss: a check that failed within the first minute keeps the local check, and the start-up advice when
    # the log shows start-up work (a log that shows none is no evidence of a slow start).
    early = run(["job done"], stoppedReason=reason, containers=cont, startedAt=_T0, stoppedAt="2024-05-01T10:01:00Z")
    assert "startPeriod" not in _fix(early) and "docker exec health-test" in _fix(early)
    loading = run(["Loading model weights"], stoppedReason=reason, containers=cont, startedAt=_T0,
                  stoppedAt="2024-05-01T10:01:00Z")
    assert "startPeriod" in _fix(loading) and "Loading model weights" in _fix(loading)


def test_a_logged_start_up_longer_than_the_start_period_is_the_first_step():
    reason = "Task failed container health checks"
    cont = [{"name": "app", "lastStatus": "STOPPED", "healthStatus": "UNHEALTHY",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/ledger:4"}]
    slow = run(["Started LedgerApplication in 104.87 seconds (process running for 106.2)"], stoppedReason=reason,
               containers=cont, startedAt=_T0, stoppedAt="2024-05-01T10:02:00Z")
    assert "104.87 s to start" in slow.remediation[0] and "startPeriod` to 135 s" in slow.remediation[0]
    assert "docker exec health-test" not in _fix(slow) and "tool must exist" not in _fix(slow)
    # Near miss: a quick start (12 s) says nothing about the start period; the local check stays.
    quick = run(["Started LedgerApplication in 12.3 seconds"], stoppedReason=reason, containers=cont,
                startedAt=_T0, stoppedAt="2024-05-01T10:02:00Z")
    assert "to start (its log" not in _fix(quick) and "docker exec health-test" in _fix(quick)


def test_a_health_check_repro_needs_the_database_the_app_reaches_first():
    ev = evidence(["Flyway Community Edition 9.22 by Redgate", "Migrating schema \"public\" to version 42"],
                  containers=[{"name": "app", "exitCode": 143, "image": "acme/api:1"}],
                  startedAt=_T0, stoppedAt="2024-05-01T10:02:00Z")
    assert remedy.local_repro_blocked(ev, "app", serving=True)
    # Near miss: a crash that needs no serving app is still reproduced from the image alone.
    assert remedy.local_repro_blocked(ev, "app") is None


_TG = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-tg/0123456789abcdef"


def _elb(logs: list[str], **extra):
    return run(logs, stopCode="ServiceSchedulerInitiated", containers=_app(137), group="service:web",
               stoppedReason=f"Task failed ELB health checks in (target-group {_TG})", **extra)


def test_a_health_route_that_names_its_exception_is_fixed_at_that_exception():
    error = ("System.InvalidOperationException: No service for type 'Shop.Api.IClock' has been registered.")
    got = _elb(['10.0.1.9 - - "GET /health HTTP/1.1" 500 0', error])
    assert got.facts.get("cause") == "server-error", got.facts
    assert "register `Shop.Api.IClock`" in got.remediation[0] and "grace period" not in _fix(got)
    # Near miss: 500s with no named error keep the read-the-log step; the app answered, so no grace period.
    near = _elb(['10.0.1.9 - - "GET /health HTTP/1.1" 500 0'])
    assert "read the errors logged" in near.remediation[0] and "grace period" not in _fix(near)
    # Near miss: a proxy's 503 while the app behind it is not up yet keeps the grace period for slow starters.
    proxy = _elb(["Running migrations:", '10.0.1.9 - - "GET /health HTTP/1.1" 503 0'])
    assert "grace period" in _fix(proxy)


def test_checks_that_time_out_after_hours_of_serving_get_no_start_up_advice():
    line = '10.0.1.9 - - "GET /health HTTP/1.1" 200 2'
    late = _elb([line], startedAt=_T0, stoppedAt="2024-05-01T14:00:00Z")
    assert "grace period" not in _fix(late) and "healthCheckGracePeriodSeconds" not in _fix(late)
    early = _elb(["Running migrations:"], startedAt=_T0, stoppedAt="2024-05-01T10:03:00Z")
    assert "grace period" in _fix(early)


def test_a_console_paste_is_never_quoted_as_the_error():
    paste = ["20 minutes ago\t2024-06-03T20:03:15Z E! FATAL: [inputs.disk] panicked: runtime error: index out of range [3]\tagent",
             "20 minutes ago\tpanic({0x70a8180?, 0xdc68f90?})\tagent",
             "20 minutes ago\tgoroutine 39 [running]:\tagent"]
    ev = evidence(paste, containers=_app(2))
    assert remedy.named_error(ev) == (0, "[inputs.disk] panicked: runtime error: index out of range [3]")
    assert remedy.garbled(paste[1]) and remedy.unpaste(paste[1]) == "panic({0x70a8180?, 0xdc68f90?})"
    got = run(paste, containers=_app(2))
    assert "minutes ago" not in got.remediation[0] and "\t" not in got.remediation[0]
    # Near miss: a line as the app wrote it is quoted as it is.
    clean = evidence(["panic: runtime error: index out of range [3] with length 3"], containers=_app(2))
    assert remedy.named_error(clean) == (0, "panic: runtime error: index out of range [3] with length 3")
    assert not remedy.garbled("panic: runtime error: index out of range [3] with length 3")


def test_a_secret_without_the_json_key_is_not_a_missing_secret():
    base = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
            "unable to retrieve secret from asm: service call has been retried 1 time(s): ")
    got = run(stopCode="TaskFailedToStart", stoppedReason=base + "retrieved secret from Secrets Manager did not "
              "contain json key STRIPE_KEY")
    assert got.pattern == "secrets-retrieval-failed"
    assert "no key `STRIPE_KEY`" in got.remediation[0] and "exists in" not in _fix(got)
    for cmd in steps.commands(got.remediation[0]):
        shlex.split(cmd)
    # Near miss: a secret that is really missing keeps the exists-and-spelled check.
    near = run(stopCode="TaskFailedToStart", stoppedReason=base + "ResourceNotFoundException: Secrets Manager can't "
               "find the specified secret.")
    assert "exists in" in near.remediation[0] and "no key" not in _fix(near)


def test_ecr_public_throttling_is_not_docker_hubs():
    reason = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
              "public.ecr.aws/docker/library/redis:7: unexpected status from HEAD request: 429 Too Many Requests")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason,
              containers=[{"name": "redis", "image": "public.ecr.aws/docker/library/redis:7", "reason": reason}])
    assert got.pattern == "image-pull-failed"
    assert "upstream-registry-url public.ecr.aws" in got.remediation[0] and "Docker Hub" not in got.remediation[0]
    # Near miss: a Docker Hub image keeps the Docker Hub advice.
    hub = reason.replace("public.ecr.aws/docker/library/redis:7", "docker.io/library/redis:7")
    near = run(stopCode="TaskFailedToStart", stoppedReason=hub,
               containers=[{"name": "redis", "image": "redis:7", "reason": hub}])
    assert "Docker Hub" in near.remediation[0]


def test_a_refused_local_log_collector_is_not_cloudwatch_reachability():
    reason = ("CannotStartContainerError: API error (500): failed to initialize logging driver: dial tcp "
              "127.0.0.1:24224: getsockopt: connection refused")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2")
    assert got.pattern == "log-driver-failed"
    assert "fluentd" in got.remediation[0] and "NAT" not in _fix(got) and "com.amazonaws" not in _fix(got)
    # Near miss: a refused remote address (a logs endpoint) keeps the route/endpoint advice.
    far = run(stopCode="TaskFailedToStart", launchType="EC2", stoppedReason=reason.replace("127.0.0.1:24224",
              "logs.eu-west-1.amazonaws.com:443").replace("connection refused", "i/o timeout"))
    assert "fluentd" not in _fix(far)


def test_a_refused_working_directory_is_not_a_non_executable_entrypoint():
    reason = ("CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: "
              "OCI runtime create failed: runc create failed: unable to start container process: error during "
              "container init: chdir to cwd (\"/root/srv\") set in config.json failed: permission denied: unknown")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason,
              containers=[{"name": "app", "image": "acme/app:1", "reason": reason}])
    assert got.pattern == "container-start-failed"
    assert "`/root/srv`" in got.remediation[0] and "chmod +x" not in _fix(got)
    # Near miss: an entrypoint refused to exec stays the chmod advice.
    exe = reason.replace('chdir to cwd (\"/root/srv\") set in config.json failed', 'exec: "/entrypoint.sh"')
    near = run(stopCode="TaskFailedToStart", stoppedReason=exe, containers=[{"name": "app", "image": "acme/app:1", "reason": exe}])
    assert "chmod +x" in _fix(near)


def test_a_windows_instance_gets_the_windows_agent_log_path():
    reason = ("ResourceInitializationError: failed to configure ENI: unable to get device with hardware address "
              "'02:62:5b:0f:db:fa': device with mac address not found")
    agent = ["level=error msg=\"plugin_windows.go:210: failed to find the interface\""]
    got = run(agent, stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", attachments=_eni("10.0.1.5"))
    assert "C:\\ProgramData\\Amazon\\ECS\\log" in _fix(got) and "/var/log/ecs" not in _fix(got)
    # Near miss: a Linux instance keeps /var/log/ecs.
    linux = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", attachments=_eni("10.0.1.5"))
    assert "/var/log/ecs/ecs-agent.log" in _fix(linux)


def test_a_bun_app_installs_its_packages_with_bun():
    lines = ["error: Cannot find package 'express' from '/home/bun/app/src/index.js'", "Bun v1.2.23 (Linux x64)"]
    got = run(lines, containers=_app(1))
    assert got.pattern == "missing-dependency"
    assert "bun install --production" in _fix(got) and "npm ci" not in _fix(got)
    # Near miss: a Node app (no Bun in its log or image) keeps npm ci.
    node = run(["Error: Cannot find module 'express'", "Require stack:", "- /app/src/index.js", "Node.js v20.11.1"],
               containers=_app(1))
    assert node.pattern == "missing-dependency" and "npm ci" in _fix(node) and "bun install" not in _fix(node)


def test_one_allocation_bigger_than_the_whole_limit_is_not_sized_with_headroom():
    cont = [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "reason": "OutOfMemoryError: Container killed due to memory usage",
             "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/broker:5", "memory": 1024}]
    big = run(["eheap_alloc: Cannot allocate 2280657000 bytes of memory (of type \"heap\")."], containers=cont,
              memory="1024", stoppedReason="OutOfMemoryError: Container killed due to memory usage")
    assert big.pattern == "out-of-memory"
    assert "more than its whole 1024 MiB limit" in _fix(big) and "25 % headroom" not in _fix(big)
    # Near miss: a failed allocation smaller than the limit keeps the headroom sizing.
    small = run(["eheap_alloc: Cannot allocate 52428800 bytes of memory (of type \"heap\")."], containers=cont,
                memory="1024", stoppedReason="OutOfMemoryError: Container killed due to memory usage")
    assert "25 % headroom" in _fix(small) and "more than its whole" not in _fix(small)


def test_a_variable_read_inside_a_request_handler_is_not_a_start_up_failure():
    crash = ["Traceback (most recent call last):", '  File "/app/svc/health.py", line 14, in health',
             '    table = os.environ["ORDERS_TABLE"]', "KeyError: 'ORDERS_TABLE'"]
    served = run(["Application startup complete.", "Exception in ASGI application", *crash,
                  '10.0.5.21:51334 - "GET /health HTTP/1.1" 500'], containers=_app(0))
    assert served.pattern == "missing-env-var"
    assert "while handling requests" in served.summary and "fails the same way" not in _fix(served)
    # Near miss: the same KeyError at start-up (no ready line, no request) keeps the start-up story and the repro.
    boot = run(crash, containers=_app(1))
    assert "at start-up" in boot.summary and "fails the same way" in _fix(boot)


def test_a_drain_already_advised_is_not_repeated_in_the_recurrence_step():
    reason = ("ResourceInitializationError: failed to setup network namespace: cni setup: invoke eni plugin failed: "
              "unable to get device with hardware address '02:62:5b:0f:db:fa': device with mac address not found")
    inst = "arn:aws:ecs:us-east-1:111122223333:container-instance/main/5ca09ae0c2a74bd8a8f1a0e7e8a1b2c3"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, launchType="EC2", attachments=_eni("10.0.1.5"),
              containerInstanceArn=inst)
    assert _fix(got).count("update-container-instances-state") == 1 and "after the drain" in _fix(got)
    # Near miss: a created interface without a named plumbing reason gets the drain in the recurrence step.
    silent = run(stopCode="TaskFailedToStart", launchType="EC2", attachments=_eni("10.0.1.5"), containerInstanceArn=inst,
                 stoppedReason="ResourceInitializationError: failed to setup network namespace: netplugin failed")
    assert _fix(silent).count("update-container-instances-state") == 1 and "after the drain" not in _fix(silent)


def test_a_layer_count_mismatch_is_a_broken_push_not_access_or_network():
    reason = ("CannotPullContainerError: failed to extract layer: number of layers and diffIDs don't match: 2 != 9")
    ref = "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:7"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=[{"name": "app", "image": ref, "reason": reason}])
    assert got.pattern == "image-pull-failed"
    assert "compression" in got.remediation[0] and "imagetools inspect" in got.remediation[0]
    # Near miss: an ordinary not-found pull keeps its own first step.
    miss = "CannotPullContainerError: pull image manifest has been retried: " + ref + ": not found"
    near = run(stopCode="TaskFailedToStart", stoppedReason=miss, containers=[{"name": "app", "image": ref, "reason": miss}])
    assert "compression" not in _fix(near)


def test_a_compose_built_name_under_library_is_an_image_never_pushed():
    reason = ("CannotPullContainerError: failed to resolve ref docker.io/library/shop_web:latest: pull access denied, "
              "repository does not exist or may require authorization: insufficient_scope")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason,
              containers=[{"name": "web", "image": "shop_web", "reason": reason}])
    assert got.pattern == "image-pull-failed" and "never pushed" in got.remediation[0]
    assert got.remediation[0].count("(Why: ") == 1
    # Near miss: an official-looking name (no underscore) keeps the private-or-misspelled advice.
    other = reason.replace("shop_web", "shopweb")
    near = run(stopCode="TaskFailedToStart", stoppedReason=other,
               containers=[{"name": "web", "image": "shopweb", "reason": other}])
    assert "never pushed" not in _fix(near)


def test_a_public_ip_is_offered_only_where_the_task_can_have_one():
    assert remedy.public_ip_allowed(evidence(launchType="FARGATE"))
    assert not remedy.public_ip_allowed(evidence(launchType="EC2"))
    reason = ("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
              "ghcr.io/acme/api:1: dial tcp 140.82.112.33:443: i/o timeout")
    cont = [{"name": "app", "image": "ghcr.io/acme/api:1", "reason": reason}]
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=cont, launchType="EC2")
    assert ec2.pattern == "image-pull-failed" and "assignPublicIp" not in _fix(ec2)
    # Near miss: the same failure on Fargate may use a public IP in a public subnet.
    fg = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=cont, launchType="FARGATE")
    assert "assignPublicIp" in _fix(fg)


def test_a_third_party_agent_that_panics_is_pinned_or_disabled_not_debugged():
    lines = ["panic: runtime error: invalid memory address or nil pointer dereference",
             "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c0f3a2]", "goroutine 88 [running]:"]
    two = [{"name": "app", "exitCode": 143, "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:3"},
           {"name": "agent", "exitCode": 2, "image": "public.ecr.aws/datadog/agent:7.50.3", "essential": True}]
    got = run([{"container": "agent", "message": t} for t in lines], containers=two)
    assert got.pattern == "app-crash" and "third-party agent" in got.remediation[0]
    assert "essential" in got.remediation[0]
    # Near miss: the same agent stopped by a configuration error keeps the error's own fix.
    cfg = run([{"container": "agent", "message": "Error: failed to get config: unknown field 'recievers' in configuration"}],
              containers=two)
    assert "third-party agent" not in _fix(cfg)


def test_an_ecr_image_pinned_by_digest_is_looked_up_by_its_digest():
    repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders/api"
    digest = "sha256:" + "ab" * 32
    reason = f"CannotPullContainerError: Error response from daemon: manifest for {repo}@{digest} not found: manifest unknown"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=[
        {"name": "app", "lastStatus": "STOPPED", "image": f"{repo}@{digest}", "reason": reason}])
    assert got.pattern == "image-pull-failed"
    cmd = next(c for c in steps.commands(got.remediation[0]) if c.startswith("aws ecr describe-images"))
    args = shlex.split(cmd)
    assert args[args.index("--repository-name") + 1] == "orders/api"
    assert args[args.index("--image-ids") + 1] == f"imageDigest={digest}" and "lifecycle" in got.remediation[0]
    # Near miss: the same repository pinned by tag is looked up by its tag.
    tagged = reason.replace(f"@{digest}", ":1.4.2")
    near = run(stopCode="TaskFailedToStart", stoppedReason=tagged, containers=[
        {"name": "app", "lastStatus": "STOPPED", "image": f"{repo}:1.4.2", "reason": tagged}])
    cmd = next(c for c in steps.commands(near.remediation[0]) if c.startswith("aws ecr describe-images"))
    assert "--repository-name orders/api --image-ids imageTag=1.4.2" in cmd and "lifecycle" not in near.remediation[0]


def test_every_roll_out_of_a_fix_starts_a_new_deployment_and_a_one_off_task_gets_no_service_roll_out():
    # A rebuilt image pushed under the same tag: `--task-definition <family>` alone starts no deployment.
    logs = ["Error: Cannot find module 'express'", "Require stack:", "- /app/server.js"]
    got = run(logs, containers=_app(1))
    rolls = [s for s in got.remediation if "update-service" in s and "--task-definition" in s]
    assert rolls and all("--force-new-deployment" in s for s in rolls)
    # Near miss: a task started by run-task has no service to roll out: it is run again.
    lone = run(logs, containers=_app(1), group="family:orders-api", startedBy="ecs-cli")
    assert "update-service" not in _fix(lone) and "run-task" in _fix(lone)


def test_fargate_nofile_at_its_default_looks_for_the_leak_first_and_raises_above_it():
    line = "socket(2) failed, got error: Too many open files"
    got = run([line], containers=_app(134))
    assert got.pattern == "too-many-open-files"
    assert got.remediation[0].startswith("Find what holds") and "(Why:" in got.remediation[0]
    assert '"softLimit": 65535' not in _fix(got) and "262144" in _fix(got)
    # Near miss: on EC2 the Docker default is low, so raising to 65535 is the first step.
    ec2 = run([line], containers=_app(134), launchType="EC2")
    assert ec2.remediation[0].startswith("Raise") and '"softLimit": 65535' in ec2.remediation[0]


def test_docker_port_already_allocated_outside_awsvpc_is_the_instance_host_port():
    reason = "CannotStartContainerError: Bind for 0.0.0.0:8080 failed: port is already allocated"
    got = run(containers=_app(0, reason=reason), launchType="EC2", attachments=[])
    assert got.pattern == "port-in-use"
    assert "hostPort" in got.remediation[0] and "(Why:" in got.remediation[0]
    assert "same container" not in _fix(got) and "docker run" not in _fix(got)
    # Near miss: an app's own EADDRINUSE on Fargate is a second server in the task's shared namespace.
    app = run(["Error: listen EADDRINUSE: address already in use :::8080"], containers=_app(1))
    assert app.pattern == "port-in-use" and "host port" not in app.remediation[0].lower()


def test_the_ecs_volume_plugin_timing_out_is_the_nfs_path_not_a_plugin_to_install():
    reason = ("CannotCreateContainerError: Error response from daemon: create ecs-app-1-data-9f8e: Post "
              "\"http://%2Frun%2Fdocker%2Fplugins%2F{plugin}.sock/VolumeDriver.Create\": context deadline exceeded")
    got = run(containers=_app(0, reason=reason.format(plugin="amazon-ecs-volume-plugin")), launchType="EC2")
    assert got.pattern == "volume-mount-failed"
    assert "2049" in got.remediation[0] and "docker plugin ls" not in _fix(got)
    # Near miss: a third-party plugin (REX-Ray) on the instance is checked as a plugin.
    other = run(containers=_app(0, reason=reason.format(plugin="rexray")), launchType="EC2")
    assert other.pattern == "volume-mount-failed" and "docker plugin ls" in _fix(other)


def test_a_log_option_docker_rejects_is_the_task_definitions_log_configuration_not_awslogs():
    reason = ("CannotCreateContainerError: Error response from daemon: unknown log opt 'fluentd-async-connect' "
              "for fluentd log driver")
    got = run(stopCode="TaskFailedToStart", containers=_app(0, reason=reason), launchType="EC2")
    assert got.pattern == "log-driver-failed"
    assert "fluentd-async-connect" in got.remediation[0] and "logConfiguration" in got.remediation[0]
    assert "create-log-group" not in _fix(got) and "(Why:" in got.remediation[0]
    # Near miss: a missing awslogs group keeps the create-the-group advice.
    gone = run(stopCode="TaskFailedToStart", launchType="EC2", containers=_app(0, reason=(
        "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
        "create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.")))
    assert gone.pattern == "log-driver-failed" and "create-log-group" in _fix(gone)


def test_an_image_volume_the_platform_refuses_is_the_dockerfile_not_a_task_volume():
    reason = "CannotCreateVolumeError: unsupported: Dockerfile contains VOLUME instruction"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0, reason=reason))
    assert got.pattern == "volume-mount-failed"
    assert "VOLUME" in got.remediation[0] and "Config.Volumes" in got.remediation[0]
    assert "mountPoints" not in _fix(got) and "(Why:" in got.remediation[0]
    # Near miss: a task volume that failed to be created keeps the volumes[]/mountPoints check.
    other = "CannotCreateVolumeError: failed to create volume data: invalid driver option"
    near = run(stopCode="TaskFailedToStart", stoppedReason=other, containers=_app(0, reason=other))
    assert near.pattern == "volume-mount-failed" and "VOLUME" not in near.remediation[0]


def test_a_one_container_fargate_task_with_its_port_in_use_started_its_server_twice():
    lines = ["INFO:     Uvicorn running on http://0.0.0.0:8080", "ERROR:    [Errno 98] Address already in use"]
    got = run(lines, containers=_app(1))
    assert got.pattern == "port-in-use"
    assert got.remediation[0].startswith("Make sure the server is started once") and "(Why:" in got.remediation[0]
    assert "declare port" not in _fix(got)
    # Near miss: with a sidecar in the task, which containers declare the port is the first check.
    two = run(lines, containers=[*_app(1), {"name": "envoy", "exitCode": 0, "lastStatus": "STOPPED", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27"}])
    assert two.pattern == "port-in-use" and "declare port" in two.remediation[0]


def test_a_database_host_that_is_another_container_of_the_task_waits_for_it_and_no_fix_is_ever_empty():
    line = "Error: Redis connection to cache:6379 failed - connect EHOSTUNREACH"
    peer = [*_app(1), {"name": "cache", "exitCode": 0, "lastStatus": "STOPPED", "image": "redis:7"}]
    got = run([line], containers=peer, launchType="EC2")
    assert got.pattern == "database-connection-failed"
    assert "`cache`" in got.remediation[0] and "dependsOn" in got.remediation[0] and "(Why:" in got.remediation[0]
    # Near miss: the host is no container of the task: no dependsOn advice, but still a first step.
    far = run([line], containers=_app(1), launchType="EC2")
    assert far.pattern == "database-connection-failed" and far.remediation
    assert "dependsOn" not in far.remediation[0] and "(Why:" in far.remediation[0]


def test_a_refused_chown_while_docker_copies_into_a_volume_is_ownership_not_iam():
    vol = "/var/lib/ecs/volumes/ecs-app-2-config-b4b9"
    reason = (f"CannotCreateContainerError: Error response from daemon: failed to copy file info for {vol}: failed "
              f"to chown {vol}: lchown {vol}: operation not permitted")
    got = run(stopCode="TaskFailedToStart", containers=_app(0, reason=reason), launchType="EC2")
    assert got.pattern == "volume-mount-failed"
    assert "posixUser" in got.remediation[0] and "ClientMount" not in _fix(got) and "(Why:" in got.remediation[0]
    # Near miss: an EFS mount refused by IAM keeps the ClientMount advice.
    denied = ("ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: "
              "b'mount.nfs4: access denied by server while mounting 127.0.0.1:/'")
    near = run(stopCode="TaskFailedToStart", stoppedReason=denied)
    assert near.pattern == "volume-mount-failed" and "ClientMount" in _fix(near)


def test_an_unsupported_manifest_media_type_is_rebuilt_without_attestations():
    ecr = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"
    reason = "CannotPullContainerError: unsupported media type application/vnd.in-toto+json"
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=_app(0, reason=reason))
    assert got.pattern == "image-pull-failed"
    assert "--provenance=false" in got.remediation[0] and ecr in got.remediation[0]
    assert "ECR permissions" not in _fix(got)
    # Near miss: a bare pull failure with no registry answer keeps the reproduce-and-check step.
    bare = "CannotPullContainerError: failed to pull image"
    plain = run(stopCode="TaskFailedToStart", stoppedReason=bare, containers=_app(0, reason=bare))
    assert "--provenance=false" not in _fix(plain)


def test_a_private_registry_asking_for_a_token_gets_repository_credentials_with_the_secret_grant():
    image = "registry.example.com/team/orders-api:1.4.2"
    reason = (f'CannotPullContainerError: inspect image has been retried 1 time(s): failed to resolve ref "{image}": '
              "failed to authorize: failed to fetch anonymous token.")
    containers = [{"name": "app", "lastStatus": "STOPPED", "image": image, "reason": reason}]
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, containers=containers)
    first = got.remediation[0]
    assert "repositoryCredentials" in first and "secretsmanager:GetSecretValue" in first
    assert "registry-credentials/registry.example.com" in first and "misspelled" not in first
    # Near miss: Docker Hub's "does not exist or may require docker login" may be a typo, so the name stays first.
    hub = ("CannotPullContainerError: Error response from daemon: pull access denied for acme/orders-api, repository "
           "does not exist or may require 'docker login'")
    near = run(stopCode="TaskFailedToStart", stoppedReason=hub,
               containers=[{"name": "app", "lastStatus": "STOPPED", "image": "acme/orders-api", "reason": hub}])
    assert "misspelled" in near.remediation[0]


def test_an_ecr_refusal_without_an_iam_denial_on_ec2_checks_the_image_and_the_instance_first():
    ecr = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api"
    denied = (f"CannotPullContainerError: Error response from daemon: pull access denied for {ecr}, repository does "
              "not exist or may require 'docker login'")
    got = run(stopCode="TaskFailedToStart", stoppedReason=denied, containers=_app(0, reason=denied), launchType="EC2")
    assert "describe-images --repository-name orders-api --image-ids imageTag=1.4.2" in got.remediation[0]
    assert "AmazonEC2ContainerServiceforEC2Role" in got.remediation[1]
    assert "EXECUTION role" in got.remediation[2]
    # Near miss: the message names the denied ECR action, so the execution role stays first.
    iam = (f"CannotPullContainerError: pull access denied for {ecr}: User: arn:aws:sts::111122223333:assumed-role/"
           "exec/abc is not authorized to perform: ecr:BatchGetImage")
    named = run(stopCode="TaskFailedToStart", stoppedReason=iam, containers=_app(0, reason=iam), launchType="EC2")
    assert "EXECUTION role" in named.remediation[0]


def test_a_cross_account_ecr_refusal_keeps_the_execution_role_and_the_repository_policy():
    ecr = "444455556666.dkr.ecr.us-east-1.amazonaws.com/shared-sidecar"
    denied = (f"CannotPullContainerError: Error response from daemon: pull access denied for {ecr}, repository does "
              "not exist or may require 'docker login'")
    got = run(stopCode="TaskFailedToStart", stoppedReason=denied, containers=_app(0, reason=denied), launchType="EC2")
    assert "EXECUTION role" in got.remediation[0] and "another account (444455556666)" in got.remediation[0]
    assert "AmazonEC2ContainerServiceforEC2Role" not in _fix(got)


def test_ecr_registry_auth_at_start_is_a_token_and_a_route_not_a_secret():
    def reason(n: int) -> str:
        return ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                f"failed: unable to retrieve ecr registry auth: service call has been retried {n} time(s)")

    got = run(stopCode="TaskFailedToStart", stoppedReason=reason(3), containers=_app(0))
    first = got.remediation[0]
    assert got.pattern == "secrets-retrieval-failed"
    assert "ecr.api" in first and "ecr:GetAuthorizationToken" in first and "secrets[].valueFrom" not in _fix(got)
    assert first.index("ecr.api") < first.index("ecr:GetAuthorizationToken")
    # Near miss: not retried, a refusal: the permission comes first.
    once = run(stopCode="TaskFailedToStart", stoppedReason=reason(1), containers=_app(0)).remediation[0]
    assert once.index("ecr:GetAuthorizationToken") < once.index("ecr.api")
    # Near miss: a secret's fetch keeps the secrets step.
    secret = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): ...")
    assert "secrets[].valueFrom" in _fix(run(stopCode="TaskFailedToStart", stoppedReason=secret, containers=_app(0)))


def test_a_kms_refusal_behind_a_parameter_read_grants_decrypt_on_the_key():
    line = ("botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetParameter "
            "operation: The ciphertext refers to a customer master key that does not exist, does not exist in this "
            "region, or you are not allowed to access. (Service: AWSKMS; Status Code: 400; Error Code: "
            "AccessDeniedException)")
    got = run([line], containers=_app(1))
    assert got.pattern == "iam-access-denied" and got.facts["action"] == "kms:Decrypt"
    assert '"kms:Decrypt"' in got.remediation[0] and "ssm:GetParameter" not in got.remediation[0]
    assert "describe-parameters" in _fix(got)
    # Near miss: the parameter service's own denial keeps its action.
    own = ("botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetParameter "
           "operation: User: arn:aws:sts::111122223333:assumed-role/app/abc is not authorized to perform: "
           "ssm:GetParameter on resource: arn:aws:ssm:us-east-1:111122223333:parameter/db")
    near = run([own], containers=_app(1))
    assert near.facts["action"] == "ssm:GetParameter" and "kms:Decrypt" not in near.remediation[0]


def test_a_throttled_log_stream_creation_staggers_starts_not_creates_the_group():
    reason = ("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
              "create Cloudwatch log stream: ThrottlingException: Rate exceeded status code: 400")
    got = run(stopCode="TaskFailedToStart", stoppedReason="Task failed to start", containers=_app(0, reason=reason))
    assert got.pattern == "log-driver-failed" and "Stagger" in got.remediation[0]
    assert "create-log-group" not in _fix(got) and "non-blocking" in _fix(got)
    # Near miss: a group that does not exist keeps the create step.
    missing = reason.replace("ThrottlingException: Rate exceeded", "ResourceNotFoundException: The specified log "
                             "group does not exist.")
    near = run(stopCode="TaskFailedToStart", stoppedReason="Task failed to start", containers=_app(0, reason=missing))
    assert "create-log-group" in near.remediation[0]


def test_a_login_without_a_password_is_a_missing_value_not_a_rotated_one():
    line = ("DBI connect('database=orders;host=db.internal;port=3306','orders',...) failed: Access denied for user "
            "'orders'@'10.0.1.5' (using password: NO)")
    got = run([line], containers=_app(1))
    assert got.pattern == "database-connection-failed"
    assert "no password at all" in got.remediation[0] and "rotation" not in got.remediation[0]
    assert "contains(name, 'PASS')" in got.remediation[0]
    # Near miss: a password was sent and refused, so the secret's value (rotation) stays the check.
    near = run([line.replace("using password: NO", "using password: YES")], containers=_app(1))
    assert "rotation" in near.remediation[0] and "no password at all" not in _fix(near)


def test_a_database_run_as_another_container_of_the_task_points_at_its_variables():
    line = 'error: password authentication failed for user "postgres"'
    containers = [*_app(1), {"name": "pg", "exitCode": 0, "lastStatus": "STOPPED", "image": "postgres:16"}]
    got = run([line], containers=containers, launchType="EC2")
    assert "POSTGRES_PASSWORD" in got.remediation[0] and "`pg`" in got.remediation[0]
    assert "rotation may have changed" not in _fix(got)
    # Near miss: no database container in the task (RDS, say): the rotation / IAM-auth check stays.
    near = run([line], containers=_app(1), launchType="EC2")
    assert "rotation may have changed" in near.remediation[0] and "POSTGRES_PASSWORD" not in _fix(near)


# --- A re-run of a stopped task runs what it ran --------------------------------------------------------------

def _host_gone(**detail):
    return run([], launchType="EC2", group="family:reports", startedBy="scheduler-x", stopCode=None,
               stoppedReason="Host EC2 (instance i-0123456789abcdef0) terminated.",
               containers=[{"name": "job", "lastStatus": "STOPPED", "image": "acme/reports:3"}], **detail)


def test_a_re_run_keeps_the_command_the_task_was_started_with():
    got = _host_gone(overrides={"containerOverrides": [{"name": "job", "command": ["report", "--day", "monday"]},
                                                       {"name": "side", "environment": [{"name": "K", "value": "v"}]}]})
    assert got.pattern == "platform-error"
    said = _fix(got)
    assert '"command":["report","--day","monday"]' in said and '"name":"side"' not in said, said
    # The event says the instance was terminated: no step to read logs on it.
    assert "ecs-agent.log" not in said
    # Near miss: a task started with no command override is re-run as its task definition says.
    plain = _host_gone(overrides={"containerOverrides": [{"name": "job"}]})
    assert "run-task" in _fix(plain) and "--overrides" not in _fix(plain)


def test_a_secret_passed_as_a_command_argument_is_masked_in_the_re_run():
    # The override is copied into a pasted command, and the finding leaves the account: a flag that names a
    # secret keeps its name and loses its value, in the exec-form array as on a shell line.
    got = _host_gone(overrides={"containerOverrides": [{"name": "job", "command": ["migrate", "--db-password",
                                                                                   "Hunter2-In-Argv", "--verbose"]}]})
    said = _fix(got)
    assert '"--db-password","[REDACTED]"' in said and "Hunter2-In-Argv" not in said, said
    # Near miss: a flag that only points at where the secret is kept stays as it is.
    kept = _host_gone(overrides={"containerOverrides": [{"name": "job", "command": ["migrate", "--password-file",
                                                                                    "/run/secrets/db"]}]})
    assert '"--password-file","/run/secrets/db"' in _fix(kept)


# --- A missing submodule of an installed package is a version to pin -----------------------------------------

def test_a_missing_submodule_of_an_installed_package_is_pinned_and_verified_by_its_full_name():
    lines = ["Traceback (most recent call last):",
             '  File "/usr/local/lib/python3.11/site-packages/lxml/html/__init__.py", line 3, in <module>',
             "ModuleNotFoundError: No module named 'lxml.html.clean'"]
    got = run(lines, containers=_app(1))
    assert got.pattern == "missing-dependency"
    said = _fix(got)
    assert "`lxml` is installed" in said and "pin the `lxml` version" in said, said
    assert 'import lxml.html.clean' in said
    # Near miss: a missing top-level module is still a package to add, verified by that name.
    top = run(["ModuleNotFoundError: No module named 'lxml'"], containers=_app(1))
    assert "Add the package that provides `lxml`" in _fix(top) and "pin the" not in _fix(top)


# --- An interrupted pull is retried, not checked as a bad reference ---------------------------------------------

def test_a_pull_whose_context_was_canceled_is_an_interrupted_pull_to_retry():
    cont = [{"name": "app", "lastStatus": "STOPPED", "image": "ghcr.io/acme/tool:2"}]
    cut = run([], stopCode="TaskFailedToStart", stoppedReason="CannotPullContainerError: context canceled",
              containers=cont, launchType="EC2")
    assert cut.pattern == "image-pull-failed"
    assert cut.remediation[0].startswith("The pull was interrupted") and "docker pull" not in _fix(cut), _fix(cut)
    assert "ECS_IMAGE_PULL_TIMEOUT" in _fix(cut) and len(cut.remediation) == 1
    # Near miss: a registry's refusal still starts from reproducing the pull.
    refused = run([], stopCode="TaskFailedToStart", containers=cont, launchType="EC2",
                  stoppedReason="CannotPullContainerError: ghcr.io/acme/tool:2: manifest unknown")
    assert "interrupted" not in _fix(refused)


# --- A supervisor inside the image that cannot exec a service: the entrypoint did run ------------------------

def test_an_s6_service_that_cannot_exec_points_at_the_images_init_not_the_entrypoint():
    cont = [{"name": "agent", "exitCode": 111, "lastStatus": "STOPPED", "image": "acme/collector:7"}]
    got = run(["[s6-init] making user provided files available at /var/run/s6/etc...exited 0.",
               "[services.d] starting services",
               "s6-supervise: fatal: unable to exec collectord: No such file or directory"], containers=cont)
    assert got.pattern == "container-start-failed"
    said = _fix(got)
    assert "entrypoint ran" in said and "command -v collectord" in said and "S6_KEEP_ENV" in said, said
    # Near miss: the runtime itself not finding the entrypoint stays the entrypoint/PATH check.
    plain = run([], stopCode="TaskFailedToStart", containers=[{"name": "agent", "lastStatus": "STOPPED",
                                                               "image": "acme/collector:7"}],
                stoppedReason='CannotStartContainerError: exec: "collectord": executable file not found in $PATH')
    assert "entrypoint ran" not in _fix(plain) and "not on $PATH" in _fix(plain)


# --- A setting over its length limit is named with its limit -----------------------------------------------------

def test_a_value_over_its_length_limit_names_the_setting_and_the_limit():
    line = ("ERROR failed - \"'worker-7f3a9c2e41d84b6a8e0c1f5d9b2a6e4c' is an invalid value for parameter "
            "instance-tag. Values must have a maximum length of 16 bytes\"")
    said = remedy.error_family(line) or ""
    assert "`instance-tag`" in said and "at most 16" in said, said
    # Near miss: an invalid value with no length limit is not this family.
    assert "at most" not in (remedy.error_family("'x' is an invalid value for parameter instance-tag") or "")


def test_a_task_role_credentials_failure_is_not_reproduced_from_the_image_alone():
    # The task-role credentials come from the ECS agent's endpoint inside the task; a laptop run has none.
    line = ("botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from container-role: "
            "Error retrieving metadata: Received non 200 response (500) from ECS metadata: boom")
    got = run([line], containers=_app(1), startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" not in _fix(got), _fix(got)
    # Near miss: a programming error about credentials at start-up is still reproduced from the image.
    near = run(["TypeError: Cannot read properties of undefined (reading 'credentials')"], containers=_app(1),
               startedAt=_T0, stoppedAt="2024-05-01T10:00:20Z")
    assert "docker run" in _fix(near), _fix(near)
