"""Secret masking for everything that leaves the account (Slack, SNS, tickets, terminals).

Log lines and stop reasons can hold passwords, tokens and keys. Every string a Finding carries
passes through `redact` (or `redact_lines` for log excerpts, which also masks private key blocks
spread over several lines, or `redact_obj` for a whole structure).

Design (figures printed by tests/reliability/test_secrets.py):
- Rules are regexes, each guarded by lower-case substrings: a rule's regex only runs on a string
  holding one of its guards. All the guards of all the rules are looked up in ONE pass over all
  the strings of a call (an Aho-Corasick automaton, `ahocorasick_rs`), so the cost for ordinary
  text is one pass plus the few rules whose guards occur; strings without any guard are returned
  untouched. Without `ahocorasick_rs` each guard is looked up with str.find (same result, several
  times slower on a 50-line excerpt).
- `key=value` / `"key": "value"` assignments are found from the secret-naming word outwards
  (`password`, `token`, `api_key`, ...), never by trying a regex at every position: the cost stays
  linear in the text even for a 1 MB stop reason.
- Readability matters as much as masking: UUIDs, git SHAs, ARNs, image digests and request ids
  stay as they are, and so does what a diagnosis quotes: IAM actions (`secretsmanager:GetSecretValue`),
  secret ARNs and names (`SecretId=prod/db`), env var NAMES (`KeyError: 'DB_PASSWORD'`) and
  messages such as `password authentication failed for user "x"`.

Yelp's detect-secrets was measured as the detector (tests/reliability/eval_detect_secrets.py) and
not adopted: 250-300 ms to import and ~1.9 ms per line with its default plugins (the budget is
well under 100 µs per finding), which change 86 % of the ordinary lines (entropy plugins: git
SHAs, digests, request ids); without the entropy and IP plugins, 0.3 ms per line and 27 of the
91 formats masked. These rules: ~7 µs per line, 0 false positives, 91/91.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import compress, count
from operator import itemgetter, not_
from typing import Any

from shared.scan import lazy_re

try:  # one pass for all guards; optional: the fallback gives the same result, only slower
    from ahocorasick_rs import BytesAhoCorasick
except ImportError:  # pragma: no cover - the fallback is exercised by a test that hides the automaton
    _HAVE_AUTOMATON = False  # BytesAhoCorasick stays unbound; only used when _HAVE_AUTOMATON
else:
    _HAVE_AUTOMATON = True

MASK = "[REDACTED]"

# (guard substrings (lower-case), regex, replacement). The regex runs only when a guard occurs
# in the lower-cased text.
_Rule = tuple[tuple[str, ...], re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _keep_key(m: re.Match[str]) -> str:
    return m.group(1) + MASK


def _private_key(m: re.Match[str]) -> str:
    kind, block = m.group(1), m.group(2) or ""
    return f"-----BEGIN {kind}PRIVATE KEY{block}-----{MASK}-----END {kind}PRIVATE KEY{block}-----"


def _basic(m: re.Match[str]) -> str:
    """`Basic <base64 of user:password>`; plain prose ("Basic authentication") is left alone."""
    value = m.group(2)
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return m.group(0)
    return m.group(1) + MASK if b":" in decoded else m.group(0)


def _bearer(m: re.Match[str]) -> str:
    """`Bearer <token>` outside an Authorization header: the value must look like a token
    (a digit, or mixed case and 16+ characters) so that prose ("bearer authentication") stays."""
    value = m.group(2)
    if any(c.isdigit() for c in value) or (len(value) >= 16 and not value.islower() and not value.isupper()):
        return m.group(1) + MASK
    return m.group(0)


_COOKIE_SECRET = lazy_re(r"sess|sid|token|auth|jwt|csrf|xsrf|remember|login|secret|key|pass", re.I)


def _cookie(m: re.Match[str]) -> str:
    """Cookie headers: mask the values of session/auth cookies, keep `locale=en-GB; Path=/`."""
    parts = []
    for part in m.group(2).split(";"):
        name, eq, value = part.partition("=")
        if eq and value and _COOKIE_SECRET.search(name):
            part = f"{name}={MASK}"
        parts.append(part)
    return m.group(1) + ";".join(parts)


# `--secret-string "$DATABASE_URL"`: a reference to a shell variable, not the value
_SHELL_VAR = lazy_re(r"[\"']?\$\{?[A-Za-z_]\w*\}?[\"']?")


def _flag(m: re.Match[str]) -> str:
    """`--db-password VALUE`; `--password via the CLI is insecure`, `--password-file x` and `--secret-string
    "$VAR"` stay."""
    if _secret_key(m.group(2)) and _value(m.group(3)) and not _PROSE.match(m.string, m.start(3)) \
            and not _SHELL_VAR.fullmatch(m.group(3)):
        return m.group(1) + MASK
    return m.group(0)


# Documentation placeholders in example URLs ("ecto://USER:PASS@HOST/DB") are not secrets.
_PLACEHOLDER = lazy_re(r"[A-Z_]*(?:PASS|PASSWORD|PWD|SECRET)[A-Z_]*|<[^<>]*>|\$\{?\w+\}?|\{\w+\}|\*+|x{3,}")

_RULES: list[_Rule] = [
    # Private key blocks on one line (PEM, OpenSSH, PGP; also JSON-escaped "\n" inside).
    (("private key",),
     lazy_re(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(?:-----END \1PRIVATE KEY\2-----|$)", re.S),
     _private_key),
    # Credentials in URLs and DSNs: scheme://user:password@host (the password may hold '@').
    (("://",), lazy_re(r"(://[^\s:/@\"'<>]*:)([^\s/\"'<>]+)(@)"),
     lambda m: m.group(0) if _PLACEHOLDER.fullmatch(m.group(2)) else m.group(1) + MASK + m.group(3)),
    # Go MySQL DSN: user:password@tcp(host:3306)/db
    (("@tcp(", "@unix("), lazy_re(r"\b([\w.-]+:)([^\s@/\"']+)(@(?:tcp|unix)\()"),
     lambda m: m.group(1) + MASK + m.group(3)),
    # Oracle thin URLs: jdbc:oracle:thin:user/password@//host:1521/SID
    (("jdbc:oracle",), lazy_re(r"(jdbc:oracle:[a-z]+:[^/\s@:]+/)([^@\s]+)(@)", re.I),
     lambda m: m.group(1) + MASK + m.group(3)),
    # Webhook URLs whose path is the credential.
    # Slack webhook paths (T.../B.../token); a reporter's placeholder word ("private-webhook-url") stays.
    (("hooks.slack.com",), lazy_re(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)"
                                      r"(?![a-z]+(?:-[a-z]+)*(?![\w/+-]))[\w/+-]+"), _keep_key),
    (("discord",), lazy_re(r"(discord(?:app)?\.com/api/webhooks/\d+/)[\w-]+"), _keep_key),
    # JWTs (header.payload.signature).
    (("eyj",), lazy_re(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # Authorization headers: everything after the scheme; without a scheme, anything but prose (a word
    # followed by more words: "may require authorization: server message: insufficient_scope"). Not a
    # namespace: "ActionDispatch::HostAuthorization::DefaultResponseApp".
    (("authorization",), lazy_re(
        r"(authorization[\"']?\s*[:=](?!:)\s*[\"']?(?:(?:Bearer|Basic|Token|Digest|SSWS|Negotiate|NTLM|ApiKey|Key|"
        r"AWS4-HMAC-SHA256|OAuth)\s+|(?!(?-i:[a-z]{1,15}) (?-i:[a-z]))))"
        r"(?!\[REDACTED\])([^\s\"'\\]+)", re.I), _keep_key),
    (("bearer",), lazy_re(r"\b(Bearer\s+)(?!\[REDACTED\])([A-Za-z0-9\-._~+/]{8,}=*)", re.I), _bearer),
    (("basic ",), lazy_re(r"\b(Basic\s+)([A-Za-z0-9+/]{8,}=*)", re.I), _basic),
    # Cookies.
    (("cookie",), lazy_re(r"(\b(?:Set-)?Cookie[\"']?\s*[:=]\s*[\"']?)([^\r\n\"']+)", re.I), _cookie),
    # AWS access key ids (not the AROA/AIDA unique ids IAM errors quote), STS session tokens,
    # presigned-URL and SigV4 parts.
    (("akia", "asia", "abia", "acca", "a3t"), lazy_re(r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), MASK),
    (("fwogzxivyxdz", "iqojb3jpz2lux2vj"), lazy_re(r"\b(?:FwoGZXIvYXdz|IQoJb3JpZ2luX2Vj)[A-Za-z0-9/+=%]{20,}"), MASK),
    (("x-amz-", "signature="),
     lazy_re(r"((?:X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential|Signature)=)([^&\s\"',]+)", re.I),
     _keep_key),
    # Azure SAS signatures.
    (("sig=",), lazy_re(r"([?&]sig=)([^&\s\"']+)"), _keep_key),
    # Vendor tokens with recognisable prefixes.
    (("xox",), lazy_re(r"\bxox[abposrce]-[A-Za-z0-9-]{10,}"), MASK),
    (("xapp-",), lazy_re(r"\bxapp-\d-[A-Za-z0-9-]{10,}"), MASK),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     lazy_re(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"), MASK),
    (("glpat-",), lazy_re(r"\bglpat-[A-Za-z0-9_-]{20,}"), MASK),
    (("sk_live", "sk_test", "rk_live", "rk_test", "whsec_"),
     lazy_re(r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})"), MASK),
    (("aiza",), lazy_re(r"\bAIza[0-9A-Za-z_-]{35}"), MASK),
    (("gocspx-",), lazy_re(r"\bGOCSPX-[A-Za-z0-9_-]{20,}"), MASK),
    # OpenAI / Anthropic: named project/admin keys, and legacy keys with "T3BlbkFJ" ("OpenAI") inside.
    (("sk-proj-", "sk-ant-", "sk-svcacct-", "sk-admin-", "t3blbkfj"),
     lazy_re(r"\bsk-(?:(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]*T3BlbkFJ[A-Za-z0-9_-]+)"), MASK),
    (("sg.",), lazy_re(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), MASK),
    (("npm_",), lazy_re(r"\bnpm_[A-Za-z0-9]{36}\b"), MASK),
    (("pypi-",), lazy_re(r"\bpypi-[A-Za-z0-9_-]{50,}"), MASK),
    (("dop_v1_", "doo_v1_"), lazy_re(r"\bdo[op]_v1_[a-f0-9]{64}\b"), MASK),
    (("hf_",), lazy_re(r"\bhf_[A-Za-z0-9]{30,}\b"), MASK),
    (("key-",), lazy_re(r"\bkey-[0-9a-z]{32}\b"), MASK),
    ((":aa",), lazy_re(r"\b\d{8,10}:AA[0-9A-Za-z_-]{30,}"), MASK),
    (("hvs.", "hvb."), lazy_re(r"\bhv[sb]\.[A-Za-z0-9_-]{20,}"), MASK),
    (("shpat_", "shpss_", "shpca_"), lazy_re(r"\bshp(?:at|ss|ca)_[a-fA-F0-9]{32}\b"), MASK),
    # netrc lines and command-line flags: `login x password y`, `--password y`.
    (("machine",), lazy_re(r"(\bmachine\s+\S+\s+login\s+\S+\s+password\s+)(\S+)"), _keep_key),
    (("-password", "-passwd", "-secret", "-token", "-api-key"),
     lazy_re(r"((?<![\w-])(--?[\w-]*(?:password|passwd|secret|token|api-key)[\w-]*)[ \t]+)(?![-\[])(\S+)", re.I),
     _flag),
    # The same flag as a JSON/exec-form array item: ["migrate", "--password", "VALUE"] (a task's command override).
    # As in the shell form, a next item that is itself a flag ("--no-password", "-h") is not the value.
    (("-password", "-passwd", "-secret", "-token", "-api-key"),
     lazy_re(r"((?<![\w-])\"(--?[\w-]*(?:password|passwd|secret|token|api-key)[\w-]*)\"\s*,\s*\")(?!-)"
             r"((?:[^\"\\]|\\.)+)",
             re.I),
     _flag),
    # ECS/K8s environment JSON: {"name": "DB_PASSWORD", "value": "..."}
    (('"value"',), lazy_re(
        r"(\"name\"\s*:\s*\"[^\"]*(?:pass|pwd|secret|token|key|credential|auth)[^\"]*\"\s*,\s*\"value\"\s*:\s*\")"
        r"((?:[^\"\\]|\\.)+)", re.I), _keep_key),
]

# --- key=value / "key": "value" assignments whose key names a secret --------------------------
# Found from the secret word outwards (see module docstring): the guard pass gives the positions of
# the secret words, `_ASSIGNMENT` reads the whole key and its value, `_secret_key` decides on the key.
_KW_GUARDS = ("pass", "pwd", "secret", "token", "key", "credential", "dsn", "webhook", "auth")
_ASSIGNMENT = lazy_re(
    r"([\w.-]+)((?:\\?[\"'])?[ \t]*(?:=|:(?!//))[ \t]*)"  # key, separator (JSON, escaped JSON, YAML, env)
    r"(?:\\([\"'])((?:(?!\\\3).)*)"                       # \"escaped-quoted\" value
    r"|([\"'`])((?:\\.|(?!\5)[^\\\r\n])*)"                # "quoted" value (may be cut off at the end)
    r"|([^\s\"'\\,;&}\])]+))")                            # bare value
_KEY_CONTAINS = lazy_re(
    r"passw|passphrase|(?<![a-z])pass(?:_|$)|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|app[_-]?key|"
    r"license[_-]?key|master[_-]?key|accountkey|account_key|signing[_-]?key|encryption[_-]?key|session[_-]?key|"
    r"credential|dsn|webhook[_-]?url|auth[_-]?token|authkey|auth[_-]?key", re.I)
_KEY_EXACT = frozenset({"pass", "pw", "passwd", "auth", "_auth"})  # not bare "key": S3 and cache keys
# Keys that describe a secret without holding it (`secret_name`, `password_file`, `SecretId`,
# `token_type`, `max_tokens`, `token_endpoint`) and exception class names (`NoCredentialsError: ...`).
# Matched on the key in snake case (camelCase split first).
_KEY_NOT_SECRET = lazy_re(
    r"(?:^|[_.\-])(?:names?|ids?|arns?|files?|paths?|types?|counts?|ttl|expiry|expires(?:_at|_in)?|expiration|"
    r"length|len|versions?|uri|urls?|endpoint|issuer|header|provider|source|policy|rotation|enabled|required|set|"
    r"present|errors?|exception|warning|manager|store|ref|hint|prefix|suffix|fingerprint|kind|format|mode|usage|"
    r"location|region|status|at|timeout|interval|duration|method|algorithm|stdin)$|tokens$|^secretsmanager$"
    r"|^public_"  # public keys and .NET PublicKeyToken are not secrets
    # a file or script named after a secret (`01-check-apikey.sh: executing...`) is a name, not a key
    r"|\.(?:sh|bash|py|js|mjs|cjs|ts|rb|go|php|pl|ps1|bat|cmd|exe|jar|conf|cfg|ini|ya?ml|json|toml|txt|log)$")
_CAMEL = lazy_re(r"(?<=[a-z0-9])(?=[A-Z])")
_VALUE_NOT_SECRET = frozenset({
    "", "true", "false", "null", "none", "nil", "undefined", "not", "missing", "required", "empty", "unset", "is",
    "was", "no", "yes", "set", "ok", "expired", "invalid", "valid", "found", "provided", "present", "absent",
    "revoked", "rotated", "refreshed", "denied", "failed", "error", "***", "****", "*****", "<redacted>", "redacted",
    "hidden", "masked", "(none)", "<nil>", "-",
    # Go's net/http errors: `failed to fetch anonymous token: Get "https://auth.docker.io/token?...": ...`
    "get", "post", "put", "head", "patch", "delete",
})
_NOT_A_VALUE = ("arn:", "[", "{", "${", "<", "%(", "$(")  # ARNs, masked, structures, placeholders
# A dotted call or subscript is source code, not a value: `SECRET_KEY = os.environ['...']`, `token =
# settings.get_token(name)` (the bare value stops at the quote or the closing bracket, which must follow).
_CODE = lazy_re(r"(?:(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*|getenv|environ|ENV|env)[\[(][\w.]*")
# `bin/rails credentials:edit`, `rake secrets:show`: a task of the credentials/secrets namespace.
_TASK_KEYS = frozenset({"credentials", "secrets"})
_TASK_VERBS = frozenset({"edit", "show", "diff", "list", "rotate", "create", "delete", "generate", "fetch", "pull"})
_PROSE = lazy_re(r"[A-Za-z]+ [a-z]")  # `credentials: using role ...` is a sentence, not a value
# A command in backticks after a secret word (a fix step: "the credentials: `aws ecs describe-task-definition
# ...`"): a program and its subcommand or option, not a secret. A secret in backticks has no such shape.
_COMMAND = lazy_re(r"(?:aws|docker|kubectl|curl|psql|mysql|redis-cli|sudo|openssl|git|npm|pip3?|sh|bash)"
                      r" (?:[a-z][\w-]* |--?[a-z])")
_MAX_KEY = 128
_WORD_END = lazy_re(r"[\w.-]*")
_SEPARATOR_START = frozenset("\"'\\ \t=:")


def _secret_key(key: str, separator: str = "=") -> bool:
    """Does `key` name a secret? Bare words (`auth`, `key`) only as a quoted key or before `=`,
    so that prose such as "registry auth: execution failed" stays readable."""
    return _secret_key_cached(key, "=" in separator or separator[:1] in "\"'\\")


@lru_cache(maxsize=4096)  # keys repeat (KeyError, secretsmanager, DB_PASSWORD): decide each once
def _secret_key_cached(key: str, assigned: bool) -> bool:
    k = key.strip("\"'").lstrip("-")
    snake = _CAMEL.sub("_", k).lower()
    if snake.endswith(("webhook_url", "webhookurl")):
        return True
    if _KEY_NOT_SECRET.search(snake):
        return False
    if snake in _KEY_EXACT:
        return assigned
    return _KEY_CONTAINS.search(snake) is not None


# A file's name or path as the value (`GA4GH_CLIENT_SECRETS=client_secrets.json`,
# `GOOGLE_APPLICATION_CREDENTIALS=/app/creds/sa.json`; `--password-file db.pass.txt` is not this: its key already says
# file): where the secret is kept, not the secret. Only two shapes count: a clearly marked path (`/`, `./`, `../` or
# `~/` first, then plain segments of word characters, dots and dashes) and a bare name with no `/`; either ends in a
# name of word characters and dashes, dot-separated, with a file type last and a letter or `_` in its stem. A relative
# value with a slash (`Zq8/Lm2.conf`, an AWS secret access key `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`) is as
# likely a secret as a path, so it stays masked. Every repeat ends on its own separator (`/` or `.`), so the match is
# linear in the value's length.
_FILE_NAME_VALUE = lazy_re(r"(?:(?:~/|\.{1,2}/|/)(?:[\w.-]+/)*)?(?P<stem>(?:[\w-]+\.)+)"
                           r"(?:json|ya?ml|toml|ini|conf|cfg|properties|xml|txt|pem|crt|cer|p12|pfx|jks)")
_NAME_LETTER = lazy_re(r"[A-Za-z_]")


def _file_name(value: str) -> bool:
    """Is `value` plainly a file's name or a marked path to one (see _FILE_NAME_VALUE)?"""
    m = _FILE_NAME_VALUE.fullmatch(value)
    return m is not None and _NAME_LETTER.search(m.group("stem")) is not None


def _value(value: str) -> bool:
    """Is this a value worth masking (not `None`, `true`, `${VAR}`, an ARN, a file name or already masked)?"""
    return (value.lower() not in _VALUE_NOT_SECRET and not value.startswith(_NOT_A_VALUE)
            and not value.endswith(":")  # `credentials: NoCredentialProviders: ...` is an error code
            and not _masked_by_its_writer(value)
            and not _file_name(value))


def _masked_by_its_writer(value: str) -> bool:
    """A value its writer already masked, showing at most its last 5 characters (the Datadog agent logs its API
    key as `***************************aaaaa`): nothing left to hide."""
    return value.startswith("***") and len(value) - value.count("*") <= 5


_URL = lazy_re(r"https?://([^/\s?#]+)[^?\s#]*(?:\?([^\s#]*))?")
_URL_KEY = lazy_re(r"url|uri|webhook|dsn|endpoint|hook", re.I)


def _plain_url(key: str, value: str) -> bool:
    """A URL with no credentials in it, under a key that does not name a URL (`failed to fetch anonymous
    token: "https://auth.docker.io/token?scope=..."`): the URL says where, it holds no secret. A webhook or
    DSN key's URL is the secret itself, and userinfo or a secret query parameter is one too."""
    m = _URL.match(value)
    if m is None or "@" in m.group(1) or _URL_KEY.search(key):
        return False
    query = m.group(2) or ""
    return not any(_secret_key(k, "=") for k, _, _ in (part.partition("=") for part in query.split("&")) if k)


def _secret_words(low: str) -> list[int]:
    """Positions (ascending) of the words that may name a secret, found with str.find."""
    hits: list[int] = []
    for word in _KW_GUARDS:
        i = low.find(word)
        while i >= 0:
            hits.append(i)
            i = low.find(word, i + 1)
    hits.sort()
    return hits


def _assignments(text: str, words: list[int]) -> str:
    """Mask the values of assignments whose key names a secret; `words` are the positions
    (ascending) of the secret words in `text`."""
    out: list[str] = []
    done = 0  # text[:done] is already in out
    pos = 0  # secret words before pos were looked at already (same key or value)
    for hit in words:
        if hit < pos:
            continue
        # The key is the run of [\w.-] around the secret word (`DB_PASSWORD`, `spring.datasource.password`);
        # most words are prose ("token refreshed"): no separator after the run, nothing more to do.
        word = _WORD_END.match(text, hit)
        assert word is not None  # `[\w.-]*` matches at every position, if only the empty string
        pos = word.end()
        if text[pos:pos + 1] not in _SEPARATOR_START:
            continue
        start = hit
        floor = max(done, hit - _MAX_KEY)
        while start > floor and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
            start -= 1
        m = _ASSIGNMENT.match(text, start)
        if m is None:
            continue
        pos = m.end()
        if start > 0 and text[start - 1] in ":/" and ":" in m.group(2):
            continue  # a part of an ARN or IAM action: `:secret:prod/db`, `secretsmanager:GetSecretValue`
        group = 4 if m.group(4) is not None else 6 if m.group(6) is not None else 7
        value, at, sep = m.group(group), m.start(group), m.group(2)
        if "=" not in sep and (sep[:1] in " \t" or (group == 7 and _PROSE.match(text, at))):
            continue  # `Logger : message`, `api_token: Field required`: prose, not an assignment
        if group == 7 and ((_CODE.fullmatch(value) and text[at + len(value) : at + len(value) + 1] in ("'", '"', ")", "]"))
                           or (
                sep == ":" and m.group(1).lower() in _TASK_KEYS and value.rstrip("`") in _TASK_VERBS)):
            continue  # source code quoted in a traceback, a `namespace:task` command
        if group == 6 and m.group(5) == "`" and _COMMAND.match(value):
            continue  # a command in inline code (a fix step), not a secret
        if _secret_key(m.group(1), sep) and _value(value) and not _plain_url(m.group(1), value):
            out.append(text[done:at])
            out.append(MASK)
            done = at + len(value)
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


_SURROGATE = lazy_re("[\ud800-\udfff]")
_BEGIN_KEY = lazy_re(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_END_KEY = lazy_re(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")

# --- guards --------------------------------------------------------------------------------------
# Every guard, the rules it enables (indexes into _RULES) and whether it is a secret word.
_GUARDS: list[str] = sorted({g for rule in _RULES for g in rule[0]} | set(_KW_GUARDS))
_GUARD_RULES: list[tuple[int, ...]] = [tuple(i for i, rule in enumerate(_RULES) if g in rule[0]) for g in _GUARDS]
_GUARD_IS_WORD: list[bool] = [g in _KW_GUARDS for g in _GUARDS]  # positions feed _assignments
# Cheap checks at a guard's position in the lower-cased text, for the guards ordinary lines hold
# most: a secret word must end a key followed by `=` or `:`; `://` must be followed by `user:pw@`.
# The word's run is possessive (what follows it is never a `[\w.-]` character, so giving some back never helps), and
# `_redact_many` checks a run once, however many secret words it holds ("passpasspass..." on a 16 KB line: one
# check, not one re-read of the run per word).
_KW_AFTER = lazy_re(r"[\w.-]*+(?:\\?[\"'])?[ \t]*+(?:=|:(?!//))")
_URL_CREDENTIALS = lazy_re(r"://[^\s:/@\"'<>]*:[^\s/\"'<>]+@")
_PREFILTER: list[re.Pattern[str] | None] = [
    _KW_AFTER if g in _KW_GUARDS else _URL_CREDENTIALS if g == "://" else None for g in _GUARDS]
# Guards are ASCII: the automaton reads the text as ASCII bytes, any other character as one '?',
# so that byte offsets are character offsets (and lone surrogates from undecodable logs do no harm).
_AUTOMATON: BytesAhoCorasick | None = BytesAhoCorasick([g.encode() for g in _GUARDS]) if _HAVE_AUTOMATON else None


def _run_end(text: str, pos: int) -> int:
    """The end of the run of `[\\w.-]` characters at `pos`."""
    m = _WORD_END.match(text, pos)
    return pos if m is None else m.end()


def _lower(text: str) -> str:
    """text.lower() with the same length, so that positions found in it hold in `text`."""
    low = text.lower()
    if len(low) != len(text):  # a few characters grow when lowered ('İ' -> 'i̇')
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low


def _has_surrogate(text: str) -> bool:
    """`_SURROGATE.search(text)`, answered by the UTF-8 encoder (strict: it refuses every surrogate and nothing
    else) in a tenth of the time the regex takes to step through a text that is not ASCII."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.search(text) is not None
    return False


def _lower_joined(texts: list[str], joined: str) -> str:
    """_lower(joined), `joined` being the texts joined by newlines, lowered one text at a time: a text that is
    ASCII takes str.lower's fast path however many of the others are not (one "…" or curly quote in a finding
    otherwise sends all of it through the Unicode case tables). A newline is no cased or case-ignorable
    character, so no text's lower case depends on its neighbours (Greek final sigma included)."""
    if joined.isascii():
        return joined.lower()
    low = "\n".join([t.lower() for t in texts])
    return low if len(low) == len(joined) else _lower(joined)


def _hits(block: str) -> list[tuple[int, int]]:
    """(guard index, position) of every guard occurrence in `block`, in position order."""
    if _AUTOMATON is not None:
        found = [(g, pos) for g, pos, _ in _AUTOMATON.find_matches_as_indexes(block.encode("ascii", "replace"),
                                                                               overlapping=True)]
    else:  # fallback: one str.find scan per guard, same result
        found = []
        for g, guard in enumerate(_GUARDS):
            pos = block.find(guard)
            while pos >= 0:
                found.append((g, pos))
                pos = block.find(guard, pos + 1)
    found.sort(key=itemgetter(1))
    return found


def _redact(text: str, rules: Iterable[int], words: list[int]) -> str:
    """Apply `rules` (indexes into _RULES, whose guards occur in `text`) and the assignment scan
    (`words`: positions of the secret words in `text`) to one string."""
    changed = False
    for i in rules:
        _, regex, repl = _RULES[i]
        new = regex.sub(repl, text)
        if new != text:
            text, changed = new, True
    if changed and words:  # positions moved
        words = _secret_words(_lower(text))
    return _assignments(text, words) if words else text


def _redact_many(texts: list[str]) -> list[str]:
    """Mask a batch of strings: one guard pass over all of them, rules only where guards occur."""
    joined = "\n".join(texts)
    if not joined.isascii():
        wide = list(compress(count(), map(not_, map(str.isascii, texts))))
        if len(wide) < len(texts):
            # Each string is masked on its own (no guard, prefilter or rule reaches across the newline between two),
            # so the few that are not ASCII are masked apart from the others (left empty in the batch meanwhile): a
            # remediation quoting a stop reason in curly quotes (“...”) would otherwise make a finding's 50-line
            # excerpt one string of 2-byte characters, which every step below (encoding, lower-casing, the guard
            # pass) reads several times slower.
            narrow = list(texts)
            for i in wide:
                narrow[i] = ""
            out = _redact_many(narrow)
            for i, masked in zip(wide, _redact_many([texts[i] for i in wide]), strict=True):
                out[i] = masked
            return out
        if _has_surrogate(joined):
            # Lone surrogates (JSON "\udcff" escapes, undecodable bytes) cannot be written as UTF-8:
            # the Finding's JSON, Slack and SNS would fail. Replaced by U+FFFD, length kept.
            texts = [_SURROGATE.sub("\ufffd", t) for t in texts]
            joined = "\n".join(texts)
    out = list(texts)
    block = _lower_joined(texts, joined)  # same length as the joined texts: positions map back
    todo: dict[int, tuple[set[int], list[int]]] = {}
    line, first, last = 0, 0, len(texts[0]) if texts else 0  # texts[line] is block[first:last]
    run_end, run_ok = -1, False  # the last secret word's [\w.-] run ends at run_end; _KW_AFTER's answer for it
    for g, pos in _hits(block):
        check = _PREFILTER[g]
        if check is _KW_AFTER:
            # Guards are letters: a word at pos < run_end is in the same run as the last one, with the same answer.
            if pos >= run_end:
                kw = _KW_AFTER.match(block, pos)
                run_ok = kw is not None
                run_end = kw.end() if kw is not None else _run_end(block, pos)
            if not run_ok:
                continue
        elif check is not None and check.match(block, pos) is None:
            continue
        while pos > last:
            line += 1
            first = last + 1
            last = first + len(texts[line])
        rules, words = todo.setdefault(line, (set(), []))
        rules.update(_GUARD_RULES[g])
        if _GUARD_IS_WORD[g]:
            words.append(pos - first)
    for line, (rules, words) in todo.items():
        out[line] = _redact(texts[line], sorted(rules), words)
    return out


# --- public API ----------------------------------------------------------------------------------
def redact_many(texts: list[str]) -> list[str]:
    """Mask secrets in several independent strings (one pass for all of them)."""
    return _redact_many(list(texts)) if texts else []


def redact(text: str) -> str:
    """Mask secrets in one string."""
    if not text:
        return text
    return _redact_many([text])[0]


def redact_lines(lines: Iterable[str]) -> list[str]:
    """Mask secrets in consecutive log lines, including private key blocks split over lines
    (from BEGIN to END every line is masked whole; body lines before an END whose BEGIN was cut
    off, as in the last 50 lines of a log, too)."""
    return redact_lines_and(list(lines), [])[0]


def redact_lines_and(lines: list[str], texts: list[str]) -> tuple[list[str], list[str]]:
    """redact_lines(lines) and redact_many(texts) in one pass over both."""
    if "PRIVATE KEY" not in "\n".join(lines):  # (one search of the joined lines, not one per line)
        masked = _redact_many(lines + texts) if lines or texts else []
        return masked[: len(lines)], masked[len(lines):]
    heads: list[str] = []  # the part of each line still to be redacted
    tails: list[str] = []  # the masked key part appended after it
    in_key = False
    for line in lines:
        head, tail = line, ""
        if in_key:
            end = _END_KEY.search(line)
            if end:
                in_key = False
                head = line[end.start():]
            else:
                head, tail = "", MASK
        else:
            begin = _BEGIN_KEY.search(line)
            end = _END_KEY.search(line)
            if begin and not _END_KEY.search(line, begin.end()):
                in_key = True
                head, tail = line[: begin.start()], line[begin.start():begin.end()] + MASK
            elif end and not begin:  # END without BEGIN: mask the key body lines above it
                for j in range(len(heads) - 1, -1, -1):
                    if not _PEM_BODY.fullmatch(heads[j].strip()):
                        break
                    heads[j], tails[j] = "", MASK
        heads.append(head)
        tails.append(tail)
    masked = _redact_many(heads + texts)
    return [h + t for h, t in zip(masked[: len(heads)], tails, strict=True)], masked[len(heads):]


_PEM_BODY = lazy_re(r"[A-Za-z0-9+/=]{16,}|=[A-Za-z0-9+/]{4}|Proc-Type: .*|DEK-Info: .*|")


def redact_obj(value: Any) -> Any:
    """Mask every string inside a JSON-like structure (dict keys are left alone). Pydantic models
    inside are dumped to dicts first, so that none of their strings escapes."""
    strings: list[str] = []
    plain = _collect(value, strings)
    masked = _redact_many(strings)
    if all(a is b for a, b in zip(masked, strings, strict=True)):
        return plain
    return _rebuild(plain, iter(masked))


def _collect(value: Any, into: list[str]) -> Any:
    """`value` with models dumped to dicts and tuples made lists; its strings go to `into`."""
    kind = type(value)
    if kind is str:
        into.append(value)
        return value
    if kind is dict:
        return {k: _collect(v, into) for k, v in value.items()}
    if kind is list:
        return [_collect(v, into) for v in value]
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if isinstance(value, str):  # a subclass: plain str, so that _rebuild recognises it
        into.append(str(value))
        return into[-1]
    if isinstance(value, dict):
        return {k: _collect(v, into) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_collect(v, into) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return _collect(dump(), into)
    return value


def _rebuild(value: Any, masked: Iterator[str]) -> Any:
    kind = type(value)
    if kind is str:
        return next(masked)
    if kind is dict:
        return {k: _rebuild(v, masked) for k, v in value.items()}
    if kind is list:
        return [_rebuild(v, masked) for v in value]
    return value
