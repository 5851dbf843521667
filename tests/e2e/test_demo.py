"""`make demo` end to end: the same command, the same scenarios, checked from what it leaves behind.

The demo runs once (in a subprocess, as `make demo` runs it) into a temporary folder; the tests read
its summary, every Slack payload and every SNS message as the subscriber received it, and check
them against expectations written here (not the demo's own). Other tests: Ctrl-C and SIGTERM leave
no process behind, and a scenario whose diagnosis is not the expected one makes the demo exit 1.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, demo_cmd, env

# scenario -> (pattern, scope, Slack posts (min, max), SNS messages, facts)
EXPECTED = {
    "health-check-missing-env": ("missing-env-var", "task", (1, 1), 1, {"variable": "DATABASE_URL"}),
    "bound-loopback": ("health-check-failed", "task", (1, 1), 1,
                       {"cause": "not-listening", "listen_address": "127.0.0.1"}),
    "iam-access-denied": ("iam-access-denied", "task", (1, 1), 1,
                          {"action": "dynamodb:PutItem", "simulation": "implicitDeny"}),
    "image-pull": ("image-pull-failed", "task", (1, 1), 1, {"cause": "not-found"}),
    "secrets-at-start": ("secrets-retrieval-failed", "task", (1, 1), 1, {"cause": "access-denied"}),
    "out-of-memory": ("out-of-memory", "task", (1, 1), 1, {"container": "app"}),
    "db-refused": ("database-connection-failed", "task", (1, 1), 1, {"cause": "refused"}),
    "scale-in": ("expected-stop", "task", (0, 0), 1, {"reason": "scale-in"}),
    "duplicate-event": ("app-crash", "task", (1, 1), 1, {}),
    "deploy-crash-loop": ("missing-env-var", "deployment", (1, 5), 51, {"variable": "STRIPE_WEBHOOK_SECRET"}),
    "deploy-drops-env": ("missing-env-var", "deployment", (1, 3), 4, {"variable": "DATABASE_URL"}),
    "deploy-lowers-memory": ("out-of-memory", "deployment", (1, 3), 4, {"container": "app"}),
    "deploy-same-tag": ("app-crash", "deployment", (1, 3), 4, {}),
}
# Slack posts: 13 before the deploys of a change, then 3 each (the first task, the deploy-level finding and
# the recovery, in the deploy's thread).
SLACK_POSTS = 13 + 3 * 3
# What changed in each deploy of a service from a healthy revision: the verdict, and what it explains.
CHANGES = {
    "deploy-drops-env": ("DATABASE_URL was removed in revision", True),
    "deploy-lowers-memory": ("lowered from 2048 to 1024", True),
    "deploy-same-tag": ("no configuration change: only the image content (digest) changed", False),
}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): it has exited and only waits to be reaped.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_demo_exits_zero_and_prints_the_summary_table(demo):
    proc = demo["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{len(EXPECTED)} scenarios, all as expected" in proc.stdout
    table = [line for line in proc.stdout.splitlines() if line.split()[:1] and line.split()[0] in EXPECTED]
    assert [line.split()[0] for line in table] == list(EXPECTED)
    header = next(line for line in proc.stdout.splitlines() if line.startswith("scenario"))
    assert header.split() == ["scenario", "pattern", "severity", "Slack", "SNS", "AWS", "calls", "ms", "check"]
    assert demo["summary"]["ok"] is True


def test_every_scenario_is_diagnosed_and_delivered_as_expected(demo):
    rows = {s["key"]: s for s in demo["summary"]["scenarios"]}
    assert list(rows) == list(EXPECTED)
    for key, (pattern, scope, (lo, hi), sns, facts) in EXPECTED.items():
        row = rows[key]
        assert (row["pattern"], row["scope"]) == (pattern, scope), key
        assert lo <= row["slack_posts"] <= hi, (key, row["slack_posts"])
        assert row["sns_messages"] == sns, (key, row["sns_messages"])
        assert {k: row["facts"].get(k) for k in facts} == facts, key
        assert row["aws_calls"] > 0 and row["ms"] > 0, key
    assert rows["health-check-missing-env"]["symptom"] == "health-check-failed"


def test_noise_behaviour(demo):
    rows = {s["key"]: s for s in demo["summary"]["scenarios"]}
    # The expected stop reaches SNS (machines) but not Slack (humans), and the handler says why.
    scale_in = rows["scale-in"]
    assert scale_in["results"][0]["delivery"]["channels"]["slack"]["status"] == "skipped"
    # The duplicate is delivered once: the second invocation finds the task delivered (issue 15.7).
    dup = rows["duplicate-event"]
    assert dup["invocations"] == 2 and dup["results"][1]["delivery"]["duplicate"] == "completed"
    assert dup["results"][0]["fingerprint"] == dup["results"][1]["fingerprint"]
    # The crash loop: 50 task findings and ONE deploy-level finding on SNS; Slack (app mode) gets ONE
    # thread in the team's channel: the parent (edited with the live count), replies at 10 and 50 tasks,
    # the deploy-level finding, and one "recovered" reply (the rollback completed, then a steady state).
    loop = rows["deploy-crash-loop"]
    assert loop["invocations"] == 53  # 50 tasks, the deployment, two recovery events
    assert loop["slack_posts"] == 5
    assert loop["calls"]["logs.GetLogEvents"] < 51  # the storm collapse borrowed logs


def test_sns_files_are_what_a_subscriber_receives(demo):
    import jsonschema

    from shared.models.finding import SCHEMA_VERSION

    schema = json.loads((ROOT / "shared" / "schemas" / f"finding-{SCHEMA_VERSION}.json").read_text())
    files = sorted((demo["out"] / "sns").glob("*.json"))
    assert len(files) == sum(e[3] for e in EXPECTED.values()) == demo["summary"]["sns_messages"]
    deployment = []
    for path in files:
        envelope = json.loads(path.read_text())
        assert envelope["Type"] == "Notification" and envelope["TopicArn"].endswith(":ecs-autopsy-findings")
        finding = json.loads(envelope["Message"])
        jsonschema.validate(finding, schema)
        attrs = envelope["MessageAttributes"]
        assert attrs["pattern"]["Value"] == finding["pattern"] and attrs["format"]["Value"] == "finding"
        if finding["scope"] == "deployment":
            deployment.append(finding)
    assert len(deployment) == 1 + len(CHANGES)
    loop = next(f for f in deployment if f["deployment"]["tasks_stopped"] == 50)
    d = loop["deployment"]
    assert d["event_name"] == "SERVICE_DEPLOYMENT_FAILED"
    assert loop["title"].startswith("deploy ecs-svc/") and "STRIPE_WEBHOOK_SECRET" in loop["title"]
    changed = [f for f in deployment if f is not loop]
    for f, (needle, explained) in zip(changed, CHANGES.values(), strict=True):
        assert needle in f["changes"]["verdict"] and f["changes"]["explained"] is explained, f["changes"]
        # The circuit breaker rolled each back to the revision that ran healthy.
        assert f["deployment"]["rolled_back"] and f["deployment"]["rollback_succeeded"]
        assert f["deployment"]["rolled_back_to"] == f["changes"]["before"]
        assert "postgres://" not in json.dumps(f)


def test_slack_files_are_valid_block_kit(demo):
    from shared.render.slack import DETAIL_PREFIX, validate

    files = sorted((demo["out"] / "slack").glob("*.json"))
    threads: dict[str, list[str]] = {}
    parents = 0
    for path in files:
        payload = json.loads(path.read_text())  # the chat.postMessage body: channel, thread_ts, text, blocks
        assert validate(payload) == [], path.name
        if "thread_ts" in payload:
            threads.setdefault(payload["thread_ts"], []).append(payload["text"])
        else:
            parents += 1
            assert payload["blocks"][0]["type"] == "header", path.name
            assert "*Evidence*" not in json.dumps(payload), path.name  # app mode: the details are in the thread
    # Every card's details are the first reply in its thread; the summary counts a card and its details once.
    assert len(threads) == parents and all(replies[0].startswith(DETAIL_PREFIX) for replies in threads.values())
    details = sum(text.startswith(DETAIL_PREFIX) for replies in threads.values() for text in replies)
    assert details == parents and len(files) - details == demo["summary"]["slack_posts"] == SLACK_POSTS
    # two services routed to two channels by their tags; the crash loop is one thread with one recovery
    channels = {json.loads(p.read_text())["channel"] for p in files}
    assert channels == {"C0ECSALERT", "C0BILLING1"}
    # One thread per failed deploy: the crash loop's (4 replies after the details) and each deploy of a change
    # (the deploy-level finding and the recovery), each with one recovery reply.
    deploys = [replies[1:] for replies in threads.values() if len(replies) > 1]
    assert sorted(len(replies) for replies in deploys) == [2] * len(CHANGES) + [4]
    assert all(sum("Recovered after" in text for text in replies) == 1 for replies in deploys)
    card = json.dumps(json.loads((demo["out"] / "slack" / "11-deploy-drops-env-3.json").read_text()), ensure_ascii=False)
    assert "Changed in this deploy" in card and "DATABASE_URL was removed in revision 2; revision 1 had it" in card
    assert "aws ecs update-service --cluster prod --service checkout-api --task-definition checkout-api:1" in card
    iam = json.loads((demo["out"] / "slack" / "03-iam-access-denied-1.json").read_text())
    assert '"Action": ["dynamodb:PutItem"]' in json.dumps(iam["blocks"], ensure_ascii=False).replace('\\"', '"')


def test_no_process_is_left_running(demo):
    pid = demo["summary"]["standin_pid"]
    assert isinstance(pid, int) and not _alive(pid)


def test_finishes_in_under_a_minute(demo):
    assert demo["seconds"] < 60, demo["seconds"]


def _start_and_wait_for_scenarios(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    # SIGINT as a terminal's foreground job has it: a test run started in the background (`cmd &` in a script)
    # inherits SIGINT ignored, and Python then keeps ignoring it.
    proc = subprocess.Popen(demo_cmd("--out", str(tmp_path), "--tasks", "5"), cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    pid = None
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            m = re.search(r"moto server\) on http://127\.0\.0\.1:\d+, pid (\d+)", line)
            if m:
                pid = int(m.group(1))
            if line.startswith("[1/"):
                break
            assert time.monotonic() < deadline
        assert pid is not None and _alive(pid)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc, pid


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_interrupting_the_demo_leaves_no_process(tmp_path, sig, code):
    proc, pid = _start_and_wait_for_scenarios(tmp_path)
    os.kill(proc.pid, sig)  # what Ctrl-C (SIGINT to the foreground job) or a `kill` does
    try:
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_a_wrong_diagnosis_fails_the_demo(tmp_path):
    script = (
        "import sys\n"
        "from dataclasses import replace\n"
        "from pathlib import Path\n"
        "from demo.run import run\n"
        "from demo.scenarios import SCENARIOS\n"
        "oom = next(s for s in SCENARIOS if s.key == 'out-of-memory')\n"
        "wrong = replace(oom, expect=replace(oom.expect, pattern='disk-full'))\n"
        f"sys.exit(run(Path({str(tmp_path)!r}), scenarios=(wrong,), quiet=True))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "NOT as expected: out-of-memory" in proc.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] is False
    assert summary["scenarios"][0]["problems"] == ["pattern out-of-memory, expected disk-full"]
