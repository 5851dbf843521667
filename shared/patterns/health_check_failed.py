"""health-check-failed: load balancer health checks failed and ECS replaced the task.

Signal: stoppedReason "Task failed ELB health checks in (target-group ARN)" (or "(elb NAME)").
A symptom: when the logs name a root cause (missing variable, crash, database...), that wins and
this becomes the finding's `symptom`. Otherwise the cause is worked out from the logs and, live,
from the target group and target health: not-listening (bound to 127.0.0.1/localhost),
wrong-port, path-not-found (404 on the health path), server-error (5xx), timeout (slow answers,
worker timeouts, Target.Timeout), no-requests-seen (listening, but no health check ever arrived:
security groups). Facts: target_group, cause, the two sides of any mismatch, and container (the
target group's container, else the one whose own log shows how it answered the checks).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence, TargetGroupFacts
from shared.lock_wait import release_step
from shared.patterns.base import Explanation, Facts, Match, Pattern, Proof, Stage, log_proof, reason_proof
from shared.scan import lazy_re

_SIGNAL = lazy_re(r"failed (?:ELB|load balancer|ALB|NLB|target group) health checks?(?: in \((?:target-group |elb )?([^)]+)\))?",
                     re.IGNORECASE)
_BANNER = lazy_re(
    r"(?:running on|listening on|listening at|serving on|serving at|started on|bound to|binding to|bind to|"
    r"now listening on|server started at|server running at|started server on|available at|server listening on|"
    r"listening for requests on|http server started on|starting server on|accepting connections at|local:|"
    r"responding at|server running:?|network:(?=\s*https?://))"
    r":?\s*(?:(?:https?|tcp)://)?(?P<host>\[[0-9a-f:]+\]|::|[\w.-]+|\*)?:(?P<port>\d{2,5})",
    re.IGNORECASE,
)
_LOOPBACK = ("127.0.0.1", "[::1]", "::1")
_FRAMEWORK_LOCALHOST = lazy_re(r"Uvicorn running on|Listening at:|Running on|Listening on tcp://|Now listening on:",
                                  re.IGNORECASE)
_ALL_INTERFACES = ("0.0.0.0", "[::]", "::", "*", "")
# One start costs a pass over the rest of its line, never more (the quadratic and cubic forms are in the comment of
# _request_search). The `GET /path` form keeps its longest path and gives back none of it: a shorter path can only
# matter when "HTTP/1.1" ends the path right before a quote (`GET /aHTTP/1.1" 200`), which the second branch reads;
# a status is looked for after the first blank of a run only (from a later one the same run is read again). The
# `Request finished` form keeps the first URL split it finds: the ` - status` after the URL does not depend on it.
_REQUEST = lazy_re(r"\b(?:GET|HEAD) (?:(/[^\s\"?]*+)[^\n\"]*?(?:HTTP/[\d.]++\"?\s++|(?<!\s)\s++)(\d{3})\b"
                      r"|(/[^\s\"?]*?)HTTP/[\d.]++\"\s++(\d{3})\b)"
                      r"|Request finished (?:HTTP/[\d.]++ )?(?:GET|HEAD) (?>\S*?(?://[^/\s]+)?(/[^\s?]*))\S*+ - (\d{3})\b"
                      r"|\b(?:method=|\"method\":\s*\")(?:GET|HEAD)\b[^\n]*?(?:path|uri|url)[=\":\s]+(/[^\s\"?,]*)"
                      r"[^\n]*?(?:statusCode|status_code|status|code)[=\":\s]+(\d{3})")
# Every match of _REQUEST starts where one of these starts: nothing before the first of them matters.
_REQUEST_STARTS = ("GET ", "HEAD ", "Request finished", "method=", '"method":')


def _request(text: str) -> tuple[str, str] | None:
    """(path, status) of the request a log line reports, or None: _REQUEST.search(text), remembered
    for what follows the line's own prefix (an access log repeats "GET /health HTTP/1.1" 200 ...
    after a new address and time on every line)."""
    starts = [p for p in map(text.find, _REQUEST_STARTS) if p != -1]
    if not starts:
        return None
    p = min(starts)
    # The character before the first start decides the word boundary (none: the line starts there).
    key = text[p - 1 :] if p else "\n" + text
    return _request_from(key) if len(key) <= 2000 else _request_from.__wrapped__(key)


@lru_cache(maxsize=4096)
def _request_from(key: str) -> tuple[str, str] | None:
    m = _request_search(key)
    groups = [g for g in m.groups() if g] if m else None
    return (groups[0], groups[1]) if groups else None


# _REQUEST.search(key, 1) tries every start and, at each, scans the rest of the line: on a 16 KB line of
# "GET /a " or "method=GET path=/a " with no status that is quadratic (cubic for the `method=` form: every later
# `path=` is followed by a new scan for a status), seconds to minutes. _request_search finds the same match
# trying only the starts that can still match:
# - a `GET /path` start that fails fails for every later GET/HEAD start before the first `"` or newline after its
#   path: a later start's path and status lie in the part the first one's lazy scan already covered;
# - a `method=GET` start matches iff, on its line, a `path=/` follows and a status follows the `/` (then a status
#   follows the shortest value, "/"): both found by a search each; and if it fails, every later `method=` start on
#   the same line fails (it sees a subset of the same path and status words).
_PATH_WORD = lazy_re(r"(?:path|uri|url)[=\":\s]++/")
_STATUS_WORD = lazy_re(r"(?:statusCode|status_code|status|code)[=\":\s]++\d{3}")
_METHOD_GET = lazy_re(r"\b(?:method=|\"method\":\s*+\")(?:GET|HEAD)\b")
_GET_WORD = lazy_re(r"\b(?:GET|HEAD) ")
_PATH_END = lazy_re(r"/[^\s\"?]*+")
_SEP_RUN = lazy_re(r"[=\":\s]*+")


def _sep_end(key: str, pos: int) -> int:
    m = _SEP_RUN.match(key, pos)
    return pos if m is None else m.end()


def _line_end(key: str, pos: int) -> int:
    end = key.find("\n", pos)
    return len(key) if end < 0 else end


def _method_may_match(key: str, at: int, eol: int) -> bool:
    r"""Can `[^\n]*?(?:path|uri|url)[=":\s]+(/...)[^\n]*?(?:status...)[=":\s]+(\d{3})` match at `at`? A status
    must start after the `/` and before the end of the `/`'s line. A later path word on the method's line has its
    `/` later on the same line than the first one's, so only the first counts, and the one whose separator runs
    over the end of the line (`url=\n/v status=200`), whose `/` is on a later line."""
    stop = _sep_end(key, eol) + 1
    first = _PATH_WORD.search(key, at, stop)
    if first is None or first.start() >= eol:
        return False
    slashes = [first.end()]
    tail = eol
    while tail > at and (key[tail - 1] in '=":' or key[tail - 1].isspace()):  # [=":\s], as in re
        tail -= 1
    for word in ("path", "uri", "url"):
        if tail - len(word) >= at and key.startswith(word, tail - len(word)):
            last = _PATH_WORD.match(key, tail - len(word))
            if last is not None:
                slashes.append(last.end())
    for slash in slashes:
        end = _line_end(key, slash)
        status = _STATUS_WORD.search(key, slash, _sep_end(key, end) + 3)
        if status is not None and status.start() < end:
            return True
    return False


def _request_search(key: str) -> re.Match[str] | None:
    """_REQUEST.search(key, 1), linear in the line (see above)."""
    starts = sorted({i for word in _REQUEST_STARTS for i in _finds(key, word, 1)})
    get_skip = method_skip = 0
    for c in starts:
        is_get = key.startswith(("GET ", "HEAD "), c)
        if is_get and c < get_skip:
            continue
        eol = -1
        if key.startswith(("method=", '"method":'), c):
            if c < method_skip:
                continue
            prefix = _METHOD_GET.match(key, c)
            if prefix is None:
                continue  # no alternative of _REQUEST starts here
            eol = _line_end(key, prefix.end())
            if not _method_may_match(key, prefix.end(), eol):
                method_skip = eol
                continue
        m = _REQUEST.match(key, c)
        if m is not None:
            return m
        if is_get and _GET_WORD.match(key, c):  # a failed `GET /path` start (not "xGET /path": no start at all)
            path = _PATH_END.match(key, c + (4 if key[c] == "G" else 5))
            if path is not None:
                q = _find(key, '"', path.end())  # the first quote or newline after the path
                newline = key.find("\n", path.end(), q)
                get_skip = max(get_skip, q if newline < 0 else newline)
        elif eol >= 0:
            method_skip = eol
    return None


def _find(key: str, word: str, pos: int) -> int:
    i = key.find(word, pos)
    return len(key) if i < 0 else i


def _finds(key: str, word: str, pos: int) -> list[int]:
    out = []
    i = key.find(word, pos)
    while i >= 0:
        out.append(i)
        i = key.find(word, i + 1)
    return out


# nginx's error log for a request it could not pass to its upstream (php-fpm's socket, the app's port): it answers
# that request 504 when the upstream timed out and 502 otherwise (refused, permission denied, closed early).
_NGINX_UPSTREAM = lazy_re(r"\bwhile (?:connecting to|reading response header from|sending request to|reading) "
                          r"upstream\b[^\n]*?\brequest: \"(?:GET|HEAD) (/[^\s\"?]*)")


def _upstream_failure(text: str) -> tuple[str, str] | None:
    """(path, status) of a request nginx logged as failed at its upstream, or None."""
    m = _NGINX_UPSTREAM.search(text)
    if not m:
        return None
    return m.group(1), "504" if re.search(r"(?i)timed out", text[: m.start()]) else "502"


REQUEST_LINES = 1000  # the newest request lines read (of each kind: access-log lines, Django's error lines)

_HEALTHY_PATHS = lazy_re(r"^/(?:[\w.-]+/)*[\w.-]*(?:health|check|ping|status|ready|live|alive|heartbeat|hc)[\w.-]*/?$"
                            r"|^/$", re.IGNORECASE)
# Django's request logger: "Not Found: /health", "Service Unavailable: /lbcheck"
_DJANGO = lazy_re(r"\b(Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Internal Server Error|"
                     r"Bad Gateway|Service Unavailable|Gateway Timeout): (/\S*)")
_DJANGO_STATUS = {"Bad Request": "400", "Unauthorized": "401", "Forbidden": "403", "Not Found": "404",
                  "Method Not Allowed": "405", "Internal Server Error": "500", "Bad Gateway": "502",
                  "Service Unavailable": "503", "Gateway Timeout": "504"}
_WORKER_TIMEOUT = lazy_re(r"WORKER TIMEOUT|request timed out|upstream timed out|RequestTimeout|executing too slow",
                             re.IGNORECASE)
# Frames of a web framework's request dispatch: an exception raised there failed a request (a 500).
_HANDLER_FRAME = lazy_re(
    r"express/lib/router|koa-compose|fastify/lib/(?:route|handle)|django/core/handlers|flask/app\.py\S* in "
    r"(?:full_)?dispatch_request|starlette/(?:routing|middleware)|fastapi/routing|DispatcherServlet\.do(?:Dispatch|Service)"
    r"|StandardWrapperValve|action_dispatch|actionpack|AspNetCore\.(?:Routing|Server\.Kestrel\.Core\.Internal\.Http)"
    r"|gin-gonic/gin\.\(\*Context\)|Illuminate/Routing|Symfony/Component/HttpKernel", re.IGNORECASE)
_HANDLER_NEEDLES = ("express/lib/router", "koa-compose", "fastify/lib", "django/core/handlers", "flask/app.py",
                    "starlette/", "fastapi/routing", "dispatcherservlet", "standardwrappervalve", "action_dispatch",
                    "actionpack", "aspnetcore", "gin-gonic/gin", "illuminate/routing", "httpkernel")
_ERROR_HEAD = lazy_re(r"\b\w*(?:Error|Exception)\b|Traceback|\bERROR\b|Internal Server Error")
_SERVICE_EVENT_CODES = lazy_re(r"Health checks failed with these codes: \[([\d,\s]+)\]", re.IGNORECASE)
_SERVICE_EVENT_TIMEOUT = lazy_re(r"unhealthy in \(?target-group .*?\(reason Request timed out\)", re.IGNORECASE)
_REASON_CAUSE = {
    "Target.ResponseCodeMismatch": None,  # decided from the codes in the description
    "Target.Timeout": "timeout",
    "Target.FailedHealthChecks": "not-listening",
    "Elb.InternalError": None,
}


_STARTED = lazy_re(r"start worker process|ready to handle connections|application startup complete|started in [\d.]+m?s"
                      r"|server started|startup completed|listening|ready to accept connections|started \w+ in ",
                      re.IGNORECASE)


def _started(ev: Evidence) -> bool:
    return any(_STARTED.search(ev.logs.texts[i]) for i in ev.logs.lines_with(
        "start worker process", "ready to handle", "startup complete", "started in", "server started", "listening",
        "ready to accept", "startup completed", "started "))


_ACCESS_LOGGING = lazy_re(r"nginx|uvicorn running on|AH00094|resuming normal operations|werkzeug|\* Running on http"
                             r"|Started (?:GET|POST) \"|httpd", re.IGNORECASE)


def _logs_requests(ev: Evidence) -> bool:
    """Servers that log every request by default (nginx, uvicorn, Apache, werkzeug, Rails)."""
    return any(_ACCESS_LOGGING.search(ev.logs.texts[i]) for i in ev.logs.lines_with(
        "nginx", "uvicorn", "ah00094", "resuming normal operations", "werkzeug", "running on http", "started get",
        "started post", "httpd"))


def _errors(ev: Evidence) -> bool:
    return any(ev.logs.level(i) in ("error", "fatal") for i in ev.logs.lines_with("error", "exception", "fatal", "fail"))


def target_group_of(ev: Evidence) -> str | None:
    m = _SIGNAL.search(ev.stopped_reason)
    return m.group(1).strip() if m and m.group(1) else None


def listen_banners(ev: Evidence) -> list[tuple[int, str, int]]:
    """(line, host, port) of every "listening on host:port" banner in the logs."""
    out = []
    for i in ev.logs.lines_with("listen", "running on", "serving", "started", "bound to", "bind", "available at",
                                "accepting connections", "server running", "local:", "responding at", "network:"):
        m = _BANNER.search(ev.logs.texts[i])
        if m:
            out.append((i, (m.group("host") or "").lower(), int(m.group("port"))))
    return out


# A check the task's security group drops ends in Target.Timeout, like a slow app: the reason code alone
# does not tell them apart.
_SG_TIMEOUT = (" If the reason code is Target.Timeout, a security group that drops the checks looks the same as a "
               "slow app: {who} must admit the load balancer's security group on {port}.")


def _receiver(ev: Evidence, port: str) -> tuple[str, str]:
    """Whose security group must admit the load balancer, and on which port: the task's on its container port
    (awsvpc), else the container instances' on the host port (the dynamic range with `hostPort: 0`)."""
    if remedy.network_mode(ev) == "awsvpc":
        return "the task's security group", port
    return ("the container instances' security group (bridge/host networking: the task has none of its own)",
            f"the host port mapped to {port} (32768-65535 when `hostPort` is 0)")


def _sg_timeout(ev: Evidence, port: object) -> str:
    who, on = _receiver(ev, f"port {port}" if port else "its container port")
    return _SG_TIMEOUT.format(who=who, port=on)

class HealthCheckFailedFacts(Facts):
    """The facts of health-check-failed."""

    cause: str | None = Field(None, description="wrong-path, wrong-port, bound-loopback, slow-start, ...")
    expected_port: int | None = Field(None, description="The port the target group checks.")
    listen_address: str | None = Field(None, description="The address the application listens on.")
    listen_port: int | None = Field(None, description="The port the application listens on.")
    observed_path: str | None = Field(None, description="The path the health checker requested.")
    requests_seen: int | None = Field(None, description="Health-check requests seen in the logs.")
    status_codes: list[str] | None = Field(None, description="Status codes the application answered.")
    target_group: str | None = Field(None, description="The target group.")
    security_group: str | None = Field(None, description="The security group that blocks the load balancer.")
    target_health_reason: str | None = Field(None, description="The target group's health reason (Target.ResponseCodeMismatch ...).")


_LOG_SOURCE = lazy_re(r"^logs\[([^\]]+)\]:\d+$")


def _answered_by(ev: Evidence, proofs: list[Proof]) -> str | None:
    """The task container whose own log shows how it answered the health checks (the request line, the listen
    banner a cause was read from): the one the checks reached, when no target group names the container. ECS
    stops every container of the task (all exit 143), so the exit codes cannot tell the app behind a proxy
    sidecar from the sidecar."""
    names = {c.name for c in ev.detail.containers if c.name}
    for p in proofs:
        m = _LOG_SOURCE.match(p.source)
        if m and m.group(1) in names:
            return m.group(1)
    return None


class HealthCheckFailed(Pattern):
    id = "health-check-failed"
    explained_by = ("loadBalancer", "portMappings", "healthCheckGracePeriodSeconds")
    priority = 40
    severity = "critical"
    Facts = HealthCheckFailedFacts
    key_facts = ()
    needs = frozenset({"target_health", "network"})

    def match(self, ev: Evidence) -> Match | None:
        m = _SIGNAL.search(ev.stopped_reason)
        if not m:
            return None
        facts: dict = {"target_group": m.group(1).strip() if m.group(1) else None}
        proofs = [reason_proof("stoppedReason", ev.stopped_reason)]
        tg = self._target_group(ev, facts["target_group"])
        if tg:
            facts.update({"health_check_path": tg.health_check_path, "health_check_port": tg.health_check_port,
                          "matcher": tg.matcher, "timeout_seconds": tg.timeout_seconds})
        cause = self._cause_from_targets(tg, facts, proofs) if tg else None
        if cause is None:
            cause = self._cause_from_service_events(ev, facts, proofs)
        banners = listen_banners(ev)
        loopback = [(i, h, p) for i, h, p in banners if h in _LOOPBACK or
                    (h == "localhost" and _FRAMEWORK_LOCALHOST.search(ev.logs.texts[i]))]
        # Servers bound to all interfaces often print the loopback URL too (Flask: "Running on all
        # addresses (0.0.0.0)", then http://127.0.0.1:5000 and http://<task ip>:5000).
        # A banner without an address (":9090") says nothing when another names loopback for that port.
        loop_ports = {p for _, _, p in loopback}
        reachable = [(i, h, p) for i, h, p in banners if (i, h, p) not in loopback and not (h == "" and p in loop_ports)]
        everywhere = bool(ev.logs.lines_with("running on all addresses"))
        loop = loopback[0] if loopback and not reachable and not everywhere else None
        banners = reachable or banners
        if loop:
            i, host, port = loop
            facts.update({"listen_address": host, "listen_port": port})
            proofs.append(log_proof(ev, i))
            cause = "not-listening"
        elif banners:
            i, host, port = banners[-1]
            facts.update({"listen_address": host or "0.0.0.0", "listen_port": port})
            expected = self._expected_port(ev, tg)
            if expected and port != expected:
                facts["expected_port"] = expected
                proofs.append(log_proof(ev, i))
                cause = cause or "wrong-port"
        if cause is None:
            cause = self._cause_from_requests(ev, tg, facts, proofs, bool(banners))
        if cause is None and ev.network and ev.network.lb_ingress_ok is False:
            cause = "no-requests-seen"
            facts["security_group"] = ev.network.lb_ingress_detail
        facts["cause"] = cause
        container = tg.container_name if tg and tg.container_name else (_answered_by(ev, proofs) or ev.primary)
        facts["container"] = container
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=tuple(proofs),
                     confidence=0.9, stage=Stage.SYMPTOM, container=container)

    # -- helpers ---------------------------------------------------------------------------------
    def _target_group(self, ev: Evidence, name: str | None) -> TargetGroupFacts | None:
        if not ev.target_groups:
            return None
        if name:
            for tg in ev.target_groups:
                if name in (tg.arn, tg.name) or tg.arn.endswith(name):
                    return tg
        return ev.target_groups[0]

    def _container(self, ev: Evidence, tg: TargetGroupFacts | None) -> str | None:
        if tg and tg.container_name:
            return tg.container_name
        return ev.primary

    def _expected_port(self, ev: Evidence, tg: TargetGroupFacts | None) -> int | None:
        if tg and tg.container_port:
            return tg.container_port
        if tg and tg.health_check_port and tg.health_check_port.isdigit():
            return int(tg.health_check_port)
        container = self._container(ev, tg)
        cdef = ev.container_definition(container)
        if cdef and len(cdef.port_mappings) == 1:
            return cdef.port_mappings[0]
        c = ev.container(container)
        ports = {b.container_port for b in (c.network_bindings if c else []) if b.container_port}
        return ports.pop() if len(ports) == 1 else None

    def _cause_from_service_events(self, ev: Evidence, facts: dict, proofs: list[Proof]) -> str | None:
        """The service's events, pasted with the logs, carry the load balancer's answer: "... is unhealthy in
        (target-group X) due to (reason Health checks failed with these codes: [502])" / "(reason Request
        timed out)"."""
        for i in reversed(ev.logs.lines_with("failed with these codes", "unhealthy in")):
            text = ev.logs.texts[i]
            codes_m = _SERVICE_EVENT_CODES.search(text)
            timed_out = _SERVICE_EVENT_TIMEOUT.search(text)
            if not codes_m and not timed_out:
                continue
            proofs.append(log_proof(ev, i))
            if timed_out and not codes_m:
                return "timeout"
            codes = re.findall(r"\b([1-5]\d\d)\b", codes_m.group(1)) if codes_m else []
            if codes:
                facts["status_codes"] = sorted(set(codes))
            if "404" in codes:
                return "path-not-found"
            if any(c.startswith("5") for c in codes):
                return "server-error"
            return None
        return None

    def _cause_from_targets(self, tg: TargetGroupFacts, facts: dict, proofs: list[Proof]) -> str | None:
        for target in tg.targets:
            if not target.reason or target.state == "healthy":
                continue
            proofs.append(Proof(f"targetHealth[{target.target_id}:{target.port}]",
                                f"{target.reason}: {target.description or ''}".strip()))
            facts["target_health_reason"] = target.reason
            codes = re.findall(r"\b([1-5]\d\d)\b", target.description or "")
            if codes:
                facts["status_codes"] = sorted(set(codes))
                if any(c == "404" for c in codes):
                    return "path-not-found"
                if any(c.startswith("5") for c in codes):
                    return "server-error"
            return _REASON_CAUSE.get(target.reason)
        return None

    def _cause_from_requests(self, ev: Evidence, tg: TargetGroupFacts | None, facts: dict, proofs: list[Proof],
                             listening: bool) -> str | None:
        path = tg.health_check_path if tg else None
        requests = []
        texts = ev.logs.texts
        # The newest request lines say what the checks got lately; an access log's earlier hours add
        # nothing but time (a health check every few seconds fills a long log).
        for i in ev.logs.newest_with("get /", "head /", "elb-healthchecker", "request finished", "method=get",
                                     '"method":"get', '"method": "get', limit=REQUEST_LINES):
            text = texts[i]
            found = _request(text) or _upstream_failure(text)
            if found:
                requests.append((i, found[0], found[1], "elb-healthchecker" in text.lower()))
        for i in ev.logs.newest_with("not found: /", "server error: /", "unavailable: /", "bad gateway: /",
                                     "timeout: /", "bad request: /", "forbidden: /", "unauthorized: /",
                                     limit=REQUEST_LINES):
            m = _DJANGO.search(ev.logs.texts[i])
            if m:
                requests.append((i, m.group(2), _DJANGO_STATUS[m.group(1)], False))
        requests.sort()
        health = [r for r in requests if (path and r[1] == path) or r[3] or (not path and _HEALTHY_PATHS.search(r[1]))]
        if health:
            i, seen_path, status, _ = health[-1]
            facts["observed_path"] = seen_path
            codes = sorted({r[2] for r in health})
            facts["status_codes"] = codes
            proofs.append(log_proof(ev, i))
            if status == "404":
                return "path-not-found"
            if status in ("499", "504", "408"):
                return "timeout"  # the checker gave up waiting (nginx 499 = client closed the request)
            if status.startswith("5"):
                return "server-error"
            if status.startswith(("3", "4")):
                return None
        for i in ev.logs.lines_with("timeout", "timed out", "too slow"):
            if _WORKER_TIMEOUT.search(ev.logs.texts[i]):
                proofs.append(log_proof(ev, i))
                return "timeout"
        if listening and not health and requests:
            facts["requests_seen"] = len(requests)
            return "no-requests-seen"
        if not requests and not health and (listening or _started(ev)) and _logs_requests(ev) and not _errors(ev):
            # The runbook's rule: the server was up, logs every request, and not one health check shows.
            facts["requests_seen"] = 0
            return "no-requests-seen"
        failed = self._failed_request(ev)
        if failed is not None:
            proofs.append(log_proof(ev, failed))
            return "server-error"
        return None

    def _failed_request(self, ev: Evidence) -> int | None:
        """The error line of an exception raised while a request was being served (the framework's
        dispatch frames are in its stack): the server answers 500, to the health checks too."""
        logs = ev.logs
        texts = logs.texts
        # The lines holding a needle that the frame regex may match, found from the regex's own words in one pass
        # over the raw text ("dispatcherservlet.do", not the "DispatcherServlet" a Spring app's every request line
        # names), not a search of the whole log for each of the 15 needles; all the lines holding a needle when
        # that cannot tell (a text that is not plain ASCII). (Not learned into the shared search pass: a long
        # access log would carry a Spring app's occurrences through every later scan.)
        candidates = logs.may_match(_HANDLER_FRAME, learn=False, few=0)
        if type(candidates) is range:
            candidates = logs.lines_with(*_HANDLER_NEEDLES, learn=False)
        for i in candidates:
            text = texts[i]
            low = text.lower()
            if not any(needle in low for needle in _HANDLER_NEEDLES) or not _HANDLER_FRAME.search(text):
                continue
            for j in range(i, max(-1, i - 40), -1):
                if logs.containers[j] == logs.containers[i] and _ERROR_HEAD.search(logs.texts[j]) \
                        and not logs.quiet(j):
                    return j
        return None

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        tg = f.get("target_group")
        tg_name = tg.split("/")[-2] if tg and tg.startswith("arn:") and tg.count("/") >= 2 else tg
        cause = f.get("cause")
        container = m.container or "the container"
        # The path only when the evidence gives it: "/health" would be a guess stated as a fact.
        path = f.get("health_check_path") or f.get("observed_path") or "the health path"
        known_path = path.startswith("/")
        port = next((p for p in (f.get("expected_port"), f.get("health_check_port"), f.get("listen_port"))
                     if p is not None and str(p).isdigit()), None)
        if port is None:
            cdef = ev.container_definition(m.container)
            port = cdef.port_mappings[0] if cdef and cdef.port_mappings else None
        if port is None:
            # The event's own network bindings: the container port the task exposed (one container's, or the
            # only one bound in the task).
            bound = [(c.name, b.container_port) for c in ev.detail.containers for b in c.network_bindings
                     if b.container_port]
            mine = [p for name, p in bound if name == m.container] or (
                [bound[0][1]] if len({p for _, p in bound}) == 1 else [])
            port = mine[0] if mine else None
        port_text = str(port) if port else "<the port the app listens on>"
        why = remedy.cite(m, -1)  # the application's line when there is one, else the stop reason
        # The app answered the checks with a status of its own (not a proxy's 502/503/504 for an app not up yet, nor
        # the 408/499 of a check that gave up waiting):
        # it had started and the checks reached it, so neither start-up time nor a security group is the cause.
        answered = any(c not in ("408", "499", "502", "503", "504") for c in f.get("status_codes") or ())
        # The app logged the same refusal at every check: the checks reach it and it turns them away.
        refused = remedy.repeated_rejection(ev, m.container) if cause is None else None
        answered = answered or refused is not None
        steps: list[str] = []
        rows = [("Target group", "Application", "Result")]
        if cause == "not-listening":
            addr = f.get("listen_address", "127.0.0.1")
            lp = f.get("listen_port", port_text)
            rows.append((f"checks the task IP, port {lp}", f"listens on {addr}:{lp} only", "connection refused"))
            steps.append(f"Bind the server to all interfaces, not {addr}: uvicorn `--host 0.0.0.0`, gunicorn "
                         f"`-b 0.0.0.0:{lp}`, Flask `app.run(host=\"0.0.0.0\")`, Node `server.listen({lp}, "
                         f"\"0.0.0.0\")`, Next.js `HOSTNAME=0.0.0.0`, Rails/Puma `-b 0.0.0.0`, .NET "
                         f"`ASPNETCORE_URLS=http://+:{lp}`, Spring `server.address=0.0.0.0`.")
        elif cause == "wrong-port":
            rows.append((f"port {f.get('expected_port')}", f"listens on {f.get('listen_port')}", "connection refused"))
            steps.append(f"Make the app listen on {f.get('expected_port')} (usually a PORT variable) or change the "
                         f"container port mapping and the target group to {f.get('listen_port')}.")
        elif cause == "path-not-found":
            rows.append((f"path {path}" if known_path else "its health path", f"no route {path}" if known_path
                         else "no such route", "404"))
            steps.append(f"Add {f'a `{path}` route' if known_path else 'the target group health path (its HealthCheckPath) as a route'} returning 200, or change the target group's health-check path to a "
                         "route the app already answers 200 on (elbv2 modify-target-group, or the load balancer "
                         "settings of your infrastructure code).")
        elif cause == "server-error":
            rows.append((f"path {path}" if known_path else "its health path", "route errors",
                         ", ".join(f.get("status_codes", ["5xx"]))))
            named = remedy.named_error(ev, m.container)
            logged = None if named else remedy.logged_error(ev, m.container)
            upstream = next((p for p in m.proofs if _NGINX_UPSTREAM.search(p.text)), None)
            if upstream:
                # nginx itself answered: the request never reached the app behind it.
                said = upstream.text
                to = re.search(r"upstream: \"([^\"]+)\"", said)
                if re.search(r"(?i)permission denied|\(13:", said):
                    why_not = ("nginx's worker user may not connect to it: make the socket's owner, group and mode "
                               "admit that user (php-fpm's `listen.owner`, `listen.group`, `listen.mode` in its pool "
                               "config), or run both under the same user")
                elif re.search(r"(?i)connection refused|no such file|\(111:|\(2:", said):
                    why_not = ("nothing listens there: the process behind nginx (php-fpm, the app server) is not "
                               "running, crashed, or listens on another socket or port than nginx's `proxy_pass` / "
                               "`fastcgi_pass`")
                elif re.search(r"(?i)timed out", said):
                    why_not = "it answered too slowly: look at what the process behind nginx was doing"
                else:
                    why_not = "check that the process behind nginx runs and answers on the address nginx uses"
                steps.append(f"nginx answered {', '.join(f.get('status_codes', ['5xx']))} to "
                             f"{f'`{path}`' if known_path else 'the health checks'} because it could not pass the "
                             f"request to its upstream{f' (`{to.group(1)}`)' if to else ''}: {why_not}. Then "
                             f"check that {f'`{path}`' if known_path else 'the health path'} answers 200."
                             + remedy.because(upstream.source, said))
            elif logged:
                # An error the app logged in words while it answered 5xx: act on it.
                i, error, _ = logged
                steps.append(f"The health route answers {', '.join(f.get('status_codes', ['5xx']))} and the app logs "
                             f"\u201c{error}\u201d: {remedy.error_action(error)}, then check that "
                             f"{f'`{path}`' if known_path else 'the health path'} answers 200. Keep the health check "
                             "cheap and independent of the database and other services."
                             + remedy.because(log_proof(ev, i).source, ev.logs.texts[i]))
            elif named:
                i, error = named
                steps.append(f"The health route itself fails with `{error}`: {remedy.error_action(error)}, then check "
                             f"that {f'`{path}`' if known_path else 'the health path'} answers 200. Keep the health "
                             f"check cheap and independent of the database and other services.{remedy.because(log_proof(ev, i).source, error)}")
            else:
                steps.append(f"The health route itself fails: read the errors logged around the {f'`{path}`' if known_path else 'health-check'} requests; keep "
                             "the health check cheap and independent of the database and other services.")
        elif cause == "timeout":
            rows.append((f"timeout {f.get('timeout_seconds', 5)}s", "answers slower", "timeout"))
            if (remedy.ran_for(ev) or 0) > remedy.RAN_A_WHILE_S:  # it served for a while: not a start-up
                steps.append("The app answered the checks for a while and then too slowly: look at what it was doing "
                             "when the checks timed out (CPU, a blocked event loop or worker pool, a slow dependency the "
                             "health route calls), keep the health route light, and raise the target group's "
                             "health-check timeout only if slow answers under load are expected.")
            else:
                steps.append("The app answers too slowly (or only after a long start-up): raise the target group's "
                             "health-check timeout/interval and the service's `healthCheckGracePeriodSeconds`, and "
                             "keep the health route light.")
            # A check the task's security group drops also ends in Target.Timeout: rule that out too, unless the
            # checks passed for a while (the group let them through then).
            if not (remedy.ran_for(ev) or 0) > remedy.RAN_A_WHILE_S:
                steps.append(_sg_timeout(ev, port).strip())
        elif cause == "no-requests-seen":
            rows.append(("sends health checks", "never receives them", "timeout"))
            who, on = _receiver(ev, f"port {port_text}")
            steps.append(f"The load balancer's checks never reach the task: {who} must admit the "
                         f"load balancer's security group on {on}; check the subnets' NACLs too."
                         + (f" ({f['security_group']})" if f.get("security_group") else ""))
        elif refused:
            i, line = refused
            steps.append(f"The checks reach {container} and it turns each one away, logging \u201c{line}\u201d: "
                         + ("its allowed-host check refuses the Host the load balancer sends (the task's private IP): "
                            + (f"allow it in `{settings[-1]}` (the setting the line names)"
                               if (settings := [w for w in re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", line)
                                                if not w.startswith("HTTP_")]) else
                               "allow it (Django `ALLOWED_HOSTS`, Rails `config.hosts` / `config.host_authorization` "
                               "exclude for the health path, or the app's configured domain)")
                            + ", or answer the health path before the host check" if remedy.host_rejection(line) else
                            "fix what that line names so the health path answers 200")
                         + f".{remedy.because(log_proof(ev, i).source, line)}")
        elif answered and f.get("status_codes"):
            # The checks reached the app and it answered them with a status of its own, not 200: that answer is the
            # failure to act on, not the target group's settings in general.
            codes = [c for c in f["status_codes"] if c not in ("408", "499", "502", "503", "504")]
            where = f"`{path}`" if known_path else "the health path"
            steps.append(f"The checks reach {container} and it answers {where} with {', '.join(codes)}, not 200: make "
                         f"{where} answer 200 to the load balancer's request"
                         + (" (a 400 there usually means an allowed-host check refusing the task's IP as the Host "
                            "header, or plain HTTP sent to a port that expects HTTPS: compare the target group's "
                            "protocol and port with the app's)" if "400" in codes else
                            " (a 401 or 403 means the health path requires authentication or refuses the Host: exempt "
                            "the health path)" if {"401", "403"} & set(codes) else "")
                         + ", or set the target group's success codes (matcher) if that answer means healthy"
                         + (f"; its protocol, port, path and matcher: `aws elbv2 describe-target-groups "
                            f"--target-group-arns {tg}{_arn_region(tg)}`." if tg and tg.startswith("arn:") else "."))
        elif (lock := release_step(ev, m.container)) is not None:
            # The app was still waiting for a migration lock left behind by a killed migration: release it.
            steps.append(lock)
        elif (own := _cannot_answer(ev, port_text)) is not None:
            # The log already says why nothing answers the checks: act on that line, not the settings in general.
            steps.append(own)
        elif tg and tg.startswith("arn:"):
            steps.append("Compare the target group's health check (path, port, matcher, timeout) with what the app "
                         f"serves: `aws elbv2 describe-target-groups --target-group-arns {tg}{_arn_region(tg)}` and "
                         f"`aws elbv2 describe-target-health --target-group-arn {tg}{_arn_region(tg)}` (the reason code names the "
                         "failure; it shows only while a task is registered)."
                         + ("" if answered else _sg_timeout(ev, port)))
        else:
            lbs = remedy.service_events(ev)
            steps.append("Compare the target group's health check (path, port, matcher, timeout) with what the app "
                         "serves" + (f"; the service events name the target group: `{lbs}`." if lbs else ".")
                         + ("" if answered else _sg_timeout(ev, port)))
        if steps and "(Why: " not in steps[0]:  # a step citing its own line keeps that one
            steps[0] += why
        mismatch = ""
        if len(rows) > 1:
            mismatch = " The mismatch: " + "; ".join(f"{h.lower()}: {v}" for h, v in zip(rows[0], rows[1], strict=True)) + "."
        # A Host-header refusal depends on the Host the load balancer sends (the task's IP): a curl to localhost
        # sends another one, so a local test cannot show it.
        host_refused = bool(refused and remedy.host_rejection(refused[1]))
        if cause != "no-requests-seen" and not host_refused and not remedy.local_repro_blocked(ev, m.container, serving=True):
            steps.append(_local_test(ev, m.container, port, f.get("health_check_path") or f.get("observed_path"), tg))
        if cause is None and not answered and refused is None and (unreached := _never_reached(ev, m.container, port)):
            # The app started and ran until ECS stopped it, yet not one request reached it: listening only on the
            # container's loopback (or another port) looks exactly like that from the load balancer. A banner that
            # names localhost is the evidence and leads; without one it follows the target group's check.
            tested = steps[-1].startswith("Test locally")
            steps.insert(0 if unreached[0] is not None else 1, _loopback_step(ev, m.container, port, unreached, tested))
        svc = remedy.service(ev)
        # Start-up time helps only a failure of start-up: not an app that answered with a named error, nor one
        # that ran a while before the checks failed.
        startup = not (cause == "server-error" and remedy.named_error(ev, m.container)) and not (
            (remedy.ran_for(ev) or 0) > remedy.RAN_A_WHILE_S) and not answered
        # ...and only with evidence of a slow start: checks that timed out, or a log in which the server never
        # said it listens (no log at all is no evidence).
        starting = remedy.still_starting(ev, m.container)
        still_starting = (starting is not None and not listen_banners(ev)
                          and not remedy.repeated_rejection(ev, m.container, times=1))
        slow_why = (" (Why: the checks timed out.)" if cause == "timeout" or starting is None else
                    remedy.because(log_proof(ev, starting).source, ev.logs.texts[starting]))
        if cause in (None, "timeout", "server-error") and svc and startup and (cause == "timeout" or still_starting):
            command = (f"`aws ecs update-service --cluster {remedy.q(remedy.cluster(ev))} --service "
                       f"{remedy.q(svc)} --health-check-grace-period-seconds 120`")
            iac = ("CDK `healthCheckGracePeriod`, Copilot manifest `http.healthcheck.grace_period`, CloudFormation "
                   "`HealthCheckGracePeriodSeconds`, Terraform `health_check_grace_period_seconds`")
            if remedy.stack_managed(ev):
                # A stack made the service: a change by hand is reverted at its next deploy.
                steps.append("Give slow starters time: set the service's health-check grace period above the "
                             f"start-up time in the infrastructure code that made the service ({iac}) and deploy "
                             f"it; by hand ({command}) it lasts only until the stack's next deploy.{slow_why}")
            else:
                steps.append("Give slow starters time: set the service's health-check grace period above the "
                             f"start-up time: {command}; where infrastructure code manages the service ({iac}), "
                             f"set it there, or its next deploy reverts it.{slow_why}")
        return Explanation(
            title=f"ELB health checks failed{f' ({cause})' if cause else ''}" + (f" in {tg_name}" if tg_name else ""),
            summary=(f"The load balancer marked the task unhealthy{f' in target group {tg_name}' if tg_name else ''} "
                     "and ECS replaced it"
                     + {"not-listening": f": {container} listens on {f.get('listen_address')} only, which the load "
                                         "balancer cannot reach.",
                        "wrong-port": f": {container} listens on {f.get('listen_port')}, the check uses "
                                      f"{f.get('expected_port')}.",
                        "path-not-found": f": {'the health path ' + path if known_path else 'the health path'} answers 404.",
                        "server-error": f": {'the health path ' + path if known_path else 'the health path'} answers with server errors.",
                        "timeout": ": the health checks time out.",
                        "no-requests-seen": ": the health checks never reached the application.",
                        }.get(cause or "", ".")) + mismatch,
            remediation=steps,
        )


# supervisord's report of a program that died: "exited: web (exit status 1; not expected)".
_SUPERVISED_EXIT = lazy_re(r"\bexited: ([\w.:@-]+) \((?:exit status (\d+)|terminated by (\w+))[^)]*; not expected\)")


def _cannot_answer(ev: Evidence, port: str) -> str | None:
    """Step 1 when the task's own log says why the checks get no answer: the server program under a supervisor
    exits and is restarted. (nginx failing to reach its upstream is a server-error of its own.)"""
    logs = ev.logs
    exits: dict[str, tuple[int, str]] = {}
    for i in logs.newest_with("not expected", limit=200):
        m = _SUPERVISED_EXIT.search(logs.texts[i])
        if m:
            exits[m.group(1)] = (i, f"status {m.group(2)}" if m.group(2) else f"signal {m.group(3)}")
    if not exits:
        return None
    names = list(exits)
    i, status = exits[names[-1]]
    which = (f"`{names[0]}` exiting with {status} (not expected) and starting it again" if len(names) == 1 else
             "programs exiting (not expected) and starting them again: " + ", ".join(f"`{n}`" for n in names))
    first = names[0] if len(names) == 1 else "<program>"
    return (f"supervisord shows {which}: a server that dies and restarts answers no health checks while it is down "
            f"(when it is the one on port {port}, that is why the checks fail). Its error is not in this log, because "
            f"supervisord keeps a program's output in its own files: in its `[program:{first}]` section set "
            "`stdout_logfile=/dev/stdout`, `stdout_logfile_maxbytes=0` and `redirect_stderr=true` and deploy, or "
            f"while a task runs read it through ECS Exec with `supervisorctl tail {first} stderr`; then fix the "
            f"error it prints.{remedy.because(log_proof(ev, i).source, logs.texts[i])}")


def _logs_a_request(ev: Evidence) -> bool:
    """Any request line at all in the logs (an access log's, a framework's, Django's, nginx's upstream error)."""
    texts = ev.logs.texts
    for i in ev.logs.newest_with("get /", "head /", "post /", 'get "/', 'head "/', 'post "/', "elb-healthchecker",
                                 "request finished", "method=",
                                 '"method":', limit=REQUEST_LINES):
        if _request(texts[i]) or _upstream_failure(texts[i]) or "elb-healthchecker" in texts[i].lower() \
                or _ANY_REQUEST.search(texts[i]):
            return True
    return any(_DJANGO.search(texts[i]) for i in ev.logs.newest_with(
        "not found: /", "server error: /", "unavailable: /", "bad gateway: /", "timeout: /", "bad request: /",
        "forbidden: /", "unauthorized: /", limit=REQUEST_LINES))


# A request line of any method, status or none (an access log, a framework's "Started GET", Rails' quoted
# 'Started GET "/"', "method=POST").
_ANY_REQUEST = lazy_re(r"\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \"?/|\bmethod[=\":\s]+\"?[A-Z]{3,7}\b")
# A last line that reports work still under way ("Creating transactional connection pool"): the app had not
# finished starting, so a hang, not an unreachable listener, is as likely.
_IN_PROGRESS = lazy_re(r"(?i)\b(?:creating|connecting|opening|establishing|acquiring|fetching|downloading|building|"
                       r"scanning|registering|waiting|starting|loading|initiali[sz]ing|migrating|applying|"
                       r"preparing|compiling|warming)\b")
# ECS's SIGTERM (143), or the SIGKILL after it (137): the container ran until ECS stopped it. A SIGTERM handler that
# closes the server and exits 0 (uvicorn, gunicorn, a Node server.close) was stopped by ECS too, when the stop is
# the load balancer's.
_STOPPED_BY_ECS = (143, 137)
# The app's own lines once ECS's SIGTERM reached it: its shutdown, not its start-up ("waiting for open connections
# to close" is no start-up still under way).
_SHUTTING_DOWN = lazy_re(r"(?i)\bSIG(?:TERM|INT|QUIT)\b|\bshutting down\b|\bgraceful(?:ly)? (?:shut|stop)|"
                         r"\bshutdown (?:signal|requested|initiated)|\breceived (?:a )?(?:stop|termination|shutdown) signal")


def _never_reached(ev: Evidence, container: str | None, port: object) -> tuple[int | None, str] | None:
    """(the line of a banner that names localhost, or None; its host:port or "") when the app started and ran until
    ECS stopped it (exit 143/137, or 0 after the load balancer's stop; lines of its own, no error, not still starting)
    and no request line shows in its log; None otherwise, and when a banner shows it listening on all interfaces, or
    on an address other than loopback, on the checked port."""
    box = ev.container(container)
    if box is None or (box.exit_code not in _STOPPED_BY_ECS and box.exit_code != 0):
        return None  # (the check below, before any line is read)
    logs = ev.logs
    containers = logs.containers
    own = [i for i in range(len(logs)) if containers[i] in (container, None)]
    # Its lines up to the shutdown ECS's SIGTERM set off: the last of them tells whether start-up was still under way.
    # (Only the lines the regex may match are read: a long log's other lines are not parsed.)
    down = next((bisect_left(own, i) for i in logs.may_match(_SHUTTING_DOWN, learn=False)
                 if containers[i] in (container, None) and _SHUTTING_DOWN.search(logs.texts[i])), len(own))
    up = own[:down] or own
    # Exit 0 counts only with the app's own shutdown in its log: a supervisor or a runner that exits 0 on its own
    # is no server ECS stopped.
    if box.exit_code not in _STOPPED_BY_ECS and not (box.exit_code == 0 and down < len(own)
                                                     and _SIGNAL.search(ev.stopped_reason)):
        return None
    starting = remedy.still_starting(ev, container)
    if not own or _errors(ev) or remedy.named_error(ev, container) or (starting is not None and starting <= up[-1]):
        return None
    if _logs_a_request(ev) or _IN_PROGRESS.search(ev.logs.texts[up[-1]]):
        return None
    banners = [b for b in listen_banners(ev) if ev.logs.containers[b[0]] in (container, None)]
    # On all interfaces, or on an address of the task's own (Next.js and Vite print "Network: http://<task IP>:3000"
    # beside "Local: http://localhost:3000"): the load balancer can reach it there.
    if any((h in _ALL_INTERFACES or (h != "localhost" and h not in _LOOPBACK and not h.startswith("127.")))
           and (not str(port).isdigit() or p == int(str(port))) for _, h, p in banners):
        return None
    local = next(((i, f"{h}:{p}") for i, h, p in reversed(banners) if h == "localhost"), None)
    return local if local else (None, "")


def _loopback_step(ev: Evidence, container: str | None, port: object, unreached: tuple[int | None, str],
                   tested: bool) -> str:
    """Listen on 0.0.0.0 on the container port: the step for an app no request ever reached."""
    line, address = unreached
    name = remedy.container_name(ev, container) or "the app"
    box = ev.container(container)
    known = str(port).isdigit()
    if line is not None:
        lead = (f"{name} says it listens on `{address}`, and not one request reached it: a server bound to localhost "
                "(127.0.0.1) answers only inside its own container, while the load balancer checks the task's IP.")
        why = remedy.because(log_proof(ev, line).source, ev.logs.texts[line])
    else:
        last = max(i for i in range(len(ev.logs)) if ev.logs.containers[i] in (container, None))
        text = " ".join(ev.logs.texts[last].split())
        text = text if len(text) <= 90 else text[:89].rsplit(" ", 1)[0] + "\u2026"
        lead = (f"{name} started (its last line reads \u201c{text}\u201d) and ran until ECS stopped it (exit "
                f"{box.exit_code if box else 143}), yet no request line shows in its log: it may listen only on localhost "
                "(127.0.0.1), which answers inside its own container alone, or on another port than the one the "
                "load balancer checks.")
        why = ""
    p = str(port) if known else "port"
    # Deno's listeners (Deno.serve, oak) take a hostname; name them for a Deno image, the common servers otherwise.
    js = f"port: {port}" if known else "port"
    how = (f"with Deno `Deno.serve({{ hostname: \"0.0.0.0\", {js} }}, handler)`, with oak "
           f"`app.listen({{ hostname: \"0.0.0.0\", {js} }})`" + (f" (not `\"localhost:{port}\"`)" if known else "")
           if "deno" in (remedy.image(ev, name) or "").lower() else
           f"Node `server.listen({p}, \"0.0.0.0\")`, uvicorn `--host 0.0.0.0`, gunicorn `-b 0.0.0.0"
           + (f":{port}`" if known else "`") + ", Flask `app.run(host=\"0.0.0.0\")`, Next.js `HOSTNAME=0.0.0.0`, "
           "Rails/Puma `-b 0.0.0.0`, Spring `server.address=0.0.0.0`")
    return (f"{lead} Make it listen on " + (f"`0.0.0.0:{port}`" if known else "`0.0.0.0` on its container port")
            + f": {how}."
            + ("" if known else " Its container port: `" + remedy.describe_task_definition(
                ev, remedy.container_query(ev, container, "portMappings")) + "`.")
            + (" The local test below tells them apart: through `-p`, a server bound to localhost in the container "
               "answers nothing (HTTP 000)." if tested else "")
            + why)


def _arn_region(arn: str) -> str:
    """` --region <r>` of an ARN: the CLI looks a resource up in its configured region, not the ARN's."""
    parts = arn.split(":")
    return f" --region {parts[3]}" if len(parts) > 3 and re.fullmatch(r"[a-z]{2}(?:-gov)?-[a-z]+-\d", parts[3]) else ""


def _local_test(ev: Evidence, container: str | None, port: object, path: str | None, tg: str | None) -> str:
    """Run the image locally and ask it what the load balancer asks. A port or a path no evidence gave is
    read first (the container port from the task definition, the path from the target group), so the
    block runs as pasted."""
    lines: list[str] = []
    if port is None:
        lines.append(remedy.td_value(ev, "port", container, "portMappings[0].containerPort"))
        if tg and tg.startswith("arn:"):
            # The target group may check another port than the traffic port: use its HealthCheckPort then.
            lines.append(remedy.read_into("hc", f"aws elbv2 describe-target-groups --target-group-arns "
                                                f"{remedy.q(tg)}{_arn_region(tg)} --query 'TargetGroups[0].HealthCheckPort'"))
            lines.append('[ "$hc" = traffic-port ] || port=$hc')
        port = "$port"
    if path is None and tg and tg.startswith("arn:"):
        lines.append(remedy.read_into("path", f"aws elbv2 describe-target-groups --target-group-arns {remedy.q(tg)}"
                                              f"{_arn_region(tg)} "
                                              "--query 'TargetGroups[0].HealthCheckPath'"))
        path = "$path"
    path = path or "/"
    lines.append(remedy.read_command(ev, container))
    lines.append(remedy.docker_run(ev, container, port=str(port), detach="health-test", args=remedy.RUN_COMMAND))
    url = f"http://localhost:{port}{path}"
    # Wait while there is no HTTP answer at all (refused, or the empty reply docker-proxy gives before the
    # app listens), then print the status the load balancer would see.
    quoted = remedy.q(url) if "$" not in url else f'"{url}"'
    lines.append(f"for i in $(seq 20); do code=$(curl -s -o /dev/null -w '%{{http_code}}' {quoted}); "
                 '[ "$code" != 000 ] && break; sleep 3; done; echo "HTTP $code"')
    lines += ["docker logs health-test", "docker rm -f health-test"]
    return ("Test locally with the port and path the load balancer uses, in bash: ```\n" + "\n".join(lines) + "\n``` "
            "it must answer 200 (or the target group's matcher) within the health-check timeout.")


PATTERN = HealthCheckFailed()
