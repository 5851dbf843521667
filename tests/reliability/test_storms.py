"""Duplicates and storms (issue 6, part 3), on moto with the subscriber queue and the Slack receiver.

- The same event delivered three times gives one SNS message and one Slack post: through the handler
  (the delivery state item recognises the repeats: one failed conditional write each, issue 15.7),
  and again later: the state item outlives its noise window by 7 days. (Until issue 15.7 a Powertools
  idempotency record, kept a day, answered the repeats with the stored result of the first.)
- A crash-looping service: 1,000 tasks with distinct task ARNs, same task definition, same failure,
  one after the other (about 40 ms a task here: well within a minute on a normal machine, and within
  one noise window of 15 minutes in any case), each through the whole handler: evidence read from
  moto (with the storm collapse of log reads), idempotency, delivery. At most 5 Slack posts
  (max_slack_posts_per_window; the thresholds 1, 10, 50, 200, 1000), every task on SNS, and the noise
  item's count in DynamoDB equal to the number of tasks.
"""

from __future__ import annotations

import copy
import time

from tests.functional.aws_world import CRASH_LOGS, TASK_ARN, container_def
from tests.reliability.figures import record
from tests.reliability.harness import Lambda, quiet_metrics

FIG = "duplicates and storms (issue 6.3)"
STORM = 1000
MAX_POSTS = 5


def _task_arn(i: int) -> str:
    return TASK_ARN[:-8] + f"{i:08x}"


def test_same_event_three_times_gives_one_notification(monkeypatch):
    with quiet_metrics(), Lambda(monkeypatch) as lam:
        world = lam.world([container_def("app")])
        world.write_logs("app", CRASH_LOGS)
        event = world.stopped_event()
        results = [lam.invoke("task_stopped", copy.deepcopy(event), request_id=f"delivery-{i}") for i in range(3)]
        assert not any(isinstance(r, Exception) for r in results), results
        # the repeats are recognised as duplicates of the first (same finding, nothing sent)
        assert [r["delivery"].get("duplicate") for r in results] == [None, "completed", "completed"]
        assert len({r["fingerprint"] for r in results}) == 1
        sns, slack = len(lam.sns()), len(lam.slack.accepted)
        record(FIG, "same event x3 through the handler: SNS messages, Slack posts", f"{sns}, {slack}")
        assert (sns, slack) == (1, 1)

        # Anything else in the table gone (the Powertools idempotency record, kept a day, before issue
        # 15.7), the state item (kept for its window + 7 days) recognises the task: nothing is sent again.
        ddb = lam.clients()("dynamodb")
        for item in ddb.scan(TableName=lam.table)["Items"]:
            if not item["id"]["S"].startswith("noise#"):
                ddb.delete_item(TableName=lam.table, Key={"id": item["id"]})
        for i in range(3):
            out = lam.invoke("task_stopped", copy.deepcopy(event), request_id=f"late-{i}")
            assert not isinstance(out, Exception), out
        late = (len(lam.sns()), len(lam.slack.accepted) - 1)
        record(FIG, "same event x3 more, later (state item only): SNS, Slack", f"{late[0]}, {late[1]}")
        assert late == (0, 0)
        (item,) = lam.noise_items()
        assert item["count"] == 1


def _storm(lam: Lambda, n: int) -> tuple[object, list[dict]]:
    world = lam.world([container_def("app")])
    for i in range(n):
        world.write_logs("app", CRASH_LOGS, task_id=_task_arn(i).rsplit("/", 1)[-1])
    event = world.stopped_event()
    events = []
    for i in range(n):
        ev = copy.deepcopy(event)
        ev["id"] = f"{i:08x}-7005-947d-b652-f55e762e571a"
        ev["detail"]["taskArn"] = ev["resources"][0] = _task_arn(i)
        events.append(ev)
    return world, events


def test_crash_loop_through_the_handler(monkeypatch):
    with quiet_metrics(), Lambda(monkeypatch) as lam:
        _, events = _storm(lam, STORM)
        sns = 0
        start = time.perf_counter()
        for i, ev in enumerate(events):
            out = lam.invoke("task_stopped", ev, request_id=f"storm-{i}")
            assert not isinstance(out, Exception), out
            if i % 10 == 9:
                sns += len(lam.sns())  # moto's SQS slows down as the queue grows
        seconds = time.perf_counter() - start
        sns += len(lam.sns())
        posts = lam.slack.accepted
        (item,) = lam.noise_items()
        reads = lam.runtime_clients.calls["logs.GetLogEvents"]
    name = f"{STORM} tasks through the handler"
    record(FIG, f"{name}: Slack posts (<= {MAX_POSTS})", len(posts))
    record(FIG, f"{name}: noise count in DynamoDB", int(item["count"]))
    record(FIG, f"{name}: SNS messages", sns)
    record(FIG, f"{name}: GetLogEvents calls (storm collapse)", reads)
    record(FIG, f"{name}: seconds ({1000 * seconds / STORM:.0f} ms a task)", f"{seconds:.1f}")
    assert len(posts) <= MAX_POSTS
    assert item["count"] == STORM and sns == STORM
    assert "seen 1000 times" in posts[-1]["text"], posts[-1]["text"]  # the last post says how many
    assert reads < STORM / 4
