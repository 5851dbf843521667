"""`make demo`: the whole pipeline against a local AWS stand-in, scenario by scenario, with figures.

1. Starts the AWS stand-in (moto's server, demo/standin.py) and a local Slack webhook (demo/slack_receiver.py).
2. Builds an account there (demo/world.py): network, cluster, services, task definitions with awslogs,
   log streams with each scenario's lines, a target group, IAM roles, the webhook secret, the findings
   topic with a subscriber queue, the state table.
3. Points boto3 at the stand-in and the functions at that account (the ECS_AUTOPSY_* variables the
   CDK stack sets), imports the three Lambda handlers as Lambda would, and invokes them with
   real-shaped EventBridge events: the code path of the deployed functions, nothing skipped.
4. Shows each finding as Slack shows it, writes every Slack payload, every SNS message as the
   subscriber received it, and demo-out/index.html; ends with a table and exits 1 if any scenario's
   outcome is not the expected one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from demo import lambda_local
from demo.scenarios import DEPLOYMENT_ID, SCENARIOS, Scenario
from demo.standin import ACCOUNT, REGION, StandIn
from demo.world import CLUSTER, Account, Sample, load_sample

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "demo-out"


# -------------------------------------------------------------------------------------------------
# Lambda, in process
# -------------------------------------------------------------------------------------------------
def peak_per_second(stamps: list[float], window: float = 1.0) -> int:
    """The most events inside any `window` seconds (a sliding window over sorted timestamps)."""
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while t - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class Functions:
    """The handlers of one warm container (run by demo/lambda_local.py), configured by the environment
    (set before this is built).

    What they print (powertools JSON logs, EMF metrics) goes to `log`, as it would go to CloudWatch Logs.
    """

    def __init__(self, log: TextIO) -> None:
        self.log = log
        started = time.perf_counter()
        for name in lambda_local.HANDLERS:
            lambda_local.load(name)
        self.import_ms = (time.perf_counter() - started) * 1000
        import functions.runtime as runtime

        self.runtime = runtime
        runtime.logger.registered_handler.setStream(log)
        self._log_handler = logging.StreamHandler(log)
        self._log_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(self._log_handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)  # powertools' UserWarnings belong in the function log too

        self.log_reads: list[float] = []  # when each CloudWatch Logs GetLogEvents was made (time.monotonic)
        self.runtime.clients()("logs", REGION).meta.events.register(
            "before-parameter-build.logs.GetLogEvents", lambda **_: self.log_reads.append(time.monotonic()))

    def close(self) -> None:
        """Stop writing to the log (it is about to be closed)."""
        logging.getLogger().removeHandler(self._log_handler)
        logging.captureWarnings(False)
        self.runtime.logger.registered_handler.setStream(sys.stderr)

    @property
    def calls(self) -> Counter[str]:
        return self.runtime.clients().calls

    def reset_calls(self) -> None:
        self.runtime.clients().reset_calls()

    def invoke(self, name: str, event: dict[str, Any]) -> tuple[Any, BaseException | None, float]:
        """(result, exception, milliseconds) of one invocation, as Lambda would run it."""
        context = lambda_local.Context(lambda_local.function_name(name), region=REGION, account=ACCOUNT)
        error: BaseException | None = None
        result: Any = None
        with contextlib.redirect_stdout(self.log):
            started = time.perf_counter()
            try:
                result = lambda_local.invoke(name, event, context, as_json=True)
            except Exception as exc:  # the scenario fails, the demo goes on
                error = exc
            ms = (time.perf_counter() - started) * 1000
        return result, error, ms

    @staticmethod
    def new_container() -> None:
        """What a different (or new) Lambda container would not have: the warm evidence caches."""
        lambda_local.cold_start(only=lambda_local.EVIDENCE)

    @staticmethod
    def minutes_later() -> None:
        """Between scenarios: no crash-loop sibling to borrow logs from (the task definition stays cached)."""
        lambda_local.cold_start(only=lambda_local.STORM)


# -------------------------------------------------------------------------------------------------
# Outcomes
# -------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    scenario: Scenario
    number: int
    invocations: int = 0
    results: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)  # what was posted (chat.postMessage bodies, webhook)
    messages: list[Any] = field(default_factory=list)  # the stand-in's messages (channel, ts, thread, edits)
    slack_rejected: int = 0
    sns: list[str] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    ms: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[dict[str, Any]]:
        out = []
        for body in self.sns:
            try:
                envelope = json.loads(body)
                out.append(json.loads(envelope["Message"]))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    @property
    def finding(self) -> dict[str, Any] | None:
        """The finding the scenario is about (the deploy-level one for a deployment)."""
        findings = self.findings
        if self.scenario.expect.scope == "deployment":
            return next((f for f in findings if f.get("scope") == "deployment"), None)
        return findings[0] if findings else None

    @property
    def pattern(self) -> str:
        f = self.finding
        return str(f.get("pattern")) if f else "-"

    @property
    def severity(self) -> str:
        f = self.finding
        return str(f.get("severity")) if f else "-"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def cards(self) -> list[dict[str, Any]]:
        """What Slack posted, a card's details reply (app mode: the first reply in its thread) counted with
        its card."""
        from shared.render.slack import DETAIL_PREFIX

        return [p for p in self.slack if not (p.get("thread_ts") and str(p.get("text", "")).startswith(DETAIL_PREFIX))]

    def check(self) -> None:
        e = self.scenario.expect
        p = self.problems
        p.extend(f"handler error: {err}" for err in self.errors)
        f = self.finding
        if f is None:
            p.append(f"no {e.scope}-level finding reached the SNS subscriber")
        else:
            if f.get("pattern") != e.pattern:
                p.append(f"pattern {f.get('pattern')}, expected {e.pattern}")
            if e.symptom is not None and f.get("symptom") != e.symptom:
                p.append(f"symptom {f.get('symptom')}, expected {e.symptom}")
            if f.get("scope") != e.scope:
                p.append(f"scope {f.get('scope')}, expected {e.scope}")
            facts = f.get("facts") or {}
            for k, v in e.facts.items():
                if facts.get(k) != v:
                    p.append(f"fact {k}={facts.get(k)!r}, expected {v!r}")
            for needle in e.remediation_has:
                if not any(needle in step for step in f.get("remediation") or []):
                    p.append(f"no remediation step mentions {needle}")
        lo, hi = e.slack
        if not lo <= len(self.cards) <= hi:
            p.append(f"{len(self.cards)} Slack posts, expected {e.slack_text()}")
        if self.slack_rejected:
            p.append(f"Slack rejected {self.slack_rejected} payloads")
        if len(self.sns) != e.sns:
            p.append(f"{len(self.sns)} SNS messages, expected {e.sns}")
        if self.scenario.kind == "duplicate" and len(self.results) == 2 and not _is_duplicate(self.results[1]):
            p.append("the second delivery was not recognised as a duplicate of the first")
        if e.verdict_has is not None:
            verdict = ((f or {}).get("changes") or {}).get("verdict") or ""
            if e.verdict_has not in verdict:
                p.append(f"what changed says {verdict!r}, expected it to mention {e.verdict_has!r}")
        if self.scenario.kind in ("deploy", "change") and f is not None:
            stopped = (f.get("deployment") or {}).get("tasks_stopped")
            if stopped != self.scenario.tasks:
                p.append(f"deployment finding counts {stopped} stopped tasks, expected {self.scenario.tasks}")

    def summary(self) -> dict[str, Any]:
        f = self.finding or {}
        return {
            "key": self.scenario.key, "title": self.scenario.title, "sample": self.scenario.sample,
            "kind": self.scenario.kind, "pattern": self.pattern, "severity": self.severity,
            "symptom": f.get("symptom"), "scope": f.get("scope"), "finding_title": f.get("title"),
            "facts": f.get("facts"), "gaps": f.get("gaps"),
            "expected": {"pattern": self.scenario.expect.pattern, "slack": list(self.scenario.expect.slack),
                         "sns": self.scenario.expect.sns, "scope": self.scenario.expect.scope},
            "slack_posts": len(self.cards), "slack_messages": len(self.slack), "sns_messages": len(self.sns), "aws_calls": sum(self.calls.values()),
            "calls": dict(sorted(self.calls.items())), "ms": round(self.ms, 1), "invocations": self.invocations,
            "results": self.results, "notes": self.notes, "ok": self.ok, "problems": self.problems,
        }


# -------------------------------------------------------------------------------------------------
# Playing scenarios
# -------------------------------------------------------------------------------------------------
class Player:
    def __init__(self, account: Account, functions: Functions, receiver: Any, say: Any) -> None:
        self.account = account
        self.fn = functions
        self.receiver = receiver
        self.say = say

    def _prepare(self, s: Scenario, sample: Sample) -> str:
        if s.fixed_env:  # the revision that worked, before the one this scenario deploys
            self.good_td = self.account.register(sample, env=s.fixed_env, secrets=s.secrets,
                                                 task_role_actions=list(s.task_role_actions) or None,
                                                 task_role_resource=s.task_role_resource)
        td = self.account.register(sample, env=s.env, secrets=s.secrets,
                                   task_role_actions=list(s.task_role_actions) or None,
                                   task_role_resource=s.task_role_resource)
        if sample.service:
            self.account.add_service(sample.service, td, target_group=s.target_group, container=s.container,
                                     tags=s.tags)
        return td

    def _prepare_change(self, s: Scenario, sample: Sample) -> tuple[str, str, str]:
        """The service runs a healthy revision (CreateService); then a deploy (UpdateService) brings the
        change that breaks it. (failing task definition, service, the deployment's ecs-svc/ id)."""
        service = s.service or sample.service or "app"
        self.good_td = None  # the stand-in's circuit breaker rolls back by itself
        image = sample.detail["containers"][0].get("image") or ""
        if s.repush:
            self.account.push_image(image, f"{service} build 1")
        healthy = self.account.register(sample, env=s.before_env if s.before_env is not None else s.env,
                                        secrets=s.secrets, memory=s.before_memory)
        self.account.add_service(service, healthy, target_group=s.target_group, container=s.container)
        if s.repush:
            self.account.push_image(image, f"{service} build 2")  # same tag, new content
        failing = healthy if s.repush else self.account.register(sample, env=s.env, secrets=s.secrets)
        deployment = self.account.deploy(service, failing)
        self.say(f"service {service} ran {healthy.rsplit('/', 1)[-1]} healthy; deploying "
                 f"{failing.rsplit('/', 1)[-1]}" + (" (the image tag was pushed again)" if s.repush else ""))
        return failing, service, deployment

    good_td: str | None = None

    def play(self, s: Scenario, number: int) -> Outcome:
        out = Outcome(s, number)
        sample = load_sample(s.sample)
        seen = len(self.receiver.requests)
        seen_messages = len(self.receiver.messages)
        if s.kind == "change":
            td, service, deployment = self._prepare_change(s, sample)
        else:
            td, service, deployment = self._prepare(s, sample), None, DEPLOYMENT_ID
        self.fn.minutes_later()
        self.fn.reset_calls()
        if s.kind in ("deploy", "change"):
            self._deploy(s, sample, td, out, deployment, service)
        else:
            lines = self.account.write_logs(sample)
            where = f"{lines} log lines in /ecs/{sample.family}" if lines else "no log lines (the task never ran)"
            self.say(f"task definition {td.rsplit('/', 1)[-1]} · {where}"
                     + (f" · target group {s.target_group}" if s.target_group else ""))
            event = self.account.event_for(sample, td)
            for _ in range(2 if s.kind == "duplicate" else 1):
                self._invoke(out, "task_stopped", event)
            out.sns.extend(self.account.drain())
        out.calls = Counter(self.fn.calls)
        requests = self.receiver.requests[seen:]
        out.messages = self.receiver.messages[seen_messages:]
        # What Slack showed: the chat.postMessage bodies (as sent: channel, thread_ts, text, blocks) and
        # any webhook post (the app falls back to it when the token is refused).
        out.slack = [{"channel": m.channel, **({"thread_ts": m.thread_ts} if m.thread_ts else {}), **m.payload}
                     for m in out.messages]
        out.slack += [r.json for r in requests if r.status == 200 and not r.path.startswith("/api/")]
        out.slack_rejected = sum(1 for r in requests if r.status != 200 or '"ok": false' in r.answer)
        out.check()
        return out

    def _invoke(self, out: Outcome, name: str, event: dict[str, Any]) -> Any:
        result, error, ms = self.fn.invoke(name, event)
        out.invocations += 1
        out.ms += ms
        if error is not None:
            out.errors.append(f"{type(error).__name__}: {error}")
        else:
            out.results.append(result)
        return result

    def _deploy(self, s: Scenario, sample: Sample, td: str, out: Outcome, deployment: str = DEPLOYMENT_ID,
                service: str | None = None) -> None:
        """A deploy whose tasks crash at start: ECS runs them, they stop, EventBridge sends each stop to
        task_stopped; then the circuit breaker fails the deployment and deploy_failed gets that event."""
        ecs = self.account.client("ecs")
        service = service or sample.service or "app"
        d = sample.detail
        container = d["containers"][0]
        tags = [{"key": "ecs-autopsy-demo:stopCode", "value": d.get("stopCode") or "EssentialContainerExited"},
                {"key": "ecs-autopsy-demo:exitCode", "value": str(container.get("exitCode", 1))}]
        if container.get("reason"):
            tags.append({"key": "ecs-autopsy-demo:reason", "value": container["reason"]})
        network = {"awsvpcConfiguration": {"subnets": self.account.private_subnets[:1],
                                           "securityGroups": [self.account.task_sg], "assignPublicIp": "DISABLED"}}
        task_arns: list[str] = []
        while len(task_arns) < s.tasks:  # RunTask starts at most 10 tasks per call, as ECS's scheduler does
            batch = min(10, s.tasks - len(task_arns))
            got = ecs.run_task(cluster=CLUSTER, taskDefinition=td, count=batch, launchType="FARGATE",
                               startedBy=deployment, group=f"service:{service}", networkConfiguration=network,
                               tags=tags)["tasks"]
            task_arns.extend(t["taskArn"] for t in got)
        reads_at = len(self.fn.log_reads)
        self.say(f"task definition {td.rsplit('/', 1)[-1]} (deployment {deployment}) · "
                 f"{len(task_arns)} tasks started, each crashes at start")
        for i, arn in enumerate(task_arns, 1):
            self.account.write_logs(sample, task_id=arn.rsplit("/", 1)[-1])
            ecs.stop_task(cluster=CLUSTER, task=arn, reason=d.get("stoppedReason") or "Essential container in task exited")
            event = self.account.event_for(sample, td, task_arn=arn, version=3)
            event["detail"].update(group=f"service:{service}", startedBy=deployment)
            event["detail"]["createdAt"] = event["detail"]["startedAt"] = event["detail"]["stoppedAt"]
            self._invoke(out, "task_stopped", event)
            if i % 10 == 0 or i == len(task_arns):
                out.sns.extend(self.account.drain())  # a subscriber reads as it goes (moto slows on long queues)
                posts = len(self.receiver.messages) - self._posts_before
                self.say(f"  {i:>3}/{len(task_arns)} tasks stopped → {len(out.sns)} SNS messages, "
                         f"{posts} Slack post{'s' if posts != 1 else ''} so far")
        task_ms, task_calls = out.ms, sum(self.fn.calls.values())
        reads_from = len(self.fn.log_reads)
        # The deploy-failed function runs in its own container: none of task_stopped's warm caches.
        self.fn.new_container()
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "ECS Deployment State Change",
            "source": "aws.ecs", "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION, "resources": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{service}"],
            "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": deployment,
                       "updatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "reason": "ECS deployment circuit breaker: tasks failed to start."},
        }
        self._invoke(out, "deploy_failed", event)
        out.sns.extend(self.account.drain())
        deploy_calls = sum(self.fn.calls.values()) - task_calls
        self._recover(s, service, out)
        out.notes.append(f"task_stopped: {s.tasks} invocations, {task_ms:.0f} ms, {task_calls} AWS calls; "
                         f"deploy_failed: 1 invocation, {out.ms - task_ms:.0f} ms, {deploy_calls} AWS calls")
        task_reads = reads_from - reads_at
        deploy_reads = len(self.fn.log_reads) - reads_from
        peak = peak_per_second(self.fn.log_reads[reads_at:])
        out.notes.append(f"CloudWatch Logs reads: {task_reads} for {s.tasks} tasks, {deploy_reads} for the deploy's "
                         f"{min(s.tasks, 20)} diagnoses, at most {peak} in any second (past 2 reads/s per container "
                         "a crash-looping task borrows the logs of a sibling that stopped the same way)")

    _posts_before = 0

    def _recover(self, s: Scenario, service: str, out: Outcome) -> None:
        """The circuit breaker rolls back to the revision that worked; ECS says the rollback completed
        (SERVICE_DEPLOYMENT_COMPLETED), then the service is at a steady state (SERVICE_STEADY_STATE):
        the recovery function replies once in the thread, and marks the parent recovered."""
        if not self.account.app_mode:
            return
        ecs = self.account.client("ecs")
        if self.good_td:
            ecs.update_service(cluster=CLUSTER, service=service, taskDefinition=self.good_td)
        arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{service}"
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        base = {"version": "0", "source": "aws.ecs", "account": ACCOUNT, "time": now, "region": REGION,
                "resources": [arn]}
        completed = {**base, "id": str(uuid.uuid4()), "detail-type": "ECS Deployment State Change",
                     "detail": {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
                                "deploymentId": "ecs-svc/9876543210987654321", "updatedAt": now,
                                "reason": "ECS deployment circuit breaker: rolled back to the previous deployment."}}
        steady = {**base, "id": str(uuid.uuid4()), "detail-type": "ECS Service Action",
                  "detail": {"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE", "createdAt": now,
                             "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"}}
        before = sum(self.fn.calls.values())
        first = self._invoke(out, "recovered", completed)
        mid = sum(self.fn.calls.values())
        second = self._invoke(out, "recovered", steady)
        after = sum(self.fn.calls.values())
        replies = len((first or {}).get("recovered") or []) + len((second or {}).get("recovered") or [])
        out.notes.append(f"recovered: {replies} reply in the thread; the recovery event cost {mid - before} AWS calls "
                         f"with an incident open, the steady-state event after it {after - mid} (none open)")


# -------------------------------------------------------------------------------------------------
# Files
# -------------------------------------------------------------------------------------------------
def write_outputs(out_dir: Path, outcomes: list[Outcome], meta: dict[str, Any]) -> None:
    from demo.page import gallery, render_page

    (out_dir / "slack").mkdir(parents=True, exist_ok=True)
    (out_dir / "sns").mkdir(parents=True, exist_ok=True)
    for o in outcomes:
        stem = f"{o.number:02d}-{o.scenario.key}"
        for k, payload in enumerate(o.slack, 1):
            (out_dir / "slack" / f"{stem}-{k}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        for k, body in enumerate(o.sns, 1):
            (out_dir / "sns" / f"{stem}-{k:03d}.json").write_text(body + "\n")
    summary = {**meta, "ok": all(o.ok for o in outcomes), "scenarios": [o.summary() for o in outcomes]}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str) + "\n")
    events = Path(__file__).resolve().parents[1] / "events"
    (out_dir / "index.html").write_text(render_page(outcomes, meta, gallery(events)), encoding="utf-8")


# -------------------------------------------------------------------------------------------------
# Terminal
# -------------------------------------------------------------------------------------------------
class Terminal:
    def __init__(self, colour: bool, quiet: bool = False, width: int | None = None) -> None:
        self.colour = colour
        self.quiet = quiet
        self.width = width or min(shutil.get_terminal_size((110, 24)).columns, 110)

    def c(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text

    def line(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)

    def step(self, text: str) -> None:
        self.line(self.c("36", "▸ ") + text)

    def detail(self, text: str) -> None:
        self.line("    " + self.c("2", text))


def show_outcome(term: Terminal, o: Outcome) -> None:
    from demo.blocks import payload_terminal

    s = o.scenario
    mark = term.c("32", "✓ as expected") if o.ok else term.c("31;1", "✗ NOT as expected")
    calls = sum(o.calls.values())
    posts = f"{len(o.cards)} Slack post{'s' if len(o.cards) != 1 else ''}"
    msgs = f"{len(o.sns)} SNS message{'s' if len(o.sns) != 1 else ''}"
    term.detail(f"→ {o.pattern} ({o.severity}) · {o.invocations} invocation{'s' if o.invocations != 1 else ''}, "
                f"{o.ms:.0f} ms, {calls} AWS calls · {posts} · {msgs}")
    for note in o.notes:
        term.detail(note)
    if s.kind == "duplicate" and len(o.results) == 2 and _is_duplicate(o.results[1]):
        term.detail("the second delivery was recognised by the delivery state item: nothing sent again")
    for problem in o.problems:
        term.line("    " + term.c("31", f"✗ {problem}"))
    term.line("    " + mark)
    if term.quiet:
        return
    width = term.width - 4
    if not o.slack:
        f = o.finding or {}
        delivery = (o.results[0] or {}).get("delivery", {}) if o.results and isinstance(o.results[0], dict) else {}
        reason = ((delivery.get("channels") or {}).get("slack") or {}).get("detail") or "not posted"
        term.line(f"    Slack: {term.c('2', reason)}")
        term.line(f"    SNS subscriber got: {f.get('title', '-')}")
        term.line("")
        return
    shown = o.slack
    parents = [m for m in o.messages if m.thread_ts is None]
    if s.kind in ("deploy", "change") and parents:
        from demo.world import SLACK_CHANNELS

        for parent in parents:
            replies = [m for m in o.messages if m.thread_ts == parent.ts]
            term.line(f"    Slack #{SLACK_CHANNELS.get(parent.channel, parent.channel)}: 1 thread, "
                      f"{len(replies)} repl{'y' if len(replies) == 1 else 'ies'}, parent edited {len(parent.edits)} "
                      "times (chat.update, at most once a second)")
            for r in replies:
                text = str(r.payload.get("text", "")).replace("*", "")
                term.line("      " + term.c("2", "↳ ") + text[: width - 8])
        shown = [p.current for p in parents]
    elif s.kind in ("deploy", "change"):
        deploy_posts = [p for p in o.slack if "deploy" in str((p.get("blocks") or [{}])[0].get("text", {}).get("text", ""))]
        task_posts = [p for p in o.slack if p not in deploy_posts]
        for p in task_posts:
            header = (p.get("blocks") or [{}])[0].get("text", {}).get("text", p.get("text", ""))
            line = next((b["text"]["text"] for b in p.get("blocks", [])[1:2] if b.get("type") == "section"
                         and ":repeat:" in b.get("text", {}).get("text", "")), "")
            term.line("    " + term.c("2", "task post: ") + payload_terminal(
                {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": header}}]},
                width=width, colour=term.colour).lstrip("┃ ").lstrip() + (
                    term.c("2", "  " + line.replace(":repeat: ", "").replace("*", "")) if line else ""))
        shown = deploy_posts[-1:] or o.slack[-1:]
    for payload in shown:
        term.line("")
        if payload.get("thread_ts"):
            term.line("    " + term.c("2", "↳ in its thread:"))
        for text_line in payload_terminal(payload, width=width, colour=term.colour).splitlines():
            term.line("    " + text_line)
    term.line("")


def show_table(term: Terminal, outcomes: list[Outcome]) -> None:
    """The summary table (printed in quiet mode too)."""
    head = f"{'scenario':26s} {'pattern':28s} {'severity':9s} {'Slack':>5s} {'SNS':>4s} {'AWS calls':>9s} {'ms':>7s}  check"
    print(term.c("1", head), flush=True)
    for o in outcomes:
        check = term.c("32", "ok") if o.ok else term.c("31", "FAIL")
        print(f"{o.scenario.key:26s} {o.pattern:28s} {o.severity:9s} {len(o.cards):>5d} {len(o.sns):>4d} "
                  f"{sum(o.calls.values()):>9d} {o.ms:>7.0f}  {check}", flush=True)


# -------------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------------
def run(out_dir: Path = OUT, *, scenarios: tuple[Scenario, ...] = SCENARIOS, colour: bool = False,
        quiet: bool = False) -> int:
    started = time.perf_counter()
    term = Terminal(colour, quiet)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    term.line(term.c("1", "ecs-autopsy demo") + " — the Lambda handlers against a local AWS stand-in; "
              "no AWS account, nothing leaves this machine")
    standin = StandIn(log=out_dir / "standin.log")
    receiver = None
    outcomes: list[Outcome] = []
    meta: dict[str, Any] = {}
    try:
        t = time.perf_counter()
        standin.start()
        term.step(f"AWS stand-in (moto server) on {standin.url}, pid {standin.pid}, ready in "
                  f"{time.perf_counter() - t:.1f} s")
        from demo.slack_receiver import TOKEN, SlackReceiver
        from demo.world import SLACK_CHANNELS

        receiver = SlackReceiver(channels=dict(SLACK_CHANNELS)).start()
        term.step(f"Slack stand-in on {receiver.url.split('/services')[0]}: a Slack app (chat.postMessage, "
                  f"chat.update; channels {', '.join('#' + n for n in SLACK_CHANNELS.values())}) and the webhook")

        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
            os.environ.pop(name, None)
        os.environ.update(standin.env())
        t = time.perf_counter()
        account = Account.seed(standin.url, webhook_url=receiver.url, api_url=receiver.api_url, token=TOKEN)
        term.step(f"seeded account {ACCOUNT} ({REGION}) in {time.perf_counter() - t:.1f} s: " + "; ".join(account.built))

        os.environ.update(account.settings_env())
        os.environ.update({"POWERTOOLS_SERVICE_NAME": "ecs-autopsy", "POWERTOOLS_METRICS_NAMESPACE": "EcsAutopsy",
                           "POWERTOOLS_LOG_LEVEL": "INFO"})
        log = (out_dir / "lambda.log").open("w", encoding="utf-8")
        stack = contextlib.ExitStack()
        stack.callback(log.close)
        with stack:
            functions = Functions(log)
            stack.callback(functions.close)
            term.step(f"Lambda handlers imported in {functions.import_ms:.0f} ms (boto3 was loaded by the seeding); settings: "
                      + ", ".join(f"{k}={v.rsplit(':', 1)[-1] if 'arn:' in v else v}"
                                  for k, v in sorted(account.settings_env().items())))
            player = Player(account, functions, receiver, term.detail)
            term.line("")
            for n, s in enumerate(scenarios, 1):
                term.line(term.c("1", f"[{n}/{len(scenarios)}] {s.title}"))
                term.detail(f"sample events/{s.sample}.json · expected {s.expect.pattern}"
                            + (f" ({s.expect.scope})" if s.expect.scope != "task" else "")
                            + f" · Slack {s.expect.slack_text()} · SNS {s.expect.sns}")
                player._posts_before = len(receiver.messages)
                outcome = player.play(s, n)
                outcomes.append(outcome)
                show_outcome(term, outcome)
        seconds = time.perf_counter() - started
        meta = {"seconds": round(seconds, 2), "standin": standin.url, "standin_pid": standin.pid,
                "account": ACCOUNT, "region": REGION,
                "import_ms": round(functions.import_ms, 1),
                "invocations": sum(o.invocations for o in outcomes),
                "slack_posts": sum(len(o.cards) for o in outcomes), "sns_messages": sum(len(o.sns) for o in outcomes)}
        write_outputs(out_dir, outcomes, meta)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the AWS stand-in and the Slack receiver", file=sys.stderr, flush=True)
        return 130
    finally:
        if receiver is not None:
            receiver.stop()
        standin.stop()

    wrong = [o for o in outcomes if not o.ok]
    show_table(term, outcomes)
    print("(ms: handler time, summed over the scenario's invocations; the first scenario includes the cold start's "
          "boto3 clients)", flush=True)
    rel = out_dir.relative_to(ROOT) if out_dir.is_relative_to(ROOT) else out_dir
    verdict = (term.c("32", f"{len(outcomes)} scenarios, all as expected") if not wrong
               else term.c("31;1", f"{len(wrong)} of {len(outcomes)} scenarios NOT as expected: "
                           + ", ".join(o.scenario.key for o in wrong)))
    print(f"{verdict} · {meta['invocations']} handler invocations · {meta['slack_posts']} Slack posts · "
          f"{meta['sns_messages']} SNS messages · {time.perf_counter() - started:.1f} s in all", flush=True)
    print(f"Slack payloads: {rel}/slack/ · SNS messages as received: {rel}/sns/ · page: {rel}/index.html · "
          f"function logs: {rel}/lambda.log", flush=True)
    return 1 if wrong or not outcomes else 0


def _is_duplicate(result: Any) -> bool:
    """The handler's answer to a delivery another invocation made (task_stopped: the state item's claim)."""
    return isinstance(result, dict) and (result.get("delivery") or {}).get("duplicate") == "completed"
