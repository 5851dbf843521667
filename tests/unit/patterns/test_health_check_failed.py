"""health-check-failed: ELB health checks failed; the cause from the logs and, live, the target group."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest

from shared.evidence.model import NetworkFacts, TargetGroupFacts, TargetHealth
from shared.patterns.health_check_failed import PATTERN
from tests.support.fixcheck import command_problems
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import TG_ARN, assert_finding, box, elb_failed, exited

ID = "health-check-failed"

POSITIVES = [
    pytest.param(["server listening on :9090 (http+ws)", "http server bound to 127.0.0.1:9090"],
                 {"cause": "not-listening", "listen_address": "127.0.0.1", "listen_port": 9090},
                 id="addressless-banner-then-loopback-bind"),
    pytest.param(["{", '  "stack": "Error: No tenant matched', "  at resolveTenant (/srv/dist/tenant.js:83:15)",
                  "  at Layer.handle [as handle_request] (/srv/node_modules/express/lib/router/layer.js:95:5)",
                  "  at next (/srv/node_modules/express/lib/router/route.js:137:13)"],
                 {"cause": "server-error"}, id="exception-thrown-while-serving-a-request"),
    pytest.param([], {"target_group": TG_ARN}, id="no-logs-cause-unknown"),
    pytest.param(["INFO:     Started server process [1]", "INFO:     Waiting for application startup.",
                  "INFO:     Application startup complete.",
                  "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"],
                 {"cause": "not-listening", "listen_address": "127.0.0.1", "listen_port": 8000}, id="uvicorn-loopback"),
    pytest.param([" * Serving Flask app 'app'", " * Debug mode: off", " * Running on http://127.0.0.1:5000",
                  "Press CTRL+C to quit"], {"cause": "not-listening", "listen_port": 5000}, id="flask-loopback"),
    pytest.param(['{"level":30,"time":1714557600000,"pid":1,"hostname":"ip-10-0-1-17","msg":"Server listening at '
                  'http://127.0.0.1:3000"}'], {"cause": "not-listening", "listen_port": 3000}, id="fastify-json"),
    pytest.param(["Puma starting in single mode...", "* Puma version: 6.4.2 (ruby 3.3.0-p0)",
                  "* Listening on http://127.0.0.1:3000", "Use Ctrl-C to stop"],
                 {"cause": "not-listening"}, id="puma-loopback"),
    pytest.param(["[2024-05-01 10:00:00 +0000] [1] [INFO] Starting gunicorn 21.2.0",
                  "[2024-05-01 10:00:00 +0000] [1] [INFO] Listening at: http://127.0.0.1:8000 (1)"],
                 {"cause": "not-listening", "listen_address": "127.0.0.1"}, id="gunicorn-loopback"),
    pytest.param(["info: Microsoft.Hosting.Lifetime[14]", "      Now listening on: http://localhost:5000"],
                 {"cause": "not-listening", "listen_address": "localhost", "listen_port": 5000},
                 id="aspnet-localhost"),
    pytest.param(["INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
                  'INFO:     10.0.1.17:41234 - "GET /health HTTP/1.1" 404 Not Found',
                  'INFO:     10.0.2.9:52110 - "GET /health HTTP/1.1" 404 Not Found'],
                 {"cause": "path-not-found", "observed_path": "/health", "status_codes": ["404"]}, id="health-404"),
    pytest.param(['10.0.1.17 - - [01/May/2024:10:00:00 +0000] "GET /healthz HTTP/1.1" 500 0 "-" '
                  '"ELB-HealthChecker/2.0"'], {"cause": "server-error", "observed_path": "/healthz"},
                 id="nginx-access-log-500"),
    pytest.param(["[2024-05-01 10:00:30 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)"], {"cause": "timeout"},
                 id="gunicorn-worker-timeout"),
    pytest.param(['{"level":30,"time":1594129201026,"pid":1,"req":{"id":7,"method":"GET","url":"/health",'
                  '"headers":{"host":"localhost:9091"}},"res":{"statusCode":503,"headers":{}},"err":{"type":"Error",'
                  '"message":"failed with status code 503","stack":"Error: failed with status code 503\\n    at '
                  'ServerResponse.onResFinished (/usr/src/node_modules/pino-http/logger.js:73:38)"},"msg":"request errored"}'],
                 {"cause": "server-error", "observed_path": "/health", "status_codes": ["503"]},
                 id="pino-http-nested-request-and-response"),
    pytest.param(["service orders-api (port 8081) is unhealthy in target-group orders-api-tg due to (reason Health "
                  "checks failed with these codes: [502])."], {"cause": "server-error", "status_codes": ["502"]},
                 id="pasted-service-event-with-the-codes"),
    pytest.param(["service orders-api (port 8080) is unhealthy in target-group orders-api-tg due to (reason Request "
                  "timed out)."], {"cause": "timeout"}, id="pasted-service-event-request-timed-out"),
    pytest.param(["(service gw) (port 8443) is unhealthy in (target-group arn:aws:elasticloadbalancing:us-east-1:"
                  "111122223333:targetgroup/gw/5c3a9e0d4b1f7a62) due to (reason Health checks failed with these codes: "
                  "[503])."], {"cause": "server-error", "status_codes": ["503"]},
                 id="service-event-target-group-in-parentheses"),
    pytest.param(["October 15, 2025 at 07:41 (UTC) | Task failed ELB health checks in target-group ... Health checks "
                  "failed with these codes: [404] | service-events"], {"cause": "path-not-found"},
                 id="console-events-tab-copy-with-codes"),
]


@pytest.mark.parametrize(("logs", "facts"), POSITIVES)
def test_positive(logs, facts):
    finding = run(logs, **elb_failed(143))
    assert_finding(finding, ID, facts)
    assert finding.symptom is None


def test_a_long_access_log_is_read_from_its_newest_request_lines():
    """The checks answered 404 an hour ago and 500 lately: the newest REQUEST_LINES request lines decide,
    and the older ones are never parsed."""
    from shared.patterns.health_check_failed import REQUEST_LINES

    old = ['10.0.1.5 - - [01/May/2024:09:00:00 +0000] "GET /health HTTP/1.1" 404 9 "-" "ELB-HealthChecker/2.0"'] * 600
    new = ['10.0.1.5 - - [01/May/2024:10:00:00 +0000] "GET /health HTTP/1.1" 500 9 "-" "ELB-HealthChecker/2.0"'] * REQUEST_LINES
    finding = run(old + new + ["shutting down"], **elb_failed(143))
    assert_finding(finding, ID, {"cause": "server-error", "status_codes": ["500"], "observed_path": "/health"})


def _with_target_group(ev, **tg):
    fields = {"arn": TG_ARN, "name": "orders-api-tg", "health_check_path": "/health", "health_check_port":
              "traffic-port", "matcher": "200", "timeout_seconds": 5, **tg}
    return replace(ev, target_groups=(TargetGroupFacts(**fields),))


@pytest.mark.parametrize(("target", "cause"), [
    pytest.param(TargetHealth("10.0.1.17", 8000, "unhealthy", "Target.ResponseCodeMismatch",
                              "Health checks failed with these codes: [404]"), "path-not-found", id="404"),
    pytest.param(TargetHealth("10.0.1.17", 8000, "unhealthy", "Target.ResponseCodeMismatch",
                              "Health checks failed with these codes: [502]"), "server-error", id="502"),
    pytest.param(TargetHealth("10.0.1.17", 8000, "unhealthy", "Target.Timeout",
                              "Request timed out"), "timeout", id="timeout"),
])
def test_cause_from_live_target_health(target, cause):
    ev = _with_target_group(evidence([], **elb_failed(143)), targets=(target,))
    m = PATTERN.match(ev)
    assert m is not None and m.facts["cause"] == cause
    assert m.facts["target_health_reason"] == target.reason


def test_wrong_port_against_the_target_group_container_port():
    ev = _with_target_group(evidence(["Server listening on 0.0.0.0:3000"], **elb_failed(143)), container_port=8080)
    m = PATTERN.match(ev)
    assert m is not None
    assert (m.facts["cause"], m.facts["listen_port"], m.facts["expected_port"]) == ("wrong-port", 3000, 8080)


def test_security_group_blocking_the_load_balancer():
    base = evidence(["Server listening on 0.0.0.0:8080"], **elb_failed(143))
    ev = replace(base, network=NetworkFacts(lb_ingress_ok=False, lb_ingress_detail="sg-0abc admits nothing from "
                                                                                     "sg-0lb on 8080"))
    m = PATTERN.match(ev)
    assert m is not None and m.facts["cause"] == "no-requests-seen"


def test_loopback_remediation_shows_the_mismatch_and_the_bind_fix():
    finding = run(["INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"], **elb_failed(143))
    assert "The mismatch: target group: checks the task IP, port 8000; application: listens on 127.0.0.1:8000 only" \
        in finding.summary
    assert "--host 0.0.0.0" in finding.remediation[0]
    assert "Uvicorn running on http://127.0.0.1:8000" in finding.remediation[0]  # the step cites its evidence
    assert "docker run --rm" in finding.remediation[1] and "-p 8000:8000" in finding.remediation[1]
    assert "orders-api-tg" in finding.title


ROOT_CAUSES = [
    pytest.param(["Traceback (most recent call last):", '  File "/app/settings.py", line 4, in <module>',
                  '    DATABASE_URL = os.environ["DATABASE_URL"]', "KeyError: 'DATABASE_URL'"], 1,
                 "missing-env-var", id="missing-env-var"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.3.4:5432"], 1, "database-connection-failed", id="database"),
    pytest.param(["ModuleNotFoundError: No module named 'uvicorn'"], 1, "missing-dependency", id="dependency"),
    pytest.param(["Error: listen EADDRINUSE: address already in use :::8080"], 1, "port-in-use", id="port"),
]


@pytest.mark.parametrize(("logs", "code", "expected"), ROOT_CAUSES)
def test_a_cause_in_the_logs_wins_and_the_health_check_becomes_the_symptom(logs, code, expected):
    finding = run(logs, **elb_failed(code))
    assert finding.pattern == expected
    assert finding.symptom == ID


def test_flask_bound_to_all_addresses_also_prints_loopback_and_is_not_not_listening():
    finding = run([" * Serving Flask app 'app'", " * Debug mode: off",
                   "WARNING: This is a development server. Do not use it in a production deployment.",
                   " * Running on all addresses (0.0.0.0)", " * Running on http://127.0.0.1:5000",
                   " * Running on http://10.0.1.17:5000", "Press CTRL+C to quit"], **elb_failed(143))
    assert finding.pattern == ID
    assert finding.facts.get("cause") != "not-listening"
    assert finding.facts["listen_address"] == "10.0.1.17"


def test_puma_on_ipv4_and_ipv6_any_is_reachable():
    finding = run(["* Listening on http://0.0.0.0:3000", "* Listening on http://[::]:3000"], **elb_failed(143))
    assert finding.facts.get("cause") is None
    assert finding.facts["listen_port"] == 3000


NEGATIVES = [
    pytest.param([], {"stoppedReason": "Task failed container health checks", "stopCode": "ServiceSchedulerInitiated",
                      "containers": [{"name": "app", "exitCode": 143, "lastStatus": "STOPPED",
                                      "healthStatus": "UNHEALTHY"}]},
                 "container-health-check-failed", id="container-healthcheck-not-elb"),
    pytest.param(["INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"], exited(143), "unknown",
                 id="loopback-banner-without-elb-failure"),
    pytest.param([], {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
                      "stopCode": "ServiceSchedulerInitiated", "containers": [{"name": "app", "exitCode": 0}]},
                 "expected-stop", id="scheduler-stop-for-a-deployment"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


@pytest.mark.parametrize(("logs", "mapping", "reads"), [
    ([], '-p "$port:$port"', ("port=$(aws ecs describe-task-definition", "path=$(aws elbv2 describe-target-groups")),
    (["INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"], "-p 8000:8000",
     ("path=$(aws elbv2 describe-target-groups",)),
], ids=["port-unknown", "port-known"])
def test_the_local_reproduction_publishes_the_port_curl_reaches(logs, mapping, reads):
    """An unknown port or health path is read (task definition, target group) in the same block, so the
    block runs as pasted; a port the log gives is used as is (near miss)."""
    from shared.render import steps

    step = next(s for s in run(logs, **elb_failed()).remediation if s.startswith("Test locally"))
    assert not steps.placeholders(step), step
    block = step.split("```")[1]
    docker = next(line for line in block.splitlines() if line.startswith("docker run"))
    assert mapping in docker and "-d --name health-test" in docker
    assert all(any(line.startswith(r) for line in block.splitlines()) for r in reads), block
    assert ("port=$(" in block) == (mapping.startswith('-p "$'))
    cmds = steps.commands(step)
    # waits while there is no HTTP answer (refused or an empty reply), then prints the status
    loop = next(line for line in block.splitlines() if "curl -s -o /dev/null" in line)
    assert '"$code" != 000' in loop and shlex.split(loop)
    assert all(command_problems(c) == [] for c in cmds), cmds


def test_no_health_path_is_invented_when_the_evidence_gives_none():
    """A 404 with no path in the evidence: no "/health" stated as the target group's path (it is read from the
    target group); near miss: a path the log shows is named."""
    f = run(["Task failed ELB health checks in target-group ... Health checks failed with these codes: [404]"],
            **elb_failed())
    text = " ".join([f.summary, *f.remediation])
    if f.facts.get("cause") == "path-not-found":
        assert "/health" not in text.replace("HealthCheckPath", ""), text


def test_the_port_the_load_balancer_must_reach_comes_from_the_events_network_bindings():
    """No task definition, no port in the logs: the event's own networkBindings give the container port, so the
    step names it instead of a placeholder. Near miss: without bindings the placeholder stays (nothing known)."""
    lines = ["/docker-entrypoint.sh: Configuration complete; ready for start up",
             "nginx: [notice] start worker processes"]
    detail = elb_failed(143)
    bound = {**detail, "containers": [{**box(143), "networkBindings": [
        {"containerPort": 8081, "hostPort": 8081, "protocol": "tcp"}]}]}
    got = run(lines, **bound)
    plain = run(lines, **detail)
    if got.facts.get("cause") != "no-requests-seen":
        pytest.skip(f"cause {got.facts.get('cause')}")
    assert "port 8081" in "\n".join(got.remediation)
    assert "<the port the app listens on>" in "\n".join(plain.remediation)


_PROXIED = {**elb_failed(143), "containers": [box(143, "proxy"), box(143, "api")]}
_API_404 = ['127.0.0.1 - - [01/May/2024:10:00:01 +0000] "GET /status HTTP/1.1" 404 19',
            '127.0.0.1 - - [01/May/2024:10:00:31 +0000] "GET /status HTTP/1.1" 404 19']


def test_the_container_whose_log_shows_the_failing_checks_is_the_culprit():
    """Every container exits 143 when ECS replaces the task, so the exit codes cannot tell the app behind a proxy
    sidecar from the sidecar: the container whose own log shows the health path answered 404 is the culprit."""
    f = run({"api": _API_404, "proxy": []}, **_PROXIED)
    assert_finding(f, ID, {"cause": "path-not-found", "container": "api"})


def test_near_miss_no_request_in_any_log_keeps_the_attributed_container():
    f = run({"api": ["INFO starting"], "proxy": []}, **_PROXIED)
    assert f.pattern == ID and f.facts.get("container") == "proxy", f.facts


def test_near_miss_a_target_group_that_names_its_container_wins_over_the_logs():
    ev = _with_target_group(evidence({"api": _API_404, "proxy": []}, **_PROXIED), container_name="proxy",
                            health_check_path="/status")
    m = PATTERN.match(ev)
    assert m is not None and m.container == "proxy" and m.facts["container"] == "proxy"


def test_an_nginx_request_that_failed_at_its_upstream_is_the_health_path_answered_502():
    # nginx's error log names the request it could not pass on; it answered that request 502 (504 when timed out).
    logs = ['2024/05/02 09:12:01 [error] 29#29: *7 connect() failed (111: Connection refused) while connecting to '
            'upstream, client: 10.0.1.5, server: _, request: "GET /healthz HTTP/1.1", upstream: '
            '"http://127.0.0.1:3000/healthz", host: "10.0.2.9:80"']
    finding = run(logs, **elb_failed(0))
    assert_finding(finding, ID, {"cause": "server-error", "observed_path": "/healthz", "status_codes": ["502"]})
    assert "nothing listens there" in finding.remediation[0]


def test_near_miss_an_nginx_upstream_failure_on_another_path_is_not_the_health_check():
    logs = ['2024/05/02 09:12:01 [error] 29#29: *7 upstream timed out (110: Connection timed out) while reading '
            'response header from upstream, client: 10.0.1.5, server: _, request: "GET /api/orders HTTP/1.1", '
            'upstream: "http://127.0.0.1:3000/api/orders", host: "shop.example.com"']
    finding = run(logs, **elb_failed(0))
    assert finding.pattern == ID
    assert "observed_path" not in finding.facts
