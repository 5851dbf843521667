"""Log normalisation: every input shape a person or CloudWatch hands us becomes one message per line,
attributed to its container, with multi-line errors kept together and explicit levels read."""

from __future__ import annotations

import pytest

from shared.pasted import normalise

TASK = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True, params=["eager", "lazy"])
def _both_ways(request, monkeypatch):
    """Every test twice: short logs are parsed when built, long ones as lines are read."""
    import shared.logs

    if request.param == "lazy":
        monkeypatch.setattr(shared.logs, "EAGER_LINES", 0)


def rows(ls):
    return [(ls.containers[i], ls.texts[i]) for i in range(len(ls))]


# -- input formats --------------------------------------------------------------------------------
def test_plain_lines_keep_their_text_and_indentation():
    ls = normalise(["Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>'])
    assert ls.texts == ["Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>']
    assert ls.containers == [None, None] and ls.stamps == [None, None]


def test_aws_logs_tail_stream_names_the_container():
    ls = normalise([f"2024-05-01T10:00:00.123000+00:00 ecs/app/{TASK} Starting",
                    f"2024-05-01T10:00:01.000000+00:00 ecs/envoy/{TASK} [info] upstream ready",
                    f"2024-05-01T10:00:02.000000+00:00 ecs/app/{TASK}     at main (/app/i.js:1:1)"], ["app", "envoy"])
    assert rows(ls) == [("app", "Starting"), ("envoy", "[info] upstream ready"),
                        ("app", "    at main (/app/i.js:1:1)")]
    assert ls.stamps[0] == "2024-05-01T10:00:00.123000+00:00"


def test_aws_logs_tail_with_a_deeper_stream_prefix_and_uuid_task_id():
    ls = normalise(["2024-05-01T10:00:00.123000+00:00 orders/prod/web/5e91cf96-649e-4657-be99-6fa6132a5547 boom"])
    assert rows(ls) == [("web", "boom")]


def test_docker_logs_t_keeps_the_message_indentation():
    ls = normalise(["2024-05-01T10:00:00.123456789Z Traceback (most recent call last):",
                    '2024-05-01T10:00:00.123456789Z   File "/app/a.py", line 1, in <module>',
                    "2024-05-01T10:00:00.123456789Z KeyError: 'X'"])
    assert ls.texts[1] == '  File "/app/a.py", line 1, in <module>'
    assert ls.stamps[2] == "2024-05-01T10:00:00.123456789Z"
    assert ls.block_start(2) <= 1  # the exception line closes the traceback


def test_a_message_glued_to_its_timestamp_keeps_its_first_word():
    # Some console exports copy each line as its timestamp and message with no separator: the message starts
    # where the time (and its zone) ends, not at the first space.
    ls = normalise(["2021-03-04 08:15:02Traceback (most recent call last):",
                    '2021-03-04 08:15:02File "/srv/app/main.py", line 3, in <module>',
                    "2021-03-04 08:15:02ImportError: No module named 'yaml'",
                    "2021-03-04T08:15:02.120Zworker exited",
                    "2021-03-04 08:15:02.311,Error: connect ECONNREFUSED 10.0.0.5:6379",
                    "2021-03-04 08:15:02.635:WARN:oejs.ServerConnector:main: stopped"], ["web", "worker"])
    assert ls.texts == ["Traceback (most recent call last):", 'File "/srv/app/main.py", line 3, in <module>',
                        "ImportError: No module named 'yaml'", "worker exited",
                        "Error: connect ECONNREFUSED 10.0.0.5:6379", "WARN:oejs.ServerConnector:main: stopped"]
    assert ls.stamps[:4] == ["2021-03-04 08:15:02"] * 3 + ["2021-03-04T08:15:02.120Z"]
    assert ls.stamps[4] == "2021-03-04 08:15:02.311" and ls.stamps[5] == "2021-03-04 08:15:02.635"
    assert ls.containers == [None] * 6  # a glued word is never read as a stream name


def test_a_path_glued_to_its_timestamp_is_the_message_not_part_of_the_time():
    # A backtrace frame copied glued to its time: the message is the whole frame, not what follows its first space.
    ls = normalise(["2022-07-27 11:37:13/srv/app/lib/db.rb:45:in `rescue in connect'"])
    assert ls.texts == ["/srv/app/lib/db.rb:45:in `rescue in connect'"] and ls.stamps == ["2022-07-27 11:37:13"]


@pytest.mark.parametrize(("line", "text", "stamp"), [
    # Near misses: a separated message, a zone written out, a CSV row and an `aws logs tail` stream stay as before.
    pytest.param("2021-03-04 08:15:02 Started in 3s", "Started in 3s", "2021-03-04 08:15:02", id="space"),
    pytest.param("2021-03-04 08:15:02UTC Started", "Started", "2021-03-04 08:15:02UTC", id="utc-zone"),
    pytest.param('2021-03-04T08:15:02Z,"Started, at last"', "Started, at last", "2021-03-04T08:15:02Z",
                 id="csv-row"),
    pytest.param(f"2021-03-04T08:15:02.000000+00:00 ecs/web/{TASK} Started", "Started",
                 "2021-03-04T08:15:02.000000+00:00", id="aws-logs-tail"),
    pytest.param("2021-03-04 08:15:02 /srv/app/run.sh: started", "/srv/app/run.sh: started", "2021-03-04 08:15:02",
                 id="path-after-a-space"),
])
def test_near_miss_a_timestamp_that_is_not_glued(line, text, stamp):
    ls = normalise([line], ["web"])
    assert ls.texts == [text] and ls.stamps == [stamp]


def test_cloudwatch_console_table_copy():
    ls = normalise(["  |   | Jan 07 11:08:06.146 |   panic: assignment to entry in nil map",
                    "  |   | Jan 07 11:08:06.146 |   goroutine 1 [running]:"])
    assert ls.texts == ["panic: assignment to entry in nil map", "goroutine 1 [running]:"]
    assert ls.stamps[0] == "Jan 07 11:08:06.146"


def test_logs_insights_markdown_table_copy():
    ls = normalise(["| @timestamp | @message | @logStream | @log |", "|---|---|---|---|",
                    f"| 2025-06-03 14:20:22.100 | Missing required configuration: A | B | ecs/bot/{TASK} | 1234:/ecs/bot |",
                    "| 2025-06-03 14:20:22.200 | second | ecs/web/" + TASK + " | 1234:/ecs/web |"])
    assert ls.texts == ["Missing required configuration: A | B", "second"]  # the message keeps its own bars
    assert ls.containers == ["bot", "web"]
    assert ls.stamps[0] == "2025-06-03 14:20:22.100"


def test_a_table_the_application_prints_is_left_as_written():
    lines = ["| id | message |", "|----|---------|", "| 1  | hello   |"]
    assert normalise(lines).texts == lines


def test_markdown_row_without_its_header_and_other_bar_lines():
    ls = normalise(["| 2025-06-03 14:20:22.100 | Missing required configuration: GITHUB_BOT_USERNAME |",
                    "| a | b |", "|---|"])
    assert ls.texts == ["Missing required configuration: GITHUB_BOT_USERNAME", "| a | b |", "|---|"]
    assert ls.stamps[0] == "2025-06-03 14:20:22.100"


@pytest.mark.parametrize(("line", "container", "text"), [
    pytest.param("1714557600000\tERROR failed to start\tapp", "app", "ERROR failed to start", id="epoch-and-name"),
    pytest.param("2024-05-01T10:00:00.000Z\tERROR failed to start\tapp", "app", "ERROR failed to start",
                 id="iso-and-name"),
    pytest.param(f"2024-05-01T10:00:00.000Z\tpanic: boom\tecs/web/{TASK}", "web", "panic: boom",
                 id="iso-and-stream-last"),
    pytest.param(f"1714557600000\tecs/web/{TASK}\tpanic: boom", "web", "panic: boom", id="stream-first"),
    pytest.param("1714557600000\tpanic: boom", None, "panic: boom", id="no-container-column"),
    pytest.param(f"4/27/2023, 2:04:59 PM\tAccessDenied: Access Denied\t{TASK}\tapp", "app", "AccessDenied: Access Denied",
                 id="console-logs-tab-us-date-and-task-id"),
    pytest.param("1714557600000\t\tat com.acme.Main.main(Main.java:12)\tapp", "app", "\tat com.acme.Main.main(Main.java:12)",
                 id="java-frame-keeps-its-tab"),
])
def test_tab_separated_exports(line, container, text):
    ls = normalise([line], ["app", "web"])
    assert rows(ls) == [(container, text)]


def test_a_terminal_hard_wrap_is_joined_back_but_indentation_and_short_gaps_stay():
    wrapped = "[WARN ] FAILED ServerConnector@4b04{SSL}{0.0." + " " * 88 + "0:8443}: java.net.BindException"
    ls = normalise([wrapped, "    " + " " * 40 + "^^^^", "name          value"], ["app"])
    assert ls.texts == ["[WARN ] FAILED ServerConnector@4b04{SSL}{0.0.0:8443}: java.net.BindException",
                        "    " + " " * 40 + "^^^^", "name          value"]


def test_docker_compose_prefixes_old_and_new_style():
    ls = normalise(["web_1  | Listening on 0.0.0.0:8000", "web-1  | crash", "db-1   | ready"], ["web", "db"])
    assert rows(ls) == [("web", "Listening on 0.0.0.0:8000"), ("web", "crash"), ("db", "ready")]


def test_compose_prefix_of_an_unknown_service_is_left_alone():
    ls = normalise(["cache-1  | ready"], ["web"])
    assert rows(ls) == [(None, "cache-1  | ready")]


def test_bracket_prefix_only_for_known_containers():
    ls = normalise(["[app] started", "[envoy] upstream reset", "[INFO] not a container"], ["app", "envoy"])
    assert rows(ls) == [("app", "started"), ("envoy", "upstream reset"), (None, "[INFO] not a container")]


@pytest.mark.parametrize(("line", "text", "hint"), [
    pytest.param('{"level":"error","message":"boom"}', "boom", "error", id="message-level"),
    pytest.param('{"msg":"listening","level":30,"pid":1}', "listening", "info", id="pino-numeric"),
    pytest.param('{"severity":"WARNING","msg":"slow query"}', "slow query", "warn", id="severity"),
    pytest.param('{"@m":"Request failed","@l":"Fatal"}', "Request failed", "fatal", id="serilog-compact"),
    pytest.param('{"levelname":"CRITICAL","message":"db down"}', "db down", "fatal", id="python-json-logger"),
    pytest.param('{"log":"plain stderr line\\n","stream":"stderr"}', "plain stderr line", None, id="docker-json-file"),
])
def test_json_lines(line, text, hint):
    ls = normalise([line])
    assert ls.texts == [text]
    assert ls.hints == [hint]


def test_json_stack_field_becomes_lines_of_the_same_entry():
    ls = normalise(['{"level":"error","msg":"uncaught","err":{"type":"Error","message":"boom","stack":"Error: boom\\n'
                    '    at main (/app/src/index.js:10:11)\\n    at Object.<anonymous> (/app/src/index.js:14:1)"}}'])
    assert ls.texts == ["uncaught", "Error: boom", "    at main (/app/src/index.js:10:11)",
                        "    at Object.<anonymous> (/app/src/index.js:14:1)"]
    assert set(ls.hints) == {"error"}
    assert ls.block_start(3) == 1


def test_gelf_full_message_becomes_lines_of_the_same_entry():
    # Spring Boot / logstash GELF: "message" is the short form, "full_message" the whole exception.
    ls = normalise(['{"level":"ERROR","message":"Application run failed","full_message":"Application run failed\\n'
                    'org.example.BootException: ' + "x" * 300 + ' Unable to obtain connection\\n\\tat org.example.'
                    'Main.run(Main.java:10)"}'])
    assert ls.texts[0] == "Application run failed"
    assert ls.texts[1].endswith("Unable to obtain connection")  # not clipped like a context field
    assert ls.texts[2] == "\tat org.example.Main.run(Main.java:10)"
    assert ls.block_start(2) <= 1


def test_json_without_a_message_field_is_kept_as_written():
    line = '{"event_id": 7, "status": "ok"}'
    assert normalise([line]).texts == [line]


def test_firelens_container_name_and_nested_structured_log():
    ls = normalise(['{"container_id":"abc","container_name":"/ecs-orders-12-worker-aabbcc","source":"stderr",'
                    '"log":"{\\"level\\":\\"error\\",\\"msg\\":\\"db down\\"}","ecs_cluster":"prod"}',
                    '{"container_name":"/ecs-orders-12-app-e4d2c8","log":"ready"}'], ["worker", "app"])
    assert rows(ls) == [("worker", "db down"), ("app", "ready")]
    assert ls.hints[0] == "error"


def test_ansi_colours_are_stripped():
    ls = normalise(["\x1b[31mERROR\x1b[0m something \x1b[1mbroke\x1b[0m"])
    assert ls.texts == ["ERROR something broke"]
    assert ls.level(0) == "error"


def test_crlf_and_carriage_return_progress():
    ls = normalise("line1\r\nline2\r\nprogress 10%\rprogress 50%\rprogress 100%\r\n")
    assert ls.texts[:3] == ["line1", "line2", "progress 100%"]


def test_several_lines_in_one_entry_are_split_and_keep_the_container():
    ls = normalise({"app": ['Traceback (most recent call last):\n  File "/app/a.py", line 1, in <module>\n    x()\n'
                            "ValueError: bad"]})
    assert len(ls) == 4 and set(ls.containers) == {"app"}
    assert ls.block_start(3) == 0 and ls.block_end(0) == 3


def test_mapping_attributes_every_line_to_its_container():
    ls = normalise({"app": ["one", "two"], "envoy": ["three"]})
    assert rows(ls) == [("app", "one"), ("app", "two"), ("envoy", "three")]
    assert ls.container_names() == ["app", "envoy"]
    assert ls.indices_for(["envoy"]) == [2]


def test_a_whole_text_and_none():
    assert normalise("a\nb").texts == ["a", "b"]
    assert len(normalise(None)) == 0 and not normalise(None)


def test_unlabelled_lines_are_given_to_the_only_container():
    ls = normalise(["x", f"2024-05-01T10:00:00.000000+00:00 ecs/app/{TASK} y"], ["app"]).attribute_unlabelled("app")
    assert ls.containers == ["app", "app"]


# -- blocks ---------------------------------------------------------------------------------------
def test_python_traceback_block_includes_the_final_exception_line():
    ls = normalise(["INFO starting", "Traceback (most recent call last):", '  File "/app/main.py", line 3, in <module>',
                    '    DB = os.environ["DATABASE_URL"]', "KeyError: 'DATABASE_URL'", "INFO next"])
    assert ls.block_start(4) == 1
    assert ls.block_end(1) == 4
    assert ls.block_start(5) == 5


def test_each_traceback_of_a_chain_is_closed_by_its_own_exception_line():
    ls = normalise(["Traceback (most recent call last):", '  File "/a.py", line 1, in f', "ValueError: x", "",
                    "During handling of the above exception, another exception occurred:", "",
                    "Traceback (most recent call last):", '  File "/a.py", line 5, in <module>', "RuntimeError: y"])
    assert ls.block_start(8) == 6
    assert ls.block_start(2) <= 1


def test_java_stack_with_caused_by():
    ls = normalise(['Exception in thread "main" java.lang.RuntimeException: boom', "\tat com.a.B.c(B.java:1)",
                    "Caused by: java.io.IOException: disk", "\t... 5 more", "2024-05-01 INFO next entry"])
    assert ls.block_end(0) == 3
    assert ls.block_start(2) <= 1
    assert ls.block_start(4) == 4


def test_go_panic_and_goroutine_dump():
    ls = normalise(["panic: runtime error: invalid memory address or nil pointer dereference",
                    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a]", "",
                    "goroutine 1 [running]:", "main.main()", "\t/src/main.go:10 +0x1d", "exit status 2"])
    assert ls.block_end(0) == 1  # the panic message and its signal line
    assert ls.block_end(3) == 6  # the goroutine header, its frames and the exit status line
    assert ls.block_start(5) <= 3


def test_blocks_do_not_cross_containers():
    ls = normalise({"app": ["Traceback (most recent call last):"], "envoy": ['  File "x", line 1']})
    assert ls.block_start(1) == 1


# -- levels ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "level"), [
    ("2024-05-01 10:00:00,123 - app - ERROR - boom", "error"),
    ("2024-05-01 10:00:00,123 INFO [main] started", "info"),
    ("[2024-05-01 10:00:00 +0000] [7] [INFO] Worker exiting (pid: 7)", "info"),
    ("level=warn msg=\"retrying\"", "warn"),
    ('time="2024-05-01T10:00:00Z" level=info msg="ok"', "info"),
    ("W0501 10:00:00.000000 1 client.go:88] slow", "warn"),
    ("E0501 10:00:00.000000 1 client.go:88] failed", "error"),
    ("WARN  [main] c.a.B - cache disabled", "warn"),
    ("FATAL: could not start", "fatal"),
    ("Segmentation fault (core dumped)", None),
    ("KeyError: 'DATABASE_URL'", None),
])
def test_level_from_text(line, level):
    assert normalise([line]).level(0) == level


def test_quiet_lines_are_explicit_non_error_levels_only():
    ls = normalise(["INFO REDIS_URL not set, using default", "WARNING: deprecated", "DEBUG x", "ERROR y", "plain"])
    assert [ls.quiet(i) for i in range(len(ls))] == [True, True, True, False, False]


def test_a_frame_inherits_the_level_of_its_block_head():
    ls = normalise(["WARNING: optional import failed", "  ModuleNotFoundError: No module named 'ujson'"])
    assert ls.level(1) == "warn" and ls.quiet(1)


def test_lines_with_finds_needles_case_insensitively_and_in_order():
    ls = normalise(["Connection REFUSED", "ok", "connection refused again"])
    assert ls.lines_with("refused") == [0, 2]
    assert ls.lines_with("nothing") == []
    assert ls.contains("ok")


def test_aws_cli_filter_log_events_json_saved_as_a_file():
    text = ('{\n  "events": [\n'
            f'    {{"logStreamName": "ecs/app/{TASK}", "timestamp": 1714557600000, '
            '"message": "Traceback (most recent call last):\\n", "ingestionTime": 1714557600100, "eventId": "1"},\n'
            f'    {{"logStreamName": "ecs/app/{TASK}", "timestamp": 1714557600001, '
            '"message": "  File \\"/app/a.py\\", line 1, in <module>", "eventId": "2"},\n'
            f'    {{"logStreamName": "ecs/envoy/{TASK}", "timestamp": 1714557600002, '
            '"message": "[info] ready", "eventId": "3"}\n'
            '  ],\n  "searchedLogStreams": []\n}\n')
    ls = normalise(text, ["app", "envoy"])
    assert rows(ls) == [("app", "Traceback (most recent call last):"), ("app", '  File "/app/a.py", line 1, in <module>'),
                        ("envoy", "[info] ready")]


def test_get_log_events_json_without_stream_names():
    ls = normalise('{"events": [{"timestamp": 1, "message": "KeyError: \'X\'"}], "nextForwardToken": "f/1"}')
    assert rows(ls) == [(None, "KeyError: 'X'")]


def test_a_json_document_that_is_not_cli_output_stays_lines():
    assert normalise('{"level":"error","msg":"boom"}').texts == ["boom"]


def test_a_megabyte_line_is_read_up_to_its_first_16_kib_and_says_so():
    from shared.logs import LINE_CHARS

    ls = normalise(["panic: boom " + "x" * 1_000_000, '{"msg": "' + "y" * 50_000 + '"}', "short"])
    assert ls.texts[0].startswith("panic: boom ")
    assert ls.texts[0].endswith(f"…[{1_000_012 - LINE_CHARS} more characters not read]")
    assert len(ls.texts[1]) < LINE_CHARS + 60 and ls.texts[1].startswith("yyy")
    assert ls.texts[2] == "short"


def test_json_request_logs_keep_the_request_and_response_they_nest():
    ls = normalise(['{"level":30,"req":{"id":7,"method":"GET","url":"/health","headers":{"host":"x"}},'
                    '"res":{"statusCode":503},"msg":"request errored"}'])
    assert ls.texts == ["request errored req.method=GET req.url=/health res.statusCode=503"]


def test_markdown_rows_keep_the_indentation_of_stack_frames():
    ls = normalise(["| 2019-03-31 15:53:53.350 | TypeError: boom |",
                    "| 2019-03-31 15:53:53.700 |     at Foo.<anonymous> (/data/a.js:17:50) |"])
    assert ls.texts == ["TypeError: boom", "    at Foo.<anonymous> (/data/a.js:17:50)"]


def test_a_later_markdown_table_does_not_inherit_the_insights_header():
    ls = normalise(["| @timestamp | @message |", "|---|---|", "| 2025-01-01 10:00:00.000 | boom |", "",
                    "| Name | Value |", "| DB_HOST | db.internal |"])
    assert ls.texts[-2:] == ["| Name | Value |", "| DB_HOST | db.internal |"]


# -- CloudWatch events (the Lambda path) -------------------------------------------------------------
def test_cloudwatch_lines_stay_as_printed_but_json_and_colours():
    from shared.logs import from_cloudwatch

    printed = ["web_1  | ready", "name" + " " * 40 + "status", "a &lt;b&gt; &amp; c", "| 12:00:01 | not a table |",
               f"2024-05-01T10:00:00.000000+00:00 ecs/app/{TASK} the app's own timestamp", "\tat x.Y(Y.java:1)"]
    ls = from_cloudwatch({"app": [*printed, "\x1b[31mERROR\x1b[0m boom",
                                  '{"level":"error","msg":"db down","err":{"stack":"E: x\\n    at f (a.js:1)"}}'],
                          "envoy": ["upstream reset\nsecond line"]})
    assert ls.texts[:6] == printed
    assert ls.texts[6:] == ["ERROR boom", "db down", "E: x", "    at f (a.js:1)", "upstream reset", "second line"]
    assert ls.containers == ["app"] * 10 + ["envoy"] * 2
    assert ls.hints[7] == "error" and ls.stamps[4] is None
    assert ls.lines_with("web_1") == [0] and ls.lines_with("at f (") == [9]


def test_a_lazy_set_finds_words_only_in_the_parsed_text():
    """A pasted line's timestamp and stream name, a JSON line's keys, are searched in the raw text
    but are not the message: found there, they are not what `lines_with` reports."""
    ls = normalise([f"2024-05-01T10:00:00.000000+00:00 ecs/error-worker/{TASK} ready",
                    '{"level":"info","msg":"listening","method":"GET"}', "plain error"])
    assert ls.lines_with("error") == [2]
    assert ls.lines_with("level") == []
    assert ls.lines_with("method=get") == [1]  # the field reads key=value once parsed
    assert ls.containers == ["error-worker", None, None]


# -- long pastes: what the C-level passes find equals the line-by-line reading ------------------------
def _long_paste() -> list[str]:
    lines = []
    for i in range(400):
        stream = "ecs/envoy" if i % 97 == 5 else "ecs/app"
        stamp = f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}" + (".000000" if i % 50 else "") + "+00:00"
        lines.append(f"{stamp} {stream}/{TASK} GET /health 200 line {i}")
    lines[150] = "a plain line no stream names"
    lines[151] = '{"message": "boom", "container_name": "sidecar"}'
    lines[152] = f"2024-05-01T10:02:32.000000+00:00 ecs/app/{TASK}"  # no message
    lines[260] = f'2024-05-01T10:04:20.000000+00:00 ecs/app/{TASK} {{"msg": "a\\nb", "stack": "x\\ny"}}'
    return lines


def test_long_paste_lists_containers_as_each_line_reads():
    lines = _long_paste()
    ls = normalise(lines, ["app", "envoy", "sidecar"])
    by_line = list(dict.fromkeys(ls.containers[i] for i in range(len(ls))))
    assert ls.container_names() == [c for c in by_line if c is not None] == ["app", "envoy", "sidecar"]
    assert ls.unlabelled() == (None in by_line)


@pytest.mark.parametrize("lazy_hits", [2000, 3])
def test_long_paste_finds_words_on_their_lines_after_lines_parsed_up_front(monkeypatch, lazy_hits):
    import shared.logs

    monkeypatch.setattr(shared.logs, "_LAZY_HITS", lazy_hits)
    lines = _long_paste()
    ls = normalise(lines, ["app", "envoy"])
    words = ("health 200 line 399", "line 398", "boom", "y", "get /", "line 2")
    hits = ls.lines_with(*words)
    assert [ls.texts[i] for i in hits] == [t for t in ls.texts if any(w in t.lower() for w in words)]


@pytest.mark.parametrize("lazy_hits", [2000, 3])
def test_newest_with_is_the_tail_of_lines_with(monkeypatch, lazy_hits):
    import shared.logs

    monkeypatch.setattr(shared.logs, "_LAZY_HITS", lazy_hits)  # 3: words kept as offsets until asked
    words = ("get /", "boom", "line 3", "y")
    every = normalise(_long_paste(), ["app", "envoy"]).lines_with(*words)
    for limit in (1, 7, 150, 1000):
        ls = normalise(_long_paste(), ["app", "envoy"])
        assert ls.newest_with(*words, limit=limit) == every[-limit:]
        assert ls.lines_with(*words) == every
    assert normalise(_long_paste()).newest_with("not there", limit=5) == []


def test_plain_paste_lists_only_what_lines_parsed_up_front_name():
    lines = ["plain line one", '{"message": "boom", "container_name": "sidecar"}', "[app] bracketed", "tail",
             "10.0.0.1 - - [01/May/2024] GET /", "2024-05-01 10:00:00.123  INFO 1 --- started", "",
             "web_1  | hello from compose", f"2024-05-01T10:00:00.000000+00:00 ecs/app/{TASK} Starting",
             f'2024-05-01T10:00:01.000Z,"csv row",ecs/csvapp/{TASK}', "[other] not a known container"]
    for known in ((), ("app",), ("app", "web")):
        ls = normalise(lines * 30, known)
        by_line = list(dict.fromkeys(ls.containers[i] for i in range(len(ls))))
        assert ls.container_names() == [c for c in by_line if c is not None]
        assert ls.unlabelled() == (None in by_line)


def test_an_error_object_keeps_the_failure_it_nests_under_its_message():
    """An application error whose message is generic ("A configuration error has occurred") often nests the real
    failure in a details object: its texts are kept as facts of the line; its ids, types and codes are not."""
    ls = normalise(['{"level":"error","message":"start failed","error":{"message":"A configuration error has occurred",'
                    '"context":{"category":"technical","error":"connect ECONNREFUSED 10.0.4.7:5672",'
                    '"reason":"Broker seems down","request_id":"9f1b2c3d"},'
                    '"stack":"ConfigurationError: A configuration error has occurred\\n    at boot (/app/boot.js:3:5)"}}'])
    assert ls.texts[0] == ('start failed error.context.error="connect ECONNREFUSED 10.0.4.7:5672" '
                           'error.context.reason="Broker seems down"')
    assert ls.texts[1:] == ["ConfigurationError: A configuration error has occurred", "    at boot (/app/boot.js:3:5)"]


def _opens_and_level_as_their_regexes(text: str) -> None:
    from shared.logs import _LEVELS, _OPENS, _TEXT_LEVEL, _opens, _text_level

    assert _opens(text) == (_OPENS.search(text) is not None), repr(text)
    m = _TEXT_LEVEL.search(text, 0, 100)
    word = (m.group(1) or m.group(2) or m.group(3)) if m else None
    assert _text_level(text) == (_LEVELS.get(word.lower()) if word else None), repr(text)


def test_opens_and_text_level_answer_as_their_regexes_on_near_misses():
    """`_opens` and `_text_level` skip their regexes for a text lacking the words those need: the same answers
    on near misses (a word boundary after "error", trailing white space, a level past the 100th character,
    case folding beyond ASCII); 20,000 texts built from those words in the slow test below."""
    for text in ["", "error", "Errors", "errorx", "an error.", "ERROR:", "ERROR: boom", "error ", "error\t", " \x1cerror",
                 "Exception", "xException", "traceback", "exc_info", "stack", "\u017ftack", "\u212aill", "panic:", "FAIL",
                 "fail", "level=INFO", "level=WARNING x", "ERR x", "E1234 12:34 x", "I0101 10:10 y", "[DEBUG] z",
                 "crit", "CRIT] x", '{"level":"warn"}', "a=FATAL,b", "é error", "y" * 95 + "ERROR:", "y" * 99 + " INFO",
                 "y" * 95 + "level=", "[ERROR]", "(error)", "{error"]:
        _opens_and_level_as_their_regexes(text)


@pytest.mark.slow  # a generated-input equivalence check of a speed-up: `make test` (see the Makefile's `unit`)
def test_opens_and_text_level_answer_as_their_regexes():
    """`_opens` and `_text_level` skip their regexes for a text lacking the words those need: the same answers
    on texts built from those words and near misses (a word boundary after "error", trailing white space,
    a level past the 100th character, case folding beyond ASCII)."""
    import random

    pieces = ["Exception", "error", "Error", "ERROR:", "Errors", "traceback", "fail", "FAIL", "exc_info", "stack",
              "panic", ":", "{", "[", "(", " ", "\t", "\x1c", "x", "level=", "INFO", "WARNING", "ERR", "E1234 12:34",
              "I0101 10:10", "crit", "CRIT]", "[DEBUG]", '"warn"', "=FATAL,", "\u017ftack", "\u212a", "é", "y" * 95]
    rnd = random.Random(5)
    for _ in range(20000):
        _opens_and_level_as_their_regexes("".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 6))))


def _stamp_tail_as_the_glued_regex(tail: str) -> None:
    from shared.pasted import _GLUED, _STAMP

    line = "2024-05-01T10:00:00" + tail + " ecs/app/abc message"
    end = line.find(" ", 19)
    regex = _GLUED.match(line, 19, end) is not None
    shortcut = bool(line[19:end].strip(_STAMP)) and regex
    assert shortcut == regex, repr(line)
    if not line[19:end].strip(_STAMP):
        assert not regex, repr(line)


def test_stamp_tail_shortcut_agrees_with_glued_regex_on_near_misses():
    """pasted skips `_GLUED` when what follows a timestamp's seconds is only digits and separators: the same
    answer as the regex on near misses (a zone letter, a glued word or path, Unicode digits); 20,000 generated
    tails in the slow test below."""
    for tail in ["", "Z", ".123Z", ",123", "+00:00", "-05:00", ".000+0100", "UTC", "Za", "a", "9a", "/x", "/1",
                 ".5/app", "_", "é", "\u0663", ".\u0663", "0:0:0", "+", "::", ".123_x"]:
        _stamp_tail_as_the_glued_regex(tail)


@pytest.mark.slow  # a generated-input equivalence check of a speed-up: `make test` (see the Makefile's `unit`)
def test_stamp_tail_shortcut_agrees_with_glued_regex():
    """pasted skips `_GLUED` when what follows a timestamp's seconds is only digits and separators: the same
    answer as the regex on such tails and on near misses (a zone letter, a glued word or path, Unicode digits)."""
    import random

    pieces = ["0", "9", ":", ".", ",", "+", "-", "Z", "UTC", "a", "/", "/x", "/1", "é", "\u0663", "_"]
    rnd = random.Random(11)
    for _ in range(20000):
        _stamp_tail_as_the_glued_regex("".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 7))))
