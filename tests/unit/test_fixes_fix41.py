"""fix41: the dev33 remediation faults, by general rules: a roll-out after a task definition change names the
family; a push to ECR logs in first; EFS IAM authorization leads with what must change; an app that never saw a
health check listens on localhost; a long run's OOM is a leak first; Fluent Bit's missing plugin; reproductions
run the digest that ran; a refused database whose host the log does not name; Vault's disable_mlock; Quarkus's
reactive URL; an OpenTelemetry pipeline's unconfigured component; shutdown noise of an expected stop."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _pull(reason: str, image: str) -> dict[str, Any]:
    return {"stopCode": "TaskFailedToStart", "stoppedReason": reason,
            "containers": [{"name": "web", "lastStatus": "STOPPED", "image": image}]}


def _last(steps: list[str]) -> str:
    return steps[-1]


# (2) a pull rate limit fixed in the task definition rolls out its new revision


def test_a_docker_hub_rate_limit_rolls_out_the_family():
    got = run(**_pull("CannotPullContainerError: toomanyrequests: You have reached your pull rate limit.",
                      "nginx:1.25"))
    assert got.pattern == "image-pull-failed"
    assert "--task-definition orders-api --force-new-deployment" in _last(got.remediation)


def test_a_public_ecr_rate_limit_rolls_out_the_family():
    got = run(**_pull("CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                      "toomanyrequests: Rate exceeded", "public.ecr.aws/nginx/nginx:1.25"))
    assert "--task-definition orders-api --force-new-deployment" in _last(got.remediation)


def test_near_miss_private_ecr_throttling_redeploys_the_same_revision():
    # ECR's own API throttling is fixed by staggering launches: nothing in the task definition changes.
    got = run(**_pull("CannotPullContainerError: ThrottlingException: Rate exceeded",
                      "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"))
    steps = got.remediation
    assert "--force-new-deployment" in _last(steps) and "--task-definition" not in _last(steps)
