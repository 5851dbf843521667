"""log-driver-failed: awslogs / FireLens could not start, so the container never ran."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.evidence.model import ContainerDefinition, TaskDefinitionFacts
from shared.patterns.log_driver_failed import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, failed_to_start

ID = "log-driver-failed"
ACCT = "111122223333"

POSITIVES = [
    pytest.param("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed "
                 "to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. "
                 "status code: 400, request id: 7463029c-9f12-4e3f-b914-f",
                 {"cause": "not-found"}, id="cannotstart-group-missing"),
    pytest.param("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed "
                 f"to create Cloudwatch log stream: AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/"
                 "ecsTaskExecutionRole/abc is not authorized to perform: logs:CreateLogStream on resource: "
                 f"arn:aws:logs:us-east-1:{ACCT}:log-group:/ecs/orders-api:log-stream:ecs/app/0123456789abcdef",
                 {"cause": "access-denied", "log_group": "/ecs/orders-api", "action": "logs:CreateLogStream"},
                 id="execution-role-lacks-logs"),
    pytest.param("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 "
                 "times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group "
                 "does not exist. : exit status 1", {"cause": "not-found"}, id="fargate-validate-logger-args"),
    pytest.param("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 "
                 "times: failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
                 "\"https://logs.us-east-1.amazonaws.com/\": dial tcp 10.0.1.2:443: i/o timeout : exit status 1",
                 {"cause": "network"}, id="no-route-to-cloudwatch-logs"),
    pytest.param("ResourceInitializationError: failed to validate logger args: : signal: killed", {},
                 id="validate-killed"),
    pytest.param("CannotCreateContainerError: Error response from daemon: unknown log opt 'gelf-tcp-max-reconnect' "
                 "for gelf log driver", {"log_driver": "gelf"}, id="docker-rejects-a-log-option"),
    pytest.param("CannotStartContainerError: Error response from daemon: failed to create task for container: "
                 "logger: no log driver named 'splunkd' is registered", {"log_driver": "splunkd"},
                 id="docker-has-no-such-driver"),
]


@pytest.mark.parametrize(("reason", "facts"), POSITIVES)
def test_positive(reason, facts):
    assert_finding(run([], **failed_to_start(reason)), ID, facts)


def test_log_group_comes_from_the_task_definition_when_the_message_has_none():
    base = evidence([], **failed_to_start("ResourceInitializationError: failed to validate logger args: create stream "
                                          "has been retried 1 times: failed to create Cloudwatch log stream: "
                                          "ResourceNotFoundException: The specified log group does not exist."))
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12", containers=(
        ContainerDefinition(name="app", log_driver="awslogs", log_options={"awslogs-group": "/ecs/orders-api"}),))
    ev = replace(base, task_definition=td)
    m = PATTERN.match(ev)
    assert m is not None
    assert m.facts["log_group"] == "/ecs/orders-api" and m.facts["log_driver"] == "awslogs"
    assert "aws logs create-log-group --log-group-name /ecs/orders-api" in PATTERN.explain(m, ev).remediation[0]


def test_firelens_router_error_in_the_logs():
    finding = run(["[error] [output:cloudwatch_logs:cloudwatch_logs.0] CreateLogStream API responded with error="
                   "'ResourceNotFoundException', message='The specified log group does not exist.'",
                   "[error] [output:cloudwatch_logs:cloudwatch_logs.0] Failed to create log stream"],
                  containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED"},
                              {"name": "log_router", "exitCode": 1, "lastStatus": "STOPPED"}])
    # The FireLens router's own output: read from the logs, blamed on the container that failed.
    assert_finding(finding, ID, {"cause": "not-found", "container": "log_router"})


ROUTER = "906394416424.dkr.ecr.us-east-2.amazonaws.com/aws-for-fluent-bit:latest"


def test_a_firelens_config_the_task_could_not_fetch_belongs_to_the_log_router():
    finding = run([], **failed_to_start(
        "Unable to download firelens s3 config file: unable to download s3 config extra.conf from bucket mybucket: "
        "MissingRegion: could not find region configuration",
        box(None, "log_router", image=ROUTER), box(None, "app")))
    assert_finding(finding, ID, {"container": "log_router"})


@pytest.mark.parametrize(("line", "pattern"), [
    # a record the router forwards, tagged `<container>-firelens-<task id>`: the app's error, not FireLens failing
    ('[0] app-firelens-4f1c2e0d9a8b: [1714557600.0, {"log"=>"ERROR payment declined: card expired"}]', None),
    # the router's own FireLens error still is
    ("[error] [firelens] failed to parse the FireLens configuration: unknown key 'Match_Regexx'", ID),
], ids=["forwarded-record-tag", "routers-own-firelens-error"])
def test_near_miss_a_firelens_tag_in_a_forwarded_record_is_not_a_firelens_failure(line, pattern):
    detail = {"containers": [box(1, "app"), box(0, "log_router", image=ROUTER)],
              "stopCode": "EssentialContainerExited"}
    m = PATTERN.match(evidence({"log_router": [line], "app": []}, **detail))
    assert (m is not None) == (pattern == ID), m


def test_an_awslogs_failure_in_a_task_with_a_router_stays_with_the_app():
    finding = run([], **failed_to_start(
        "CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to create "
        "Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.",
        box(None, "log_router", image=ROUTER), box(None, "app")))
    assert_finding(finding, ID, {"cause": "not-found", "container": "app"})


NEGATIVES = [
    pytest.param("CannotStartContainerError: Error response from daemon: failed to create shim task: OCI runtime "
                 "create failed: runc create failed: unable to start container process: exec: \"/app/start.sh\": "
                 "permission denied: unknown", "container-start-failed", id="cannotstart-for-another-reason"),
    pytest.param("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                 "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
                 "secret arn:aws:secretsmanager:us-east-1:111122223333:secret:x from secrets manager: RequestCanceled: "
                 "request context canceled",
                 "secrets-retrieval-failed", id="resource-initialization-for-secrets"),
]


@pytest.mark.parametrize(("reason", "expected"), NEGATIVES)
def test_nearest_neighbour(reason, expected):
    detail = failed_to_start(reason)
    assert run([], **detail).pattern == expected
    assert PATTERN.match(evidence([], **detail)) is None


def test_near_miss_an_apps_own_unknown_log_option_is_not_the_log_driver():
    """The app's logger rejecting one of its own options names no log driver: the app's error, not Docker's."""
    logs = ["Error: unknown log option 'json-pretty' for the console logger", "    at parse (/app/src/log.js:14:11)"]
    assert PATTERN.match(evidence(logs, containers=[box(1, "app")])) is None


def test_the_statement_grants_the_action_the_reason_names_as_denied():
    reason = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
              "failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::"
              f"{ACCT}:assumed-role/ecsTaskExecutionRole/abc is not authorized to perform: logs:CreateLogGroup on "
              f"resource: arn:aws:logs:us-east-1:{ACCT}:log-group:/ecs/orders-api:log-stream: because no "
              "identity-based policy allows the logs:CreateLogGroup action : exit status 1")
    finding = run([], **failed_to_start(reason))
    assert_finding(finding, ID, {"cause": "access-denied", "action": "logs:CreateLogGroup"})
    grant = next(s for s in finding.remediation if "EXECUTION role" in s)
    assert '"Action": ["logs:CreateLogGroup"]' in grant and "CreateLogStream" not in grant, grant
    assert any("aws logs create-log-group --log-group-name /ecs/orders-api" in s for s in finding.remediation)


def test_logs_resolved_to_a_private_address_opens_the_endpoint_not_a_nat_route():
    reason = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
              "failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
              "\"https://logs.us-east-1.amazonaws.com/\": dial tcp 10.0.1.2:443: i/o timeout : exit status 1")
    finding = run([], **failed_to_start(reason))
    assert finding.remediation[0].startswith("`logs.us-east-1.amazonaws.com` resolved to 10.0.1.2")
    assert "the task's security group" in finding.remediation[0]
    assert not any("awslogs-region" in s for s in finding.remediation)


def test_near_miss_a_public_address_still_needs_a_route_out():
    reason = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
              "failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
              "\"https://logs.us-east-1.amazonaws.com/\": dial tcp 52.46.1.2:443: i/o timeout : exit status 1")
    finding = run([], **failed_to_start(reason))
    assert "NAT gateway" in finding.remediation[0] and "resolved to" not in finding.remediation[0]


def test_an_unknown_log_group_is_read_from_the_task_definition_so_the_commands_run_as_pasted():
    """No `<the awslogs-group ...>` inside a command or an ARN: the create command reads the group from the
    task definition first, the statement grants the account's groups; a known group is named (near miss)."""
    from shared.render import steps
    from tests.support.fixcheck import command_problems, policy_problems

    denied = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
              "failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::[redacted]:"
              "assumed-role/x-ecs-task-execution-role/abc is not authorized to perform: logs:CreateLogGroup on "
              "resource: arn:aws:logs:us-east-1:[redacted]:log-group:[redacted]:log-stream: because no "
              "identity-based policy allows the logs:CreateLogGroup action : exit status 1")
    for reason in (denied, POSITIVES[0].values[0]):
        ev = evidence([], **failed_to_start(reason))
        m = PATTERN.match(ev)
        assert m is not None
        rem = PATTERN.explain(m, ev).remediation
        assert not any(steps.placeholders(s) for s in rem), rem
        cmds = [c for s in rem for c in steps.commands(s)]
        assert any(c.startswith("aws ecs describe-task-definition") and "awslogs-group" in c for c in cmds), cmds
        assert any('--log-group-name "$group"' in c for c in cmds)
        assert all(command_problems(c) == [] for c in cmds), cmds
        assert all(policy_problems(d) == [] for s in rem for d in steps.policies(s))
    ev = evidence([], **failed_to_start(POSITIVES[1].values[0]))
    m = PATTERN.match(ev)
    assert m is not None
    rem = "\n".join(PATTERN.explain(m, ev).remediation)
    assert "log-group:/ecs/orders-api:*" in rem and "describe-task-definition" not in rem


@pytest.mark.parametrize(("ip", "endpoint_exists"), [("10.20.10.16", True), ("52.94.133.131", False)])
def test_a_timeout_to_a_private_logs_address_is_the_endpoints_security_group(ip, endpoint_exists):
    """The logs endpoint resolved to a private address: an interface endpoint exists, its security group drops
    443; near miss: a public address keeps the NAT / endpoint advice."""
    reason = ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
              "failed to create Cloudwatch log stream: RequestError: send request failed caused by: Post "
              f"\"https://logs.us-east-1.amazonaws.com/\": dial tcp {ip}:443: i/o timeout : exit status 1")
    f = run([], **failed_to_start(reason))
    assert f.facts.get("cause") == "network"
    first = f.remediation[0]
    assert ("endpoint's security group" in first) == endpoint_exists, first
    assert ("NAT gateway" in first) == (not endpoint_exists)


def test_a_log_group_denial_by_the_instance_role_grants_that_action_to_that_role_in_its_account():
    """'failed to create Cloudwatch log group: AccessDeniedException: User: ...EcsInstanceRole...' (no `not
    authorized to perform`): CreateLogGroup, on the instance role the message names, in the message's account;
    near miss: a denial by the execution role still goes to the execution role."""
    other = "444455556666"
    reason = ("CannotStartContainerError: Error response from daemon: failed to initialize logging driver: failed to "
              f"create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::{other}:assumed-role/"
              "cli-setup-EcsInstanceRole-1II7J9P4")
    finding = run([], **failed_to_start(reason, launchType="EC2"))
    assert finding.pattern == ID
    grant = finding.remediation[0]
    assert "INSTANCE role `cli-setup-EcsInstanceRole-1II7J9P4`" in grant and "EXECUTION" not in grant, grant
    assert '"Action": ["logs:CreateLogGroup"]' in grant and "PutLogEvents" not in grant, grant
    assert f":{other}:log-group:" in grant
    near = reason.replace("log group", "log stream").replace("cli-setup-EcsInstanceRole-1II7J9P4",
                                                             "ecsTaskExecutionRole/abc")
    grant = run([], **failed_to_start(near)).remediation[0]
    assert "EXECUTION role `ecsTaskExecutionRole`" in grant and '"Action": ["logs:CreateLogStream"]' in grant, grant


def test_fluentd_arguments_of_a_firelens_container_are_a_log_configuration_fault_not_awslogs():
    reason = ("CannotStartContainerError: ResourceInitializationError: failed to initialize logging driver: failed "
              "to get fluentd logdriver arguments: the log configuration of container web has no options")
    got = run([], **failed_to_start(reason))
    assert got.pattern == ID and "awsfirelens" in got.remediation[0] and "firelensConfiguration" in got.remediation[0]
    assert not any("create-log-group" in s or "logs:PutLogEvents" in s for s in got.remediation)
    # Near miss: a fluentd driver that cannot reach its collector is not a configuration-arguments fault.
    near = run([], **failed_to_start("CannotStartContainerError: failed to initialize logging driver: dial tcp "
                                     "127.0.0.1:24224: connect: connection refused"))
    assert near.pattern == ID and "firelensConfiguration" not in near.remediation[0]


_NO_NAME = ("unable to generate firelens config: unable to apply log options of container app to firelens config: "
            "missing output key Name which is required for firelens configuration of type fluentbit")


def test_firelens_options_of_a_named_container_are_that_containers_fault_and_name_the_missing_key():
    got = run([], **failed_to_start(_NO_NAME, box(None, "app"), box(None, "log_router", image=ROUTER)))
    assert_finding(got, ID, {"container": "app"})
    first = got.remediation[0]
    assert "`Name`" in first and "case-sensitive" in first and "Fluent Bit" in first
    assert not any("create-log-group" in s or "logs:PutLogEvents" in s for s in got.remediation)
    assert "containerDefinitions[?name=='app'].logConfiguration" in got.remediation[1]


def test_a_lower_case_key_in_the_task_definition_is_renamed_not_added():
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:2", family="web", revision=2,
                             containers=(
        ContainerDefinition(name="app", log_driver="awsfirelens", log_options={"name": "datadog", "Host": "x"}),
        ContainerDefinition(name="log_router")))
    ev = evidence({}, **failed_to_start(_NO_NAME, box(None, "app"), box(None, "log_router", image=ROUTER)))
    ev = replace(ev, task_definition=td)
    m = PATTERN.match(ev)
    assert m is not None and m.facts["container"] == "app"
    assert "rename its option `name` to `Name`" in PATTERN.explain(m, ev).remediation[0]


def test_near_miss_a_firelens_reason_without_a_known_containers_options_stays_with_the_router():
    # A FireLens failure that names no container's options (the router's own setup): the router's, and no key to add.
    got = run([], **failed_to_start("unable to create firelens config: open /var/lib/ecs/data/firelens/fluent-bit.conf:"
                                    " permission denied", box(None, "app"), box(None, "log_router", image=ROUTER)))
    assert_finding(got, ID, {"container": "log_router"})
    assert "case-sensitive" not in got.remediation[0]
    # Options of a container the event does not list: the router keeps the blame, the step names whose options.
    ghost = run([], **failed_to_start(_NO_NAME.replace("container app", "container ghost"), box(None, "app"),
                                      box(None, "log_router", image=ROUTER)))
    assert_finding(ghost, ID, {"container": "log_router"})
    assert "container `ghost`'s" in ghost.remediation[0]
