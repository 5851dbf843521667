"""EventBridge target for "ECS Task State Change" (lastStatus STOPPED): diagnose the task, deliver.

Idempotent per stopped task, in the delivery state item (shared/notify/state.py, one conditional
write claims the delivery and counts it for noise control): EventBridge may deliver the same event
twice, and ECS sends later STOPPED events of the same task (a higher detail.version when only an
attachment changed). A duplicate, or a later version with the same diagnosis, sends nothing; one
that changes the diagnosis is sent as an update (`supersedes`). A concurrent duplicate returns
normally (`"duplicate": "in progress"`, metric DuplicatesInProgress), never a Lambda error. Powertools
Idempotency is not used here: it diagnosed nothing twice, but cost two more writes per event and
its import loads boto3 during init.

A malformed event is logged as one error line and raised, so Lambda's on-failure destination (the
dead-letter queue) keeps it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from functions.runtime import (
    clients,
    cold_start,
    config,
    deliver,
    logger,
    metrics,
    record,
    reject,
    with_evidence_budget,
)
from shared.models.event import ECS_SOURCE, TASK_STATE_CHANGE, TaskStateChangeEvent
from shared.models.parse import describe_validation_error


@cold_start
@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@with_evidence_budget
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    validate(event)
    return process(event)


def validate(event: Any) -> TaskStateChangeEvent:
    if not isinstance(event, dict):
        raise reject(f"expected a JSON object, got {type(event).__name__}", event)
    if event.get("detail-type") != TASK_STATE_CHANGE or event.get("source") != ECS_SOURCE:
        raise reject(f"not an ECS task event: detail-type {event.get('detail-type')!r}, "
                     f"source {event.get('source')!r}", event)
    try:
        # The model itself, not powertools' parser: importing that costs a cold start ~0.1-0.4 s.
        return TaskStateChangeEvent.model_validate(event)
    except ValidationError as exc:
        raise reject(describe_validation_error(exc, "invalid ECS task event at "), event) from None
    except Exception as exc:  # powertools wraps some errors (e.g. a non-dict detail)
        cause = exc.__cause__ if isinstance(exc.__cause__, ValidationError) else None
        message = describe_validation_error(cause, "invalid ECS task event at ") if cause else str(exc)
        raise reject(message, event) from None


def process(event: dict[str, Any]) -> dict[str, Any]:
    from shared.pipeline import investigate

    task_event = TaskStateChangeEvent.model_validate(event)
    _, finding = investigate(task_event, clients(), config(), collapse=True)
    try:
        delivery = deliver(finding)
    except Exception:
        record(finding)
        raise
    if "duplicate" not in delivery:  # a duplicate's finding was recorded by the invocation that delivered it
        record(finding)
    return {"pattern": finding.pattern, "severity": finding.severity, "fingerprint": finding.fingerprint,
            "task_arn": finding.task.task_arn, "delivery": delivery}
