"""What each delivery channel would post, exactly: `renderer(fmt)` for the CLI and the demo.

    ecs-autopsy diagnose --event E.json --offline --format slack    # the webhook payload (JSON)
    ecs-autopsy diagnose --event E.json --offline --format sns      # the SNS Publish request (JSON)
    ecs-autopsy diagnose --event E.json --offline --format chatbot  # the SNS Publish request, Chatbot body

Renderers take a Finding (never Evidence) and, for the human channels, an optional `Occurrence`:
how often the same failure was seen in the current noise-control window. The channel modules are
imported lazily so that importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from shared.models.finding import Finding

FORMATS = ("slack", "sns", "chatbot")


@dataclass(frozen=True)
class Occurrence:
    """Noise-control context of one post: the same (service, pattern, key facts) seen `count` times
    in the window that started at `window_start` (epoch seconds)."""

    count: int = 1
    window_seconds: int = 900
    window_start: float | None = None
    previous_count: int = 0  # tasks seen in the previous window of the same failure
    max_posts: int | None = None  # the per-window post limit, to say why not every task is posted

    @property
    def follow_up(self) -> bool:
        return self.count > 1

    def window_text(self) -> str:
        s = self.window_seconds
        if s % 3600 == 0:
            return f"{s // 3600} h"
        if s % 60 == 0:
            return f"{s // 60} min"
        return f"{s} s"

    def line(self) -> str | None:
        """One plain sentence for the message, or None when there is nothing to say."""
        window = self.window_text()
        if self.follow_up:
            text = f"Still happening: seen {self.count} times in the last {window}."
            if self.max_posts:
                text += f" Posts about this failure are limited to {self.max_posts} per {window}."
            return text
        if self.previous_count > 1:
            return f"Seen {self.previous_count} times in the previous {window} window; this is the first of a new one."
        return None


def _publish_request(message: object) -> str:
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


def renderer(fmt: str, occurrence: Occurrence | None = None) -> Callable[[Finding], str]:
    """A function printing exactly what channel `fmt` would post for a finding (JSON text)."""
    if fmt == "slack":
        from shared.render.slack import render_slack

        return lambda f: json.dumps(render_slack(f, occurrence), indent=2, ensure_ascii=False) + "\n"
    if fmt == "sns":
        from shared.render.sns import render_sns

        return lambda f: _publish_request(render_sns(f).request())
    if fmt == "chatbot":
        from shared.render.sns import render_chatbot_publish

        return lambda f: _publish_request(render_chatbot_publish(f, occurrence).request())
    from shared.models.parse import BadInput  # a ValueError the CLI prints as one line

    raise BadInput(f"--format {fmt}: unknown format (expected text, json, markdown, {', '.join(FORMATS)})")
