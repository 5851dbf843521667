"""Secret masking for everything that leaves the account (Slack, SNS, tickets, terminals).

Log lines and stop reasons can hold passwords, tokens and keys. Every string a Finding carries
passes through `redact` (or `redact_lines` for log excerpts, which also masks private key blocks
spread over several lines). Rules are ordered most specific first; each is guarded by a cheap
substring test so ordinary lines cost a few microseconds.

Readability matters as much: UUIDs, git SHAs, ARNs, image digests and request ids stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate
from typing import Any

from shared.scan import NeedleSet

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
    (("private key",), re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|$)", re.S),
     lambda m: f"-----BEGIN {m.group(1)}PRIVATE KEY-----{MASK}{m.group(2)}"),
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
        for g in guards:
            if g in low:
                new = regex.sub(repl, text)
                if new != text:
                    text = new
                    low = text.lower()
                break
    return text


def redact_many(strings: list[str]) -> list[str]:
    """Mask secrets in many strings; one scan finds the few that need a closer look."""
    if not strings:
        return strings
    joined = "\x00".join(strings).lower()
    starts = [0, *accumulate(len(s) + 1 for s in strings)]
    out = list(strings)
    for i in _GUARDS.segments_hit(joined, starts):
        out[i] = redact(out[i])
    return out


def redact_lines(lines: Iterable[str]) -> list[str]:
    """Mask secrets in consecutive log lines, including private key blocks split over lines."""
    lines = list(lines)
    if any("PRIVATE KEY-----" in line for line in lines):
        lines = _mask_key_blocks(lines)
    return redact_many(lines)


def _mask_key_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_key = False
    for line in lines:
        if in_key:
            end = _END_KEY.search(line)
            if end:
                in_key = False
                out.append(line[end.start():])
            else:
                out.append(MASK)
            continue
        begin = _BEGIN_KEY.search(line)
        if begin and not _END_KEY.search(line, begin.end()):
            in_key = True
            out.append(line[: begin.end()] + MASK)
            continue
        out.append(line)
    return out


def redact_obj(value: Any) -> Any:
    """Mask every string inside a JSON-like structure (dict keys are left alone)."""
    strings: list[str] = []
    _collect(value, strings)
    if not strings:
        return value
    masked = iter(redact_many(strings))
    return _rebuild(value, masked)


def _collect(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _collect(v, out)


def _rebuild(value: Any, masked: Iterator[str]) -> Any:
    if isinstance(value, str):
        return next(masked)
    if isinstance(value, dict):
        return {k: _rebuild(v, masked) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rebuild(v, masked) for v in value]
    return value


_GUARDS = NeedleSet(g for guards, _, _ in _RULES for g in guards)
