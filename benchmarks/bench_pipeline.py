"""The whole pipeline against the local AWS stand-in (the one `make demo` uses), in one run:

1. Cold start: the import time of each Lambda handler in fresh interpreters (median of --cold-runs),
   next to `import boto3; boto3.client("ecs")` measured the same way in the same run. Then, from the
   bundle as synth builds it (infra/packaging.py, wheels for this machine, .pyc of Python 3.12) run by
   Python 3.12 with boto3 beside it as the Lambda runtime has it: INIT (the handler's import) plus the
   first event (an app crash: log tail, idempotency, noise count, SNS, Slack) against
   `import boto3; boto3.client("ecs")` plus one call, both against the stand-in, rounds interleaved;
   and the same bundle without .pyc (what a synth without Python 3.12 ships).
   Target: INIT + first event within 1.3x of the baseline.
2. Warm latency per event: the task_stopped handler on an application crash with logs (log tail read,
   the state item's claim and completion (idempotency and noise control), SNS publish, Slack post) next to a naive forwarder that
   posts the raw event to the same webhook and does nothing else, interleaved in rounds so that both see
   the same machine load. Noise control is off here (ECS_AUTOPSY_NOISE_WINDOW_SECONDS=0) so that
   ecs-autopsy posts every event too. Target: ecs-autopsy's p50 within 1.5x of the forwarder's.
3. AWS calls per diagnosis, by pattern: one sample event per pattern (events/<pattern>.json), the
   first of its task definition in a warm container, then a warm one.
4. A storm: --storm stopped-task events of one crash-looping service through the task_stopped handler
   in --concurrency worker processes (each a warm Lambda container; 5 is the function's reserved
   concurrency), noise control on: total time, Slack posts, SNS messages, and the peak CloudWatch Logs
   GetLogEvents per second (timestamps of every call, any 1-second window). Target: <= 10/s
   (GetLogEvents is throttled per account and Region).

    .venv/bin/python benchmarks/bench_pipeline.py [--invocations 200] [--storm 500] [--concurrency 5]
                                                  [--cold-runs 7] [--json .bench/pipeline.json]

Nothing leaves the machine: moto's server and the webhook listen on 127.0.0.1, credentials are fake.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.run import Functions, peak_per_second  # noqa: E402
from demo.slack_receiver import SlackReceiver  # noqa: E402
from demo.standin import ACCOUNT, REGION, StandIn  # noqa: E402
from demo.world import Account, Sample, load_sample  # noqa: E402

OUT = ROOT / ".bench"
HANDLERS = ("task_stopped", "deploy_failed", "manual")
BASELINE = 'import boto3; boto3.client("ecs", region_name="us-east-1")'


def pct(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# -------------------------------------------------------------------------------------------------
# 1. Cold start
# -------------------------------------------------------------------------------------------------
def cold_start(runs: int) -> dict[str, float]:
    statements = {f"functions.{h}.handler": f"import functions.{h}.handler" for h in HANDLERS}
    statements["boto3 + ecs client"] = BASELINE
    statements["task_stopped + boto3 + ecs client"] = f"import functions.task_stopped.handler; {BASELINE}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "ECS_AUTOPSY_"))}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "ecs-autopsy"})
    times: dict[str, list[float]] = {name: [] for name in statements}
    names = list(statements)
    for run in range(runs):
        for name in names[run % len(names):] + names[: run % len(names)]:  # rotate: no variant always first
            code = f"import time\nt = time.perf_counter()\n{statements[name]}\nprint((time.perf_counter() - t) * 1000)"
            out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                 check=True)
            times[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {name: statistics.median(values) for name, values in times.items()}


# -------------------------------------------------------------------------------------------------
# 1b. Cold start from the built bundle, on Python 3.12
# -------------------------------------------------------------------------------------------------
_PRELUDE = """
import json, sys, time
class Ctx:
    function_name = "ecs-autopsy-task-stopped"
    aws_request_id = "cold-start"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:{region}:{account}:function:ecs-autopsy-task-stopped"
    def get_remaining_time_in_millis(self):
        return 60000
t0, c0 = time.perf_counter(), time.process_time()
"""
_FLOOR = """
import os, urllib.request
ev = json.loads(sys.argv[1]); d = ev["detail"]; env = os.environ.get
td = c.describe_task_definition(taskDefinition=d["taskDefinitionArn"])["taskDefinition"]
cd = td["containerDefinitions"][0]; lo = cd["logConfiguration"]["options"]
boto3.client("logs").get_log_events(logGroupName=lo["awslogs-group"], limit=100, startFromHead=False,
    logStreamName=f'{lo["awslogs-stream-prefix"]}/{cd["name"]}/{d["taskArn"].rsplit("/", 1)[1]}')
c.list_service_deployments(cluster=d["clusterArn"], service=d["group"].split(":", 1)[1], maxResults=20)
ddb = boto3.client("dynamodb"); key = {"id": {"S": "floor " + ev["id"]}}
ddb.update_item(TableName=env("ECS_AUTOPSY_TABLE_NAME"), Key=key, UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}})
boto3.client("sns").publish(TopicArn=env("ECS_AUTOPSY_TOPIC_ARN"), Message=json.dumps(ev))
secret = boto3.client("secretsmanager").get_secret_value(SecretId=env("ECS_AUTOPSY_SLACK_SECRET_ID"))
post = urllib.request.Request(json.loads(secret["SecretString"])["url"], data=b'{"text": "stopped"}',
                              headers={"Content-Type": "application/json"})
with urllib.request.urlopen(post, timeout=10) as response:
    response.read()
ddb.update_item(TableName=env("ECS_AUTOPSY_TABLE_NAME"), Key=key, UpdateExpression="SET done = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}})
"""
FLOOR_CLIENTS, FLOOR_CALLS = 5, 7
# The floor with the libraries the standards require, each used as the first event uses it and imported no
# wider than that needs (no ecs-autopsy code): the event validated by a pydantic model, powertools Logger
# and Metrics (the handler's decorators, one metric flushed as EMF), the Slack secret read through powertools
# Parameters, and the post as a Block Kit message through slack_sdk's WebhookClient. Measured, not added up.
_FLOOR_LIBS_INIT = """
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.webhook import WebhookClient
class Detail(BaseModel):
    model_config = ConfigDict(extra="allow")
    taskArn: str
    clusterArn: str
    group: str
    taskDefinitionArn: str
class Event(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    detail: Detail
logger = Logger(service="floor")
metrics = Metrics(namespace="Floor", service="floor")
c = boto3.client('ecs')
early = []
"""
_FLOOR_LIBS = (_FLOOR.replace('ev = json.loads(sys.argv[1]); d = ev["detail"]',
                              'ev = json.loads(sys.argv[1]); d = Event.model_validate(ev).detail.model_dump()')
               .replace('secret = boto3.client("secretsmanager").get_secret_value(SecretId=env("ECS_AUTOPSY_SLACK_SECRET_ID"))\n'
                        'post = urllib.request.Request(json.loads(secret["SecretString"])["url"], data=b\'{"text": "stopped"}\',\n'
                        '                              headers={"Content-Type": "application/json"})\n'
                        'with urllib.request.urlopen(post, timeout=10) as response:\n'
                        '    response.read()\n',
                        'secret = SecretsProvider(boto3_client=boto3.client("secretsmanager")).get(\n'
                        '    env("ECS_AUTOPSY_SLACK_SECRET_ID"), transform="json")\n'
                        'sent = WebhookClient(secret["url"], timeout=10).send(text="stopped", blocks=[SectionBlock(text="stopped")])\n'
                        'assert sent.status_code == 200, sent.status_code\n'
                        'metrics.add_metric(name="Findings", unit=MetricUnit.Count, value=1)\n'
                        'logger.info("finding", extra={"pattern": "app-crash"})\n'))
assert _FLOOR_LIBS != _FLOOR and "WebhookClient" in _FLOOR_LIBS and "model_validate" in _FLOOR_LIBS
# (INIT, the first event, a check run after the clock stops)
_VARIANTS = {
    "handler": ("import functions.task_stopped.handler as h\nearly = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)",
                "result = h.handler(json.loads(sys.argv[1]), Ctx())",
                "assert result['pattern'] == 'app-crash', result\n"
                "assert all(c['status'] == 'sent' for c in result['delivery']['channels'].values()), result"),
    "baseline": ("import boto3\nc = boto3.client('ecs')\nearly = []", "c.list_clusters()", ""),
    # The floor: what the first event's AWS work costs with no ecs-autopsy code at all. The same clients
    # (boto3's default session), the same calls in the same order, and the webhook post with urllib.
    "floor": ("import boto3\nc = boto3.client('ecs')\nearly = []", _FLOOR, ""),
    "floor + libraries": (_FLOOR_LIBS_INIT,
                          "@logger.inject_lambda_context\n@metrics.log_metrics\ndef first(event, context):\n"
                          + "".join("    " + line + "\n" for line in _FLOOR_LIBS.strip().splitlines())
                          + "first({}, Ctx())", ""),
    # The same with the collector paused from the imports to the end of the first event, as the handlers do
    # in a Lambda container (functions/__init__.py, functions.runtime.cold_start).
    "floor + libraries, collector paused": ("import gc\ngc.disable()\n" + _FLOOR_LIBS_INIT,
                                            "@logger.inject_lambda_context\n@metrics.log_metrics\ndef first(event, context):\n"
                                            + "".join("    " + line + "\n" for line in _FLOOR_LIBS.strip().splitlines())
                                            + "first({}, Ctx())\ngc.freeze()\ngc.enable()", ""),
    "idempotency import": ("import aws_lambda_powertools.utilities.idempotency\n"
                           "early = sorted(m for m in ('boto3', 'botocore') if m in sys.modules)", "pass", ""),
}
# After the handler returns, the Lambda runtime serializes its result and posts it: the allocations that
# takes run the young-generation collection the first event left due (in a Lambda container the handler's
# import pauses the collector until the first invocation ends, functions/__init__.py). `gc.collect(0)` is
# that collection, timed in every variant (with the collector on all along, as in the baseline, it is small).
_TIMED = """
t1 = time.perf_counter()
{first}
t2 = time.perf_counter()
c2 = time.process_time()
import gc
gc.collect(0)
t3 = time.perf_counter()
c3 = time.process_time()
{check}
print(json.dumps({{"init": (t1 - t0) * 1000, "first": (t2 - t1) * 1000, "cpu": (c2 - c0) * 1000,
                   "gc": (t3 - t2) * 1000, "gc_cpu": (c3 - c2) * 1000, "early": early}}))
"""


# Where the handler's cold start CPU goes, import by import, each measured on top of the ones before it
# (fresh interpreter, the bundle, the runtime's botocore, the collector paused as in a Lambda INIT). boto3
# and botocore come first, as the baseline imports them: each library after them is charged only what it
# adds to the baseline's own imports (the stdlib modules they share are boto3's).
_PARTS = (
    ("boto3 + botocore (the baseline's imports)", "import boto3, botocore.session, botocore.client"),
    ("pydantic", "import pydantic, pydantic.main, pydantic.fields"),
    ("powertools Logger + Metrics", "from aws_lambda_powertools import Logger, Metrics"),
    ("powertools Parameters (the Slack secret)", "import aws_lambda_powertools.utilities.parameters"),
    ("slack_sdk (webhook post)", "import slack_sdk.webhook, slack_sdk.http_retry"),
    ("handler module: event + finding models, runtime", "import functions.task_stopped.handler"),
    ("core: pipeline, engine, evidence, redact", "import shared.pipeline"),
    ("patterns: registry (modules, regexes, facts)", "from shared.patterns import registry; registry()"),
    ("delivery: notify, render, the Slack channel", "import shared.notify, shared.render.slack, shared.render.sns, "
                                                   "shared.notify.slack"),
)
_LIBRARIES = ("pydantic", "powertools Logger + Metrics", "powertools Parameters (the Slack secret)",
              "slack_sdk (webhook post)")
_PARTS_CODE = """
import gc, json, time
gc.disable()
out = []
for statement in {statements!r}:
    c = time.process_time()
    exec(statement)
    out.append((time.process_time() - c) * 1000)
print(json.dumps(out))
"""


def cpu_parts(runs: int, tree: Path, runtime: Path, python: str, env: dict[str, str]) -> dict[str, float]:
    code = _PARTS_CODE.format(statements=[statement for _, statement in _PARTS])
    rows = []
    for _ in range(runs):
        proc = subprocess.run([python, "-S", "-c", code], cwd=tree, capture_output=True, text=True, check=True,
                              env=dict(env, PYTHONPATH=f"{tree}{os.pathsep}{runtime}"))
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {name: statistics.median(row[i] for row in rows) for i, (name, _) in enumerate(_PARTS)}


def _local_platforms() -> tuple[str, ...]:
    from infra import packaging as pk

    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
    return pk.PLATFORMS


def built_bundle() -> tuple[Path, Path, Path, str] | None:
    """(bundle with .pyc, the same without, boto3 as the runtime has it, python3.12), built once per
    code version under .bench/; None without Python 3.12."""
    from infra import packaging as pk

    python = pk.find_runtime_python()
    if python is None:
        return None
    import boto3

    key = pk.asset_hash(ROOT, compiled=True)[:12]
    bundle, sources = OUT / f"bundle-{key}", OUT / f"bundle-{key}-sources"
    if not (bundle / ".built").exists():
        for old in OUT.glob("bundle-*"):
            shutil.rmtree(old, ignore_errors=True)
        pk.build_bundle(bundle, python=python, platforms=_local_platforms())
        shutil.copytree(bundle, sources, ignore=shutil.ignore_patterns("__pycache__"))
        (bundle / ".built").touch()
    runtime = OUT / f"runtime-boto3-{boto3.__version__}"
    if not (runtime / ".built").exists():
        shutil.rmtree(runtime, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                        "--target", str(runtime), "--python-version", "3.12", "--only-binary=:all:",
                        *(a for p in _local_platforms() for a in ("--platform", p)), f"boto3=={boto3.__version__}"],
                       check=True)
        # The Lambda runtime's boto3 is compiled, as the bundle is.
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(runtime)], check=True)
        (runtime / ".built").touch()
    return bundle, sources, runtime, python


def baseline_bundle(tree: Path) -> Path:
    """Another checkout's code bundled as this synth does it: with .pyc of Python 3.12 when one is found
    (the same as the bundle measured against it), else sources only."""
    import warnings

    from infra import packaging as pk

    python = pk.find_runtime_python()
    out = OUT / f"bundle-baseline-{pk.asset_hash(tree, compiled=python is not None)[:12]}"
    if not (out / ".built").exists():
        shutil.rmtree(out, ignore_errors=True)
        with open(os.devnull, "w", encoding="utf-8") as devnull, warnings.catch_warnings(), \
                contextlib.redirect_stderr(devnull):
            warnings.simplefilter("ignore")
            pk.build_bundle(out, tree, python=python, platforms=_local_platforms())
        (out / ".built").touch()
    return out


def cold_bundle(runs: int, account: Account, baseline: Path | None = None) -> dict[str, Any] | None:
    built = built_bundle()
    if built is None:
        print("   no Python 3.12 found: the bundle cold start is not measured (see infra/packaging.py)")
        return None
    bundle, sources, runtime, python = built
    sample = load_sample("app-crash")
    td = account.register(sample)
    account.add_service(sample.service or "orders-consumer", td)
    account.write_logs(sample)
    # As in a Lambda container: the runtime names the function in AWS_LAMBDA_FUNCTION_NAME (every variant).
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", ECS_AUTOPSY_NOISE_WINDOW_SECONDS="0",
               AWS_LAMBDA_FUNCTION_NAME="ecs-autopsy-task-stopped")
    env.pop("PYTHONPATH", None)
    prelude = _PRELUDE.format(region=REGION, account=ACCOUNT)
    cases = [("with .pyc", bundle, "handler"), ("without .pyc", sources, "handler"), ("boto3 + ecs client", bundle, "baseline"),
             ("floor: boto3, same clients + calls", bundle, "floor"),
             ("floor + required libraries, used", bundle, "floor + libraries"),
             ("the same, collector paused", bundle, "floor + libraries, collector paused"),
             ("powertools idempotency import", bundle, "idempotency import")]
    if baseline is not None:
        cases.append(("before (--baseline, as built)", baseline_bundle(baseline), "handler"))
    times: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in cases}
    cluster = sample.event["detail"]["taskArn"].rsplit("/", 2)[-2]
    for run in range(runs):
        for name, tree, variant in cases[run % len(cases):] + cases[: run % len(cases)]:
            # Each run is a new task's crash, its logs written first (not timed): a later version of a task
            # already diagnosed is a duplicate, which sends nothing and loads nothing for SNS or Slack.
            task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{uuid.uuid4().hex}"
            account.write_logs(sample, task_id=task_arn.rsplit("/", 1)[-1])
            event = account.event_for(sample, td, task_arn=task_arn, event_id=str(uuid.uuid4()))
            init, first, check = _VARIANTS[variant]
            code = prelude + init + _TIMED.format(first=first, check=check)
            # -S: no site-packages of this interpreter; the bundle and the runtime's boto3 only, /var/task read-only.
            proc = subprocess.run([python, "-S", "-c", code, json.dumps(event)], cwd=tree, capture_output=True, text=True,
                                  env=dict(env, PYTHONPATH=f"{tree}{os.pathsep}{runtime}"), check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"cold run {name} failed:\n{proc.stderr[-2000:]}")
            times[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    out: dict[str, Any] = {"python": python, "runs": runs, "cpu_parts_ms": cpu_parts(runs, bundle, runtime, python, env)}
    for name, rows in times.items():
        out[name] = {"init_ms": statistics.median(r["init"] for r in rows),
                     "first_ms": statistics.median(r["first"] for r in rows),
                     "gc_ms": statistics.median(r["gc"] for r in rows),
                     "total_ms": statistics.median(r["init"] + r["first"] + r["gc"] for r in rows),
                     "cpu_ms": statistics.median(r["cpu"] + r["gc_cpu"] for r in rows),
                     "loaded_early": rows[0]["early"]}
    return out


# -------------------------------------------------------------------------------------------------
# 2. Latency: ecs-autopsy vs a naive forwarder
# -------------------------------------------------------------------------------------------------
def naive_forwarder(url: str) -> Any:
    """What a team without ecs-autopsy wires up: the raw event to the webhook, nothing else."""

    def handler(event: dict[str, Any], context: Any = None) -> int:
        body = json.dumps({"text": "ECS task stopped:\n```" + json.dumps(event) + "```"}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return int(response.status)

    return handler


def latency(fn: Functions, account: Account, receiver: SlackReceiver, invocations: int) -> dict[str, Any]:
    sample = load_sample("app-crash")
    td = account.register(sample)
    account.add_service(sample.service or "orders-consumer", td)
    account.write_logs(sample)
    forward = naive_forwarder(receiver.url)
    # Each of our events is a new task's crash: a later version of the same task is one incident (its delivery
    # id is the fingerprint and the task), so re-sending one task would time duplicates, not diagnoses.
    rounds = 10
    per_round = max(1, invocations // rounds)
    cluster = sample.event["detail"]["taskArn"].rsplit("/", 2)[-2]
    arns = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster}/{uuid.uuid4().hex}" for _ in range(10 + rounds * per_round)]
    with ThreadPoolExecutor(8) as pool:  # each task's log stream, written before anything is timed
        list(pool.map(lambda arn: account.write_logs(sample, task_id=arn.rsplit("/", 1)[-1]), arns))
    tasks = iter(arns)
    version = 100
    ours: list[float] = []
    theirs: list[float] = []
    problems = 0

    def one_of_ours(record: bool) -> None:
        nonlocal version, problems
        version += 1
        fn.minutes_later()  # each event is a new crash, its logs read (no sibling to borrow them from)
        result, error, ms = fn.invoke("task_stopped", account.event_for(sample, td, task_arn=next(tasks), version=version))
        if error or result["delivery"]["channels"]["slack"]["status"] != "sent" or result["pattern"] != "app-crash":
            problems += 1
        if record:
            ours.append(ms)

    def one_of_theirs(record: bool) -> None:
        event = account.event_for(sample, td)
        started = time.perf_counter()
        forward(event)
        if record:
            theirs.append((time.perf_counter() - started) * 1000)

    for _ in range(10):  # warm both: clients, connections, caches
        one_of_ours(False)
        one_of_theirs(False)
    fn.reset_calls()
    for _ in range(rounds):
        for _ in range(per_round):
            one_of_ours(True)
        for _ in range(per_round):
            one_of_theirs(True)
    calls = dict(fn.calls)
    logs = account.client("logs")
    stream = next(iter(sample.streams)).split("/")
    one_call: list[float] = []
    for _ in range(50):
        started = time.perf_counter()
        logs.get_log_events(logGroupName=f"/ecs/{sample.family}", logStreamName=f"{stream[0]}/{stream[1]}/{sample.task_id}",
                            limit=100, startFromHead=False)
        one_call.append((time.perf_counter() - started) * 1000)
    return {"ours": ours, "theirs": theirs, "problems": problems, "calls_per_invocation":
            {k: v / len(ours) for k, v in calls.items()}, "standin_call_p50_ms": statistics.median(one_call)}


# -------------------------------------------------------------------------------------------------
# 3. AWS calls per diagnosis, by pattern
# -------------------------------------------------------------------------------------------------
DELIVERY = ("dynamodb.", "sns.", "secretsmanager.")


def pattern_samples() -> list[Sample]:
    from shared.patterns import registry

    ids = sorted(p.id for p in registry())
    samples = [load_sample(i) for i in ids if (ROOT / "events" / f"{i}.json").exists()]
    # Services behind a target group first, so that the service is created with it.
    return sorted(samples, key=lambda s: "targetgroup/" not in (s.detail.get("stoppedReason") or ""))


def calls_by_pattern(fn: Functions, account: Account) -> list[dict[str, Any]]:
    rows = []
    for sample in pattern_samples():
        reason = sample.detail.get("stoppedReason") or ""
        tg = reason.split("targetgroup/", 1)[1].split("/", 1)[0] if "targetgroup/" in reason else None
        td = account.register(sample)
        if sample.service:
            account.add_service(sample.service, td, target_group=tg, container=sample.detail["containers"][0]["name"])
        account.write_logs(sample)
        counted = []
        results = []
        for version in (1001, 1002):  # the first of its task definition in this container, then warm
            fn.minutes_later()
            fn.reset_calls()
            result, error, _ = fn.invoke("task_stopped", account.event_for(sample, td, version=version))
            counted.append(Counter(fn.calls))
            results.append(error or result)
        warm = counted[1]
        evidence = {k: v for k, v in warm.items() if not k.startswith(DELIVERY)}
        got = results[1]
        rows.append({
            "sample": sample.name, "pattern": got.get("pattern") if isinstance(got, dict) else f"error: {got}",
            "evidence": dict(sorted(evidence.items())), "evidence_calls": sum(evidence.values()),
            "delivery_calls": sum(v for k, v in warm.items() if k.startswith(DELIVERY)),
            "warm_calls": sum(warm.values()), "first_calls": sum(counted[0].values()),
        })
    return rows


# -------------------------------------------------------------------------------------------------
# 4. The storm
# -------------------------------------------------------------------------------------------------
def _storm_worker(env: dict[str, str], events: Any, ready: Any, go: Any, results: Any) -> None:
    """One warm Lambda container of task_stopped: its own process, caches and clients."""
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    with open(os.devnull, "w", encoding="utf-8") as log:
        fn = Functions(log)
        stamps: list[float] = []
        fn.runtime.clients()("logs", REGION).meta.events.register(
            "before-parameter-build.logs.GetLogEvents", lambda **_: stamps.append(time.time()))
        ready.put(os.getpid())
        go.wait()
        ms: list[float] = []
        errors: list[str] = []
        diagnosed: Counter[str] = Counter()
        while True:
            event = events.get()
            if event is None:
                break
            result, error, took = fn.invoke("task_stopped", event)
            ms.append(took)
            if error:
                errors.append(f"{type(error).__name__}: {error}"[:300])
            else:
                diagnosed[f"{result['pattern']} {result['fingerprint']}"] += 1
        results.put({"stamps": stamps, "ms": ms, "errors": errors, "calls": dict(fn.calls), "end": time.time(),
                     "diagnosed": dict(diagnosed)})


def storm(account: Account, receiver: SlackReceiver, tasks: int, concurrency: int) -> dict[str, Any]:
    sample = load_sample("app-crash--spring-boot")
    td = account.register(sample)
    account.add_service(sample.service or "payments", td)
    arns = [f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/prod/{uuid.uuid4().hex}" for _ in range(tasks)]
    with ThreadPoolExecutor(8) as pool:  # every task's log stream, as the crash loop wrote them
        list(pool.map(lambda arn: account.write_logs(sample, task_id=arn.rsplit("/", 1)[-1]), arns))
    events = [account.event_for(sample, td, task_arn=arn, version=2) for arn in arns]

    env = dict(os.environ)
    env.pop("ECS_AUTOPSY_NOISE_WINDOW_SECONDS", None)  # noise control as deployed (15 min, 5 posts)
    ctx = mp.get_context("spawn")
    queue, ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    for event in events:
        queue.put(event)
    for _ in range(concurrency):
        queue.put(None)
    workers = [ctx.Process(target=_storm_worker, args=(env, queue, ready, go, results), daemon=True)
               for _ in range(concurrency)]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            ready.get(timeout=120)
        posts_before = len(receiver.accepted)
        started = time.time()
        go.set()
        got = [results.get(timeout=600) for _ in workers]
    finally:
        for w in workers:
            w.join(timeout=30)
            if w.is_alive():
                w.kill()
    stamps = sorted(t for r in got for t in r["stamps"])
    diagnosed: Counter[str] = Counter()
    for r in got:
        diagnosed.update(r["diagnosed"])
    posts = [p for p in receiver.accepted[posts_before:]]
    calls: Counter[str] = Counter()
    for r in got:
        calls.update(r["calls"])
    ms = [m for r in got for m in r["ms"]]
    return {
        "tasks": tasks, "concurrency": concurrency, "seconds": max(r["end"] for r in got) - started,
        "slack_posts": len(posts), "sns_messages": calls.get("sns.Publish", 0),
        "slack_titles": [p.get("text", "")[:160] for p in posts], "diagnosed": dict(diagnosed.most_common()),
        "log_reads": len(stamps), "peak_reads_per_second": peak_per_second(stamps),
        "first_second_reads": sum(1 for t in stamps if t - started < 1.0),
        "invocation_p50_ms": statistics.median(ms), "errors": [e for r in got for e in r["errors"]][:5],
        "error_count": sum(len(r["errors"]) for r in got),
    }


# -------------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invocations", type=int, default=200, help="measured invocations of each (default 200)")
    ap.add_argument("--storm", type=int, default=500, help="stopped-task events in the storm (default 500)")
    ap.add_argument("--concurrency", type=int, default=5, help="task_stopped containers in the storm (default 5)")
    ap.add_argument("--cold-runs", type=int, default=7, help="fresh interpreters per import measured (default 7)")
    ap.add_argument("--json", type=Path, default=OUT / "pipeline.json", help="figures as JSON")
    ap.add_argument("--baseline", type=Path, help="another checkout whose bundle's cold start is measured too (1b)")
    ap.add_argument("--phases", default="cold,bundle,latency,calls,storm",
                    help="comma-separated subset of cold,bundle,latency,calls,storm (default: all)")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {}
    print("ecs-autopsy pipeline benchmark: the Lambda handlers against the local AWS stand-in (moto server) and a "
          f"local Slack webhook; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)

    # 1 -------------------------------------------------------------------------------------------
    cold = cold_start(args.cold_runs) if "cold" in phases else {}
    if cold:
        print(f"\n1. Cold start: import time in a fresh interpreter, median of {args.cold_runs}", flush=True)
        report["cold_start_ms"] = cold
    base = cold.get("boto3 + ecs client", 0.0)
    for name, ms in cold.items():
        if name.startswith("functions."):
            ratio = ms / base
            print(f"   {name:38s} {ms:7.0f} ms   {ratio:4.2f}x baseline   target <= 1.3x: {verdict(ratio <= 1.3)}")
        else:
            print(f"   {name:38s} {ms:7.0f} ms" + ("   (baseline)" if name == "boto3 + ecs client" else
                                                  "   (a cold invocation loads boto3 on first use)"))

    standin = StandIn(log=OUT / "standin.log")
    receiver = SlackReceiver()
    try:
        standin.start()
        receiver.start()
        os.environ.update(standin.env())
        account = Account.seed(standin.url, webhook_url=receiver.url, subscriber=False)
        os.environ.update(account.settings_env())
        os.environ.update({"POWERTOOLS_SERVICE_NAME": "ecs-autopsy", "POWERTOOLS_METRICS_NAMESPACE": "EcsAutopsy",
                           "POWERTOOLS_LOG_LEVEL": "WARNING", "ECS_AUTOPSY_NOISE_WINDOW_SECONDS": "0"})
        if "bundle" in phases:
            print(f"\n1b. Cold start from the built bundle on Python 3.12: INIT + first event (app crash) vs "
                  f"`import boto3; boto3.client(\"ecs\")` + one call; median of {args.cold_runs} interleaved runs",
                  flush=True)
            cb = cold_bundle(args.cold_runs, account, args.baseline)
            if cb:
                report["cold_start_bundle"] = cb
                base = cb["boto3 + ecs client"]
                print(f"   {'':34s} {'INIT':>8s} {'1st event':>10s} {'GC due':>7s} {'total':>8s} {'CPU':>8s}  "
                      "ratio (total, INIT, CPU)")
                for name in ("with .pyc", "without .pyc", "before (--baseline, as built)", "boto3 + ecs client",
                             "floor: boto3, same clients + calls", "floor + required libraries, used",
                             "the same, collector paused", "powertools idempotency import"):
                    if name not in cb:
                        continue
                    r = cb[name]
                    ratios = (f"  {r['total_ms'] / base['total_ms']:4.2f}x, {r['init_ms'] / base['init_ms']:4.2f}x, "
                             f"{r['cpu_ms'] / base['cpu_ms']:4.2f}x" if name != "boto3 + ecs client" else "  (baseline)")
                    early = f"  loads {', '.join(r['loaded_early'])} at import" if r["loaded_early"] else ""
                    print(f"   {name:34s} {r['init_ms']:6.0f} ms {r['first_ms']:7.0f} ms {r['gc_ms']:4.0f} ms {r['total_ms']:6.0f} ms "
                          f"{r['cpu_ms']:5.0f} ms{ratios}{early}")
                ours, floor = cb["with .pyc"], cb["floor: boto3, same clients + calls"]
                print(f"   floor (boto3, the first event's {FLOOR_CLIENTS} clients and {FLOOR_CALLS} calls + the webhook "
                      f"post, no ecs-autopsy code): {floor['total_ms'] / base['total_ms']:.2f}x the baseline "
                      f"({floor['cpu_ms'] / base['cpu_ms']:.2f}x in CPU); ecs-autopsy above it: "
                      f"{ours['total_ms'] - floor['total_ms']:+.0f} ms, {ours['cpu_ms'] - floor['cpu_ms']:+.0f} ms CPU")
                parts = cb["cpu_parts_ms"]
                print("   where the handler's CPU goes (imports in the first event's order, each on top of the ones "
                      "before it, median ms):")
                for name, ms in parts.items():
                    print(f"     {ms:6.1f}  {name}")
                print(f"     {ours['cpu_ms'] - sum(parts.values()):6.1f}  the rest: 5 clients, 7 AWS calls and the webhook "
                      "post, the diagnosis, rendering, delivery")
                libraries = sum(parts[k] for k in _LIBRARIES)
                print(f"   floor + what the libraries the standards require add to it (pydantic, powertools Logger, "
                      f"Metrics and Parameters, slack_sdk), no code of our own: "
                      f"{(floor['cpu_ms'] + libraries) / base['cpu_ms']:.2f}x the baseline in CPU")
                used = cb["floor + required libraries, used"]
                print(f"   floor with those libraries imported no wider than the first event needs and used as it uses "
                      f"them, measured: {used['total_ms'] / base['total_ms']:.2f}x the baseline "
                      f"({used['cpu_ms'] / base['cpu_ms']:.2f}x in CPU); ecs-autopsy above it: "
                      f"{ours['total_ms'] - used['total_ms']:+.0f} ms, {ours['cpu_ms'] - used['cpu_ms']:+.0f} ms CPU")
                paused = cb["the same, collector paused"]
                print(f"   the same with the collector paused as the handlers pause it: "
                      f"{paused['total_ms'] / base['total_ms']:.2f}x ({paused['cpu_ms'] / base['cpu_ms']:.2f}x in CPU); "
                      f"ecs-autopsy above it: {ours['total_ms'] - paused['total_ms']:+.0f} ms, "
                      f"{ours['cpu_ms'] - paused['cpu_ms']:+.0f} ms CPU")
                ratio = ours["total_ms"] / base["total_ms"]
                print(f"   INIT + first event, bundle as built: {ratio:.2f}x the baseline "
                      f"({ours['cpu_ms'] / base['cpu_ms']:.2f}x in CPU)   target <= 1.3x: {verdict(ratio <= 1.3)}")

        with open(OUT / "lambda.log", "w", encoding="utf-8") as log:
            fn = Functions(log)

            # 2 -----------------------------------------------------------------------------------
            if "latency" in phases:
                print(f"\n2. Warm latency per event, app crash with logs: {args.invocations} invocations each, "
                      "interleaved in 10 rounds (noise control off: every event posts)", flush=True)
                lat = latency(fn, account, receiver, args.invocations)
                o50, o99, t50, t99 = (pct(lat["ours"], 50), pct(lat["ours"], 99), pct(lat["theirs"], 50),
                                      pct(lat["theirs"], 99))
                ratio = o50 / t50
                report["latency"] = {"ecs_autopsy_p50_ms": o50, "ecs_autopsy_p99_ms": o99, "forwarder_p50_ms": t50,
                                     "forwarder_p99_ms": t99, "ratio_p50": ratio, "problems": lat["problems"],
                                     "calls_per_invocation": lat["calls_per_invocation"],
                                     "standin_call_p50_ms": lat["standin_call_p50_ms"]}
                print(f"   ecs-autopsy task_stopped   p50 {o50:6.1f} ms   p99 {o99:6.1f} ms   (diagnosis, SNS and Slack)")
                print(f"   naive forwarder            p50 {t50:6.1f} ms   p99 {t99:6.1f} ms   (raw event to the webhook)")
                print(f"   ratio of p50s {ratio:.1f}x   target <= 1.5x: {verdict(ratio <= 1.5)}")
                per = ", ".join(f"{k} {v:g}" for k, v in sorted(lat["calls_per_invocation"].items()))
                print(f"   per ecs-autopsy event: {per} (AWS calls) + 1 webhook post; one stand-in API call takes "
                      f"p50 {lat['standin_call_p50_ms']:.1f} ms here; {lat['problems']} invocations not as expected")

            # 3 -----------------------------------------------------------------------------------
            if "calls" in phases:
                print("\n3. AWS calls per diagnosis, by pattern (events/<pattern>.json; warm container, and the first "
                      "event of a task definition)", flush=True)
                rows = calls_by_pattern(fn, account)
                report["calls_by_pattern"] = rows
                print(f"   {'sample':30s} {'diagnosed':28s} {'evidence':>8s} {'delivery':>8s} {'warm':>5s} {'first':>5s}"
                      "  evidence reads (warm)")
                for r in rows:
                    reads = ", ".join(f"{k.split('.', 1)[1]}{f' x{v}' if v > 1 else ''}" for k, v in r["evidence"].items())
                    print(f"   {r['sample']:30s} {r['pattern']:28s} {r['evidence_calls']:>8d} {r['delivery_calls']:>8d} "
                          f"{r['warm_calls']:>5d} {r['first_calls']:>5d}  {reads or '-'}")
                print("   (delivery: the state item's claim UpdateItem (idempotency + noise count) and completion "
                      "UpdateItem, SNS Publish)")

            fn.close()  # the storm's containers are other processes; this log closes here

        # 4 ---------------------------------------------------------------------------------------
        if "storm" in phases:
            print(f"\n4. Storm: {args.storm} stopped-task events of one service (app crash with logs), "
                  f"{args.concurrency} warm task_stopped containers, noise control on", flush=True)
            st = storm(account, receiver, args.storm, args.concurrency)
            report["storm"] = st
            print(f"   total {st['seconds']:.1f} s ({st['tasks'] / st['seconds']:.0f} events/s, p50 "
                  f"{st['invocation_p50_ms']:.0f} ms per invocation) · Slack posts {st['slack_posts']} · "
                  f"SNS messages {st['sns_messages']} · errors {st['error_count']}")
            print(f"   CloudWatch Logs GetLogEvents: {st['log_reads']} in all, peak {st['peak_reads_per_second']} in any "
                  f"second ({st['first_second_reads']} in the first)   target <= 10/s: "
                  f"{verdict(st['peak_reads_per_second'] <= 10)}")
            print("   diagnosed (pattern fingerprint: events): "
                  + ", ".join(f"{k}: {v}" for k, v in st["diagnosed"].items()))
            for title in st["slack_titles"]:
                print(f"   Slack: {title}")
            for e in st["errors"]:
                print(f"   error: {e}")
    finally:
        with contextlib.suppress(Exception):
            receiver.stop()
        standin.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nfigures: {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
