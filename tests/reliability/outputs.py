"""Every output a Finding can leave the account in, as text to search for leaked secrets."""

from __future__ import annotations

import contextlib
import html
import importlib
import json
import re
from collections.abc import Callable

from shared.models.finding import Finding
from shared.render.markdown import render_markdown
from shared.render.text import render_text


def _channels() -> tuple[dict[str, Callable[[Finding], str]], str | None]:
    """The Slack/SNS/Chatbot renderers (shared.render.channels), or why they are missing."""
    try:
        channels = importlib.import_module("shared.render.channels")
    except ImportError as exc:
        return {}, f"shared.render.channels is not importable ({exc}); Slack/SNS/Chatbot outputs not checked"
    formats = getattr(channels, "FORMATS", ("slack", "sns", "chatbot"))
    return {fmt: channels.renderer(fmt) for fmt in formats}, None


CHANNELS, CHANNELS_MISSING = _channels()
BASE = {
    "cli-text": lambda f: render_text(f, excerpt_lines=50),
    "cli-markdown": render_markdown,
    "cli-json": lambda f: f.model_dump_json(indent=2),
}
OUTPUTS: dict[str, Callable[[Finding], str]] = {**BASE, **CHANNELS}


def render_all(finding: Finding, outputs: dict[str, Callable[[Finding], str]] = OUTPUTS) -> dict[str, str]:
    return {name: render(finding) for name, render in outputs.items()}


def _strings(value: object, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
        if value[:1] in "{[":
            with contextlib.suppress(ValueError):  # SNS messages carry JSON inside a JSON string
                _strings(json.loads(value), into)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _strings(v, into)


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def views(output: str) -> list[str]:
    """The ways a reader (or a parser) sees an output: as is, JSON strings decoded, HTML entities
    and zero-width characters removed, markdown backslashes removed, whitespace removed (a secret
    wrapped over two lines is still a leak)."""
    texts = [output]
    try:
        decoded: list[str] = []
        _strings(json.loads(output), decoded)
        texts.append("\n".join(decoded))
    except ValueError:
        pass
    out = []
    for text in texts:
        plain = _INVISIBLE.sub("", html.unescape(text))
        out += [text, plain, plain.replace("\\", ""), re.sub(r"\s+", "", plain)]
    return out


def fragments(secret: str, common: str = "") -> list[str]:
    """The secret and, for long ones, every 16-character piece of it (masking half a token is a
    leak), except pieces found in `common`, the text every finding shows anyway (a fake secret may
    share "0123456789abcdef" with a task id)."""
    pieces = [secret]
    if len(secret) > 24:
        pieces += [piece for i in range(len(secret) - 15) if (piece := secret[i:i + 16]) not in common]
    return pieces + [re.sub(r"\s+", "", p) for p in pieces if re.search(r"\s", p)]


def leaks(secret: str, rendered: dict[str, str], common: str = "") -> list[str]:
    """Names of the outputs in which some fragment of `secret` can be read."""
    found = []
    pieces = fragments(secret, common)
    for name, output in rendered.items():
        if any(piece in view for view in views(output) for piece in pieces):
            found.append(name)
    return found
