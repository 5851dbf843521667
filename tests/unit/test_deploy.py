"""Deploy-level aggregation: many task findings -> ONE finding for the failed deployment (pure)."""

from __future__ import annotations

import json

import pytest

from shared.deploy import NO_TASKS_GAP, deploy_finding, key_fact, parse_deploy_event, target
from shared.inputs import BadInput
from shared.models.finding import EvidenceGap, Finding
from tests.unit.helpers import run

SERVICE_ARN = "arn:aws:ecs:us-east-1:111122223333:service/prod/orders-api"


def deploy_event(name: str = "SERVICE_DEPLOYMENT_FAILED", **detail) -> dict:
    base = {"eventType": "ERROR", "eventName": name, "updatedAt": "2026-11-27T11:11:11Z"}
    if name == "SERVICE_DEPLOYMENT_FAILED":
        base.update(deploymentId="ecs-svc/123", reason="ECS deployment circuit breaker: task failed to start.")
    else:
        base.update(eventType="WARN", clusterArn="arn:aws:ecs:us-east-1:111122223333:cluster/prod")
    base.update(detail)
    return {
        "version": "0", "id": "ddca6449-b258-46c0-8653-e0e3a6example",
        "detail-type": "ECS Deployment State Change" if name == "SERVICE_DEPLOYMENT_FAILED" else "ECS Service Action",
        "source": "aws.ecs", "account": "111122223333", "time": "2026-11-27T12:31:14Z", "region": "us-east-1",
        "resources": [SERVICE_ARN], "detail": base,
    }


def task_finding(n: int, logs: list[str], **detail) -> Finding:
    arn = f"arn:aws:ecs:us-east-1:111122223333:task/prod/{n:032x}"
    return run(logs, taskArn=arn, startedBy="ecs-svc/123", **detail)


MISSING = ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>', "KeyError: 'DATABASE_URL'"]
PANIC = ["panic: runtime error: index out of range [3] with length 3", "goroutine 1 [running]:", "main.main()"]


def test_twelve_of_twelve_with_the_same_root_cause():
    findings = [task_finding(i, MISSING) for i in range(12)]
    f = deploy_finding(parse_deploy_event(deploy_event()), findings)
    assert f.title == ("deploy ecs-svc/123 of orders-api failed: 12 tasks stopped, root cause missing-env-var "
                       "DATABASE_URL in 12/12")
    assert f.scope == "deployment" and f.pattern == "missing-env-var"
    d = f.deployment
    assert (d.cluster, d.service, d.deployment_id, d.event_name) == ("prod", "orders-api", "ecs-svc/123",
                                                                    "SERVICE_DEPLOYMENT_FAILED")
    assert (d.tasks_stopped, d.tasks_diagnosed, d.patterns) == (12, 12, {"missing-env-var": 12})
    assert len(d.task_arns) == 12
    assert f.facts["share"] == "12/12" and f.facts["variable"] == "DATABASE_URL"
    assert f.remediation == findings[0].remediation and f.evidence == findings[0].evidence
    assert f.checks[0].name == "Stopped tasks of the deployment"
    assert "circuit breaker" in f.summary
    Finding.model_validate_json(f.model_dump_json(by_alias=True))  # still the public contract


def test_dominant_cause_wins_and_the_others_are_named():
    findings = [task_finding(i, MISSING) for i in range(8)] + [task_finding(20 + i, PANIC,
                                                                            containers=[{"name": "app", "exitCode": 2}])
                                                               for i in range(3)]
    findings.append(task_finding(40, [], containers=[{"name": "app", "exitCode": 137}]))
    f = deploy_finding(parse_deploy_event(deploy_event()), findings, tasks_stopped=15)
    assert f.title.endswith("15 tasks stopped, root cause missing-env-var DATABASE_URL in 8/12")
    assert f.deployment.patterns == {"missing-env-var": 8, "app-crash": 3, "unknown": 1}
    assert "Other causes: app-crash" in f.summary and "unknown in 1" in f.summary
    assert f.also_matched == ["app-crash", "unknown"]


def test_unknown_and_expected_stops_do_not_outvote_a_real_cause():
    findings = [task_finding(i, [], containers=[{"name": "app", "exitCode": 137}]) for i in range(5)]
    findings.append(task_finding(9, PANIC, containers=[{"name": "app", "exitCode": 2}]))
    f = deploy_finding(parse_deploy_event(deploy_event()), findings)
    assert f.pattern == "app-crash"
    assert "in 1/6" in f.title


def test_same_pattern_different_key_facts_are_different_causes():
    other = ["Traceback (most recent call last):", '  File "a.py", line 1, in <module>', "KeyError: 'REDIS_URL'"]
    findings = [task_finding(1, MISSING), task_finding(2, other), task_finding(3, other)]
    f = deploy_finding(parse_deploy_event(deploy_event()), findings)
    assert "missing-env-var REDIS_URL in 2/3" in f.title
    assert "missing-env-var DATABASE_URL in 1" in f.summary


def test_task_start_impaired_takes_the_deployment_from_the_tasks():
    findings = [task_finding(i, MISSING) for i in range(3)]
    f = deploy_finding(parse_deploy_event(deploy_event("SERVICE_TASK_START_IMPAIRED")), findings)
    assert f.title == ("orders-api cannot start tasks (deploy ecs-svc/123): 3 tasks stopped, root cause "
                       "missing-env-var DATABASE_URL in 3/3")
    assert f.deployment.deployment_id == "ecs-svc/123" and f.deployment.cluster == "prod"


def test_no_task_left_is_still_one_finding_with_a_gap():
    f = deploy_finding(parse_deploy_event(deploy_event()), [])
    assert f.pattern == "unknown" and f.scope == "deployment"
    assert f.gaps == [NO_TASKS_GAP]
    assert f.title == "deploy ecs-svc/123 of orders-api failed: no stopped task left to diagnose"
    assert f.task.task_arn is None and f.deployment.service_arn == SERVICE_ARN  # a service ARN is not a task ARN
    assert [g.kind for g in f.evidence_gaps] == ["missing"]
    json.loads(f.model_dump_json(by_alias=True))


def test_fingerprint_is_per_deployment_and_cause():
    findings = [task_finding(i, MISSING) for i in range(2)]
    a = deploy_finding(parse_deploy_event(deploy_event()), findings)
    b = deploy_finding(parse_deploy_event(deploy_event()), list(reversed(findings)))
    c = deploy_finding(parse_deploy_event(deploy_event(deploymentId="ecs-svc/456")), findings)
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.fingerprint != findings[0].fingerprint


@pytest.mark.parametrize(("resources", "cluster_arn", "expected"), [
    ([SERVICE_ARN], None, ("prod", "orders-api")),
    (["arn:aws:ecs:us-east-1:111122223333:service/orders-api"], "arn:aws:ecs:us-east-1:111122223333:cluster/prod",
     ("arn:aws:ecs:us-east-1:111122223333:cluster/prod", "orders-api")),
    ([], None, (None, None)),
])
def test_target_from_service_arn_formats(resources, cluster_arn, expected):
    ev = deploy_event()
    ev["resources"] = resources
    if cluster_arn:
        ev["detail"]["clusterArn"] = cluster_arn
    t = target(parse_deploy_event(ev))
    assert (t.cluster, t.service) == expected


def test_key_fact_lists_are_joined_and_missing_facts_give_none():
    f = task_finding(1, MISSING)
    listed = f.model_copy(update={"facts": {"variables": ["DATABASE_URL", "API_KEY"]}})
    assert key_fact(listed) == "DATABASE_URL, API_KEY"
    assert key_fact(f.model_copy(update={"facts": {}})) is None
    assert key_fact(f.model_copy(update={"pattern": "unknown"})) is None


def test_bad_deploy_event_is_bad_input():
    with pytest.raises(BadInput, match=r"detail\.eventName"):
        parse_deploy_event({"detail-type": "ECS Deployment State Change", "source": "aws.ecs", "detail": {}})


def test_borrowed_logs_are_one_gap_not_one_per_task():
    def borrowed(n: int) -> Finding:
        f = task_finding(n, MISSING)
        gap = (f"Logs of this task were not read: {n} tasks of the same task definition stopped the same way within "
               f"60 s (same stop reason and exit codes); the logs of task {0:032x} were used.")
        gaps = [EvidenceGap(kind="borrowed", text=gap), EvidenceGap(kind="missing", text="Target health was not read.")]
        return f.model_copy(update={"gaps": [g.text for g in gaps], "evidence_gaps": gaps})

    findings = [task_finding(0, MISSING), *(borrowed(n) for n in range(2, 14))]
    f = deploy_finding(parse_deploy_event(deploy_event()), findings)
    assert f.gaps[0] == ("Logs of 12 of the 13 diagnosed tasks were not read: they stopped the same way as another "
                         "task of the service moments before, whose logs were used (a crash loop does not become a "
                         "storm of CloudWatch Logs reads).")
    assert not any(g.startswith("Logs of this task") for g in f.gaps)
    assert f.gaps.count("Target health was not read.") == 1
    assert [g.kind for g in f.evidence_gaps] == ["borrowed", "skipped", "missing"]
