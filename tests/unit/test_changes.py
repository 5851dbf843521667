"""The diff of two revisions (shared/changes.py) and how it relates to a diagnosis: pure, no AWS."""

from __future__ import annotations

import copy
import json

import pytest

from shared.changes import compare, diff, relate, service_config, snapshot, task_definition_of
from tests.unit.helpers import run

ROLE = "arn:aws:iam::123456789012:role/"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"


def td(revision: int = 41, **container: object) -> dict:
    c = {"name": "app", "image": IMAGE, "essential": True, "memory": 1024, "memoryReservation": 512,
         "command": ["gunicorn", "app:app"], "portMappings": [{"containerPort": 8000, "protocol": "tcp"}],
         "environment": [{"name": "DATABASE_URL", "value": "postgres://u:hunter2@db/orders"},
                         {"name": "LOG_LEVEL", "value": "info"}],
         "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/token"}],
         "healthCheck": {"command": ["CMD-SHELL", "curl -f localhost:8000/health"], "interval": 30},
         "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/orders"}}}
    c.update(container)
    return {"taskDefinitionArn": f"arn:aws:ecs:us-east-1:123456789012:task-definition/orders:{revision}",
            "family": "orders", "revision": revision, "cpu": "512", "memory": "2048",
            "taskRoleArn": ROLE + "orders-task", "executionRoleArn": ROLE + "orders-exec",
            "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            "containerDefinitions": [c]}


def changes(before: dict, after: dict, sb: dict | None = None, sa: dict | None = None) -> dict:
    return {(c.field, c.name or c.container or ""): c for c in diff(snapshot(before), snapshot(after), sb, sa)}


def test_identical_revisions_have_no_change():
    assert diff(snapshot(td(41)), snapshot(td(42))) == []


def test_environment_names_only_values_never():
    after = td(42, environment=[{"name": "LOG_LEVEL", "value": "debug"}, {"name": "FEATURE", "value": "on"}])
    got = changes(td(41), after)
    assert got[("environment", "DATABASE_URL")].kind == "removed"
    assert got[("environment", "FEATURE")].kind == "added"
    level = got[("environment", "LOG_LEVEL")]
    assert level.kind == "changed" and level.before is None and level.after is None
    text = json.dumps([c.model_dump() for c in got.values()]) + json.dumps(snapshot(after))
    assert "hunter2" not in text and "debug" not in text and "info" not in text.replace("infor", "")


def test_secrets_show_names_and_arns():
    after = td(42, secrets=[{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/token2"}])
    c = changes(td(41), after)[("secrets", "API_TOKEN")]
    assert (c.kind, c.before, c.after) == ("changed", "arn:aws:ssm:us-east-1:1:parameter/token",
                                           "arn:aws:ssm:us-east-1:1:parameter/token2")


@pytest.mark.parametrize(("field", "value", "key"), [
    ("memory", 512, "memory"), ("memoryReservation", 256, "memoryReservation"), ("cpu", 256, "cpu"),
    ("command", ["python", "worker.py"], "command"), ("entryPoint", ["/bin/sh", "-c"], "entryPoint"),
    ("healthCheck", {"command": ["CMD-SHELL", "curl -f localhost:8000/ready"]}, "healthCheck"),
    ("portMappings", [{"containerPort": 9000}], "portMappings"), ("essential", False, "essential"),
    ("dependsOn", [{"containerName": "init", "condition": "SUCCESS"}], "dependsOn"),
    ("logConfiguration", {"logDriver": "awsfirelens"}, "logConfiguration"),
    ("ulimits", [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}], "ulimits"),
    ("image", IMAGE.replace("1.4.2", "1.5.0"), "image"),
])
def test_container_fields(field, value, key):
    got = changes(td(41), td(42, **{field: value}))
    assert list(got) == [(key, "app")], got


@pytest.mark.parametrize(("key", "value"), [
    ("taskRoleArn", ROLE + "other"), ("executionRoleArn", ROLE + "other"), ("memory", "1024"), ("cpu", "256"),
    ("runtimePlatform", {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}),
])
def test_task_level_fields(key, value):
    after = td(42)
    after[key] = value
    assert [c.field for c in diff(snapshot(td(41)), snapshot(after))] == [key]


def test_same_tag_new_digest_is_a_change():
    before = service_config({"containerImages": [{"containerName": "app", "image": IMAGE, "imageDigest": "sha256:" + "a" * 64}]})
    after = service_config({"containerImages": [{"containerName": "app", "image": IMAGE, "imageDigest": "sha256:" + "b" * 64}]})
    got = diff(snapshot(td(41)), snapshot(td(42)), before, after)
    assert [(c.field, c.kind) for c in got] == [("imageDigest", "changed")]
    assert "same tag, new content" in got[0].text


def test_service_level_fields():
    def revision(port: int, sgs: list[str], subnets: list[str], public: str, cp: str, grace: int) -> dict:
        return service_config({
            "loadBalancers": [{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/orders/abc",
                               "containerName": "app", "containerPort": port}],
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": sgs,
                                                             "assignPublicIp": public}},
            "capacityProviderStrategy": [{"capacityProvider": cp, "weight": 1}],
            "serviceConnectConfiguration": {"enabled": cp == "FARGATE"}}, grace_period=grace)
    before = revision(8000, ["sg-1"], ["subnet-a"], "DISABLED", "FARGATE", 60)
    after = revision(9000, ["sg-2"], ["subnet-b"], "ENABLED", "FARGATE_SPOT", 0)
    got = {c.field: c for c in diff(snapshot(td(41)), snapshot(td(42)), before, after)}
    assert set(got) == {"loadBalancer", "securityGroups", "subnets", "assignPublicIp", "capacityProviderStrategy",
                        "serviceConnect", "healthCheckGracePeriodSeconds"}
    assert got["loadBalancer"].after == "targetgroup/orders/abc -> app:9000"
    assert got["healthCheckGracePeriodSeconds"].text == "health-check grace period (s) changed from 60 to 0"


def test_describe_task_definition_output_or_bare():
    bare = td(41)
    assert task_definition_of({"taskDefinition": bare}) == bare == task_definition_of(bare)
    with pytest.raises(ValueError, match="containerDefinitions"):
        task_definition_of({"family": "x"})


def test_a_password_in_a_command_is_masked():
    got = changes(td(41), td(42, command=["app", "--db-password=hunter2xyz"]))
    assert "hunter2xyz" not in json.dumps(got[("command", "app")].model_dump())


# -- relating the diff to the diagnosis -----------------------------------------------------------
def _compare(before: dict, after: dict, **kw: object):
    return compare(snapshot(before), snapshot(after), kw.pop("sb", None), kw.pop("sa", None),  # type: ignore[arg-type]
                   basis="service-deployment", cluster="prod", service="orders")


def test_removed_variable_explains_missing_env_var():
    finding = run(["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"])
    assert finding.pattern == "missing-env-var"
    after = td(42, environment=[{"name": "LOG_LEVEL", "value": "debug"}])
    related = relate(finding, _compare(td(41), after))
    ch = related.changes
    assert ch is not None and ch.explained
    assert ch.verdict.startswith("DATABASE_URL was removed in revision 42; revision 41 had it")
    assert [c.explains for c in ch.items] == [True, False]  # LOG_LEVEL changed too, it does not explain it
    assert ch.rollback_command == "aws ecs update-service --cluster prod --service orders --task-definition orders:41"
    assert related.confidence > finding.confidence
    assert related.evidence[-1].source == "changes:orders:41->orders:42"


def test_a_different_variable_does_not_explain_it():
    finding = run(["KeyError: 'DATABASE_URL'"])
    after = td(41)
    before = td(40, environment=[*after["containerDefinitions"][0]["environment"], {"name": "OLD", "value": "1"}])
    ch = relate(finding, _compare(before, after)).changes
    assert ch is not None and not ch.explained and ch.rollback_command is None
    assert "none of the 1 change" in ch.verdict


def test_memory_lowered_explains_out_of_memory_raised_does_not():
    finding = run([], stop_code="EssentialContainerExited",
                  containers=[{"name": "app", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}])
    assert finding.pattern == "out-of-memory"
    lowered = relate(finding, _compare(td(41), td(42, memory=512))).changes
    raised = relate(finding, _compare(td(41), td(42, memory=2048))).changes
    assert lowered is not None and lowered.explained and "lowered from 1024 to 512" in lowered.verdict
    assert raised is not None and not raised.explained


def test_only_the_digest_changed_says_so():
    finding = run([], stop_code="EssentialContainerExited",
                  containers=[{"name": "app", "exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}])
    sb = service_config({"containerImages": [{"containerName": "app", "image": IMAGE, "imageDigest": "sha256:" + "a" * 64}]})
    sa = service_config({"containerImages": [{"containerName": "app", "image": IMAGE, "imageDigest": "sha256:" + "b" * 64}]})
    ch = relate(finding, _compare(td(41), td(42), sb=sb, sa=sa)).changes
    assert ch is not None and ch.verdict.startswith("no configuration change: only the image content (digest) changed")


def test_nothing_changed_says_the_cause_is_outside():
    finding = run(["KeyError: 'DATABASE_URL'"])
    ch = relate(finding, _compare(td(41), td(42))).changes
    assert ch is not None and ch.verdict.startswith("nothing changed between orders:41 and orders:42")
    assert relate(finding, None) is finding


def test_the_finding_with_changes_round_trips_through_json():
    from shared.models.finding import Finding

    finding = relate(run(["KeyError: 'DATABASE_URL'"]), _compare(td(41), td(42, environment=[])))
    assert Finding.model_validate_json(finding.model_dump_json(by_alias=True)) == finding


def test_every_declared_field_is_a_field_the_diff_produces():
    from shared.changes import LABELS
    from shared.patterns import registry

    for pattern in registry():
        assert set(pattern.explained_by) <= set(LABELS), pattern.id


def test_diff_of_unrelated_copies_does_not_mutate_input():
    before = td(41)
    kept = copy.deepcopy(before)
    snapshot(before)
    assert before == kept


def test_lowered_nofile_ulimit_explains_too_many_open_files():
    finding = run(["OSError: [Errno 24] Too many open files: '/tmp/upload-1.bin'"])
    assert finding.pattern == "too-many-open-files"
    nofile = [{"name": "nofile", "softLimit": 1024, "hardLimit": 1024}]
    ch = relate(finding, _compare(td(41, ulimits=[{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}]),
                                  td(42, ulimits=nofile))).changes
    assert ch is not None and ch.explained and "nofile=1024:1024" in ch.verdict
