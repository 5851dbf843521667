"""Markdown: the runbook's escalation packet, ready to paste into a ticket.

Service and environment, what is failing, stop code and stopped reason, the last 50 log lines, the
relevant configuration, and what was checked automatically with each result.
"""

from __future__ import annotations

import re

from shared.models.finding import Finding
from shared.render.slack import fact_text

_ENV = re.compile(r"(?:^|[-_.])(prod|production|prd|staging|stage|stg|dev|development|test|qa|uat|sandbox)(?:$|[-_.])",
                  re.IGNORECASE)


def guess_environment(*names: str | None) -> str | None:
    for name in names:
        if name:
            m = _ENV.search(name)
            if m:
                return m.group(1).lower()
    return None


def _fence(lines: list[str]) -> str:
    body = "\n".join(lines)
    ticks = "```"
    while ticks in body:
        ticks += "`"
    return f"{ticks}\n{body}\n{ticks}"


def render_markdown(f: Finding) -> str:
    t = f.task
    env = guess_environment(t.service, t.cluster, t.task_definition) or "unknown"
    out = [f"# {f.title}", ""]
    out.append("## Service and environment")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    rows = [
        ("Service", t.service or t.group or "-"), ("Environment", env), ("Cluster", t.cluster or "-"),
        ("Account / Region", f"{t.account or '-'} / {t.region or '-'}"), ("Task", t.task_arn or "-"),
        ("Task definition", t.task_definition or "-"), ("Launch type", t.launch_type or "-"),
        ("Started by", t.started_by or "-"), ("Stopped at", t.stopped_at or "-"),
    ]
    out.extend(f"| {k} | `{v}` |" if k in ("Task", "Task definition") else f"| {k} | {v} |" for k, v in rows)
    out.append("")
    out.append("## What is failing")
    out.append("")
    out.append(f"**{f.pattern}**" + (f" (symptom seen by ECS: {f.symptom})" if f.symptom else "")
               + f", severity {f.severity}, confidence {f.confidence:.2f}.")
    out.append("")
    out.append(f.summary)
    if f.facts:
        out.append("")
        out.extend(f"- {k}: `{fact_text(v)}`" for k, v in f.facts.items())
    out.append("")
    out.append("## Stop code and stopped reason")
    out.append("")
    out.append(f"- stopCode: `{t.stop_code or '-'}`")
    out.append(f"- stoppedReason: `{t.stopped_reason or '-'}`")
    for c in t.containers:
        out.append(f"- container `{c.name}`: exit code {c.exit_code if c.exit_code is not None else '-'}"
                   + (f", reason `{c.reason}`" if c.reason else "") + (f", image `{c.image}`" if c.image else ""))
    out.append("")
    if f.changes is not None:
        ch = f.changes
        out.append(f"## Changed in this deploy ({ch.before or '?'} → {ch.after or '?'})")
        out.append("")
        out.append(ch.verdict)
        out.append("")
        out.extend(f"- {'**' + c.text + '**' if c.explains else c.text}" for c in ch.items)
        if ch.rollback_command:
            out.append("")
            out.append(f"Roll back: `{ch.rollback_command}`")
        out.append("")
    out.append("## Evidence")
    out.append("")
    out.extend(f"- {e.source}: `{e.text}`" if "`" not in e.text else f"- {e.source}: {e.text}" for e in f.evidence)
    out.append("")
    out.append("## Suggested fix")
    out.append("")
    out.extend(f"{n}. {step}" for n, step in enumerate(f.remediation, 1))
    out.append("")
    out.append(f"## CloudWatch Logs excerpt (last {len(f.log_excerpt)} lines)")
    out.append("")
    out.append(_fence(f.log_excerpt) if f.log_excerpt else "_No log lines were available._")
    out.append("")
    out.append("## Relevant configuration")
    out.append("")
    config = [f"cpu: {t.cpu or '-'}", f"memory: {t.memory or '-'}", f"launchType: {t.launch_type or '-'}",
              f"platformVersion: {t.platform_version or '-'}", f"cpuArchitecture: {t.cpu_architecture or '-'}",
              f"availabilityZone: {t.availability_zone or '-'}"]
    for key in ("health_check_path", "health_check_port", "matcher", "limit", "target_group", "log_group"):
        if key in f.facts:
            config.append(f"{key}: {fact_text(f.facts[key])}")
    out.append(_fence(config))
    out.append("")
    out.append("## What was checked automatically")
    out.append("")
    out.append("| Check | Result | |")
    out.append("|---|---|---|")
    for check in f.checks:
        mark = {True: "✅", False: "❌", None: "➖"}[check.ok]
        out.append(f"| {check.name} | {check.result.replace('|', '/')} | {mark} |")
    if f.gaps:
        out.append("")
        out.append("Not available: " + " ".join(f.gaps))
    links = [(k, v) for k, v in f.links.model_dump().items() if v]
    if links:
        out.append("")
        out.append("## Links")
        out.append("")
        out.extend(f"- [{k.replace('_', ' ')}]({v})" for k, v in links)
    out.append("")
    out.append(f"<sub>ecs-autopsy finding {f.fingerprint}, schema {f.schema_version}</sub>")
    return "\n".join(out) + "\n"
