"""A crash's exception fact is the process's own last words read as an error: a runtime saying it caught a fatal
signal, and a JSON error object by the error it names (not its source text, which the text output would show
as a repr-like blob)."""

from __future__ import annotations

from tests.unit.helpers import run


def _router(exit_code: int) -> list[dict]:
    return [{"name": "web", "exitCode": 143, "lastStatus": "STOPPED", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1"},
            {"name": "log_router", "exitCode": exit_code, "lastStatus": "STOPPED",
             "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.2.5"}]


def _logs(*router: str) -> dict[str, list[str]]:
    return {"web": ['{"level":"info","msg":"listening"}'], "log_router": ["Fluent Bit v4.2.2", *router]}


def test_a_fatal_signal_the_process_reports_is_its_crash():
    got = run(_logs("[engine] caught signal (SIGSEGV)"), containers=_router(139),
              stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited")
    assert got.pattern == "app-crash" and got.facts["container"] == "log_router"
    assert "SIGSEGV" in got.facts["exception"]


def test_a_json_error_object_reads_as_the_error_it_names():
    got = run(_logs('{"__type":"SerializationException"}'), containers=_router(1),
              stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited")
    assert got.pattern == "app-crash" and got.facts["exception"] == "SerializationException"
    # Near miss: a line that only looks like an object (not JSON) stays as written.
    odd = run(_logs("{error: SerializationException at offset 3}"), containers=_router(1),
              stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited")
    assert odd.facts["exception"] == "{error: SerializationException at offset 3}"


def test_the_jvm_fatal_error_banner_is_a_java_crash_on_the_signal_it_names():
    jvm = [{"name": "app", "exitCode": 134, "lastStatus": "STOPPED", "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1"}]
    got = run(["#", "# A fatal error has been detected by the Java Runtime Environment:", "#",
               "#  SIGSEGV (0xb) at pc=0x00007ffffebd9f3d, pid=1, tid=52", "#"], containers=jvm,
              stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited")
    assert got.pattern == "app-crash" and got.facts["language"] == "java"
    assert got.facts["exception"] == "JVM fatal error: SIGSEGV (0xb)"
