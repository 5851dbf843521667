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


# -- a setting's value that the app does not accept ----------------------------------------------------------
def test_an_unknown_variant_while_loading_settings_is_a_setting_to_correct_and_its_backticks_stay_balanced():
    logs = ["INFO starting payouts v1.9.0",
            "Error: failed to load settings from /srv/settings.toml and environment: unknown variant `chatty`, "
            "expected one of `quiet`, `normal`, `loud` for key `output.mode`"]
    step = run(logs, containers=_app(_ECR + "payouts:1.9.0"), **_ran(20)).remediation[0]
    assert "not a value the app accepts for its setting `output.mode`" in step
    assert "quiet, normal, loud" in step and "describe-task-definition" in step
    assert "producer of the data" not in step
    assert step.count("`") % 2 == 0


def test_an_enum_built_from_an_environment_variable_names_the_variable():
    logs = ["Traceback (most recent call last):", '  File "/srv/api/main.py", line 3, in <module>',
            "    from api import config", '  File "/srv/api/api/config.py", line 9, in <module>',
            '    MODE = RunMode(os.getenv("RUN_MODE", "web"))', '  File "/usr/local/lib/python3.12/enum.py", line 757, in __call__',
            "    return cls.__new__(cls, value)", "ValueError: 'webs' is not a valid RunMode"]
    step = run(logs, **_ran(15)).remediation[0]
    assert "for the variable `RUN_MODE`" in step and "Correct `RUN_MODE`" in step
    assert "producer of the data" not in step


def test_an_unknown_variant_in_a_record_the_app_deserializes_stays_new_data():
    logs = ["INFO consumed 120 payments",
            "Error: unknown variant `REFUNDED`, expected one of `PAID`, `PENDING` at line 1 column 31"]
    step = run(logs, **_ran(7200)).remediation[0]
    assert "has no case for" in step and "producer of the data" in step
    # near miss: an enum built from a value the trace reads from the data, in code that is not settings
    data = ["Traceback (most recent call last):", '  File "/srv/api/worker.py", line 30, in handle',
            "    status = Status(row['status'])", "ValueError: 'ON_HOLD' is not a valid Status"]
    assert "producer of the data" in run(data, **_ran(7200)).remediation[0]


# -- parse failures: an HTTP answer, a received message --------------------------------------------------------
def test_json_decoding_of_an_http_answer_that_is_html_checks_the_endpoint_not_a_setting():
    logs = ["Fetching price list from https://prices.internal.example.net/api/v2/list",
            "SyntaxError: Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON", "    at JSON.parse (<anonymous>)",
            "    at Response.json (/srv/node_modules/undici/lib/fetch/body.js:299:16)",
            "    at async loadPrices (/srv/src/prices.js:20:11)"]
    step = run(logs, **_ran(12)).remediation[0]
    assert "answer of an HTTP call" in step and "HTML page" in step
    assert "`curl -sS -i https://prices.internal.example.net/api/v2/list`" in step
    assert "correct the value, not the code" not in step


def test_requests_json_of_an_empty_answer_is_the_http_branch_too():
    logs = ["Traceback (most recent call last):", '  File "/srv/app/sync.py", line 14, in main',
            "    rates = requests.get(RATES_URL).json()",
            '  File "/usr/local/lib/python3.12/site-packages/requests/models.py", line 978, in json',
            "    raise RequestsJSONDecodeError(e.msg, e.doc, e.pos)",
            "requests.exceptions.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"]
    step = run(logs, **_ran(12)).remediation[0]
    assert "answer of an HTTP call" in step and "was not JSON" in step and "`curl -sS -i` on the URL" in step


def test_json_parse_of_an_environment_value_at_start_up_keeps_the_setting_step():
    logs = ["SyntaxError: Unexpected token o in JSON at position 1", "    at JSON.parse (<anonymous>)",
            "    at Object.<anonymous> (/srv/src/settings.js:4:22)"]
    step = run(logs, **_ran(12)).remediation[0]
    assert "a value the app reads at start-up" in step and "correct the value, not the code" in step


def test_a_worker_that_dies_parsing_a_received_message_within_seconds_has_a_bad_input_record():
    logs = ["INFO consumer: received message 5f1e-77a0", "Traceback (most recent call last):",
            '  File "/srv/consumer.py", line 40, in on_delivery', "    event = json.loads(body)",
            '  File "/usr/local/lib/python3.12/json/__init__.py", line 346, in loads', "    return _default_decoder.decode(s)",
            "json.decoder.JSONDecodeError: Unterminated string starting at: line 1 column 12 (char 11)"]
    step = run(logs, **_ran(25)).remediation[0]
    assert "on the input the app was handling" in step and "reject or skip" in step and "dead-letter" in step
    assert "at start-up" not in step


def test_a_start_up_parse_with_no_received_message_keeps_the_start_up_step():
    logs = ["INFO reading limits", "Traceback (most recent call last):", '  File "/srv/consumer.py", line 12, in <module>',
            "    LIMITS = json.loads(LIMITS_JSON)",
            "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"]
    step = run(logs, **_ran(25)).remediation[0]
    assert "a value the app reads at start-up" in step


# -- a module setting that holds a file path -----------------------------------------------------------------
def _no_module(name: str) -> list[str]:
    return ["Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.12/site-packages/django/conf/__init__.py", line 185, in __init__',
            "    mod = importlib.import_module(self.SETTINGS_MODULE)", f"ModuleNotFoundError: No module named '{name}'"]


def test_a_module_name_that_is_a_file_path_in_the_image_asks_for_the_dotted_name():
    step = run(_no_module("/code/shop/conf/prod.py"), **_ran(10)).remediation[0]
    assert "is a file path, not a module name" in step and "`shop.conf.prod`" in step
    assert "Parameter Store" not in step


def test_a_module_name_shaped_like_a_parameter_name_keeps_the_ssm_step():
    step = run(_no_module("/staging/2021/WEB/shop/SETTINGS_MODULE"), **_ran(10)).remediation[0]
    assert "Parameter Store" in step and "file path" not in step


# -- code in a config/ directory -------------------------------------------------------------------------------
def _undefined_in(path: str) -> list[str]:
    return ["TypeError: Cannot read properties of undefined (reading 'sign')", f"    at verify ({path}:14:20)",
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"]


def test_a_request_handler_under_config_after_days_is_no_settings_code():
    step = run(_undefined_in("/srv/app/config/strategies.js"), **_ran(12 * 3600)).remediation[0]
    assert step.startswith("Fix the error at `/srv/app/config/strategies.js:14`")
    start = run(_undefined_in("/srv/app/config/strategies.js"), **_ran(20)).remediation[0]
    assert "reads the app's settings" not in start  # a file in config/ whose name does not mean settings


def test_a_settings_file_failing_at_start_up_keeps_the_settings_step_and_not_after_a_long_run():
    step = run(_undefined_in("/srv/app/config/settings.js"), **_ran(20)).remediation[0]
    assert "in the code that reads the app's settings at start-up" in step
    late = run(_undefined_in("/srv/app/config/settings.js"), **_ran(12 * 3600)).remediation[0]
    assert "reads the app's settings" not in late


# -- a short JVM trace that ends where its thread began ----------------------------------------------------------
def test_a_two_frame_jvm_trace_ending_in_main_is_whole():
    logs = ['Exception in thread "main" java.lang.IllegalArgumentException: batch size must be positive',
            "\tat com.example.loader.Loader.configure(Loader.java:33)", "\tat com.example.loader.Loader.main(Loader.java:12)"]
    step = run(logs, **_ran(8)).remediation[0]
    assert "The log ends inside the JVM trace" not in step and "shows the whole trace" in step


def test_a_two_frame_jvm_trace_ending_mid_stack_is_still_cut():
    logs = ['Exception in thread "main" java.lang.IllegalArgumentException: batch size must be positive',
            "\tat com.example.loader.Loader.configure(Loader.java:33)", "\tat com.example.loader.Loader.load(Loader.java:20)"]
    assert "The log ends inside the JVM trace" in run(logs, **_ran(8)).remediation[0]


# -- a database client's trace that is not cut -----------------------------------------------------------------
_AR = "/usr/local/bundle/gems/activerecord-7.1.3/lib/active_record/connection_adapters"
_RB_FROM = [f"\tfrom {_AR}/mysql2_adapter.rb:39:in `new_client'", f"\tfrom {_AR}/mysql2_adapter.rb:23:in `mysql2_connection'",
            f"\tfrom {_AR}/abstract/connection_pool.rb:656:in `new_connection'"]


def test_a_ruby_backtrace_whose_first_line_carries_the_message_is_not_cut_and_tls_asks_for_the_ca_bundle():
    logs = [f"{_AR}/mysql2_adapter.rb:49:in `rescue in new_client': SSL connection error: error:0A000086:SSL "
            "routines::certificate verify failed (ActiveRecord::ConnectionNotEstablished)", *_RB_FROM]
    step = run(logs, **_ran(9)).remediation[0]
    assert "does not show" not in step and "the error that names why" not in step
    assert "CA bundle" in step and "global-bundle.pem" in step and "`sslca`" in step


def test_a_ruby_backtrace_of_from_frames_only_is_still_cut():
    got = run(["I, [2024-05-01T10:00:05] INFO -- : booting", *_RB_FROM], **_ran(9))
    assert got.pattern == "database-connection-failed" and "the error that names why" in got.remediation[0]


_PG = ["Traceback (most recent call last):", '  File "/srv/manage.py", line 22, in <module>',
       '  File "/usr/local/lib/python3.12/site-packages/django/db/backends/postgresql/base.py", line 269, in get_new_connection',
       '  File "/usr/local/lib/python3.12/site-packages/psycopg2/__init__.py", line 122, in connect']


def test_a_python_trace_without_source_lines_ends_at_its_exception_line():
    got = run([*_PG, "psycopg2.OperationalError: SCRAM authentication requires libpq version 10 or above"], **_ran(9))
    assert "the error that names why" not in got.remediation[0]
    assert "psycopg2.OperationalError: SCRAM" in got.facts.get("exception", "")


def test_a_python_trace_without_source_lines_and_no_exception_line_is_still_cut():
    got = run(_PG, **_ran(9))
    assert got.pattern == "database-connection-failed" and "the error that names why" in got.remediation[0]


def test_an_untrusted_certificate_outside_a_database_asks_for_the_images_ca_certificates():
    logs = ["Traceback (most recent call last):", '  File "/srv/sync.py", line 8, in main', "    fetch(FEED_URL)",
            "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get "
            "local issuer certificate (_ssl.c:1006)"]
    step = run(logs, **_ran(9)).remediation[0]
    assert "`ca-certificates`" in step and "RDS" not in step


# -- a kernel parameter written from the entrypoint -------------------------------------------------------------
def test_a_namespaced_sysctl_written_from_the_entrypoint_goes_to_system_controls():
    logs = ["+ sysctl -w net.ipv4.tcp_keepalive_time=600",
            "Error: cannot write /proc/sys/net/ipv4/tcp_keepalive_time: Read-only file system"]
    step = run(logs, **_ran(5)).remediation[0]
    assert '`[{"namespace": "net.ipv4.tcp_keepalive_time", "value": "<the value>"}]`' in step
    inline = run(["sysctl: cannot set net.core.somaxconn=4096: Read-only file system"], **_ran(5)).remediation[0]
    assert '"value": "4096"' in inline
    assert "mountPoint" not in step and "Fargate" in step


def test_a_host_wide_sysctl_cannot_be_set_from_the_task_definition():
    logs = ["Error: cannot write /proc/sys/vm/max_map_count: Read-only file system"]
    step = run(logs, **_ran(5)).remediation[0]
    assert "not a namespaced parameter" in step and "drop that write" in step and '"namespace"' not in step


def test_a_read_only_app_path_keeps_the_writable_volume_step():
    step = run(["Error: cannot write /srv/app/tmp/cache.db: Read-only file system"], **_ran(5)).remediation[0]
    assert "readonlyRootFilesystem" in step and "mountPoint at `/srv/app/tmp`" in step


# -- an ordered stop that ended in SIGKILL ------------------------------------------------------------------------
_STOPPING = {"stoppingAt": "2024-05-01T10:00:00Z", "executionStoppedAt": "2024-05-01T10:00:31Z",
             "stoppedAt": "2024-05-01T10:00:32Z"}
_SCALED = {"stoppedReason": "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
           "stopCode": "ServiceSchedulerInitiated"}


def test_a_batch_job_killed_after_sigterm_is_told_to_checkpoint_not_to_drain_or_set_stop_timeout():
    batch = {"group": "family:align-reads", "startedBy": "5a0c7e2f-1d3b-4f5a-8e6d-7c9b0a1f2e3d",
             "clusterArn": "arn:aws:ecs:us-east-1:111122223333:cluster/AWSBatch-genomics-ce-0a1b2c3d",
             "stopCode": "UserInitiated", "stoppedReason": "Terminated by user"}
    got = run([], containers=[{"name": "default", "exitCode": 137, "lastStatus": "STOPPED"}], **batch, **_STOPPING)
    step = got.remediation[0]
    assert "checkpoint" in step and "initProcessEnabled" in step and "job definition" in step
    assert "stopTimeout" not in step and "in-flight requests" not in step


def test_a_windows_container_killed_after_the_stop_gets_no_linux_signal_advice():
    got = run([], containers=[{"name": "web", "exitCode": 137, "lastStatus": "STOPPED",
                               "image": _ECR + "shop-iis:ltsc2022"}], platformFamily="WINDOWS_SERVER_2022_CORE",
              launchType="EC2", **_SCALED, **_STOPPING)
    step = got.remediation[0]
    assert "CTRL_SHUTDOWN_EVENT" in step and "initProcessEnabled" not in step and "sh -c" not in step


def test_a_log_shipper_killed_after_the_app_exited_gets_the_flush_step_not_the_app_step():
    got = run([], containers=[{"name": "api", "exitCode": 0, "lastStatus": "STOPPED", "image": _ECR + "api:2.0"},
                              {"name": "shipper", "exitCode": 137, "lastStatus": "STOPPED",
                               "image": "timberio/vector:0.38.0-alpine"}], **_SCALED, **_STOPPING)
    assert got.remediation[0] == "Nothing to fix."
    assert any("shipper exited 137" in s and "shorter flush" in s for s in got.remediation[1:])


def test_the_app_itself_killed_after_sigterm_keeps_the_drain_step():
    got = run([], containers=[{"name": "api", "exitCode": 137, "lastStatus": "STOPPED", "image": _ECR + "vector-search:2.0"}],
              **_SCALED, **_STOPPING)
    step = got.remediation[0]
    assert "in-flight requests" in step and "initProcessEnabled" in step and "stopTimeout" in step
