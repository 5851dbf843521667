"""Amazon Q Developer in chat applications (AWS Chatbot): a custom notification for an SNS topic.

Chatbot only renders messages whose body is its custom-notification JSON:
    {"version": "1.0", "source": "custom", "id", "content": {"textType": "client-markdown", "title",
     "description", "nextSteps", "keywords"}, "metadata": {"threadId", "summary", "eventType",
     "relatedResources", "additionalContext"}}
`client-markdown` is Slack's mrkdwn (Chatbot translates it for Teams and Chime), so the text goes
through the same escapers as the Slack message: log text cannot mention, link or break a code block.
`threadId` groups every post about one incident (a service's deployment; else one failure within its
noise window) in one chat thread.

Sizes are capped here (Chatbot documents no limits we could check; these keep a message readable
and far below the 256 KB SNS limit).
"""

from __future__ import annotations

from typing import Any

from shared.models.finding import Finding
from shared.render.channels import Occurrence
from shared.render.slack import SEVERITY_EMOJI, code_block, cut, defang, inert, inline, link, mrkdwn, plain

TITLE_MAX = 250
DESCRIPTION_MAX = 3500
STEP_MAX = 600
STEPS_MAX = 8
KEYWORD_MAX = 60
EXCERPT_LINES = 12
THREAD_ID_MAX = 128


def thread_id(f: Finding, occurrence: Occurrence | None = None) -> str:
    """One thread per incident: the service and its deployment; without a deployment (a standalone
    task), the failure (fingerprint) within its noise window, as the Slack app's threads."""
    t = f.task
    d = f.deployment
    owner = (d.service if d and d.service else None) or t.service or t.group or (t.task_definition or "").split(":")[0]
    incident = (d.deployment_id if d and d.deployment_id else None) or t.deployment_id
    if not incident and occurrence is not None and occurrence.window_start:
        incident = f"{f.fingerprint}/{int(occurrence.window_start)}"
    incident = incident or t.task_definition or "-"
    return cut(f"ecs-autopsy/{t.account or '-'}/{t.cluster or '-'}/{owner or '-'}/{incident}", THREAD_ID_MAX)


def _description(f: Finding, occurrence: Occurrence | None) -> str:
    t = f.task
    parts: list[str] = []
    line = occurrence.line() if occurrence else None
    if line:
        parts.append(f":repeat: *{mrkdwn(line)}*")
    parts.append(mrkdwn(f.summary))
    exits = ", ".join(f"{c.name or '?'}={c.exit_code if c.exit_code is not None else '-'}" for c in t.containers)
    parts.append(" · ".join([
        f"*Service* {inline(t.service or t.group or '-')}",
        f"*Cluster* {inline(t.cluster or '-')}",
        f"*Task definition* {inline(t.task_definition or '-')}",
    ]))
    parts.append(" · ".join([
        f"*Stop code* {inline(t.stop_code or '-')}",
        f"*Exit codes* {inline(exits or '-')}",
        f"*Cause* {inline(f.pattern)} ({f.confidence:.2f})",
    ]))
    if f.deployment and f.deployment.patterns:
        rows = sorted(f.deployment.patterns.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append("*Root causes:* " + ", ".join(f"{inline(p)} {n}" for p, n in rows[:10]))
    if f.changes is not None:
        parts.append(f"*Changed in this deploy:* {inert(f.changes.verdict)}"
                     + (f" Roll back: {inline(f.changes.rollback_command, 400)}" if f.changes.rollback_command else ""))
    reason = f.deployment.reason if f.deployment and f.deployment.reason else t.stopped_reason
    if reason:
        parts.append(f"_Stopped reason:_ {inline(reason, 400)}")
    links = [link(f.links.task, "Task"), link(f.links.service, "Service"), link(f.links.log_stream, "Log stream")]
    link_line = " · ".join(x for x in links if x)
    head = "\n".join(parts)
    if f.log_excerpt:
        budget = DESCRIPTION_MAX - len(head) - len(link_line) - 60
        if budget > 200:
            block, n = code_block(f.log_excerpt[-EXCERPT_LINES:], budget)
            if n:
                head += f"\n*Log excerpt* (last {n} lines)\n{block}"
    if link_line:
        head += "\n" + link_line
    return cut(head, DESCRIPTION_MAX)


def render_chatbot(f: Finding, occurrence: Occurrence | None = None) -> dict[str, Any]:
    f = defang(f)
    t = f.task
    emoji = SEVERITY_EMOJI.get(f.severity, ":white_circle:")
    keywords = [f.severity, f.pattern, t.service or t.group, t.cluster]
    related = [a for a in (t.task_arn, t.task_definition_arn, t.cluster_arn) if a]
    context = {"cluster": t.cluster, "service": t.service, "task_id": t.task_id, "pattern": f.pattern,
               "fingerprint": f.fingerprint}
    return {
        "version": "1.0",
        "source": "custom",
        "id": cut(f"ecs-autopsy-{f.fingerprint}-{t.task_id or '-'}-{t.event_version or 0}", 128),
        "content": {
            "textType": "client-markdown",
            "title": cut(f"{emoji} {mrkdwn(f.title)}", TITLE_MAX),
            "description": _description(f, occurrence),
            "nextSteps": [cut(mrkdwn(step), STEP_MAX) for step in f.remediation[:STEPS_MAX]],
            "keywords": [cut(plain(k), KEYWORD_MAX) for k in keywords if k],
        },
        "metadata": {
            "threadId": thread_id(f, occurrence),
            "summary": cut(plain(f.title), TITLE_MAX),
            "eventType": f.pattern,
            "relatedResources": [r for r in related if r],
            "additionalContext": {k: plain(v) for k, v in context.items() if v},
        },
    }
