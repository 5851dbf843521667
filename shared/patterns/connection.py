"""Parsing of connection failures, shared by database-connection-failed and network-egress-blocked.

Not a pattern (no PATTERN): it only reads a line and its neighbours and says what kind of failure
it is (refused / timeout / auth / dns / unreachable) and which endpoint it was about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from shared.patterns.base import host_port
from shared.scan import lazy_re, may_hold, required_words, run_regex

_CAUSES = (
    # PostgreSQL answering a connection it will not take yet (SQLSTATE 57P03, "cannot connect now"): the server is
    # there and answered, its database is starting, recovering or shutting down. First: such lines often say
    # "timed out" or "refused" about the wait that gave up on it.
    ("starting", lazy_re(
        r"the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections)",
        re.IGNORECASE)),
    ("auth", lazy_re(
        r"password authentication failed|Access denied for user|authentication failed|Login failed for user"
        r"|\bNOAUTH\b|\bWRONGPASS\b|invalid password|bad auth|no pg_hba\.conf entry|\bP1000\b"
        r"|SCRAM authentication|invalid username-password|requires a password|password is missing"
        r"|(?:SQLSTATE\[HY000\] )?\[1045\]|ER_ACCESS_DENIED_ERROR|role \"[^\"]+\" does not exist"
        # MySQL's ER_HOST_NOT_PRIVILEGED (1130): no account of the user may connect from this client's address.
        r"|is not allowed to connect to this (?:MySQL|MariaDB) server|SQLSTATE\[HY000\] \[1130\]", re.IGNORECASE)),
    ("dns", lazy_re(
        r"could not translate host name|Unknown MySQL server host|\bENOTFOUND\b|\bEAI_AGAIN\b|no such host"
        r"|Name or service not known|nodename nor servname|Temporary failure in name resolution"
        r"|UnknownHostException|getaddrinfo failed|Name does not resolve|Could not resolve host"
        r"|NameResolutionError|Failed to resolve|No address associated with hostname|\[Errno -[23]\]"
        r"|non-existing domain|\bnxdomain\b",
        re.IGNORECASE)),
    ("refused", lazy_re(
        r"connection refused|\bECONNREFUSED\b|actively refused|\(111\)|errno 111|Connection to \S+ refused"
        r"|\[2002\] Connection refused|connect: connection refused|TNS:no listener"
        # A client told to use the local Unix socket (MySQL's host `localhost`, PostgreSQL's default with no host)
        # where no server runs: nothing listens here. MariaDB's client names no engine ("local server").
        r"|Can't connect to local (?:(?:MySQL|MariaDB) )?server through socket|\[2002\] No such file or directory"
        r"|connection to server on socket \"[^\"\n]*\" failed: (?:No such file or directory|Connection refused)",
        re.IGNORECASE)),
    # EADDRNOTAVAIL on a connect ("Cannot assign requested address - connect(2) for [::1]:6379", Go's "connect:
    # cannot assign requested address", redis-py "Error 99 connecting to"): the address cannot be reached from here
    # (IPv6 loopback in a container with no IPv6, no local port free). Java throws it on a connect as
    # NoRouteToHostException ("Cannot assign requested address (Address not available)"), urllib3 as "Failed to
    # establish a new connection: [Errno 99] ...". A bind or listen saying it (BindException) is no connection.
    ("unreachable", lazy_re(r"\bEHOSTUNREACH\b|No route to host|Network is unreachable|\bENETUNREACH\b"
                               r"|\bNoRouteToHostException\b"
                               r"|\bestablish(?:ing)? (?:a )?new connection\b[^\n]{0,40}?(?:Cannot assign requested address|\bEADDRNOTAVAIL\b)"
                               r"|Could not connect to the endpoint URL"
                               r"|(?:Cannot assign requested address|\bEADDRNOTAVAIL\b)[^\n]{0,20}?\bconnect\b"
                               r"|\bconnect(?:ing)?\b[^\n]{0,80}?(?:Cannot assign requested address|\bEADDRNOTAVAIL\b)"
                               r"|\bError 99 connecting to\b", re.IGNORECASE)),
    ("timeout", lazy_re(
        r"timed out|timeout expired|\bETIMEDOUT\b|i/o timeout|\(110\)|errno 110|ConnectTimeout|connect timeout"
        r"|context deadline exceeded|Can't reach database server|ServerSelectionTimeout|Communications link failure"
        r"|network-related or instance-specific error|\bP1001\b|Client\.Timeout exceeded|UND_ERR_CONNECT_TIMEOUT"
        r"|SocketTimeoutException|HttpConnectTimeoutException|Connection timeout|Timeout connecting"
        r"|connection attempt failed|Operation timed out|Timeout was reached|Net::OpenTimeout|execution expired"
        r"|\bopen timeout|connect \([^)]*\): timeout\b|\): timeout$|Connection Error \(Timeout\)"
        r"|Timeout acquiring a connection"
        r"|\bconnect_(?:read|write) timeout reached"  # Ruby Excon (fog, the AWS SDKs of old): the TCP connect
        r"|took too long to respond|Read timed out", re.IGNORECASE)),
)

# Words that make a line a connection failure at all (cheap pre-filter for patterns).
NEEDLES = (
    "refused", "timed out", "timeout", "etimedout", "econnrefused", "authentication failed", "access denied for user",
    "could not translate", "unknown mysql server host", "enotfound", "eai_again", "no such host",
    "name or service not known", "name resolution", "unknownhostexception", "could not connect", "can't connect",
    "cannot connect", "connection to server at", "communications link failure", "p1001", "p1000", "noauth",
    "wrongpass", "login failed for user", "network-related", "ehostunreach", "no route to host", "unreachable",
    "deadline exceeded", "endpoint url", "pg_hba.conf", "failed to connect", "unable to connect", "error connecting",
    "can't reach database", "does not resolve", "could not resolve", "failed to resolve", "[errno -2]", "[errno -3]",
    "errno 110", "errno 111", "(110)", "(111)", "unknown database", "does not exist", "bad auth",
    "execution expired", "opentimeout", "open timeout", "tcp connect", "took too long to respond",
    "non-existing domain", "nxdomain", "timeout acquiring", "tns:", "connection attempt failed", "connect_to ",
    "the database system is", "cannot assign requested address", "eaddrnotavail", "error 99 connecting",
    "noroutetohostexception", "[2002] no such file", "connection to server on socket", "not allowed to connect",
    "[1130]",
)
# Wordings that say a connection to a named endpoint failed without saying how (no cause): OpenSSH's
# "connect_to HOST port N: failed." when a forwarded channel (a bastion's tunnel) cannot reach its target.
_FAILED_UNSAID = lazy_re(r"\bconnect_to (?P<host>[\w.:-]+) port (?P<port>\d{1,5}): failed\b")
_DB_NOT_FOUND = lazy_re(r"database \"?[\w.-]+\"? does not exist|Unknown database '[^']+'|\(1049\)", re.IGNORECASE)

# A host: [IPv6], a bare IPv6 address (followed by :port), or a name/IPv4.
_HOST = r"(?P<host>\[[0-9A-Fa-f:.%\w]+\]|[0-9A-Fa-f]*:[0-9A-Fa-f:]*[0-9A-Fa-f](?=:\d)|[\w.-]+)"
# Three of _ENDPOINTS begin with a host, a run of name characters: they are searched from the runs' starts only
# (`run_regex`; from each start of a 16 KB "a.a.a..." line they read the rest again: seconds), the host from the
# first of its run's starts that may match (all of a run's starts end it at the same place).
_NAME_BEFORE_ADDRESS = (r"(?>(?:[\w.-]*\.\.)?)(?:(?![A-Za-z])[\w.-])*+(?P<host>[A-Za-z][\w-]*+(?:\.[\w-]++)+)"
                        r"/\d{1,3}(?:\.\d{1,3}){3}:(?P<port>\d+)")
_ENDPOINTS = (
    # A host name before its address: the first letter of its run of [\w.-] after the run's last ".." starts it.
    run_regex(r"(?P<host>[A-Za-z][\w-]*(?:\.[\w-]+)+)/\d{1,3}(?:\.\d{1,3}){3}:(?P<port>\d+)",
              r"(?<![\w.-])" + _NAME_BEFORE_ADDRESS, _NAME_BEFORE_ADDRESS, r"\w.-"),
    lazy_re(r"connection to server at \"(?P<host>[^\"]+)\" \([^)]*\), port (?P<port>\d+)"),
    lazy_re(r"connection to server at \"(?P<host>[^\"]+)\"(?:, port (?P<port>\d+))?"),
    lazy_re(r"on host \"(?P<host>[^\"]+)\"(?:[^\n]*?port (?P<port>\d+))?"),
    lazy_re(r"could not translate host name \"(?P<host>[^\"]+)\""),
    lazy_re(r"Can't connect to (?:MySQL|MariaDB|local MySQL) server (?:on|through) '(?P<host>[^':]+)(?::(?P<port>\d+))?'"),
    lazy_re(r"Unknown MySQL server host '(?P<host>[^']+)'"),
    lazy_re(r"(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET) " + _HOST + r":(?P<port>\d+)\b"),
    lazy_re(r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)"),
    lazy_re(r"Connection to (?P<host>[\w.-]+):(?P<port>\d+) refused"),
    lazy_re(r"tcp (?:connect|recv|send) \((?P<host>[\w.-]+):(?P<port>\d+)\)"),
    lazy_re(r"Failed to open TCP connection to (?P<host>[\w.-]+):(?P<port>\d+)"),
    lazy_re(r"Error -?\d+ connecting to (?P<host>[\w.-]+):(?P<port>\d+)"),
    lazy_re(r"Could not connect to Redis at (?P<host>[\w.-]+):(?P<port>\d+)"),
    # Go net/http names the URL before the address it dialled: the host name is the useful one.
    lazy_re(r"(?:Get|Post|Put|Patch|Delete|Head) \"(?P<url>https?://(?P<host>[^/\":]+)(?::(?P<port>\d+))?[^\"]*)\""),
    lazy_re(r"dial tcp " + _HOST + r":(?P<port>\d+)"),
    lazy_re(r"dial tcp: lookup (?P<host>[\w.-]+)"),
    lazy_re(r"Can't reach database server at [`'\"]?(?P<host><[^<>\s]+>|[\w.-]+)[`'\"]?:[`'\"]?(?P<port>\d+)"),
    lazy_re(r"HTTPS?ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)"),
    lazy_re(r"endpoint URL: \"(?P<url>https?://(?P<host>[^/\":]+)(?::(?P<port>\d+))?[^\"]*)\""),
    lazy_re(r"Connect to (?P<host>[\w.-]+):(?P<port>\d+) \["),
    lazy_re(r"Failed to connect to (?P<host>[\w.-]+) port (?P<port>\d+)"),
    lazy_re(r"(?:[Ff]ailed|[Uu]nable|[Cc]ould not|[Cc]annot|can't) (?:to )?connect to (?:server |host )?[`'\"]?(?P<host>[\w.-]+):(?P<port>\d+)"),
    lazy_re(r"on server '(?:tcp://)?(?P<host>[\w.-]+)(?::(?P<port>\d+))?'"),
    lazy_re(r"attempt address: (?P<host>[\w.-]+):(?P<port>\d+)"),
    lazy_re(r"Connection to (?P<host>[\w.-]+) timed out"),
    lazy_re(r"UnknownHostException: (?P<host>[\w.-]+)"),
    # (up to the next "jdbc:" that can match alone, with 2 characters before "//", not past it: that one reads on)
    lazy_re(r"jdbc:(?:(?!jdbc:[\w:]{2})[\w:])+?://(?P<host>[^/:;?\s]+)(?::(?P<port>\d+))?"),
    lazy_re(r"failed to connect to server \[(?P<host>[\w.-]+):(?P<port>\d+)\]"),
    run_regex(r"(?P<host>[\w.-]+):(?P<port>\d+): \[Errno", r"(?<![\w.-])(?P<host>[\w.-]++):(?P<port>\d+): \[Errno",
              r"(?P<host>[\w.-]++):(?P<port>\d+): \[Errno", r"\w.-"),
    lazy_re(r"`?\bhost=[\"']?(?P<host>[\w.-]+)[\"']?(?:[^\n]*?\bport=(?P<port>\d+))?"),
    lazy_re(r"server=(?:tcp:)?(?P<host>[\w.-]+)(?:,(?P<port>\d+))?", re.IGNORECASE),
    lazy_re(r"\"(?:address|host|hostname)\":\s*\"(?P<host>[^\"]+)\""),
    lazy_re(r"\b(?:address|host|hostname): '(?P<host>[^']+)'"),  # Node util.inspect objects
    lazy_re(r"[a-z][a-z0-9+]*://(?:[^@/\s]+@)?(?P<host>[\w.-]+)(?::(?P<port>\d+))?"),
)
_PORT_ONLY = (
    lazy_re(r"(?:TCP/IP connections on|on) port (\d+)"),
    lazy_re(r"\"port\":\s*(\d+)"),
    lazy_re(r"^\s*port: (\d+)", re.M),
    lazy_re(r"\bport[ =:]+(\d{2,5})\b", re.IGNORECASE),
)
_USER = lazy_re(r"for user ['\"]?([\w.@-]+)['\"]?")


@dataclass(frozen=True)
class ConnectionFailure:
    cause: str | None  # refused / timeout / auth / dns / unreachable / not-found (database missing) / starting
    host: str | None = None
    port: int | None = None
    url: str | None = None
    user: str | None = None


def cause_regex(cause: str) -> re.Pattern[str]:
    """The regex of one cause (a line whose `failure_cause` is `cause` matches it)."""
    return next(regex for name, regex in _CAUSES if name == cause)


def failure_cause(text: str) -> str | None:
    low = text.lower() if text.isascii() else None
    for cause, regex in _CAUSES:
        if may_hold(regex, low) and regex.search(text):
            return cause
    if _DB_NOT_FOUND.search(text):
        return "not-found"
    return None


def parse(line: str, context: str) -> ConnectionFailure | None:
    """The failure on `line` (endpoint details may come from `context`, the surrounding entry)."""
    cause = failure_cause(line)
    if cause is None:
        unsaid = _FAILED_UNSAID.search(line)
        if unsaid is None:
            return None
        return ConnectionFailure(cause=None, host=unsaid.group("host"), port=int(unsaid.group("port")))
    host, port, url = endpoint(line, context)
    user = _USER.search(line)
    return ConnectionFailure(cause=cause, host=host, port=port, url=url, user=user.group(1) if user else None)


_GUARDS: list[Callable[[str], bool] | None] = []
_ADDRESS_AFTER_NAME = lazy_re(r"/\d{1,3}(?:\.\d{1,3}){3}:\d")  # what every match of the host-before-address regex holds


def _holds_any(words: tuple[str, ...], low: str) -> bool:
    return any(w in low for w in words)


def _endpoint_guards() -> list[Callable[[str], bool] | None]:
    """For each of _ENDPOINTS, a cheap test of the lower-cased (ASCII) text that every text it matches
    passes: one of the words it requires (`required_words`), or None (always run it). Its slow regexes
    try every position of a long context ('[\\w.-]+:' before ': [Errno', a host name before '/1.2.3.4:')."""
    if not _GUARDS:
        for regex in _ENDPOINTS:
            words = required_words(regex)
            if regex.pattern.endswith(r")/\d{1,3}(?:\.\d{1,3}){3}:(?P<port>\d+)"):
                _GUARDS.append(lambda low: _ADDRESS_AFTER_NAME.search(low) is not None)
            elif words is None:
                _GUARDS.append(None)
            else:
                _GUARDS.append(partial(_holds_any, words))
    return _GUARDS


# A client's failure on a local Unix socket: no TCP at all, the socket file is the container's own (localhost).
LOCAL_SOCKET = lazy_re(r"Can't connect to local (?:(?:MySQL|MariaDB) )?server through socket"
                       r"|\[2002\] No such file or directory|connection to server on socket \"")


def endpoint(line: str, context: str = "") -> tuple[str | None, int | None, str | None]:
    """(host, port, url) named by the line, else by its context. A host name is preferred to an
    address when both are given (drivers often print the resolved IP next to the name). A local socket's failure
    is localhost's."""
    if LOCAL_SOCKET.search(line):
        return "localhost", None, None
    for source in (line, context):
        if not source:
            continue
        found: list[tuple[str | None, int | None, str | None]] = []
        low = source.lower() if source.isascii() else None
        for regex, guard in zip(_ENDPOINTS, _endpoint_guards(), strict=True):
            if low is not None and guard is not None and not guard(low):
                continue  # the text lacks what every match holds (a word, or the '/a.b.c.d:' after a host name)
            for m in regex.finditer(source):
                gd = m.groupdict()
                host = (gd.get("host") or "").strip("[]'\"`") or None
                if host and host.isdigit():
                    host = None
                port = int(gd["port"]) if gd.get("port") else None
                if host or port:
                    found.append((host, port, gd.get("url")))
        if not found:
            continue
        named = [f for f in found if f[0] and not _is_ip(f[0])]
        best = named[0] if named else found[0]
        host, port, url = best
        if port is None:
            port = next((f[1] for f in found if f[1] and (f[0] in (host, None) or _is_ip(f[0] or ""))), None)
        if port is None:
            for regex in _PORT_ONLY:
                only = regex.search(source)
                if only:
                    port = int(only.group(1))
                    break
        url = url or next((f[2] for f in found if f[2]), None)
        return host, port, url
    for source in (line, context):
        for regex in _PORT_ONLY:
            only = regex.search(source)
            if only:
                return None, int(only.group(1)), None
    host, port = host_port(line)
    return host, port, None


def is_ip(host: str) -> bool:
    """An IPv4 or IPv6 address rather than a host name."""
    return _is_ip(host)


def _is_ip(host: str) -> bool:
    return bool(_IP.fullmatch(host)) or ":" in host


_IP = lazy_re(r"\d{1,3}(?:\.\d{1,3}){3}")
