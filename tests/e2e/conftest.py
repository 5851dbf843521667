"""The demo, run once per test session the way `make demo` runs it (a subprocess), into a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def demo_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "demo", *args]


def env() -> dict[str, str]:
    """The caller's environment without AWS, ecs-autopsy or powertools settings (the demo sets its own)."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECS_AUTOPSY_", "POWERTOOLS_"))}
    out["NO_COLOR"] = "1"
    return out


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-out")
    started = time.monotonic()
    proc = subprocess.run(demo_cmd("--out", str(out), "--quiet"), cwd=ROOT, env=env(), capture_output=True,
                          text=True, timeout=240)
    seconds = time.monotonic() - started
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    return {"proc": proc, "out": out, "summary": summary, "seconds": seconds}
