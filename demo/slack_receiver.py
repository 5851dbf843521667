"""A local stand-in for a Slack incoming webhook: a real HTTP server on 127.0.0.1, for tests and the demo.

    with SlackReceiver() as slack:                 # binds 127.0.0.1 on a free port
        slack.script(429, 500, 200)                # answers, in order (then 200 "ok")
        post_something(slack.url)
        assert len(slack.accepted) == 1            # payloads answered 200
        slack.requests                             # every request: path, headers, body, json, status

Answers: an int status (429 gets "Retry-After: 1" unless given; 5xx get a Slack-like body), or a
`Reply(status, body, headers, delay)` (`delay`: seconds to wait before answering, e.g. past the client's timeout). Like Slack, it checks payloads (`strict=True`): invalid JSON ->
400 invalid_payload; no text and no blocks -> 400 no_text; more than 50 blocks, a header over 150
characters, a section text over 3000, more than 10 fields -> 400 invalid_blocks.

It only ever binds a loopback address.

    python -m demo.slack_receiver [--port 8787] [--log posts.jsonl]
prints the webhook URL and, for every post, one JSON line (to stdout or the log file).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
_DEFAULT_BODY = {200: "ok", 400: "invalid_payload", 403: "action_prohibited", 404: "no_service",
                 410: "channel_is_archived", 429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
                 503: "service_unavailable", 504: "gateway_timeout"}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer: str = ""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def check_payload(payload: Any) -> str | None:
    """The error Slack would answer for this payload, or None."""
    if not isinstance(payload, dict):
        return "invalid_payload"
    blocks = payload.get("blocks")
    if not payload.get("text") and not blocks:
        return "no_text"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > 50:
        return "invalid_blocks"
    for b in blocks:
        if not isinstance(b, dict):
            return "invalid_blocks"
        text = b.get("text") if isinstance(b.get("text"), dict) else {}
        if b.get("type") == "header" and (text.get("type") != "plain_text" or len(text.get("text", "")) > 150):
            return "invalid_blocks"
        if b.get("type") == "section":
            if len(text.get("text", "")) > 3000 or len(b.get("fields", [])) > 10:
                return "invalid_blocks"
            if any(len(f.get("text", "")) > 2000 for f in b.get("fields", [])):
                return "invalid_blocks"
        if b.get("type") == "context" and len(b.get("elements", [])) > 10:
            return "invalid_blocks"
    return None


class SlackReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, strict: bool = True, log: Path | None = None,
                 echo: bool = False) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"SlackReceiver binds loopback addresses only, not {host}")
        self.strict = strict
        self.log = log
        self.echo = echo
        self.requests: list[Request] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"

    def script(self, *replies: int | Reply) -> None:
        """Answers for the next requests, in order; after them every request gets 200 "ok"."""
        with self._lock:
            for r in replies:
                self._script.append(r if isinstance(r, Reply) else Reply(r))

    @property
    def accepted(self) -> list[Any]:
        """Payloads Slack would have shown (answered 200)."""
        with self._lock:
            return [r.json for r in self.requests if r.status == 200]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def start(self) -> SlackReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ----------------------------------------------------------------------------------
    def _next_reply(self, payload: Any) -> Reply:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        if scripted is not None:
            return scripted
        if self.strict:
            error = check_payload(payload)
            if error:
                return Reply(400, error)
        return Reply(200)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                req = Request(self.path, dict(self.headers.items()), body)
                reply = Reply(404, "no_service") if self.path != WEBHOOK_PATH else receiver._next_reply(req.json)
                if reply.status == 200 and receiver.strict and self.path == WEBHOOK_PATH and req.json is None:
                    reply = Reply(400, "invalid_payload")
                text = reply.body if reply.body is not None else _DEFAULT_BODY.get(reply.status, "error")
                headers = dict(reply.headers)
                if reply.status == 429:
                    headers.setdefault("Retry-After", "1")
                if reply.delay:
                    time.sleep(reply.delay)
                req.status, req.answer = reply.status, text
                with receiver._lock:
                    receiver.requests.append(req)
                data = text.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (a delayed reply): nothing to answer
                    self.close_connection = True
                    return
                if receiver.log is not None or receiver.echo:
                    receiver._emit(req)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        return Handler

    def _emit(self, req: Request) -> None:
        line = json.dumps({"status": req.status, "answer": req.answer, "payload": req.json}, ensure_ascii=False)
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        else:
            print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local Slack incoming webhook that records what it receives.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", type=Path, help="append one JSON line per request here (default: stdout)")
    args = parser.parse_args(argv)
    receiver = SlackReceiver(port=args.port, log=args.log, echo=args.log is None)
    print(receiver.url, flush=True)
    try:
        receiver._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver._server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
