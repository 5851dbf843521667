"""fix34: review23's five defects, each with near misses (redaction of path-like secrets, nginx's lower-case levels
in front of a config error, common servers' start lines, linear config-location search, Deno 2's NotCapable)."""

from __future__ import annotations

import time

import pytest

from shared.redact import redact


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
    t0 = time.perf_counter()
    for value in ("a" * 16000, "a" * 16000 + ".jsonx", "/a" * 8000 + ".jsonx", "a." * 8000 + "x"):
        assert "[REDACTED]" in redact("DB_PASSWORD=" + value)
    assert time.perf_counter() - t0 < 0.5  # a safety bound: linear takes milliseconds, the old tail 0.5 s per value
