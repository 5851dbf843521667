"""Steps that must fit the task's own state (fix14): each test has the case where the step applies and a near miss
where it does not."""

from __future__ import annotations

from tests.unit.helpers import run


def _fix(finding) -> str:
    return "\n".join(finding.remediation)


def _app(exit_code: int, image: str = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2") -> list[dict]:
    return [{"name": "app", "exitCode": exit_code, "lastStatus": "STOPPED", "image": image}]


_PY_CRASH = ["Traceback (most recent call last):", '  File "/srv/app/main.py", line 9, in <module>',
             "    start()", "ValueError: bad port number"]


def test_the_circuit_breaker_step_is_for_a_task_that_failed_soon_after_start():
    soon = run(_PY_CRASH, containers=_app(1), startedAt="2024-05-01T09:58:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert soon.pattern == "app-crash" and "deploymentCircuitBreaker" in _fix(soon)
    unknown = run(_PY_CRASH, containers=_app(1))
    assert "deploymentCircuitBreaker" in _fix(unknown)
    # Near miss: the task ran for hours before it crashed, past any deployment.
    long = run(_PY_CRASH, containers=_app(1), startedAt="2024-05-01T02:00:00Z", stoppedAt="2024-05-01T09:58:40Z")
    assert long.pattern == "app-crash" and "deploymentCircuitBreaker" not in _fix(long)


def test_a_node_trace_with_caused_by_is_not_called_java():
    node = run(["BrokerPoolError", "  Caused by: SocketClosedError: connection lost",
                "    at Socket.onClose (/opt/svc/node_modules/somelib/src/socket.js:88:17)",
                "    at Socket.emit (node:events:517:28)"], containers=_app(1))
    assert node.pattern == "app-crash" and node.facts["language"] == "node"
    java = run(["com.example.OrdersException: start failed", "Caused by: java.net.ConnectException: refused",
                "    at com.example.Orders.start(Orders.java:41)"], containers=_app(1))
    assert java.facts["language"] == "java"


_VALGRIND_TAIL = ["[2024/05/01 09:58:00] [engine] caught signal (SIGSEGV)", "#0  0x0   in  ???() at ???:0",
                  "==1== Process terminating with default action of signal 6 (SIGABRT): dumping core",
                  "==1==    at 0x67ACC20: raise (in /usr/lib64/libc-2.26.so)",
                  "==1==    by 0x67AE0C7: abort (in /usr/lib64/libc-2.26.so)",
                  "==1==    by 0x447611: crash_handler (agent.c:514)"]


def test_a_native_crash_quotes_its_fault_signal_not_the_abort_frames():
    f = run(_VALGRIND_TAIL, containers=_app(134))
    assert "SIGSEGV" in f.facts["exception"] and "abort (in" not in f.remediation[0]
    # Near miss: an abort with no fault signal before it keeps its own last error line.
    plain = run(["[error] invariant broken: queue depth < 0", "assertion failed, aborting"], containers=_app(134))
    assert "SIGSEGV" not in _fix(plain)
