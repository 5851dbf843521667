"""Block Kit payloads shown as Slack lays them out: in a terminal (ANSI) and in HTML.

Only what ecs-autopsy's renderer emits, and what a Slack message commonly carries, is drawn: header,
section (mrkdwn text and fields), divider, context, actions (buttons), image (as its alt text), rich
text is shown as plain text. mrkdwn: *bold*, _italic_, ~strike~, `code`, ```blocks```, <url|label>
links, :emoji: codes, and Slack's three escapes (&amp; &lt; &gt;).

Everything taken from a payload is escaped for HTML (text, labels, URLs); a link is drawn only for an
http(s) URL; a mention or a broadcast (<!channel>, <@U123>) is shown as inert text.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import Any

EMOJI = {
    "red_circle": "\U0001f534", "large_orange_circle": "\U0001f7e0", "large_blue_circle": "\U0001f535",
    "white_circle": "\u26aa", "repeat": "\U0001f501", "warning": "\u26a0\ufe0f", "white_check_mark": "\u2705",
    "x": "\u274c", "rotating_light": "\U0001f6a8", "mag": "\U0001f50d", "wrench": "\U0001f527",
    "information_source": "\u2139\ufe0f", "link": "\U0001f517",
}
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`|<([^<>|\s]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)(.+?)(?<=\S)~(?![\w~])")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def unescape(text: str) -> str:
    """Slack's escapes back to characters (only those three, as Slack defines them)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _segments(text: str) -> list[tuple[str, str, str]]:
    """(kind, text, url) pieces of a mrkdwn string: text, pre, code, link, literal."""
    out: list[tuple[str, str, str]] = []
    pos = 0
    for fence in _FENCE.finditer(text):
        out.extend(_inline_segments(text[pos:fence.start()]))
        out.append(("pre", unescape(fence.group(1).strip("\n")), ""))
        pos = fence.end()
    out.extend(_inline_segments(text[pos:]))
    return out


def _inline_segments(text: str) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(("text", unescape(text[pos:m.start()]), ""))
        if m.group(1) is not None:
            out.append(("code", unescape(m.group(1)), ""))
        else:
            target, label = unescape(m.group(2)), m.group(3)
            if target.startswith(("https://", "http://")):
                out.append(("link", unescape(label) if label else target, target))
            else:  # <!channel>, <@U123>, <#C123>: Slack would resolve them; here they stay inert text
                out.append(("text", unescape(m.group(0)), ""))
        pos = m.end()
    if pos < len(text):
        out.append(("text", unescape(text[pos:]), ""))
    return out


# -------------------------------------------------------------------------------------------------
# HTML
# -------------------------------------------------------------------------------------------------
def mrkdwn_html(text: str) -> str:
    parts: list[str] = []
    for kind, value, url in _segments(text):
        if kind == "pre":
            parts.append(f'<pre class="pre">{html.escape(value)}</pre>')
        elif kind == "code":
            parts.append(f'<code class="code">{html.escape(value)}</code>')
        elif kind == "link":
            parts.append(f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">'
                         f"{html.escape(value)}</a>")
        else:
            s = html.escape(value)
            s = _BOLD.sub(r"<b>\1</b>", s)
            s = _ITALIC.sub(r"<i>\1</i>", s)
            s = _STRIKE.sub(r"<s>\1</s>", s)
            parts.append(emoji(s).replace("\n", "<br>"))
    return "".join(parts)


def plain_html(text: str) -> str:
    return html.escape(emoji(text))


def _text_obj_html(obj: dict[str, Any]) -> str:
    text = str(obj.get("text", ""))
    return mrkdwn_html(text) if obj.get("type") == "mrkdwn" else plain_html(text)


def payload_html(payload: dict[str, Any]) -> str:
    """The message body (blocks, or the fallback text when there are none) as HTML."""
    blocks = payload.get("blocks") or []
    if not blocks:
        return f'<div class="b-section">{mrkdwn_html(str(payload.get("text", "")))}</div>'
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            out.append(f'<div class="b-header">{plain_html(str(b.get("text", {}).get("text", "")))}</div>')
        elif kind == "section":
            inner = ""
            if isinstance(b.get("text"), dict):
                inner += f'<div class="b-text">{_text_obj_html(b["text"])}</div>'
            if b.get("fields"):
                cells = "".join(f'<div class="b-field">{_text_obj_html(f)}</div>' for f in b["fields"])
                inner += f'<div class="b-fields">{cells}</div>'
            out.append(f'<div class="b-section">{inner}</div>')
        elif kind == "divider":
            out.append('<hr class="b-divider">')
        elif kind == "context":
            items = []
            for el in b.get("elements") or []:
                if el.get("type") == "image":
                    items.append(f'<span class="b-ctx-item">[{html.escape(str(el.get("alt_text", "image")))}]</span>')
                else:
                    items.append(f'<span class="b-ctx-item">{_text_obj_html(el)}</span>')
            out.append(f'<div class="b-context">{"".join(items)}</div>')
        elif kind == "actions":
            buttons = []
            for el in b.get("elements") or []:
                label = plain_html(str((el.get("text") or {}).get("text", "")))
                style = " primary" if el.get("style") == "primary" else " danger" if el.get("style") == "danger" else ""
                url = str(el.get("url") or "")
                if url.startswith(("https://", "http://")):
                    buttons.append(f'<a class="b-button{style}" href="{html.escape(url, quote=True)}">{label}</a>')
                else:
                    buttons.append(f'<span class="b-button{style}">{label}</span>')
            out.append(f'<div class="b-actions">{"".join(buttons)}</div>')
        elif kind == "image":
            out.append(f'<div class="b-image">[{html.escape(str(b.get("alt_text", "image")))}]</div>')
        else:
            out.append(f'<div class="b-unknown">{html.escape(str(kind))} block</div>')
    return "\n".join(out)


# -------------------------------------------------------------------------------------------------
# Terminal
# -------------------------------------------------------------------------------------------------
def _ansi(on: bool, code: str, text: str, off: str = "0") -> str:
    return f"\x1b[{code}m{text}\x1b[{off}m" if on and text else text


def mrkdwn_terminal(text: str, colour: bool) -> list[str]:
    """mrkdwn as terminal lines (code blocks as indented, dimmed lines)."""
    lines: list[str] = [""]
    for kind, value, _url in _segments(text):
        if kind == "pre":
            body = value.splitlines() or [""]
            if lines[-1] == "":
                lines.pop()
            lines.extend(_ansi(colour, "2", "  ┆ ", "22") + _ansi(colour, "36", line, "39") for line in body)
            lines.append("")
            continue
        if kind == "code":
            s = _ansi(colour, "36", value, "39") if colour else f"`{value}`"
        elif kind == "link":
            s = _ansi(colour, "4", value, "24")
        else:
            s = value
            if colour:
                s = _BOLD.sub(lambda m: _ansi(True, "1", m.group(1), "22"), s)
                s = _ITALIC.sub(lambda m: _ansi(True, "3", m.group(1), "23"), s)
            else:
                s = _BOLD.sub(r"\1", s)
                s = _ITALIC.sub(r"\1", s)
            s = emoji(s)
        chunks = s.split("\n")
        lines[-1] += chunks[0]
        lines.extend(chunks[1:])
    while len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def wrap(line: str, width: int) -> list[str]:
    """Word-wrap a line that may hold ANSI codes, counting only visible characters."""
    if visible_len(line) <= width:
        return [line]
    if "\x1b" not in line:
        return textwrap.wrap(line, width, break_long_words=True, break_on_hyphens=False) or [""]
    out, current, used = [], "", 0
    for word in line.split(" "):
        n = visible_len(word)
        if current and used + 1 + n > width:
            out.append(current)
            current, used = word, n
        else:
            current = f"{current} {word}" if current else word
            used += (1 if used else 0) + n
    out.append(current)
    return out


def payload_terminal(payload: dict[str, Any], *, width: int = 100, colour: bool = False,
                     code_lines: int = 8) -> str:
    """The message as it would read in Slack, for a terminal, with a bar on its left."""
    bar = _ansi(colour, "35", "┃") + " "
    inner = width - 2
    body: list[str] = []

    def text_lines(obj: dict[str, Any]) -> list[str]:
        text = str(obj.get("text", ""))
        if obj.get("type") == "mrkdwn":
            return mrkdwn_terminal(text, colour)
        return [emoji(text)]

    blocks = payload.get("blocks") or [{"type": "section", "text": {"type": "mrkdwn", "text": payload.get("text", "")}}]
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            body.append(_ansi(colour, "1", emoji(str(b.get("text", {}).get("text", "")))))
        elif kind == "section":
            if isinstance(b.get("text"), dict):
                lines = text_lines(b["text"])
                pre = [i for i, line in enumerate(lines) if "┆" in line]
                if len(pre) > code_lines:  # a long excerpt: its last lines, as the eye reads them
                    drop = set(pre[: len(pre) - code_lines])
                    lines = [line for i, line in enumerate(lines) if i not in drop]
                    lines.insert(pre[0], _ansi(colour, "2", f"  ┆ … {len(drop)} earlier lines in Slack"))
                body.extend(lines)
            fields = b.get("fields") or []
            cells = []
            for f in fields:
                lines = text_lines(f)
                label = lines[0] if lines else ""
                value = " ".join(x.strip() for x in lines[1:])
                cells.append(f"{label}: {value}" if value else label)
            half = inner // 2
            for i in range(0, len(cells), 2):
                left = cells[i]
                right = cells[i + 1] if i + 1 < len(cells) else ""
                if right and visible_len(left) < half - 1 and visible_len(right) <= half:
                    body.append(left + " " * (half - visible_len(left)) + right)
                else:
                    body.append(left)
                    if right:
                        body.append(right)
            body.append("")
        elif kind == "divider":
            body.append(_ansi(colour, "2", "─" * min(inner, 60)))
        elif kind == "context":
            parts = [" ".join(text_lines(el)) if el.get("type") != "image" else f"[{el.get('alt_text', 'image')}]"
                     for el in b.get("elements") or []]
            body.append(_ansi(colour, "2", "  ·  ".join(parts)))
        elif kind == "actions":
            body.append("  ".join(f"[ {(el.get('text') or {}).get('text', '')} ]" for el in b.get("elements") or []))
        elif kind == "image":
            body.append(f"[{b.get('alt_text', 'image')}]")
    while body and body[-1] == "":
        body.pop()
    out = []
    for line in body:
        for piece in wrap(line, inner):
            out.append(bar + piece)
    return "\n".join(out)
