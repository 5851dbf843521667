"""gather()/investigate() against moto: calls made, facts read, and every failure turned into a gap."""

from __future__ import annotations

import time

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shared.aws import Clients
from shared.evidence import ecs
from shared.evidence.gather import NOTHING, gather
from shared.inputs import parse_task_event
from shared.pipeline import investigate, plan
from tests.functional.aws_world import (
    CRASH_LOGS,
    LOG_GROUP,
    PANIC_LOGS,
    REGION,
    TASK_ID,
    World,
    container_def,
)


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    ecs.clear_cache()
    with mock_aws():
        yield Clients(REGION)
    ecs.clear_cache()


def test_warm_app_crash_reads_aws_once(aws):
    world = World.build(aws, [container_def()])
    world.write_logs("app", PANIC_LOGS)
    event = parse_task_event(world.stopped_event(containers=[{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}]))

    aws.reset_calls()
    _, cold = investigate(event, aws)
    assert cold.pattern == "app-crash"
    # ...and, a task of a service, its deployments (what changed; this world has no such service).
    assert dict(aws.calls) == {"ecs.DescribeTaskDefinition": 1, "logs.GetLogEvents": 1,
                               "ecs.ListServiceDeployments": 1}

    aws.reset_calls()
    ev, warm = investigate(event, aws)  # warm: the task definition and the deploy diff are cached
    assert dict(aws.calls) == {"logs.GetLogEvents": 1}
    assert aws.total_calls == 1
    assert warm.pattern == "app-crash"
    assert warm.fingerprint == cold.fingerprint
    assert ev.offline is False and ev.task_definition is not None


def test_missing_env_var_says_absent_from_task_definition_and_keeps_names_only(aws):
    world = World.build(aws)
    world.write_logs("app", CRASH_LOGS)
    ev, finding = investigate(parse_task_event(world.stopped_event()), aws)
    assert finding.pattern == "missing-env-var"
    assert finding.facts["variable"] == "DATABASE_URL"
    assert finding.facts["absent_from_task_definition"] == ["DATABASE_URL"]
    cdef = ev.task_definition.container("app")
    assert cdef.env_names == frozenset({"LOG_LEVEL"}) and cdef.secret_names == frozenset({"API_TOKEN"})
    assert "debug-secret-value" not in repr(ev.task_definition)  # values are never kept
    assert "debug-secret-value" not in finding.model_dump_json()
    # The console link of the exact stream the lines came from.
    assert ev.log_sources[0].stream == f"ecs/app/{TASK_ID}" and ev.log_sources[0].group == LOG_GROUP
    assert finding.links.log_stream and "ecs$252Fapp$252F" + TASK_ID in finding.links.log_stream
    assert any(c.name.startswith("Task definition") and c.result == "read" for c in finding.checks)


def test_out_of_memory_states_the_limit_from_the_task_definition(aws):
    world = World.build(aws, [container_def(memory=768)])
    event = world.stopped_event(containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                                             "reason": "OutOfMemoryError: Container killed due to memory usage"}])
    _, finding = investigate(parse_task_event(event), aws)
    assert finding.pattern == "out-of-memory"
    assert finding.facts["limit"] == "768 MiB"
    assert finding.facts["limit_source"] == "container hard limit (task definition)"


def test_log_tail_reads_last_n_lines_from_the_end(aws):
    world = World.build(aws, [container_def()])
    world.write_logs("app", [f"line {i}" for i in range(300)] + PANIC_LOGS)
    ev = gather(parse_task_event(world.stopped_event()), aws, need=NOTHING, log_lines=10)
    assert len(ev.logs) == 10
    assert ev.logs.texts[-1] == "\t/src/main.go:42 +0x1d"  # indentation kept


def test_failing_container_read_first_and_sidecar_skipped(aws):
    world = World.build(aws, [container_def("app"), container_def("envoy", ports=(9901,), essential=False)])
    world.write_logs("app", PANIC_LOGS)
    world.write_logs("envoy", ["envoy started", "upstream reset"])
    event = world.stopped_event(containers=[{"name": "envoy", "exitCode": 0, "lastStatus": "STOPPED"},
                                            {"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}])
    aws.reset_calls()
    ev, finding = investigate(parse_task_event(event), aws)
    assert aws.calls["logs.GetLogEvents"] == 1  # only the failing container's stream
    assert ev.logs.container_names() == ["app"]
    assert finding.pattern == "app-crash"


def test_firelens_and_missing_stream_become_gaps(aws):
    world = World.build(aws, [container_def("app"), container_def("router", log_driver="awsfirelens"),
                              container_def("otel", log_driver="awsfirelens", essential=False)])
    event = world.stopped_event(containers=[{"name": "app", "exitCode": 1, "lastStatus": "STOPPED"},
                                            {"name": "router", "exitCode": 1, "lastStatus": "STOPPED"},
                                            {"name": "otel", "exitCode": 0, "lastStatus": "STOPPED"}])
    _, finding = investigate(parse_task_event(event), aws)  # the app stream was never written
    text = " ".join(finding.gaps)
    assert "router logs through FireLens to CloudWatch Logs, but its log options name no log_group_name" in text
    assert "otel" not in text  # a healthy sidecar's logs are not missed
    assert f"stream {LOG_GROUP}/ecs/app/{TASK_ID} does not exist" in text


def test_containers_that_never_ran_are_not_read(aws):
    world = World.build(aws, [container_def()])
    event = world.stopped_event(
        stopCode="TaskFailedToStart", startedAt=None,
        stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                      "ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.4.3: not found",
        containers=[{"name": "app", "lastStatus": "STOPPED"}])
    aws.reset_calls()
    _, finding = investigate(parse_task_event(event), aws)
    assert finding.pattern == "image-pull-failed"
    assert "logs.GetLogEvents" not in aws.calls


def test_describe_tasks_only_when_the_event_lacks_detail(aws):
    world = World.build(aws, [container_def()])
    run = aws("ecs").run_task(cluster="prod", taskDefinition=world.task_definition_arn, launchType="FARGATE",
                              group="service:orders-api", startedBy="ecs-svc/1")["tasks"][0]
    aws("ecs").stop_task(cluster="prod", task=run["taskArn"], reason="Essential container in task exited")
    tid = run["taskArn"].rsplit("/", 1)[-1]
    world.write_logs("app", CRASH_LOGS, task_id=tid)
    thin = world.stopped_event(taskArn=run["taskArn"], containers=[], stoppedReason=None, stopCode=None)
    aws.reset_calls()
    ev, finding = investigate(parse_task_event(thin), aws)
    assert aws.calls["ecs.DescribeTasks"] == 1
    assert ev.detail.stopped_reason == "Essential container in task exited"
    assert [c.name for c in ev.detail.containers] == ["app"]
    assert ev.event.id == "3317b2af-7005-947d-b652-f55e762e571a"  # the envelope is kept
    assert finding.pattern == "missing-env-var"

    aws.reset_calls()
    investigate(parse_task_event(world.stopped_event()), aws)  # a full event: no DescribeTasks
    assert "ecs.DescribeTasks" not in aws.calls


def test_expired_task_is_a_gap_and_the_event_is_still_diagnosed(aws):
    world = World.build(aws, [container_def()])
    thin = world.stopped_event(containers=[], stoppedReason=None, stopCode=None)
    _, finding = investigate(parse_task_event(thin), aws)
    assert any("stopped tasks stay visible for about an hour" in g for g in finding.gaps)
    assert finding.pattern == "unknown"


def _stub_errors(clients: Clients, service: str, *calls: tuple[str, str, int]) -> Stubber:
    stubber = Stubber(clients(service))
    for method, code, status in calls:
        stubber.add_client_error(method, service_error_code=code, service_message=f"{code} test",
                                 http_status_code=status)
    stubber.activate()
    return stubber


def test_access_denied_everywhere_never_loses_the_notification(aws):
    event = parse_task_event(World.build(aws, [container_def()]).stopped_event(
        containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED",
                     "reason": "OutOfMemoryError: Container killed due to memory usage"}]))
    ecs.clear_cache()
    _stub_errors(aws, "ecs", ("describe_task_definition", "AccessDeniedException", 400))
    ev, finding = investigate(event, aws)
    assert finding.pattern == "out-of-memory"  # from the event alone
    assert any("access denied for ecs:DescribeTaskDefinition (AccessDeniedException)" in g for g in finding.gaps)
    assert ev.task_definition is None


def test_throttled_log_read_is_a_gap(aws):
    world = World.build(aws, [container_def()])
    event = parse_task_event(world.stopped_event())
    _stub_errors(aws, "logs", ("get_log_events", "ThrottlingException", 400))
    _, finding = investigate(event, aws)
    assert any("throttled logs:GetLogEvents (ThrottlingException)" in g for g in finding.gaps)


def test_denied_log_group_outside_prefixes_names_the_setting(aws):
    from shared.settings import Settings

    world = World.build(aws, [container_def(group="/custom/orders")])
    _stub_errors(aws, "logs", ("get_log_events", "AccessDeniedException", 400))
    _, finding = investigate(parse_task_event(world.stopped_event()), aws, Settings())
    assert any("ECS_AUTOPSY_LOG_GROUP_PREFIXES" in g for g in finding.gaps)


def test_timeouts_become_gaps(aws):
    from botocore.exceptions import ConnectTimeoutError

    world = World.build(aws, [container_def()])
    event = parse_task_event(world.stopped_event())

    def boom(**_):
        raise ConnectTimeoutError(endpoint_url="https://logs.us-east-1.amazonaws.com")

    aws("logs").meta.events.register_first("before-call.logs.GetLogEvents", boom)
    _, finding = investigate(event, aws)
    assert any("AWS did not answer in time (ConnectTimeoutError)" in g for g in finding.gaps)


def test_logs_given_by_the_caller_are_not_read_again(aws):
    world = World.build(aws, [container_def()])
    aws.reset_calls()
    _, finding = investigate(parse_task_event(world.stopped_event()), aws, logs=CRASH_LOGS)
    assert "logs.GetLogEvents" not in aws.calls
    assert finding.pattern == "missing-env-var"


def test_no_stream_prefix_uses_the_container_runtime_id(aws):
    world = World.build(aws, [container_def(prefix=None)])
    runtime = "7e12d648155541fbb8a922c39b586f82-2037654423"
    aws("logs").create_log_stream(logGroupName=LOG_GROUP, logStreamName=runtime)
    aws("logs").put_log_events(logGroupName=LOG_GROUP, logStreamName=runtime,
                               logEvents=[{"timestamp": int(time.time() * 1000), "message": line}
                                          for line in PANIC_LOGS])
    event = world.stopped_event(containers=[{"name": "app", "exitCode": 2, "runtimeId": runtime}])
    ev, finding = investigate(parse_task_event(event), aws)
    assert ev.log_sources[0].stream == runtime
    assert finding.pattern == "app-crash"


# -- plan -----------------------------------------------------------------------------------------
def _finding(pattern: str, **facts):
    from shared.models.finding import Finding, TaskSummary

    return Finding(pattern=pattern, severity="critical", confidence=0.9, title="t", summary="s", facts=facts,
                   task=TaskSummary(task_arn="arn"), fingerprint="f")


@pytest.mark.parametrize(("pattern", "facts", "expected"), [
    ("app-crash", {}, NOTHING),
    ("missing-env-var", {"variable": "X"}, NOTHING),
    ("health-check-failed", {"cause": None}, frozenset({"target_health", "network"})),
    ("iam-access-denied", {"action": "s3:GetObject", "principal": "arn:aws:sts::1:assumed-role/r/s"}, frozenset({"iam"})),
    ("iam-access-denied", {"cause": "no-credentials", "principal": "none"}, NOTHING),
    ("iam-access-denied", {"action": "unknown", "principal": "arn:aws:sts::1:assumed-role/r/s"}, NOTHING),
    ("network-egress-blocked", {"host": "api.stripe.com"}, frozenset({"network"})),
    ("database-connection-failed", {"cause": "timeout"}, frozenset({"network"})),
    ("database-connection-failed", {"cause": "auth"}, NOTHING),
    ("image-pull-failed", {"cause": "network"}, frozenset({"network"})),
    ("image-pull-failed", {"cause": "not-found"}, NOTHING),
    ("secrets-retrieval-failed", {"cause": "network"}, frozenset({"network"})),
    ("volume-mount-failed", {"cause": "network"}, frozenset({"network"})),
])
def test_plan_asks_for_extra_reads_only_when_the_pattern_needs_them(pattern, facts, expected):
    assert plan(_finding(pattern, **facts)) == expected


# -- organization hub -----------------------------------------------------------------------------
MEMBER = "210987654321"


def test_event_from_a_member_account_is_read_through_its_role(aws):
    member = Clients(REGION, member_role_name="ecs-autopsy-member").for_account(MEMBER)
    world = World.build(member, [container_def()])  # the task lives in the member account
    world.write_logs("app", CRASH_LOGS)
    event = world.stopped_event()
    event["account"] = MEMBER
    hub = Clients(REGION, member_role_name="ecs-autopsy-member")
    _, finding = investigate(parse_task_event(event), hub)
    assert finding.pattern == "missing-env-var" and finding.gaps == []
    assert hub.calls["sts.AssumeRole"] == 1
    assert hub.calls["logs.GetLogEvents"] == 1
    # Our own account's clients see nothing of it.
    assert aws("ecs").list_clusters()["clusterArns"] == []


def test_member_role_that_cannot_be_assumed_is_a_gap(aws):
    event = World.build(aws, [container_def()]).stopped_event(
        containers=[{"name": "app", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}])
    event["account"] = MEMBER
    hub = Clients(REGION, member_role_name="ecs-autopsy-member", home_account="123456789012")
    _stub_errors(hub, "sts", ("assume_role", "AccessDenied", 403))
    _, finding = investigate(parse_task_event(event), hub)
    assert finding.pattern == "out-of-memory"
    assert any(f"Member account {MEMBER}: not read, access denied for sts:AssumeRole" in g for g in finding.gaps)


# -- the IAM grants cover every call ----------------------------------------------------------------
def test_every_aws_call_of_the_gatherers_is_granted():
    import re
    from pathlib import Path

    import boto3

    import shared
    from shared.permissions import ASSUME_MEMBER_ROLE, FUNCTION_ACTIONS

    root = Path(shared.__file__).resolve().parent  # the package itself (the repository's shared/)
    sources = [*sorted((root / "evidence").glob("*.py")), root / "deploy.py", root / "live.py", root / "aws.py"]
    prefixes = {"ecs": "ecs", "logs": "logs", "elbv2": "elasticloadbalancing", "iam": "iam", "ec2": "ec2",
                "sts": "sts"}
    methods: dict[str, str] = {}
    for service, prefix in prefixes.items():
        client = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
        for method, op in client.meta.method_to_api_mapping.items():
            methods.setdefault(method, f"{prefix}:{op}")
    called = set()
    for path in sources:
        for name in re.findall(r"\.([a-z_0-9]+)\b", path.read_text()):  # calls and methods passed to guarded()
            if name in methods and not name.startswith(("get_paginator", "can_paginate", "close")):
                called.add(methods[name])
    called.discard("sts:GetCallerIdentity")  # needs no permission
    assert {"ecs:DescribeTaskDefinition", "logs:GetLogEvents", "iam:SimulatePrincipalPolicy",
            "ec2:DescribeRouteTables", "sts:AssumeRole"} <= called
    granted = set(FUNCTION_ACTIONS["manual"]) & set(FUNCTION_ACTIONS["deploy_failed"]) | set(ASSUME_MEMBER_ROLE)
    assert called - granted == set()


# -- log tail paging --------------------------------------------------------------------------------
def test_an_empty_page_is_followed_back_at_most_twice():
    from botocore.session import get_session

    from shared.evidence import cwlogs
    from shared.evidence.model import LogSource

    client = get_session().create_client("logs", region_name=REGION, aws_access_key_id="x",
                                         aws_secret_access_key="x")
    source = LogSource("app", LOG_GROUP, f"ecs/app/{TASK_ID}", REGION)
    base = {"logGroupName": LOG_GROUP, "logStreamName": f"ecs/app/{TASK_ID}", "startFromHead": False, "limit": 5}
    with Stubber(client) as stub:
        stub.add_response("get_log_events", {"events": [], "nextBackwardToken": "b/2", "nextForwardToken": "f/9"},
                          base)
        stub.add_response("get_log_events", {"events": [{"timestamp": 1, "message": "boom\n"}],
                                             "nextBackwardToken": "b/1", "nextForwardToken": "f/2"},
                          {**base, "nextToken": "b/2"})
        assert cwlogs.fetch(client, source, 5) == ["boom"]
        # An empty stream: the same token comes back, reading stops.
        stub.add_response("get_log_events", {"events": [], "nextBackwardToken": "b/0", "nextForwardToken": "f/0"})
        stub.add_response("get_log_events", {"events": [], "nextBackwardToken": "b/0", "nextForwardToken": "f/0"})
        assert cwlogs.fetch(client, source, 5) == []
        # Never more than three reads.
        for i in range(3):
            stub.add_response("get_log_events", {"events": [], "nextBackwardToken": f"b/x{i}", "nextForwardToken": "f"})
        assert cwlogs.fetch(client, source, 5) == []
        stub.assert_no_pending_responses()


def test_empty_stream_in_moto_ends(aws):
    world = World.build(aws, [container_def()])
    aws("logs").create_log_stream(logGroupName=LOG_GROUP, logStreamName=f"ecs/app/{TASK_ID}")
    aws.reset_calls()
    ev = gather(parse_task_event(world.stopped_event()), aws, need=NOTHING)
    assert len(ev.logs) == 0 and 1 <= aws.calls["logs.GetLogEvents"] <= 3


def test_cloudwatch_lines_reach_the_finding_as_the_app_printed_them(aws):
    """The Lambda path reads CloudWatch events, not a paste: a compose-like prefix, wide spacing and
    HTML entities the application printed are its text, shown unaltered. The same text pasted into
    the CLI is read as a paste (prefix, entities and hard wrap undone) and still diagnosed."""
    import html

    from shared.engine import diagnose
    from shared.inputs import offline_evidence

    printed = [
        "app_1  | " + html.escape(line) for line in CRASH_LOGS[:-1]
    ] + ["app_1  | KeyError: &#x27;DATABASE" + " " * 44 + "_URL&#x27;", "name" + " " * 40 + "status"]
    world = World.build(aws, [container_def()])
    world.write_logs("app", printed)
    event = parse_task_event(world.stopped_event())
    _, live = investigate(event, aws)
    assert live.log_excerpt == printed

    pasted = diagnose(offline_evidence(event, "\n".join(printed)))
    assert pasted.pattern == "missing-env-var"
    assert pasted.facts["variable"] == "DATABASE_URL"
    assert "KeyError: 'DATABASE_URL'" in pasted.log_excerpt
