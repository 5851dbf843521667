"""app-crash: the application raised, panicked or aborted and exited; no more specific pattern.

Signals: Python "Traceback (most recent call last)" and its final exception line; Go "panic:" /
"fatal error:"; Node uncaught errors with "at ..." frames; Java "Exception in thread" / Spring
"Application run failed" and the last "Caused by:"; .NET "Unhandled exception."; Ruby
"... (NameError)"; Rust "thread 'main' panicked at"; PHP "PHP Fatal error"; Elixir "** (Error)";
native "Segmentation fault" / "terminate called after throwing"; a native crash handler's backtrace
frames ("#3: symbol [0x55a4...]") from a container that exited of a fatal signal of its own (139, 134,
...); otherwise error output followed
by a non-zero exit the app returned itself (1, 2, 78, 134, 139 ...), where a start-up check refusing a setting it
names as too low or too high and what to set it to ("X [n] is too low, increase to at least [N]", "X must be at least N")
is error output without an error word (a kernel parameter that is not namespaced, vm.* for one, is the host's: set on
EC2 in the instance's user data, not possible on Fargate), and so is "could not ..." (an Erlang node that could not join its
cluster for a cookie that differs from its peers' is this, not a database connection); an exit 0 under "Essential
container in task exited" whose last line (before any report of the exit code) is at error level
(an entrypoint or supervisor that reported its failure and returned 0: log failures win over a clean
exit 0). A bare 137/143 with no error text is not a crash (see unknown). Facts: exception, language,
exit_code, container.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from pydantic import Field

from shared import crash_steps
from shared import remediation as remedy
from shared.evidence.model import SIGNAL_EXITS, Evidence
from shared.patterns.base import (
    ERLANG_BYTES_NEEDLE,
    KILL_REPORT,
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    erlang_exception,
    exit_code,
    log_proof,
    sidecar_line,
)
from shared.scan import lazy_re

_AGENT_BUG = lazy_re(r"(?i)\bpanic|runtime error|nil pointer|segmentation (?:fault|violation)|SIGSEGV|"
                     r"Caught (?:Aborted|Segmentation)|assertion .{0,40}failed")
# A task that ran longer than this (10 minutes) before it crashed was past its deployment: no crash loop to stop.
_CRASH_LOOP_SECONDS = 600
# An established connection that dropped (as opposed to one never made: refused, DNS, timeout at connect).
_CONN_LOST = lazy_re(r"(?i)\bnot connected\b|connection (?:was )?(?:closed|reset|lost|dropped)|ECONNRESET|"
                     r"broken pipe|socket hang up|\bEPIPE\b")
_CONFIG_WORDS = lazy_re(r"(?i)\bconfig(?:uration)?\b|unknown (?:field|property|key)|\bregion\b|invalid argument")
# A library refusing a usage it dropped and naming the replacement: "Nesting at the root is no longer supported. Use
# merge instead.", "X was removed in 2.0, use Y instead".
_USE_INSTEAD = lazy_re(r"(?i)\b(?:no longer (?:supported|allowed|available)|not supported any ?more|(?:has been|was|were|"
                       r"is|are) (?:removed|deprecated)|deprecated)\b[^\n]{0,160}?\b(?:use|call)\s+[`'\"]?"
                       r"(?P<alt>[A-Za-z_][\w.:/-]{0,60}(?:\(\))?)[`'\"]?\s+instead\b")
# Where a panic or an exception says it was raised: Rust's "(at src/main.rs:77:17)" the parser appended, or a frame.
_RUST_AT = lazy_re(r"\(at ([\w./-]+\.rs:\d+)(?::\d+)?\)$")
# A crash in the program's own code, not an error it reported: a panic, a runtime fatal error, a fault signal.
# An upper-case "PANIC:" in PostgreSQL's log form is a log level (for a data-directory or WAL fault), not a panic in
# the code: after its "[pid] " prefix, or padded to the message with two spaces ("[27] PANIC:  could not locate ...").
# Any other "PANIC:" is the program's own (Lua's "PANIC: unprotected error in call to Lua API").
_CODE_CRASH = lazy_re(r"(?i)\b(?:(?-i:(?!PANIC:))panic(?:ked)?\b|(?-i:(?<!\] )PANIC:(?! {2})))|^fatal error\b|runtime error|"
                      r"nil pointer|SIGSEGV|segmentation (?:fault|violation)|\bSIGABRT\b|index out of range")
_SIGNATURES: list[tuple[str, re.Pattern[str]]] = [
    ("go", lazy_re(r"^\s*panic: (.+)")),
    ("go", lazy_re(r"^fatal error: (.+)")),
    ("go", lazy_re(r"\bPANIC: (.+)")),
    # (Rust >= 1.88 prints the thread id too: "thread 'main' (1) panicked at")
    ("rust", lazy_re(r"thread '[^']+'(?: \(\d+\))? panicked at (.+)")),
    ("java", lazy_re(r"Exception in thread \"[^\"]+\" ([\w.$]+(?:: .+)?)")),
    ("java", lazy_re(r"^\s*Caused by: ([\w.$]+(?:: .+)?)")),
    ("java", lazy_re(r"(Application run failed|APPLICATION FAILED TO START)")),
    ("java", lazy_re(r"(A fatal error has been detected by the Java Runtime Environment)")),
    ("dotnet", lazy_re(r"Unhandled [eE]xception\.? ([\w.]+(?:: .+)?)")),
    ("php", lazy_re(r"PHP Fatal error:\s+(?:Uncaught )?(.+)")),
    ("elixir", lazy_re(r"^\s*\*\* \((?!EXIT\))(\w[\w.]*)\) (.+)")),
    ("ruby", lazy_re(r":\d+:in [`'][^']+': (.+ \([A-Z]\w*(?:::\w+)*\))$")),
    ("python", lazy_re(r"Fatal Python error: (.+)")),
    # A Python exception printed alone: package.module.ClassName: message (Java packages start with a domain)
    ("python", lazy_re(r"^((?!(?:com|org|net|io|java|javax|jakarta|kotlin|scala|akka|reactor|software|dev|me|"
                          r"co|de|fr|nl|uk|ch|at|se|be|it|br|cn|jp)\.)(?:[a-z_][a-z0-9_]*\.)+[A-Z][A-Za-z0-9_]*: .+)$")),
    ("native", lazy_re(r"(Segmentation fault|terminate called after throwing an instance of '[^']+'|"
                          r"double free or corruption|stack smashing detected|Aborted \(core dumped\))")),
    # (after a logger's "31 Mar 15:53:53 - " prefix too: a node frame must follow, see _signature)
    ("node", lazy_re(r"^(?:[\w :.,/\[\]-]{0,40}? - )?(?:\[\w+\] )?(?:Uncaught )?((?:[A-Z]\w*)?(?:Error|Exception)"
                        r"(?: \[\w+\])?: .+)")),
    ("node", lazy_re(r"UnhandledPromiseRejection\w*: ((?:[A-Z]\w*)?(?:Error|Exception): .+)")),
    ("node", lazy_re(r"(UnhandledPromiseRejection\w*: (?!Unhandled promise rejection\.).+|\[UnhandledPromiseRejection: .+)")),
]
# A colour code whose ESC byte a log export dropped ("[1m [91mError [0m: ..."): not text the program wrote.
# A bracketed duration the program wrote ("after [30m]") closes its bracket and stays.
_SGR_REMNANT = lazy_re(r"(?<![\w\]])(?:\[(?:\d{1,3};)*\d{1,3}m(?!\]))+ ?")
_JVM_SIGNAL = lazy_re(r"#\s+(SIG[A-Z]+ \(0x[0-9a-f]+\))")
_TRACEBACK = "traceback (most recent call last)"
_PY_EXC_NAMED = lazy_re(r"\b((?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception)(?:\(.*\)|: .+))$")
# _PY_EXC_NAMED.search reads a dotted name again from each of its parts (a 16 KB "a.a.a..." line: seconds). A match's
# name is one token, a run of [\w.] ending with the class word right before "(" or ": "; it starts at the first part
# of the unbroken chain of lower-case parts before a class word read from its own start. `_py_exc_named_search` finds
# the tokens, then that start in each, in one pass.
_PY_EXC_TOKEN = lazy_re(r"(?<![\w.])[\w.]*?(?:Error|Exception)(?=\(|: )")
_PY_CLASS_WORD = lazy_re(r"[A-Z]\w*(?:Error|Exception)")
_PY_PART_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz_")


def _py_exc_named_search(text: str) -> re.Match[str] | None:
    """_PY_EXC_NAMED.search(text), in one pass over the text; the same match."""
    # What follows the name, `(?:\(.*\)|: .+)$`, without a pass to the end from each name: `$` is the end of the
    # text or a last newline; `.` no newline.
    end = len(text) - 1 if text.endswith("\n") else len(text)
    newline = text.rfind("\n", 0, end)
    for token in _PY_EXC_TOKEN.finditer(text):
        after = token.end()
        if newline >= after or not (text[end - 1 : end] == ")" and end - 1 > after if text[after] == "(" else end > after + 2):
            continue
        parts = token.group().split(".")
        if not _PY_CLASS_WORD.fullmatch(parts[-1]):
            continue
        start = after - len(parts[-1])
        for part in reversed(parts[:-1]):
            if part[:1] not in _PY_PART_FIRST:  # ("" is not: an empty part breaks the chain)
                break
            start -= len(part) + 1
        m = _PY_EXC_NAMED.match(text, start)
        if m is not None:
            return m
    return None
_PY_FRAME = lazy_re(r'File "([^"]+)", line (\d+)')
_JS_FRAME = lazy_re(r"at (?:.+ \()?((?:/|file://)[^)\s]+:\d+):\d+\)?$")
_GO_FRAME = lazy_re(r"(/[^\s]+\.go:\d+)")
_JAVA_HEAD = lazy_re(r"(?:Exception in thread \"[^\"]+\" )?((?:[a-z_]\w*\.)+[A-Z]\w*(?:Exception|Error)(?:: .{0,200})?)$")
_PY_EXC = lazy_re(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Fault)\b.*|[A-Za-z_][\w.]*: .+)$")
_NEEDLES = ("traceback (most recent", "panic:", "unhandledpromiserejection", "fatal error:", "panicked at", "exception in thread", "caused by:",
            "application run failed", "application failed to start", "unhandled exception", "php fatal", "** (",
            "segmentation fault", "fatal error has been detected", "fatal python error", "terminate called", "double free", "stack smashing", "aborted (core",
            "error:", "exception:", "unhandledpromiserejection", ":in `", ":in '", "exceptions.", "errors.",
            ERLANG_BYTES_NEEDLE)
_ERROR_WORDS = ("error", "exception", "fatal", "failed", "failure", "panic", "cannot", "can't", "unable", "abort",
                "denied", "invalid", "crash", "exit", "killed", "no such file", "not found", "missing", "refused",
                "timed out", "sigsegv", "sigabrt", "could not", "couldn't", "unrecognized", "unrecognised")
# A start-up check refusing a setting: it names the value as too low (or high) and says what it must be, with no
# error word ("vm.swappiness [60] is too high, lower it to at most [1]", "X must be at least 1024"). The program
# refused to run on it, so with a non-zero exit it is the fatal error, whatever the setting is about.
_LIMIT_REFUSED = lazy_re(r"(?i)\btoo (?:low|small|high|large|big)\b[^\n]{0,80}?\b(?:increase|raise|decrease|lower|"
                         r"reduce|set)\b[^\n]{0,40}?\b(?:to|at least|at most)\b|\bmust be (?:at least|at most|"
                         r"(?:greater|less|larger|smaller|higher|lower) than|>=?|<=?) ?[\[\d]")
# A process saying it was asked to stop: what it could not do after that (flush, close) is not why it exited.
_SHUTDOWN_NOTICE = lazy_re(r"(?i)\b(?:received|caught|got) (?:signal )?(?:SIG)?(?:TERM|INT)\b|\bshutting down\b|"
                           r"\bgraceful(?:ly)? (?:shutdown|stop|exit)|\bstopping gracefully\b")
# A shutdown notice that names the signal it was sent: the stop came from outside the process.
_SIGNAL_RECEIVED = lazy_re(r"(?i)\b(?:received|caught|got) (?:signal )?(?:SIG)?(?:TERM|INT)\b")
# A request the server handled (an access-log line, "Received request GET /health"): it was serving by then.
_SERVED = lazy_re(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*")
# Advice or a question about a server ("stop the process that's listening on port 8080", "is the server running on
# host ...?"), not a report that this one started.
_ADVICE = lazy_re(r"(?i)\b(?:identify|stop the|make sure|check (?:that|whether|if)|is the server)\b|\?")
# Error wording that says, in the same line, that the program carried on ("could not read X, using defaults").
_CARRIED_ON = lazy_re(r"(?i)\b(?:using (?:the )?defaults?|falling back|fall(?:ing)? back to|continuing (?:without|with|"
                      r"anyway)|skipping|ignoring|will retry|retrying in)\b")
# The carried-on wording that promises a retry: as the last line before a non-zero exit, the retry never came.
_RETRY = lazy_re(r"(?i)\bwill retry|\bretrying in\b")
# Not "caught signal" alone: a process that caught SIGTERM says how it was stopped, not what went wrong (a fatal
# fault signal it caught is named by "sigsegv" above or found by _FAULT_SIGNAL first).
# The keys a JSON error object names its error by (AWS's `__type`, the usual logger fields), most specific first.
_JSON_ERROR_KEYS = ("__type", "errorType", "error_type", "exception", "error", "message", "msg", "code")


def _json_error(text: str) -> str:
    """A line that is one JSON object reads as the error it names (`{"__type":"SerializationException"}` is
    `SerializationException`), not as the object's source text; any other line is kept as it is."""
    if not (text.startswith("{") and text.endswith("}")):
        return text
    try:
        obj = json.loads(text)
    except ValueError:
        return text
    if not isinstance(obj, dict):
        return text
    for key in _JSON_ERROR_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return text


# npm/yarn reporting that the script failed: the app's own error is above these lines.
_WRAPPER = lazy_re(r"\s*(?:npm (?:err!|error)|error command failed with exit code|elifecycle|yarn run v|info visit https)")
_RUNTIME_EXIT_NOTE = lazy_re(r"^\s*[\w.-]+ exited with code \d+\s*$")
# Any line that only reports the process's exit ("web exited with code 0", "Entrypoint process exit code: 0").
_EXIT_NOTE = lazy_re(r"\bexit(?:ed)?(?: with)? (?:code|status)\s*:?\s*-?\d+\W*$", re.IGNORECASE)
_NODE_FRAME = lazy_re(r"^\s*at .+[(\s](?:node:|/|file://).+:\d+")
_EXIT_MEANING = {1: "general error", 2: "misuse / Go panic", 3: "worker failed to boot (gunicorn)",
                 126: "command not executable", 127: "command not found", 134: "SIGABRT (abort)",
                 139: "SIGSEGV (segmentation fault)", 255: "exit status -1 / CLI error"}

# Exit codes whose meaning belongs to one program: given only when the container runs it.
_PROGRAM_EXITS = {3: "gunicorn"}


def _runs(ev: Evidence, container: str | None, program: str) -> bool:
    """The container runs `program`: its image, entryPoint or command, or a line of its own log, names it."""
    cdef = ev.container_definition(container)
    said = " ".join([remedy.image(ev, container) or "", *(cdef.entry_point if cdef else ()),
                     *(cdef.command if cdef else ())])
    word = re.compile(rf"(?i)\b{re.escape(program)}\b")
    # (The log's lines holding the name, from the word index: a long log's others are not read.)
    return bool(word.search(said)) or ev.logs.search(word, keep=lambda c: c in (container, None)) is not None


_NATIVE_LIB = lazy_re(r"[\w.+-]+\.(?:so(?:\.\d+)*|node|bundle|dll)\b")
_FRAME_LINE = lazy_re(r"^\s+at \S|^\s*File \"|^\s+from \S|Traceback \(most recent|goroutine \d+ \[|stack backtrace"
                         r"|\.(?:rb|py|go|rs|js|mjs|cjs|ts|java|kt|scala|cs|php|ex|exs|erl|clj|swift):(?:line )?\d+", re.IGNORECASE)


def _has_trace(ev: Evidence, anchor: int | None) -> bool:
    """A stack trace (frames with files and lines) around the error line, in the same container's log."""
    if anchor is None:
        return False
    logs = ev.logs
    near = range(max(0, anchor - 30), min(len(logs.texts), anchor + 30))
    return any(logs.containers[i] == logs.containers[anchor] and _FRAME_LINE.search(logs.texts[i]) for i in near)


# A lower-case bracketed level ("[info]", "[critical]": Envoy's, Fluent Bit's and nginx's own format).
_BRACKET_LEVEL = lazy_re(r"\[(trace|debug|info|notice|warning|warn|error|critical|fatal)\]", re.IGNORECASE)
_BRACKET_LEVELS = {"trace": "debug", "debug": "debug", "info": "info", "notice": "info", "warning": "warn",
                   "warn": "warn", "error": "error", "critical": "fatal", "fatal": "fatal"}


def _bracket_level(text: str) -> str | None:
    """The level a line without a recognised level gives in brackets near its start ("[warn]" -> "warn"), if any."""
    said = _BRACKET_LEVEL.search(text, 0, 120)
    return _BRACKET_LEVELS.get(said.group(1).lower()) if said else None
# A fatal memory-access or arithmetic fault a native process reports ("caught signal (SIGSEGV)", "Segmentation
# fault", "signal 11"): the cause of the abort (SIGABRT, exit 134) a crash handler often raises after it.
# It takes fault wording: a line that merely names a signal ("installing crash handlers for SIGSEGV, SIGBUS",
# "processed signal 4 of 10") is not one.
_FAULT_SIGNAL = lazy_re(r"\b(?:caught|received|got|fatal) signal:? \(?(?:SIG(?:SEGV|BUS|FPE|ILL)|11|7|8|4)\b"
                        r"|segmentation (?:fault|violation)|\bSIG(?:SEGV|BUS|FPE|ILL)\b ?(?:[(:]|$)",
                        re.IGNORECASE)
# The wordings that report a fault having happened, whatever else the line says.
_FAULT_HAPPENED = lazy_re(r"\b(?:caught|received|got|fatal) signal:? \(?(?:SIG(?:SEGV|BUS|FPE|ILL)|11|7|8|4)\b"
                          r"|segmentation (?:fault|violation)", re.IGNORECASE)
# A line about signal handling rather than a fault: handlers installed or registered for signals, or signals
# named in a list ("installed handlers for SIGSEGV, SIGBUS").
_SIGNAL_SETUP = lazy_re(r"\b(?:install|register|set ?up|enabl|trap|ignor|block)\w*|\bhandlers? (?:for|of|on)\b|"
                        r"\bSIG[A-Z]+\s*(?:,|/|\band\b|\bor\b)\s*(?:SIG)?[A-Z]{2,}", re.IGNORECASE)


def _fault_report(text: str) -> bool:
    """Whether the line reports a fatal fault signal (not one that sets up handlers for, or lists, signals)."""
    if not _FAULT_SIGNAL.search(text):
        return False
    return bool(_FAULT_HAPPENED.search(text)) or not _SIGNAL_SETUP.search(text)


# The exits of a process a fault signal ended: SIGABRT (134, a crash handler's abort), SIGBUS, SIGFPE, SIGSEGV.
_NATIVE_CRASH_EXITS = frozenset({134, 135, 136, 139})


def _fault_line(ev: Evidence, newest_first: list[int]) -> int | None:
    """The last line among `newest_first` reporting a fatal fault signal, if any."""
    logs = ev.logs
    for i in newest_first:
        # (The text first: a line's level reads the lines above it, and most lines report no signal.)
        if _fault_report(logs.texts[i]) and logs.level(i) not in ("info", "debug"):
            return i  # (not "INFO installing crash handlers for SIGSEGV": a setup note, not the fault)
    return None


def _own_tail(ev: Evidence, container: str | None, n: int) -> list[int]:
    """The last `n` lines of `container` (and unlabelled lines), newest first. The window is the container's
    own tail, not the last lines of the task's log: another container's stream read after it (a chatty
    app next to a sidecar that died in three lines) must not push the culprit's last words out of view."""
    logs = ev.logs
    sidecars = ev.attribution.sidecars
    if logs.only(container) and not sidecars:
        return list(range(len(logs) - 1, max(-1, len(logs) - 1 - n), -1))
    containers = logs.containers
    out: list[int] = []
    for i in range(len(logs) - 1, -1, -1):
        if containers[i] in (container, None) and not (sidecars and sidecar_line(ev, i)):
            out.append(i)
            if len(out) >= n:
                break
    return out


_ILLEGAL = lazy_re(r"invalid opcode|illegal instruction|SIGILL", re.IGNORECASE)

# A frame of a native crash handler's backtrace: Envoy/backward-cpp "#3: Envoy::Server::InstanceImpl() [0x55a44dd314c3]",
# gdb-style "#3  0x00007f3a in raise () from /lib/libc.so.6", glibc backtrace_symbols "/app/bin(main+0x1d)[0x400a3d]".
_NATIVE_FRAME = lazy_re(r"#\d+:? +\S.*\[0x[0-9a-fA-F]+\]\s*$|#\d+ +0x[0-9a-fA-F]+ in \S|"
                        r"\(\S*\+0x[0-9a-fA-F]+\)\s*\[0x[0-9a-fA-F]+\]\s*$")
_NATIVE_NEEDLES = ("0x",)
# The exits of a process that a fatal signal of its own ended (128 + the signal): the crash a backtrace is printed for.
_CRASH_SIGNALS = {132: "SIGILL", 134: "SIGABRT", 135: "SIGBUS", 136: "SIGFPE", 139: "SIGSEGV"}
# A frame of a Go goroutine trace, as the runtime prints it after an unrecovered panic or a fatal error: the
# "created by <pkg>.<func>" line, or a file line "<path>.go:<n> +0x<offset>" (the offset is the Go runtime's own).
_GO_TRACE_FRAME = lazy_re(r"^\s*created by [\w./@()*-]+\.\w|\.go:\d+ \+0x[0-9a-f]+\s*$")
# The exit status the Go runtime gives a program it ends after an unrecovered panic or a fatal error.
_GO_CRASH_EXIT = 2



def _code_location(m: Match, exc: str) -> str | None:
    """Where the crash was raised in code: the frame the parser found, or a Rust panic's location."""
    at = _RUST_AT.search(exc)
    return m.facts.get("location") or (at.group(1) if at else None)


def _dropped_usage_step(ev: Evidence, m: Match, exc: str, where: str) -> str | None:
    """A crash in code whose message says the usage was dropped and what to use instead: the call is what changes
    (or the image / library version), not the configuration."""
    hit = _USE_INSTEAD.search(exc)
    loc = _code_location(m, exc)
    if not hit or not loc or m.facts.get("language") in (None, "native"):
        return None
    alt = hit.group("alt").rstrip(".")
    name = remedy.container_name(ev, m.facts.get("container"))
    img = remedy.image(ev, name)
    if img and not remedy.own_ecr(ev, img) and ".dkr.ecr." not in img:
        return (f"The error{where} (`{exc}`) is a library refusing a usage its new version dropped, and it names the "
                f"replacement (`{alt}`): the code of `{img}` (not built in this account) calls it the old way, so no "
                "configuration change helps. Pin a release of the image from before that library upgrade "
                + ("(the tag floats to each new release) " if remedy.floating_tag(img) else "")
                + "and report the error to its maintainers; if you build this image yourself, change the call at "
                f"`{loc}` to `{alt}`.")
    pin = (f" (`{img}` is overwritten by each build: pin the previous build by its digest)"
           if img and remedy.floating_tag(img) else "")
    return (f"The error{where} (`{exc}`) is a library refusing a usage its new version dropped, and it names the "
            f"replacement (`{alt}`): a code change, not a configuration one. Change the call at `{loc}` to use "
            f"`{alt}`, then rebuild and push the image; until then, roll back to the last image built before that "
            f"library upgrade{pin}, or pin the library's previous version in the build's lock file (Cargo.lock, "
            "go.sum, package-lock.json, requirements.txt).")


def _third_party_crash_step(ev: Evidence, m: Match, exc: str, where: str) -> str | None:
    """A panic or fatal error in the code of an image this account did not build (Docker Hub, GHCR, Quay, public
    ECR): its code is not the team's to fix; the command, the environment or the release are."""
    name = remedy.container_name(ev, m.facts.get("container"))
    img = remedy.image(ev, name)
    if not img or remedy.own_ecr(ev, img) or ".dkr.ecr." in img or not remedy.is_image_ref(img):
        return None
    texts = [exc] + ([ev.logs.texts[m.anchor]] if m.anchor is not None else [])
    if not any(_CODE_CRASH.search(t) for t in texts):
        return None
    loc = _code_location(m, exc)
    floating = remedy.floating_tag(img)
    return (f"{m.facts.get('container') or 'The container'} runs `{img}`, an image from outside this account's ECR, "
            f"and it crashed in the program's own code (`{exc}`). If you did not build it, that code is not yours to "
            "change: check what the task asks of it, the `command` and arguments (or the job's) and the environment it "
            "is given, against the program's documentation or `--help` for this release, or pin another release of "
            "the image"
            + (" (this tag floats to each new release, so the program may have changed under the task)" if floating
               else "")
            + " and report the error to its maintainers; if you build it yourself, "
            + (f"the fix is in the code at `{loc}`" if loc else "the crash is in its code or the runtime it bundles")
            + ".")


class AppCrashFacts(Facts):
    """The facts of app-crash."""

    exception: str | None = Field(None, description="The exception or error type the application died on.")
    exit_code: int | None = Field(None, description="The container's exit code.")
    exit_meaning: str | None = Field(None, description="What the exit code means.")
    language: str | None = Field(None, description="The runtime that printed the error.")
    location: str | None = Field(None, description="Where in the code it was raised.")


# A frame of a development-time library in a Java trace: dev containers, Testcontainers, spring-boot-devtools.
_DEV_FRAME = lazy_re(r"^\s*at ((?:[\w$]+\.)*(?:[\w$]*Devcontainers[\w$]*|[\w$]*Testcontainers[\w$]*|"
                        r"org\.testcontainers\.[\w$.]+|org\.springframework\.boot\.devtools\.[\w$.]+))\.[\w$<>]+\(",
                        re.IGNORECASE)


# A connection refused on the container's own loopback: "connect ECONNREFUSED 127.0.0.1:8126",
# "HTTPConnectionPool(host='localhost', port=9200) ... Connection refused", "[::1]:5672".
_LOOPBACK = lazy_re(r"(?:127\.0\.0\.1|localhost|\[?::1\]?)(?::|'?,\s*port=)(\d{2,5})\b", re.IGNORECASE)


def _local_refusal(exc: object) -> str | None:
    """The port of a refused connection to the container's own loopback, from the exception text."""
    text = str(exc or "")
    if not re.search(r"refused|ECONNREFUSED", text, re.IGNORECASE):
        return None
    hit = _LOOPBACK.search(text)
    return hit.group(1) if hit else None


def _local_refusal_step(ev: Evidence, container: str | None, port: str) -> str:
    """localhost is the container itself: nothing of this task listens there unless a container of the task
    (awsvpc shares localhost) serves the port."""
    others = [c.name for c in ev.detail.containers if c.name and c.name != container]
    head = (f"The app connects to port {port} on localhost, which inside a container is the container itself, and "
            "nothing listens there")
    if not others:
        return (f"{head}: this task has no other container, so retrying cannot help. Point the app at the host "
                f"that really serves port {port} (its host/URL variable in the task definition), or "
                f"{remedy.sibling_container(ev, 'that service') or 'add that service as a container of the task'}.")
    names = ", ".join(f"`{o}`" for o in others)
    if remedy.localhost_mode(ev) == "bridge":
        return (f"{head}: in `bridge` network mode the task's other containers ({names}) do not share localhost; "
                "reach the one that serves it by name with `links`, or use the `awsvpc` network mode. Otherwise "
                f"point the app at the host that really serves port {port}.")
    return (f"{head} yet: if one of the task's other containers ({names}) serves port {port}, make the app wait "
            "for it with `dependsOn` (condition `HEALTHY`, with a health check on it); otherwise point the app at "
            f"the host that really serves port {port} (its host/URL variable in the task definition).")


def _dev_only_frame(ev: Evidence, container: str | None) -> str | None:
    """The class of the first development-time frame in the container's log, if any."""
    for c, t in zip(ev.logs.containers, ev.logs.texts, strict=False):
        if container and c not in (container, None):
            continue
        hit = _DEV_FRAME.match(t)
        if hit:
            return hit.group(1)
    return None


class AppCrash(Pattern):
    id = "app-crash"
    priority = 20
    severity = "critical"
    Facts = AppCrashFacts
    key_facts = ("exception",)
    generic = True  # the catch-all of application failures
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        logs = ev.logs
        if not logs:
            return None
        hc = "health check" in ev.stopped_reason.lower()
        for i in candidate_lines(ev, _NEEDLES):
            container = container_for_line(ev, i)
            code = exit_code(ev, container)
            if not self._exit_allows(ev, code, hc):
                continue
            found = self._signature(ev, i)
            if found is None:
                continue
            language, exception, anchor = found
            if logs.quiet(anchor) and language != "python":
                continue
            return self._build(ev, anchor, container, code, language, exception, 0.88)
        crash = self._native_backtrace(ev) or self._go_trace(ev)
        if crash is not None:
            return crash
        # Error output and a non-zero exit the app returned itself.
        primary = ev.primary
        code = exit_code(ev, primary)
        if code == 0 and not hc:
            return self._error_then_exit_zero(ev, primary)
        if code in (None, 0) or hc:
            return None
        indices = _own_tail(ev, primary, 60)
        if code in SIGNAL_EXITS:
            # Killed from outside, unless the process's own last words were an error.
            if ev.stop_code != "EssentialContainerExited":
                return None
            spoken = [i for i in indices if logs.texts[i].strip()]
            notice = next((k for k, i in enumerate(spoken[:4]) if _SHUTDOWN_NOTICE.search(logs.texts[i])
                           and not any(w in logs.texts[i].lower() for w in _ERROR_WORDS)), None)
            if notice is not None and _SIGNAL_RECEIVED.search(logs.texts[spoken[notice]]):
                return None  # it was asked to stop from outside: nothing it logged says why
            # It said it was stopping: what it could not do after that (flush, close) is not why; an error it
            # logged just before the notice is what it shut down on.
            indices = spoken[notice + 1:notice + 4] if notice is not None else spoken[:3]
        fault = _fault_line(ev, indices) if code in _NATIVE_CRASH_EXITS else None
        if fault is not None:
            # A native crash: the signal it died of says what happened; the abort frames a handler or a
            # debugger prints after it (raise, abort, the signal handler) are its consequence.
            return self._build(ev, fault, primary, code, None, logs.texts[fault].strip(), 0.6)
        wrapper = None
        failed_script: str | None = None
        hit = None
        started = False
        last = next((i for i in indices if logs.texts[i].strip()), None)
        # A script the runner reports as failed: the runner's own lines after that report (its summary, its shutdown)
        # are the same failure in its words, not the error.
        script_failed = any((ran := remedy.SCRIPT_EXIT.match(logs.texts[i])) and ran.group("code") != "0"
                            for i in indices)
        for i in indices:
            raw = logs.texts[i]  # (read once: a lazy set's column is a method call a read)
            text = raw.lower()
            if ((_started(text) or _SERVED.search(raw)) and not any(w in text for w in _ERROR_WORDS)
                    and not _ADVICE.search(text)):
                started = True  # it started after anything above: a complaint there did not stop it
                continue
            if _STACK_FRAME.search(raw):
                continue  # a frame of a trace says where, never what: the message is above the frames
            if _RUNTIME_EXIT_NOTE.search(text):
                continue  # "web exited with code 137": Docker/compose reporting the exit, not the app's words
            ran = remedy.SCRIPT_EXIT.match(logs.texts[i])
            if ran:
                # A runner reporting a script's exit: the error is in the script's output above (an exit 0 is none).
                if ran.group("code") != "0" and wrapper is None:
                    wrapper, failed_script = i, ran.group("script")
                continue
            if script_failed and wrapper is None and _INIT_RUNNER_LINE.match(raw):
                continue
            began = remedy.SCRIPT_START.match(logs.texts[i]) if failed_script else None
            if began and began.group("script") == failed_script:
                break  # above the failing script's start: what is there is not its error
            if _WRAPPER.match(text):
                wrapper = i  # npm/yarn saying the script failed: the app's own error should be above
                continue
            if KILL_REPORT.match(raw):
                return None  # killed by a signal from outside: nothing in the log says why (see unknown)
            level = logs.level(i)
            if level is None:
                bracket = _bracket_level(raw)
                if bracket in ("debug", "info"):
                    continue  # an info line ("exiting", "shutting down") reports the exit, not its cause
                if bracket in ("error", "fatal"):
                    level = bracket
            if level == "warn" and _SPRING_REFRESH_FAILED.search(raw):
                # Spring logs the failed context refresh at WARN; with the non-zero exit after it, it is the crash.
                exc = _SPRING_REFRESH_FAILED.search(raw)
                return self._build(ev, i, primary, code, "java", exc.group(1) if exc else raw.strip(), 0.6)
            if level in ("error", "fatal") or (level is None and (any(w in text for w in _ERROR_WORDS)
                                                                  or remedy.ARGS_REFUSED.search(text)
                                                                  or _LIMIT_REFUSED.search(text))):
                carried_on = _CARRIED_ON.search(text)
                if carried_on and i == last and _RETRY.search(carried_on.group(0)):
                    carried_on = None  # "..., retrying in 30s" as its last words: it exited instead of retrying
                if level is None and (started or carried_on):
                    continue  # error wording the app went on from ("..., using defaults", then it listened)
                hit = i
                break
        # A configuration parser that said where in its file it failed, with no successful start after it, is why
        # the process exited: it outranks what the log says later (a sidecar's refused connection to the server
        # that never started, a missing pid file, the parser's own closing summary).
        located = _config_error_at(ev, indices, hit)
        if located is not None:
            return self._build(ev, located, primary, code, None, logs.texts[located].strip(), 0.6)
        if hit is not None:
            if _CONFIG_SUMMARY.search(logs.texts[hit]):
                hit = _specific_before(ev, hit)
            return self._build(ev, hit, primary, code, None, logs.texts[hit].strip(), 0.6)
        if wrapper is not None and code not in SIGNAL_EXITS:
            return self._build(ev, wrapper, primary, code, None, logs.texts[wrapper].strip(), 0.5)
        return None

    def _native_backtrace(self, ev: Evidence) -> Match | None:
        """A container that died of its own fatal signal (exit 139, 134 ...) and whose log shows the frames of the
        backtrace its crash handler printed, with no error line to name (the head of the report cut off): a
        native crash of that container, anchored at the first frame shown. The exit code must be the crash's:
        a backtrace in the log of a container that exited 0, 1 or 143 is not why it stopped."""
        logs = ev.logs
        order = [*ev.failing, *(c.name for c in ev.detail.containers if c.name not in ev.failing)]
        for name in order:
            code = exit_code(ev, name)
            if code not in _CRASH_SIGNALS:
                continue
            frames = [i for i in logs.lines_with(*_NATIVE_NEEDLES)
                      if logs.containers[i] in (name, None) and _NATIVE_FRAME.search(logs.texts[i])]
            if not frames:
                continue
            first = frames[0]
            return self._build(ev, first, name, code, "native",
                               f"{_CRASH_SIGNALS[code]} (native crash backtrace)", 0.7)
        return None

    def _go_trace(self, ev: Evidence) -> Match | None:
        """A container that exited 2 (how the Go runtime ends a program after an unrecovered panic) and whose own
        log shows goroutine frames, with the panic header cut off: a Go crash of that container, anchored at the
        first frame shown. Frames in the log of a container that exited otherwise are not why it stopped, and
        frames from another container's log never name this one."""
        logs = ev.logs
        order = [*ev.failing, *(c.name for c in ev.detail.containers if c.name not in ev.failing)]
        for name in order:
            if exit_code(ev, name) != _GO_CRASH_EXIT:
                continue
            frames = [i for i in logs.lines_with("created by", "+0x")
                      if logs.containers[i] == name and _GO_TRACE_FRAME.search(logs.texts[i])]
            if not frames:
                continue
            return self._build(ev, frames[0], name, _GO_CRASH_EXIT, "go", "Go panic (goroutine trace)", 0.65)
        return None

    def _error_then_exit_zero(self, ev: Evidence, primary: str | None) -> Match | None:
        """An essential container that exited 0 on its own ("Essential container in task exited", no reason from
        ECS) whose own last words were an error-level line: an entrypoint or supervisor that reported its failure
        and still returned 0. Log failures win over a clean exit 0; the weaker reading, so only the last lines."""
        if ev.stop_code not in ("EssentialContainerExited", "") or "essential container" not in ev.stopped_reason.lower():
            return None
        if any(c.reason for c in ev.detail.containers):
            return None
        logs = ev.logs
        for i in _own_tail(ev, primary, 20):
            text = logs.texts[i]
            if not text.strip() or _EXIT_NOTE.search(text):
                continue  # a wrapper or runtime reporting the exit code is not the process's last word
            if logs.level(i) in ("error", "fatal"):
                return self._build(ev, i, primary, 0, None, text.strip(), 0.55)
            return None  # an error the process went on from (then logged more) is not why it ended
        return None

    def _exit_allows(self, ev: Evidence, code: int | None, hc: bool) -> bool:
        if code == 0:
            return False
        if code in SIGNAL_EXITS:
            return ev.stop_code == "EssentialContainerExited" and not hc
        return not (code is None and hc)

    def _signature(self, ev: Evidence, i: int) -> tuple[str, str, int] | None:
        texts = ev.logs.texts
        text = texts[i]
        if _TRACEBACK in text.lower():
            # The exception is the first non-indented line after the frames.
            end = ev.logs.block_end(i)
            for j in range(end, i, -1):
                m = _PY_EXC.match(texts[j])
                if m and not texts[j][:1].isspace():
                    return "python", m.group(1), j
            # The log ends inside the frames: a logger often named the exception just above the
            # traceback (celery "Unrecoverable error: TypeError(...)", logging.exception("...: %r")).
            for j in range(i - 1, max(-1, i - 4), -1):
                named = _py_exc_named_search(texts[j])
                if named:
                    return "python", named.group(1), j
            return "python", "Traceback (exception line not in the log)", i
        erlang = erlang_exception(text)
        if erlang is not None:  # the VM's crash term, its Elixir exception's message printed as bytes
            return "elixir", erlang, i
        for language, regex in _SIGNATURES:
            m = regex.search(text)
            if not m:
                continue
            exception = " ".join(g for g in m.groups() if g) if m.lastindex else m.group(0)
            if language == "node":
                if "UnhandledPromiseRejection" in m.group(0):
                    return "node", exception, i  # node's own wording: no stack frames follow it
                nxt = texts[i + 1] if i + 1 < len(texts) else ""
                if _NODE_FRAME.match(nxt):
                    return "node", exception, i
                if re.match(r"^\w*(?:Error|Exception): ", text) and self._py_tail(ev, i):
                    return "python", exception, i
                continue
            if language == "python" and not text.lstrip().startswith("Fatal Python") and self._jvm_trace_follows(ev, i):
                # "pkg.module.SomeException: message" is how Python prints an exception and how a JVM heads its
                # stack trace: JVM frames after it ("at pkg.Class.method(File.scala:12)") say which one it is.
                language = "java"
            if language == "rust" and exception.rstrip().endswith(":") and i + 1 < len(texts):
                # Rust >= 1.73 prints the location, then the message on the next line.
                return language, f"{texts[i + 1].strip()} (at {exception.rstrip(': ')})", i
            if language == "java" and i + 1 < len(texts) and _NODE_FRAME.match(texts[i + 1]):
                # Node libraries print "Caused by: SomeError" too (kafkajs, verror): JavaScript frames follow it,
                # where a Java trace has "at pkg.Class.method(File.java:N)" frames.
                language = "node"
            if language == "java" and text.lstrip().startswith("Caused by:"):
                head = self._java_head(ev, i)
                if head and head.split(":")[0] not in exception:
                    exception = f"{head} (caused by {exception})"
            if language == "java" and exception.startswith("A fatal error has been detected"):
                # The JVM's hs_err banner: the signal it died of is on one of the next "#" lines.
                for j in range(i + 1, min(len(texts), i + 4)):
                    sig = _JVM_SIGNAL.search(texts[j])
                    if sig:
                        return language, f"JVM fatal error: {sig.group(1)}", i
                return language, "JVM fatal error", i
            if language == "java" and exception in ("Application run failed", "APPLICATION FAILED TO START"):
                cause = self._last_caused_by(ev, i) or self._next_java_head(ev, i)
                exception = cause or exception
            return language, exception.strip(), i
        return None

    def _java_head(self, ev: Evidence, i: int) -> str | None:
        """The top exception of the stack trace whose "Caused by:" is line i."""
        for j in range(i - 1, max(-1, ev.logs.block_start(i) - 1, i - 400), -1):
            t = ev.logs.texts[j].strip()
            m = _JAVA_HEAD.match(t)
            if m:
                return m.group(1)
        return None

    def _jvm_trace_follows(self, ev: Evidence, i: int) -> bool:
        """The next lines of line i's container are JVM stack frames or a "Caused by:": it heads a JVM trace."""
        logs = ev.logs
        own = [j for j in range(i + 1, min(len(logs), i + 6)) if logs.containers[j] == logs.containers[i]
               and logs.texts[j].strip()][:2]
        return bool(own) and any(_JVM_FRAME.match(logs.texts[j]) or logs.texts[j].lstrip().startswith("Caused by: ")
                                 for j in own)

    def _py_tail(self, ev: Evidence, i: int) -> bool:
        return i > 0 and ev.logs.texts[i - 1][:1] in (" ", "\t")

    def _next_java_head(self, ev: Evidence, i: int) -> str | None:
        """The exception printed right after Spring's "Application run failed" (no "Caused by:" chain)."""
        for j in range(i + 1, min(len(ev.logs), i + 4)):
            m = _JAVA_HEAD.match(ev.logs.texts[j].strip())
            if m:
                return m.group(1)
        return None

    def _last_caused_by(self, ev: Evidence, i: int) -> str | None:
        last = None
        for j in range(i, min(len(ev.logs), i + 300)):
            t = ev.logs.texts[j].strip()
            if t.startswith("Caused by: "):
                last = t[len("Caused by: "):]
        return last

    def _build(self, ev, i, container, code, language, exception, confidence) -> Match:
        exception = erlang_exception(exception) or _json_error(_SGR_REMNANT.sub("", exception).strip())
        facts = {"exception": exception[:300], "language": language, "exit_code": code, "container": container}
        if code in _EXIT_MEANING and (code not in _PROGRAM_EXITS or _runs(ev, container, _PROGRAM_EXITS[code])):
            facts["exit_meaning"] = _EXIT_MEANING[code]
        frame = self._app_frame(ev, i)
        if frame:
            facts["location"] = frame
        start = ev.logs.block_start(i)
        proofs = (log_proof(ev, i),) if start == i else (log_proof(ev, start), log_proof(ev, i))
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=proofs, confidence=confidence,
                     stage=Stage.APP, anchor=i, container=container)

    def _app_frame(self, ev: Evidence, i: int) -> str | None:
        """The innermost frame of the application's own code (not the runtime or libraries)."""
        logs = ev.logs
        start = max(logs.block_start(i), i - 80)
        best = None
        for j in range(start, min(len(logs), i + 40)):
            t = logs.texts[j].strip()
            if t.startswith('File "'):
                m = _PY_FRAME.match(t)
                if m and "site-packages" not in m.group(1) and "/lib/python" not in m.group(1) \
                        and "<frozen" not in m.group(1):
                    best = f"{m.group(1)}:{m.group(2)}"
            elif best is None and t.startswith("at "):
                m = _JS_FRAME.match(t)
                if m and "node_modules" not in m.group(1):
                    best = m.group(1)
            elif best is None and ".go:" in t:
                m = _GO_FRAME.match(t)
                if m and "/go/pkg/mod/" not in m.group(1) and "/usr/local/go/" not in m.group(1):
                    best = m.group(1)
        return best

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        container = f.get("container") or "the container"
        exc = f.get("exception", "an error")
        cite = remedy.cite(m)
        if remedy.garbled(exc):  # a console/table paste: quote the error the app wrote, not the paste's columns
            named = remedy.named_error(ev, f.get("container"))
            exc = named[1] if named else remedy.unpaste(exc)
            if named:
                cite = remedy.because(log_proof(ev, named[0]).source, exc)
        lang = f.get("language")
        code = f.get("exit_code")
        name = remedy.container_name(ev, f.get("container"))
        steps = []
        where = f" at `{f['location']}`" if f.get("location") else ""
        root = _root_cause(ev, m.anchor)
        if root:
            # The thrown error wraps another (Node `[cause]:`, Java `Caused by:`): the innermost one is what to fix.
            text, line = root
            hint = (" The database already has what the migration creates: the migration history (its journal "
                    "table) and the schema disagree; baseline the migrations or reset that database, rather than "
                    "changing the code." if re.search(r"already exists", text, re.I) and re.search(r"migrat", exc, re.I)
                    else "")
            # The cause may itself be a well-known condition (a read-only path, a refused port): say what it asks for.
            says = None if hint else remedy.error_family(text, remedy.image(ev, name))
            steps.append(f"The error{where} wraps its root cause: `{text[:200]}`"
                         + (f", which says {says}." if says else f"; fix that.{hint}")
                         + remedy.because(f"logs[{ev.logs.containers[line] or container}]:{line + 1}", ev.logs.texts[line]))
        else:
            hint = ""
            if "index out of range" in exc and _in_main(ev, m.anchor):
                # A Go program indexing at start-up in main.main: nearly always os.Args (or a split of a setting)
                hint = (" It happened in main.main at start-up, where an index usually reads the program's "
                        "arguments (os.Args) or a split setting: check the task definition's `command` passes the "
                        "arguments the program expects (its README or --help), "
                        f"`{remedy.describe_task_definition(ev, remedy.container_query(ev, f.get('container'), '[entryPoint, command]'))}`.")
            native = _NATIVE_LIB.search(exc)
            if code == 132 or _ILLEGAL.search(exc):
                # Exit 132 / "invalid opcode": SIGILL, a native library using instructions this CPU lacks.
                lib = f" (`{native.group(0)}`)" if native else ""
                steps.append(f"Exit 132 is SIGILL, an illegal instruction: a native library{lib} was built for "
                             "another CPU (newer instruction sets such as AVX, or another architecture). Upgrade or "
                             "rebuild the gem/npm/pip package that ships it inside the image (or disable it), and "
                             "check the instance type's CPU (`ecs.cpu-architecture`)." + remedy.cite(m))
            else:
                # Promise the whole trace only when frames were found.
                cut = _trace_cut(ev, m.anchor)
                tail = remedy.logs_tail(ev, f.get("container")) if cut else None
                trace = (" The log ends inside the JVM trace, so the excerpt below shows only its first frames: read the "
                         "rest in the container's log stream"
                         + (f" (`{tail}`)" if tail else "")
                         + ", where the last `Caused by:` names the root cause."
                         if cut else
                         " The log excerpt below shows the whole trace." if f.get("location") or _has_trace(ev, m.anchor)
                         else " The log excerpt below shows the lines around it.")
                dropped = None if hint else _dropped_usage_step(ev, m, exc, where)
                fam = (remedy.family_near(ev, f.get("container"), m.anchor)
                       if not hint and not dropped and m.anchor is not None else None)
                agent_step = None if fam or hint or dropped else remedy.agent_crash_step(ev, f.get("container"), exc)
                if dropped:
                    steps.append(f"{dropped}{trace}{cite}")
                elif fam:
                    # The log names a well-known condition: say what to change, citing the line that names it.
                    line, action = fam
                    img = remedy.agent_image(ev, f.get("container"))
                    if img and remedy.floating_tag(img) and "floats" not in action and action.startswith(
                            ("the configuration file it reads", "the configuration the program reads",
                             "the configuration file was read")):
                        # A well-known agent's configuration failing under a moving tag: the image may have changed.
                        action += (f"; `{img}` floats to each new release, so pin a version tag known to work with "
                                   "this configuration")
                    own = remedy.image(ev, name)
                    if action.startswith("the configuration file it reads") and remedy.own_ecr(ev, own):
                        # An image this account builds (FROM a published one) with its own configuration: the build
                        # must copy the file and every file it includes to the paths the configuration names.
                        action += (f"; `{own}` is built in this account, so check its Dockerfile COPYs the "
                                   "configuration file and every file it includes (parsers, included .conf files) to "
                                   "exactly those paths")
                    # When a neighbouring line names the condition, quote that line: the headline may be a notice.
                    # (Its own backticks, a command it names, would close the code span early: quote them plainly.)
                    near = ev.logs.texts[line].strip()[:200].replace("`", "'")
                    said = (f"The error{where} (`{exc}`) says" if line == m.anchor else
                            f"The error{where} (`{exc}`) comes with `{near}`, which says")
                    steps.append(f"{said} {action}.{trace}"
                                 + (cite if line == m.anchor else remedy.because(
                                     f"logs[{ev.logs.containers[line] or container}]:{line + 1}", ev.logs.texts[line])))
                elif agent_step:
                    steps.append(f"{agent_step}.{trace}{cite}")
                elif _CONN_LOST.search(exc) and (remedy.ran_for(ev) or 0) > _CRASH_LOOP_SECONDS:
                    # An established connection dropped after a long healthy run: the code did not change, the
                    # server or the path to it did, and the client gave up instead of reconnecting.
                    mins = int((remedy.ran_for(ev) or 0) // 60)
                    steps.append(f"`{exc}`: the app ran {mins} minutes, then lost its connection to the server it "
                                 "talks to (the broker, database or API the trace names) and exited instead of "
                                 "reconnecting. Check that server's side at the time of the stop (a restart, "
                                 "failover or maintenance, an idle-connection timeout on the way), and let the "
                                 "client retry and reconnect (its retry/reconnect options, or catch the error and "
                                 f"rebuild the client) so one dropped connection does not end the task.{trace}{cite}")
                else:
                    # No family names the condition: the error's class and its trace still say what kind of change
                    # it asks for and where (shared.crash_steps); a plain bug in the app's own code keeps this step.
                    kind = (None if hint or m.anchor is None else
                            crash_steps.first_step(ev, f.get("container"), exc, m.anchor, where))
                    foreign = None if kind or hint else _third_party_crash_step(ev, m, exc, where)
                    steps.append(f"{kind}.{trace}{cite}" if kind else f"{foreign}{trace}{cite}" if foreign else
                                 f"Fix the error{where}: `{exc}`.{hint}{trace}{cite}")
        dev = _dev_only_frame(ev, f.get("container")) if lang == "java" else None
        if dev:
            steps[0] = (f"The trace runs through `{dev}`, a development-time component (dev containers, "
                        "Testcontainers, spring-boot-devtools) that was packaged into the production image and fails "
                        f"without its development setup (`{exc}`). Keep it out of the production build: Gradle "
                        "`developmentOnly`/`testImplementation`, Maven `optional` dependency or `test` scope, "
                        f"or switch it off outside the dev profile.{remedy.cite(m)}")
        # Only a crash in the agent's code (a panic, a nil dereference, a fatal signal), not a configuration error.
        agent = (remedy.agent_image(ev, f.get("container"))
                 if not root and not dev and _AGENT_BUG.search(exc) and not _CONFIG_WORDS.search(exc) else None)
        if agent:
            # A third-party agent crashed in its own code: its version, its configuration or its place in the task
            # are what the team controls, not the code that threw.
            sidecar = remedy.may_be_non_essential(ev, name)
            steps[0] = (f"{container} runs `{agent}`, a third-party agent, and crashed in its own code (`{exc}`): "
                        "pin another release of it (its changelog or issue tracker usually has this error), or "
                        "disable the plugin or component the error names in its configuration"
                        + (f"; as a sidecar, `\"essential\": false` on {container} keeps its crash from stopping the "
                           "task meanwhile" if sidecar else "") + f".{cite}")
        local = _local_refusal(exc) or (_local_refusal(root[0]) if root else None)
        if local and not dev:
            steps[0] = _local_refusal_step(ev, f.get("container"), local) + remedy.cite(m)
        if remedy.family_revision(ev) and name and not remedy.local_repro_blocked(
                ev, f.get('container'), error=" ".join([exc, root[0] if root else ""]), before=m.anchor):
            query = f"taskDefinition.containerDefinitions[?name=='{name}'].environment[].[name,value]"
            export = f"{remedy.describe_task_definition(ev, query)} --output text | tr '\\t' '=' > task.env"
            run = remedy.docker_run(ev, f.get('container'), args=remedy.RUN_COMMAND).replace(
                "docker run --rm", "docker run --rm --env-file task.env", 1)
            steps.append("Reproduce with the task's image, command and environment"
                         f"{remedy.gpu_host(ev, f.get('container'))}, in bash (secrets are not "
                         f"exported; add them to task.env by hand): ```\n{remedy.read_command(ev, f.get('container'))}\n{export}\n"
                         f"{run}\n```")
        reported = _EXIT_REPORT.search(exc)
        bare_signal = (not root and not dev and not agent and reported is not None and code in _CRASH_SIGNALS
                       and int(reported.group(1)) == code and code != 132)
        if bare_signal and isinstance(code, int):
            # The line is only a runner (a supervisor, `dotnet watch`, a shell script) reporting its child's exit:
            # the signal behind the code is what there is to act on.
            steps[0] = _signal_step(ev, f.get("container"), code, exc) + cite
        if code == 139 and not bare_signal:
            steps.append(_segfault_step(ev, f.get("container"), m.anchor))
        if code == 134 and _fault_report(exc):
            steps.append("Exit 134 is the abort (SIGABRT) its crash handler raised after that fault: the fault "
                         "signal is the cause, not an assertion.")
        elif code == 134:
            steps.append("Exit 134 is an abort (SIGABRT): an assertion, an uncaught C++ exception, or the runtime "
                         "giving up.")
        svc = remedy.service(ev)
        ran = remedy.ran_for(ev)
        # The circuit breaker stops a deployment whose new tasks fail soon after they start; a task that ran for
        # longer than _CRASH_LOOP_SECONDS had reached steady state, so its crash is no bad revision to roll back.
        if svc and (ran is None or ran <= _CRASH_LOOP_SECONDS):
            steps.append("While the service crash-loops, enable the deployment circuit breaker with rollback so a "
                         "bad revision is rolled back instead of restarting forever: "
                         f"`aws ecs update-service --cluster {remedy.q(remedy.cluster(ev))} --service {remedy.q(svc)} "
                         "--deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}'`.")
        return Explanation(
            title=f"{container} crashed: {exc[:120]}",
            summary=(f"{container} exited{f' with code {code}' if code is not None else ''} after "
                     + (f"an unhandled {lang} error" if lang else "logging an error")
                     + f": {exc[:200]}."),
            remediation=steps,
        )


# A JVM trace whose log ends after this few frames was cut (a log export's row limit, a paste): a JVM's runs longer
# (the thread's run and main frames alone are more).
_CUT_FRAMES = 2
# A JVM stack frame: "at pkg.Class.method(File.java:12)", a "(Native Method)" or "(Unknown Source)" one.
_JAVA_FRAME = lazy_re(r"^\s*at [\w$.<>]+\((?:[\w$]+\.(?:java|kt|scala|groovy|clj):\d+|Native Method|Unknown Source)\)")
# Any JVM frame, with or without its line number (Scala's "at app.Main.main(Main.scala)" has none).
_JVM_FRAME = lazy_re(r"^\s*at [\w$.<>/]+\((?:[\w$]+\.(?:java|kt|scala|groovy|clj)(?::\d+)?|Native Method|Unknown Source)\)")
# A Java exception that wraps another in its message: its trace goes on to a "Caused by:" for the wrapped one.
# The outermost frame of a thread: a main method (Java, Kotlin's MainKt.main, Scala's Main$.main) or Thread.run.
_ENTRY_FRAME = lazy_re(r"^\s*at (?:[\w$.]+/)?[\w$.]*(?:\.main|\bThread\.run)\(")
_NESTED = lazy_re(r"nested exception is|; cause: ", re.IGNORECASE)


def _trace_cut(ev: Evidence, anchor: int | None) -> bool:
    """The container's log ends on a stack frame of the error at `anchor` after too few frames, or before the
    "Caused by:" its message announces: the rest of the trace is not in the evidence."""
    if anchor is None:
        return False
    logs = ev.logs
    own = [i for i in range(anchor, min(len(logs.texts), anchor + 80))
           if logs.containers[i] == logs.containers[anchor] and logs.texts[i].strip()]
    if len(own) != len([i for i in range(anchor, len(logs.texts)) if logs.containers[i] == logs.containers[anchor]
                        and logs.texts[i].strip()]):
        return False  # the log goes on well past the error
    if not own or not _FRAME_LINE.search(logs.texts[own[-1]]):
        return False
    frames = [i for i in own if _FRAME_LINE.search(logs.texts[i])]
    if not all(_JAVA_FRAME.search(logs.texts[i]) for i in frames):
        return False  # a Go, Node or Rust trace may end after a frame or two (a panic in main.main)
    causes = [i for i in own if _CAUSE.match(logs.texts[i])]
    nested = any(_NESTED.search(logs.texts[i]) for i in own)
    # A trace whose last frame is where its thread began (a main method, Thread.run) is whole, however short.
    entry = bool(_ENTRY_FRAME.search(logs.texts[frames[-1]])) if frames else False
    return (len(frames) <= _CUT_FRAMES and not entry) or (nested and not causes)


_CAUSE = lazy_re(r"^\s*(?:\[cause\]:|Caused by:)\s*(?P<text>\S.*)$")
_PY_DIRECT_CAUSE = lazy_re(r"^\s*The above exception was the direct cause of the following exception:\s*$")
_PY_ERROR_LINE = lazy_re(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Warning|Exit|Interrupt|Failure)\b(?::\s*\S.*)?$")


# A line that only reports a child process's exit code: "watch : Exited with error code 139", "app exited with code
# 134", "child process exited with status 139" (a runner's words, not the crash's).
_EXIT_REPORT = lazy_re(r"(?i)^[\w .:/\[\]-]{0,60}?\b(?:exited|terminated|failed|finished|stopped|died)(?: with)?"
                       r"(?: an?)?(?: error| exit)? (?:code|status)\b[ :=]*(\d{1,3})\W*$")


# One frame of a native backtrace, its function and where: gdb/Fluent Bit "#0  0x55d3 in  flb_task_retry_create() at
# src/flb_task.c:122", backward-cpp "#3: Envoy::Server::InstanceImpl::run() [0x55a4]", glibc backtrace_symbols
# "/usr/bin/app(main+0x1d)[0x400a3d]".
_FRAME_PARTS = lazy_re(r"#\d+:? +(?:0x[0-9a-fA-F]+ +in +)?(?P<fn>[^\s(\[]+)\s*\([^)]*\)(?:\s+at\s+(?P<at>\S+))?"
                       r"(?:\s+from\s+(?P<lib>\S+))?|^\s*(?P<mod>/\S+?)\((?P<sym>[^)+\s]*)\+0x")
# The C library, the dynamic loader and the thread start-up every backtrace passes through: no program's own code.
# With glibc's debug info gdb names a libc frame by its glibc source file instead of "from libc.so.6": under
# sysdeps/ or a glibc-<version>/ tree, or relative (./, ../) in one of glibc's own source directories
# (./malloc/malloc.c, ../sysdeps/x86_64/multiarch/strlen-avx2.S, ./string/..., ./stdlib/..., ./libio/...).
_SYSTEM_FRAME = lazy_re(r"^(?:\?+|start_thread|clone3?|__clone\w*|raise|abort|__libc_\w+|_start|__GI_\w+|"
                        r"pthread_\w+|__pthread_\w+|_dl_\w+|gsignal|__restore_rt|killpg?|__sigaction)$|"
                        r"(?:^|/)(?:lib(?:c|pthread|dl|m|rt|gcc_s|stdc\+\+)[.-][^/]*|ld-[^/]*|sysv/linux/\S*|"
                        r"nptl/\S*)$|(?:^|/)(?:sysdeps|glibc-[\w.+~-]*)/|"
                        r"^(?:\.\.?/)+(?:malloc|string|stdlib|stdio-common|libio|wcsmbs|iconv|locale|csu|dlfcn|elf|"
                        r"posix|signal|setjmp|resolv|inet|nss|misc|debug|assert|ctype|time|io|socket|dirent)/")
# A shared object the program loads: a library or extension (*.so, *.so.1), a Node native addon (*.node, dlopen()ed
# the same way: node-gyp's build/Release/*.node).
_SHARED_LIB = lazy_re(r"\.so(?:\.\d+)*$|\.node$")
# s6-overlay's own lines (not a script's output): v2's bracketed stages ("[cont-finish.d] executing container finish
# scripts...", "[s6-finish] sending all processes the TERM signal."), v3's programs reporting with a level
# ("cont-init: warning: some scripts exited nonzero", "s6-rc: warning: unable to start service legacy-cont-init:
# command exited 1", "/run/s6/basedir/scripts/rc.init: fatal: stopping the container.").
_INIT_RUNNER_LINE = lazy_re(r"^\s*(?:\[(?:cont-init\.d|cont-finish\.d|fix-attrs\.d|services\.d|s6-init|s6-finish)\]\s|"
                            r"(?:cont-init|cont-finish|s6-rc|s6-linux-init[\w-]*|s6-svscan|s6-overlay[\w-]*|"
                            r"(?:/[\w.-]+)*/rc\.init): (?:info|warning|fatal|error): )")
# A crash this long after the start is surely no binary the CPU or the C library cannot run (those die as they start).
_RAN_BEFORE_FAULT = 10


def _own_crash_frame(ev: Evidence, container: str | None, anchor: int | None) -> str | None:
    """The first frame of the backtrace after the crash line at `anchor` (the container's own lines) that is the
    program's own code: a named function, not the C library's, the loader's or thread start-up, nor a shared library
    it loads (an extension, a native module). None when no such frame is shown."""
    if anchor is None:
        return None
    logs = ev.logs
    for i in range(anchor, min(len(logs), anchor + 40)):
        if logs.containers[i] not in (container, None):
            continue
        text = logs.texts[i]
        fm = _FRAME_PARTS.search(text) if "0x" in text else None
        if fm is None:
            continue
        fn, at = fm.group("fn") or fm.group("sym") or "", fm.group("at") or ""
        lib = fm.group("lib") or fm.group("mod") or ""
        if not fn or _SYSTEM_FRAME.search(fn) or (at and _SYSTEM_FRAME.search(at.rsplit(":", 1)[0])):
            continue
        if lib and (_SYSTEM_FRAME.search(lib) or _SHARED_LIB.search(lib)):
            return None  # the fault is in a library it loads: the libc/extension reading below holds
        return f"{fn}(){f' at {at}' if at else ''}"
    return None


def _segfault_step(ev: Evidence, container: str | None, anchor: int | None) -> str:
    """What exit 139 says, from the evidence: a backtrace through the program's own functions is a bug in that
    release (after it had run a while, surely no binary this CPU or C library cannot run); without such a frame, a
    native library that cannot run here (another architecture or libc) or an extension's bug."""
    frame = _own_crash_frame(ev, container, anchor)
    if frame is None:
        return ("Exit 139 is a segmentation fault: a native library crashed (architecture mismatch, a library built "
                "for another libc, or a bug in an extension).")
    name = container or "the container"
    ran = remedy.ran_for(ev)
    why = (f"after the task had run {int(ran)} s, so the binary did run on this CPU and C library (an architecture or "
           "libc mismatch fails as it starts)" if ran is not None and ran >= _RAN_BEFORE_FAULT else
           "not in the C library or a library it loads")
    image = remedy.image(ev, container)
    pin = f" (`{image}`)" if image else ""
    return (f"Exit 139 is a segmentation fault in {name}'s own code: its backtrace's innermost frame in its own code "
            f"is `{frame}`, {why}. It is a bug in that release{pin}: search the project's issue tracker for that "
            "function, move to a release that fixes it and pin that release's tag or digest (a floating tag brings "
            "the bug back), report the backtrace upstream if no release fixes it, and meanwhile turn off or "
            "reconfigure the component the frames name (an output, a plugin, a feature).")


def _signal_step(ev: Evidence, container: str | None, code: int, exc: str) -> str:
    """Step 1 when the log only reports the exit code of a process that a fatal signal of its own ended."""
    if code == 139:
        return (f"`{exc}` only reports that the process died of a segmentation fault (139 = 128 + SIGSEGV 11): "
                "native code crashed, not the app's managed code. In a container that is most often a native library "
                "or a helper process it starts: a headless browser (Chromium for PDF or screenshot libraries, "
                "Puppeteer, Playwright), an image or PDF library, or a driver built for another libc or CPU "
                "architecture. Install the OS packages the library lists as its dependencies in the Dockerfile "
                "(for Chromium: libnss3, libatk-bridge2.0-0, libgbm1, libgtk-3-0, libasound2 and fonts), use the "
                "library build for the image's libc (glibc, or musl on Alpine) and architecture, and give a browser "
                "room: start it with `--disable-dev-shm-usage` (Fargate has no /dev/shm setting; on EC2 "
                "`linuxParameters.sharedMemorySize`) and give the task more memory. Run the image locally with the "
                "task's command to see the native error it prints before it dies.")
    name = _CRASH_SIGNALS[code]
    what = {134: "an abort: an assertion, an uncaught C++ exception, or the runtime giving up",
            135: "a bus error: memory-mapped file access past its end (a truncated file, or a full /dev/shm)",
            136: "an arithmetic fault in native code (an integer division by zero)"}[code]
    return (f"`{exc}` only reports the exit code: {code} = 128 + {name}, {what}. Native code crashed, not the "
            "app's managed code: run the image locally with the task's command to see the native error it prints "
            "before it dies, and check the native libraries it loads (the OS packages they need, their build for "
            "the image's libc and architecture).")


# A frame of a stack trace (JavaScript/TypeScript, Java, Deno, Python): where the error passed, not what it was.
_STACK_FRAME = lazy_re(r"^\s*at \S.*(?:\.\w+:\d+(?::\d+)?\)?|\((?:Native Method|Unknown Source)\))\s*$|"
                       r"^\s*File \"[^\"]+\", line \d+")
# Spring cancelling its context refresh on an exception (logged at WARN, before "Application run failed" if at all).
_SPRING_REFRESH_FAILED = lazy_re(r"Exception encountered during context initialization - cancelling refresh attempt: "
                                 r"([\w.$]+(?:: .+)?)$")
# A line saying the server went on to start (after which a configuration complaint above was not fatal): Puma's and
# Kestrel's "Listening on", gunicorn's "Listening at: http://", uvicorn's/hypercorn's "running on", Flask's
# " * Running on http://", "Server started on port". Uvicorn's "Started server process" is not one: the app's own
# start-up (its lifespan) runs after it and can still fail.
_STARTED = lazy_re(r"(?i)\blistening on\b|\blistening at:? (?:https?://|unix:)|\b(?:uvicorn|hypercorn) running on\b|"
                   r"^\s*\* running on https?://|"
                   r"\bready (?:to accept|for connections)\b|\bstartup complete|"
                   r"\bstarted \w+(?: \w+)? in \d|\bserver (?:is )?(?:running|ready|started)\b")
# A server stopping or closing its listener ("Stopped listening on", "Closing server listening on", "no longer
# listening on"): the wording of a stop, not of a start.
_LISTENER_CLOSED = lazy_re(r"(?i)\b(?:stop(?:ped|ping|s)?|clos(?:e|ed|es|ing)|no longer|shut(?:ting)? down)\b[^\n]{0,40}?"
                           r"\blistening\b")


def _started(text: str) -> bool:
    """Whether `text` says the server started (see _STARTED), not that it stopped listening."""
    return bool(_STARTED.search(text)) and not _LISTENER_CLOSED.search(text)


# A parser's closing summary that only points back at the errors it listed above it.
_CONFIG_SUMMARY = lazy_re(r"(?i)\berrors?(?:\(s\))? (?:were )?found in (?:the )?config|\bconfig(?:uration)?(?: file)? "
                          r"(?:contains|has) (?:\d+ )?errors?\b|\bconfig(?:uration)?(?: file)?(?: \S+)? test failed\b")


def _config_error_at(ev: Evidence, newest_first: list[int], upto: int | None) -> int | None:
    """The earliest line of `newest_first` (a container's own tail) at or before line `upto` (the newest error line,
    if any) where a configuration parser says where in its file it failed, with no successful start after it."""
    logs = ev.logs
    found = None
    if not newest_first:
        return None
    # The lines that may say it started or name a file (the word index; the others need no regex of their own).
    lo, hi = min(newest_first), max(newest_first) + 1
    may = {*logs.may_match(_STARTED, lo, hi, few=0), *logs.may_match(crash_steps.CONFIG_AT, lo, hi, few=0)}
    for i in newest_first:
        if i not in may:
            continue
        text = logs.texts[i]
        if _started(text):
            break  # the server started after anything above: that complaint did not stop it
        if upto is not None and i > upto:
            continue
        if not crash_steps.CONFIG_AT.search(text) or _STACK_FRAME.search(text):
            continue  # (the text first: a line's level reads the lines above it, most lines name no file)
        level = logs.level(i)
        if level is None:
            level = _bracket_level(text)  # nginx's "[warn] ... in default.conf:3" is a warning, not the crash
        if level in ("debug", "info", "warn"):
            continue
        found = i
    return found


def _specific_before(ev: Evidence, summary: int) -> int:
    """The first of the error lines just above a parser's closing summary at `summary` (the errors it points back
    to), or the summary itself when none is above it."""
    logs = ev.logs
    best = summary
    for j in range(summary - 1, max(-1, summary - 30), -1):
        if logs.containers[j] != logs.containers[summary]:
            continue
        text = logs.texts[j]
        if not text.strip() or logs.level(j) in ("debug", "info"):
            break
        if _CONFIG_SUMMARY.search(text):
            continue
        low = text.lower()
        if logs.level(j) in ("error", "fatal") or any(w in low for w in _ERROR_WORDS):
            best = j
            continue
        break
    return best


def _in_main(ev: Evidence, anchor: int | None) -> bool:
    """The Go panic at `anchor` was raised in main.main (the first frames of its trace)."""
    if anchor is None:
        return False
    return any(ev.logs.texts[i].strip().startswith("main.main(") for i in range(anchor + 1, min(len(ev.logs.texts), anchor + 8)))


def _root_cause(ev: Evidence, anchor: int | None) -> tuple[str, int] | None:
    """The innermost cause of the error at `anchor` (the last `[cause]:` / `Caused by:` of its trace) and its line."""
    if anchor is None:
        return None
    found = None
    texts = ev.logs.texts
    end = min(len(texts), anchor + 60)
    for i in range(anchor + 1, end):
        c = _CAUSE.match(texts[i])
        if c:
            found = (c.group("text").strip().rstrip("{").strip(), i)
    if found:
        return found
    # Python prints a chain cause first: its traceback and error, then "The above exception was the direct cause of
    # the following exception:" and the traceback of the error that wraps it. The error above that line is the cause;
    # when its own traceback is preceded by another such line, the chain goes on upward to the deepest error, the root.
    top = anchor
    while True:
        cause = _direct_cause_above(texts, top)
        if cause is None:
            return found
        found = cause
        start = _traceback_start(texts, cause[1])
        if start is None:
            return found
        top = start


def _direct_cause_above(texts: Sequence[str], top: int) -> tuple[str, int] | None:
    """The error line right above a "direct cause" separator just above line `top` (a traceback's first line)."""
    for i in range(top, max(-1, top - 6), -1):
        if _PY_DIRECT_CAUSE.match(texts[i]):
            j = i - 1
            while j >= 0 and not texts[j].strip():
                j -= 1
            if j >= 0 and _PY_ERROR_LINE.match(texts[j]):
                return texts[j].strip(), j
            return None
    return None


def _traceback_start(texts: Sequence[str], error: int) -> int | None:
    """The "Traceback (most recent call last):" line that opens the traceback ending in the error at `error`."""
    for i in range(error - 1, max(-1, error - 200), -1):
        line = texts[i]
        if line.strip().startswith("Traceback (most recent call last)"):
            return i
        if not line.strip() or _PY_DIRECT_CAUSE.match(line):
            return None
    return None


PATTERN = AppCrash()
