"""Advice whose first step targeted another sub-cause or said something untrue (issue 13, dev26/dev27 grading):
each rule comes with a near miss that keeps today's step."""

from __future__ import annotations

from tests.unit.helpers import run

_PULL = {"stopCode": "TaskFailedToStart", "launchType": "EC2", "attachments": []}


def _pull(reason: str, image: str) -> list[str]:
    got = run([], stoppedReason=f"CannotPullContainerError: {reason}",
              containers=[{"name": "web", "lastStatus": "STOPPED", "image": image}], **_PULL)
    assert got.pattern == "image-pull-failed"
    return got.remediation


def test_manifest_unknown_on_a_public_repository_is_a_missing_tag_not_missing_credentials():
    steps = _pull("Error response from daemon: manifest for acme/worker:3.1.4-slim not found: manifest unknown: "
                  "manifest unknown", "acme/worker:3.1.4-slim")
    assert "repositoryCredentials" not in " ".join(steps)
    assert "no such tag" in steps[0] and "hub.docker.com/v2/repositories/acme/worker/tags" in steps[0]
    assert "name=3.1" in steps[0]


def test_a_not_found_without_the_registrys_manifest_answer_keeps_the_private_repository_advice():
    steps = _pull("Error: image acme/worker:3.1.4-slim not found", "acme/worker:3.1.4-slim")
    assert steps[0].startswith("Check the image name and tag") and "repositoryCredentials" in steps[0]
