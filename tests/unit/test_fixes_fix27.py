"""A one-off task's roll-out re-runs it as it was started (dev27's graded E fault: a `db:prepare` one-off re-run with
the image's default command), unless the override is what failed."""

from __future__ import annotations

import json
import shlex

from tests.unit.helpers import run

_ONE_OFF = {"group": "family:shop-db-prepare", "startedBy": "deploy-pipeline", "launchType": "FARGATE",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/shop-db-prepare:4"}


def _rollout(finding) -> str:
    return next(s for s in finding.remediation if "aws ecs run-task" in s)


def _overrides(step: str) -> dict:
    words = shlex.split(step.split("`aws ecs run-task", 1)[1].split("`", 1)[0])
    return json.loads(words[words.index("--overrides") + 1])


def test_a_one_off_started_with_a_command_override_is_rolled_out_with_it():
    got = run(["/bin/bash: /srv/app/bin/docker-entrypoint: Permission denied"],
              containers=[{"name": "rails", "exitCode": 126, "lastStatus": "STOPPED"}],
              overrides={"containerOverrides": [{"name": "rails", "command": ["./bin/rails", "db:prepare"]}]},
              stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited", **_ONE_OFF)
    assert got.pattern == "container-start-failed"
    assert _overrides(_rollout(got)) == {"containerOverrides": [{"name": "rails", "command": ["./bin/rails", "db:prepare"]}]}


def test_an_override_whose_program_could_not_be_executed_is_not_repeated():
    reason = ('CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: '
              'OCI runtime create failed: runc create failed: unable to start container process: exec: "ingest-v2": '
              'executable file not found in $PATH: unknown')
    got = run([], containers=[{"name": "worker", "lastStatus": "STOPPED", "reason": reason}],
              overrides={"containerOverrides": [{"name": "worker", "command": ["ingest-v2"]}]},
              stopCode="TaskFailedToStart", stoppedReason=reason, **_ONE_OFF)
    assert got.pattern == "container-start-failed"
    assert "--overrides" not in _rollout(got)
