"""demo-out/index.html: the Slack workspace as the teams would see it after the demo's scenarios.

One static page, no script, no external resource: one section per channel (the default #ecs-alerts
and the teams' channels the service tags route to), each message laid out as Slack lays out Block Kit
(demo/blocks.py) in its latest version (after chat.update, marked "edited"), its thread replies under
it as Slack's thread view shows them, a note per scenario saying what happened and what was expected,
and the summary table. Every text from a payload is escaped.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.blocks import payload_html

if TYPE_CHECKING:
    from demo.run import Outcome

CSS = """
:root { --text:#1d1c1d; --muted:#616061; --line:#dddddd; --code:#e01e5a; --link:#1264a3; --side:#3f0e40; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.46668 -apple-system, BlinkMacSystemFont, "Segoe UI", Lato, "Helvetica Neue",
       Helvetica, Arial, "Noto Sans", sans-serif; color: var(--text); background: #fff; }
.app { display: grid; grid-template-columns: 220px 1fr; min-height: 100vh; }
.side { background: var(--side); color: #cfc3cf; padding: 14px 0; }
.side .ws { color: #fff; font-weight: 900; font-size: 18px; padding: 0 16px 12px; border-bottom: 1px solid #5d2c5d; }
.side .sec { padding: 14px 16px 4px; font-size: 13px; }
.side .ch { padding: 2px 16px; font-size: 15px; }
.side .ch.active { background: #1164a3; color: #fff; }
main { min-width: 0; }
.top { border-bottom: 1px solid var(--line); padding: 12px 20px; font-weight: 900; font-size: 18px; }
.top small { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 8px; }
.feed { padding: 8px 0 40px; max-width: 980px; }
.scenario { margin: 22px 20px 6px; padding: 8px 12px; border-left: 4px solid #1264a3; background: #f4f8fb;
            font-size: 13px; color: var(--muted); }
.scenario.fail { border-left-color: #e01e5a; background: #fdf1f5; }
.scenario b { color: var(--text); font-size: 14px; }
.msg { display: grid; grid-template-columns: 36px 1fr; gap: 8px; padding: 8px 20px; }
.msg:hover { background: #f8f8f8; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #e01e5a; color: #fff; font-weight: 900;
          display: flex; align-items: center; justify-content: center; font-size: 14px; }
.meta { font-size: 15px; }
.meta .name { font-weight: 900; }
.meta .badge { background: #e8e8e8; color: var(--muted); font-size: 10px; font-weight: 700; padding: 1px 3px;
             border-radius: 2px; margin-left: 4px; vertical-align: 2px; }
.meta time { color: var(--muted); font-size: 12px; margin-left: 6px; }
.b-header { font-weight: 900; font-size: 18px; line-height: 1.33; margin: 4px 0 6px; }
.b-section { margin: 4px 0 8px; word-wrap: break-word; overflow-wrap: anywhere; }
.b-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin-top: 4px; }
.b-field { min-width: 0; overflow-wrap: anywhere; }
.b-context { color: var(--muted); font-size: 12px; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 12px; }
.b-divider { border: 0; border-top: 1px solid var(--line); margin: 10px 0; }
.b-actions { display: flex; gap: 8px; margin: 6px 0; }
.b-button { border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; font-weight: 700; font-size: 13px;
            color: var(--text); text-decoration: none; }
.b-button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.b-button.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
.code { font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px; color: var(--code);
        background: #f8f8f8; border: 1px solid #e8e8e8; border-radius: 3px; padding: 1px 3px; }
.pre { font-family: Monaco, Menlo, Consolas, "Courier New", monospace; font-size: 12px; line-height: 1.5;
       background: #f8f8f8; border: 1px solid #e8e8e8; border-radius: 4px; padding: 8px; margin: 4px 0;
       white-space: pre-wrap; overflow-wrap: anywhere; }
a { color: var(--link); text-decoration: none; }
.none { padding: 4px 20px 4px 64px; color: var(--muted); font-style: italic; font-size: 14px; }
.gallery-title { margin: 36px 20px 6px; font-size: 20px; border-top: 2px solid var(--line); padding-top: 18px; }
table.summary { border-collapse: collapse; margin: 12px 20px; font-size: 13px; }
table.summary th, table.summary td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; }
table.summary td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #007a5a; font-weight: 700; } .fail { color: #e01e5a; font-weight: 700; }
.channel { border-top: 6px solid #f4ede4; margin-top: 18px; }
.edited { color: var(--muted); font-size: 12px; margin-left: 4px; }
.thread { margin: 0 20px 10px 64px; border-left: 3px solid #dddddd; padding-left: 4px; }
.thread .head { color: var(--link); font-weight: 700; font-size: 13px; padding: 4px 12px; }
.thread .msg { grid-template-columns: 28px 1fr; padding: 6px 12px; }
.thread .avatar { width: 28px; height: 28px; font-size: 11px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _message(payload: dict[str, Any], when: str, edited: int = 0) -> str:
    mark = f'<span class="edited">(edited{f" {edited}×" if edited > 1 else ""})</span>' if edited else ""
    return (f'<div class="msg"><div class="avatar">EA</div><div class="body">'
            f'<div class="meta"><span class="name">ecs-autopsy</span><span class="badge">APP</span>'
            f'<time>{_e(when)}</time>{mark}</div>{payload_html(payload)}</div></div>')


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k in ("text", "blocks")}


def _channels(outcomes: list[Outcome], when: str) -> tuple[dict[str, list[str]], dict[str, int]]:
    """channel -> HTML of its feed (scenario notes, parents with their threads), and message counts."""
    from demo.world import DEFAULT_CHANNEL

    feeds: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for o in outcomes:
        s = o.scenario
        status = "as expected" if o.ok else "NOT as expected: " + "; ".join(o.problems)
        note = (f'<div class="scenario{"" if o.ok else " fail"}" id="{_e(s.key)}"><b>{o.number}. {_e(s.title)}</b><br>'
                f"sample events/{_e(s.sample)}.json · {o.invocations} invocation{'s' if o.invocations != 1 else ''} · "
                f"{len(o.cards)} Slack post{'s' if len(o.cards) != 1 else ''} · {len(o.sns)} SNS message"
                f"{'s' if len(o.sns) != 1 else ''} · {sum(o.calls.values())} AWS calls · {o.ms:.0f} ms · {_e(status)}"
                + "".join(f"<br>{_e(n)}" for n in o.notes) + "</div>")
        parents = [m for m in o.messages if m.thread_ts is None]
        webhook = o.slack[len(o.messages):]
        if not parents and not webhook:
            f = o.finding or {}
            feeds.setdefault(DEFAULT_CHANNEL, []).extend([note, (
                f'<div class="none">Not posted to Slack ({_e(f.get("pattern", "-"))}); the SNS subscriber '
                f"got: {_e(f.get('title', '-'))}</div>")])
            continue
        for m in parents:
            replies = [r for r in o.messages if r.thread_ts == m.ts]
            html_ = [note, _message(_clean(m.current), when, len(m.edits))]
            if replies:
                html_.append(f'<div class="thread"><div class="head">{len(replies)} '
                             f'repl{"y" if len(replies) == 1 else "ies"}</div>'
                             + "".join(_message(_clean(r.current), when, len(r.edits)) for r in replies) + "</div>")
            feeds.setdefault(m.channel, []).extend(html_)
            counts[m.channel] = counts.get(m.channel, 0) + 1 + len(replies)
        for p in webhook:  # a fallback to the webhook (the token was refused)
            feeds.setdefault(DEFAULT_CHANNEL, []).extend([note, _message(_clean(p), when)])
            counts[DEFAULT_CHANNEL] = counts.get(DEFAULT_CHANNEL, 0) + 1
    return feeds, counts


def _summary_table(outcomes: list[Outcome]) -> str:
    rows = []
    for o in outcomes:
        rows.append(
            f"<tr><td>{_e(o.scenario.key)}</td><td>{_e(o.pattern)}</td><td>{_e(o.severity)}</td>"
            f'<td class="n">{len(o.cards)}</td><td class="n">{len(o.sns)}</td>'
            f'<td class="n">{sum(o.calls.values())}</td><td class="n">{o.ms:.0f}</td>'
            f'<td class="{"ok" if o.ok else "fail"}">{"ok" if o.ok else "FAIL"}</td></tr>')
    return ('<table class="summary"><thead><tr><th>scenario</th><th>pattern</th><th>severity</th><th>Slack posts</th>'
            "<th>SNS messages</th><th>AWS calls</th><th>ms</th><th>check</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def gallery(events_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(sample name, Slack payload) of every events/ sample, diagnosed offline: every card the product
    can send, one per failure type and variant."""
    from demo.cli import samples
    from shared.engine import diagnose
    from shared.inputs import load_event, load_logs, offline_evidence
    from shared.render.slack import render_slack

    out = []
    for event_path, log_path in samples(events_dir):
        finding = diagnose(offline_evidence(load_event(event_path), load_logs(log_path) if log_path else []))
        out.append((event_path.stem, render_slack(finding)))
    return out


def _gallery_html(cards: list[tuple[str, dict[str, Any]]], when: str) -> str:
    if not cards:
        return ""
    parts = [f'<h2 class="gallery-title" id="gallery">Gallery: every card ecs-autopsy can send '
             f"({len(cards)} events/ samples, diagnosed offline)</h2>"]
    for name, payload in cards:
        parts.append(f'<div class="scenario gallery-card" id="gallery-{_e(name)}"><b>{_e(name)}</b><br>'
                     f"sample events/{_e(name)}.json</div>")
        parts.append(_message(payload, when))
    return "\n".join(parts)


def render_page(outcomes: list[Outcome], meta: dict[str, Any],
                cards: list[tuple[str, dict[str, Any]]] | None = None) -> str:
    from demo.world import DEFAULT_CHANNEL, SLACK_CHANNELS

    when = time.strftime("%H:%M")
    feeds, counts = _channels(outcomes, when)
    order = [DEFAULT_CHANNEL, *[c for c in SLACK_CHANNELS if c != DEFAULT_CHANNEL],
             *[c for c in feeds if c not in SLACK_CHANNELS]]
    names = {c: SLACK_CHANNELS.get(c, c) for c in order}
    side = "".join(f'<div class="ch{" active" if c == DEFAULT_CHANNEL else ""}"># {_e(names[c])} '
                   f'<small>({counts.get(c, 0)})</small></div>' for c in order)
    sections = "".join(
        f'<section class="channel" id="ch-{_e(c)}"><div class="top"># {_e(names[c])}<small>{counts.get(c, 0)} '
        f'messages from ecs-autopsy</small></div><div class="feed">{chr(10).join(feeds.get(c, []))}</div></section>'
        for c in order)
    ok = all(o.ok for o in outcomes)
    total = sum(len(o.slack) for o in outcomes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>ecs-autopsy demo: #ecs-alerts</title>
<style>{CSS}</style>
</head>
<body>
<div class="app">
<nav class="side"><div class="ws">acme-prod</div><div class="sec">Channels</div>
<div class="ch"># general</div>{side}</nav>
<main>
<div class="top">acme-prod<small>{total} messages from ecs-autopsy · {len(outcomes)} scenarios ·
{"all as expected" if ok else "some NOT as expected"} · demo ran in {_e(meta.get("seconds", "?"))} s</small></div>
{_summary_table(outcomes)}
{sections}
<section class="channel" id="ch-gallery"><div class="feed">
{_gallery_html(cards or [], when)}
</div></section>
</main>
</div>
</body>
</html>
"""
