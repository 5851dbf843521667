"""The cold start's garbage-collector pause (functions/__init__.py, functions.runtime.cold_start): in a
Lambda container a handler's import pauses the collector and the end of the first invocation resumes
it, whatever that invocation did; elsewhere the collector is never touched. Each case runs in a fresh
interpreter, as a cold start does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json
seen = {"after_import": gc.isenabled()}
import functions.%s.handler as h
seen["after_handler_import"] = gc.isenabled()
class Ctx:
    function_name = "f"; aws_request_id = "r"; memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:f"
    def get_remaining_time_in_millis(self): return 60000
for n in (1, 2):
    try:
        seen[f"outcome_{n}"] = type(h.handler("not an event", Ctx())).__name__  # malformed: an error answer
    except Exception as exc:  # or rejected with an exception
        seen[f"outcome_{n}"] = type(exc).__name__
    seen[f"after_invocation_{n}"] = gc.isenabled()
seen["frozen"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


# What the first invocation builds and keeps (in a real one: botocore and its clients, the delivery modules).
_FIRST_INVOCATION = """
import gc, json
import functions.task_stopped.handler
from functions.runtime import cold_start
kept = []
@cold_start
def handler(event, context):
    kept.extend([i] for i in range(20_000))
    return "ok"
frozen_before = gc.get_freeze_count()
handler({}, None)
print(json.dumps({"enabled": gc.isenabled(), "collectable": len(gc.get_objects()),
                  "frozen_by_first": gc.get_freeze_count() - frozen_before}))
"""


def _run(handler: str, lambda_env: bool, probe: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "POWERTOOLS_METRICS_NAMESPACE": "Test", "PYTHONPATH": str(ROOT)})
    if lambda_env:
        env["AWS_LAMBDA_FUNCTION_NAME"] = f"ecs-autopsy-{handler}"
    proc = subprocess.run([sys.executable, "-c", probe or _PROBE % handler], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("handler", ["task_stopped", "deploy_failed", "manual", "recovered"])
def test_lambda_pauses_the_collector_until_the_first_invocation_ends(handler: str) -> None:
    seen = _run(handler, lambda_env=True)
    assert seen["after_import"] is True
    assert seen["after_handler_import"] is False  # paused through INIT
    assert seen["after_invocation_1"] is True  # resumed, whatever the first invocation did
    assert seen["after_invocation_2"] is True
    assert handler == "manual" or seen["outcome_1"] == "MalformedEvent"  # the paths that raise resume it too
    assert seen["frozen"] > 10_000  # what the imports built is frozen


def test_outside_lambda_the_collector_is_left_alone() -> None:
    seen = _run("task_stopped", lambda_env=False)
    assert seen["after_handler_import"] is True and seen["after_invocation_1"] is True
    assert seen["frozen"] == 0


def test_what_the_first_invocation_built_is_frozen_before_the_collector_resumes() -> None:
    # Left young, it made the first collection (due as soon as the runtime serializes the result) walk
    # everything the first event loaded: ~100 ms on the bundle's first event.
    seen = _run("task_stopped", lambda_env=True, probe=_FIRST_INVOCATION)
    assert seen["enabled"] is True
    assert seen["frozen_by_first"] >= 20_000
    assert seen["collectable"] < 5_000
