"""review28: probes of the fix42 merge (5ad8e58..60c5fed): an EFS refusal led by the volume's IAM authorization, an app
no health check reached told to listen on 0.0.0.0, a local run of a mutable tag by the digest the task ran. Each fails
today and passes once its defect is fixed."""

from __future__ import annotations

from typing import Any

import pytest

from shared.models.finding import Finding
from tests.unit.helpers import run
from tests.unit.patterns.common import elb_failed

_DIGEST = "sha256:" + "ab" * 32
_KEYERROR = ["Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
             '    key = os.environ["API_KEY"]', "KeyError: 'API_KEY'"]


def _hc(logs: list[str], code: int | None = 143) -> Finding:
    return run(logs, **elb_failed(code))


def _loopback(steps: list[str]) -> list[int]:
    return [n for n, s in enumerate(steps) if "Make it listen on `0.0.0.0" in s]


def _app(image: str, name: str = "app", code: int = 1) -> dict[str, Any]:
    return {"name": name, "exitCode": code, "lastStatus": "STOPPED", "image": image, "imageDigest": _DIGEST}


def _repro_step(*containers: dict[str, Any], launch: str = "FARGATE") -> str:
    got = run(_KEYERROR, containers=list(containers), launchType=launch)
    return next(s for s in got.remediation if "docker run" in s)


# --- (b) an app no health check reached: listen on 0.0.0.0 --------------------------------------------------------


@pytest.mark.xfail(strict=True, reason="review28: a Local:/Network: banner pair (Next.js, Vite) is read as a server "
                                       "bound to localhost only, though the Network line shows it on the task's IP")
def test_a_local_and_network_banner_pair_is_no_localhost_only_server():
    got = _hc(["\u25b2 Next.js 14.2.3", "- Local:        http://localhost:3000",
               "- Network:      http://10.0.1.5:3000", "\u2713 Ready in 120ms"])
    assert not [s for s in got.remediation if "says it listens on `localhost:3000`" in s], got.remediation[0]


@pytest.mark.xfail(strict=True, reason="review28: Node's IPv6 any-address banner `:::3000` is not read as all "
                                       "interfaces, so the app is told it may listen on localhost only")
def test_nodes_ipv6_any_address_banner_is_all_interfaces():
    assert _loopback(_hc(["Server listening on :::3000", "ready"]).remediation) == []


@pytest.mark.xfail(strict=True, reason="review28: a shutdown line after ECS's SIGTERM with a word of _IN_PROGRESS "
                                       "('waiting') is taken for start-up still under way and hides a localhost banner")
def test_a_shutdown_line_after_sigterm_does_not_hide_a_localhost_banner():
    got = _hc(["Listening on http://localhost:8000/", "SIGTERM received, waiting for open connections to close"])
    assert _loopback(got.remediation) == [0], got.remediation[0]


@pytest.mark.xfail(strict=True, reason="review28: an app whose SIGTERM handler exits 0 (uvicorn, gunicorn, a Node "
                                       "server.close) also ran until ECS stopped it; only 143/137 count")
def test_a_graceful_exit_0_after_ecs_stopped_it_counts_too():
    got = _hc(["Listening on http://localhost:3000", "SIGTERM received: closing HTTP server", "HTTP server closed"],
              code=0)
    assert _loopback(got.remediation) == [0], got.remediation[0]


@pytest.mark.xfail(strict=True, reason="review28: Rails' 'Started GET \"/\" for <ip>' is not read as a request line "
                                       "(_ANY_REQUEST wants 'GET /'), so the step says no request reached it while "
                                       "quoting 'Completed 302 Found'")
def test_rails_started_get_is_a_request_that_reached_the_app():
    got = _hc(['Started GET "/" for 10.0.1.5 at 2024-05-01 10:00:01 +0000', "Processing by HomeController#index as HTML",
               "Redirected to http://10.0.1.5/users/sign_in", "Completed 302 Found in 3ms (ActiveRecord: 0.0ms)"])
    assert _loopback(got.remediation) == [], got.remediation[1]
