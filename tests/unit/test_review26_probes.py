"""review26: probes of fix38, lin1 and fix39; each fails today and passes once its defect is fixed."""

from __future__ import annotations

from tests.unit.helpers import run
from tests.unit.test_fixes_fix38 import _ECR, _c, _writer_step
from tests.unit.test_fixes_fix39 import _STUCK, _containers


def test_a_waiter_with_its_own_log_lines_did_start_so_the_task_was_not_stuck():
    # No task definition, web has no exit code, but web's own stream shows it started and served requests.
    got = run({"db-migrate": ["migrating", "ERROR: relation already exists"],
               "web": ["Listening on :8080", "GET /health 200", "GET /orders 200"]},
              containers=_containers("db-migrate", 1), **_STUCK)
    assert got.pattern == "expected-stop"
    assert "never started" not in got.summary and "stuck" not in " ".join(got.remediation)


def test_a_65_component_missing_path_is_named_whole():
    path = "/" + "/".join(f"d{i}" for i in range(64)) + "/settings.toml"
    got = run([f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'"])
    assert path in " ".join(got.remediation)


def test_an_init_the_app_waits_on_to_succeed_is_a_writer_even_named_for_a_sidecar():
    # It exits (the app waits for SUCCESS), so it is no never-exiting agent; 'otel' in its name does not change that.
    steps = _writer_step("FileNotFoundError: [Errno 2] No such file or directory: '/srv/billing/settings.toml'",
                         _c("otel-config-init", _ECR + "fetcher:1", 0), depends=(("otel-config-init", "SUCCESS"),))
    assert "`otel-config-init` of this task may write that path" in steps
