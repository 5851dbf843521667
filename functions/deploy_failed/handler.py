"""EventBridge target for failed deployments: "ECS Deployment State Change" SERVICE_DEPLOYMENT_FAILED
and "ECS Service Action" SERVICE_TASK_START_IMPAIRED.

Finds the deployment's recent stopped tasks, diagnoses each and delivers ONE deploy-level finding
("deploy ecs-svc/123 of orders-api failed: 12 tasks stopped, root cause ... in 12/12").
Idempotent on the EventBridge event id.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.runtime import (
    clients,
    cold_start,
    config,
    deliver,
    idempotency,
    logger,
    metrics,
    record,
    reject,
    with_evidence_budget,
)
from shared.models.event import DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION, DeploymentEvent
from shared.models.parse import BadInput, parse_deploy_event

IDEMPOTENCY_KEY = "id"


@cold_start
@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
@with_evidence_budget
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deploy_event = validate(event)
    from shared.deploy import DEPLOY_EVENTS

    if deploy_event.detail.event_name not in DEPLOY_EVENTS:
        logger.info("not a failure, nothing to diagnose", extra={"event_name": deploy_event.detail.event_name})
        return {"skipped": deploy_event.detail.event_name}
    idem = idempotency(IDEMPOTENCY_KEY)
    if idem is None:
        return process(event)
    persistence, idem_config = idem
    idem_config.register_lambda_context(context)
    return idempotent_function(data_keyword_argument="event", persistence_store=persistence,
                               config=idem_config)(process)(event=event)


def validate(event: Any) -> DeploymentEvent:

    if not isinstance(event, dict):
        raise reject(f"expected a JSON object, got {type(event).__name__}", event)
    if event.get("detail-type") not in (DEPLOYMENT_STATE_CHANGE, SERVICE_ACTION):
        raise reject(f"not an ECS deployment event: detail-type {event.get('detail-type')!r}", event)
    if not event.get("id"):
        raise reject("the event has no id", event)
    try:
        return parse_deploy_event(event)
    except BadInput as exc:
        raise reject(str(exc), event) from None


def process(event: dict[str, Any]) -> dict[str, Any]:
    from shared.pipeline import diagnose_deployment

    finding = diagnose_deployment(parse_deploy_event(event), clients(), config())
    record(finding)
    delivery = deliver(finding)
    summary = finding.deployment
    return {"pattern": finding.pattern, "title": finding.title, "fingerprint": finding.fingerprint,
            "tasks_stopped": summary.tasks_stopped if summary else 0, "delivery": delivery}
