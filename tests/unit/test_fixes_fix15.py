"""Steps that must read what the evidence already says (fix15): each test has the case where the step applies and a
near miss where it does not."""

from __future__ import annotations

from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _ec2(**detail):
    base = {"launchType": "EC2",
            "containerInstanceArn": "arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0a1b2c3d4e5f"}
    return {**base, **detail}


def test_a_refused_connection_to_a_container_of_the_task_is_a_start_order_not_a_missing_name():
    line = "Error: connect ECONNREFUSED 172.17.0.4:6379 while connecting to redis://cache:6379"
    two = [{"name": "worker", "exitCode": 1, "lastStatus": "STOPPED", "image": "acme/worker:3"},
           {"name": "cache", "exitCode": 0, "lastStatus": "STOPPED", "image": "redis:7"}]
    got = run([line], containers=two, **_ec2())
    assert got.pattern == "database-connection-failed"
    assert "dependsOn" in got.remediation[0] and "HEALTHY" in got.remediation[0]
    assert "no such host exists" not in _fix(got)
    # Near miss: the name resolved but is no container of this task: no start-order step, and no claim that it
    # does not exist (a refusal needs an address).
    alone = run([line], containers=two[:1], **_ec2())
    assert "dependsOn" not in _fix(alone) and "no such host exists" not in _fix(alone)
    # Near miss: a DNS failure on a bare name keeps the "no such host on ECS" step.
    dns = run(["Error: getaddrinfo ENOTFOUND cache while connecting to redis://cache:6379"], containers=two[:1])
    assert dns.pattern == "database-connection-failed" and "no such host exists" in _fix(dns)


def test_an_sdk_error_that_names_the_operation_gives_the_denied_action():
    php = ['Error executing "ListTopics" on "https://sns.us-east-1.amazonaws.com"; AWS HTTP error: Client error: '
           '`POST https://sns.us-east-1.amazonaws.com` resulted in a `403 Forbidden` response:',
           "AccessDenied (client): User is not allowed to list topics. - <ErrorResponse><Error><Code>AccessDenied"
           "</Code></Error></ErrorResponse>"]
    got = run(php)
    assert got.pattern == "iam-access-denied" and got.facts["action"] == "sns:ListTopics"
    assert "does not name the denied action" not in _fix(got) and "sns:ListTopics" in got.remediation[0]
    go = ["operation error DynamoDB: Scan, https response error StatusCode: 400, RequestID: ABC, api error "
          "AccessDeniedException: User is not authorized"]
    assert run(go).facts["action"] == "dynamodb:Scan"
    # Near miss: the same 403 shape with no operation named leaves the action unknown.
    bare = run(["AccessDenied (client): Access to the resource https://sns.us-east-1.amazonaws.com/ is denied. - "
                "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"])
    assert bare.facts["action"] == "unknown" and "does not name the denied action" in _fix(bare)


# PHP's memory_limit at the container's own 1024 MiB: raising it needs the container memory raised too (fix47: a
# memory_limit well below the container's is raised alone, and offers no container resize).
_OOM = ["PHP Fatal error:  Allowed memory size of 1073741824 bytes exhausted (tried to allocate 2097152 bytes)"]


def test_more_container_memory_than_the_task_has_also_raises_the_task_memory():
    own = [{"name": "app", "exitCode": 255, "lastStatus": "STOPPED", "memory": "1024"}]
    got = run(_OOM, containers=own, memory="1024", **_ec2())
    assert got.pattern == "out-of-memory" and 'task-level `"memory"` (now 1024) to at least 1280' in _fix(got)
    # Near miss: the task has room for the larger container limit.
    roomy = run(_OOM, containers=own, memory="4096", **_ec2())
    assert "task-level" not in _fix(roomy)
    # Near miss: no container limit, so the task memory is the limit and the step raises it alone.
    none = run(_OOM, containers=[{"name": "app", "exitCode": 255, "lastStatus": "STOPPED"}], memory="1024", **_ec2())
    assert 'task-level `"memory": "1280"`' in _fix(none) and '"memory": 1280 on' not in _fix(none)


_THROTTLED = ("CannotPullECRContainerError: ThrottlingException: Rate exceeded for "
              "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2")


def test_ecr_throttling_names_a_deployment_setting_only_for_a_service():
    svc = run(stopCode="TaskFailedToStart", stoppedReason=_THROTTLED)
    assert svc.pattern == "image-pull-failed" and "maximumPercent" in svc.remediation[0]
    # Near miss: a scheduled RunTask has no deployment.
    cron = run(stopCode="TaskFailedToStart", stoppedReason=_THROTTLED, group="family:orders-nightly",
               startedBy="events-rule/nightly")
    assert "maximumPercent" not in _fix(cron) and "RunTask" in cron.remediation[0]


def test_a_pull_that_timed_out_checks_the_route_to_the_registry_first():
    got = run(stopCode="TaskFailedToStart", stoppedReason="CannotPullContainerError: timeout")
    assert got.pattern == "image-pull-failed" and "NAT gateway" in got.remediation[0]
    assert "ecr.dkr" in got.remediation[0] and not got.remediation[0].startswith("Reproduce")
    # Near miss: a pull with no cause named keeps the reproduce step.
    odd = run(stopCode="TaskFailedToStart", stoppedReason="CannotPullContainerError: unexpected EOF")
    assert "NAT gateway" not in _fix(odd)


_BATCH = {"group": "family:fold-job", "startedBy": "arn:aws:batch:us-east-1:111122223333:job/"
          "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}


def test_a_batch_jobs_image_is_fixed_in_its_job_definition():
    reason = ("CannotPullContainerError: Error response from daemon: manifest for "
              "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2 not found: manifest unknown")
    job = run(stopCode="TaskFailedToStart", stoppedReason=reason, **_BATCH)
    assert job.pattern == "image-pull-failed" and "job definition" in job.remediation[0]
    assert "task definition" not in job.remediation[0]
    # Near miss: a service's image is in its task definition.
    svc = run(stopCode="TaskFailedToStart", stoppedReason=reason)
    assert "in the task definition" in svc.remediation[0]


def test_too_many_open_files_in_a_pull_is_the_instance_not_the_network():
    reason = ("CannotPullECRContainerError: RequestError: send request failed caused by: Post "
              "https://api.ecr.us-east-1.amazonaws.com/: dial tcp: lookup api.ecr.us-east-1.amazonaws.com on "
              "10.1.0.2:53: dial udp 10.1.0.2:53: socket: too many open files")
    got = run(stopCode="TaskFailedToStart", stoppedReason=reason, **_ec2())
    assert got.pattern == "image-pull-failed" and "file descriptors" in got.remediation[0]
    assert "NAT" not in got.remediation[0]
    # Near miss: the same lookup that timed out is the network path.
    net = run(stopCode="TaskFailedToStart", stoppedReason=reason.replace("socket: too many open files", "i/o timeout"),
              **_ec2())
    assert "NAT gateway" in net.remediation[0] and "file descriptors" not in _fix(net)


def test_a_failed_copy_of_image_files_into_a_task_volume_is_the_mount_path_not_a_driver():
    reason = ("CannotCreateContainerError: Error response from daemon: failed to copy file info for "
              "/var/lib/ecs/volumes/orders-12-data-0a1b2c3d: failed to chown /var/lib/ecs/volumes/orders-12-data-0a1b2c3d:"
              " lchown /var/lib/ecs/volumes/orders-12-data-0a1b2c3d/cache: invalid argument")
    got = run(stopCode="TaskFailedToStart", containers=[{"name": "app", "lastStatus": "STOPPED", "reason": reason,
                                                         "image": "acme/orders:2"}], **_ec2())
    assert got.pattern == "volume-mount-failed" and "empty in the image" in got.remediation[0]
    assert "reachable" not in _fix(got) and "acme/orders:2" in got.remediation[0]
    # Near miss: a volume that failed with no copy named keeps the generic volumes/driver check.
    other = run(stopCode="TaskFailedToStart", containers=[{"name": "app", "lastStatus": "STOPPED", "image": "x:1",
                "reason": "CannotCreateContainerError: Error response from daemon: error while mounting volume "
                          "'/var/lib/ecs/volumes/orders-12-data': failed"}], **_ec2())
    assert "empty in the image" not in _fix(other)


def test_docker_timeout_on_fargate_checks_the_network_configuration():
    got = run(stopCode="TaskFailedToStart", stoppedReason="DockerTimeoutError: Could not transition to started; "
              "timed out after waiting 1m0s")
    assert got.pattern == "platform-error" and "usually transient" not in _fix(got)
    assert "NAT gateway" in got.remediation[0] and ".logs" in got.remediation[0]
    # Near miss: on an EC2 instance the runtime's timeout is the host's (disks, agent).
    ec2 = run(stopCode="TaskFailedToStart", stoppedReason="DockerTimeoutError: Could not transition to started; "
              "timed out after waiting 1m0s", **_ec2())
    assert "NAT gateway" not in _fix(ec2)


def test_a_failed_stat_of_the_entrypoint_checks_the_entrypoint_first():
    reason = ('CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime create '
              'failed: runc create failed: unable to start container process: exec: "/opt/run/start.sh": stat /opt/ru')
    got = run(stopCode="TaskFailedToStart", containers=[{"name": "app", "lastStatus": "STOPPED", "reason": reason,
                                                         "image": "acme/orders:2"}])
    assert got.pattern == "container-start-failed" and "/opt/run/start.sh" in got.remediation[0]
    assert "entryPoint" in got.remediation[0] and not got.remediation[0].startswith("Run the image locally")
    assert "interpreter" not in _fix(got)
    # Near miss: a start failure naming no executable keeps the local reproduction.
    vague = reason.split("unable to start")[0] + "unable to start container process: error during container init"
    other = run(stopCode="TaskFailedToStart", containers=[{"name": "app", "lastStatus": "STOPPED", "reason": vague,
                                                           "image": "acme/orders:2"}])
    assert other.pattern == "container-start-failed" and "/opt/run/start.sh" not in _fix(other)
