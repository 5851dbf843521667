"""Review findings on fix15's rules (fix16): each test has the probe that misread and the case the rule was written
for, which must keep working."""

from __future__ import annotations

from tests.unit.helpers import run

_APP = [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
         "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/drainer:1.4.2"}]


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _denied(op: str) -> str:
    return (f"botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the {op} "
            f"operation: User: arn:aws:sts::111122223333:assumed-role/drainer-task-role/abc is not authorized to "
            f"perform: ecs:{op} on resource: arn:aws:ecs:us-east-1:111122223333:container-instance/prod/abc")


def test_container_instance_calls_a_drain_tool_makes_are_the_task_roles_to_grant():
    for op in ("UpdateContainerInstancesState", "DeregisterContainerInstance", "RegisterContainerInstance"):
        got = run([_denied(op)], containers=_APP)
        assert got.pattern == "iam-access-denied", op
        assert got.facts["action"] == f"ecs:{op}"
    # The agent's own channel stays the agent's.
    got = run([_denied("SubmitTaskStateChange")], containers=_APP)
    assert got.facts.get("action") != "ecs:SubmitTaskStateChange" or got.pattern != "iam-access-denied"


def test_operations_other_sdks_name_map_to_real_iam_actions():
    go_lambda = ("operation error Lambda: Invoke, https response error StatusCode: 403, RequestID: 1f0e, "
                 "api error AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/r/x is not authorized")
    assert run([go_lambda], containers=_APP).facts["action"] == "lambda:InvokeFunction"
    boto = ("botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the Invoke "
            "operation: not authorized")
    assert run([boto], containers=_APP).facts["action"] == "lambda:InvokeFunction"
    php = ('PHP Fatal error:  Uncaught Aws\\S3\\Exception\\S3Exception: Error executing "PutObjectAcl" on '
           '"https://my-bucket.s3.us-east-1.amazonaws.com/a.txt?acl"; AWS HTTP error: Client error: `PUT '
           'https://my-bucket.s3.us-east-1.amazonaws.com/a.txt?acl` resulted in a `403 Forbidden` response: '
           'AccessDenied (client): Access Denied')
    assert run([php], containers=_APP).facts["action"] == "s3:PutObjectAcl"
    bedrock = ("ERROR operation error Bedrock Runtime: InvokeModel, https response error StatusCode: 403, "
               "RequestID: x, AccessDeniedException: You don't have access to the model")
    assert run([bedrock], containers=_APP).facts["action"] == "bedrock:InvokeModel"
    # The case the rule was written for: the service id is the IAM prefix.
    ses = ("operation error SESv2: SendEmail, https response error StatusCode: 403, RequestID: x, api error "
           "AccessDeniedException: not authorized to perform ses:SendEmail")
    assert run([ses], containers=_APP).facts["action"] == "ses:SendEmail"
    sqs = ('Error executing "ListQueues" on "https://sqs.us-east-1.amazonaws.com"; AWS HTTP error: 403 Forbidden '
           'AccessDenied')
    assert run([sqs], containers=_APP).facts.get("action") == "sqs:ListQueues"


def test_an_sdk_service_that_is_no_iam_prefix_invents_no_action():
    line = ("operation error Frobnicator Data: DoThing, https response error StatusCode: 403, RequestID: x, "
            "api error AccessDeniedException: denied")
    got = run([line], containers=_APP)
    assert not str(got.facts.get("action", "")).startswith("frobnicator")


def _c(code: int, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"):
    return [{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}]


def test_a_line_that_only_names_a_signal_is_not_the_fault():
    got = run(["INFO installing crash handlers for SIGSEGV, SIGBUS, SIGFPE", "INFO listening on :8080",
               "ERROR invariant violated: queue depth negative, aborting"], containers=_c(134))
    assert got.facts["exception"].startswith("ERROR invariant violated")
    got = run(["INFO: processed signal 4 of 10", "ERROR: aborting: invariant broken"], containers=_c(134))
    assert got.facts["exception"] == "ERROR: aborting: invariant broken"
    # The case the rule was written for: a fault the process reports is the crash, not the abort after it.
    got = run(["worker started", "caught signal (SIGSEGV)", "ERROR: aborting"], containers=_c(134))
    assert "SIGSEGV" in got.facts["exception"]
    got = run(["worker started", "Segmentation fault (core dumped)"], containers=_c(134))
    assert "Segmentation fault" in got.facts["exception"]


def test_catching_sigterm_is_how_it_stopped_not_the_error():
    got = run(["2024-05-01 10:00:00 INFO starting worker",
               "2024-05-01 10:00:01 ERROR failed to load /etc/app/config.yaml: no such file or directory",
               "2024-05-01 10:00:01 Caught signal SIGTERM, shutting down"], containers=_c(1))
    assert "config.yaml" in got.facts["exception"]


def test_a_bracketed_duration_is_text_not_a_colour_code():
    got = run(["ERROR job failed: deadline exceeded after [30m] waiting for lock"], containers=_c(1))
    assert "[30m]" in got.facts["exception"]
    # The case the rule was written for: a colour code whose ESC byte was dropped is removed.
    got = run(["[1m[91mError[0m: cannot open /data/in.csv"], containers=_c(1))
    assert "[91m" not in got.facts["exception"] and "cannot open /data/in.csv" in got.facts["exception"]


_NO_REQUESTS = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>', "    import requests",
                "ModuleNotFoundError: No module named 'requests'"]


def test_any_ecr_image_is_built_by_the_team_and_other_registries_are_hedged():
    central = run(_NO_REQUESTS, containers=_c(1, "999988887777.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"))
    assert "requirements.txt" in central.remediation[0] and "published image" not in _fix(central)
    ghcr = run(_NO_REQUESTS, containers=_c(1, "ghcr.io/acme/orders-api:1.4.2"))
    assert ghcr.remediation[0].startswith("If `ghcr.io/acme/orders-api:1.4.2` is not built from your source")
    assert "requirements.txt" in ghcr.remediation[1]
    # The case the rule was written for: an official image is someone else's, with no rebuild advice.
    official = run(_NO_REQUESTS, containers=_c(1, "python:3.12"))
    assert "is a published image" in official.remediation[0] and "requirements.txt" not in _fix(official)


def test_a_sibling_container_by_name_on_fargate_is_at_localhost():
    two = [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED",
            "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"},
           {"name": "redis", "exitCode": 143, "lastStatus": "STOPPED", "image": "redis:7.2"}]
    line = "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused."
    fargate = run([line], containers=two)
    assert "`localhost:6379`" in fargate.remediation[0] and "dependsOn" in fargate.remediation[0]
    assert "resolved (a refusal needs an address) to this task's own container" not in _fix(fargate)
    # The case the rule was written for: on EC2 without awsvpc (bridge `links`) the name is the container.
    ec2 = run([line], containers=two, launchType="EC2", attachments=[],
              containerInstanceArn="arn:aws:ecs:us-east-1:111122223333:container-instance/prod/0a1b2c3d4e5f")
    assert "to this task's own container `redis`" in ec2.remediation[0] and "localhost:6379" not in ec2.remediation[0]


def test_an_engine_word_beside_an_https_call_is_not_a_database():
    for line in ["Error: connect ETIMEDOUT 34.1.2.3:443 while POSTing to https://hooks.slack.com/services/x "
                 "(alert: kafka lag high)",
                 "Error: connect ETIMEDOUT api.example.com:443 (memcache-session middleware)"]:
        got = run([line], containers=_c(1))
        assert got.pattern == "network-egress-blocked", line
    # The case the rule was written for: a client's own token on the line makes a 443 endpoint its broker.
    got = run(["KafkaJSConnectionError: Connection error: connect ETIMEDOUT broker.example.com:443"], containers=_c(1))
    assert got.pattern == "database-connection-failed" and got.facts["engine"] == "kafka"
