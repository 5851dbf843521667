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

It also answers the two Web API methods of a Slack app (bot token), under `/api/`:

    slack.api_url                              # http://127.0.0.1:PORT/api/ (WebClient's base_url)
    slack.channels = {"C0ALERTS": "alerts"}    # known channels (names resolve to ids); unknown: channel_not_found
    slack.fail_api("chat.postMessage", "not_in_channel")   # the next call of that method answers this error
    slack.messages                             # every message posted: channel, ts, thread_ts, payload, edits

`chat.postMessage` returns {"ok", "channel", "ts", "message"} and honours `thread_ts` (a reply to an
unknown ts is refused: thread_not_found); `chat.update` edits a message by (channel, ts) and keeps
every edit with its time. The bearer token must be `token` (else invalid_auth); `ratelimited`
is answered with HTTP 429 and Retry-After, as Slack does.

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


TOKEN = "xoxb-0000000000-0000000000000-localstandintoken"


@dataclass
class Message:
    channel: str
    ts: str
    payload: dict[str, Any]
    thread_ts: str | None = None
    edits: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (when, payload)

    @property
    def current(self) -> dict[str, Any]:
        return self.edits[-1][1] if self.edits else self.payload


class SlackReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, strict: bool = True, log: Path | None = None,
                 echo: bool = False, token: str = TOKEN, channels: dict[str, str] | None = None) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"SlackReceiver binds loopback addresses only, not {host}")
        self.strict = strict
        self.log = log
        self.echo = echo
        self.requests: list[Request] = []
        self._script: deque[Reply] = deque()
        self.token = token
        self.channels = channels  # id -> name; None: every channel exists
        self.messages: list[Message] = []
        self._api_errors: deque[tuple[str, str]] = deque()
        self._ts = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def fail_api(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer `error` (ratelimited: HTTP 429)."""
        with self._lock:
            self._api_errors.extend([(method, error)] * times)

    def posts(self, channel: str | None = None) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if channel is None or m.channel == channel]

    def parents(self, channel: str | None = None) -> list[Message]:
        return [m for m in self.posts(channel) if m.thread_ts is None]

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.posts() if m.thread_ts == ts]

    def _api(self, method: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON answer, headers) of one Web API call."""
        with self._lock:
            scripted = next((e for m, e in self._api_errors if m == method), None)
            if scripted is not None:
                self._api_errors.remove((method, scripted))
        if scripted == "ratelimited":
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
        if scripted is not None:
            return 200, {"ok": False, "error": scripted}, {}
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if auth != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth" if auth else "not_authed"}, {}
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            from urllib.parse import parse_qsl

            args = dict(parse_qsl(body.decode("utf-8", "replace")))
        if not isinstance(args, dict):
            return 200, {"ok": False, "error": "invalid_arguments"}, {}
        channel = self._channel(str(args.get("channel") or ""))
        if channel is None:
            return 200, {"ok": False, "error": "channel_not_found"}, {}
        payload = {k: v for k, v in args.items() if k not in ("channel", "ts", "thread_ts")}
        error = check_payload(payload) if self.strict else None
        if error:
            return 200, {"ok": False, "error": error}, {}
        with self._lock:
            if method == "chat.postMessage":
                thread = args.get("thread_ts") or None
                if thread and not any(m.ts == thread and m.channel == channel for m in self.messages):
                    return 200, {"ok": False, "error": "thread_not_found"}, {}
                self._ts += 1
                ts = f"{int(time.time())}.{self._ts:06d}"
                self.messages.append(Message(channel, ts, payload, thread))
                return 200, {"ok": True, "channel": channel, "ts": ts, "message": payload}, {}
            if method == "chat.update":
                target = next((m for m in self.messages if m.ts == args.get("ts") and m.channel == channel), None)
                if target is None:
                    return 200, {"ok": False, "error": "message_not_found"}, {}
                target.edits.append((time.monotonic(), payload))
                return 200, {"ok": True, "channel": channel, "ts": target.ts}, {}
        return 404, {"ok": False, "error": "unknown_method"}, {}

    def _channel(self, name: str) -> str | None:
        if not name:
            return None
        if self.channels is None:
            return name
        if name in self.channels:
            return name
        bare = name.lstrip("#")
        return next((cid for cid, n in self.channels.items() if n == bare), None)

    def script(self, *replies: int | Reply) -> None:
        """Answers for the next requests, in order; after them every request gets 200 "ok"."""
        with self._lock:
            for r in replies:
                self._script.append(r if isinstance(r, Reply) else Reply(r))

    @property
    def accepted(self) -> list[Any]:
        """Payloads Slack would have shown (answered 200)."""
        with self._lock:
            return [r.json for r in self.requests if r.status == 200 and not r.path.startswith("/api/")]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.messages.clear()
            self._api_errors.clear()

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
                if self.path.startswith("/api/"):
                    status, answer, extra = receiver._api(self.path[5:].split("?")[0], req.headers, body)
                    req.status, req.answer = status, json.dumps(answer)
                    with receiver._lock:
                        receiver.requests.append(req)
                    data = req.answer.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                    return
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
