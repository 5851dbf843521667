"""fix34: review23's five defects, each with near misses (redaction of path-like secrets, nginx's lower-case levels
in front of a config error, common servers' start lines, linear config-location search, Deno 2's NotCapable)."""

from __future__ import annotations

import time

import pytest

from shared.redact import redact
from tests.unit.helpers import run


@pytest.mark.parametrize("text", ["DB_PASSWORD=Zq8/Lm2.conf", "API_TOKEN=s3cr3t-t0k3n/v2.json",
                                  "CLIENT_SECRET=ab/cd/ef.yaml", "DB_PASSWORD=123.json", "DB_PASSWORD=x.json.bak",
                                  "API_KEY=a..json"])
def test_a_secret_that_is_not_plainly_a_file_name_is_masked(text: str) -> None:
    key = text.split("=", 1)[0]
    assert redact(text) == f"{key}=[REDACTED]"


@pytest.mark.parametrize("text", ["GA4GH_CLIENT_SECRETS=client_secrets.json", "DB_PASSWORD_FILE=db.pass.txt",
                                  "GOOGLE_APPLICATION_CREDENTIALS=/app/creds/sa.json", "TLS_KEY=./certs/tls.pem",
                                  "SECRETS=../conf/app.secrets.yaml", "API_TOKEN=~/tokens/ci-token.json",
                                  "KEYSTORE_PASSWORD=keystore-2024.p12"])
def test_a_plain_file_name_or_marked_path_is_kept(text: str) -> None:
    assert redact(text) == text


def test_a_long_value_is_checked_for_a_file_name_in_linear_time() -> None:
    t0 = time.thread_time()
    for value in ("a" * 16000, "a" * 16000 + ".jsonx", "/a" * 8000 + ".jsonx", "a." * 8000 + "x"):
        assert "[REDACTED]" in redact("DB_PASSWORD=" + value)
    assert time.thread_time() - t0 < 0.5  # a safety bound: linear takes milliseconds, the old tail 0.5 s per value


_NGINX_EMERG = '2024/01/02 10:00:00 [emerg] 1#1: unknown directive "gzip_foo" in /etc/nginx/conf.d/default.conf:12'


@pytest.mark.parametrize("level", ["warn", "notice", "info", "debug"])
def test_a_lower_case_bracket_level_below_error_on_a_config_line_is_not_the_crash(level: str) -> None:
    got = run([f"2024/01/02 10:00:00 [{level}] 1#1: something about /etc/nginx/nginx.conf:3", _NGINX_EMERG])
    assert got.pattern == "app-crash" and "[emerg]" in got.facts["exception"]


def test_a_lower_case_bracket_error_on_a_config_line_is_still_the_crash() -> None:
    # the near miss: "[error]" is a level that counts, and the earliest config error of the tail wins
    got = run(["2024/01/02 10:00:00 [error] 1#1: bad value in /etc/nginx/nginx.conf:3", _NGINX_EMERG])
    assert "[error]" in got.facts["exception"] and "nginx.conf:3" in got.facts["exception"]


_COMPLAINT = '/app/config.yaml:3: unknown key "colour" ignored'
_LATER = "lost connection to queue: broker unreachable, exiting"


@pytest.mark.parametrize("started", ["[2024-01-02 10:00:00 +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)",
                                     "[2024-01-02 10:00:00 +0000] [1] [INFO] Listening at: unix:/tmp/gunicorn.sock (1)",
                                     "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
                                     " * Running on http://127.0.0.1:5000", "* Listening on http://0.0.0.0:3000",
                                     "      Now listening on: http://[::]:8080", "Server started on port 3000"])
def test_a_common_server_start_line_clears_a_config_complaint_above_it(started: str) -> None:
    assert _LATER in run([_COMPLAINT, started, _LATER]).facts["exception"]


@pytest.mark.parametrize("not_started", ["INFO:     Started server process [1]",
                                         "INFO:     Waiting for application startup.",
                                         "could not reach the api running on http://api:8080"])
def test_a_line_before_the_app_has_started_does_not_clear_a_config_complaint(not_started: str) -> None:
    # uvicorn starts its process before the app's own start-up, which can still fail on the config
    assert "config.yaml:3" in run([_COMPLAINT, not_started, _LATER]).facts["exception"]


def _steps(lines: list[str]) -> str:
    return " ".join(run(lines).remediation)


@pytest.mark.parametrize("line", ["dump: " + "Zm9v/YmFy" * 1800, "dump: " + "a.b/" * 4000, "a/" * 8000,
                                  "x=" + "a-b.c" * 3000, "k " * 8000])
def test_a_long_line_after_a_config_error_is_read_in_linear_time(line: str) -> None:
    t0 = time.thread_time()
    got = run(["app: /etc/app/app.conf:3: bad value for workers", line])
    assert "`/etc/app/app.conf` at line 3" in " ".join(got.remediation)
    assert time.thread_time() - t0 < 1.5  # a generous safety bound: the old search took seconds on such a line


@pytest.mark.parametrize("line", ["parsing [/etc/haproxy/haproxy.cfg:8] : unknown keyword 'bind2'",
                                  'error: "/etc/app/app.yaml" at line 8: unknown field'])
def test_a_config_file_after_a_bracket_or_quote_is_still_found(line: str) -> None:
    assert "at line 8" in _steps([line])


def test_a_config_name_inside_a_url_is_no_config_line() -> None:
    # the near miss of the separator anchor: "host/x.json:8080" is a URL's path and port, not a file at a line
    assert "at line 8080" not in _steps(["fatal: cannot fetch http://host/x.json:8080 : connection refused"])


@pytest.mark.parametrize("kind", ["NotCapable", "PermissionDenied"])
def test_deno_not_capable_and_permission_denied_get_the_allow_flag_step(kind: str) -> None:
    steps = _steps([f'error: Uncaught (in promise) {kind}: Requires env access to "API_KEY", run again with the '
                    "--allow-env flag", "    at file:///app/main.ts:3:1"])
    assert "Deno runs without env access" in steps and "`--allow-env=API_KEY`" in steps


def test_a_not_capable_error_without_the_flag_wording_gets_no_flag_step() -> None:
    # the near miss: another runtime's "NotCapable" error that names no --allow flag is no Deno permission error
    steps = _steps(["error: Uncaught NotCapable: device lacks the feature", "    at file:///app/main.ts:3:1"])
    assert "Deno runs without" not in steps


def test_a_caddyfile_under_a_directory_is_named_by_its_whole_path() -> None:
    # the separator anchor of remediation._CONFIG_AT_LINE: a Caddyfile/Corefile-style name after its directories
    # is found with them (it was found alone, mid-path, before)
    steps = _steps(["run: adapting config using caddyfile: /etc/caddy/Caddyfile:5: unrecognized global option: x"])
    assert "/etc/caddy/Caddyfile" in steps and "at line 5" in steps
