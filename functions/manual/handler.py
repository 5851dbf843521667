"""Invoked by hand for ad-hoc diagnosis:

    {"cluster": "prod", "task": "0123abcd..."}          one task
    {"cluster": "prod", "service": "orders-api"}        its most recent stopped tasks
    {... a full ECS event ...}                          as EventBridge would send it
    add "notify": true to also post the finding(s)      (default: only returned)

Returns {"findings": [<finding JSON>, ...]} or, for a request it cannot serve, {"error": "..."}.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.runtime import clients, cold_start, config, deliver, logger, metrics, record, with_evidence_budget
from shared.models.parse import BadInput


@cold_start
@logger.inject_lambda_context
@metrics.log_metrics
@with_evidence_budget
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from shared.pipeline import diagnose_request

    if not isinstance(event, dict):
        return {"error": f"expected a JSON object, got {type(event).__name__}"}
    notify = bool(event.get("notify"))
    request = {k: v for k, v in event.items() if k != "notify"}
    try:
        findings = diagnose_request(request, clients(), config())
    except BadInput as exc:
        logger.warning("request refused", extra={"error": str(exc)})
        return {"error": str(exc)}
    out: dict[str, Any] = {"findings": [json.loads(f.model_dump_json(by_alias=True)) for f in findings]}
    for finding in findings:
        record(finding)
    if notify:
        out["delivery"] = [deliver(f) for f in findings]
    return out
