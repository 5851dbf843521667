"""out-of-memory: the container was killed for memory, or its runtime ran out of heap.

Signals: container reason "OutOfMemoryError: Container killed due to memory usage" (exit 137);
java.lang.OutOfMemoryError; V8 "JavaScript heap out of memory"; Python MemoryError; Go "fatal
error: runtime: out of memory"; std::bad_alloc; "Cannot allocate memory"; .NET
OutOfMemoryException; PHP "Allowed memory size ... exhausted"; CUDA out of memory; Erlang
"eheap_alloc: Cannot allocate N bytes of memory"; "Java heap space" where the JVM exits on it without the class name
(Akka's "shutting down JVM since 'akka.jvm-exit-on-fatal-error' is enabled"); a supervisor restarting workers over
their memory budget (Dask's nanny, Celery's max memory per child) before the container exited with a failure, which
explains the crash that follows but yields to a confident cause of the same incident. Facts:
container, limit (MiB, when known), kind. Near miss: memory that could not be locked ("Failed to lock memory:
cannot allocate memory", mlock/mlockall refused) is a missing IPC_LOCK capability or memlock ulimit, not memory
running out (an app crash). A JVM heap error under an explicit -Xmx (in the log or the command) is fixed by -Xmx,
not by the task memory alone.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    container_for_reason,
    exit_code,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
)
from shared.scan import lazy_re

_REASON = lazy_re(r"OutOfMemory|Container killed due to memory usage|\bOOM[ -]?Killed\b|memory limit exceeded",
                     re.IGNORECASE)
_LOG = lazy_re(
    r"java\.lang\.OutOfMemoryError(?:: (?P<java>[^\n]+))?"
    # the error's message alone, where the runtime that exits on it prints no class: Akka's "Uncaught error from
    # thread [...]: Java heap space, shutting down JVM since 'akka.jvm-exit-on-fatal-error' is enabled"
    r"|(?P<jvm_exit>\bJava heap space\b(?=[^\n]{0,200}?\b(?:shutting down (?:the )?JVM|exiting|terminating|halt)))"
    r"|(?P<v8>JavaScript heap out of memory|Allocation failed - process out of memory|Reached heap limit)"
    r"|^(?:\w+\.)*(?P<py>(?:_\w*)?MemoryError)\b"  # MemoryError, numpy _ArrayMemoryError
    r"|(?P<go>fatal error: runtime: out of memory|runtime: out of memory)"
    r"|(?P<cpp>std::bad_alloc)"
    r"|(?P<enomem>\[Errno 12\] Cannot allocate memory|Cannot allocate memory|\bENOMEM\b)"
    r"|(?P<dotnet>System\.OutOfMemoryException)"
    r"|(?P<php>Allowed memory size of (?P<php_bytes>\d+) bytes exhausted)"
    r"|(?P<ruby>failed to allocate memory \(NoMemoryError\))"
    # GPU memory: PyTorch, the CUDA runtime, TensorFlow's allocator on a GPU device, cuDNN / cuBLAS workspaces
    r"|(?P<cuda>CUDA out of memory|CUDA error: out of memory|\btorch\.(?:cuda\.)?OutOfMemoryError\b"
    r"|cudaErrorMemoryAllocation|\bCU(?:DNN|BLAS)_STATUS_ALLOC_FAILED\b"
    r"|\bOOM when allocating tensor\b[^\n]*\bGPU\b|\bResourceExhaustedError\b[^\n]*\bGPU\b)"
    r"|(?P<beam>\b\w+_alloc: Cannot allocate \d+ bytes of memory)"  # Erlang VM: eheap_alloc, binary_alloc ...
    r"|(?P<kernel>Out of memory: Kill(?:ed)? process|oom-kill|Memory cgroup out of memory)"
    r"|(?P<generic>\bout of memory\b)",
    re.IGNORECASE,
)
# ECS agent: 'DockerGoClient: process within container <id> (name: "ecs-fam-60-web-a8b5...") died due to OOM'
_AGENT_OOM = lazy_re(r"(?:\(name: \"?/?([\w.-]+)\"?\) )?died due to OOM\b")
_HINT = lazy_re(r"(?:perhaps|possibly|maybe|probably|could be|might be)\s+(?:an? )?out of memory", re.IGNORECASE)
_NEEDLES = ("outofmemory", "java heap space", "out of memory", "heap limit", "memoryerror", "bad_alloc", "cannot allocate memory",
            "enomem", "allowed memory size", "nomemoryerror", "oom-kill", "process out of memory", "bytes of memory",
            "memoryallocation", "status_alloc_failed", "oom when allocating", "resourceexhaustederror")
_KINDS = {"java": "JVM heap", "jvm_exit": "JVM heap", "v8": "V8 (Node.js) heap", "py": "Python MemoryError", "go": "Go runtime",
          "cpp": "native allocation", "enomem": "allocation refused by the kernel", "dotnet": ".NET heap",
          "php": "PHP memory_limit", "ruby": "Ruby heap", "cuda": "GPU memory", "beam": "Erlang VM heap", "kernel": "kernel OOM killer",
          "generic": "out of memory"}


# mlock(2)/mlockall(2) refused with ENOMEM: the process may not lock memory (no IPC_LOCK capability, a memlock
# ulimit too low), whatever memory is free: "Failed to lock memory: cannot allocate memory".
_LOCKED = lazy_re(r"\block(?:ing)? (?:the )?memory\b|\bmlock(?:all)?\b|\bmemlock\b|\bMAP_LOCKED\b", re.IGNORECASE)
_ALLOC = lazy_re(r"(?:cannot|can't|failed to|unable to|could not) allocate (\d{7,})[ -]?(?:-byte|bytes?)",
                 re.IGNORECASE)


def _one_allocation(ev: Evidence) -> tuple[float, int] | None:
    """The largest single allocation the log says failed, in MiB, with its line."""
    best = None
    for i in ev.logs.lines_with("allocate"):
        hit = _ALLOC.search(ev.logs.texts[i])
        if hit and (best is None or int(hit.group(1)) / 1048576 > best[0]):
            best = (int(hit.group(1)) / 1048576, i)
    return best


class OutOfMemoryFacts(Facts):
    """The facts of out-of-memory."""

    container_limit: str | None = Field(None, description="The container's own memory limit.")
    detail: str | None = Field(None, description="What the runtime said.")
    exit_code: int | None = Field(None, description="The container's exit code.")
    kind: str | None = Field(None, description="container OOM kill, JVM heap, Node heap, ...")
    limit: str | None = Field(None, description="The memory limit that applied.")
    limit_source: str | None = Field(None, description="Where the limit came from.")


_AMOUNT = lazy_re(r"(\d+(?:\.\d+)?)\s*(KiB|kB|KB|MiB|MB|M|GiB|GB|G)\b")
_USAGE_WORDS = lazy_re(r"\b(?:used|usage|rss|resident|heap|allocat\w*|mark-sweep|scavenge|total-vm|anon-rss|"
                          r"memory|peak)\b", re.IGNORECASE)


def _observed_peak(ev: Evidence, m: Match) -> tuple[float | None, str]:
    """The largest memory amount the logs report as used near the failure (MiB, and the line it came
    from): "used 3.1 GiB", Node's "Mark-sweep 2040.1 (2082.3) -> 2039.3 MB", the kernel's anon-rss."""
    logs = ev.logs
    if not logs:
        return None, ""
    end = (m.anchor if m.anchor is not None else len(logs) - 1) + 5
    best: tuple[float, int] | None = None
    for i in range(max(0, end - 60), min(len(logs), end)):
        text = logs.texts[i]
        if not _USAGE_WORDS.search(text):
            continue
        for amount in _AMOUNT.finditer(text):
            value = remedy.mib(amount.group(0))
            if value and 16 <= value <= 1024 * 1024 and (best is None or value > best[0]):
                best = (value, i)
    if best is None:
        return None, ""
    source = f"logs[{logs.containers[best[1]] or ev.primary or '?'}]:{best[1] + 1}"
    return best[0], source


# An explicit maximum heap, in a variable the log or the command shows: KAFKA_HEAP_OPTS=-Xms512M -Xmx8g, JAVA_OPTS,
# JVM_OPTS, the JVM's own "Picked up JAVA_TOOL_OPTIONS: -Xmx1g", or a command line's -Xmx2048m. Of several -Xmx the
# JVM uses the last.
_XMX = lazy_re(r"-Xmx(?P<n>\d+)(?P<u>[kKmMgGtT])?\b")
# Where a variable's value starts: NAME= (not inside a -Dname=, a path or a $NAME=), or the JVM's "Picked up NAME:".
_ASSIGN = lazy_re(r"(?<![\w.$/-])(?P<var>_?[A-Z][A-Z0-9_]*)=|\bPicked up (?P<picked>_?[A-Z][A-Z0-9_]*):")
# Between a value's start and its -Xmx: nothing but an opening quote and other JVM options (-Xms256m -XX:+UseG1GC).
_OPTIONS_ONLY = lazy_re(r"\s*[\"']?(?:-[^\s\"']*\s+)*")
# A Kafka client allocating a receive buffer: a size read from a TLS or SASL answer misread as a message length.
_KAFKA_RECEIVE = lazy_re(r"org\.apache\.kafka\.common\.(?:memory\.MemoryPool|network\.NetworkReceive)")


def _last_xmx(text: str) -> tuple[re.Match[str], str | None] | None:
    """The -Xmx in force on one line (the last) and the variable whose value directly holds it: the nearest
    assignment before it with only JVM options in between, so `LOG_LEVEL=info JAVA_OPTS=-Xms256m -Xmx1g` is
    JAVA_OPTS and `MODE=prod exec java -Xmx1g` is the command line (None)."""
    hit = _last(_XMX.finditer(text))
    if hit is None:
        return None
    a = _last(_ASSIGN.finditer(text, 0, hit.start()))
    if a is None or not _OPTIONS_ONLY.fullmatch(text, a.end(), hit.start()):
        return hit, None
    return hit, a.group("var") or a.group("picked")


def _last(matches: Iterator[re.Match[str]]) -> re.Match[str] | None:
    last = deque(matches, maxlen=1)
    return last[0] if last else None


def _explicit_xmx(ev: Evidence, container: str | None) -> tuple[float, str, str | None, int | None] | None:
    """(MiB, the -Xmx as written, the variable that carries it, its log line) of the container's newest explicit
    maximum heap: in its log (an environment dump, a command line) or its task definition's command."""
    logs = ev.logs
    for i in reversed(logs.lines_with("-xmx")):
        if logs.containers[i] not in (container, None):
            continue
        found = _last_xmx(logs.texts[i])
        if found:
            hit, var = found
            return _xmx_mib(hit), f"-Xmx{hit.group('n')}{hit.group('u') or ''}", var, i
    cdef = ev.container_definition(container)
    if cdef is not None:
        found = _last_xmx(" ".join((*cdef.entry_point, *cdef.command)))
        if found:
            hit = found[0]
            return _xmx_mib(hit), f"-Xmx{hit.group('n')}{hit.group('u') or ''}", None, None
    return None


def _kafka_receive_frame(ev: Evidence, anchor: int | None) -> int | None:
    """The line of a Kafka receive-buffer frame in the heap error's own stack trace (the entry holding the error
    line), or None: a Kafka frame in some other, earlier trace did not make this allocation."""
    if anchor is None:
        return None
    start, end = ev.logs.block_start(anchor), ev.logs.block_end(anchor)
    return next((i for i in ev.logs.lines_with("org.apache.kafka.common")
                 if start <= i <= end and _KAFKA_RECEIVE.search(ev.logs.texts[i])), None)


def _xmx_mib(hit: re.Match[str]) -> float:
    unit = (hit.group("u") or "b").lower()
    return int(hit.group("n")) * {"b": 1 / 1048576, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1048576}[unit]


def _xmx_step(ev: Evidence, m: Match, xmx: tuple[float, str, str | None, int | None], mib: int | None,
              need: int | None) -> str:
    """Step 1 for a JVM heap fixed by an explicit -Xmx: act on that value, not on the task memory alone."""
    size, written, var, line = xmx
    f = m.facts
    container = f.get("container") or "the container"
    where = f"`{var}`" if var else "the command line"
    why = remedy.cite(m)
    said = f", {log_proof(ev, line).source}" if line is not None else ""
    head = (f"{container}'s JVM filled the heap its explicit `{written}` ({where}{said}) fixes (exit {f.get('exit_code')}, "
            "not a 137 kill): the heap is set by -Xmx, so raising the task's memory alone changes nothing, and a "
            "`-XX:MaxRAMPercentage` elsewhere loses to an explicit -Xmx. ")
    if not mib:
        return head + (f"Raise -Xmx in {where} if the workload needs a larger heap, and keep it at about 75 % of the "
                       f"container memory. Roll it out: {remedy.roll_out(ev)}.{why}")
    if size >= mib:
        return head + (f"It is at or above the container's {mib} MiB, so the heap may outgrow the container and be "
                       f"OOM-killed (137) before the JVM reports it: set `-Xmx{int(mib * 0.75)}m` (75 % of {mib} MiB) "
                       f"in {where}, and raise the memory with it only if the workload needs that heap. Roll it out: "
                       f"{remedy.roll_out(ev)}.{why}")
    if size < mib * 0.75:
        return head + (f"The container's {mib} MiB was not reached: the heap is too small for the workload. Raise "
                       f"-Xmx in {where} up to about 75 % of the container (`-Xmx{int(mib * 0.75)}m`); the memory "
                       f"needs raising only if the heap must grow beyond that. Roll it out: {remedy.roll_out(ev)}.{why}")
    new_heap = f"`-Xmx{int((need or mib) * 0.75)}m`"
    return head + (f"It already takes most of the container's {mib} MiB: raise -Xmx and the memory together, keeping "
                   f"-Xmx at about 75 % of the limit ({new_heap} with the memory below).{why}")


# A runtime's own cap below this share of the container's memory leaves room to raise it without raising the memory:
# the share a heap is usually given of a container (-XX:MaxRAMPercentage=75, --max-old-space-size at 75 %).
_ROOM = 0.75
# PHP-FPM's pool manager (its relay of a worker's stderr, its own notices): every worker of the pool may use
# memory_limit, so their number times the limit is what must fit the container.
_FPM = lazy_re(r"\[pool [\w.-]+\]|\bphp-fpm\b|\bfpm-fcgi\b", re.IGNORECASE)


def _runtime_cap(f: Mapping[str, Any], kind: str, php_own: bool,
                 xmx: tuple[float, str, str | None, int | None] | None) -> float | None:
    """The size (MiB) of the runtime's own cap that was hit, when the evidence gives it: PHP's memory_limit from its
    fatal error (no 137 kill), or the JVM's explicit -Xmx (no 137 kill). None for a container kill, or a cap of
    unknown size (a JVM's default share, V8's default heap)."""
    if php_own and f.get("limit_source") == "PHP memory_limit" and f.get("limit"):
        return float(str(f["limit"]).split()[0])
    if xmx and "JVM heap" in kind:
        return xmx[0]
    return None


def _php_limit_step(ev: Evidence, m: Match, container: str, cap: float, mib: int) -> str:
    """Step 1 for PHP's memory_limit, well below the container's memory: raise memory_limit (where the log shows
    PHP runs: a PHP-FPM pool or the CLI), within the container's memory; the container memory only if the job needs
    more than that room."""
    room = int(mib * _ROOM)
    new = int(min(cap * 2, room))
    fpm = any(_FPM.search(ev.logs.texts[i]) for i in range(len(ev.logs))
              if ev.logs.containers[i] in (m.container, None))
    where = (f"php.ini, or `php_admin_value[memory_limit] = {new}M` in the PHP-FPM pool's configuration" if fpm
             else f"php.ini, or `php -d memory_limit={new}M` in the container's command")
    share = (": each PHP-FPM worker may use up to memory_limit, so keep memory_limit × `pm.max_children` within "
             "the container memory" if fpm else "")
    return (f"PHP hit its own `memory_limit` of {m.facts.get('limit')}, not the container's {mib} MiB (no 137 kill), "
            "so more task or container memory changes nothing: raise `memory_limit` to what the job needs, e.g. "
            f"`{new}M` ({where}; or the environment variable the image documents for it), up to about {room} MiB "
            f"(75 % of the container's {mib} MiB{share}), or make the job use less (process the data in chunks). "
            f"Then roll it out: {remedy.roll_out(ev)}. The container's memory needs raising only if the job needs "
            "more than that room.")


def _runtime_watch_step(ev: Evidence, m: Match, container: str, kind: str, cap: float, mib: int) -> str:
    """What shows the memory a runtime's own cap holds, when that cap is well below the container's memory: the
    runtime's own use (PHP's peak usage, the JVM's heap), not the container's (MemoryUtilized, docker stats), which
    stays far below its limit and shows nothing."""
    if "PHP" in kind:
        what = ("what the request or job holds: log `memory_get_peak_usage(true)` at the end of each one (the fatal "
                "error names the file and line where the limit was reached), or profile one run with a memory "
                "profiler (Xdebug's profiler, php-meminfo)")
    else:
        what = ("what fills the heap: a heap dump on the error (`-XX:+HeapDumpOnOutOfMemoryError` with "
                "`-XX:HeapDumpPath` on a mounted volume, so the dump outlives the task), and the heap's use over time "
                "(`jstat -gcutil` on the JVM's process through ECS Exec, or the heap metrics of a JMX / Micrometer "
                "exporter)")
    runtime = "PHP process" if "PHP" in kind else "JVM's heap"
    head = (f"To see what needs the memory, find {what}. The container's own memory (Container Insights' "
            f"MemoryUtilized, `docker stats`) measures the whole container against its {mib} MiB, not one {runtime} "
            f"against its {cap:.0f} MiB cap, so it does not show this limit being reached.")
    if remedy.local_repro_blocked(ev, m.container):
        return head
    run = remedy.docker_run(ev, m.container, memory_mib=mib, args=remedy.RUN_COMMAND)
    return (head + " Reproduce it locally with the task's command and the same limits, in bash: "
            f"```\n{remedy.read_command(ev, m.container)}\n{run}\n```")


# What a GPU memory report says about the device: PyTorch's "GPU 0 has a total capacity of 10.57 GiB of which 163.12 MiB
# is free", the CUDA runtime's "Process 123 has 9.41 GiB memory in use", the app's own advice ("try lowering ...").
_GPU_CAPACITY = lazy_re(r"\bGPU \d+ has a total capacity of [\d.]+ [KMGT]i?B(?: of which [\d.]+ [KMGT]i?B is free)?")
_GPU_ADVICE = lazy_re(r"\b(?:please )?(?:try|consider) (?:lowering|reducing|decreasing|using a smaller|a smaller)\b",
                      re.IGNORECASE)
_VLLM = lazy_re(r"\bvllm\b", re.IGNORECASE)
_TENSORFLOW = lazy_re(r"\bOOM when allocating tensor\b|\bResourceExhaustedError\b|\btensorflow\b", re.IGNORECASE)


def _near(ev: Evidence, m: Match, regex: re.Pattern[str], before: int = 10, after: int = 12) -> int | None:
    """The first line of the match's container around its anchor that the regex finds."""
    logs = ev.logs
    if m.anchor is None:
        return None
    for j in range(max(0, m.anchor - before), min(len(logs), m.anchor + after + 1)):
        if logs.containers[j] in (m.container, None) and regex.search(logs.texts[j]):
            return j
    return None


def _gpu_steps(ev: Evidence, m: Match) -> list[str]:
    """GPU memory ran out: the memory on the GPU, which the task's and container's memory (host RAM) do not size."""
    f = m.facts
    container = f.get("container") or "the container"
    ram = f.get("container_limit")
    name = remedy.container_name(ev, m.container)
    image = remedy.image(ev, name) or ""
    context = " ".join([image, *(ev.logs.texts[j] for j in range(len(ev.logs)) if ev.logs.containers[j] in
                                 (m.container, None))][:400])
    capacity = f" ({f['detail']})" if f.get("detail") else ""
    if _VLLM.search(context):
        knobs = ("lower vLLM's `--gpu-memory-utilization` (default 0.9, the share of the GPU's memory it plans to "
                 "use; a lower value leaves headroom) and `--max-num-seqs` (how many sequences it batches at once), "
                 "and cap `--max-model-len`")
    elif _TENSORFLOW.search(context):
        knobs = ("lower the batch size, and let TensorFlow take GPU memory as it needs it "
                 "(`TF_FORCE_GPU_ALLOW_GROWTH=true`) instead of reserving it all at start")
    else:
        knobs = ("lower the batch size (or the sequence length / image size per batch), or the share of the GPU the "
                 "framework is told to claim")
    advice = _near(ev, m, _GPU_ADVICE)
    said = ev.logs.texts[advice].strip() if advice is not None else ""
    own = (f" {log_proof(ev, advice).source} gives the app's own advice: “{said[:200]}”"
           + ("" if said[:200].endswith((".", "!", "?")) else ".")
           if advice is not None else "")
    steps = [f"{container} ran out of GPU memory{capacity}, the memory on the GPU itself, not its RAM: the task's and "
             f"container's memory{f' ({ram})' if ram else ''} limit host RAM only, so raising them changes nothing. "
             f"Make the app claim less GPU memory: {knobs}; then roll it out: {remedy.roll_out(ev)}.{own}"
             + remedy.cite(m)]
    steps.append("Make sure nothing else holds the GPU: give the container its GPU with `resourceRequirements` "
                 '`[{"type": "GPU", "value": "1"}]` in its definition (ECS then hands that GPU to this container '
                 "alone); a container that sees every GPU without it (an image that sets `NVIDIA_VISIBLE_DEVICES=all`) "
                 "shares them with the other tasks on the instance. On the instance, `nvidia-smi` lists the processes "
                 "on each GPU and their memory.")
    steps.append("If the model or batch needs more than this GPU has even then, run it on a GPU with more memory: an "
                 "instance type with a larger GPU in the " + ("Batch compute environment" if remedy.launcher(ev) ==
                                                             "batch" else "capacity provider's Auto Scaling group")
                 + ", or more GPUs (`resourceRequirements` GPU count) with the model split across them"
                 + (" (vLLM `--tensor-parallel-size`)" if _VLLM.search(context) else "") + ".")
    if not remedy.local_repro_blocked(ev, m.container):
        run = remedy.docker_run(ev, m.container, memory_mib=None, args=remedy.RUN_COMMAND, gpu=True)
        steps.append("Reproduce on a machine with a GPU like the task's (Docker with the NVIDIA Container Toolkit; "
                     "without `--gpus` the container sees no GPU at all), and watch `nvidia-smi` while it starts, in "
                     f"bash: ```\n{remedy.read_command(ev, m.container)}\n{run}\n```")
    return steps


# A supervisor that restarts its workers over a memory budget of their own: Dask's nanny ("Worker exceeded 95% memory
# budget. Restarting"), billiard/Celery's max memory per child ("child process exiting after exceeding memory limit").
# Logged at WARNING and not a crash of the process itself: the work those workers held is lost, and what the process
# then fails on (a lost-worker traceback) is the consequence.
_BUDGET_KILL = lazy_re(r"\b(?:worker|child)\b[^\n]{0,120}?\bexceed(?:ed|s)? (?:its |the )?(?:\d+(?:\.\d+)?% )?(?:of )?"
                       r"(?:its )?memory (?:budget|limit)\b[^\n]{0,60}?\b(?:restart|kill|terminat)"
                       r"|\bexiting after exceeding (?:its |the )?memory limit\b", re.IGNORECASE)
_BUDGET_NEEDLES = ("memory budget", "memory limit")
_BUDGET_KIND = "a worker over its memory budget, restarted by its supervisor"
_BUDGET_REACH = 100  # log lines: a restart this far before the container's last line is part of how it ended
# A line after the restart saying work went on (a task or job done, a worker back up, a request served): the process
# survived the recycle, so the memory is not how it ended. A line that itself reports a failure is no such sign.
_WORK_DONE = lazy_re(r"\b(?:succeeded|completed|finished|processed|restarted|respawned|recovered|"
                     r"(?:received|accepted|picked up) (?:a |new )?(?:task|job|request|message)|ready (?:to|for)\b|"
                     r"up and running|back online)", re.IGNORECASE)
_NOT_WORK = lazy_re(r"error|fail|exception|traceback|fatal|killed|\blost\b|abort|unable|cannot|refused|denied",
                    re.IGNORECASE)


_GUNICORN_KILLED = lazy_re(r"Worker \(pid:?\s*\d+\) was sent SIGKILL", re.IGNORECASE)


class OutOfMemory(Pattern):
    id = "out-of-memory"
    explained_by = ("memory", "memoryReservation")
    priority = 130
    severity = "critical"
    Facts = OutOfMemoryFacts
    key_facts = ("container",)
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _REASON)
        if hit:
            source, text, _ = hit
            container = container_for_reason(ev, source)
            return self._build(ev, container, "container memory limit (ECS OOM kill)", Stage.PLATFORM,
                               (reason_proof(source, text),), None, 0.97)
        agent = self._from_agent_log(ev)
        if agent:
            return agent
        found = self._in_logs(ev)
        if not found:
            return self._budget_kill(ev)
        i, m = found
        kind_key = next(k for k in _KINDS if m.group(k))
        hinted = kind_key == "generic" and _HINT.search(ev.logs.texts[i])
        if hinted and any("worker timeout" in ev.logs.texts[j].lower() for j in range(max(0, i - 5), i)):
            return None  # gunicorn's guess after it killed a timed-out worker itself
        if kind_key == "generic" and "memory" in ev.logs.texts[i].lower() and ev.logs.quiet(i):
            return None
        container = container_for_line(ev, i)
        match = self._build(ev, container, _KINDS[kind_key], Stage.APP, (log_proof(ev, i),), i,
                            0.7 if hinted else 0.75 if kind_key == "generic" else 0.92)
        if kind_key == "java" and m.group("java"):
            match.facts["detail"] = m.group("java").strip()
            # the JVM's other memory pools, each with its own limit: not the heap
            low = match.facts["detail"].lower()
            if "direct buffer" in low:
                match.facts["kind"] = "JVM direct buffer memory"
            elif "metaspace" in low:
                match.facts["kind"] = "JVM metaspace"
        if kind_key == "cuda":
            # the GPU's own memory: the task's memory limit (host RAM) is not the limit that was hit
            if "limit" in match.facts:
                match.facts["container_limit"] = match.facts.pop("limit")
                match.facts.pop("limit_source", None)
            found_capacity = _near(ev, match, _GPU_CAPACITY, before=3, after=3)
            if found_capacity is not None:
                capacity = _GPU_CAPACITY.search(ev.logs.texts[found_capacity])
                match.facts["detail"] = capacity.group(0) if capacity else None
        if kind_key == "php":
            php_bytes = int(m.group("php_bytes"))
            if "limit" in match.facts:
                match.facts["container_limit"] = match.facts["limit"]
            match.facts["limit"] = f"{php_bytes // (1024 * 1024)} MiB ({php_bytes} bytes)"
            match.facts["limit_source"] = "PHP memory_limit"
        return match

    def _in_logs(self, ev: Evidence) -> tuple[int, re.Match[str]] | None:
        """The preferred log line saying memory ran out (see find_in_logs); an allocation refused because memory
        could not be locked (mlock, memlock) is a missing capability or ulimit, not the memory running out."""
        for i in candidate_lines(ev, _NEEDLES):
            text = ev.logs.texts[i]
            m = _LOG.search(text)
            if m is None or ev.logs.quiet(i):
                continue
            if m.group("enomem") and _LOCKED.search(text):
                continue
            return i, m
        return None

    def _budget_kill(self, ev: Evidence) -> Match | None:
        """A supervisor's restart of workers over their memory budget, near the end of a container that then exited
        with a failure: the memory is why (confidence below CONFIDENT, so a confident cause named in the same incident
        still wins); the crash it led to (a lost-worker error) is explained by it. Not a restart the process survived:
        when its own later lines say work went on (a task succeeded, a worker restarted), what it exited on later is
        another story (a recycle by max-memory-per-child is routine)."""
        texts = ev.logs.texts
        for i in candidate_lines(ev, _BUDGET_NEEDLES):
            if not _BUDGET_KILL.search(texts[i]):
                continue
            container = container_for_line(ev, i)
            code = exit_code(ev, container)
            own = ev.logs.indices_for([ev.logs.containers[i]])
            if code in (None, 0) or (own and own[-1] - i > _BUDGET_REACH):
                continue
            if any(texts[j][:1] not in (" ", "\t") and _WORK_DONE.search(texts[j]) and not _NOT_WORK.search(texts[j])
                   for j in own if j > i):  # an indented line is a traceback's frame or code, not a report of work
                continue
            match = self._build(ev, container, _BUDGET_KIND, Stage.APP, (log_proof(ev, i),), i, 0.65)
            return replace(match, outranks=("app-crash",))
        return None

    def _from_agent_log(self, ev: Evidence) -> Match | None:
        """The ECS agent's log (EC2): 'process within container <id> (name: "ecs-<family>-<rev>-<name>-<hex>")
        died due to OOM'. The agent log covers the whole instance: the line counts only when Docker's name
        is one of this task's containers or, without a name, when one of them was killed (137)."""
        found = find_in_logs(ev, ("due to oom",), _AGENT_OOM, allow_quiet=True)
        if not found:
            return None
        i, m = found
        docker_name = m.group(1) or ""
        named = [c.name for c in ev.detail.containers if c.name and f"-{c.name}-" in f"{docker_name}-"]
        killed = [c.name for c in ev.detail.containers if c.exit_code == 137]
        one_killed = killed[0] if len(killed) == 1 else None
        container = (max(named, key=len) if named else None) if docker_name else one_killed
        if container is None:
            return None
        return self._build(ev, container, "kernel OOM killer (reported by the ECS agent)", Stage.PLATFORM,
                           (log_proof(ev, i),), i, 0.9)

    def _build(self, ev, container, kind, stage, proofs, anchor, confidence) -> Match:
        limit, limit_source = ev.memory_limit(container)
        facts = {"container": container, "kind": kind, "exit_code": exit_code(ev, container)}
        if limit:
            facts["limit"] = f"{limit} MiB"
            facts["limit_source"] = limit_source
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=proofs,
                     confidence=confidence, stage=stage, anchor=anchor, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        container = f.get("container") or "the container"
        if f.get("kind") == _KINDS["cuda"]:
            return Explanation(
                title=f"Out of GPU memory: {container}",
                summary=(f"{container} ran out of GPU memory" + (f" ({f['detail']})" if f.get("detail") else "")
                         + " and exited. This is the GPU's own memory, not the container's RAM"
                         + (f" ({f['container_limit']})" if f.get("container_limit") else "")
                         + ": the app must claim less of the GPU, or run on a larger GPU."),
                remediation=_gpu_steps(ev, m),
            )
        limit = f.get("limit")
        sized = f.get("container_limit") or (None if f.get("limit_source") == "PHP memory_limit" else limit)
        mib = int(sized.split()[0]) if sized else None
        kind = f.get("kind", "")
        peak, peak_source = _observed_peak(ev, m)
        need = remedy.memory_with_headroom(peak or 0, mib) if (peak or mib) else None
        why = remedy.cite(m)
        fargate = remedy.is_fargate(ev)
        steps: list[str] = []
        # The JVM threw OutOfMemoryError itself (no 137 kill): one of its own pools was full, not the container.
        jvm_own = "JVM" in kind and f.get("exit_code") != 137
        # V8 aborting at its own heap limit (exit 134 / SIGABRT, "JavaScript heap out of memory"), not killed at 137
        v8_own = "V8" in kind and f.get("exit_code") not in (137, None)
        if jvm_own and "direct buffer" in kind:
            direct = max(256, (mib // 2) // 256 * 256) if mib else None
            steps.append(f"{container}'s JVM ran out of direct (off-heap) buffer memory, a JVM limit of its own"
                         + (f", below the container's {limit}" if limit else "")
                         + f" (exit {f.get('exit_code')}, not a 137 kill): raise `-XX:MaxDirectMemorySize` (by default "
                         "it equals the maximum heap, a quarter of the container memory), e.g. "
                         + (f"`JAVA_TOOL_OPTIONS=-XX:MaxDirectMemorySize={direct}m`" if direct else
                            "`JAVA_TOOL_OPTIONS=-XX:MaxDirectMemorySize=` half the container memory")
                         + ", keeping heap + direct memory + about 300 MiB of metaspace and threads within the "
                         "container memory; or cap what allocates the buffers (Netty, Kafka and NIO clients). "
                         f"Roll it out: {remedy.roll_out(ev)}.{why}")
            why = ""
        elif jvm_own and "metaspace" in kind:
            steps.append(f"{container}'s JVM filled its metaspace (class metadata), a JVM limit of its own (exit "
                         f"{f.get('exit_code')}, not a 137 kill): raise or remove `-XX:MaxMetaspaceSize` (e.g. "
                         "`JAVA_TOOL_OPTIONS=-XX:MaxMetaspaceSize=512m`), and look for class loader leaks on redeploys "
                         f"or dynamic proxies. Roll it out: {remedy.roll_out(ev)}.{why}")
            why = ""
        if v8_own:
            room = mib
            heap = f"{int(room * 0.75)}" if room else None
            steps.append(f"{container}'s Node process hit V8's own heap limit and aborted (exit {f.get('exit_code')}, "
                         f"not a 137 kill{f' at the container limit of {limit}' if limit else ''}): raising the container "
                         "memory alone does not raise V8's limit. Set "
                         + (f"`NODE_OPTIONS=--max-old-space-size={heap}` (75 % of {room} MiB)" if heap else
                            "`NODE_OPTIONS=--max-old-space-size` to 75 % of the container memory in MiB")
                         + f" in the container's environment and roll it out: {remedy.roll_out(ev)}.{why}")
            why = ""
        # PHP stopped at its own memory_limit (a fatal error, no 137 kill): more container memory changes nothing.
        php_own = "PHP" in kind and f.get("exit_code") != 137
        xmx = _explicit_xmx(ev, m.container) if "JVM heap" in kind and jvm_own else None
        # The runtime stopped at a cap of its own whose size the evidence gives (PHP's memory_limit in its message, an
        # explicit -Xmx) and that is well below the container's memory: the runtime's setting is the fix, and the
        # container's memory is neither what ran out nor what shows the growth.
        cap = _runtime_cap(f, kind, php_own, xmx)
        below = bool(cap and mib and cap < mib * _ROOM)
        if "PHP" in kind and below and cap and mib:
            steps.append(_php_limit_step(ev, m, container, cap, mib) + why)
            why = ""
            need = None
        elif "PHP" in kind:
            of = f" of {limit}" if php_own and limit else ""
            steps.append(f"PHP hit its own `memory_limit`{of}, not the container's"
                         + (" (no 137 kill)" if php_own else "") + ": raise `memory_limit` in php.ini "
                         "(or `php -d memory_limit=...`) and keep it below the container memory, or make the job "
                         f"use less (process the data in chunks).{why}")
            why = ""
        own_cap = jvm_own or v8_own or php_own
        alloc = None if "PHP" in kind else _one_allocation(ev)
        if alloc and mib and alloc[0] > mib:
            # One request larger than the whole limit: a runaway allocation that no headroom holds.
            block, line = alloc
            dump = (" (Erlang: the erl_crash.dump names the process whose heap grew; set `ERL_CRASH_DUMP` to a "
                    "mounted volume to keep it)" if "eheap_alloc" in ev.logs.texts[line] or "erl" in kind.lower()
                    else "")
            steps.append(f"{container} asked for one block of about {block:.0f} MiB at once, more than its whole "
                         f"{mib} MiB limit: a runaway allocation (a heap or buffer growing without bound, an oversized "
                         f"message or query result), which more memory only postpones. Find what grew{dump}, cap it "
                         "in the app's configuration, or upgrade the release that has the bug; raise the memory only "
                         f"if such a size is expected.{remedy.because(log_proof(ev, line).source, ev.logs.texts[line])}")
            why = ""
            need = None
        if xmx and mib and xmx[0] < mib * _ROOM:
            need = None  # the container has room for a larger heap: only -Xmx needs raising
        if need:
            task_level = f.get("limit_source") == "task memory" or (
                not f.get("limit_source", "").startswith("container") and ev.memory_limit(container)[1] == "task memory")
            basis = (f"the {peak:.0f} MiB it used ({peak_source})" if peak and (not mib or peak > mib)
                     else f"the task's {mib} MiB memory" if own_cap and task_level
                     else f"its {mib} MiB limit" if own_cap or kind == _BUDGET_KIND else f"the {mib} MiB limit it hit")
            if fargate:
                task_cpu = int(ev.detail.cpu) if ev.detail.cpu and str(ev.detail.cpu).isdigit() else None
                cpu, mem = remedy.fargate_size(need, task_cpu)
                size = (f'task size `"cpu": "{cpu}", "memory": "{mem}"` (a valid Fargate pair) and, if the '
                        f'container has its own limit, `"memory": {need}` on `{container}`')
            elif task_level:
                # The task-level memory is the limit: a container's memory may not exceed it, so raise the task's.
                size = (f'task-level `"memory": "{need}"` (the task memory is the limit here, and a container\'s '
                        f'memory may not exceed it) and room for it on the instance')
            else:
                size = f'`"memory": {need}` on `{container}` (and room for it on the instance)'
                task_mem = (ev.task_definition.memory if ev.task_definition else None) or ev.detail.memory
                if task_mem and str(task_mem).isdigit() and int(task_mem) < need:
                    # ECS rejects a container memory above the task-level memory: raise both.
                    size += (f', and raise the task-level `"memory"` (now {task_mem}) to at least {need}, since a '
                             "container's memory may not exceed the task's")
            steps.append(("If the runtime's heap needs more than the container has, give " if steps else "Give ")
                         + f"{container} at least {need} MiB, {basis} plus 25 % headroom: in the task definition "
                         f"set the {size}; then roll it out: {remedy.roll_out(ev)}.{why}")
            why = ""
        if any(_GUNICORN_KILLED.search(p.text) for p in m.proofs):
            # gunicorn forks one copy of the app per worker: the worker count multiplies the memory.
            steps.append("Or run fewer gunicorn workers: each worker is a full copy of the app, so lower "
                         "`--workers` (or `WEB_CONCURRENCY`) until they fit the container memory, or use "
                         "`--preload` to share the app's memory between them.")
        if "JVM heap" in kind:
            heap_step = ("Size the JVM heap from the container limit instead of a fixed -Xmx: "
                         "`JAVA_TOOL_OPTIONS=-XX:MaxRAMPercentage=75.0` (and raise the memory if the heap is "
                         f"really needed).{why}")
            if xmx:
                steps.insert(0, _xmx_step(ev, m, xmx, mib, need))
                for k in range(1, len(steps)):
                    steps[k] = steps[k].replace(remedy.cite(m), "")
                receive = _kafka_receive_frame(ev, m.anchor)
                if receive is not None:
                    # A heap error in a Kafka client's receive path is the classic sign of a size misread.
                    steps.insert(1, "The allocation that failed is a Kafka client's receive buffer: a client that "
                                    "speaks plaintext to a TLS or SASL listener reads the server's handshake bytes as "
                                    "a message size and asks for hundreds of MiB or more at once, whatever the heap. Check the "
                                    "client's `security.protocol` (and `sasl.mechanism`) against the broker's "
                                    "listener, e.g. `SASL_SSL` for a cloud broker with credentials, for every client "
                                    "the app builds (the admin, producer and consumer settings of Kafka Connect each "
                                    "need them)."
                                    + remedy.because(log_proof(ev, receive).source, ev.logs.texts[receive]))
            elif jvm_own and steps:
                # The JVM hit its own heap cap (by default a quarter of the container): the heap setting comes first.
                cited = remedy.cite(m)
                heap_step = (f"{container}'s JVM filled its own heap cap (exit {f.get('exit_code')}, not a 137 kill; "
                             "without -Xmx the JVM takes only a quarter of the container memory): " + heap_step[0].lower()
                             + heap_step[1:].replace(why, "") + cited)
                steps[0] = steps[0].replace(cited, "")
                steps.insert(0, heap_step)
            else:
                steps.append(heap_step)
            why = ""
        if "V8" in kind and not v8_own:
            room = need or mib
            heap = f"{int(room * 0.75)}" if room else None
            steps.append("Let Node use the memory it has: "
                         + (f"`NODE_OPTIONS=--max-old-space-size={heap}` (75 % of {need or mib} MiB)"
                            if heap else "set `NODE_OPTIONS=--max-old-space-size` to 75 % of the container memory "
                            "in MiB")
                         + f", and raise the task memory if the heap keeps growing.{why}")
            why = ""
        if kind == _BUDGET_KIND:
            steps.insert(0, f"A supervisor in {container} restarted its workers because each went over its own memory "
                         "budget (a per-worker limit, a share of the container memory: Dask's `--memory-limit` or "
                         "`distributed.worker.memory.*`, Celery's `worker_max_memory_per_child`), and the work they "
                         "held was lost, so the job failed after. Give each worker more (fewer workers per container, "
                         "or a larger container with the per-worker limit raised with it), or make each piece of work "
                         f"smaller (partitions, chunks, batch sizes).{why}")
            why = ""
        if not steps or "Python" in kind or "Go" in kind or "native" in kind:
            steps.append(f"Reduce what {container} keeps in memory (batch sizes, caches, worker count) or raise its "
                         f"memory (now {limit or 'unknown'}).{why}")
        # Only a container kill of an app (not a runtime's own cap, which its own setting fixes; not a well-known
        # agent image, whose buffers are its configuration's) in a service (a job's memory follows its input).
        agent = bool(remedy.agent_image(ev, m.container)) or bool(_AGENT_WORDS.search(
            f"{m.container or ''} {remedy.image(ev, m.container) or ''}"))
        growth = None if (alloc and mib and alloc[0] > mib) or own_cap or agent or not remedy.service(ev) \
            else _growth_step(ev, m, container, kind)
        if growth:
            # A limit hit only after a long run: the memory grew to it, so finding the growth comes first.
            cited = remedy.cite(m)
            steps = [step.replace(cited, "") for step in steps]
            if steps and steps[0].startswith("Give "):
                steps[0] = "Raise the memory only once the growth is explained (expected load, not a leak): g" + \
                    steps[0][1:]
            steps.insert(0, growth + cited)
        chart = ("chart MemoryUtilized (Container Insights) " + ("before it exited." if own_cap else "before the kill."))
        if below and cap and mib:
            steps.append(_runtime_watch_step(ev, m, container, kind, cap, mib))
        elif remedy.local_repro_blocked(ev, f.get('container')):
            if not growth:  # (the growth step reads the trend already)
                steps.append("In AWS, " + chart)
        else:
            # With the command the task ran (the task definition's, or the override a job or run-task gave): the
            # image's own CMD may not be the work that used the memory.
            run = remedy.docker_run(ev, f.get('container'), memory_mib=mib, args=remedy.RUN_COMMAND)
            steps.append("Reproduce locally with the same limit and the task's command, and watch `docker stats` while "
                         f"it works, in bash: ```\n{remedy.read_command(ev, f.get('container'))}\n{run}\n``` in AWS, "
                         + chart)
        return Explanation(
            # A runtime's own pool (JVM, V8) is not the container limit: the title names the pool then.
            title=f"Out of memory: {container}" + (f" ({kind})" if (jvm_own or v8_own) and kind else
                                                   f" (limit {limit})" if limit else ""),
            summary=(f"{container}'s JVM ran out of {kind.removeprefix('JVM ')}, a pool the JVM limits itself"
                     + (f" (the container has {limit})" if limit else "") + ", and exited. Its JVM limit needs "
                     "raising, or the app must use less." if jvm_own else
                     f"{container}'s PHP hit its own memory_limit of {limit}, well below the container's {mib} MiB. "
                     "PHP's memory_limit needs raising, or the job must use less." if "PHP" in kind and below else
                     f"{container} ran out of memory ({kind})"
                     + (f" with a limit of {limit}" if limit else "")
                     + " and was stopped. It needs more memory or must use less."),
            remediation=steps,
        )


# A task that ran this long before it hit its limit grew into it (a leak, a cache or queue without bound): more
# memory only postpones the next kill. Shorter runs keep the sizing advice first (a start-up or a load spike).
LONG_RUN_HOURS = 12
# A monitoring or log agent, by its container's name or image (its memory is its buffers' configuration). Each word
# starts a word of the name (fluentd, otelcol, aws-otel-collector), never inside one (hotel-api is an app).
_AGENT_WORDS = lazy_re(r"(?i)(?<![a-z0-9])(?:datadog|dd-agent|fluent|envoy|otel|xray|x-ray|cloudwatch-agent|cwagent|"
                       r"newrelic|splunk|log[_-]?router|firelens)")
# A runtime's own heap limit, so it collects (or fails with its own error) before the container is killed.
_HEAP_SETTINGS = (("JVM", "the JVM's `-XX:MaxRAMPercentage` (with a heap dump on `-XX:+HeapDumpOnOutOfMemoryError`)"),
                  ("V8", "Node's `--max-old-space-size` (and a heap snapshot, `--heapsnapshot-near-heap-limit=1`)"),
                  ("Python", "a memory profile (tracemalloc) of the worker"),
                  ("PHP", "PHP's `memory_limit`"),
                  ("Go runtime", "Go's `GOMEMLIMIT` (a soft limit the collector works to stay under) and a pprof heap "
                   "profile (`go tool pprof` of `/debug/pprof/heap`, or `pprof.WriteHeapProfile`)"))


def _growth_step(ev: Evidence, m: Match, container: str, kind: str) -> str | None:
    """Find the growth, for a container that hit its memory limit after running LONG_RUN_HOURS or more: its memory
    trend over the task's life (Container Insights' MemoryUtilized for the service, or the task definition family),
    a heap dump, and the runtime's own heap limit. None for a shorter run."""
    d = ev.detail
    ran = remedy.ran_for(ev)
    if ran is None or ran < LONG_RUN_HOURS * 3600 or d.started_at is None:
        return None
    end = d.stopping_at or d.execution_stopped_at or d.stopped_at
    if end is None:
        return None
    days, hours = divmod(int(ran // 3600), 24)
    took = f"{days} day{'s' if days > 1 else ''} {hours} h" if days else f"{hours} h"
    svc = remedy.service(ev)
    fam = remedy.family(ev)
    dim = (f"Name=ServiceName,Value={remedy.q(svc)}" if svc else
           f"Name=TaskDefinitionFamily,Value={remedy.q(fam)}" if fam else None)
    # An hour a point, or longer so the run fits the 1,440 points one call returns.
    period = max(3600, -(-int(ran) // 1440 // 3600) * 3600)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    start, stop = d.started_at.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt)
    trend = (f"`aws cloudwatch get-metric-statistics --namespace ECS/ContainerInsights --metric-name MemoryUtilized "
             f"--dimensions Name=ClusterName,Value={remedy.q(remedy.cluster(ev))} {dim} --start-time {start} "
             f"--end-time {stop} --period {period} --statistics Maximum{remedy.region_flag(ev)}` (Container Insights "
             "must be on for the cluster)") if dim and remedy.cluster(ev) else "Container Insights' MemoryUtilized"
    heap = next((how for word, how in _HEAP_SETTINGS if word in kind), None) or (
        "the runtime's heap limit and a heap dump (.NET `DOTNET_GCHeapHardLimitPercent` and `dotnet-gcdump`, the "
        "JVM's `-XX:MaxRAMPercentage` and `-XX:+HeapDumpOnOutOfMemoryError`, Node's `--max-old-space-size`)")
    return (f"{container} ran {took} (from {start} to {stop}) before it hit the limit: its memory grew over that "
            "time (a leak, or a cache or queue without a bound), so raising the limit only postpones the next kill. "
            f"Find the growth first: its memory trend over the task's life, {trend}; a steady climb is a leak. Then "
            f"find what holds it with {heap}, and cap it in the app.")


PATTERN = OutOfMemory()
