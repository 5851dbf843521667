"""Every output format by name, for the CLI (offline and live): text, json, markdown, and what each
delivery channel would post (slack, sns, chatbot)."""

from __future__ import annotations

from collections.abc import Callable

from shared.models.finding import Finding


def renderer(fmt: str, colour: bool = False) -> Callable[[Finding], str]:
    if fmt == "json":
        return lambda f: f.model_dump_json(by_alias=True) + "\n"
    if fmt == "markdown":
        from shared.render.markdown import render_markdown

        return render_markdown
    if fmt == "text":
        from shared.render.text import render_text

        return lambda f: render_text(f, colour=colour)
    from shared.render import channels

    return channels.renderer(fmt)
