"""EventBridge target for "a service is healthy again": ECS Service Action SERVICE_STEADY_STATE and
ECS Deployment State Change SERVICE_DEPLOYMENT_COMPLETED (which is also how a circuit-breaker
rollback completes). Slack app mode only.

For each open incident of the service (threads.py keeps an index `open#<service>`), one reply in its
thread ("recovered after 14 min; 37 tasks failed; rolled back to revision 41") and the parent edited
to "Recovered". Steady-state events are frequent: the rule filters on the event names (and the
watched clusters), and a healthy service costs ONE DynamoDB GetItem here, nothing else (no secret
read, no ECS call, no Slack call). The revision note costs one ecs:DescribeServices, only when an
incident is open. A duplicate event posts nothing (the reply is claimed by event id in the item).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.runtime import INVOCATION, channels, clients, cold_start, logger, metrics, reject, threads
from shared.models.event import DEPLOYMENT_STATE_CHANGE, ECS_SOURCE, SERVICE_ACTION

RECOVERY_EVENTS = {SERVICE_ACTION: ("SERVICE_STEADY_STATE",),
                   DEPLOYMENT_STATE_CHANGE: ("SERVICE_DEPLOYMENT_COMPLETED",)}


@cold_start
@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    INVOCATION.set(context)
    service, arn = validate(event)
    opened = threads().open_get(service)
    if not opened:
        return {"service": service, "open_incidents": 0}
    return process(event, service, arn, opened)


def validate(event: Any) -> tuple[str, str]:
    """The service key (`<account>/<region>/<cluster>/<service>`) and the service ARN."""
    if not isinstance(event, dict):
        raise reject(f"expected a JSON object, got {type(event).__name__}", event)
    kind = event.get("detail-type")
    raw_detail = event.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    if event.get("source") != ECS_SOURCE or kind not in RECOVERY_EVENTS:
        raise reject(f"not an ECS service event: detail-type {kind!r}", event)
    if detail.get("eventName") not in RECOVERY_EVENTS[kind]:
        raise reject(f"not a recovery event: {detail.get('eventName')!r}", event)
    arn = next((r for r in event.get("resources") or [] if isinstance(r, str) and ":service/" in r), None)
    if not arn:
        raise reject("the event names no service ARN in resources", event)
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise reject("malformed service ARN", event)
    _, _, _, region, account, resource = parts
    names = resource.split("/")[1:]
    if len(names) == 2:
        cluster, service = names
    elif len(names) == 1 and isinstance(detail.get("clusterArn"), str):  # the old short ARN format
        cluster, service = detail["clusterArn"].rsplit("/", 1)[-1], names[0]
    else:
        raise reject("cannot tell the service's cluster from the event", event)
    return f"{account}/{region}/{cluster}/{service}", arn


def process(event: dict[str, Any], service: str, arn: str, opened: dict[str, Any]) -> dict[str, Any]:
    from shared.notify.channels import SlackChannel

    slack = next((ch for ch in channels() if isinstance(ch, SlackChannel)), None)
    app = slack._credentials() if slack is not None else None
    if slack is None or app is None:
        logger.warning("open incidents but no Slack app configured", extra={"service": service})
        return {"service": service, "open_incidents": len(opened), "recovered": []}
    detail = event.get("detail") or {}
    if detail.get("eventName") == "SERVICE_STEADY_STATE":
        reason = "the service reached a steady state"
    elif "roll" in str(detail.get("reason") or "").lower():
        reason = "the rollback completed"
    else:
        reason = f"deployment {detail.get('deploymentId') or ''} completed".replace("  ", " ")
    recovered = slack._thread_poster(app).recover(service, reason, str(event.get("id") or ""), opened=opened,
                                                  revision_note=lambda item: revision_note(arn, item))
    metrics.add_metric(name="Recoveries", unit="Count", value=len(recovered))
    logger.info("recovered", extra={"service": service, "incidents": recovered})
    return {"service": service, "open_incidents": len(opened), "recovered": recovered}


def revision_note(service_arn: str, item: dict[str, Any]) -> str:
    """"rolled back to revision 41" / "now on revision 43" from the service's primary deployment (one
    DescribeServices), compared with the task definition of the failing tasks."""
    failing = str(item.get("task_definition") or "")
    try:
        _, _, _, region, account, resource = service_arn.split(":", 5)
        cluster, name = resource.split("/")[1:3]
        c = clients().for_account(account, region)
        svc = (c("ecs", region).describe_services(cluster=cluster, services=[name]).get("services") or [{}])[0]
    except Exception as exc:
        logger.warning("could not read the service's task definition", extra={"error": type(exc).__name__})
        return ""
    primary: dict[str, Any] = next((d for d in svc.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    now_td = str(svc.get("taskDefinition") or primary.get("taskDefinition") or "").rsplit("/", 1)[-1]
    if not now_td or ":" not in now_td:
        return ""
    revision = now_td.rsplit(":", 1)[1]
    if ":" in failing and failing != now_td:
        try:
            older = int(revision) < int(failing.rsplit(":", 1)[1])
        except ValueError:
            older = False
        return f"{'rolled back to' if older else 'now on'} revision {revision}"
    return ""
