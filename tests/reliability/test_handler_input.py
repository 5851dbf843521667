"""Bad input through the Lambda handler (issue 6, part 1, the handler side).

test_fuzz_events.py runs 10,000 generated events through the parser; here a few hundred of the same
generators' events go through functions.task_stopped.handler itself, on moto with the subscriber queue
and the Slack receiver:

- a malformed event gives exactly one ERROR log line that names the problem, nothing is delivered, and
  the handler raises: for an asynchronous invocation (EventBridge) that is what sends the event to
  Lambda's retries and then the function's on-failure queue (the wiring is asserted on the synthesized
  template in test_least_privilege.py);
- a well-formed EventBridge event gives a finding on the topic and no ERROR line.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from functions.runtime import MalformedEvent
from shared.models.event import ECS_SOURCE, TASK_STATE_CHANGE
from tests.reliability.figures import add
from tests.reliability.harness import Lambda, quiet_metrics
from tests.reliability.test_fuzz_events import RandomPick, logs, malformed_event, well_formed_event

FIG = "bad input (issue 6.1), through the task_stopped handler"
MALFORMED = 400
WELL_FORMED = 150
SEED = 6


def _needles(obj: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """What the error line must name: the handler takes EventBridge ECS task events only, so anything
    else is refused for what it is; an ECS task event is refused for its wrong field."""
    if not isinstance(obj, dict):
        return ("expected a JSON object",)
    if obj.get("detail-type") != TASK_STATE_CHANGE or obj.get("source") != ECS_SOURCE:
        return ("not an ECS task event",)
    return names


def test_malformed_events_log_one_error_line_raise_and_deliver_nothing(monkeypatch):
    p = RandomPick(random.Random(SEED))
    problems: list[str] = []
    with quiet_metrics(), Lambda(monkeypatch) as lam:
        lam.error_lines()
        for i in range(MALFORMED):
            obj, names = malformed_event(p)
            add(FIG, "malformed events through the handler")
            out = lam.invoke("task_stopped", copy.deepcopy(obj), request_id=f"bad-{i}")
            errors = lam.error_lines()
            needles = _needles(obj, names)
            ok = (isinstance(out, MalformedEvent) and len(errors) == 1 and errors[0].startswith("malformed event: ")
                  and "\n" not in errors[0] and any(n in errors[0] for n in needles))
            add(FIG, "malformed -> one ERROR line naming the problem + raised", int(ok))
            if not ok:
                problems.append(f"#{i} {str(obj)[:200]!r}: {type(out).__name__} {errors} (needs one of {needles})")
        delivered = len(lam.sns()) + len(lam.slack.accepted)
    add(FIG, "malformed events delivered anywhere (must be 0)", delivered)
    assert not problems, "\n".join(problems[:20])
    assert delivered == 0


def test_well_formed_events_give_a_finding_on_the_topic(monkeypatch):
    p = RandomPick(random.Random(SEED + 1))
    problems: list[str] = []
    with quiet_metrics(), Lambda(monkeypatch) as lam:
        from tests.functional.aws_world import container_def

        definition = lam.world([container_def("app")]).task_definition_arn
        lam.error_lines()
        n = 0
        while n < WELL_FORMED:
            event = well_formed_event(p)
            if "detail-type" not in event:  # the CLI's shapes (DescribeTasks output, a bare task): not for EventBridge
                continue
            lines = logs(p)
            n += 1
            task_id = f"{n:032x}"
            detail = event["detail"]
            detail["taskArn"] = f"arn:aws:ecs:us-east-1:111122223333:task/prod/{task_id}"
            detail["taskDefinitionArn"] = definition
            _write_logs(lam, lines, task_id)
            add(FIG, "well-formed events through the handler")
            out = lam.invoke("task_stopped", copy.deepcopy(event), request_id=f"good-{n}")
            errors = lam.error_lines()
            found = lam.sns()
            ok = not isinstance(out, Exception) and len(found) == 1 and not errors
            add(FIG, "well-formed -> one finding on the topic, no ERROR line", int(ok))
            if not ok:
                problems.append(f"#{n} {str(event)[:300]!r}: {out!r:.300} findings {len(found)} errors {errors}")
    assert not problems, "\n".join(problems[:20])


def _write_logs(lam: Lambda, lines: Any, task_id: str) -> None:
    """The generated log text, as container "app" of the task would have written it."""
    from tests.functional.aws_world import World

    text = lines if isinstance(lines, list) else lines.splitlines() if isinstance(lines, str) else \
        [line for v in lines.values() for line in v]
    events = [line[:200_000] for line in text if line.strip()] or ["(empty)"]
    World(lam.clients()).write_logs("app", events, task_id=task_id)
