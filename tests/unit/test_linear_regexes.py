"""lin1: the regexes rewritten to be linear on 16 KB lines find what their quadratic originals found, on every log
line of the case corpus and on generated lines (not timed: benchmarks/bench_pathological.py prints the times); and a
diagnosis of a log with several 16 KB keyword-stuffed lines is still right.

The old-versus-new checks read ~37,000 corpus and generated lines (up to 60,000 with the request lines), ~8 s of
CPU: they are corpus-wide equivalence checks of speed-ups, marked slow (`make test` runs them, `make unit` does
not), as are the hostile 16 KB lines timed against the clock. The diagnosis of a log of 16 KB keyword-stuffed lines
is a behaviour check and stays in `make unit`."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shared import remediation
from shared.patterns import image_pull_failed, network_setup_failed, secrets_retrieval_failed
from tests.unit.helpers import corpus_lines, run

ROOT = Path(__file__).resolve().parents[2]
_OLD_PATH = r"""['"`]?(?P<{0}>/(?:[\w.@+-]+/)*[\w.@+-]+)['"`]?"""
OLD: dict[str, tuple[str, int]] = {
    "_NOT_OWNED": (r"(?i)(?:permission denied|EACCES|EPERM|operation not permitted|not owned by|not writable|"
                   r"read-only file system|can't safely access|cannot access)[^\n]{0,80}?" + _OLD_PATH.format("p1")
                   + r"|" + _OLD_PATH.format("p2") + r"[^\n]{0,60}?(?:permission denied|not owned by|not writable|"
                   r"operation not permitted|EACCES|read-only file system|EROFS)", 0),
    "_NO_PATH": (r"(?i)(?:no such file or directory|ENOENT|FileNotFound\w*|cannot (?:open|find|read)|"
                 r"could not (?:open|find|read)|unable to (?:open|read))[^\n]{0,60}?" + _OLD_PATH.format("p1")
                 + r"|" + _OLD_PATH.format("p2") + r"[^\n]{0,20}?(?:no such file or directory|does not exist|not found)",
                 0),
    "_SYSCTL_TOO": (r"(?i)\b(?P<key>(?:vm|kernel|net|fs)\.[a-z][\w-]*(?:\.[\w-]+)*)\b[^\n]{0,60}?"
                    r"(?:\btoo (?:low|small|high|large)\b|\bmust be (?:at least|at most)\b|"
                    r"\b(?:increase|raise|decrease|lower|reduce) (?:it )?to\b)", 0),
}
_DOTALL = re.IGNORECASE | re.DOTALL
OLD_CAUSES: list[tuple[re.Pattern[str], str]] = [
    (image_pull_failed._CAUSES[0].regex, r"(?=.*pull access denied)(?=.*does not exist)"),
    (network_setup_failed._CAUSES[0].regex, r"(?=.*free)(?=.*address)"),
    (secrets_retrieval_failed._CAUSES[0].regex, r"accessdenied|not authorized|access denied|(?=.*kms)(?=.*denied)"),
]
OLD_AWS_HOST = r"\b((?:[\w-]+\.)*?(?P<svc>[\w-]+)\.(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(?:\.cn)?)\b"


# Tokens of the lines these regexes read: paths (followed by a separator, as in a log), keywords, sysctl keys, hosts.
_TOKENS = ["permission denied", "EACCES", "EPERM", "operation not permitted", "not owned by", "not writable",
           "read-only file system", "EROFS", "cannot access", "no such file or directory", "ENOENT",
           "FileNotFoundError", "FileNotFoundException:", "cannot open", "could not read", "unable to open",
           "does not exist", "not found", "/var/lib/data", "/etc/app.conf", "'/tmp/x.sock'", '"/app/config.yaml"',
           "/a/b/c/d/e", "vm.max_map_count", "net.core.somaxconn", "fs.file-max", "kernel.pid_max", "[65530]",
           "is too low", "must be at least", "increase to", "lower it to", "too high", "1024", ":", ",", "x", "open",
           "pull access denied", "free", "address", "kms", "denied", "accessdenied", "not authorized",
           "sqs.us-east-1.amazonaws.com", "a.b..logs.eu-west-2.amazonaws.com.cn", "api.ecr.us-gov-west-1.amazonaws.com",
           "x-y.us-east-1.amazonaws.comx", "dkr.ecr", "\n"]


def _generated(n: int = 3000) -> list[str]:
    rng = random.Random(20261207)
    seps = [" ", " ", ": ", ", ", "\t", " (", ") ", "="]
    return ["".join(rng.choice(_TOKENS) + rng.choice(seps) for _ in range(rng.randint(1, 9))) for _ in range(n)]


@cache
def lines() -> tuple[str, ...]:
    """Every line of the case corpus and the generated lines, made on first use (not when the module is
    collected: a run without the slow tests never reads them)."""
    return (*corpus_lines(), *_generated())


def _same(old: Callable[[str], re.Match[str] | None], new: Callable[[str], re.Match[str] | None]) -> list[str]:
    def key(m: re.Match[str] | None) -> tuple[tuple[int, int], tuple[str | Any, ...]] | None:
        return None if m is None else (m.span(), m.groups())

    return [line for line in lines() if key(old(line)) != key(new(line))]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OLD))
def test_a_rewritten_remediation_regex_finds_what_the_old_one_found(name: str) -> None:
    old = re.compile(*OLD[name])
    assert _same(old.search, getattr(remediation, name).search)[:3] == []


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(OLD_CAUSES)))
def test_an_anchored_lookahead_cause_finds_what_the_unanchored_one_found(index: int) -> None:
    new, old = OLD_CAUSES[index]
    assert _same(re.compile(old, _DOTALL).search, new.search)[:3] == []


@pytest.mark.slow
def test_the_aws_host_search_finds_what_the_old_search_from_the_start_found() -> None:
    assert _same(re.compile(OLD_AWS_HOST).search, remediation.aws_host)[:3] == []


def _stuffed(unit: str) -> str:
    return (unit * (16384 // len(unit) + 1))[:16384]


def test_a_log_with_16_kb_keyword_stuffed_lines_is_still_diagnosed() -> None:
    stuffed = [_stuffed(u) for u in (
        "open /var/app/data.db: permission denied EACCES /a/b/c/d ", "no such file or directory ENOENT /usr/lib/x.so ",
        "FileNotFound", "/a", "https://sqs.us-east-1.amazonaws.com/1/q a.b.c.", "vm.max_map_count.fs.net.",
        "connect to db.internal:5432 redis:6379 ", "bind: address already in use free address ",
        'File "/app/main.py", line 12, in main at com.x.Y.run(Y.java:3) ')]
    logs = ["INFO starting worker"] + [line for s in stuffed for line in (s, "INFO request ok")] + [
        "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
        "    url = os.environ['ORDERS_API_URL']", "KeyError: 'ORDERS_API_URL'"]
    t0 = time.thread_time()
    finding = run(logs)
    assert time.thread_time() - t0 < 10  # a generous bound: before lin1 such lines took minutes
    assert finding.pattern == "missing-env-var"
    assert finding.facts.get("variable") == "ORDERS_API_URL"


# lin2: redaction. `_KW_AFTER` runs at every secret word of every line that leaves the account; its word run is now
# possessive and checked once per run (a 16 KB "passpass..." line re-read the run from each of its 4096 words).
OLD_KW_AFTER = r"[\w.-]*(?:\\?[\"'])?[ \t]*(?:=|:(?!//))"
_SECRET_TOKENS = ["pass", "password", "PASSWORD", "pwd", "secret", "token", "key", "credential", "dsn", "webhook",
                  "auth", "DB_PASSWORD", "api.key", "x-auth-token", "=", ":", "://", ": ", '\\"', '"', "'", "`", " ",
                  "\t", "/a", ".json", "a.b", "-", ",", "value", "[REDACTED]", "\\"]


def _secret_lines(n: int = 3000) -> list[str]:
    rng = random.Random(20261208)
    return ["".join(rng.choice(_SECRET_TOKENS) for _ in range(rng.randint(1, 14))) for _ in range(n)]


@pytest.mark.slow
def test_the_possessive_secret_word_check_agrees_with_the_old_one_at_every_secret_word() -> None:
    from shared import redact

    old, new = re.compile(OLD_KW_AFTER), redact._KW_AFTER
    bad = []
    for line in (*lines(), *_secret_lines()):
        low = line.lower()
        for word in redact._KW_GUARDS:
            i = low.find(word)
            while i >= 0:
                a, b = old.match(low, i), new.match(low, i)
                if (a and a.span()) != (b and b.span()):
                    bad.append((line, i))
                i = low.find(word, i + 1)
    assert bad[:3] == []


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["pass", "password", "token.", "a.pass-", "secret_key", "pass=x ", "auth=`"])
def test_a_16_kb_line_of_secret_words_is_redacted_in_linear_time(unit: str) -> None:
    from shared.redact import redact

    for end in ("", "=", ":", "json"):
        t0 = time.thread_time()
        redact(_stuffed(unit)[:-len(end) or None] + end)
        assert time.thread_time() - t0 < 1.0  # a generous bound: before lin2 "pass" * 4096 took 2.5 s


# lin2: health_check_failed's request line. `_request_search` tries only the starts that can still match.
_REQUEST_TOKENS = ["GET ", "HEAD ", "xGET ", "Request finished ", "Request finished HTTP/1.1 ", "method=", "method=GET",
                   '"method":', '"method": "GET"', '"method":"HEAD"', "path=", "uri=", 'url":"', "/", "/health", "/a?b=1",
                   "/aHTTP/1.1", "HTTP/1.1", 'HTTP/1.1"', '"', " ", "  ", "\n", "\t", " - ", "200", "404", "5000",
                   "status=", "statusCode:", "status_code=", "code=", '"status": ', "x", ",", "//host", "https://h"]


_REQ_START = ["GET ", "HEAD ", "xGET ", "Request finished ", "Request finished HTTP/2 GET ", "Request finished GET ",
              "method=GET ", "method=HEAD,", '"method": "GET", ', '"method":"HEAD"', "method=POST "]
_REQ_PATH = ["/", "/health", "/a?b=1", "/aHTTP/1.1", "https://h/x", "//h/y", "path=/p ", 'uri":"/u', "url=\n/v ",
             "path=/status=200", "/x,y"]
_REQ_FILL = [" ", "  ", "\t", " HTTP/1.1", ' HTTP/1.1"', '"', " - ", "\n", " x ", "path=/q ", ", ", "status", "=", ":"]
_REQ_STATUS = ["200", "404", "5000", "status=200", "statusCode: 503", 'status_code":"404', "code=200", " - 200", "20"]


def _request_lines(n: int = 20000) -> list[str]:
    rng = random.Random(20261209)
    parts = [_REQ_START, _REQ_PATH, _REQ_FILL, _REQ_STATUS, _REQUEST_TOKENS]
    lines = []
    for _ in range(n):
        line = ""
        for _ in range(rng.randint(1, 3)):
            for kind in (0, 1, 2, 3):
                if rng.random() < 0.85:
                    line += rng.choice(parts[kind])
                if rng.random() < 0.4:
                    line += rng.choice(parts[rng.choice((2, 4))])
        lines.append(line)
    return lines


@pytest.mark.slow
def test_the_request_search_finds_what_the_request_regex_found() -> None:
    from shared.patterns import health_check_failed as hc

    def key(m: re.Match[str] | None) -> tuple[tuple[int, int], tuple[str | Any, ...]] | None:
        return None if m is None else (m.span(), m.groups())

    bad = [line for line in (*lines(), *_request_lines()) for k in (line, "\n" + line, "x" + line)
           if key(hc._REQUEST.search(k, 1)) != key(hc._request_search(k))]
    assert bad[:3] == []


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["GET /a ", "GET /", "HEAD /a/b x ", "method=GET path=/a ", "method=GET path=/ status ",
                                  "Request finished GET /a ", '"method": "GET" url=/a '])
def test_a_16_kb_line_of_request_words_is_read_in_linear_time(unit: str) -> None:
    from shared.patterns import health_check_failed as hc

    t0 = time.thread_time()
    hc._request(_stuffed(unit))
    assert time.thread_time() - t0 < 1.0  # a generous bound: before lin2 "method=GET path=/a " took 103 s
