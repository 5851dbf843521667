"""Step 1 of an app crash and of an expected stop where a general rule misread its signal: each rule has a near miss
that keeps today's step."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run


def _app(image: str, **more: Any) -> list[dict[str, Any]]:
    return [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image, **more}]


def _ran(seconds: int) -> dict[str, str]:
    """A task that started at 10:00:00 and was stopping `seconds` later (under a day)."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return {"startedAt": "2024-05-01T10:00:00Z", "stoppingAt": f"2024-05-01T{10 + h:02d}:{m:02d}:{s:02d}Z",
            "stoppedAt": f"2024-05-01T{10 + h:02d}:{m:02d}:{s:02d}Z"}


_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"


# -- the app's own package, installed into site-packages -----------------------------------------------------
def _installed_trace(pkg: str, runner: list[str]) -> list[str]:
    return ["Traceback (most recent call last):", *runner,
            f'  File "/usr/local/lib/python3.12/site-packages/{pkg}/jobs.py", line 40, in run',
            "    close_period(day)",
            f'  File "/usr/local/lib/python3.12/site-packages/{pkg}/period.py", line 12, in close_period',
            "    raise RuntimeError('period already closed')",
            "RuntimeError: period already closed"]


def test_the_apps_own_package_run_with_python_m_is_the_app_not_a_library():
    runpy = ['  File "<frozen runpy>", line 198, in _run_module_as_main', '  File "<frozen runpy>", line 88, in _run_code',
             '  File "/usr/local/lib/python3.12/site-packages/ledgerd/__main__.py", line 3, in <module>', "    main()"]
    got = run(_installed_trace("ledgerd", runpy), containers=_app(_ECR + "payments:2.0"))
    step = got.remediation[0]
    assert step.startswith("Fix the error at `/usr/local/lib/python3.12/site-packages/ledgerd/period.py:12`")
    assert "inside the library" not in step


def test_a_package_named_by_the_first_word_of_the_image_repository_is_the_app():
    got = run(_installed_trace("invoicing", []), containers=_app(_ECR + "invoicing-api:3.2"))
    assert got.remediation[0].startswith("Fix the error at `/usr/local/lib/python3.12/site-packages/invoicing/")


def test_a_library_not_named_by_the_image_or_the_command_stays_a_library():
    got = run(_installed_trace("invoicing", []), containers=_app(_ECR + "payments-api:3.2"))
    assert "raised inside the library `invoicing`" in got.remediation[0]


def test_a_runner_package_that_calls_the_apps_own_files_stays_a_library():
    logs = ["Traceback (most recent call last):",
            '  File "<frozen runpy>", line 198, in _run_module_as_main',
            '  File "/usr/local/lib/python3.12/site-packages/gunicorn/__main__.py", line 7, in <module>',
            '  File "/srv/orders/app.py", line 20, in create',
            "    start(pool)",
            '  File "/usr/local/lib/python3.12/site-packages/gunicorn/arbiter.py", line 60, in start',
            "    raise RuntimeError('bad worker class')",
            "RuntimeError: bad worker class"]
    step = run(logs, containers=_app(_ECR + "gunicorn-orders:1.0")).remediation[0]
    assert "raised inside the library `gunicorn`" in step and "called from the app's code at `/srv/orders/app.py:20`" in step
