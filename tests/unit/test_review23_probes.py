"""Second review of fix30 + acc24: each test is a confirmed defect, xfail until fixed (asserting the right
behaviour)."""

from __future__ import annotations

import time
from typing import Any

from shared.redact import redact
from tests.unit.helpers import run


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


def test_a_password_with_a_slash_ending_in_a_file_type_stays_masked() -> None:
    for text in ("DB_PASSWORD=Zq8/Lm2.conf", "API_TOKEN=s3cr3t-t0k3n/v2.json"):
        out = redact(text)
        assert "Lm2" not in out and "t0k3n" not in out, out


def test_an_nginx_warn_config_line_is_not_the_crash() -> None:
    got = run(['2024/01/02 10:00:00 [warn] 1#1: the "listen ... http2" directive is deprecated, use the "http2" '
               'directive instead in /etc/nginx/conf.d/default.conf:3',
               '2024/01/02 10:00:00 [emerg] 1#1: host not found in upstream "api" in '
               '/etc/nginx/conf.d/default.conf:10'])
    assert got.pattern == "app-crash" and "[emerg]" in got.facts["exception"]


def test_a_config_complaint_before_gunicorn_or_uvicorn_started_is_not_the_cause() -> None:
    for started in ("[2024-01-02 10:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)",
                    "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)"):
        got = run(['/app/config.yaml:3: unknown key "colour" ignored', started,
                   "lost connection to queue: broker unreachable, exiting"])
        assert "broker unreachable" in got.facts["exception"], started


def test_a_long_line_after_a_config_error_is_read_in_linear_time() -> None:
    t0 = time.thread_time()
    got = run(["app: /etc/app/app.conf:3: bad value for workers", "dump: " + "Zm9v/YmFy" * 1800])
    took = time.thread_time() - t0
    assert got.pattern == "app-crash" and "`/etc/app/app.conf` at line 3" in _steps(got)
    assert took < 1.5, took


def test_deno_2_not_capable_gets_the_allow_flag_step() -> None:
    got = run(['error: Uncaught (in promise) NotCapable: Requires net access to "0.0.0.0:8000", run again with the '
               '--allow-net flag', "    at listen (ext:deno_net/01_net.js:504:35)", "    at file:///app/main.ts:3:1"])
    assert "Deno runs without net access" in _steps(got)
