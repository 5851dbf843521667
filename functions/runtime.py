"""What every handler builds once per cold start: settings, logger, metrics, AWS clients, idempotency.

task_stopped keeps its idempotency in the delivery state item (shared/notify/state.py), not in Powertools
Idempotency, whose import loads boto3 at init; deploy_failed still uses it (`idempotency()`).

Measured cost decides what is here (see benchmarks/bench_pipeline.py): boto3 and its clients load
on first use; powertools Tracer is not used because constructing it patches botocore for X-Ray and
adds 400-600 ms to a cold start, more than the whole diagnosis.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

import functions
from shared.aws import Clients, default_clients
from shared.models.finding import Finding
from shared.settings import Settings, settings
from shared.warm import on_reset

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ecs-autopsy")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EcsAutopsy")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class MalformedEvent(ValueError):
    """The event cannot be diagnosed; raised so that Lambda's retry/on-failure path keeps it."""


def config() -> Settings:
    """Settings, validated once per cold start (a bad variable fails the init, naming it)."""
    return settings()


def clients() -> Clients:
    return default_clients(config().member_role_name)


@cache
def channels() -> tuple[Any, ...]:
    from shared.notify import from_settings

    c = clients()
    return tuple(from_settings(config(), sns_client=c("sns"), secrets_client=c("secretsmanager"), ecs_clients=c,
                               threads=threads()))


@cache
def threads() -> Any:
    """Slack thread state (app mode): the state table, or process memory without one."""
    from shared.notify.threads import DynamoThreads, MemoryThreads

    s = config()
    return DynamoThreads(s.table_name, clients()("dynamodb")) if s.table_name else MemoryThreads()


@cache
def state() -> Any:
    from shared.notify import state_from_settings

    s = config()
    return state_from_settings(s, clients()("dynamodb") if s.table_name else None)


# Time kept back at the end of an invocation for recording a partial failure (one DynamoDB write).
RESERVE_SECONDS = 8.0
# The current invocation's Lambda context (handlers set it first thing).
INVOCATION: ContextVar[Any] = ContextVar("lambda_context", default=None)


# Time kept back from the evidence budget: one AWS attempt that overruns the deadline (connect +
# read timeout), the diagnosis, and the delivery (Slack keeps within its own deadline).
EVIDENCE_RESERVE_SECONDS = 20.0


def evidence_budget_seconds(context: Any) -> float:
    """The invocation's evidence budget: its remaining time minus EVIDENCE_RESERVE_SECONDS (half of
    what is left when that is less than the reserve); without a Lambda context, the default budget."""
    from shared.aws import DEFAULT_EVIDENCE_BUDGET

    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining_ms):
        return DEFAULT_EVIDENCE_BUDGET
    remaining = remaining_ms() / 1000
    return remaining - EVIDENCE_RESERVE_SECONDS if remaining > EVIDENCE_RESERVE_SECONDS else remaining / 2


def cold_start(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Handler decorator: resume the garbage collector that importing the handler paused in a Lambda
    container (functions/__init__.py) once the first invocation ends. What the imports built lives as
    long as the container: it is frozen first (`gc.freeze`), so later collections skip it. So is what
    the first invocation loaded (botocore and its clients, the delivery modules, the validators built on
    first use), frozen again before the collector resumes: left young, its ~100,000 objects made the
    first collection, due as soon as the runtime serializes the result, cost ~100 ms (Python 3.12 bundle,
    benchmarks/bench_pipeline.py 1b). The first invocation's cyclic garbage (a few hundred objects) stays."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        if not functions.GC_PAUSED:
            return handler(event, context)
        gc.freeze()
        try:
            return handler(event, context)
        finally:
            functions.GC_PAUSED = False
            gc.freeze()
            gc.enable()

    return wrapper


def with_evidence_budget(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Handler decorator: remember the Lambda context and set the evidence time budget for the
    invocation (reset afterwards). Past it, evidence reads become "timeout" gaps and the invocation
    still ends with a finding."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        from shared.aws import EVIDENCE_DEADLINE, set_evidence_deadline

        invocation = INVOCATION.set(context)
        deadline = set_evidence_deadline(evidence_budget_seconds(context))
        try:
            return handler(event, context)
        finally:
            EVIDENCE_DEADLINE.reset(deadline)
            INVOCATION.reset(invocation)

    return wrapper


def deliver(finding: Finding, context: Any = None) -> dict[str, Any]:
    """Send the finding to every configured channel; raises DeliveryError if one failed. With the
    Lambda context, the Slack post is kept within the invocation's remaining time."""
    import time

    from shared.notify import DeliveryError
    from shared.notify import deliver as _deliver
    from shared.notify.deadline import DEADLINE

    token = None
    until = None  # the delivery is marked in progress until the invocation ends (a retry after then takes it over)
    remaining_ms = getattr(context or INVOCATION.get(), "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        left = remaining_ms() / 1000
        token = DEADLINE.set(time.monotonic() + left - RESERVE_SECONDS)
        until = time.time() + left
    try:
        result = _deliver(finding, list(channels()), state(), config(), until=until)
    except DeliveryError as exc:
        metrics.add_metric(name="DeliveryFailures", unit=MetricUnit.Count, value=1)
        logger.error("delivery failed", extra={"error": str(exc), "fingerprint": finding.fingerprint})
        raise
    finally:
        if token is not None:
            DEADLINE.reset(token)
    if result.duplicate:
        # A benign duplicate (ECS/EventBridge deliver at least once): counted, never a Lambda error.
        metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
        if result.duplicate == "in progress":
            metrics.add_metric(name="DuplicatesInProgress", unit=MetricUnit.Count, value=1)
        logger.info("duplicate delivery", extra={"duplicate": result.duplicate, "fingerprint": finding.fingerprint})
    if result.supersedes:
        metrics.add_metric(name="FindingUpdates", unit=MetricUnit.Count, value=1)
    return result.summary()


def record(finding: Finding) -> None:
    """EMF metrics: findings by pattern and severity, and evidence gaps."""
    with single_metric(name="Findings", unit=MetricUnit.Count, value=1, namespace=NAMESPACE,
                       default_dimensions={"service": SERVICE}) as metric:
        metric.add_dimension(name="pattern", value=finding.pattern)
        metric.add_dimension(name="severity", value=finding.severity)
    metrics.add_metric(name="EvidenceGaps", unit=MetricUnit.Count, value=len(finding.gaps))
    logger.info("finding", extra={"pattern": finding.pattern, "severity": finding.severity,
                                  "title": finding.title, "fingerprint": finding.fingerprint,
                                  "task_arn": finding.task.task_arn, "gaps": len(finding.gaps)})


@cache
def idempotency(event_key_jmespath: str) -> tuple[Any, Any] | None:
    """(persistence layer, config) for powertools Idempotency, or None without a state table."""
    table = config().table_name
    if not table:
        logger.warning("ECS_AUTOPSY_TABLE_NAME is not set: duplicate events are diagnosed again")
        return None
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=clients()("dynamodb"))
    return persistence, IdempotencyConfig(event_key_jmespath=event_key_jmespath, raise_on_no_idempotency_key=True,
                                          expires_after_seconds=24 * 3600)


for _cached in (channels, threads, state, idempotency):
    on_reset(_cached.cache_clear, f"functions.runtime.{_cached.__name__}")


def reject(message: str, event: Any) -> MalformedEvent:
    """One clear error line naming the problem; the caller raises what this returns."""
    metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
    detail_type = event.get("detail-type") if isinstance(event, dict) else type(event).__name__
    logger.error(f"malformed event: {message}", extra={"detail_type": detail_type})
    return MalformedEvent(message)
