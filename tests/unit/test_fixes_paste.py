"""Every fix can be pasted as written (issue 13), over every case set and every events/ sample.

The checks themselves live in tests/support/fixcheck.py; the first tests here prove they catch what
they are meant to catch, the last ones run them over all findings.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from shared.engine import diagnose
from shared.inputs import load_event, load_logs, offline_evidence
from shared.models.finding import Finding
from shared.render import steps
from tests.conftest import DEV_CASES, EVENTS
from tests.support.diagnosed import case_finding
from tests.support.fixcheck import command_problems, placeholder_problems, policy_problems, problems, unrunnable

# Faults allowed per check: none. Before issue 13 (main at a5efdf5, 807 cases + 33 samples): 582
# placeholders for known values, 303 placeholders that did not say what to put, 166 of 1121 commands
# invalid (397 faults), 58 of 100 policies invalid (95 faults).
ALLOWED = {"placeholders": 0, "bare placeholders": 0, "commands": 0, "policies": 0,
           # E: a value no evidence gives is read inside the command (`name=$(aws ...)`) or made a wildcard to
           # narrow, never left as <what to put> in a command or a policy (before, main at 0370ce0: 125 in 82
           # of 869 findings)
           "placeholders in commands": 0}


# -------------------------------------------------------------------------------------------------
# The checks catch what they should
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("cmd", "fault"), [
    ("aws ecs describe-servics --cluster a --services b", "no such operation"),
    ("aws ecss describe-services --cluster a --services b", "no such service"),
    ("aws ecs describe-services --cluster a", "missing --services"),
    ("aws ecs describe-services ... --query 'services[0].events[:10]'", "elided"),
    ("aws ecs update-service --cluster a --service b --task-def x:1", "unknown option --task-def"),
    ("aws ecs execute-command", "missing --task"),
    ("aws logs tail /ecs/app --since 1h --bogus", "unknown option --bogus"),
    ("aws ecs describe-tasks --cluster a --tasks", "has no value"),
    ("docker run -p traffic-port:traffic-port repo/app:1", "not a port mapping"),
    ("docker run --rm -e A=1", "no image"),
    ("curl -v 'http://localhost:8080", "does not parse"),
])
def test_command_check_catches(cmd, fault):
    assert any(fault in p for p in command_problems(cmd)), command_problems(cmd)


@pytest.mark.parametrize("cmd", [
    "aws ecs describe-services --cluster prod --services api --query 'services[0].events[:10]'",
    "aws ecs update-service --cluster prod --service api --task-definition api:7 --force-new-deployment",
    "aws ecs execute-command --cluster prod --task 0123abc --container app --interactive --command 'sh'",
    "aws logs tail /ecs/api --since 1h --log-stream-name-prefix ecs/app/0123abc",
    "aws ecs run-task --cluster prod --task-definition api:7 --launch-type FARGATE",
    "aws secretsmanager describe-secret --secret-id arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf",
    "aws elbv2 describe-target-health --target-group-arn arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/b",
    "docker run --rm -p 8080:8080 -e DATABASE_URL repo/app:1",
])
def test_command_check_passes_valid_commands(cmd):
    assert command_problems(cmd) == []


def _doc(resource: str, action: str = "secretsmanager:GetSecretValue") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [action], "Resource": resource}]}


def test_policy_check():
    assert any("not an ARN" in p for p in policy_problems(_doc("prod/billing/stripe-api-key")))
    assert any("-??????" in p for p in policy_problems(_doc("arn:aws:secretsmanager:us-east-1:111122223333:secret:x")))
    assert policy_problems(_doc("arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/x-??????")) == []
    assert any("RESOURCE_STAR" in p for p in policy_problems(_doc("*", "s3:GetObject")))
    assert policy_problems(_doc("*", "ecr:GetAuthorizationToken")) == []
    assert any("parliament" in p for p in policy_problems(_doc("arn:aws:s3:::b/k", "s3:NoSuchAction")))
    assert policy_problems('{"Effect": "Allow",') != []


def test_steps_find_commands_policies_and_placeholders():
    step = ("Grant it: ```{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": \"*\"}``` then "
            "`aws ecs update-service --cluster <cluster> --service api --force-new-deployment` and check `PORT`.")
    assert steps.commands(step) == ["aws ecs update-service --cluster <cluster> --service api --force-new-deployment"]
    assert steps.policies(step)[0]["Statement"][0]["Action"] == ["s3:GetObject"]
    assert steps.placeholders(step) == ["cluster"]
    assert "`" not in steps.plain(step) and "```" not in steps.plain(step)


def test_placeholder_check_knows_the_task():
    f = _finding(EVENTS / "missing-env-var.json")
    bad = f.model_copy(update={"remediation": [
        f"`aws ecs update-service --cluster <cluster> --service <service>` on {f.task.cluster}",
        "`curl http://localhost:8080<path>`", "`curl http://localhost:8080<the path your app answers on>`"]})
    known, bare = placeholder_problems(bad)
    assert len(known) == 2 and len(bare) == 1


# -------------------------------------------------------------------------------------------------
# Every finding the product makes today
# -------------------------------------------------------------------------------------------------
def _finding(event: Path) -> Finding:
    log = event.with_suffix(".log")
    return diagnose(offline_evidence(load_event(event), load_logs(log) if log.exists() else []))


@cache
def all_findings() -> tuple[tuple[str, Finding], ...]:
    """Every case's and every events/ sample's finding, diagnosed once per session (the case findings are
    the ones test_corpus judges: tests/support/diagnosed.py)."""
    from shared import warm

    out = [(f"{path.parent.name}/{path.stem}", case_finding(path)) for path in sorted(DEV_CASES.glob("*/*.json"))]
    for event in sorted(EVENTS.glob("*.json")):
        warm.reset()
        out.append((f"events/{event.stem}", _finding(event)))
    return tuple(out)


@pytest.fixture(scope="module")
def faults() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {k: [] for k in ALLOWED}
    for name, f in all_findings():
        for kind, items in problems(f).items():
            found[kind] += [f"{name} [{f.pattern}] {p}" for p in items]
    return found


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_every_fix_pastes(faults, kind):
    got = faults[kind]
    assert len(got) <= ALLOWED[kind], f"{len(got)} {kind} faults (allowed {ALLOWED[kind]}):\n" + "\n".join(got[:40])


def test_case_sets_are_there():
    assert len(list(DEV_CASES.glob("*/*.json"))) > 700 and json.loads((EVENTS / "unknown.json").read_text())


@pytest.fixture(scope="module")
def findings() -> tuple[tuple[str, Finding], ...]:
    return all_findings()


def _misfits(name: str, f: Finding) -> list[str]:
    """Steps that do not fit the case: its state, sub-cause, platform; a false statement; a table."""
    rem = "\n".join(f.remediation)
    out = []
    if "execute-command" in rem:
        out.append("ECS Exec into a task that has stopped")
    if f.facts.get("engine") in ("redis", "memcached") and "aws rds " in rem:
        out.append("an RDS command for a Redis/Memcached endpoint")
    if f.facts.get("cause") in ("dns", "auth") and "nc -z" in rem:
        out.append(f"a TCP reachability test for a {f.facts['cause']} failure")
    if "keep their old" in rem:
        out.append("the false claim that running tasks keep their old IAM permissions")
    windows = any(c.image and re.search(r"windows|servercore|nanoserver", c.image, re.I) for c in f.task.containers)
    if windows and "awsvpcTrunking" in rem:
        out.append("ENI trunking for a Windows task")
    if re.search(r"^\s*\|.*\|\s*$", rem + "\n" + f.summary, re.M):
        out.append("a Markdown table")
    return [f"{name} [{f.pattern}]: {x}" for x in out]


def test_steps_fit_the_case(findings):
    bad = [x for name, f in findings for x in _misfits(name, f)]
    assert not bad, "\n".join(bad[:30])


def test_the_first_step_cites_its_evidence(findings):
    """Each finding's first step says which evidence makes it apply (expected stops need no fix)."""
    bad = [f"{name} [{f.pattern}]" for name, f in findings
           if f.remediation and f.pattern not in ("expected-stop", "unknown")
           and not any("(Why: " in step for step in f.remediation)]
    assert not bad, "\n".join(bad[:30])


def test_a_pipeline_is_checked_command_by_command():
    """`aws ecr get-login-password | docker login ...`: the options after the pipe are docker's, not aws's; a bad
    option before the pipe is still caught (near miss)."""
    ok = "aws ecr get-login-password | docker login --username AWS --password-stdin 1.dkr.ecr.us-east-1.amazonaws.com"
    assert command_problems(ok) == []
    bad = "aws ecr get-login-password --bogus | docker login --username AWS --password-stdin x"
    assert any("--bogus" in p for p in command_problems(bad))


def test_the_unrunnable_check_catches_a_placeholder_in_a_command_but_not_in_a_fragment():
    f = _finding(EVENTS / "missing-env-var.json")
    bad = f.model_copy(update={"remediation": [
        "`aws logs create-log-group --log-group-name '<the awslogs-group of the task definition>'`",
        '```[{"name": "X", "value": "<the value of X>"}]```']})
    got = unrunnable(bad)
    assert len(got) == 1 and "awslogs-group" in got[0], got


def test_redaction_leaves_every_command_of_every_fix_as_it_is(findings):
    """Findings are redacted before they leave diagnose(): a command that redaction rewrote (`--password-stdin
    REGISTRY`, a describe-task-definition after "credentials:") no longer runs as pasted. Main at 0370ce0 had
    13 such commands."""
    from shared.redact import MASK

    bad = [f"{name} [{f.pattern}]: {span[:100]}" for name, f in findings for step in f.remediation
           for span in steps.code(step) if MASK in span]
    assert not bad, "\n".join(bad[:20])


def test_every_regional_aws_command_names_the_region_the_finding_knows(monkeypatch):
    """`aws <service> <op>` without --region gets the task's region at the end of its own words (inside
    `$(...)`, before a pipe or redirect); near misses: a command that names a region keeps it, a global service
    (iam) and an unknown region get none."""
    from shared import remediation as remedy
    from tests.unit.helpers import evidence

    ev = evidence([])
    block = ("```\nx=$(aws ecs describe-services --cluster c --query 'services[0]' --output text)\n"
             "aws events list-targets-by-rule --rule r --output json > t.json\n```")
    got = remedy.with_region(ev, [block, "`aws ecs describe-tasks --cluster c --tasks t --region eu-west-1`",
                                  "`aws iam get-role --role-name r`"])
    assert "--output text --region us-east-1)" in got[0]
    assert "--output json --region us-east-1 > t.json" in got[0]
    assert got[1].count("--region") == 1 and "eu-west-1" in got[1]
    assert "--region" not in got[2]
    # A name holding a backtick ends the inline span inside its quotes: the region is not put inside the value
    hostile = "`aws ecs update-service --cluster 'prodZq1``` closed' --service s`"
    assert "'prodZq1 --region" not in remedy.with_region(ev, [hostile])[0]
    # Quotes of the other kind inside a quoted value neither open nor close it; a value closed before the end is
    # no open quote (the command gets its region), one left open is (it does not)
    assert remedy.with_region(ev, ["`aws ssm get-parameter --name \"it's\" --with-decryption`"])[0].endswith(
        "--with-decryption --region us-east-1`")
    assert "--region" not in remedy.with_region(ev, ["`aws ssm get-parameter --name 'a\"b`"])[0]
    # Near misses of a command's start: "aws " ending another word, or not followed by a service and an operation,
    # then a real command in the same span (each is found from its own "aws ")
    got = remedy.with_region(ev, ["`draws ecs x && aws  ecs y && aws ecs describe-tasks --cluster c --tasks t`"])[0]
    assert got == "`draws ecs x && aws  ecs y && aws ecs describe-tasks --cluster c --tasks t --region us-east-1`"
    two = remedy.with_region(ev, ["`aws ecs list-tasks --cluster c | xargs aws ecs describe-tasks --cluster c --tasks`"])
    assert two[0].count("--region us-east-1") == 2
    monkeypatch.setattr(remedy, "region", lambda _ev: None)
    assert remedy.with_region(ev, [block]) == [block]
