"""port-in-use: the server could not bind its port."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.engine import diagnose
from shared.evidence.model import TaskDefinitionFacts
from shared.patterns.port_in_use import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited

ID = "port-in-use"

POSITIVES = [
    pytest.param(["Traceback (most recent call last):", '  File "/app/server.py", line 30, in <module>',
                  "    httpd = HTTPServer(('0.0.0.0', 8080), Handler)", "OSError: [Errno 98] Address already in use"],
                 {}, {"port": 8080}, id="python-errno-98-port-from-bind-call"),
    pytest.param(["node:events:492", "      throw er; // Unhandled 'error' event", "      ^", "",
                  "Error: listen EADDRINUSE: address already in use :::3000",
                  "    at Server.setupListenHandle [as _listen2] (node:net:1872:16)"],
                 {}, {"port": 3000}, id="node-eaddrinuse"),
    pytest.param(["2024/05/01 10:00:00 listen tcp :8080: bind: address already in use"], {}, {"port": 8080},
                 id="go-listen"),
    pytest.param(["***************************", "APPLICATION FAILED TO START", "***************************", "",
                  "Description:", "", "Web server failed to start. Port 8080 was already in use."],
                 {}, {"port": 8080}, id="spring-boot"),
    pytest.param(["nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)"], {}, {"port": 80},
                 id="nginx"),
    pytest.param(["[2024-05-01 10:00:00 +0000] [1] [ERROR] Connection in use: ('0.0.0.0', 8000)",
                  "[2024-05-01 10:00:00 +0000] [1] [ERROR] Retrying in 1 second.",
                  "[2024-05-01 10:00:05 +0000] [1] [ERROR] Can't connect to ('0.0.0.0', 8000)"],
                 {}, {"port": 8000}, id="gunicorn"),
    pytest.param(["ERROR:    [Errno 98] error while attempting to bind on address ('0.0.0.0', 8000): address "
                  "already in use"], {}, {"port": 8000}, id="uvicorn"),
    pytest.param(["Unhandled exception. System.IO.IOException: Failed to bind to address http://[::]:80: address "
                  "already in use.",
                  " ---> Microsoft.AspNetCore.Connections.AddressInUseException: Address already in use"],
                 {}, {"port": 80}, id="kestrel"),
    pytest.param(['Errno::EADDRINUSE: Address already in use - bind(2) for "0.0.0.0" port 3000'], {}, {"port": 3000},
                 id="ruby-puma"),
    pytest.param(["15:48:53.381 [error] Failed to start Ranch listener 'ejabberd_cowboy_127.0.0.1_8088' in "
                  "ranch_tcp:listen([{port,8088},{ip,{127,0,0,1}}]) for reason eaddrinuse (address already in use)"],
                 exited(1), {"port": 8088}, id="erlang-ranch-listener"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_sidecar_sharing_the_task_network_is_named():
    finding = run(["Error: listen EADDRINUSE: address already in use :::9901"],
                  containers=[box(1, "app"), box(0, "envoy")])
    assert_finding(finding, ID, {"port": 9901, "shares_network_with": ["envoy"]})
    assert "envoy" in " ".join(finding.remediation)


def test_beats_the_crash_it_causes():
    finding = run(["Traceback (most recent call last):", '  File "/app/run.py", line 4, in <module>',
                   "    sock.bind(('0.0.0.0', 5000))", "OSError: [Errno 98] Address already in use"])
    assert finding.pattern == ID
    assert "app-crash" in finding.also_matched


NEGATIVES = [
    pytest.param(['{"level":"info","msg":"tip: if you see EADDRINUSE, another process uses port 3000"}',
                  "Error: Cannot find module 'pino'",
                  "    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)"],
                 {}, "missing-dependency", id="info-line-mentions-eaddrinuse"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.2.15:5432"], {}, "database-connection-failed",
                 id="connection-refused-is-the-client-side"),
    pytest.param(["psycopg2.OperationalError: connection to server at \"db\" (10.0.0.2), port 5432 failed: "
                  "Connection refused"], {}, "database-connection-failed", id="port-word-but-not-bind"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


@pytest.mark.parametrize("network_mode", ["host", None], ids=["host-mode", "ec2-mode-unknown"])
def test_an_ec2_task_without_awsvpc_gets_no_awsvpc_or_dynamic_host_port_advice(network_mode):
    ev = evidence(["Error: listen EADDRINUSE: address already in use :::8000"], launchType="EC2",
                  attachments=[], **exited(1))
    if network_mode:
        ev = replace(ev, task_definition=TaskDefinitionFacts(
            arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12", network_mode=network_mode))
    finding = diagnose(ev)
    assert_finding(finding, ID, {"port": 8000})
    text = " ".join(finding.remediation)
    assert "hostPort: 0" not in text and "awsvpc" not in text, text
    assert "sudo ss -ltnp 'sport = :8000'" in text


def test_a_sibling_whose_log_shows_it_bound_the_port_is_named_and_nothing_started_twice():
    """The other container's log shows it bound the port: move one of them (PORT), no 'started twice by a process
    manager' step. Near miss: a sibling whose log never mentions the port: still no evidence of a server started
    twice (the sibling shares the namespace), so the local run of the image alone tells the two apart."""
    containers = [box(1, "api"), box(0, "web")]
    logs = {"web": ["ready - started server on 0.0.0.0:8080, url: http://localhost:8080"],
            "api": ["Error: listen EADDRINUSE: address already in use :::8080"]}
    f = run(logs, containers=containers, launchType="FARGATE")
    assert f.pattern == ID and f.facts.get("container") == "api"
    fix = "\n".join(f.remediation)
    assert "`web` of this task bound port 8080" in fix and "PORT=8081" in fix
    assert "started once" not in fix
    near = run({"web": ["compiled successfully"], "api": logs["api"]}, containers=containers, launchType="FARGATE")
    assert "started once" not in "\n".join(near.remediation) and "bound port" not in "\n".join(near.remediation)
    assert "image alone" in "\n".join(near.remediation)


_BARE_BIND_ERROR = "ERROR:    [Errno 98] Address already in use"


@pytest.mark.parametrize(("announcement", "port"), [
    ("INFO:     Uvicorn running on http://0.0.0.0:5005 (Press CTRL+C to quit)", 5005),
    ("Now listening on: http://[::]:8081", 8081),
    ("server started on port 7000", 7000),
])
def test_a_bind_error_that_names_no_port_takes_the_port_the_container_announced(announcement, port):
    """uvicorn's bare "[Errno 98]" names no port: the server's own "running on host:port" line, in the same
    container's log, does (before or after the error, further than the error's own lines)."""
    logs = [announcement, *[f"INFO:     step {n}" for n in range(6)], _BARE_BIND_ERROR,
            *[f"INFO:     shutdown step {n}" for n in range(6)]]
    assert_finding(run(logs, **exited(1)), ID, {"port": port})
    assert_finding(run(list(reversed(logs)), **exited(1)), ID, {"port": port})


@pytest.mark.parametrize("logs", [
    # two servers announced (the app and its metrics): which one collided is not said
    ["Uvicorn running on http://0.0.0.0:8000", "metrics server listening on :9100"],
    # a clock time or a client connection is not a listen address
    ["worker started at 10:30:00", "connected to redis at cache:6379"],
], ids=["two-ports-announced", "time-and-client-address"])
def test_near_miss_no_single_announced_port_gives_no_port(logs):
    """(further than the error's own lines, which are read for any address as before)"""
    f = run([*logs, *[f"INFO:     step {n}" for n in range(6)], _BARE_BIND_ERROR], **exited(1))
    assert f.pattern == ID and "port" not in f.facts, f.facts


def test_near_miss_another_containers_announcement_is_not_the_failing_ones_port():
    logs = {"web": ["Listening on :3000"], "api": [_BARE_BIND_ERROR]}
    f = run(logs, containers=[box(1, "api"), box(0, "web")], launchType="FARGATE")
    assert f.pattern == ID and f.facts.get("container") == "api" and "port" not in f.facts, f.facts
