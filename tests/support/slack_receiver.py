"""The local Slack webhook stand-in now lives in demo/slack_receiver.py (the demo runs it outside the
tests); this module re-exports it so tests keep importing it from here.

    python -m tests.support.slack_receiver [--port 8787] [--log posts.jsonl]   (same as python -m demo.slack_receiver)
"""

from __future__ import annotations

import sys

from demo.slack_receiver import TOKEN, WEBHOOK_PATH, Message, Reply, Request, SlackReceiver, check_payload, main

__all__ = ["TOKEN", "WEBHOOK_PATH", "Message", "Reply", "Request", "SlackReceiver", "check_payload", "main"]

if __name__ == "__main__":
    sys.exit(main())
