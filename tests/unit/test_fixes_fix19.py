"""Step 1 of an app crash that no error family names: the error's class and its trace say what kind of change
it asks for and where (shared.crash_steps). Each rule has a near miss that must not fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import crash_steps
from tests.unit.helpers import evidence, run

_OWN = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.4.2"


def _app(image: str = _OWN, code: int = 1) -> list[dict]:
    return [{"name": "app", "exitCode": code, "lastStatus": "STOPPED", "image": image}]


def _ran(seconds: int) -> dict[str, str]:
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    return {"startedAt": start.isoformat(), "stoppedAt": (start + timedelta(seconds=seconds)).isoformat()}


_RUST_PARSE = ["thread 'main' panicked at src/main.rs:12:40:",
               "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }"]


def test_a_value_that_does_not_parse_at_start_up_points_at_the_task_environment():
    got = run(_RUST_PARSE, containers=_app(code=101), **_ran(3))
    assert got.pattern == "app-crash"
    step = got.remediation[0]
    assert "parse failure" in step and "environment" in step and "describe-task-definition" in step
    assert "orders-api:12" in step and "secrets[].name" in step
    # Near miss: the same error after hours of running comes from the data being processed, not the settings.
    late = run(_RUST_PARSE, containers=_app(code=101), **_ran(5 * 3600))
    assert "data" in late.remediation[0] and "describe-task-definition" not in late.remediation[0]


def test_an_integer_conversion_of_nil_in_configuration_is_a_variable_not_set():
    logs = ["ERROR! Config provider Config.Reader failed with:", "** (ArgumentError) errors were found at the given arguments:",
            "  * 1st argument: not a binary", "    :erlang.binary_to_integer(nil)"]
    got = run(logs, containers=_app(), **_ran(4))
    assert "not set" in got.remediation[0]
    # Near miss: an ArgumentError about anything else keeps the generic step.
    other = run(["** (ArgumentError) errors were found at the given arguments:", "  * 2nd argument: not a key"],
                containers=_app(), **_ran(4))
    assert other.remediation[0].startswith("Fix the error")


def test_a_data_value_the_code_has_no_case_for_is_named_with_its_frame():
    logs = ['Exception in thread "main" scala.MatchError: ON_HOLD (of class java.lang.String)',
            "\tat scala.collection.immutable.List.map(List.scala:246)",
            "\tat com.example.billing.Kind$.parse(Kind.scala:9)"]
    got = run(logs, containers=_app())
    assert "`ON_HOLD`" in got.remediation[0] and "Kind.scala:9" in got.remediation[0]
    # Near miss: a MatchError is not a NumberFormat/ParseInt error, and a plain NPE names no data value.
    npe = run(['Exception in thread "main" java.lang.NullPointerException: x is null',
               "\tat com.example.billing.Kind$.parse(Kind.scala:9)"], containers=_app())
    assert npe.remediation[0].startswith("Fix the error")


def test_a_record_that_does_not_deserialize_is_skipped_by_offset():
    logs = ["INFO [Consumer clientId=c-1, groupId=billing] Discovered group coordinator b-1.kafka.internal:9092 (id: 1)",
            'Exception in thread "main" org.apache.kafka.common.errors.RecordDeserializationException: Error '
            "deserializing key/value for partition invoices-7 at offset 991. If needed, please seek past the record.",
            "\tat com.example.Consumer.run(Consumer.java:20)"]
    got = run(logs, containers=_app())
    step = got.remediation[0]
    assert "--topic invoices:7" in step and "--to-offset 992" in step and "--group billing" in step
    assert "b-1.kafka.internal:9092" in step and "--desired-count 0" in step
    # Near miss: a deserialization error with no partition and offset has no record to skip.
    assert crash_steps._POISON.search("Error deserializing key/value: bad schema") is None


def test_a_module_name_that_is_a_path_is_a_parameter_name_given_as_a_value():
    got = run(["ModuleNotFoundError: No module named '/prod/api/SETTINGS_MODULE'"], containers=_app())
    assert "Parameter Store" in got.remediation[0] and "valueFrom" in got.remediation[0]
    # Near miss: an ordinary missing module is a missing dependency, not a path.
    assert crash_steps._MODULE_PATH.search("ModuleNotFoundError: No module named 'requests'") is None


def test_migration_histories_that_disagree_with_the_image():
    heads = run(["FAILED: Multiple head revisions are present for given argument 'head'"], containers=_app(code=255))
    assert "merge heads" in heads.remediation[0]
    gone = run(["ERROR [flask_migrate] Error: Can't locate revision identified by 'abc123def456'"], containers=_app())
    assert "`abc123def456`" in gone.remediation[0] and "alembic_version" in gone.remediation[0]
    # Near miss: a migration that failed on its SQL is no history mismatch.
    assert crash_steps._migration_step("x", "sqlalchemy.exc.ProgrammingError: column \"a\" does not exist") is None


def test_dependency_injection_registrations_named_by_the_error():
    nest = crash_steps._di_step("Nest can't resolve dependencies of the CartService (?). Please make sure that the "
                                "argument PriceClient at index [0] is available in the CartModule context.")
    assert nest and "`PriceClient`" in nest and "`CartModule`" in nest
    scoped = crash_steps._di_step("Cannot resolve scoped service 'Shop.IMailer' from root provider.")
    assert scoped and "CreateScope" in scoped
    # Near miss: an unrelated InvalidOperationException.
    assert crash_steps._di_step("System.InvalidOperationException: Sequence contains no elements") is None


def test_a_deno_permission_flag_goes_into_the_command():
    got = run(['error: Uncaught PermissionDenied: Requires net access to "db:5432", run again with the --allow-net flag',
               "    at file:///app/main.ts:3:1"], containers=_app())
    assert "`--allow-net`" in got.remediation[0] and "[entryPoint, command]" in got.remediation[0]


def test_a_python_syntax_error_in_the_app_names_the_interpreter_version():
    logs = ["Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.10/site-packages/gunicorn/arbiter.py", line 609, in spawn_worker',
            '  File "/app/web/views.py", line 12', "SyntaxError: f-string: expecting '}'"]
    got = run(logs, containers=_app(), **_ran(2))
    assert "Python 3.10" in got.remediation[0] and "3.12" in got.remediation[0]
    # Near miss: a SyntaxError raised inside a library (a template engine) is not the app's file.
    lib = ["Traceback (most recent call last):", '  File "/app/web/views.py", line 12, in render',
           '  File "/usr/local/lib/python3.10/site-packages/jinja2/lexer.py", line 4, in tokenize',
           "SyntaxError: bad template"]
    assert "Python 3.10" not in run(lib, containers=_app(), **_ran(2)).remediation[0]


def test_a_crash_inside_a_library_names_the_call_from_the_app():
    logs = ["TypeError: Cannot read properties of undefined (reading 'id')",
            "    at Parser.next (/app/node_modules/fast-feed/lib/parser.js:88:12)",
            "    at load (/app/src/feed.js:14:20)"]
    got = run(logs, containers=_app())
    step = got.remediation[0]
    assert "`fast-feed`" in step and "/app/src/feed.js:14" in step
    # Near miss: the innermost frame is the app's own code: the plain step at that line.
    own = run(["TypeError: Cannot read properties of undefined (reading 'id')",
               "    at load (/app/src/feed.js:14:20)",
               "    at Parser.next (/app/node_modules/fast-feed/lib/parser.js:88:12)"], containers=_app())
    assert own.remediation[0].startswith("Fix the error")


def test_the_image_program_installed_as_a_package_is_not_a_library():
    ev = evidence(["TypeError: Cannot read property 'x' of undefined",
                   "    at run (/usr/local/lib/node_modules/feedbot/dist/run.js:5:1)"],
                  containers=_app(image="feedbot/feedbot:2.0"))
    trace = crash_steps.frames(ev, "app", 0)
    assert trace and trace[0].library is None


def test_python_fault_handler_frames_are_read_most_recent_first():
    ev = evidence(["Fatal Python error: Segmentation fault", "Current thread 0x1 (most recent call first):",
                   '  File "/usr/local/lib/python3.11/site-packages/native/core.py", line 5 in run',
                   '  File "/app/worker.py", line 9 in handle', '  File "/app/__main__.py", line 2 in <module>'],
                  containers=_app(code=139))
    trace = crash_steps.frames(ev, "app", 0)
    assert trace[0].library == "native" and trace[1].where == "/app/worker.py:9"


def test_a_value_error_in_settings_code_points_at_the_settings():
    logs = ["panic: runtime error: index out of range [2] with length 2", "goroutine 1 [running]:",
            "main.load()", "\t/src/app/internal/settings/jwt.go:55 +0x1"]
    got = run(logs, containers=_app(code=2), **_ran(3))
    assert "settings" in got.remediation[0] and "describe-task-definition" in got.remediation[0]
    # Near miss: the same panic outside settings code keeps the generic step at its line.
    plain = run([*logs[:3], "\t/src/app/internal/rank/score.go:55 +0x1"], containers=_app(code=2), **_ran(3))
    assert plain.remediation[0].startswith("Fix the error")


def test_a_rust_yaml_scan_error_names_the_configuration_line():
    from shared import remediation as remedy
    got = remedy.error_family("couldn't parse config: Scan(ScanError { mark: Marker { index: 9, line: 3, col: 2 }, "
                              'info: "did not find expected key" })')
    assert got and "line 3" in got
    # Near miss: a scan error that names no line (a directory scan) is no configuration syntax error.
    assert remedy.error_family("ScanError: could not read directory") is None
