"""app-crash: unhandled errors in every runtime, and the exits that are not crashes."""

from __future__ import annotations

import pytest

from shared.patterns.app_crash import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, elb_failed, exited

ID = "app-crash"

POSITIVES = [
    pytest.param(["10:08.008 [notice] Application shop exited: Shop.Application.start(:normal, []) returned an error",
                  "    ** (EXIT) shutdown: failed to start child: ShopWeb.Endpoint",
                  "        ** (EXIT) an exception was raised:",
                  "            ** (ArgumentError) errors were found at the given arguments:",
                  "                (stdlib 4.1.1) :ets.lookup_element(:ranch_server, {:addr, ShopWeb.Endpoint.HTTP}, 2)"],
                 exited(1), {"language": "elixir", "exception": "ArgumentError errors were found at the given arguments:"},
                 id="elixir-nested-exit-reasons-name-the-exception"),
    pytest.param(["2024/03/02 11:20:14 routers/init.go:88:GlobalInit() [F] PANIC: runtime error: invalid memory "
                  "address or nil pointer dereference"], exited(2),
                 {"language": "go", "exception": "runtime error: invalid memory address or nil pointer dereference"},
                 id="go-logger-fatal-PANIC"),
    pytest.param(["(node:1) UnhandledPromiseRejectionWarning: TypeError: Cannot read properties of undefined "
                  "(reading 'port')",
                  "(node:1) UnhandledPromiseRejectionWarning: Unhandled promise rejection. This error originated "
                  "either by throwing inside of an async function without a catch block"], exited(1),
                 {"language": "node", "exception": "TypeError: Cannot read properties of undefined (reading 'port')"},
                 id="node-rejection-names-the-real-error"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/main.py", line 12, in <module>', "    main()",
                  '  File "/app/main.py", line 8, in main', "    return 1 / 0", "ZeroDivisionError: division by zero"],
                 {}, {"language": "python", "exception": "ZeroDivisionError: division by zero", "exit_code": 1,
                      "location": "/app/main.py:8", "exit_meaning": "general error"}, id="python-traceback"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/a.py", line 3, in load', "    cfg = json.load(f)",
                  "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)", "",
                  "During handling of the above exception, another exception occurred:", "",
                  "Traceback (most recent call last):", '  File "/app/a.py", line 9, in <module>', "    load()",
                  "RuntimeError: bad config"], {}, {"exception": "RuntimeError: bad config"},
                 id="python-chained-last-exception-wins"),
    pytest.param(["2024-05-01T10:00:00.000000000Z Traceback (most recent call last):",
                  '2024-05-01T10:00:00.000000000Z   File "/srv/app.py", line 5, in <module>',
                  "2024-05-01T10:00:00.000000000Z     start()",
                  "2024-05-01T10:00:00.000000000Z ValueError: port must be an integer"],
                 {}, {"language": "python", "exception": "ValueError: port must be an integer",
                      "location": "/srv/app.py:5"}, id="docker-logs-t-keeps-indentation"),
    pytest.param(["panic: runtime error: index out of range [3] with length 3", "", "goroutine 1 [running]:",
                  "main.main()", "\t/src/cmd/api/main.go:42 +0x1d", "exit status 2"], exited(2),
                 {"language": "go", "exception": "runtime error: index out of range [3] with length 3", "exit_code": 2,
                  "location": "/src/cmd/api/main.go:42"}, id="go-panic"),
    pytest.param(["/app/dist/index.js:17", "    const port = config.server.port;", "                                ^",
                  "", "TypeError: Cannot read properties of undefined (reading 'port')",
                  "    at Object.<anonymous> (/app/dist/index.js:17:33)",
                  "    at Module._compile (node:internal/modules/cjs/loader:1256:14)", "", "Node.js v20.11.0"],
                 {}, {"language": "node", "exception": "TypeError: Cannot read properties of undefined (reading 'port')",
                      "location": "/app/dist/index.js:17"}, id="node-uncaught"),
    pytest.param(["node:internal/process/promises:288",
                  "            triggerUncaughtException(err, true /* fromPromise */);", "            ^", "",
                  "[UnhandledPromiseRejection: This error originated either by throwing inside of an async function "
                  "without a catch block, or by rejecting a promise which was not handled with .catch(). The promise "
                  "rejected with the reason \"boom\".] {", "  code: 'ERR_UNHANDLED_REJECTION'", "}"],
                 {}, {"language": "node"}, id="node-unhandled-rejection"),
    pytest.param(['{"level":50,"time":1714557600000,"pid":1,"msg":"uncaught exception","err":{"type":"Error",'
                  '"message":"boom","stack":"Error: boom\\n    at main (/app/src/index.js:10:11)\\n    at Object.'
                  '<anonymous> (/app/src/index.js:14:1)"}}'], {}, {"language": "node", "exception": "Error: boom"},
                 id="pino-json-with-stack"),
    pytest.param(['Exception in thread "main" java.lang.IllegalArgumentException: invalid port: abc',
                  "\tat com.acme.Main.main(Main.java:12)"], {},
                 {"language": "java", "exception": "java.lang.IllegalArgumentException: invalid port: abc"},
                 id="java-main-thread"),
    pytest.param(["2024-05-01T10:00:00.000Z ERROR 1 --- [           main] o.s.boot.SpringApplication               "
                  ": Application run failed", "",
                  "org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean with name "
                  "'orderService'",
                  "\tat org.springframework.beans.factory.support.ConstructorResolver.createArgumentArray("
                  "ConstructorResolver.java:801)",
                  "Caused by: java.lang.IllegalStateException: No qualifying bean of type 'com.acme.PaymentClient'",
                  "\t... 20 common frames omitted"], {},
                 {"language": "java",
                  "exception": "org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean "
                               "with name 'orderService' (caused by java.lang.IllegalStateException: No qualifying "
                               "bean of type 'com.acme.PaymentClient')"},
                 id="spring-application-run-failed-root-cause"),
    pytest.param(["Unhandled exception. System.FormatException: Input string was not in a correct format.",
                  "   at System.Number.ThrowOverflowOrFormatException(ParsingStatus status, TypeCode type)",
                  "   at Program.<Main>$(String[] args) in /src/Program.cs:line 9"], exited(134),
                 {"language": "dotnet", "exception": "System.FormatException: Input string was not in a correct format.",
                  "exit_meaning": "SIGABRT (abort)"}, id="dotnet-unhandled"),
    pytest.param(["/app/lib/worker.rb:14:in `perform': undefined method `fetch' for nil:NilClass (NoMethodError)",
                  "\tfrom /app/bin/worker:5:in `<main>'"], {},
                 {"language": "ruby", "exception": "undefined method `fetch' for nil:NilClass (NoMethodError)"},
                 id="ruby"),
    pytest.param(["thread 'main' panicked at src/main.rs:14:33:", "called `Option::unwrap()` on a `None` value",
                  "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"], exited(101),
                 {"language": "rust", "exit_code": 101}, id="rust-panic"),
    pytest.param(["PHP Fatal error:  Uncaught TypeError: array_merge(): Argument #1 ($array) must be of type array, "
                  "null given in /var/www/html/app.php:22"], exited(255), {"language": "php"}, id="php-fatal"),
    pytest.param(["** (ArgumentError) argument error", "    (stdlib 5.0) :ets.lookup(:cache, :key)"], {},
                 {"language": "elixir", "exception": "ArgumentError argument error"}, id="elixir"),
    pytest.param(["Fatal Python error: Segmentation fault", "", "Current thread 0x00007f (most recent call first):",
                  '  File "/app/infer.py", line 30 in predict', "Segmentation fault (core dumped)"], exited(139),
                 {"exit_code": 139, "exit_meaning": "SIGSEGV (segmentation fault)"}, id="segfault-139"),
    pytest.param(["terminate called after throwing an instance of 'std::runtime_error'",
                  "  what():  config file not found", "Aborted (core dumped)"], exited(134),
                 {"language": "native", "exit_code": 134}, id="cpp-abort"),
    pytest.param(["Starting worker", "ERROR failed to process batch 42: upstream returned 500"], exited(1),
                 {"exit_code": 1, "exception": "ERROR failed to process batch 42: upstream returned 500"},
                 id="error-line-and-exit-1"),
    pytest.param(["2024/05/01 10:00:00 open /config/app.yaml: no such file or directory"], exited(1),
                 {"exception": "2024/05/01 10:00:00 open /config/app.yaml: no such file or directory"},
                 id="go-log-fatal-without-the-word-error"),
    pytest.param(['{"level":"fatal","ts":1714557600.0,"caller":"cmd/main.go:44","msg":"cannot start server",'
                  '"error":"invalid log level \\"verbose\\""}'], exited(1), {"exit_code": 1}, id="zap-fatal-json"),
    pytest.param(["|   | Jan 07 11:08:06.146 | panic: assignment to entry in nil map",
                  "|   | Jan 07 11:08:06.146 | goroutine 1 [running]:",
                  "|   | Jan 07 11:08:06.146 | main.main()"], exited(2),
                 {"language": "go", "exception": "assignment to entry in nil map"}, id="cloudwatch-console-copy"),
    pytest.param(["[2021-10-08 08:34:10,201: CRITICAL/MainProcess] Unrecoverable error: TypeError(\"__init__() "
                  "missing 1 required positional argument: 'other_arg'\")",
                  "Traceback (most recent call last):",
                  '  File "/usr/local/lib/python3.7/site-packages/celery/worker/worker.py", line 203, in start',
                  "    self.blueprint.start(self)"], exited(1),
                 {"language": "python",
                  "exception": "TypeError(\"__init__() missing 1 required positional argument: 'other_arg'\")"},
                 id="traceback-cut-off-exception-named-by-the-logger-above"),
    pytest.param(["django.db.migrations.exceptions.InconsistentMigrationHistory: Migration trans.0085 is applied "
                  "before its dependency lang.0010 on database 'default'."], exited(1),
                 {"language": "python", "exception": "django.db.migrations.exceptions.InconsistentMigrationHistory: "
                                                     "Migration trans.0085 is applied before its dependency lang.0010 "
                                                     "on database 'default'."}, id="python-exception-line-alone"),
    pytest.param(["31 Mar 15:53:53 - [red] Uncaught Exception:",
                  "31 Mar 15:53:53 - TypeError: Cannot read property 'statusCode' of undefined",
                  "    at PublicEntitiesNode.<anonymous> (/data/node_modules/contrib/src/public.js:17:50)",
                  "    at emitOne (events.js:116:13)", "npm ERR! code ELIFECYCLE", "npm ERR! errno 1",
                  "npm ERR! Exit status 1"], exited(1),
                 {"language": "node", "exception": "TypeError: Cannot read property 'statusCode' of undefined"},
                 id="node-red-prefix-then-npm-wrapper"),
    pytest.param(["Error: something broke in the importer", "error Command failed with exit code 1.",
                  "info Visit https://yarnpkg.com/en/docs/cli/run for documentation about this command."], exited(1),
                 {"exception": "Error: something broke in the importer"}, id="yarn-wrapper-lines-skipped"),
    pytest.param(["2023-03-28T18:19:10.505+02:00 ERROR 28537 --- [ restartedMain] o.s.boot.SpringApplication: "
                  "Application run failed", "java.lang.IllegalArgumentException: devcontainersPort cannot be null",
                  "at org.springframework.util.Assert.notNull(Assert.java:204)",
                  "at org.springframework.boot.SpringApplication.run(SpringApplication.java:307)"], exited(1),
                 {"language": "java", "exception": "java.lang.IllegalArgumentException: devcontainersPort cannot be null"},
                 id="spring-application-run-failed-without-caused-by"),
    pytest.param(["npm ERR! code ELIFECYCLE", "npm ERR! errno 1", "npm ERR! app@1.0.0 start: `node server.js`",
                  "npm ERR! Exit status 1"], exited(1), {"exit_code": 1}, id="only-npm-wrapper-lines"),
    # Exit 0 under "Essential container in task exited", but the process's last word was an error: an entrypoint
    # or supervisor that reported its failure and returned 0 (log failures win over a clean exit 0). A wrapper's
    # report of the exit code after it is not a last word.
    pytest.param(["starting sync of /data", "ERROR: could not open /data/input.csv: No such file or directory",
                  "Container process exited with code 0"], exited(0),
                 {"exit_code": 0, "exception": "ERROR: could not open /data/input.csv: No such file or directory"},
                 id="entrypoint-error-then-exit-0"),
    pytest.param(['{"level":"fatal","msg":"supervised process failed to start","program":"worker"}'],
                 exited(0), {"exit_code": 0}, id="supervisor-fatal-json-then-exit-0"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_an_error_the_app_recovered_from_earlier_is_not_the_cause():
    logs = ["Traceback (most recent call last):", '  File "/app/a.py", line 3, in <module>', "    x()",
            "ValueError: first", *[f"INFO handled request {n}" for n in range(40)],
            "Traceback (most recent call last):", '  File "/app/b.py", line 7, in <module>', "    y()",
            "RuntimeError: the real one"]
    assert_finding(run(logs), ID, {"exception": "RuntimeError: the real one"})


NEGATIVES = [
    pytest.param([], exited(143), "unknown", id="bare-143-no-text"),
    pytest.param(["INFO shutting down", "INFO bye"], exited(143), "unknown", id="143-with-quiet-lines"),
    pytest.param(["INFO received SIGTERM", "INFO draining connections"], exited(137), "unknown",
                 id="137-stop-timeout"),
    pytest.param(["INFO processed 1200 records", "INFO done"], {**exited(0), "group": "family:nightly-report",
                                                               "startedBy": "events-rule/nightly"},
                 "expected-stop", id="batch-exit-0"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/a.py", line 3, in <module>', "    x()",
                  "ValueError: bad", "INFO recovered, continuing", "INFO done"], exited(0), "expected-stop",
                 id="handled-error-then-exit-0"),
    # Near misses of the exit-0 rule: an error the job went on from (its last word is ordinary), and an error as
    # the last word of a task stopped from outside (the stop, not the error, ended it).
    pytest.param(["ERROR: upload of part 3 failed, retrying", "INFO upload complete"], exited(0), "expected-stop",
                 id="error-then-more-work-then-exit-0"),
    pytest.param(["ERROR: lost connection to the queue"], {**exited(0), "stopCode": "UserInitiated",
                                                           "stoppedReason": "Task stopped by user"},
                 "expected-stop", id="error-last-but-stopped-by-user"),
    pytest.param(["ERROR:    Exception in ASGI application", "Traceback (most recent call last):",
                  '  File "/app/main.py", line 20, in health', "    return db.ping()", "RuntimeError: pool exhausted",
                  'INFO:     10.0.1.17:41234 - "GET /health HTTP/1.1" 500 Internal Server Error'],
                 elb_failed(143), "health-check-failed", id="request-error-while-elb-killed-the-task"),
    pytest.param(["blk-explorer exited with code 137"], exited(137), "unknown",
                 id="compose-reporting-the-exit-is-not-the-apps-words"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_unknown_explains_a_bare_sigterm():
    finding = run([], **exited(143))
    assert finding.facts["exit_codes"] == {"app": 143}
    assert "SIGTERM" in finding.facts["exit_meaning"]["143"]


def test_a_java_exception_alone_is_not_labelled_python():
    finding = run(["org.springframework.beans.factory.BeanCreationException: Error creating bean 'x'"], **exited(1))
    assert finding.pattern == ID and finding.facts.get("language") != "python"


_SPRING = ["ERROR 1 --- [ restartedMain] o.s.boot.SpringApplication: Application run failed",
           "java.lang.IllegalArgumentException: port cannot be null",
           "at org.springframework.util.Assert.notNull(Assert.java:204)"]


def test_a_development_only_frame_in_the_trace_is_kept_out_of_the_production_build():
    finding = run([*_SPRING, "at com.example.dev.DevcontainersContextInitializer.initialize(DevcontainersContextInitializer.java:13)",
                   "at org.springframework.boot.SpringApplication.run(SpringApplication.java:307)"])
    assert finding.pattern == "app-crash"
    assert "DevcontainersContextInitializer" in finding.remediation[0] and "developmentOnly" in finding.remediation[0]


def test_near_miss_an_application_frame_keeps_the_plain_fix_the_error_step():
    finding = run([*_SPRING, "at com.example.orders.OrdersConfig.init(OrdersConfig.java:13)",
                   "at org.springframework.boot.SpringApplication.run(SpringApplication.java:307)"])
    assert finding.remediation[0].startswith("Fix the error")


def test_a_refused_localhost_service_with_no_other_container_points_at_the_real_host():
    finding = run(["Error: connect ECONNREFUSED 127.0.0.1:8126"], **exited(1))
    assert finding.pattern == "app-crash"
    assert "port 8126 on localhost" in finding.remediation[0] and "retrying cannot help" in finding.remediation[0]


def test_near_miss_a_sidecar_in_the_task_is_waited_for_and_a_remote_refusal_keeps_fix_the_error():
    detail = {"containers": [{"name": "app", "exitCode": 1, "lastStatus": "STOPPED", "image": "repo/app:1"},
                             {"name": "datadog-agent", "lastStatus": "RUNNING", "image": "datadog/agent:7"}]}
    finding = run(["Error: connect ECONNREFUSED 127.0.0.1:8126"], **detail)
    assert "dependsOn" in finding.remediation[0] and "`datadog-agent`" in finding.remediation[0]
    # (a port that names no data store: 5672, AMQP, is a broker and so database-connection-failed)
    assert run(["Error: connect ECONNREFUSED 10.0.0.5:8443"], **exited(1)).remediation[0].startswith("Fix the error")


@pytest.mark.parametrize(("logs", "root"), [
    (["/app/src/db.ts:77", "Error: Failed to apply the migrations.", "    at <anonymous> (/app/src/db.ts:77:10) {",
      '  [cause]: PostgresError: relation "users" already exists'], 'PostgresError: relation "users" already exists'),
    (['Exception in thread "main" java.lang.IllegalStateException: Failed to start', "\tat app.Main.main(Main.java:9)",
      "Caused by: java.io.IOException: wrapped", "Caused by: java.net.UnknownServiceException: no codec"],
     "java.net.UnknownServiceException: no codec"),
    (["/app/src/db.ts:77", "Error: Failed to apply the migrations.", "    at <anonymous> (/app/src/db.ts:77:10)"], None),
])
def test_a_wrapped_error_leads_with_its_innermost_cause(logs, root):
    """Node `[cause]:` / Java `Caused by:`: step 1 names the innermost cause; near miss: an unwrapped error keeps
    "fix the error at file:line"."""
    f = run(logs, **exited(1))
    if f.pattern != "app-crash":
        pytest.skip(f.pattern)
    if root:
        assert root in f.remediation[0], f.remediation[0]
    else:
        assert f.remediation[0].startswith("Fix the error")


@pytest.mark.parametrize(("frame", "args"), [("main.main()", True), ("main.(*Server).handle(0xc000010000)", False)])
def test_a_go_index_panic_in_main_main_points_at_the_tasks_arguments(frame, args):
    """An index out of range in main.main at start-up: check the command's arguments; near miss: a panic in a
    request handler keeps the plain fix-the-code step."""
    logs = ["panic: runtime error: index out of range [1] with length 1", "", "goroutine 1 [running]:", frame,
            "\t/src/main.go:25 +0x1d5"]
    f = run(logs, **exited(2))
    if f.pattern != "app-crash":
        pytest.skip(f.pattern)
    assert ("os.Args" in f.remediation[0]) == args, f.remediation[0]


_SIDECAR_DIED = {"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
                 "containers": [{"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "image": "repo/web:3"},
                                {"name": "collector", "exitCode": 1, "lastStatus": "STOPPED", "image": "repo/agent:2"}]}
_CHATTER = [f"INFO GET /api/items/{n} 200 12ms" for n in range(150)]


def test_a_culprits_few_last_words_count_however_long_the_other_containers_log_read_after_it_is():
    """The error-then-exit window is the culprit's own tail: 150 ordinary lines of the victim's stream, read
    after the sidecar's three, do not push its error out of view."""
    logs = {"collector": ["starting collector v0.9", "Error: failed to load settings: unknown field \"exporterz\"",
                          "collector run finished with error"], "web": _CHATTER}
    assert_finding(run(logs, **_SIDECAR_DIED), ID, {"container": "collector", "exit_code": 1})


def test_near_miss_an_error_only_in_the_victims_stream_is_not_the_culprits_crash():
    """Near miss: the culprit's own tail is clean; an error logged by the victim next to it is not its crash."""
    logs = {"collector": ["starting collector v0.9", "collector stopped"],
            "web": [*_CHATTER, "ERROR upstream collector unreachable, dropping spans"]}
    assert PATTERN.match(evidence(logs, **_SIDECAR_DIED)) is None


def test_near_miss_an_error_older_than_the_culprits_own_tail_is_not_its_last_words():
    """Near miss: the window stays 60 of the culprit's own lines: an error followed by 60 ordinary lines of its
    own was handled, not what it exited on."""
    logs = {"collector": ["Error: failed to export batch, will retry", *_CHATTER[:60]], "web": []}
    assert PATTERN.match(evidence(logs, **_SIDECAR_DIED)) is None


@pytest.mark.parametrize("line", [
    "Killed",
    "worker: Killed",
    "/usr/local/bin/run-job.sh: line 14:    31 Killed                  ./process --input scene.tif",
])
def test_near_miss_a_report_that_the_process_was_killed_is_not_an_error_to_fix(line):
    """Near miss: the shell or a supervisor reporting that its child was killed by a signal names no exception:
    something outside killed it (the OOM killer, most often, but the line does not show it), so unknown, not
    "fix the error: Killed"."""
    logs = ["INFO reading input", "INFO processing tile 3 of 12", line]
    assert PATTERN.match(evidence(logs, **exited(1))) is None
    finding = run(logs, **exited(1))
    assert finding.pattern == "unknown", (finding.pattern, finding.remediation)


def test_an_error_logged_after_a_killed_child_is_still_the_apps_own_last_word():
    """The app that reports a killed child and then fails on it itself still crashed on its own error."""
    logs = ["child: Killed", "ERROR pipeline step failed: exporter exited, aborting run"]
    assert_finding(run(logs, **exited(1)), ID, {"exit_code": 1})


def test_near_miss_an_error_that_mentions_killed_is_not_a_kill_report():
    logs = ["ERROR job killed itself after too many retries: upstream returned 500"]
    assert_finding(run(logs, **exited(1)), ID, {"exit_code": 1})


# A native crash handler's frames, with the head of its report (the signal line) not in the log.
_FRAMES = {
    "envoy-style": ["[2024-02-01 10:00:01.101][1][critical][backtrace] [source/server/backtrace.h:104] #4: "
                    "Envoy::Upstream::ClusterManagerImpl::ClusterManagerImpl() [0x5612a3c0f1d2]",
                    "[2024-02-01 10:00:01.102][1][critical][backtrace] [source/server/backtrace.h:104] #5: main "
                    "[0x5612a2e01a10]"],
    "gdb-style": ["#0  0x00007f3a1c2e4e97 in raise () from /lib/x86_64-linux-gnu/libc.so.6",
                  "#1  0x00007f3a1c2e6801 in abort () from /lib/x86_64-linux-gnu/libc.so.6"],
}


def _mesh(proxy_exit: int, logs: list[str]) -> tuple[dict, dict]:
    detail = {"containers": [{"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "image": "web:1"},
                             {"name": "proxy", "exitCode": proxy_exit, "lastStatus": "STOPPED", "image": "proxy:1"}]}
    return detail, {"proxy": logs, "web": ["GET /health 200"]}


@pytest.mark.parametrize(("style", "code", "signal"), [("envoy-style", 139, "SIGSEGV"), ("gdb-style", 134, "SIGABRT")])
def test_a_sidecar_that_died_of_its_own_signal_with_only_backtrace_frames_is_the_crash(style, code, signal):
    detail, logs = _mesh(code, _FRAMES[style])
    finding = run(logs, **detail)
    assert_finding(finding, ID, {"container": "proxy", "exit_code": code, "language": "native"})
    assert signal in finding.facts["exception"]


@pytest.mark.parametrize("code", [143, 0, 1])
def test_near_miss_backtrace_frames_without_the_crash_exit_are_not_read_as_one(code):
    """Frames in the log of a container that was stopped (143), exited 0, or exited 1 with no error line: the
    backtrace is not why it stopped (a dump on a diagnostic signal, or an old crash the process survived)."""
    detail, logs = _mesh(code, _FRAMES["envoy-style"])
    m = PATTERN._native_backtrace(evidence(logs, **detail))
    assert m is None


def test_near_miss_frames_of_another_container_do_not_blame_it():
    """The container that exited 139 logged nothing; the frames are in a sibling that was stopped (143): no culprit
    is made of the sibling."""
    detail = {"containers": [{"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "image": "web:1"},
                             {"name": "proxy", "exitCode": 139, "lastStatus": "STOPPED", "image": "proxy:1"}]}
    finding = run({"web": _FRAMES["envoy-style"], "proxy": []}, **detail)
    assert not (finding.pattern == ID and finding.facts.get("container") == "web"), finding.facts


# The tail of a Go goroutine trace whose "panic:" header the log lost (export cut, only the last lines kept).
_GO_TAIL = [
    "level=info msg=\"starting pipelines\"",
    "example.com/agent/internal/poller.(*Poller).Run.func1(0xc0001a2000, 0x1f2e3d0)",
    "\t/src/internal/poller/poller.go:88 +0x1a4",
    "created by example.com/agent/internal/poller.(*Poller).Run",
    "\t/src/internal/poller/poller.go:80 +0x9c",
]


def _go_sidecar(code: int) -> dict:
    return {"stopCode": "EssentialContainerExited", "stoppedReason": "Essential container in task exited",
            "containers": [{"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "image": "web:1"},
                           {"name": "agent", "exitCode": code, "lastStatus": "STOPPED", "image": "agent:1"}]}


def test_a_sidecar_that_exited_2_with_only_goroutine_frames_is_a_go_crash():
    finding = run({"web": [], "agent": _GO_TAIL}, **_go_sidecar(2))
    assert_finding(finding, ID, {"container": "agent", "exit_code": 2, "language": "go"})


@pytest.mark.parametrize("code", [0, 1, 143])
def test_near_miss_goroutine_frames_without_the_go_crash_exit_are_not_read_as_one(code):
    """A goroutine dump (SIGQUIT, a debug endpoint) in a container that exited otherwise is not why it stopped."""
    assert PATTERN._go_trace(evidence({"web": [], "agent": _GO_TAIL}, **_go_sidecar(code))) is None


def test_near_miss_goroutine_frames_of_another_container_do_not_blame_it():
    """The container that exited 2 logged nothing; the frames are in the stopped app's log: no culprit is made of
    either from the frames."""
    detail = _go_sidecar(2)
    assert PATTERN._go_trace(evidence({"web": _GO_TAIL, "agent": []}, **detail)) is None


def test_near_miss_a_go_file_line_without_the_runtime_offset_is_no_frame():
    """A Go program's own log line naming its source file (a logger's caller field) is no goroutine frame."""
    logs = ["2024/01/02 10:00:00 main.go:42: shutting down", "2024/01/02 10:00:00 server.go:17: bye"]
    assert PATTERN._go_trace(evidence({"web": [], "agent": logs}, **_go_sidecar(2))) is None


def test_an_elixir_exception_printed_as_bytes_names_its_decoded_message():
    data = ",".join(str(b) for b in b"no route to the ledger service\n")
    line = ("{\"init terminating in do_boot\",{#{'__exception__'=>true,'__struct__'=>'Elixir.Ledger.BootError',"
            f"message=><<{data}>>}},[]}}")
    f = run([line], **exited(1))
    assert f.pattern == ID and f.facts["exception"] == "Ledger.BootError: no route to the ledger service"
    assert f.facts["language"] == "elixir" and f.evidence[0].text.startswith("{\"init terminating")


def test_near_miss_bytes_that_are_not_text_are_left_as_printed():
    line = "{\"init terminating in do_boot\",{#{'__exception__'=>true,message=><<131,104,2,100,0,5,255,254>>},[]}}"
    f = run([line], **exited(1))
    assert "<<131,104" in f.facts.get("exception", ""), f.facts


@pytest.mark.parametrize(("logs", "code", "crash"), [
    pytest.param(["3 arguments required, got 1", "usage: sync-worker [--verbose] <queue> <bucket> <prefix>"], 1, True,
                 id="arguments-required-then-usage"),
    pytest.param(["requires at least 1 arg(s), only received 0", "Usage:", "  exporter run <target> [flags]"], 1, True,
                 id="cobra-requires-args"),
    pytest.param(["INFO: two arguments required by the legacy mode; using the config file instead",
                  "INFO listening on :8080"], 0, False, id="near-miss-exit-0-after-a-note-about-arguments"),
    pytest.param(["INFO worker 3 arguments parsed", "INFO connected"], 1, False,
                 id="near-miss-arguments-named-without-a-refusal"),
])
def test_a_program_that_refused_its_arguments_is_a_crash_with_the_fix_on_its_command(logs, code, crash):
    """Rejected arguments ("N arguments required") hold no error word; the exit code is the program's own."""
    f = run(logs, **exited(code))
    assert (f.pattern == ID) == crash, (f.pattern, f.facts)
    if crash:
        assert f.facts["exception"] == logs[0] and "`command`" in f.remediation[0], f.remediation[0]
