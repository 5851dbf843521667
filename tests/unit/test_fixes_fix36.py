"""fix36: near misses of the review24 defects. A shutdown notice dismisses only what follows it, and one naming the
signal it was sent still says the stop came from outside; a server starting to listen is a start; a line the app
carried on from is skipped unless it is its last words and promised a retry; the asked-for value follows the
instruction, never a bare "to"; camelCase and whole-word launchers are programs, one-off names are not; a log saying
CUDA is at work is a GPU; an embedded database named in the failing container's own log is it; PostgreSQL's PANIC
level is not a code crash; a Lua configuration's parse error is still the file's; a servercore container keeps
PowerShell."""

from __future__ import annotations

from typing import Any

from shared.patterns.app_crash import _CODE_CRASH
from tests.unit.helpers import run


def _steps(got: Any) -> str:
    return " ".join(got.remediation)


def _app(lines: list[str], code: int = 1, image: str = "example/app:1", **detail: Any) -> Any:
    return run({"app": lines}, containers=[{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}],
               **detail)


# -- 1: the shutdown notice ---------------------------------------------------------------------------------------

def test_an_error_logged_after_the_shutdown_notice_is_still_dismissed():
    got = _app(["Shutting down", "ERROR: could not flush metrics: connection refused"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern != "app-crash"


def test_a_notice_naming_the_signal_it_received_still_says_the_stop_came_from_outside():
    got = _app(["ERROR: request failed: upstream timed out", "Received SIGTERM, shutting down"], code=143,
               stopCode="EssentialContainerExited")
    assert got.pattern != "app-crash"


# -- 2: a start is a start ----------------------------------------------------------------------------------------

def test_a_server_that_starts_listening_after_a_complaint_still_started():
    got = _app(["could not load license key /etc/app/license.key: permission denied",
                "Server listening on 0.0.0.0:8080"])
    assert got.pattern != "app-crash"


# -- 3: carried-on wording ----------------------------------------------------------------------------------------

def test_a_retrying_line_the_app_went_on_from_is_not_the_lead():
    got = _app(["could not reach license server at lic:27000, retrying in 30s", "Starting worker"])
    assert got.pattern != "app-crash"


def test_a_using_defaults_line_is_skipped_even_as_the_last_words():
    got = _app(["Starting worker", "could not read optional file /etc/app/extra.yaml, using defaults"])
    assert got.pattern != "app-crash"


# -- 8: PostgreSQL's PANIC level ----------------------------------------------------------------------------------

def test_postgres_panic_level_lines_are_still_not_a_code_crash():
    for line in ("2024-05-01 10:00:00.100 UTC [27] PANIC:  could not locate a valid checkpoint record",
                 "PANIC:  could not write to file \"pg_wal/xlogtemp.27\": No space left on device"):
        assert not _CODE_CRASH.search(line), line
    assert _CODE_CRASH.search("panic: runtime error: index out of range [3] with length 3")


