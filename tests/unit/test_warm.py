"""Every process-wide cache sits behind one reset (shared.warm): a test, the demo or a new container
calls it once and starts cold."""

from __future__ import annotations

import functions.runtime as runtime
from shared import warm
from shared.evidence import ecs, gather
from shared.evidence.model import TaskDefinitionFacts
from shared.notify import aws as notify_aws
from shared.notify import secrets  # noqa: F401  (registers its cache)
from shared.settings import settings

EXPECTED = {
    "shared.evidence.ecs.clear_cache", "shared.evidence.gather.clear_storm_cache", "shared.settings.settings",
    "shared.aws.forget_default_clients", "shared.notify.aws.client", "shared.notify.secrets.clear_cache",
    "shared.notify.forget_memory_state", "functions.runtime.channels", "functions.runtime.state",
    "functions.runtime.idempotency",
}


def test_every_warm_state_registers_its_reset():
    assert set(warm.registered()) >= EXPECTED


def test_reset_drops_them(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    ecs._td_cache["arn:x"] = TaskDefinitionFacts(arn="arn:x")
    gather._STORM[("k",)] = (0.0, {}, None, 1)
    settings()
    notify_aws.client("sns")
    assert settings.cache_info().currsize == 1 and notify_aws.client.cache_info().currsize == 1
    runtime.channels.cache_clear()

    warm.reset()

    assert ecs.cached_task_definition("arn:x") is None
    assert not gather._STORM
    assert settings.cache_info().currsize == 0 and notify_aws.client.cache_info().currsize == 0


def test_reset_only_drops_the_named_states(monkeypatch):
    """`only` (the demo's "minutes later": the crash-loop memory alone) leaves the rest warm."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    ecs._td_cache["arn:x"] = TaskDefinitionFacts(arn="arn:x")
    gather._STORM[("k",)] = (0.0, {}, None, 1)
    settings()

    warm.reset(only=("shared.evidence.gather.",))

    assert not gather._STORM
    assert ecs.cached_task_definition("arn:x") is not None and settings.cache_info().currsize == 1
    warm.reset()
