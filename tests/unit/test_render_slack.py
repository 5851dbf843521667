"""The Slack Block Kit message: content, limits, and inertness whatever the logs contain."""

from __future__ import annotations

import json
import re

import pytest
from slack_sdk.models.blocks import Block

from shared.models.finding import DeploymentSummary, EvidenceItem, Links
from shared.render.channels import Occurrence
from shared.render.slack import (
    BLOCKS_MAX,
    FIELD_MAX,
    HEADER_MAX,
    SECTION_MAX,
    code_block,
    cut,
    inline,
    mrkdwn,
    plain,
    render_slack,
    validate,
)
from tests.unit.helpers import run

HOSTILE = [
    "starting <!channel> <!here> <@U123> <#C999> <!subteam^S1> <https://evil.example|click here>",
    "closing ``` the block ```` and ` one tick, then *bold* _it_ ~strike~ > quote",
    "ping @here @channel @everyone \x07bell \x1b[31mred\x1b[0m \u202eevil\u202c zero\u200bwidth",
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "RuntimeError: boom <!everyone> <@U42|admin> &amp; &lt;x&gt;",
]


def _mrkdwn_texts(payload: dict) -> list[str]:
    out = [payload["text"]]
    for b in payload["blocks"]:
        if b["type"] == "section":
            if "text" in b:
                out.append(b["text"]["text"])
            out.extend(f["text"] for f in b.get("fields", []))
        elif b["type"] == "context":
            out.extend(e["text"] for e in b["elements"])
    return out


def _all_text(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _section_with(payload: dict, marker: str) -> str:
    hits = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b
            and marker in b["text"]["text"]]
    assert hits, f"no section containing {marker!r}"
    return hits[0]


@pytest.fixture(scope="module")
def crash():
    return run(HOSTILE, stoppedReason="Essential container in task exited <!channel>")


@pytest.mark.parametrize("logs,detail", [
    (["KeyError: 'DATABASE_URL'"], {}),
    (["java.lang.OutOfMemoryError: Java heap space"], {}),
    ([], {"stopCode": "ServiceSchedulerInitiated", "stoppedReason": "Scaling activity initiated by deployment",
          "containers": [{"name": "app", "exitCode": 0, "lastStatus": "STOPPED"}]}),
    ([], {"stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                            "failed to resolve ref docker.io/library/nope:latest: not found",
          "containers": [{"name": "app", "lastStatus": "STOPPED"}]}),
    (HOSTILE, {}),
])
def test_real_findings_render_valid_messages(logs, detail):
    f = run(logs, **detail)
    payload = render_slack(f)
    assert validate(payload) == []
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header"
    assert f.severity.upper() in payload["text"]
    # Slack's own models accept every block.
    for b in blocks:
        parsed = Block.parse(b)
        assert parsed is not None
        parsed.validate_json()


def test_message_content(crash):
    p = render_slack(crash)
    head = p["blocks"][0]["text"]["text"]
    assert head.startswith(":red_circle: orders-api: ")
    fields = {f["text"].split("\n")[0].strip("*"): f["text"].split("\n", 1)[1]
              for b in p["blocks"] if b["type"] == "section" for f in b.get("fields", [])}
    assert fields["Service"] == "`orders-api`"
    assert fields["Cluster"] == "`prod`"
    assert fields["Task definition"] == "`orders-api:12`"
    assert fields["Stop code / exit codes"] == "`EssentialContainerExited` `app=1`"
    assert "`app-crash`" in fields["Cause"]
    first = _section_with(p, "*Fix, first step:*")
    fix = _section_with(p, "*Fix, next steps*")
    assert "Fix the error at" in first and "more steps below" in first
    assert re.search(r"^2\. ", fix, re.M) and not re.search(r"^1\. ", fix, re.M)  # step 1 is not repeated
    excerpt = _section_with(p, "*Log excerpt*")
    assert excerpt.count("```") == 2 and "RuntimeError: boom" in excerpt
    links = [e["text"] for b in p["blocks"] if b["type"] == "context" for e in b["elements"] if "|Task>" in e["text"]]
    assert links and "console.aws.amazon.com/ecs/v2/clusters/prod/tasks/" in links[0]
    assert "|Service>" in links[0]


def test_hostile_log_text_is_inert(crash):
    p = render_slack(crash)
    assert validate(p) == []
    for text in _mrkdwn_texts(p):
        links = re.findall(r"<[^>]*>", text)
        # the only angle-bracket constructs are our console links
        assert all(link.startswith("<https://us-east-1.console.aws.amazon.com/") for link in links), links
        assert not re.search(r"@(here|channel|everyone)\b", text)
        assert "\x07" not in text and "\x1b" not in text and "\u202e" not in text
    excerpt = _section_with(p, "*Log excerpt*")
    body = excerpt.split("```", 1)[1].rsplit("```", 1)[0]
    assert "```" not in body and "``" not in body  # nothing inside can close the block
    assert "&lt;!channel&gt;" in excerpt and "&lt;https://evil.example|click here&gt;" in excerpt
    assert "&amp;amp;" in excerpt  # an entity in the logs shows as typed, not decoded
    header = p["blocks"][0]["text"]["text"]
    assert "<" not in header and ">" not in header and "&" not in header
    assert "evil.example" not in "".join(re.findall(r"<https://[^>]*>", _all_text(p)))


def test_mrkdwn_objects_are_verbatim(crash):
    p = render_slack(crash)
    for b in p["blocks"]:
        objs = ([b["text"]] if "text" in b else []) + b.get("fields", []) + b.get("elements", [])
        for o in objs:
            if o["type"] == "mrkdwn":
                assert o["verbatim"] is True


def test_secrets_are_masked_even_when_the_finding_was_not(crash):
    leaky = crash.model_copy(update={
        "log_excerpt": ["db password=hunter2", "Authorization: Bearer abcdefghijklmnop123", "token xoxb-1234567890-abcdef"],
        "summary": "connect to postgres://app:s3cr3t@db:5432 failed",
    })
    text = _all_text(render_slack(leaky))
    for secret in ("hunter2", "abcdefghijklmnop123", "xoxb-1234567890-abcdef", "s3cr3t"):
        assert secret not in text
    assert "[REDACTED]" in text


def test_oversized_text_stays_within_limits(crash):
    big = crash.model_copy(update={
        "title": "T" * 400,
        "summary": "S" * 5000,
        "log_excerpt": [f"{i:03d} " + "x" * 996 for i in range(50)],
        "evidence": [EvidenceItem(source=f"logs[app]:{i}", text="e" * 900) for i in range(30)],
        "remediation": ["step " + "r" * 2500 for _ in range(12)],
        "gaps": ["g" * 3000],
    })
    p = render_slack(big)
    assert validate(p) == []
    assert len(p["blocks"][0]["text"]["text"]) <= HEADER_MAX
    excerpt = _section_with(p, "*Log excerpt*")
    assert len(excerpt) <= SECTION_MAX
    shown = int(re.search(r"last (\d+) lines of 50", excerpt).group(1))
    assert 0 < shown < 50
    assert "049 xxx" in excerpt  # the newest line is kept
    for b in p["blocks"]:
        for fld in b.get("fields", []):
            assert len(fld["text"]) <= FIELD_MAX


def test_fifty_block_limit(crash):
    many = crash.model_copy(update={
        "evidence": [EvidenceItem(source=f"logs[app]:{i}", text="e" * 1500) for i in range(120)],
        "remediation": ["r" * 2800 for _ in range(60)],
    })
    p = render_slack(many)
    assert len(p["blocks"]) == BLOCKS_MAX
    assert validate(p) == []
    assert any("not shown (Slack allows 50 blocks)" in e["text"] for b in p["blocks"] if b["type"] == "context"
               for e in b["elements"])
    assert p["blocks"][-1]["type"] == "context" and "fingerprint" in p["blocks"][-1]["elements"][0]["text"]


def test_only_console_links(crash):
    evil = crash.model_copy(update={"links": Links(task="https://evil.example/ecs", service="javascript:alert(1)",
                                                   log_stream="https://us-east-1.console.aws.amazon.com/x|y>z")})
    texts = _mrkdwn_texts(render_slack(evil))
    assert not any("|Task>" in t or "|Service>" in t or "|Log stream>" in t for t in texts)
    assert not any("javascript:" in t or "x|y" in t for t in texts)
    fine = render_slack(crash)
    assert any("|Task>" in t for t in _mrkdwn_texts(fine))


def test_occurrence_line():
    f = run(["KeyError: 'DATABASE_URL'"])
    p = render_slack(f, Occurrence(count=37, window_seconds=900, max_posts=5))
    assert "Still happening: seen 37 times in the last 15 min." in p["blocks"][0]["text"]["text"]
    assert "limited to 5 per 15 min" in p["blocks"][0]["text"]["text"]
    assert "seen 37 times" in p["text"]
    first = render_slack(f, Occurrence(count=1, window_seconds=900, previous_count=480))
    assert "Seen 480 times in the previous 15 min window" in first["blocks"][1]["text"]["text"]
    assert render_slack(f, Occurrence(count=1))["blocks"][1]["type"] == "section"
    assert "Still happening" not in json.dumps(render_slack(f, Occurrence(count=1)))


def test_deployment_breakdown():
    f = run(["KeyError: 'DATABASE_URL'"])
    dep = f.model_copy(update={"scope": "deployment", "deployment": DeploymentSummary(
        cluster="prod", service="orders-api", deployment_id="ecs-svc/123", event_name="SERVICE_DEPLOYMENT_FAILED",
        reason="ECS deployment circuit breaker: tasks failed to start.", tasks_stopped=40, tasks_diagnosed=40,
        patterns={"app-crash": 3, "missing-env-var": 37}, task_arns=[f.task.task_arn])})
    p = render_slack(dep)
    assert validate(p) == []
    breakdown = _section_with(p, "*Root causes across 40 diagnosed tasks*")
    lines = breakdown.splitlines()[1:]
    assert lines[0] == "• `missing-env-var`: 37 tasks (92%)"
    assert lines[1] == "• `app-crash`: 3 tasks (7%)"
    fields = [fld["text"] for b in p["blocks"] for fld in b.get("fields", [])]
    assert "*Deployment*\n`ecs-svc/123`" in fields and "*Tasks stopped*\n40" in fields
    assert "circuit breaker" in _section_with(p, "_Stopped reason:_")


def test_escapers():
    assert mrkdwn("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert "@\u2060here" in mrkdwn("@here")
    assert inline("x`y\nz") == "`x\u02cby z`"
    assert inline("") == "-"
    assert plain("<!channel> & @here\x00") == "\u2039!channel\u203a \uff06 @\u2060here"
    assert cut("abc &amp; def", 8) == "abc…"  # never half an entity
    assert cut("org.springframework.beans.factory.BeanCreationException: Error creating bean", 60) == (
        "org.springframework.beans.factory.BeanCreationException:…")  # at a word boundary
    assert cut("x" * 10, 5) == "xxxx…"
    assert cut("see ```code that goes on and on```", 20).endswith("```")
    block, n = code_block(["a", "```", "b"])
    assert n == 3 and block.count("```") == 2


# -------------------------------------------------------------------------------------------------
# At a glance (issue 13)
# -------------------------------------------------------------------------------------------------
def _screen(p: dict) -> list[dict]:
    """The blocks above the divider: what the first screen shows."""
    kinds = [b["type"] for b in p["blocks"]]
    return p["blocks"][: kinds.index("divider")]


def test_first_screen_holds_title_cause_key_facts_and_first_step():
    f = run(["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"])
    p = render_slack(f)
    assert validate(p) == []
    screen = _screen(p)
    text = json.dumps(screen)
    assert screen[0]["type"] == "header" and "DATABASE_URL" in screen[0]["text"]["text"]
    assert "*Fix, first step:*" in text and f.remediation and "more step" in text
    assert "*Variable*" in text  # the key fact has a field
    assert "Log excerpt" not in text and "*Evidence*" not in text
    cause = screen[1]["text"]["text"]
    assert cause.count(". ") == 0 and len(cause) < 300  # one sentence
    assert len(text) < 3500  # a screen, not a page


def test_stopped_reason_is_printed_once():
    f = run(["KeyError: 'DATABASE_URL'"])
    text = json.dumps(render_slack(f))
    assert text.count("Essential container in task exited") == 1


def test_no_markdown_table_no_backticks_in_header():
    f = run(["KeyError: 'DATABASE_URL'"])
    tabled = f.model_copy(update={
        "title": "orders-api: `KeyError` in `settings.py`",
        "summary": "Mismatch:\n| Target group | Application | Result |\n| --- | --- | --- |\n| path /health | no route | 404 |",
        "remediation": ["| a | b |\n|---|---|\n| 1 | 2 |"]})
    p = render_slack(tabled)
    assert "`" not in p["blocks"][0]["text"]["text"]
    text = json.dumps(p, ensure_ascii=False)
    assert "| --- |" not in text and "|---|" not in text
    assert "Target group: path /health · Application: no route · Result: 404" in text


def test_repeat_is_one_line_with_a_link_to_the_first_post():
    f = run(["KeyError: 'DATABASE_URL'"])
    url = "https://acme.slack.com/archives/C0123ABCD/p1700000000123456"
    p = render_slack(f, Occurrence(count=5, first_post_url=url))
    assert validate(p) == []
    assert len(p["blocks"]) <= 2 and p["blocks"][0]["type"] == "section"
    assert f"<{url}|first post>" in p["blocks"][0]["text"]["text"]
    assert "Log excerpt" not in json.dumps(p)
    evil = render_slack(f, Occurrence(count=5, first_post_url="https://evil.example/archives/C1/p1"))
    assert "first post" not in json.dumps(evil)
