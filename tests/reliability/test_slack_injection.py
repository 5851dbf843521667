"""Slack injection (issue 6, part 5): hostile text anywhere in a task's event or logs arrives inert,
within Block Kit's limits.

Hostile findings are built with the real engine from every case of the corpus (all patterns), with a
hostile token put where text flows into a finding: each log line and inside its quoted values (where
patterns take facts: variable, module, host, image), the stopped reason, container names and images,
the service, cluster and task definition names. Oversized inputs too (a 1 MB log line, 1,000 lines,
100 containers, a 1 MB stopped reason), and deployment-level findings folding them.

Every finding is rendered as the Slack Block Kit message (first post and a "still happening" one), the
text-only fallback message (sent when Slack refuses the blocks) and the Chatbot custom notification
(client-markdown, i.e. Slack mrkdwn), and checked here, independently of shared.render.slack.validate:

- mrkdwn text: no `<`/`>` left but our console links (so no <!channel>, <!here>, <@U..>, <#C..>,
  <!subteam^..>, <http..|..> or <mailto:..>), every `&` an entity Slack decodes to itself (&amp; &lt;
  &gt;), no @here/@channel/@everyone word, no control or bidi-override character;
- code: the log excerpt is one fenced block that nothing inside can close, no other fence anywhere,
  backticks outside it pair into one-line inline spans;
- plain_text (header): none of < > &, no control character;
- limits: header 150, section text 3000, 10 fields of 2000, 10 context elements, 50 blocks (which
  slack-sdk does not check), fallback text 3000 (ours; Slack cuts at 40,000), no empty text;
- slack_sdk's own models parse and validate every block.

tests/unit/test_render_slack.py covers the escapers and a few hand-made findings; this module is the
volume check over the real engine's output.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from shared.deploy import deploy_finding, parse_deploy_event
from shared.engine import diagnose
from shared.inputs import offline_evidence, parse_task_event
from shared.models.finding import Finding
from shared.notify.channels import minimal_payload
from shared.render.channels import Occurrence
from shared.render.chatbot import render_chatbot
from shared.render.slack import render_slack
from tests.conftest import CORPUS
from tests.reliability.figures import add, record

FIG = "Slack injection (issue 6.5)"

# Formatting tokens carry a canary (Zq<n>): their raw form must never reach the message where Slack
# would act on it (a fence anywhere; bold, italic, strike, quote, inline code in prose).
FENCES = ["Zq1``` closed", "```Zq2", "````Zq3", "\n```Zq4\n<!here>\n```\n"]
FORMATTING = ["*Zq5*", "_Zq6_", "~Zq7~", "`Zq8`"]
TOKENS = [
    "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U42|admin>", "<#C999|general>", "<!subteam^S1>",
    "<https://evil.example|click>", "<mailto:a@evil.example|mail>", "<!date^1392734382^{date}|x>",
    *FENCES, *FORMATTING, "&lt;!channel&gt;", "&amp;lt;", "@here @channel",
    "\x00\x07\x1b[31m\u202eevil\u202c\u2066x\u2069\u200b", ":rotating_light: :skull:",
]
FENCE_CANARIES = ("```Zq2", "````Zq3", "Zq1```", "```Zq4")
FORMAT_CANARIES = tuple(FORMATTING)
CONSOLE_LINK = re.compile(r"<https://[a-z0-9-]+\.console\.aws\.amazon\.com/[^\s<>|]*\|[^<>|]*>")
BARE_AMP = re.compile(r"&(?!amp;|lt;|gt;)")
BROADCAST = re.compile(r"(?<![\w\u2060])@(here|channel|everyone)\b", re.IGNORECASE)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
QUOTED = re.compile(r"""(['"])([^'"\n]{1,80})\1""")

HEADER_MAX, SECTION_MAX, FIELD_MAX, FIELDS_MAX, CONTEXT_MAX, BLOCKS_MAX, FALLBACK_MAX = 150, 3000, 2000, 10, 10, 50, 3000


# --- hostile findings ------------------------------------------------------------------------------
def _cases() -> list[dict]:
    files = sorted(CORPUS.glob("*.json"))
    assert files, f"no corpus at {CORPUS}"
    return [json.loads(p.read_text()) for p in files]


def _lines(logs: Any) -> list[str]:
    if isinstance(logs, str):
        return logs.splitlines()
    if isinstance(logs, dict):
        return [line for v in logs.values() for line in v]
    return list(logs or [])


def _hostile_events(case: dict, token: str) -> Iterator[tuple[str, dict, Any]]:
    """(where the token is, event, logs) for one case and one token."""
    event, logs = case["event"], case.get("logs") or []
    lines = _lines(logs)
    if lines:
        yield "log lines", event, [f"{line} {token}" for line in lines] + [token]
        yield "quoted values in logs", event, [QUOTED.sub(lambda m: f"{m[1]}{m[2]}{token}{m[1]}", x) for x in lines]
    ev = copy.deepcopy(event)
    d = ev["detail"]
    reason = d.get("stoppedReason") or "Essential container in task exited"
    head, sep, tail = reason.partition(":")
    d["stoppedReason"] = f"{head}{sep} {token} {tail}" if sep else f"{reason} {token}"
    for c in d.get("containers") or []:
        if c.get("reason"):
            c["reason"] = f"{c['reason']} {token}"
    yield "stopped reasons", ev, logs
    ev = copy.deepcopy(event)
    d = ev["detail"]
    for c in d.get("containers") or []:
        c["name"] = f"{c.get('name') or 'app'}{token}"
        if c.get("image"):
            c["image"] = f"{c['image']}{token}"
    d["group"] = f"service:orders{token}"
    d["clusterArn"] = f"{d.get('clusterArn') or 'arn:aws:ecs:us-east-1:123456789012:cluster/prod'}{token}"
    d["taskDefinitionArn"] = f"arn:aws:ecs:us-east-1:123456789012:task-definition/web{token}:3"
    yield "names (containers, images, service, cluster, task definition)", ev, logs


def _finding(event: dict, logs: Any) -> Finding:
    return diagnose(offline_evidence(parse_task_event(event), logs))


def _oversized(base: dict) -> Iterator[tuple[str, Finding]]:
    ev = copy.deepcopy(base["event"])
    yield "1 MB log line", _finding(ev, ["Traceback (most recent call last):", "<!channel>" * 100_000])
    yield "1,000 log lines", _finding(ev, [f"{i} <!here> ``` {'x' * 300} <@U1>" for i in range(1000)])
    ev = copy.deepcopy(base["event"])
    ev["detail"]["containers"] = [{"name": f"c{i}<!here>", "exitCode": 1, "reason": "<@U1> " * 200,
                                   "image": f"repo/c{i}:``` <!channel>"} for i in range(100)]
    yield "100 containers", _finding(ev, {f"c{i}<!here>": [f"KeyError: 'VAR_{i}<!channel>'"] for i in range(100)})
    ev = copy.deepcopy(base["event"])
    ev["detail"]["stoppedReason"] = "CannotPullContainerError: " + "<!channel> ``` " * 70_000
    yield "1 MB stopped reason", _finding(ev, [])
    # More sections than Slack's 50 blocks (the engine itself stays near 10): evidence and fix steps
    # carrying every token.
    from shared.models.finding import EvidenceItem

    f = _finding(copy.deepcopy(base["event"]), base.get("logs") or [])
    tokens = " ".join(TOKENS)
    yield "120 evidence items and 60 fix steps (over 50 blocks)", f.model_copy(update={
        "evidence": [EvidenceItem(source=f"logs[app{TOKENS[i % len(TOKENS)]}]:{i}", text=f"{i} {tokens} " * 20)
                     for i in range(120)],
        "remediation": [f"step {i} {tokens} " * 40 for i in range(60)]})


def _deployment(findings: list[Finding], token: str) -> Finding:
    event = parse_deploy_event({
        "version": "0", "id": "e1", "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
        "account": "123456789012", "time": "2026-11-27T11:11:12Z", "region": "us-east-1",
        "resources": [f"arn:aws:ecs:us-east-1:123456789012:service/prod/orders{token}"],
        "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED", "deploymentId": f"ecs-svc/1{token}",
                   "updatedAt": "2026-11-27T11:11:11Z", "reason": f"circuit breaker {token}"}})
    return deploy_finding(event, findings, tasks_stopped=len(findings))


def hostile_findings() -> Iterator[tuple[str, Finding]]:
    cases = _cases()
    for token in TOKENS:
        batch = []
        for case in cases:
            for where, event, logs in _hostile_events(case, token):
                f = _finding(event, logs)
                batch.append(f)
                yield f"{case['id']} / {where} / {token!r}", f
        yield f"deployment of {len(batch)} tasks / {token!r}", _deployment(batch, token)
    for what, f in _oversized(cases[0]):
        yield what, f


# --- the checks -----------------------------------------------------------------------------------
def mrkdwn_problems(text: str, where: str, fences: bool = False) -> list[str]:
    out = []
    if not text:
        return [f"{where}: empty text"]
    rest = CONSOLE_LINK.sub("", text)
    if "<" in rest or ">" in rest:
        i = max(rest.find("<"), rest.find(">"))
        out.append(f"{where}: raw angle bracket near {rest[max(0, i - 30):i + 30]!r}")
    if BARE_AMP.search(rest):
        out.append(f"{where}: bare & (Slack would decode an entity the logs wrote)")
    if BROADCAST.search(rest):
        out.append(f"{where}: broadcast word")
    if CONTROL.search(text):
        out.append(f"{where}: control or bidi character {CONTROL.search(text).group()!r}")
    if text.count("```") % 2:
        out.append(f"{where}: an odd number of code fences")
    for canary in FENCE_CANARIES:
        if canary in text:
            out.append(f"{where}: a fence from the input survived ({canary!r})")
    for chunk in prose(rest):
        for canary in FORMAT_CANARIES:
            if canary in chunk:
                out.append(f"{where}: input formatting is live in prose ({canary!r})")
    if fences and text.startswith("*Log excerpt*"):
        body = text.split("```")
        if len(body) != 3 or not body[0].endswith("\n") or not body[1].startswith("\n"):
            out.append(f"{where}: the log excerpt is not one fenced block on its own lines")
    return out


def prose(text: str) -> list[str]:
    """The parts of a mrkdwn text outside code blocks and inline code (where formatting applies); links
    are taken out before."""
    out = []
    for chunk in text.split("```")[0::2]:
        out += chunk.split("`")[0::2]
    return out


def plain_problems(text: str, where: str, limit: int) -> list[str]:
    out = []
    if not text:
        out.append(f"{where}: empty")
    if len(text) > limit:
        out.append(f"{where}: {len(text)} chars (max {limit})")
    if set(text) & set("<>&"):
        out.append(f"{where}: < > or & in plain text")
    if CONTROL.search(text):
        out.append(f"{where}: control character")
    return out


def slack_problems(payload: dict) -> list[str]:
    out = []
    text = payload.get("text", "")
    if len(text) > FALLBACK_MAX:
        out.append(f"fallback text: {len(text)} chars")
    out += mrkdwn_problems(text, "fallback text")
    blocks = payload.get("blocks") or []
    if len(blocks) > BLOCKS_MAX:
        out.append(f"{len(blocks)} blocks (max {BLOCKS_MAX})")
    for i, b in enumerate(blocks):
        kind = b.get("type")
        if kind == "header":
            out += plain_problems(b["text"]["text"], f"block {i} header", HEADER_MAX)
        elif kind == "section":
            if "text" in b:
                t = b["text"]["text"]
                if len(t) > SECTION_MAX:
                    out.append(f"block {i}: section text {len(t)} chars")
                out += mrkdwn_problems(t, f"block {i} section", fences=True)
                if not b["text"].get("verbatim"):
                    out.append(f"block {i}: mrkdwn not verbatim")
            fields = b.get("fields") or []
            if len(fields) > FIELDS_MAX:
                out.append(f"block {i}: {len(fields)} fields")
            for j, fld in enumerate(fields):
                if len(fld["text"]) > FIELD_MAX:
                    out.append(f"block {i} field {j}: {len(fld['text'])} chars")
                out += mrkdwn_problems(fld["text"], f"block {i} field {j}")
        elif kind == "context":
            elements = b.get("elements") or []
            if not 0 < len(elements) <= CONTEXT_MAX:
                out.append(f"block {i}: {len(elements)} context elements")
            for j, el in enumerate(elements):
                if len(el["text"]) > SECTION_MAX:
                    out.append(f"block {i} element {j}: {len(el['text'])} chars")
                out += mrkdwn_problems(el["text"], f"block {i} element {j}")
        elif kind != "divider":
            out.append(f"block {i}: unexpected type {kind}")
        try:
            Block.parse(b).validate_json()
        except Exception as exc:  # slack_sdk's SlackObjectFormationError and friends
            out.append(f"block {i}: slack_sdk refuses it: {exc}")
    return out


def chatbot_problems(message: dict) -> list[str]:
    c = message["content"]
    out = mrkdwn_problems(c["title"], "chatbot title")
    out += mrkdwn_problems(c["description"], "chatbot description", fences=True)
    for i, step in enumerate(c["nextSteps"]):
        out += mrkdwn_problems(step, f"chatbot step {i}")
    for k in c["keywords"]:
        out += plain_problems(k, "chatbot keyword", 60)
    return out


# --- the test ---------------------------------------------------------------------------------------
ESCAPED = ("&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U123&gt;", "&lt;https://evil.example|click&gt;",
           "\u2039!channel\u203a", "\u2039!here\u203a")


def test_hostile_findings_render_inert_and_within_limits():
    violations: list[str] = []
    biggest = most_blocks = reached_title = 0
    follow_up = Occurrence(count=200, window_seconds=900, max_posts=5, previous_count=480)
    for label, f in hostile_findings():
        add(FIG, "hostile findings (engine output)")
        payloads = [("slack", render_slack(f)), ("slack, still happening", render_slack(f, follow_up)),
                    ("text-only fallback", minimal_payload(f, follow_up))]
        for name, p in payloads:
            add(FIG, "payloads checked")
            problems = slack_problems(p)
            violations += [f"{label} [{name}]: {x}" for x in problems]
            size = len(json.dumps(p, ensure_ascii=False).encode())
            biggest, most_blocks = max(biggest, size), max(most_blocks, len(p.get("blocks") or []))
        add(FIG, "payloads checked")
        violations += [f"{label} [chatbot]: {x}" for x in chatbot_problems(render_chatbot(f, follow_up))]
        head = payloads[0][1]["blocks"][0]["text"]["text"] + payloads[0][1]["text"]
        reached_title += any(e in head for e in ESCAPED)
    add(FIG, "violations (must be 0)", len(violations))
    record(FIG, "findings whose title carried a hostile token (escaped)", reached_title)
    record(FIG, "largest payload (bytes) / most blocks", f"{biggest} / {most_blocks}")
    assert reached_title > 0  # the titles, not only the log excerpt, were exposed
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations[:30])


@pytest.mark.parametrize("text,fences,problem", [
    ("<!channel> hi", False, "raw angle bracket"),
    ("see <https://evil.example|here>", False, "raw angle bracket"),
    ("a &lt;b&gt; &amp; c", False, None),
    ("Tom & Jerry", False, "bare &"),
    ("ping @here", False, "broadcast"),
    ("ping @\u2060here", False, None),
    ("x```y", False, "odd number of code fences"),
    ("*Log excerpt*\n```\na\n```", True, None),
    ("*Log excerpt*\n```\na ``` b ```\n```", True, "not one fenced block"),
    ("run ```Zq2 x```", False, "fence from the input"),
    ("it is *Zq5* now", False, "formatting is live"),
    ("it is `*Zq5*` now", False, None),
    ("bell \x07", False, "control"),
    ("<https://us-east-1.console.aws.amazon.com/ecs/v2|Task>", False, None),
])
def test_the_checker_catches_what_it_must(text, fences, problem):
    """The checks above are code too: each catches its case, and passes the safe form."""
    found = mrkdwn_problems(text, "t", fences)
    if problem is None:
        assert found == []
    else:
        assert any(problem in x for x in found), found
