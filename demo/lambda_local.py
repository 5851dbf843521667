"""Lambda, in process: the one runner `make demo`, the benchmarks and the tests invoke the handlers with.

It does what the Lambda runtime does around a handler, nothing more, so what runs is the code path of
the deployed functions:

- `load(name)`: the handler string the stack configures (`functions.<name>.handler.handler`, as
  infra/packaging.py's handler_entry), resolved as the runtime resolves it: the module imported, the
  attribute taken. A container imports it once; so does a process here.
- `Context`: the LambdaContext attributes the handlers (powertools) read.
- `cold_start()`: what a new container would not have, every process-wide warm state registered with
  shared.warm, dropped; `keep`/`only` name prefixes for callers that play a new container but keep the
  clients whose calls they count (KEEP_COUNTED), or drop only the evidence caches (EVIDENCE).
- `invoke()`: the handler called with a fresh context; `as_json` hands it the event the way Lambda
  does, decoded anew from JSON (no object shared with the caller).

The shipped core (shared/, functions/) never imports this module; the tests import it, as they import
the demo's stand-ins.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
HANDLERS = ("task_stopped", "deploy_failed", "manual", "recovered")

# Warm state a caller that counts the handlers' AWS calls keeps across a new container: the clients
# (and their counters), the settings, the runtime's channels and the noise memory.
KEEP_COUNTED = ("shared.aws.", "shared.notify.aws.", "shared.settings.", "functions.runtime.",
                "shared.notify.forget_memory_state")
# The evidence caches alone (task definitions, what changed, the crash-loop memory).
EVIDENCE = ("shared.evidence.",)
# The crash-loop memory alone: minutes later, no sibling task to borrow the logs of.
STORM = ("shared.evidence.gather.clear_storm_cache",)


def function_name(name: str) -> str:
    """The deployed function's name: task_stopped -> ecs-autopsy-task-stopped."""
    return "ecs-autopsy-" + name.replace("_", "-")


def handler_string(name: str) -> str:
    return f"functions.{name}.handler.handler"


@dataclass
class Context:
    """The LambdaContext attributes the handlers (powertools) read."""

    function_name: str = "ecs-autopsy-task-stopped"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    remaining_ms: int = 60_000
    region: str = REGION
    account: str = ACCOUNT

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def load(name: str) -> Callable[[Any, Any], Any]:
    """The handler of function `name`, found as Lambda's runtime finds it from the handler string."""
    module, _, attribute = handler_string(name).rpartition(".")
    handler: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), attribute)
    return handler


def cold_start(keep: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> None:
    """A new container: every warm state registered with shared.warm dropped (the runtime's included),
    but those named by `keep`; with `only`, just those."""
    import functions.runtime  # noqa: F401  (registers the runtime's own warm state)
    from shared import warm

    warm.reset(keep=keep, only=only)


def invoke(name: str, event: Any, context: Context | None = None, *, as_json: bool = False,
           **context_fields: Any) -> Any:
    """One invocation of function `name`: its result, or the exception it raised (raised here too).
    `context_fields` build the context (aws_request_id, remaining_ms, ...) when none is given."""
    if context is None:
        context = Context(function_name(name), **context_fields)
    if as_json:
        event = json.loads(json.dumps(event))
    return load(name)(event, context)
