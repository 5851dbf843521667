"""demo-out/index.html: Slack's layout of every message, checked in headless Chromium and by its HTML.

The screenshot needs Debian's chromium (/usr/bin/chromium; .ci/run installs it). Without it that test
is skipped with the reason; the HTML tests always run.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from demo.blocks import emoji, mrkdwn_html, payload_html, payload_terminal

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


class _Classes(HTMLParser):
    """Text inside elements of the given classes, and whether any <script> or external resource appears."""

    def __init__(self, *classes: str) -> None:
        super().__init__()
        self.classes = set(classes)
        self.found: dict[str, list[str]] = {c: [] for c in classes}
        self.stack: list[str | None] = []
        self.scripts = 0
        self.external = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag in ("img", "link", "iframe") or (tag == "script" and attrs.get("src")):
            self.external += 1
        mine = next((c for c in (attrs.get("class") or "").split() if c in self.classes), None)
        if tag not in ("br", "hr", "meta", "input", "img"):
            self.stack.append(mine)
        if mine:
            self.found[mine].append("")

    def handle_endtag(self, tag):
        if tag not in ("br", "hr", "meta", "input", "img") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for c in self.stack:
            if c:
                self.found[c][-1] += data


def test_page_shows_every_slack_message_with_its_title(demo):
    page = (demo["out"] / "index.html").read_text()
    parser = _Classes("b-header", "scenario", "none")
    parser.feed(page)
    payloads = [json.loads(p.read_text()) for p in sorted((demo["out"] / "slack").glob("*.json"))]
    # every message with a header (thread replies that only say "still happening"/"recovered" have none)
    titles = [emoji(p["blocks"][0]["text"]["text"]) for p in payloads if p["blocks"][0]["type"] == "header"]
    # (the page groups messages by channel, in the order each channel first got one)
    assert sorted(parser.found["b-header"]) == sorted(titles)
    assert len(parser.found["scenario"]) == 13
    assert page.count("Changed in this deploy") >= 3  # the three deploys of a change, with their diff
    assert any("scale-in" in n or "Expected stop" in n for n in parser.found["none"])
    assert parser.scripts == 0 and parser.external == 0


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _png_distinct_bytes(data: bytes) -> int:
    """How many distinct byte values the image data holds (a blank page: a handful)."""
    pos, idat = 8, b""
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(idat)))


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt-get install chromium; "
                                                          ".ci/run installs it)")
def test_screenshot_in_headless_chromium(demo, tmp_path):
    shot = tmp_path / "index.png"
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2000",
                        f"--screenshot={shot}", (demo["out"] / "index.html").as_uri()],
                       capture_output=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert shot.exists() and shot.stat().st_size > 10_000
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 2000)
    assert _png_distinct_bytes(data) > 64  # text, code blocks, the sidebar: not a blank page

    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    blank_shot = tmp_path / "blank.png"
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2000",
                        f"--screenshot={blank_shot}", blank.as_uri()], capture_output=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert _png_distinct_bytes(blank_shot.read_bytes()) < 16  # the measure tells a blank page apart


# -- the Block Kit renderer on hostile text ---------------------------------------------------------
HOSTILE = {
    "text": "fallback",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "<script>alert(1)</script> & :red_circle:"}},
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                     "text": "*bold* _it_ `<img src=x onerror=alert(1)>` &lt;!channel&gt; "
                                             "<javascript:alert(1)|click> <https://e.example/\"onmouseover=x|ok>\n"
                                             "```\n</pre><script>x</script>\n```"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Service*\n`orders-api`", "verbatim": True}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx <!here>", "verbatim": True}]},
        {"type": "divider"},
        {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"},
                                          "url": "javascript:alert(1)"}]},
    ],
}


def test_html_escapes_everything_and_links_only_http():
    out = payload_html(HOSTILE)
    assert "<script>" not in out and "<img" not in out and "javascript:" not in out.replace(
        "&lt;javascript:alert(1)|click&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \U0001f534" in out
    assert "<b>bold</b>" in out and "<i>it</i>" in out
    assert '<code class="code">&lt;img src=x onerror=alert(1)&gt;</code>' in out
    assert 'href="https://e.example/&quot;onmouseover=x"' in out
    assert "&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;" in out
    assert '<span class="b-button">Open</span>' in out  # no link for a javascript: URL
    assert mrkdwn_html("a &amp; b &lt;c&gt;") == "a &amp; b &lt;c&gt;"  # Slack's escapes shown as characters


def test_terminal_rendering_reads_like_the_message():
    text = payload_terminal(HOSTILE, width=80)
    lines = text.splitlines()
    assert all(line.startswith("┃ ") for line in lines)
    assert lines[0] == "┃ <script>alert(1)</script> & \U0001f534"
    assert "Service: `orders-api`" in text
    assert "  ┆ </pre><script>x</script>" in text
    assert all(len(line) <= 80 for line in lines)
