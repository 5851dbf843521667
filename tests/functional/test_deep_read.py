"""Deep reading: when the tail names no cause, one more GetLogEvents reads further back (issue 10).

A Go `fatal error` followed by a 400-line goroutine dump is missed by a 100-line tail; a second read of
up to 10,000 events finds it, and the excerpt shows the incident and a bounded part of the dump. A tail
that holds the incident still costs exactly one GetLogEvents call.
"""

from __future__ import annotations

from shared.evidence.gather import DEEP_LINES
from shared.inputs import parse_task_event
from shared.pipeline import investigate
from tests.functional.aws_world import PANIC_LOGS, World, container_def
from tests.functional.test_evidence_gather import aws  # noqa: F401  (the same moto fixture)


def goroutine_dump(goroutines: int) -> list[str]:
    lines = ["fatal error: concurrent map writes", " "]  # CloudWatch keeps no empty message: a blank is a space
    for g in range(goroutines):
        lines += [f"goroutine {g + 1} [chan receive]:",
                  f"main.worker({g:#x}, 0xc000012000)",
                  f"\t/app/worker.go:{40 + g} +0x{g:04x}",
                  "created by main.main in goroutine 1",
                  "\t/app/main.go:22 +0x85",
                  " "]
    return lines


EXITED_2 = [{"name": "app", "exitCode": 2, "lastStatus": "STOPPED"}]


def test_an_incident_above_a_long_dump_is_found_with_one_more_read(aws):  # noqa: F811
    world = World.build(aws, [container_def()])
    world.write_logs("app", ["starting orders-api", "listening on :8000", *goroutine_dump(70)])  # ~420 lines
    event = parse_task_event(world.stopped_event(containers=EXITED_2))

    aws.reset_calls()
    ev, finding = investigate(event, aws)
    assert finding.pattern == "app-crash"
    assert "concurrent map writes" in finding.facts["exception"]
    assert aws.calls["logs.GetLogEvents"] == 2
    assert len(ev.logs) > 400
    # The excerpt shows the incident first and only a bounded part of the dump after it.
    assert any("fatal error: concurrent map writes" in line for line in finding.log_excerpt[:6])
    assert len(finding.log_excerpt) <= 50 and finding.log_excerpt[-1].startswith("… ")


def test_a_tail_that_holds_the_incident_costs_one_read(aws):  # noqa: F811
    world = World.build(aws, [container_def()])
    world.write_logs("app", [f"request {i} ok" for i in range(500)] + PANIC_LOGS)
    event = parse_task_event(world.stopped_event(containers=EXITED_2))
    aws.reset_calls()
    _, finding = investigate(event, aws)
    assert finding.pattern == "app-crash"
    assert aws.calls["logs.GetLogEvents"] == 1


def test_a_short_stream_is_not_read_twice(aws):  # noqa: F811
    world = World.build(aws, [container_def()])
    world.write_logs("app", ["starting", "stopping"])
    event = parse_task_event(world.stopped_event(containers=EXITED_2))
    aws.reset_calls()
    _, finding = investigate(event, aws)
    assert aws.calls["logs.GetLogEvents"] == 1  # the tail came back short: there is nothing older
    assert finding.pattern in ("unknown", "app-crash")


def test_the_deep_read_is_bounded():
    assert DEEP_LINES == 10_000  # GetLogEvents' own cap is 10,000 events or 1 MB per call
