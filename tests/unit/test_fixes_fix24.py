"""dev26/27's graded wrong steps that came from rules of this session: an operating-system error raised inside a
library is not the library's fault, a path search skips source locations, and Python's chained cause is the error
to fix. Each rule has a near miss that keeps today's step."""

from __future__ import annotations

from shared import remediation
from tests.unit.helpers import run

_EXIT1 = {"containers": [{"name": "web", "exitCode": 1, "lastStatus": "STOPPED"}]}


def test_a_path_search_skips_a_source_location_for_the_path_the_error_names_after_it():
    text = ("/usr/local/bundle/gems/rack-2.2.5/lib/rack/server.rb:433:in `initialize': Permission denied "
            "@ rb_sysopen - /srv/app/tmp/pids/server.pid (Errno::EACCES)")
    action = remediation.error_family(text)
    assert action and "`/srv/app/tmp/pids/server.pid`" in action and "server.rb" not in action


def test_a_source_location_alone_names_no_path():
    # The only path is where the error was raised (a source file and line), not a file the app used.
    assert remediation.error_family("/src/worker/main.rs:683: permission denied") is None


def test_an_os_error_raised_inside_a_library_gets_the_path_step_not_the_library_version():
    logs = ["/usr/local/bundle/gems/rack-2.2.5/lib/rack/server.rb:433:in `initialize': Permission denied "
            "@ rb_sysopen - /srv/app/tmp/pids/server.pid (Errno::EACCES)",
            "\tfrom /usr/local/bundle/gems/rack-2.2.5/lib/rack/server.rb:433:in `open'",
            "\tfrom /usr/local/bundle/gems/rack-2.2.5/lib/rack/server.rb:433:in `write_pid'"]
    got = run(logs, **_EXIT1)
    step = got.remediation[0]
    assert "/srv/app/tmp/pids/server.pid" in step and "chown" in step
    assert "pin a version" not in step and "changelog" not in step


def test_a_non_os_error_inside_a_library_keeps_the_library_step():
    logs = ["Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.12/site-packages/fancylib/core.py", line 12, in run',
            "    return self._go()",
            "TypeError: 'NoneType' object is not callable"]
    step = run(logs, **_EXIT1).remediation[0]
    assert "inside the library `fancylib`" in step


_CHAINED = ["Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.12/logging/__init__.py", line 1218, in _open',
            "    return open_func(self.baseFilename, self.mode)",
            "OSError: [Errno 30] Read-only file system: '/srv/app/log/app.log'",
            "",
            "The above exception was the direct cause of the following exception:",
            "",
            "Traceback (most recent call last):",
            '  File "/usr/local/lib/python3.12/site-packages/uvicorn/main.py", line 4, in <module>',
            "    uvicorn.main()"]


def test_a_python_direct_cause_is_the_error_to_fix_and_its_family_says_what_to_change():
    step = run(_CHAINED, **_EXIT1).remediation[0]
    assert "wraps its root cause" in step and "Read-only file system" in step
    # the file's directory is what a volume can be mounted on
    assert "mountPoint at `/srv/app/log`" in step and "uvicorn" not in step.split("(Why")[0].split("which says")[0]


def test_an_exception_raised_while_handling_another_is_not_read_as_its_direct_cause():
    logs = [line.replace("The above exception was the direct cause of the following exception:",
                         "During handling of the above exception, another exception occurred:") for line in _CHAINED]
    step = run(logs, **_EXIT1).remediation[0]
    assert "wraps its root cause" not in step
