"""Review 20: rules that read too much into a line (a warning that carries on, a size limit on data, a flag after
a secret flag, a namespace package, a generic host label, a signal-handler note, a token inside a longer word).
Each test has the case that was wrong and the near miss that must keep today's behaviour."""

from __future__ import annotations

from shared import remediation as remedy
from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _app(code: int = 1, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2",
         name: str = "app") -> list[dict]:
    return [{"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image}]


# --- 1. A warning that goes on with defaults is not a missing setting ---------------------------------------------

def test_a_warning_that_goes_on_with_defaults_is_not_a_missing_setting():
    logs = ["7:C 01 May 2024 10:00:00.000 # Warning: no configuration file given, using the default settings",
            "7:M 01 May 2024 10:00:00.100 * Server initialized",
            "7:M 01 May 2024 10:00:00.200 # Fatal error loading the DB: Invalid argument. Exiting."]
    got = run(logs, containers=_app(1, "redis:7.2"))
    assert got.pattern == "app-crash"
    assert "no configuration" not in got.remediation[0] and "cannot run without" not in _fix(got), got.remediation[0]
    for carry_on in ("no host specified, defaulting to localhost", "no endpoint configured; falling back to us-east-1"):
        assert remedy.error_family(f"WARN {carry_on}") is None, carry_on
    # Near miss: the same words without a fallback still name the missing setting.
    said = remedy.error_family("FATAL: no configuration file given") or ""
    assert "no configuration file to work on" in said, said


# --- 2. A size limit on data is not a setting's length limit -------------------------------------------------------

def test_a_request_body_over_a_size_limit_is_not_a_setting_too_long():
    assert remedy.error_family("ERROR rejected: request body exceeds the maximum length of 1048576") is None
    assert remedy.error_family("payload exceeds the maximum length of 4096") is None
    # Near miss: a named setting over its limit is still the family, without the host-name note for a plain value.
    said = remedy.error_family("config error: setting cluster_label exceeds the maximum length of 32") or ""
    assert "`cluster_label`" in said and "at most 32" in said and "host name" not in said, said


def test_the_host_name_note_needs_a_value_that_is_a_host_name():
    tmpl = "'{}' is an invalid value for parameter node-id. Values must have a maximum length of 23 bytes"
    fargate = remedy.error_family(tmpl.format("0123456789abcdef0123456789abcdef-1234567890")) or ""
    assert "at most 23" in fargate and "host name" in fargate, fargate
    ec2 = remedy.error_family(tmpl.format("ip-10-0-12-34.ec2.internal")) or ""
    assert "host name" in ec2, ec2
    plain = remedy.error_family(tmpl.format("orders-transaction-manager-node")) or ""
    assert "at most 23" in plain and "host name" not in plain, plain


# --- 3. In an exec-form array, a flag after a secret flag is not its value -----------------------------------------

def test_a_flag_after_a_secret_flag_in_an_array_is_not_masked():
    from shared.redact import redact
    said = redact('"command":["pg_dump","--no-password","-U","reporter","-d","sales"]')
    assert '"--no-password","-U","reporter"' in said, said
    spaced = redact('["mysql", "--skip-password", "--host", "db"]')
    assert '"--skip-password", "--host"' in spaced, spaced
    # Near miss: a value after the flag is still masked, in the array and in the shell form.
    assert "s3cr3tValue" not in redact('["migrate","--db-password","s3cr3tValue","--verbose"]')
    assert "s3cr3tValue" not in redact("migrate --db-password s3cr3tValue --verbose")
    assert "-h" in redact("psql --no-password -h db")
