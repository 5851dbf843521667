"""fix35: four graded faults as general rules with near misses: PgJDBC's causeless "connection attempt failed" is no
timeout; an unknown setting on a floating tag is a release change; a per-item failure summary points at the items
(and a model server's repository); Prisma's failed-migration errors get `migrate resolve`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.helpers import run


def _app(image: str) -> list[dict[str, Any]]:
    return [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": image}]


_PG = "WARN  [io.agr.pool] (agroal-3) Datasource '<default>': The connection attempt failed."
_QUARKUS = "ERROR [io.qua.run.Application] (main) Failed to start application: java.lang.RuntimeException: boom"


def test_a_causeless_connection_attempt_failed_checks_the_datasource_url_first() -> None:
    got = run([_PG, _QUARKUS])
    step = got.remediation[0]
    assert got.pattern == "database-connection-failed"
    assert "get no answer" not in " ".join(got.remediation) and "timed out" not in got.summary
    assert "QUARKUS_DATASOURCE_JDBC_URL" in step and "describe-task-definition" in step
    assert "security group" in got.remediation[1]


def test_a_logged_timeout_keeps_the_timeout_steps() -> None:
    # the near miss: the cause is logged, so the timeout wording stays
    got = run([_PG, "Caused by: java.net.SocketTimeoutException: connect timed out", _QUARKUS])
    assert "get no answer" in got.remediation[0]


_FLAG = "command traefik error: field not found, node: address"


@pytest.mark.parametrize("image", ["traefik:latest", "traefik", "traefik:3", "ghcr.io/acme/proxy:v2"])
def test_an_unknown_setting_on_a_floating_tag_names_the_release_change(image: str) -> None:
    step = run([_FLAG], containers=_app(image)).remediation[0]
    assert "floats to each new release" in step and "pin the image" in step and "migrate the configuration" in step


def test_an_unknown_setting_on_a_pinned_tag_claims_no_moved_tag() -> None:
    # the near miss: a version tag did not move
    steps = " ".join(run([_FLAG], containers=_app("traefik:v1.7.34")).remediation)
    assert "floats" not in steps


def test_a_model_server_summary_points_at_the_model_repository() -> None:
    step = run(["error: creating server: Internal - failed to load all models"],
               containers=_app("nvcr.io/nvidia/tritonserver:23.10-py3")).remediation[0]
    assert "only sums up" in step and "config.pbtxt" in step and "--model-repository" in step


def test_a_summary_cites_the_item_errors_above_it() -> None:
    got = run(["starting", "ERROR worker mail: missing key", "ERROR worker cache: bad size",
               "fatal: failed to start all workers"])
    step = got.remediation[0]
    assert "only sums up" in step and "logs[app]:2" in step and "config.pbtxt" not in step


def test_an_error_that_is_no_summary_keeps_its_step() -> None:
    # the near miss: one failure, not a summary of many
    assert "only sums up" not in run(["fatal: failed to start worker mail"]).remediation[0]


_PRISMA_P3009 = ["$ prisma migrate deploy", "Error: P3009",
                 "migrate found failed migrations in the target database, new migrations will not be applied.",
                 "The `20240101120000_add_users` migration started at 2024-01-01 12:00:00 UTC failed"]


def test_prisma_p3009_gets_migrate_resolve_with_the_migration_name() -> None:
    step = run(_PRISMA_P3009, containers=_app("node:20")).remediation[0]
    assert "npx prisma migrate resolve --rolled-back 20240101120000_add_users" in step
    assert "--applied 20240101120000_add_users" in step and "prisma migrate deploy" in step


def test_prisma_p3018_names_the_migration_from_its_name_line() -> None:
    step = run(["Error: P3018", "A migration failed to apply. New migrations cannot be applied before the error is "
                "recovered from.", "Migration name: 20240202_init", "Database error code: 42P07"],
               containers=_app("node:20")).remediation[0]
    assert "--rolled-back 20240202_init" in step


def test_a_migration_that_is_not_prisma_gets_no_prisma_step() -> None:
    # the near miss: a failed migration in another tool
    steps = " ".join(run(["Error: migration 0003_users failed to apply: relation exists"]).remediation)
    assert "prisma" not in steps
