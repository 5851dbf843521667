"""health_check_failed's failed-request search reads only the lines the handler-frame regex may match: the same
error line as reading every line that names a framework, with request lines naming the framework on every line
(a Spring app's DispatcherServlet), in short and long logs, non-ASCII ones too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.inputs import offline_evidence, parse_task_event
from shared.patterns import health_check_failed as hc
from shared.patterns import registry

ROOT = Path(__file__).resolve().parents[2]
_EVENT = json.loads((ROOT / "tests/cases/dev6/002-elb-hc-tupaia-no-subdomain-matched-500-middleware.json").read_text())["event"]

_REQUEST = "2024-05-01 10:00:01.456  INFO 1 --- [nio-8080-exec-1] o.s.web.servlet.DispatcherServlet : Completed 200 OK"
_TRACE = ["2024-05-01 10:00:02.000 ERROR 1 --- [nio-8080-exec-2] o.a.c.c.C.[dispatcherServlet] : Servlet.service() "
          "threw exception java.lang.IllegalStateException: boom",
          "\tat com.example.Web.handle(Web.java:12)",
          "\tat org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1067)"]
_NO_FRAME = ["ERROR something failed", "\tat org.springframework.web.servlet.DispatcherServlet.init(X.java:1)"]


def _brute(ev) -> int | None:
    logs = ev.logs
    for i in range(len(logs)):
        low = logs.texts[i].lower()
        if not any(n in low for n in hc._HANDLER_NEEDLES) or not hc._HANDLER_FRAME.search(logs.texts[i]):
            continue
        for j in range(i, max(-1, i - 40), -1):
            if logs.containers[j] == logs.containers[i] and hc._ERROR_HEAD.search(logs.texts[j]) and not logs.quiet(j):
                return j
    return None


@pytest.mark.parametrize("lines", [
    [_REQUEST] * 3 + _TRACE, [_REQUEST] * 200 + _TRACE + [_REQUEST] * 50, [_REQUEST] * 200 + _NO_FRAME,
    ["démarré ✓"] + [_REQUEST] * 100 + _TRACE, [_REQUEST] * 100 + [_TRACE[0], _TRACE[2].replace("doDispatch", "doDiſpatch")],
])
def test_failed_request_matches_reading_every_line(lines):
    pattern = next(p for p in registry() if isinstance(p, hc.HealthCheckFailed))
    want = _brute(offline_evidence(parse_task_event(_EVENT), lines))
    assert pattern._failed_request(offline_evidence(parse_task_event(_EVENT), lines)) == want
    if lines[-1] == _TRACE[-1]:
        assert want is not None
