"""fix40: the review26 defects, generally: a waiter that logged did start; a path deeper than 64 components is named
whole (still linear); a container the app waits on to finish is no never-exiting sidecar, and a sidecar word must
start a word of the name."""

from __future__ import annotations

import time

import pytest

from shared.attribution import sidecar_kind
from shared.evidence.model import Container
from shared.remediation import _NO_PATH, _NOT_OWNED
from tests.unit.helpers import run
from tests.unit.test_fixes_fix38 import _ECR, _c, _writer_step
from tests.unit.test_fixes_fix39 import _STUCK, _containers

_DEPLOYMENT = {**_STUCK, "stopCode": "ServiceSchedulerInitiated",
               "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)"}
_WEB_LOG = ["Listening on :8080", "GET /health 200"]


# (1) a container with lines in its own stream did start


def test_a_deployment_replacement_whose_waiter_logged_gets_no_stuck_text():
    got = run({"db-migrate": ["migrating", "ERROR: relation already exists"], "web": _WEB_LOG},
              containers=_containers("db-migrate", 1), **_DEPLOYMENT)
    assert got.pattern == "expected-stop"
    assert "never started" not in got.summary and "stuck" not in " ".join(got.remediation)


def test_near_miss_only_the_failed_init_logged_so_the_waiter_is_still_stuck():
    # The failed container's own lines say nothing of the waiter: it still never started.
    got = run({"db-migrate": ["migrating", "ERROR: relation already exists"]},
              containers=_containers("db-migrate", 1), **_STUCK)
    assert got.pattern == "expected-stop"
    assert "db-migrate exited 1" in got.remediation[0] and "never started" in got.remediation[0]


def test_near_miss_a_deployment_replacement_whose_waiter_wrote_nothing_is_stuck():
    got = run({"db-migrate": ["migrating", "ERROR: relation already exists"]},
              containers=_containers("db-migrate", 1), **_DEPLOYMENT)
    assert "never started" in got.remediation[0]


# (2) a path of any depth, read in linear time


def _deep(n: int) -> str:
    return "/" + "/".join(f"d{i}" for i in range(n)) + "/app.log"


def test_a_deep_path_is_named_whole_by_both_path_families():
    path = _deep(200)
    m = _NOT_OWNED.search(f"open {path}: permission denied")
    assert m is not None and (m.group("p1") or m.group("p2")) == path
    m = _NO_PATH.search(f"ENOENT: no such file or directory, open '{path}'")
    assert m is not None and (m.group("p1") or m.group("p2")) == path


def test_near_miss_the_tail_of_a_relative_path_is_still_what_it_was():
    # A slash after a component character starts no run: it still names the tail, at most 64 components of it.
    m = _NO_PATH.search("no such file or directory: config/settings.toml")
    assert m is not None and m.group("p1") == "/settings.toml"
    tail = "/".join(f"d{i}" for i in range(70))
    m = _NO_PATH.search(f"no such file or directory: rel/{tail}")
    assert m is not None and m.group("p1").count("/") == 64


@pytest.mark.slow  # hostile 16 KB lines timed against the clock: `make test` (see the Makefile's `unit`)
def test_a_deep_path_line_costs_what_a_shallow_hostile_line_costs():
    # Every slash of "/a/a/a/..." is tried as a start: only the run's first one may read to the end of the line.
    hostile = ["/a" * 8192, "x/a" * 5461, "'/a" * 5461, "//a" * 5461]
    for regex in (_NO_PATH, _NOT_OWNED):
        t = time.thread_time()
        for line in hostile:
            regex.search(line)
        took = time.thread_time() - t
        assert took < 1.0, (regex, took)


# (3) a sidecar-named container the app waits on to finish; sidecar words on word boundaries


_MISSING = "FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'"


def test_a_complete_waited_init_named_for_a_sidecar_is_a_writer():
    steps = _writer_step(_MISSING, _c("xray-config-init", _ECR + "fetcher:1", 0),
                         depends=(("xray-config-init", "COMPLETE"),))
    assert "`xray-config-init` of this task may write that path" in steps


def test_near_miss_a_sidecar_waited_on_to_start_or_be_healthy_is_still_no_writer():
    for cond in ("START", "HEALTHY"):
        steps = _writer_step(_MISSING, _c("otel-config-init", _ECR + "fetcher:1", 0),
                             depends=(("otel-config-init", cond),))
        assert "may write that path" not in steps, cond


def test_a_sidecar_word_inside_another_word_names_no_sidecar():
    assert sidecar_kind(Container(name="hotel-rates-init", image=_ECR + "hotel-rates:1")) is None
    assert sidecar_kind(Container(name="boxray-sync", image=_ECR + "boxray:1")) is None
    for name, image in (("aws-otel-collector", "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0"),
                        ("collector", "otel/opentelemetry-collector-contrib:0.98.0"),
                        ("otelcol", "example/otelcol:1")):
        assert sidecar_kind(Container(name=name, image=image)) == "otel-collector", name
    assert sidecar_kind(Container(name="tracing", image="public.ecr.aws/xray/aws-xray-daemon:3")) == "xray-daemon"


def test_an_unwaited_hotel_init_is_a_writer_by_its_dependency():
    # 'otel' inside 'hotel' made it a sidecar, so the init the app waits on was never considered.
    steps = _writer_step(_MISSING, _c("hotel-rates-init", _ECR + "fetcher:1", 0),
                         depends=(("hotel-rates-init", "START"),))
    assert "`hotel-rates-init` of this task may write that path" in steps
