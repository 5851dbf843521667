"""Redaction keeps a file's name given as a secret setting's value (where the secret is kept, not the secret): the
real corpus must not be altered (tests/reliability/test_secrets.py), and a Picard command line's
`GA4GH_CLIENT_SECRETS=client_secrets.json` was masked. Values that are not plainly file names stay masked."""

from __future__ import annotations

import pytest

from shared.redact import redact


@pytest.mark.parametrize("text", ["GA4GH_CLIENT_SECRETS=client_secrets.json", "OAUTH_CLIENT_SECRET=oauth-client.yaml",
                                  "TLS_KEY=server.pem"])
def test_a_file_name_as_a_secret_settings_value_is_kept(text):
    assert redact(text) == text


@pytest.mark.parametrize("text", ["DB_PASSWORD=hunter2.json2", "CLIENT_SECRET=a.b.c", "API_KEY=abcd1234efgh",
                                  'DB_PASSWORD="p@ss.json"', "SECRET=s3cr3t.pem.bak"])
def test_a_value_that_is_not_plainly_a_file_name_is_still_masked(text):
    assert "[REDACTED]" in redact(text)
