"""Slack: a Block Kit message for an incoming webhook, inert whatever the logs contain.

Everything shown comes from the Finding (already masked by the engine) and passes through
`redact` again, then through one of three escapers:

- `plain()` for plain_text objects (header): control characters stripped, `<`, `>`, `&` replaced by
  look-alikes (Slack documents no escaping for plain_text, so nothing is left for it to parse).
- `mrkdwn()` for engine-written sentences (summary, fix): `&`, `<`, `>` escaped as Slack requires,
  so `<!channel>`, `<@U123>` and `<https://evil|click>` arrive as text; `@here`-style words get a
  word joiner; every mrkdwn text object is `verbatim` (no automatic mention or link parsing).
- `inline()` / `code_block()` for values and log text: inside code, where no formatting applies;
  backtick runs are broken with a zero-width space so a log line cannot close the block.

The engine's sentences (title, summary, fix, gaps) quote values taken from the event and the logs
(a variable, an image, a service name), inside its own `code` spans and ```json``` blocks. `defang()`
first replaces, in those sentences, every word of such a value that holds a formatting character
(` * ~, an underscore at a word's edge) by look-alikes (ˋ ∗ ∼ ＿): a value cannot close a code span
or block, nor make text bold, italic or struck through.

Links are built only from console URLs (https://<region>.console.aws.amazon.com/...). Limits are held
here, not by slack_sdk (which does not check the 50-block limit): header 150 chars, section text
3000, 10 fields of 2000, 10 context elements, 50 blocks. `validate()` checks a payload against them.
"""

from __future__ import annotations

import re
from typing import Any

from shared.models.finding import Finding
from shared.redact import redact
from shared.render.channels import Occurrence
from shared.render.steps import untable
from shared.scan import lazy_re

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_MAX = 10
BLOCKS_MAX = 50
FALLBACK_MAX = 3000
CODE_LINE_MAX = 400  # characters of one log line shown in Slack (the SNS JSON keeps up to 1000)
_SECTION_BUDGET = SECTION_MAX - 100  # margin for characters Slack may count differently (emoji, surrogates)

SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}

_CONTROL = lazy_re("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_BROADCAST = lazy_re(r"@(channel|here|everyone|group)\b", re.IGNORECASE)
_CONSOLE_URL = lazy_re(
    r"https://(?:[a-z0-9-]+\.)*console\.(?:aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)/[^\s<>|\"`]*")


# -------------------------------------------------------------------------------------------------
# Escaping
# -------------------------------------------------------------------------------------------------
def clean(text: object) -> str:
    """Masked, without control or bidi-override characters (newlines and tabs kept)."""
    return _CONTROL.sub("", redact(str(text)))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: object) -> str:
    """Engine-written text for a mrkdwn object: masked, escaped, broadcast words neutralised."""
    return _BROADCAST.sub("@\u2060\\1", escape(clean(text)))


_LOOKALIKE = str.maketrans({"<": "\u2039", ">": "\u203a", "&": "\uff06"})


def plain(text: object, limit: int | None = None) -> str:
    """Text for a plain_text object (header). Slack documents no escaping for plain_text, so the three
    characters its parser reacts to are replaced by look-alikes (‹ › ＆): inert whichever way it parses."""
    s = _CONTROL.sub("", redact(str(text)).replace("\n", " ").replace("\t", " ").replace("`", "")).translate(_LOOKALIKE)
    s = _BROADCAST.sub("@\u2060\\1", s)
    return cut(s, limit) if limit else s


def inline(value: object, limit: int = 300) -> str:
    """A value as inline code: one line, escaped, with no backtick that could end the span."""
    s = mrkdwn(value).replace("\n", " ").replace("\t", " ").replace("`", "\u02cb").strip()
    return f"`{cut(s, limit)}`" if s else "-"


_BACKTICK_RUN = lazy_re(r"`(?=`)")


def _break_fences(s: str) -> str:
    # A zero-width space after every backtick followed by another: no "```" can close the block.
    return _BACKTICK_RUN.sub("`\u200b", s)


def code_line(line: str, limit: int = CODE_LINE_MAX) -> str:
    return _break_fences(cut(mrkdwn(line).replace("\n", " "), limit))


def code_block(lines: list[str], budget: int = _SECTION_BUDGET) -> tuple[str, int]:
    """The last lines that fit in `budget` characters, fenced; returns (text, lines shown)."""
    shown: list[str] = []
    used = len("```\n\n```")
    for line in reversed(lines):
        text = code_line(line)
        if used + len(text) + 1 > budget:
            break
        shown.append(text)
        used += len(text) + 1
    shown.reverse()
    return "```\n" + "\n".join(shown) + "\n```", len(shown)


def cut(text: str, limit: int | None) -> str:
    """At most `limit` characters, ending in an ellipsis when cut: never inside an &entity;, and a
    code fence opened in the kept part is closed."""
    if limit is None or len(text) <= limit:
        return text
    head = _no_broken_entity(_at_word(text, max(limit - 1, 0)))
    if head.count("```") % 2:
        head = _no_broken_entity(text[: max(limit - 5, 0)])
        if head.count("```") % 2:
            return head + "…\n```"
    return head + "…"


def _at_word(text: str, n: int) -> str:
    """The first n characters, shortened to the last word boundary when one is near (a word is not cut
    in the middle unless it is longer than 40 characters)."""
    head = text[:n]
    if n < len(text) and not text[n].isspace():
        space = max(head.rfind(" "), head.rfind("\n"))
        if space >= max(n - 40, 1):
            head = head[:space]
    return head.rstrip()


def _no_broken_entity(head: str) -> str:
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:] and len(head) - amp < 6:
        return head[:amp]
    return head


def link(url: str | None, label: str) -> str | None:
    """A mrkdwn link to an AWS console page, or None for anything else."""
    if not url or _CONTROL.search(url) or not _CONSOLE_URL.fullmatch(url):
        return None
    return f"<{escape(url)}|{mrkdwn(label)}>"


# -------------------------------------------------------------------------------------------------
# Values from the input, inside the engine's sentences
# -------------------------------------------------------------------------------------------------
_FORMATTING = lazy_re(r"[`*~]|(?<!\w)_|_(?!\w)")
_FORMAT_LOOKALIKE = str.maketrans({"`": "\u02cb", "*": "\u2217", "~": "\u223c", "_": "\uff3f"})
_TAINTED_MAX = 500
_PARTS = lazy_re(r"[:/@=,'\"\[\](){}]")  # distinct words checked per finding (longest first)


def _input_texts(f: Finding) -> list[str]:
    """Every text of the finding that came from the event or the logs, not from the engine."""
    t = f.task
    out = [t.service, t.group, t.cluster, t.task_definition, t.stopped_reason, t.stop_code, t.started_by,
           t.deployment_id]
    for c in t.containers:
        out += [c.name, c.image, c.reason]
    d = f.deployment
    if d is not None:
        out += [d.service, d.cluster, d.deployment_id, d.event_name, d.reason, *d.patterns]

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            out.append(v)

    walk(f.facts)
    out += [e.text for e in f.evidence] + list(f.log_excerpt)
    return [x for x in out if x]


def defang(f: Finding) -> Finding:
    """The finding with the input's formatting characters made inert in the engine's sentences."""
    words = {w for text in _input_texts(f) for w in text.split() if _FORMATTING.search(w)}
    # the parts of such a word that a fix quotes on their own (a family without its :revision, a
    # repository without its registry or tag, a value inside quotes)
    words |= {p for w in list(words) for p in _PARTS.split(w) if _FORMATTING.search(p)}
    if not words:
        return f
    tainted = sorted(words, key=lambda w: (-len(w), w))[:_TAINTED_MAX]

    def fix(text: str) -> str:
        for w in tainted:
            if w in text:
                text = text.replace(w, w.translate(_FORMAT_LOOKALIKE))
        return text

    return f.model_copy(update={
        "title": fix(f.title), "summary": fix(f.summary), "remediation": [fix(s) for s in f.remediation],
        "gaps": [fix(g) for g in f.gaps],
        "evidence": [e.model_copy(update={"source": fix(e.source)}) for e in f.evidence]})


# -------------------------------------------------------------------------------------------------
# Blocks
# -------------------------------------------------------------------------------------------------
def _text(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _text(cut(text, SECTION_MAX))}


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_text(cut(t, SECTION_MAX)) for t in texts[:CONTEXT_MAX]]}


def _field(label: str, value: str) -> dict[str, Any]:
    return _text(cut(f"*{label}*\n{value}", FIELD_MAX))


def _chunks(title: str, items: list[str], budget: int = _SECTION_BUDGET) -> list[str]:
    """Items grouped into section texts of at most `budget` characters; the first starts with title."""
    out: list[str] = []
    current = title
    for item in items:
        item = cut(item, budget - len(title) - 1)
        if len(current) + 1 + len(item) > budget:
            out.append(current)
            current = item
        else:
            current = f"{current}\n{item}" if current else item
    if current:
        out.append(current)
    return out


def _exit_codes(f: Finding) -> str:
    parts = [f"{c.name or '?'}={c.exit_code if c.exit_code is not None else '-'}" for c in f.task.containers]
    return inline(", ".join(parts)) if parts else "-"


# Facts worth a field at a glance, in order of interest; the first KEY_FACTS_MAX present are shown.
KEY_FACTS = ("variable", "variables", "action", "resource", "secret", "module", "missing_command", "executable",
             "exception", "host", "port", "engine", "limit", "peak", "path", "health_check_path", "target_group",
             "log_group", "image", "subnet", "file_system", "cause")
KEY_FACTS_MAX = 4


def fact_text(value: object) -> str:
    """A fact as a person writes it: lists joined with commas, mappings as key=value, never a repr."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={fact_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(fact_text(v) for v in value)
    return str(value)


def key_facts(f: Finding) -> list[tuple[str, str]]:
    """(label, value) of the facts that name this failure (a variable, an action, a host ...)."""
    out: list[tuple[str, str]] = []
    for key in KEY_FACTS:
        value = f.facts.get(key)
        if value in (None, "", [], {}):
            continue
        out.append((key.replace("_", " ").capitalize(), fact_text(value)))
        if len(out) >= KEY_FACTS_MAX:
            break
    return out


def _task_fields(f: Finding) -> list[dict[str, Any]]:
    t = f.task
    cause = inline(f.pattern) + (f" (symptom {inline(f.symptom)})" if f.symptom else "")
    fields = [
        ("Service", inline(t.service or t.group or "-")),
        ("Cluster", inline(t.cluster or "-")),
        ("Task definition", inline(t.task_definition or "-")),
        ("Task", inline(t.task_id or t.task_arn or "-")),
        ("Stop code / exit codes", f"{inline(t.stop_code or '-')} {_exit_codes(f)}"),
        ("Cause", f"{cause}, confidence {f.confidence:.2f}"),
    ]
    fields += [(label, inline(value)) for label, value in key_facts(f)]
    return [_field(k, v) for k, v in fields[:FIELDS_MAX]]


def _deployment_fields(f: Finding) -> list[dict[str, Any]]:
    d = f.deployment
    assert d is not None
    fields = [
        ("Service", inline(d.service or f.task.service or "-")),
        ("Cluster", inline(d.cluster or f.task.cluster or "-")),
        ("Deployment", inline(d.deployment_id or "-")),
        ("Event", inline(d.event_name or "-")),
        ("Tasks stopped", str(d.tasks_stopped)),
        ("Tasks diagnosed", str(d.tasks_diagnosed)),
        ("Task definition", inline(f.task.task_definition or "-")),
        ("Main cause", f"{inline(f.pattern)}, confidence {f.confidence:.2f}"),
    ]
    return [_field(k, v) for k, v in fields[:FIELDS_MAX]]


def _breakdown(f: Finding) -> list[str]:
    d = f.deployment
    if d is None or not d.patterns:
        return []
    total = sum(d.patterns.values()) or 1
    rows = [f"• {inline(p)}: {n} task{'s' if n != 1 else ''} ({100 * n // total}%)"
            for p, n in sorted(d.patterns.items(), key=lambda kv: (-kv[1], kv[0]))]
    return _chunks(f"*Root causes across {d.tasks_diagnosed or total} diagnosed tasks*", rows)


def inert(text: object) -> str:
    """A sentence quoting values from the task definitions (images, roles, names) for mrkdwn: masked and
    escaped, and the values' formatting characters made look-alikes (as `defang` does)."""
    words = [w if not _FORMATTING.search(w) else w.translate(_FORMAT_LOOKALIKE) for w in str(text).split(" ")]
    return mrkdwn(" ".join(words))


CHANGES_SHOWN = 5


def changes_blocks(f: Finding) -> list[dict[str, Any]]:
    """"Changed in this deploy": the verdict, the changes that explain the cause, the rollback command;
    the other changes folded into one context line."""
    ch = f.changes
    if ch is None:
        return []
    head = f"*Changed in this deploy* ({inline(ch.before or '?')} → {inline(ch.after or '?')})"
    lines = [head, (":point_right: " if ch.explained else "") + inert(ch.verdict)]
    why = [c for c in ch.items if c.explains]
    rest = [c for c in ch.items if not c.explains]
    lines += [f"• *{inert(c.text)}*" for c in why[:CHANGES_SHOWN]]
    if ch.rollback_command:
        lines.append(f"Roll back: {inline(ch.rollback_command, 500)}")
    blocks = [_section("\n".join(lines))]
    folded = why[CHANGES_SHOWN:] + rest
    if folded:
        text = f"{len(folded)} other change{'s' if len(folded) != 1 else ''}: " + "; ".join(inert(c.text) for c in folded)
        blocks.append(_context(cut(text, 1500)))
    return blocks


def _links(f: Finding) -> str | None:
    parts = [link(f.links.task, "Task"), link(f.links.service, "Service"),
             link(f.links.log_stream, "Log stream"), link(f.links.task_definition, "Task definition")]
    shown = [p for p in parts if p]
    return " · ".join(shown) if shown else None


_SENTENCE_END = lazy_re(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")


def first_sentence(text: str) -> tuple[str, str]:
    """(the first sentence, the rest) of a summary; code spans are never split."""
    text = untable(text).strip()
    for m in _SENTENCE_END.finditer(text):
        head = text[: m.start()]
        if head.count("`") % 2 == 0:
            return head, text[m.end():].strip()
    return text, ""


def fallback_text(f: Finding, occurrence: Occurrence | None = None) -> str:
    """The notification text (shown in alerts and where blocks cannot be)."""
    text = f"{f.severity.upper()}: {mrkdwn(f.title)}"
    line = occurrence.line() if occurrence else None
    if line:
        text += f" ({mrkdwn(line)})"
    return cut(text, FALLBACK_MAX)


def _first_post(occurrence: Occurrence) -> str | None:
    url = occurrence.first_post_url
    if url and _SLACK_PERMALINK.fullmatch(url) and not _CONTROL.search(url):
        return f"<{escape(url)}|first post>"
    return None


_SLACK_PERMALINK = lazy_re(r"https://[a-z0-9-]+\.slack\.com/archives/[A-Z0-9]+/p\d+(?:\?[\w=&.-]*)?")


def glance_blocks(f: Finding, occurrence: Occurrence | None = None, *, threaded: bool = False) -> list[dict[str, Any]]:
    """What reads at a glance (the first screen): title, the cause in one sentence, the key facts, the
    first fix step and the console links. `threaded`: the details follow as a thread reply, not below."""
    f = defang(f)
    emoji = SEVERITY_EMOJI.get(f.severity, ":white_circle:")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(f"{emoji} {f.title}", HEADER_MAX),
                                    "emoji": True}}]
    line = occurrence.line() if occurrence else None
    if line:
        blocks.append(_section(f":repeat: *{mrkdwn(line)}*"))
    cause, _ = first_sentence(f.summary)
    blocks.append(_section(mrkdwn(cause)))
    blocks.append({"type": "section", "fields": _deployment_fields(f) if f.deployment else _task_fields(f)})
    if f.changes is not None and f.changes.explained:
        blocks.extend(changes_blocks(f))  # the deploy's change explains the cause: roll back is a first action
    if f.remediation:
        more = len(f.remediation) - 1
        where = "in the thread" if threaded else "below"
        tail = f"\n_{more} more step{'s' if more != 1 else ''} {where}._" if more else ""
        blocks.append(_section(cut(f"*Fix, first step:* {mrkdwn(untable(f.remediation[0]))}", _SECTION_BUDGET - 40)
                               + tail))
    links = _links(f)
    if links:
        blocks.append(_context(links))
    return blocks


def detail_blocks(f: Finding) -> list[dict[str, Any]]:
    """Everything else: the rest of the summary, the stopped reason (when no evidence quotes it), the
    evidence, every fix step, the log excerpt and the footer. Posted below a divider, or as a thread
    reply by a channel that can thread."""
    f = defang(f)
    blocks: list[dict[str, Any]] = []
    _, rest = first_sentence(f.summary)
    reason = f.deployment.reason if f.deployment and f.deployment.reason else f.task.stopped_reason
    quoted = reason and any(reason.strip()[:120] in e.text or e.source == "stoppedReason" for e in f.evidence)
    text = mrkdwn(rest) if rest else ""
    if reason and not quoted:
        text += ("\n" if text else "") + f"_Stopped reason:_ {inline(reason, 500)}"
    if text:
        blocks.append(_section(text))
    blocks.extend(_section(t) for t in _breakdown(f))
    if f.changes is not None and not f.changes.explained:
        blocks.extend(changes_blocks(f))
    if f.evidence:
        items = [f"• {mrkdwn(e.source)}: {inline(e.text, 500)}" for e in f.evidence]
        blocks.extend(_section(t) for t in _chunks("*Evidence*", items))
    if len(f.remediation) > 1:  # the first step is in the glance blocks
        fix = [f"{n}. {mrkdwn(untable(step))}" for n, step in enumerate(f.remediation[1:], 2)]
        blocks.extend(_section(t) for t in _chunks("*Fix, next steps*", fix))
    if f.log_excerpt:
        title_budget = 120
        block, n = code_block(f.log_excerpt, _SECTION_BUDGET - title_budget)
        total = len(f.log_excerpt)
        title = f"*Log excerpt* (last {n} line{'s' if n != 1 else ''}" + (f" of {total})" if n < total else ")")
        blocks.append(_section(f"{title}\n{block}"))
    footer = [f"ecs-autopsy · {inline(f.pattern)} · fingerprint {inline(f.fingerprint)}"]
    if f.also_matched:
        footer.append("also matched: " + ", ".join(inline(p) for p in f.also_matched[:8]))
    if f.gaps:
        footer.append(cut("Not checked: " + mrkdwn(" ".join(f.gaps)), 1000))
    blocks.append(_context(*footer))
    return blocks


def repeat_blocks(f: Finding, occurrence: Occurrence) -> list[dict[str, Any]]:
    """A repeat of a failure already posted: one line with the count (and a link to the first post)."""
    f = defang(f)
    first = _first_post(occurrence)
    text = f":repeat: *{mrkdwn(f.title)}*: {mrkdwn(occurrence.line() or '')}"
    if first:
        text += f" See the {first}."
    link_text = _links(f)
    blocks = [_section(text)]
    blocks.append(_context(*(x for x in (link_text, f"fingerprint {inline(f.fingerprint)}") if x)))
    return blocks


def render_slack(f: Finding, occurrence: Occurrence | None = None, *, threaded: bool = False) -> dict[str, Any]:
    """The incoming-webhook payload for a finding: {"text", "blocks", "unfurl_links", "unfurl_media"}.

    The glance blocks come first; the details follow below a divider. `threaded` (Slack app mode, which
    posts `render_slack_detail()` as the first reply in the message's thread): the glance blocks only.
    A repeat is one line."""
    f = defang(f)
    if occurrence is not None and occurrence.follow_up:
        blocks = repeat_blocks(f, occurrence)
    elif threaded:
        blocks = glance_blocks(f, occurrence, threaded=True)
    else:
        glance = glance_blocks(f, occurrence)
        blocks = [*glance, {"type": "divider"}, *_fit(detail_blocks(f), BLOCKS_MAX - len(glance) - 1)]
    return {"text": fallback_text(f, occurrence), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


DETAIL_PREFIX = "Details: "  # the fallback text of a card's details reply


def render_slack_detail(f: Finding) -> dict[str, Any]:
    """The thread reply under a `threaded` card: the evidence, every fix step, the log excerpt."""
    f = defang(f)
    return {"text": cut(f"{DETAIL_PREFIX}{mrkdwn(f.title)}", FALLBACK_MAX), "blocks": _fit(detail_blocks(f), BLOCKS_MAX),
            "unfurl_links": False, "unfurl_media": False}


def _fit(detail: list[dict[str, Any]], room: int) -> list[dict[str, Any]]:
    """The detail blocks within `room` blocks: the last ones dropped but the footer, with a note."""
    if len(detail) <= room:
        return detail
    dropped = len(detail) - (room - 2)
    note = _context(f"{dropped} more section{'s' if dropped != 1 else ''} not shown (Slack allows 50 "
                    "blocks); the SNS message has the full finding.")
    return [*detail[: room - 2], note, detail[-1]]


# -------------------------------------------------------------------------------------------------
# Validation (tests, and a last guard before sending)
# -------------------------------------------------------------------------------------------------
# An unescaped "<" is only allowed to open a console link, or a mention the routing validated
# (shared/notify/routing.py: a user group or a user id, from tags and configuration, never from text).
_UNESCAPED = lazy_re(r"<(?!https://[^|>\s]+\|[^<>]*>|!subteam\^S[A-Z0-9]{2,20}>|@[UW][A-Z0-9]{2,20}>)")


def validate(payload: dict[str, Any]) -> list[str]:
    """Problems that would make Slack reject the payload or render something unsafe; [] when fine."""
    errors: list[str] = []
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        errors.append("no fallback text")
    elif len(text) > FALLBACK_MAX:
        errors.append(f"fallback text has {len(text)} chars")
    blocks = payload.get("blocks") or []
    if len(blocks) > BLOCKS_MAX:
        errors.append(f"{len(blocks)} blocks (max {BLOCKS_MAX})")

    def check_text(where: str, obj: dict[str, Any], limit: int) -> None:
        t = obj.get("text", "")
        if not t:
            errors.append(f"{where}: empty text")
        if len(t) > limit:
            errors.append(f"{where}: {len(t)} chars (max {limit})")
        if obj.get("type") == "mrkdwn":
            if _UNESCAPED.search(t):
                errors.append(f"{where}: unescaped '<'")
            if not obj.get("verbatim"):
                errors.append(f"{where}: mrkdwn without verbatim")
            if _BROADCAST.search(t):
                errors.append(f"{where}: broadcast mention")

    for i, b in enumerate(blocks):
        kind = b.get("type")
        if kind == "header":
            check_text(f"block {i} header", b["text"], HEADER_MAX)
            if b["text"].get("type") != "plain_text":
                errors.append(f"block {i}: header must be plain_text")
        elif kind == "section":
            if "text" in b:
                check_text(f"block {i} section", b["text"], SECTION_MAX)
                if b["text"]["text"].count("```") % 2:
                    errors.append(f"block {i}: unbalanced code fence")
            fields = b.get("fields", [])
            if len(fields) > FIELDS_MAX:
                errors.append(f"block {i}: {len(fields)} fields")
            for j, fld in enumerate(fields):
                check_text(f"block {i} field {j}", fld, FIELD_MAX)
            if "text" not in b and not fields:
                errors.append(f"block {i}: section without text or fields")
        elif kind == "context":
            elements = b.get("elements", [])
            if not elements or len(elements) > CONTEXT_MAX:
                errors.append(f"block {i}: {len(elements)} context elements")
            for j, el in enumerate(elements):
                check_text(f"block {i} element {j}", el, SECTION_MAX)
        elif kind != "divider":
            errors.append(f"block {i}: unexpected type {kind}")
    return errors
