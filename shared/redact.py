"""Secret masking for everything that leaves the account (Slack, SNS, tickets, terminals).

Log lines and stop reasons can hold passwords, tokens and keys. Every string a Finding carries
passes through `redact` (or `redact_lines` for log excerpts, which also masks private key blocks
spread over several lines). Rules are ordered most specific first; each is guarded by a cheap
substring test so ordinary lines cost a few microseconds.

Readability matters as much: UUIDs, git SHAs, ARNs, image digests and request ids stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

MASK = "[REDACTED]"

_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|auth[_-]?token|credentials?|accountkey|sharedaccesskey|signing[_-]?key|"
    r"encryption[_-]?key|session[_-]?key|x-api-key|webhook[_-]?url|dsn"
)

# (guard substrings (lower-case), regex, replacement). The guard must appear (case-insensitively)
# for the regex to run.
_Rule = tuple[tuple[str, ...], re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _keep_key(m: re.Match[str]) -> str:
    return m.group(1) + MASK


_RULES: list[_Rule] = [
    # Private key blocks on one line.
    (("private key",), re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|$)", re.S),
     lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----{MASK}-----END {m.group(1)}PRIVATE KEY-----"),
    # Credentials in URLs and DSNs: scheme://user:password@host
    (("://",), re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s:/@\"'<>]*:)([^\s@/\"'<>]+)(@)", re.I),
     lambda m: m.group(1) + MASK + m.group(3)),
    # Slack webhook URLs.
    (("hooks.slack.com",), re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[\w/+-]+"), _keep_key),
    # JWTs (header.payload.signature).
    (("eyj",), re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # Bearer / Basic / token authorization values.
    (("bearer", "basic ", "token "), re.compile(r"\b((?:Bearer|Basic|Token|Digest)\s+)([A-Za-z0-9\-._~+/]{8,}=*)", re.I),
     _keep_key),
    # AWS access key ids and secret/session keys.
    (("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka"),
     re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}\b"), MASK),
    (("secret", "session"), re.compile(
        r"((?:aws_?)?(?:secret_?access_?key|session_?token|security_?token)[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{16,})",
        re.I), _keep_key),
    (("x-amz-",), re.compile(r"((?:X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential)=)([^&\s\"']+)", re.I),
     _keep_key),
    # Vendor tokens with recognisable prefixes.
    (("xox",), re.compile(r"\bxox[abposrce]-[A-Za-z0-9-]{10,}"), MASK),
    (("xapp-",), re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}"), MASK),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"), MASK),
    (("glpat-",), re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), MASK),
    (("sk_live", "sk_test", "rk_live", "rk_test", "pk_live", "pk_test", "whsec_"),
     re.compile(r"\b(?:[srp]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})"), MASK),
    (("aiza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), MASK),
    (("sk-",), re.compile(r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"), MASK),
    (("sg.",), re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), MASK),
    (("npm_",), re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), MASK),
    (("pypi-",), re.compile(r"\bpypi-[A-Za-z0-9_-]{50,}"), MASK),
    (("dop_v1_", "doo_v1_"), re.compile(r"\bdo[op]_v1_[a-f0-9]{64}\b"), MASK),
    (("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), MASK),
    # key=value / "key": "value" assignments whose key names a secret (not inside ARNs: `:secret:name`).
    (("pass", "pwd", "secret", "token", "key", "credential", "dsn"),
     re.compile(r"((?<![:/\w])(?!secretsmanager\b)[\w.-]*(?:" + _KEY_WORDS + r")[\w.-]*[\"']?\s*(?:=|:(?!//))\s*[\"']?)"
                r"(?![\s\"',;&}]|\[REDACTED\]|arn:|\$\{|<)([^\s\"',;&}]+)", re.I), _keep_key),
    # Connection-string style "Password=...;" (ADO.NET, JDBC properties).
    (("password", "pwd"), re.compile(r"(\b(?:Password|Pwd)\s*=\s*)([^;\s\"']+)", re.I), _keep_key),
]

_BEGIN_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_END_KEY = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def redact(text: str) -> str:
    """Mask secrets in one string."""
    if not text:
        return text
    low = text.lower()
    for guards, regex, repl in _RULES:
        if any(g in low for g in guards):
            new = regex.sub(repl, text)
            if new is not text and new != text:
                text = new
                low = text.lower()
    return text


def redact_lines(lines: Iterable[str]) -> list[str]:
    """Mask secrets in consecutive log lines, including private key blocks split over lines."""
    out: list[str] = []
    in_key = False
    for line in lines:
        if in_key:
            if _END_KEY.search(line):
                in_key = False
                out.append(redact(line[_END_KEY.search(line).start():]))  # type: ignore[union-attr]
            else:
                out.append(MASK)
            continue
        begin = _BEGIN_KEY.search(line)
        if begin and not _END_KEY.search(line, begin.end()):
            in_key = True
            out.append(redact(line[: begin.end()]) + MASK)
            continue
        out.append(redact(line))
    return out


def redact_obj(value: Any) -> Any:
    """Mask every string inside a JSON-like structure (dict keys are left alone)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_obj(v) for v in value]
    return value
