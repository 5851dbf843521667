"""fix37: a file that "could not be read" is not a missing file, and a sibling that writes it at run time is named;
an exit code's program-specific meaning only for that program; a log that names the command showing the full
failure gets that command run where the task ran. Each rule has a near miss that keeps today's answer."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

_ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com/"


def _task(app_image: str = _ECR + "billing:2.0", app_code: int = 1, *siblings: dict[str, Any]) -> list[dict[str, Any]]:
    return [*siblings, {"name": "billing", "exitCode": app_code, "lastStatus": "STOPPED", "image": app_image}]


def _done(name: str, image: str) -> dict[str, Any]:
    return {"name": name, "exitCode": 0, "lastStatus": "STOPPED", "image": image}


# -- could not read: presence and owner/mode, and the sibling that writes it ---------------------------------------
def test_could_not_read_without_a_missing_reason_checks_presence_and_owner() -> None:
    step = run(["FATAL: unable to read credentials file /secrets/ledger.creds"], containers=_task()).remediation[0]
    assert "could not be read and the log does not say it is missing" in step
    assert "owner and mode" in step and "COPY in the Dockerfile" in step
    assert "of this task may write that path" not in step  # no sibling writes it


def test_could_not_read_with_no_such_file_stays_missing() -> None:
    step = run(["FATAL: unable to read credentials file /secrets/ledger.creds: no such file or directory"],
               containers=_task()).remediation[0]
    assert "is not there when the container starts" in step and "owner and mode" not in step


def test_a_sibling_named_by_the_path_is_the_runtime_writer() -> None:
    containers = _task(_ECR + "billing:2.0", 1, _done("secrets-init", "public.ecr.aws/acme/secrets-fetcher:1"))
    step = run(["error: could not open token /secrets/ledger.creds"], containers=containers).remediation[0]
    assert "`secrets-init` of this task may write that path at run time" in step
    assert "condition SUCCESS" in step and "HEALTHY" in step and "same user" in step


def test_a_sibling_sharing_only_a_common_directory_word_is_no_writer() -> None:
    # near miss: /app/... is in every image; a sidecar named app-metrics writes nothing there
    containers = _task(_ECR + "billing:2.0", 1, _done("app-metrics", "public.ecr.aws/acme/statsd:1"))
    step = run(["error: could not open settings /app/ledger.creds"], containers=containers).remediation[0]
    assert "could not be read" in step and "of this task may write" not in step


def test_permission_denied_on_a_path_a_sibling_writes_names_the_writer_too() -> None:
    containers = _task(_ECR + "billing:2.0", 1, _done("vault-agent", "hashicorp/vault:1.15"))
    step = run(["open /vault/secrets/db: permission denied"], containers=containers).remediation[0]
    assert "may not use `/vault/secrets/db`" in step and "`vault-agent` of this task may write" in step


# -- exit code 3: gunicorn's meaning only for gunicorn -------------------------------------------------------------
_PY_ERR = ["Traceback (most recent call last):", '  File "/srv/billing/main.py", line 3, in <module>',
           "    boot()", "billing.errors.ConfigurationError: settings incomplete"]


def test_exit_3_of_a_program_that_is_not_gunicorn_has_no_gunicorn_meaning() -> None:
    got = run(_PY_ERR, containers=_task(_ECR + "billing:2.0", 3))
    assert got.facts.get("exit_code") == 3 and "exit_meaning" not in got.facts


def test_exit_3_of_gunicorn_keeps_its_meaning() -> None:
    logs = ["[2024-05-01 10:00:00 +0000] [1] [INFO] Starting gunicorn 21.2.0", *_PY_ERR]
    got = run(logs, containers=_task(_ECR + "billing:2.0", 3))
    assert got.facts.get("exit_meaning") == "worker failed to boot (gunicorn)"


def test_exit_1_keeps_its_general_meaning() -> None:
    assert run(_PY_ERR, containers=_task()).facts.get("exit_meaning") == "general error"


# -- "run X to see the full output": run X where the task ran ------------------------------------------------------
def test_a_log_naming_the_command_that_shows_the_failure_gets_it_run_in_a_task_copy() -> None:
    logs = ["billing.errors.ConfigurationError: schema upgrade failed:", "",
            "Run `python -m billing.migrate --verbose` for more details"]
    step = run(logs, containers=_task(_ECR + "billing:2.0", 4)).remediation[0]
    assert "run `python -m billing.migrate --verbose` in `billing`'s image" in step
    assert "aws ecs run-task" in step and '"command":["sh","-c","python -m billing.migrate --verbose"]' in step
    assert "comes with `Run 'python -m billing.migrate --verbose' for more details`" in step  # no nested backtick


def test_a_flag_hint_or_another_containers_hint_is_no_command_to_run() -> None:
    logs: Any
    for logs in (["billing.errors.ConfigurationError: schema upgrade failed:",
                  "Run with --stacktrace option to get the stack trace."],
                 {"proxy": ["Run `haproxy -c` to see the full output"],
                  "billing": ["billing.errors.ConfigurationError: schema upgrade failed:"]}):
        step = run(logs, containers=_task(_ECR + "billing:2.0", 4)).remediation[0]
        assert "aws ecs run-task" not in step
