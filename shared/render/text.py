"""Plain-text rendering for a terminal: title, cause, evidence, numbered fix, excerpt."""

from __future__ import annotations

import os
import sys
import textwrap

from shared.models.finding import Finding

_SEVERITY_COLOUR = {"critical": "31", "warning": "33", "info": "36"}


def _colour(enabled: bool, code: str, text: str) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if enabled else text


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    return stream.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"


def render_text(f: Finding, colour: bool = False, excerpt_lines: int = 20) -> str:
    t = f.task
    out: list[str] = []
    sev = _colour(colour, _SEVERITY_COLOUR.get(f.severity, "0"), f.severity.upper())
    out.append(f"{sev}  {_colour(colour, '1', f.title)}")
    where = " · ".join(x for x in (
        f"cluster {t.cluster}" if t.cluster else None,
        f"service {t.service}" if t.service else (t.group or None),
        f"task {t.task_id}" if t.task_id else None,
        t.task_definition,
        t.launch_type,
    ) if x)
    if where:
        out.append(where)
    out.append("")
    cause = f"{f.pattern}" + (f" (symptom: {f.symptom})" if f.symptom else "")
    out.append(f"Cause:      {cause}   confidence {f.confidence:.2f}")
    if t.stop_code or t.stopped_reason:
        out.append(f"Stopped:    {t.stop_code or '-'}: {t.stopped_reason or '-'}")
    exits = ", ".join(f"{c.name}={c.exit_code if c.exit_code is not None else '-'}" for c in t.containers)
    if exits:
        out.append(f"Exit codes: {exits}")
    if f.facts:
        facts = ", ".join(f"{k}={v}" for k, v in f.facts.items())
        out.append(textwrap.fill(f"Facts:      {facts}", 110, subsequent_indent=" " * 12))
    out.append("")
    out.append(textwrap.fill(f.summary, 110))
    if f.changes is not None:
        ch = f.changes
        out.append("")
        out.append(_colour(colour, "1", f"Changed in this deploy ({ch.before or '?'} -> {ch.after or '?'})"))
        out.append(textwrap.fill(ch.verdict, 110, initial_indent="  ", subsequent_indent="  "))
        for c in ch.items:
            out.append(f"  {'*' if c.explains else '-'} {c.text}")
        if ch.rollback_command:
            out.append(f"  Roll back: {ch.rollback_command}")
    if f.evidence:
        out.append("")
        out.append(_colour(colour, "1", "Evidence"))
        for e in f.evidence:
            out.append(f"  {e.source}: {e.text}")
    if f.remediation:
        out.append("")
        out.append(_colour(colour, "1", "Fix"))
        for n, step in enumerate(f.remediation, 1):
            lines = step.splitlines() or [""]
            out.append(f"  {n}. {lines[0]}")
            out.extend(f"     {line}" for line in lines[1:])
    if f.log_excerpt:
        out.append("")
        shown = f.log_excerpt[-excerpt_lines:]
        out.append(_colour(colour, "1", f"Log excerpt (last {len(shown)} lines)"))
        out.extend(f"  | {line}" for line in shown)
    if f.gaps:
        out.append("")
        out.append(_colour(colour, "2", "Not checked: " + " ".join(f.gaps)))
    links = [v for v in (f.links.task, f.links.log_stream) if v]
    if links:
        out.append("")
        out.extend(links)
    return "\n".join(out) + "\n"
