"""out-of-memory: ECS OOM kills and runtimes running out of heap."""

from __future__ import annotations

import pytest

from shared.patterns.out_of_memory import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited

ID = "out-of-memory"
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"

POSITIVES = [
    pytest.param([], exited(137, reason=OOM_REASON),
                 {"container": "app", "limit": "1024 MiB", "limit_source": "task memory", "exit_code": 137,
                  "kind": "container memory limit (ECS OOM kill)"}, id="ecs-reason-task-memory"),
    pytest.param([], {"containers": [box(137, "worker", memory="512", reason=OOM_REASON)]},
                 {"container": "worker", "limit": "512 MiB"}, id="ecs-reason-container-memory"),
    pytest.param(["INFO processing batch 1", "INFO processing batch 2"], exited(137, reason=OOM_REASON),
                 {"container": "app"}, id="ecs-reason-with-quiet-logs"),
    pytest.param(['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
                  "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)"], {},
                 {"kind": "JVM heap", "detail": "Java heap space"}, id="java-heap"),
    pytest.param(["<--- Last few GCs --->", "",
                  "[1:0x5f2c]   302713 ms: Mark-Compact 3415.7 (4143.8) -> 3413.7 (4143.8) MB, 67.29 / 0.00 ms  "
                  "(average mu = 0.352, current mu = 0.085) allocation failure; scavenge might not succeed", "",
                  "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                  " 1: 0xb7b3e0 node::Abort() [node]"], exited(134), {"kind": "V8 (Node.js) heap", "exit_code": 134},
                 id="node-heap"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/etl.py", line 40, in <module>',
                  "    df = pd.concat(frames)",
                  "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 3.2 GiB for an array with shape "
                  "(430000000,) and data type int64"], {}, {"kind": "Python MemoryError"},
                 id="numpy-array-memoryerror"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/cache.py", line 12, in warm',
                  "    blob = bytearray(size)", "MemoryError"], {}, {"kind": "Python MemoryError"},
                 id="python-bare-memoryerror"),
    pytest.param(["fatal error: runtime: out of memory", "", "runtime stack:", "runtime.throw({0x9b5a4e, 0x16})"],
                 exited(2), {"kind": "Go runtime"}, id="go-runtime"),
    pytest.param(["PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) "
                  "in /var/www/vendor/laravel/framework/src/Illuminate/Collections/Arr.php on line 42"],
                 exited(255), {"kind": "PHP memory_limit", "limit": "128 MiB (134217728 bytes)",
                                "limit_source": "PHP memory_limit", "container_limit": "1024 MiB"}, id="php-memory-limit"),
    pytest.param(["Unhandled exception. System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' "
                  "was thrown."], exited(134), {"kind": ".NET heap"}, id="dotnet"),
    pytest.param(["terminate called after throwing an instance of 'std::bad_alloc'", "  what():  std::bad_alloc",
                  "Aborted (core dumped)"], exited(134), {"kind": "native allocation"}, id="cpp-bad-alloc"),
    pytest.param(["torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB "
                  "total capacity)"], {}, {"kind": "GPU memory"}, id="cuda"),
    pytest.param(["[2024-05-01 10:00:00 +0000] [1] [ERROR] Worker (pid:42) was sent SIGKILL! Perhaps out of memory?"],
                 {}, {"kind": "out of memory"}, id="gunicorn-worker-sigkill"),
    pytest.param(['eheap_alloc: Cannot allocate 85562808 bytes of memory (of type "heap")'], exited(1),
                 {"kind": "Erlang VM heap"}, id="erlang-vm-allocator"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_ecs_oom_kill_beats_the_traceback_it_interrupted():
    finding = run(["Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>', "    x()",
                   "RuntimeError: interrupted"], **exited(137, reason=OOM_REASON))
    assert finding.pattern == ID
    assert finding.evidence[0].source == "containers[app].reason"


def test_remediation_sizes_memory_from_the_limit_and_sizes_the_jvm_heap():
    finding = run(['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space'],
                  **exited(137, reason=OOM_REASON))
    text = "\n".join(finding.remediation)
    assert '"memory": 1280' in text  # 1024 MiB + 25 %, rounded up to 256 MiB
    assert "--memory 1024m" in text


def test_memory_comes_from_the_peak_the_log_reports_as_a_valid_fargate_size():
    finding = run(["worker rss grew: used 3.1 GiB of memory", "MemoryError"],
                  **exited(137, reason=OOM_REASON), launchType="FARGATE", cpu="1024", memory="2048")
    first = finding.remediation[0]
    assert "at least 4096 MiB" in first and "3174 MiB it used" in first
    assert '"cpu": "1024", "memory": "4096"' in first  # a valid Fargate pair at or above the need


NEGATIVES = [
    pytest.param([], exited(137), "unknown", id="bare-137-without-reason"),
    pytest.param(['{"level":"warn","msg":"memory usage high: 87% of limit; out of memory risk"}',
                  "Error: connect ECONNREFUSED 10.0.0.5:6379"], {}, "database-connection-failed",
                 id="warn-about-memory"),
    pytest.param(["CannotPullContainerError: failed to register layer: Error processing tar file(exit status 1): "
                  "write /usr/lib/libLLVM-15.so.1: no space left on device"], {}, "disk-full",
                 id="out-of-disk-is-not-memory"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


AGENT_OOM = ['2018-10-24T16:25:53Z [INFO] DockerGoClient: process within container db09e0887a0d (name: '
             '"ecs-demo-60-quorum-a8b5ae84e8c197b30200") died due to OOM']


def test_the_agent_log_names_the_container_the_kernel_killed():
    # Two containers: the one the agent names is the OOM victim, not the one killed with it (143).
    detail = {"stoppedReason": "Essential container in task exited", "stopCode": "EssentialContainerExited",
              "launchType": "EC2", "containers": [box(143, name="tessera"), box(137, name="quorum")]}
    finding = run(AGENT_OOM, **detail)
    assert_finding(finding, ID, {"container": "quorum", "exit_code": 137})
    assert len(finding.remediation) == len(set(finding.remediation))
    assert sum("Give quorum at least" in step for step in finding.remediation) == 1


def test_an_agent_oom_line_without_a_container_name_falls_back_to_the_killed_container():
    detail = {"containers": [box(0, name="sidecar"), box(137, name="web")], "stopCode": "EssentialContainerExited"}
    finding = run(["[INFO] process within container 0123abcd died due to OOM"], **detail)
    assert_finding(finding, ID, {"container": "web"})


def test_an_agent_oom_line_about_another_tasks_container_is_not_this_tasks_cause():
    # The agent log covers the whole instance.
    logs = ['DockerGoClient: process within container 4f2a (name: "ecs-billing-worker-7-worker-c6e1a2b3") died due to OOM',
            "Traceback (most recent call last):", '  File "/app/a.py", line 1, in <module>',
            "ZeroDivisionError: division by zero"]
    assert run(logs, **exited(1)).pattern == "app-crash"


@pytest.mark.parametrize(("line", "own"), [
    ("java.lang.OutOfMemoryError: Direct buffer memory", "-XX:MaxDirectMemorySize"),
    ("java.lang.OutOfMemoryError: Metaspace", "-XX:MaxMetaspaceSize"),
    ("java.lang.OutOfMemoryError: Java heap space", "MaxRAMPercentage"),
])
def test_a_jvm_pool_gets_its_own_flag_and_no_claim_that_the_container_limit_was_hit(line, own):
    """Direct buffer memory and metaspace are JVM limits of their own: their flag first, no heap advice and no
    "the limit it hit" when the JVM exited by itself (not 137); the heap keeps the heap advice (near miss)."""
    f = run([line], **exited(3, memory=2048))
    text = "\n".join(f.remediation)
    assert own in text
    assert "limit it hit" not in text
    heap = own == "MaxRAMPercentage"
    assert ("MaxRAMPercentage" in text) == heap, text
    if not heap:
        assert own in f.remediation[0] and "heap" not in f.facts["kind"]


def test_gunicorn_workers_killed_offers_fewer_workers_as_the_other_lever():
    finding = run(["[2024-05-01 10:00:00 +0000] [1] [ERROR] Worker (pid:42) was sent SIGKILL! Perhaps out of memory?"])
    assert finding.pattern == "out-of-memory"
    assert any("--workers" in s for s in finding.remediation)


def test_near_miss_a_python_memory_error_names_no_gunicorn_workers():
    finding = run(["MemoryError"], **exited(137))
    assert not any("gunicorn" in s for s in finding.remediation)


@pytest.mark.parametrize(("code", "own"), [(134, True), (137, False)])
def test_node_aborting_at_v8s_own_heap_limit_sets_max_old_space_size_first(code, own):
    """Exit 134 with "JavaScript heap out of memory" is V8's own limit: --max-old-space-size first, no "the limit
    it hit"; near miss: a 137 kill at the container limit keeps the memory step first."""
    f = run(["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"],
            **exited(code, memory=2048))
    assert f.pattern == "out-of-memory"
    assert ("--max-old-space-size" in f.remediation[0]) == own, f.remediation
    assert ("limit it hit" in "\n".join(f.remediation)) == (not own)


@pytest.mark.parametrize(("code", "heap_first"), [(143, True), (137, False)])
def test_a_jvm_heap_cap_without_a_kill_sizes_the_heap_first(code, heap_first):
    """"Java heap space" and no 137 kill: the JVM's own cap (a quarter of the container by default): heap setting
    first; near miss: killed at the container limit (137, OOM reason) keeps more memory first."""
    extra = {"reason": "OutOfMemoryError: Container killed due to memory usage"} if code == 137 else {}
    f = run(['Exception in thread "Timer-1" java.lang.OutOfMemoryError: Java heap space'],
            **exited(code, memory=2048, **extra))
    assert f.pattern == "out-of-memory"
    assert ("MaxRAMPercentage" in f.remediation[0]) == heap_first, f.remediation
    assert "(Why: " in f.remediation[0]


_ROUTED_TASK = {"stopCode": "EssentialContainerExited",
                "containers": [{"name": "api", "exitCode": 2, "lastStatus": "STOPPED", "image": "repo/api:4"},
                               {"name": "log_router", "exitCode": 0, "lastStatus": "STOPPED",
                                "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"}]}


@pytest.mark.parametrize("record", [
    '[0] api-firelens-4f1c2e0d9a8b4c7d: [1714557600.000000000, {"source"=>"stderr", '
    '"log"=>"fatal error: runtime: out of memory", "ecs_task_arn"=>"arn:aws:ecs:..."}]',
    '[0] docker.web: [1714557600.000000000, {"source"=>"stderr", "log"=>"fatal error: runtime: out of memory", '
    '"container_name"=>"/ecs-orders-12-api-e2b8f6c1a4d3"}]',
], ids=["fluent-bit-stdout-firelens-tag", "fluent-bit-stdout-container-name"])
def test_an_oom_seen_only_in_the_log_routers_forwarded_record_is_the_named_containers(record):
    """The app's stderr reached the logs only through the log router: the record names the app, whose OOM it is."""
    assert_finding(run({"log_router": ["[info] [engine] started (pid=1)", record], "api": []}, **_ROUTED_TASK),
                   "out-of-memory", {"container": "api"})


@pytest.mark.parametrize(("router_line", "logs_of"), [
    # the router's own words, not a forwarded record: its own failure
    ("[error] [output:cloudwatch_logs] out of memory allocating the upload buffer", "log_router"),
    # a record of a container that is not in this task: nothing to re-attribute it to
    ('[0] billing-firelens-9a4c2e1f: [1714557600.0, {"log"=>"fatal error: runtime: out of memory"}]', "log_router"),
], ids=["routers-own-line", "record-of-another-task"])
def test_near_miss_a_routers_own_line_stays_the_routers(router_line, logs_of):
    f = run({"log_router": [router_line], "api": []}, **_ROUTED_TASK)
    assert f.pattern == "out-of-memory" and f.facts.get("container") == logs_of, f.facts


def test_near_miss_a_record_tag_in_an_apps_stream_is_not_rerouted():
    """Only a log router's stream holds forwarded records: the app printing such a line keeps it."""
    line = '[0] api-firelens-4f1c2e0d: [1714557600.0, {"log"=>"fatal error: runtime: out of memory"}]'
    detail = {"containers": [{"name": "worker", "exitCode": 2, "lastStatus": "STOPPED", "image": "repo/w:1"},
                             {"name": "api", "exitCode": 143, "lastStatus": "STOPPED", "image": "repo/api:4"}],
              "stopCode": "EssentialContainerExited"}
    f = run({"worker": [line], "api": []}, **detail)
    assert f.pattern == "out-of-memory" and f.facts.get("container") == "worker", f.facts


@pytest.mark.parametrize(("line", "oom"), [
    pytest.param("FATAL: could not lock the buffer pool with mlockall(): Cannot allocate memory", False,
                 id="mlockall-refused"),
    pytest.param("error: failed to lock memory pages: cannot allocate memory (raise the memlock ulimit)", False,
                 id="lock-memory-refused"),
    pytest.param("FATAL: could not map the shared buffers: Cannot allocate memory", True,
                 id="near-miss-an-allocation-refused-is-memory"),
])
def test_memory_that_could_not_be_locked_is_not_memory_running_out(line, oom):
    """mlock(2)/mlockall(2) answer ENOMEM when the process may not lock memory (no IPC_LOCK capability, a low
    memlock ulimit), whatever is free: an app failure, not the memory limit. An allocation refused is memory."""
    f = run([line], **exited(1))
    assert (f.pattern == ID) == oom, (f.pattern, f.facts)
    if not oom:
        assert f.pattern == "app-crash" and "IPC_LOCK" in "\n".join(f.remediation), f.remediation
