"""Small builders shared by the pattern tests: real-shaped containers, stop reasons, assertions."""

from __future__ import annotations

from typing import Any

from shared.models.finding import Finding

TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/orders-api-tg/6d0ecf831eec9f09"
IMAGE = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"


def box(exit_code: int | None = 1, name: str = "app", **extra: Any) -> dict[str, Any]:
    """One container of the event, as ECS reports it."""
    c: dict[str, Any] = {"name": name, "lastStatus": "STOPPED", "image": IMAGE}
    if exit_code is not None:
        c["exitCode"] = exit_code
    c.update(extra)
    return c


def exited(code: int | None = 1, name: str = "app", **extra: Any) -> dict[str, Any]:
    """Event detail of a task whose essential container exited with `code`."""
    return {"containers": [box(code, name, **extra)]}


def failed_to_start(reason: str, *containers: dict[str, Any], **detail: Any) -> dict[str, Any]:
    """Event detail of a task that never started (stopCode TaskFailedToStart)."""
    d: dict[str, Any] = {"stoppedReason": reason, "stopCode": "TaskFailedToStart",
                         "containers": list(containers) or [box(None)]}
    d.update(detail)
    return d


def elb_failed(code: int | None = 143, tg: str = TG_ARN) -> dict[str, Any]:
    """Event detail of a task the service stopped because its ELB health checks failed."""
    return {"stoppedReason": f"Task failed ELB health checks in (target-group {tg})",
            "stopCode": "ServiceSchedulerInitiated", "containers": [box(code)]}


def assert_finding(finding: Finding, pattern: str, facts: dict[str, Any] | None = None) -> None:
    assert finding.pattern == pattern, (finding.pattern, finding.facts, finding.also_matched)
    for key, want in (facts or {}).items():
        assert key in finding.facts, f"fact {key!r} missing from {finding.facts}"
        assert finding.facts[key] == want, f"fact {key!r}: {finding.facts[key]!r} != {want!r}"
