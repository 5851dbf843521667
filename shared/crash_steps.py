"""Step 1 of an app crash whose error names no well-known family (shared.remediation.error_family): what KIND of
change the error implies and WHERE, read from general signals of the error and its trace, so that the step is more
than "fix the error".

Each rule is general (an error class shared by many programs, the shape of a trace) and returns None when it does
not apply; app_crash falls back to "fix the error at <frame>" for a plain bug in the app's own code.

- a value that does not parse (ParseIntError, NumberFormatException, ValueError: invalid literal, JSONDecodeError,
  an integer conversion of nil): at start-up it comes from the task's environment, secrets or a configuration
  file; after a long run, from the data the app was processing;
- a value of the data the code has no case for (scala.MatchError, "No enum constant", "is not a valid <Enum>") and
  a broker record that does not deserialize (partition and offset named): the data, not a deployment, changed;
- a module name that is a path (`No module named '/a/b/C'`): a setting holds a Parameter Store name, not its value;
- database migration histories that disagree with the migrations in the image (two heads, an unknown revision,
  an inconsistent history);
- a dependency-injection registration (NestJS, .NET) the error names;
- a runtime permission flag the error names (Deno's `--allow-*`);
- a configuration file the program rejects at a line it names (`file:line: ...`, "Parse error on line N"): that
  line where the file comes from, or (an unrecognized option) the release of the image;
- a Java exception naming the one it wraps ("nested exception is ...") with no "Caused by:" in the log: the rest of
  the log stream, and what the wrapped error (ExceptionInInitializerError: a static initializer) means;
- a Python SyntaxError in the app's own file: the code and the image's interpreter version disagree;
- the innermost frame of the trace in a library (node_modules, site-packages, /go/pkg/mod, gems, vendor): the call
  into it from the app's code, or the library's version;
- the innermost frame of the app in the code that reads its settings (config/settings/setting/env files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.scan import lazy_re

# -- values that do not parse ---------------------------------------------------------------------------------
_PARSE = lazy_re(r"\bParse(?:Int|Float|Bool)Error\b|\bNumberFormatException\b|invalid literal for (?:int|float)\(\)|"
                 r"could not convert string to (?:float|int)|\bstrconv\.Parse\w+: parsing|\bstrconv\.Atoi: parsing|"
                 r"\bJSONDecodeError\b|\bJsonParseException\b|\bJsonSyntaxException\b|Unexpected token .{1,20} in JSON|"
                 r"is not valid JSON|\binvalid (?:digit|float literal|integer)\b|"
                 r"\b(?:binary_to_integer|String\.to_integer|Integer\.parseInt|parseInt)\((?:nil|null|None)\)")
# The value converted was absent (nil/None/null), not malformed: a variable that is not set.
_PARSE_ABSENT = lazy_re(r"\((?:nil|null|None)\)|NoneType|not 'NoneType'|: null\b|For input string: \"null\"")
_PARSE_EMPTY = lazy_re(r"with base \d+: ''|For input string: \"\"|kind: Empty\b|Expecting value: line 1 column 1 \(char 0\)|"
                       r"Unexpected end of JSON input")
_JSON = lazy_re(r"(?i)json")
_CONFIG_FILE = lazy_re(r"(?i)(?:^|[/\\])(?:config|configs|configuration|settings?|env|environment|conf)(?:[/\\]|[._]\w+$|$)|"
                       r"(?:^|[/\\_.-])(?:config|configure|settings?|env)\.\w+$")
# A file whose name says it holds or reads the settings (settings.py, config.ts, app_config.go, env.js,
# configuration.rb, config.prod.js), or one in a settings package (Go's modules/setting/): not any file under
# config/, where frameworks also keep initializers and request handlers (config/passport.js).
_SETTINGS_FILE = lazy_re(r"(?i)(?:^|[/\\_.-])(?:config|configuration|settings?|env|environment|conf)(?:\.[\w-]+)?\.\w+$|"
                         r"[/\\](?:settings?|configuration)[/\\][^/\\]+$")
_CONFIG_PROVIDER = lazy_re(r"(?i)\bconfig(?:uration)? (?:provider|reader|loader)\b|runtime\.exs|releases\.exs")

# -- data the code has no case for ---------------------------------------------------------------------------
_NO_CASE = lazy_re(r"\bMatchError: (?P<v1>[^\s(]{1,80}) \(of class|\bNo enum constant (?P<v2>[\w.$]{1,160})|"
                   r"ValueError: '(?P<v3>[^']{1,80})' is not a valid (?P<enum>\w+)|unknown variant `(?P<v4>[^`]{1,80})`")
_POISON = lazy_re(r"Error deserializing (?:key/value|key|value)[^\n]{0,40}? for partition (?P<tp>\S+)-(?P<p>\d+) "
                  r"at offset (?P<off>\d+)")
_GROUP = lazy_re(r"\bgroupId=(?P<g>[\w.-]+)")
_BROKER = lazy_re(r"(?:group coordinator |Connection to node -?\d+ \()(?P<h>[a-zA-Z][\w.-]+?)(?:/[\d.]+)?:(?P<port>\d{2,5})\b")

_JVM_FRAME = lazy_re(r"^\s*at (?P<cls>[\w.$]+)\.[\w$<>]+\((?P<file>[\w$]+\.(?:java|scala|kt|groovy|clj):\d+)\)", re.M)
_JVM_LIBRARY = lazy_re(r"(?:java|javax|jdk|sun|scala|kotlin|clojure|groovy|akka|cats|zio|reactor|io\.netty|"
                       r"org\.(?:springframework|apache|hibernate|jboss|eclipse|glassfish)|com\.(?:fasterxml|google|zaxxer)|"
                       r"io\.(?:confluent|micronaut|quarkus|vertx))\.")

# -- a module name that is a path -----------------------------------------------------------------------------
_MODULE_PATH = lazy_re(r"No module named '(?P<path>/[^'\s]+/[^'\s]+)'")

# A path in a container's file system (a usual WORKDIR or system root, or a Python file), not a Parameter Store name.
_FILE_PATH = lazy_re(r"^/(?:app|apps|usr|srv|opt|home|code|src|var|workspace|workspaces|project|root|tmp|etc|lib|"
                     r"mnt|data|www|build|site-packages)(?:/|$)|\.py$|/(?:site|dist)-packages/")
# The directory a module path is relative to: the usual WORKDIRs.
_WORKDIR = lazy_re(r"^/(?:usr/src/app|usr/src|opt/app|app|apps|code|src|srv|workspace|project|home/\w+/app|home/\w+)/")

# -- migration histories -------------------------------------------------------------------------------------
_MULTIPLE_HEADS = lazy_re(r"(?i)Multiple head revisions are present")
_UNKNOWN_REVISION = lazy_re(r"(?i)Can't locate revision identified by '(?P<rev>[\w-]+)'")
_INCONSISTENT_HISTORY = lazy_re(r"InconsistentMigrationHistory: Migration (?P<a>[\w.]+) is applied before its "
                                r"dependency (?P<b>[\w.]+)")

# -- dependency injection ------------------------------------------------------------------------------------
# Prisma Migrate: P3009 (a failed migration recorded in _prisma_migrations blocks every later one) and P3018 (a
# migration failed to apply just now); the log names the migration ("The `X` migration started at ... failed",
# "Migration name: X").
_PRISMA_FAILED = lazy_re(r"\bP3009\b|\bP3018\b|migrate found failed migrations|A migration failed to apply")
_PRISMA_NAME = lazy_re(r"The `?(?P<n1>[\w-]+)`? migration started at|Migration name: `?(?P<n2>[\w-]+)")
# A closing summary of failures of single items, which the lines before it (or listed under it) name one by one.
ITEMS_SUMMARY = lazy_re(r"(?i)\bfailed to (?:load|start|initiali[sz]e|compile|register) (?:all|some|one or more) "
                        r"(?:of (?:the )?)?(?P<item>\w+)|\b\d+ errors? (?:occurred|were found)\b|"
                        r"\bone or more (?:\w+ ){1,3}(?:failed|could not be\b|did not)")
# A model server (Triton, TorchServe, TensorFlow Serving, ...) and its model repository.
_MODEL_SERVER = lazy_re(r"(?i)tritonserver|\btriton\b|torchserve|tensorflow[/_-]serving|\btfserving\b|\bmodels?\b")
_NEST_DI = lazy_re(r"Nest can't resolve dependencies of the (?P<svc>\w+) \([^)]*\)\. Please make sure that the argument "
                   r"(?P<arg>[\w$]+) at index \[\d+\] is available in the (?P<mod>\w+) context")
_DOTNET_DI = lazy_re(r"Unable to resolve service for type '(?P<type>[\w.`<>\[\], ]+)' while attempting to activate "
                     r"'(?P<target>[\w.`<>\[\], ]+)'")
_SCOPED_FROM_ROOT = lazy_re(r"Cannot resolve scoped service '(?P<type>[\w.`<>\[\], ]+)' from root provider")

# -- a runtime permission flag -------------------------------------------------------------------------------
# Deno 1.x "Requires net access to "x", run again with the --allow-net flag"; before 1.0 "network access to "x", ...";
# access to a kind of resource as a whole names no target ("Requires env access, run again with ..."). Deno 2 names the
# same error NotCapable ("NotCapable: Requires net access to "x", run again with the --allow-net flag").
_DENO_FLAG = lazy_re(r"(?:PermissionDenied|NotCapable): (?:Requires )?(?P<what>\w+) access(?: to (?P<target>\"[^\"]+\"|[^,\s]+))?, "
                     r"run again with the (?P<flag>--allow-[a-z-]+) flag")

# -- a configuration file the program rejects at a line ----------------------------------------------------------
# "/etc/app/app.conf:31:1: msg", "parsing [/etc/haproxy/haproxy.cfg:8] : msg", "Caddyfile:5: msg", "Parse error on line
# 17: msg": a parser saying where in its file it failed (source files, main.go:12, are code, not configuration).
# The file's name starts the line or follows a separator (app_crash reads it too, to find the line): a search then tries one
# start per token instead of every character of it, which keeps a long line (a base64 dump with slashes) linear.
CONFIG_AT = lazy_re(r"(?i)(?:^|(?<=[\s\[(\"'=]))(?P<file>(?:[\w.~-]*/)*(?:[\w-][\w.-]*\.(?:conf|cfg|cnf|ya?ml|toml|json5?|jsonc|ini|hcl|"
                   r"properties|config)|Caddyfile|Corefile))[\"']?\]?(?::|,? line |\[| at line )(?P<line>\d+)(?::\d+)?\b"
                   r"|\b(?:parse|parsing|syntax) error (?:on|at|in) line (?P<bare>\d+)")
# The rejected setting is one a newer (or other) release of the program knows: the image and the file disagree.

# -- a wrapped exception whose cause the log does not show --------------------------------------------------------
# Spring's "Error creating bean with name 'x': Invocation of init method failed; nested exception is y.Z".
_NESTED_IS = lazy_re(r"nested exception is (?P<inner>[\w.$]+(?:: [^;]{0,160})?)")
_BEAN = lazy_re(r"Error creating bean with name '(?P<bean>[^']+)'(?P<init>: Invocation of init method failed)?")

# -- a Python file that does not parse -----------------------------------------------------------------------
_PY_SYNTAX = lazy_re(r"^\s*SyntaxError: (?P<msg>.+)$")
_PY_VERSION = lazy_re(r"/python(?P<v>3\.\d+)/")

# -- frames --------------------------------------------------------------------------------------------------
_PY_FRAME = lazy_re(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_JS_FRAME = lazy_re(r"^\s*at (?:.+? \()?(?P<path>(?:/|file://|https?://)[^)\s]+?):(?P<line>\d+)(?::\d+)?\)?\s*$")
_GO_FRAME = lazy_re(r"^\s*(?P<path>/\S+\.go):(?P<line>\d+)\b")
_RB_FRAME = lazy_re(r"^\s*(?:from )?(?P<path>[\w./-]+\.rb):(?P<line>\d+):in\b")
_PHP_FRAME = lazy_re(r"^\s*#\d+ (?P<path>/\S+\.php)\((?P<line>\d+)\)")
_DOTNET_FRAME = lazy_re(r"^\s*at (?P<sym>[A-Z][\w.`]+)\.[\w<>$`]+\(.*?\)(?: in (?P<path>\S+):line (?P<line>\d+))?\s*$")
# A literal every frame regex above requires: a line holding none of them is no frame.
_FRAME_WORDS = ('File "', "at ", ".go:", ".rb:", ".php(")
# .NET frames carry no path for a package: known third-party namespaces only (an app built without symbols
# looks the same, so no other namespace is called a library).
_DOTNET_LIBRARY = lazy_re(r"^(?:AWS|Amazon|Newtonsoft|Npgsql|MySqlConnector|MySql|StackExchange|Serilog|NLog|Polly|"
                          r"Dapper|MongoDB|Confluent|RabbitMQ|Grpc|Google|Azure|Hangfire|Quartz)\.")
_RUNTIME_PATH = lazy_re(r"^(?:node:|internal/|ext:|<frozen|<anonymous>)|/usr/local/go/src/|/usr/lib/go[\w.-]*/src/|"
                        r"/lib/python\d[\d.]*/(?!(?:site|dist)-packages/)|/usr/local/lib/ruby/\d|^/rustc/|"
                        r"^[\w.-]+\.js:\d")


# A framework reporting that it could not find or build something the app asked for (a class, a binding): the
# framework's frames are where it is reported, not where the fault is.
_RESOLUTION = lazy_re(r"ReflectionException|BindingResolution|does not exist|not found|cannot find|can't resolve|"
                      r"unable to resolve", re.I)


@dataclass(frozen=True)
class Frame:
    where: str  # path:line (or a .NET symbol)
    library: str | None  # the package/module it belongs to, when it is not the app's own code
    runtime: bool = False


# An error about the container's files, permissions or ports (not the library's own fault): the errno names,
# Python's "[Errno N]" with their numbers (Linux: ENOENT 2, EACCES 13, EPERM 1, EROFS 30, ENOSPC 28, EMFILE 24,
# EADDRINUSE 98, EADDRNOTAVAIL 99, EEXIST 17, ENOTDIR 20, EISDIR 21), and their wording. Any other errno (EINVAL, an
# argument the app passed) leaves the library step.
_OS_ERROR = lazy_re(r"(?i)\bE(?:ACCES|PERM|ROFS|NOENT|NOSPC|EXIST|ISDIR|NOTDIR|MFILE|ADDRINUSE|ADDRNOTAVAIL)\b|"
                    r"\[Errno (?:1|2|13|17|20|21|24|28|30|98|99)\]|"
                    r"permission denied|read-only file system|operation not permitted|no such file or directory|"
                    r"no space left on device|too many open files|address already in use|file exists|"
                    r"not a directory|is a directory|cannot assign requested address")


# A Go module in the module cache: /go/pkg/mod/<path>@<version>/. The module's path parts hold no "@": the first part
# that does is its version's, so the parts are read once (possessive). A later "/go/pkg/mod/" among the same parts
# ends the same way: `_go_module` skips it (each was read to the end of the parts again, 0.2-0.7 s on a 16 KB path).
_GO_MODULE = lazy_re(r"/go/pkg/mod/((?:[\w.-]+/)*+[\w.-]+@[\w.+-]+)/")
_GO_PARTS = lazy_re(r"(?:[\w.-]+/)*+")


def _go_module(path: str) -> str | None:
    """The module path and version after the first "/go/pkg/mod/" that has them (`_GO_MODULE`'s group 1, as its search
    finds it), or None, in one pass."""
    skip = 0
    at = path.find("/go/pkg/mod/")
    while at >= 0:
        if at >= skip:
            m = _GO_MODULE.match(path, at)
            if m:
                return m.group(1)
            parts = _GO_PARTS.match(path, at + 12)  # (it matches everywhere, if only empty)
            skip = parts.end() if parts else at  # (a later occurrence before this is one of these parts)
        at = path.find("/go/pkg/mod/", at + 1)
    return None


def _library_of(path: str) -> str | None:
    """The package a source path belongs to when it is installed code, not the app's own."""
    m = re.search(r"node_modules/((?:@[\w.-]+/)?[\w.-]+)/(?!.*node_modules/)", path)
    if m:
        return m.group(1)
    m = re.search(r"/(?:site|dist)-packages/([\w.-]+?)(?:\.py)?(?:/|$)", path)
    if m:
        return m.group(1)
    module = _go_module(path)
    if module:
        return module
    m = re.search(r"/gems/([\w-]+?)-\d[\w.]*/", path)
    if m:
        return m.group(1)
    m = re.search(r"/vendor/([\w-]+/[\w-]+)/", path)
    if m:
        return m.group(1)
    m = re.match(r"https?://([\w.-]+/(?:x/)?[\w.-]+@[\w.-]+)/", path)  # a Deno URL import: deno.land/std@0.77.0
    if m:
        return m.group(1)
    return None


def _program(ev: Evidence, container: str | None) -> str | None:
    """The name of the program the container's image is (its repository's last part, without -docker/-server)."""
    img = remedy.image(ev, remedy.container_name(ev, container)) or ""
    if not remedy.is_image_ref(img):
        return None
    repo = remedy.image_parts(img)[1].rsplit("/", 1)[-1]
    return re.sub(r"[-_](?:docker|server|app|image)$", "", repo).lower() or None


def _repository_words(ev: Evidence, container: str | None) -> list[str]:
    """The words of the container image's repository name (its last part), lower case: billing-api -> billing, api."""
    img = remedy.image(ev, remedy.container_name(ev, container)) or ""
    if not remedy.is_image_ref(img):
        return []
    repo = remedy.image_parts(img)[1].rsplit("/", 1)[-1].lower()
    return [w for w in re.split(r"[-_.]", repo) if w]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]", "", name.rsplit("/", 1)[-1].split("@")[0].lower())


# `python -m X` (runpy's frames, then X/__main__.py) or a console script (/usr/local/bin/X): the package the
# container's command runs.
_RUNPY = lazy_re(r"_run_module_as_main|<frozen runpy>|/runpy\.py")
_MAIN_MODULE = lazy_re(r"/(?:site|dist)-packages/(?P<pkg>[\w.-]+)/__main__\.py")
_CONSOLE_SCRIPT = lazy_re(r"^/usr/(?:local/)?bin/(?P<name>[\w.-]+)$|^/opt/[\w./-]*?/bin/(?P<name2>[\w.-]+)$")


def _run_packages(ev: Evidence, container: str | None, paths: list[str], window: str) -> set[str]:
    """The packages the container's command runs: `python -m X`, a console script named X, or the task
    definition's command or entryPoint naming it."""
    out: set[str] = set()
    if _RUNPY.search(window):
        for p in paths:
            m = _MAIN_MODULE.search(p)
            if m:
                out.add(_norm(m.group("pkg")))
    for p in paths:
        m = _CONSOLE_SCRIPT.match(p)
        if m:
            out.add(_norm(m.group("name") or m.group("name2")))
    cdef = ev.container_definition(remedy.container_name(ev, container))
    if cdef:
        words = [*cdef.entry_point, *cdef.command]
        for i, w in enumerate(words):
            if w == "-m" and i + 1 < len(words):
                out.add(_norm(words[i + 1].split(".")[0]))
        if words and not re.fullmatch(r"(?:\S*/)?(?:python[\d.]*|sh|bash|exec|env|tini|dumb-init)", words[0]):
            out.add(_norm(words[0]))
    return out


def _classify(path: str, program: str | None) -> Frame:
    path = path.removeprefix("file://")
    if _RUNTIME_PATH.search(path):
        return Frame(path, None, runtime=True)
    lib = _library_of(path)
    if lib and program and re.sub(r"[-_]", "", lib.rsplit("/", 1)[-1].split("@")[0].lower()) == re.sub(r"[-_]", "", program):
        lib = None  # the image's own program, installed as a package (n8n under node_modules)
    return Frame(path, lib)


def frames(ev: Evidence, container: str | None, anchor: int) -> list[Frame]:
    """The frames of the trace around the error at `anchor`, innermost first."""
    logs = ev.logs
    start = max(logs.block_start(anchor), anchor - 40, 0)
    end = min(len(logs.texts), anchor + 40)
    program = _program(ev, container)
    py: list[Frame] = []
    first_call_first = False
    after: list[Frame] = []
    before: list[Frame] = []
    for j in range(start, end):
        if container and logs.containers[j] not in (container, None):
            continue
        t = logs.texts[j]
        if "most recent call first" in t:
            first_call_first = True
        if not any(word in t for word in _FRAME_WORDS):
            continue  # (most lines of a window: no frame regex can match them, six failed matches saved)
        m = _PY_FRAME.match(t)
        if m:
            py.append(_classify(f"{m.group('path')}:{m.group('line')}", program))
            continue
        m = _JS_FRAME.match(t) or _GO_FRAME.match(t) or _RB_FRAME.match(t) or _PHP_FRAME.match(t)
        frame = None
        if m:
            frame = _classify(f"{m.group('path')}:{m.group('line')}", program)
        else:
            d = _DOTNET_FRAME.match(t)
            if d:
                sym = d.group("sym")
                if d.group("path"):
                    frame = Frame(f"{d.group('path')}:{d.group('line')}", None)
                elif re.match(r"(?:System|Microsoft)\.", sym):
                    frame = Frame(sym, None, runtime=True)
                elif _DOTNET_LIBRARY.match(sym):
                    frame = Frame(sym, sym.rsplit(".", 1)[0] if sym.count(".") > 1 else sym)
        if frame:
            (after if j >= anchor else before).append(frame)
    # A trace printed after its error lists the innermost frame first; a console copy (newest line first)
    # puts the frames above the error, the innermost nearest to it.
    trace = (py if first_call_first else py[::-1]) if py else after or before[::-1]
    window = "\n".join(logs.texts[start:end])
    return _own_package(ev, container, trace, window)


def _own_package(ev: Evidence, container: str | None, trace: list[Frame], window: str) -> list[Frame]:
    """The trace with the app's own package, installed into site-packages or node_modules, read as the app's code:
    a package the container's command runs (`python -m billing`, a console script `billing`), or one named by the
    first word of the image's repository (billing in billing-api). Only when the trace shows no other app code:
    a runner (`python -m uvicorn`, `celery`) that calls the app's own files is a library."""
    libs = {_norm(f.library) for f in trace if f.library}
    if not libs or any(not f.library and not f.runtime and not _CONSOLE_SCRIPT.match(f.where.rsplit(":", 1)[0])
                       for f in trace):
        return trace
    words = _repository_words(ev, container)
    paths = [f.where.rsplit(":", 1)[0] for f in trace]
    own = _run_packages(ev, container, paths, window) | ({_norm(words[0])} if len(words) > 1 else set())
    hits = libs & own
    if not hits:
        return trace
    return [Frame(f.where, None, f.runtime) if f.library and _norm(f.library) in hits else f for f in trace]


def _located(text: str) -> str | None:
    """A source location written inside an error message (a Rust panic's `src/config.rs:41:38`)."""
    m = re.search(r"(?<![\w/])((?:[\w.-]+/)*[\w.-]+\.(?:rs|go|py|js|ts|rb|java|kt|scala|cs|php|exs?|clj)):(\d+)", text)
    return f"{m.group(1)}:{m.group(2)}" if m and not m.group(1).startswith("/rustc/") else None


# An error about a value (an index past its end, a missing key, nil, a decoding): in settings code, a setting's value.
_VALUE_ERROR = lazy_re(r"(?i)index out of range|out of bounds|\bnil\b|\bNone(?:Type)?\b|\bnull\b|undefined|KeyError|"
                       r"key not found|base64|illegal|invalid|empty|missing|too short")


# -- the rules -----------------------------------------------------------------------------------------------
def _env_query(ev: Evidence, container: str | None) -> str:
    # The variables (names and values) and the names of the secrets, as a two-item list: `[environment,
    # secrets[].name]` (a `secrets:` key in a hash would read as a secret assignment to the redactor).
    query = remedy.container_query(ev, container, "[environment[].[name, value], secrets[].name]")
    return remedy.describe_task_definition(ev, query)


# The parse was of an HTTP answer: the client's JSON decoding of a response (node-fetch's and undici's
# Response.json, requests' and httpx's Response.json()). An answer that starts with `<` is an HTML page.
_HTTP_JSON = lazy_re(r"\bResponse\.json\b|\b(?:res|resp|response|r)\.json\(\)|"
                     r"(?:requests|httpx)/_?models\.py\"?, line \d+, in json\b|client_reqrep\.py\"?, line \d+, in json\b")
_HTML_ANSWER = lazy_re(r"Unexpected token '?<'?|\"<(?:!DOCTYPE|html)|<!DOCTYPE|<html", re.I)
_URL = lazy_re(r"https?://[^\s'\"<>)\]]+")
# The parse was of a message or record the app received: a source line decoding one, or a "received" line before.
_MESSAGE_PARSE = lazy_re(r"(?i)\b(?:loads|parse|decode|readValue|fromJson|Unmarshal|deserialize)\w*\s*\(\s*"
                         r"(?:\[\]byte\()?\*?(?:[\w.]*?[._])?(?:msg|message|body|payload|record)s?\b")
_RECEIVED = lazy_re(r"(?i)\b(?:received|receiving|consumed|consuming|processing|handling|polled) (?:a |the |new )?"
                    r"(?:message|record|event|delivery|job)\b")


def _before_block(ev: Evidence, container: str | None, anchor: int, most: int = 5) -> list[str]:
    """The container's last `most` lines before the multi-line entry (the trace) that holds line `anchor`."""
    logs = ev.logs
    out: list[str] = []
    j = logs.block_start(anchor) - 1
    while j >= 0 and len(out) < most:
        if not container or logs.containers[j] in (container, None):
            out.append(logs.texts[j])
        j -= 1
    return out[::-1]


def _http_answer_step(ev: Evidence, container: str | None, exc: str, text: str, where: str,
                      anchor: int) -> str | None:
    if not _HTTP_JSON.search(text):
        return None
    urls = [u for t in _before_block(ev, container, anchor, 10) for u in _URL.findall(t)]
    url = urls[-1].rstrip(".,;:") if urls else None
    html = bool(_HTML_ANSWER.search(text))
    answer = ("began with `<`: it was an HTML page (an error or login page, or a proxy's or load balancer's answer)"
              if html else "was not JSON (an empty body, or an error page)")
    check = (f"`curl -sS -i {remedy.q(url)}`" if url else "`curl -sS -i` on the URL it calls")
    return (f"The error{where} (`{exc}`) is raised decoding the answer of an HTTP call as JSON, and the answer "
            f"{answer}, not the JSON the app expected: the endpoint{f' (`{url}`)' if url else ''} or the way to it "
            "failed, not a value the app parses. Check what it returns from where the task runs (a task in the same "
            f"subnets and security groups): {check}; its status and body name the problem (a wrong host or path in "
            "the URL the app is given, a 401/403, a 502/503/504 from a proxy or load balancer). Fix that endpoint or "
            "the URL, and let the code check the status and Content-Type before it decodes the body")


def _parse_step(ev: Evidence, container: str | None, exc: str, text: str, where: str, ran: float | None,
                own: Frame | None, anchor: int = 0, above: str = "") -> str | None:
    if not _PARSE.search(text):
        return None
    http = _http_answer_step(ev, container, exc, f"{text}\n{above}", where, anchor)
    if http:
        return http
    at_start = ran is None or ran <= remedy.RAN_A_WHILE_S
    received = bool(_MESSAGE_PARSE.search(f"{above}\n{text}")
                    or any(_RECEIVED.search(t) for t in _before_block(ev, container, anchor, 3)))
    config = bool(_CONFIG_PROVIDER.search(text) or (own and _CONFIG_FILE.search(own.where.rsplit(":", 1)[0]))
                  or (where and _CONFIG_FILE.search(where.strip("` ").rsplit(":", 1)[0])))
    name = remedy.container_name(ev, container) or "the container"
    if _PARSE_ABSENT.search(text) and (at_start or config) and not received:
        return (f"The error{where} (`{exc}`) comes from converting a value that is not there (nil/null/None) while "
                "the app reads its configuration at start-up: an environment variable it reads is not set. Compare the variables "
                f"its configuration reads with those the task definition gives {name}, and set the missing one "
                f"(`environment`, or `secrets` for a secret): `{_env_query(ev, container)}`")
    kind = "JSON" if _JSON.search(text) else "a number or another typed value"
    empty = bool(_PARSE_EMPTY.search(text))
    what = ("is empty (nothing to parse: an empty variable or file, or an answer that was not JSON)" if empty
            else f"is not in the format it expects ({kind})")
    if received:
        return (f"The error{where} (`{exc}`) is a parse failure on the input the app was handling: a message or "
                f"record it received {what}. Find that input (the lines before the error name it), and make the code "
                "reject or skip a malformed one instead of exiting; a restart or a rollback meets the same input "
                "again (a queue delivers it again on each start until a redrive policy moves it to a dead-letter "
                "queue)")
    if at_start or config:
        return (f"The error{where} (`{exc}`) is a parse failure: a value the app reads at start-up {what}. Such a "
                "value most often comes from the container's environment, a secret or a configuration file: compare "
                f"the values the task definition gives {name} with what that line parses (a stray quote, space or "
                "unit, a name or ARN where a number belongs, an unset or empty variable), and correct the value, "
                f"not the code: `{_env_query(ev, container)}`")
    mins = int((ran or 0) // 60)
    return (f"The error{where} (`{exc}`) is a parse failure after {mins} minutes of running: a value in the data "
            f"the app was processing (a record, a message, an API answer) {what}. Find that input (the lines "
            "before the error name what was being read), and make the code reject or skip a malformed value "
            "instead of exiting; a restart or a rollback meets the same input again")


def _jvm_frame(text: str) -> str | None:
    """The innermost frame of a JVM trace outside the JDK, Scala/Kotlin runtimes and common frameworks."""
    for m in _JVM_FRAME.finditer(text):
        if not _JVM_LIBRARY.match(m.group("cls")):
            return m.group("file")
    return None


# A value read from the environment, while loading settings ("failed to load settings", "for key `log.level`"), or in
# settings code: a setting holds a value the app does not take, not new data. The values the error lists, if any.
_ALLOWED = lazy_re(r"(?i)\b(?:expected one of|must be one of|one of the following|(?:valid|allowed|accepted|possible|"
                   r"supported) (?:values|options|choices)(?: are| is)?)\s*:?\s*(?P<list>[^\n]{1,200}?)"
                   r"(?= for (?:key|field|setting|option)\b|$|\n)")
_SETTING_KEY = lazy_re(r"(?i)\bfor (?:key|field|setting|option) [`'\"]?(?P<key>[\w.-]+)")
_SETTINGS_LOAD = lazy_re(r"(?i)\b(?:(?:load|read|pars)(?:ing|e)?\w* (?:the )?(?:settings|config(?:uration)?)|"
                         r"settings? (?:from|error)|config(?:uration)? (?:from|error))\b")
_ENV_READ = lazy_re(r"\bos\.environ\b|\bos\.getenv\(|\bgetenv\(|\bprocess\.env\b|\bENV\[|\bENV\.fetch\b|"
                    r"System\.getenv\(|\benv::var\(|\bos\.Getenv\(|Environment\.GetEnvironmentVariable\(")

# The variable a settings line reads: os.environ.get("X"), os.getenv('X'), process.env.X, ENV["X"], env::var("X").
_ENV_NAME = lazy_re(r"(?:os\.environ(?:\.get)?|os\.getenv|getenv|ENV(?:\.fetch)?|System\.getenv|env::var|os\.Getenv)"
                    r"[\[(]\s*['\"](?P<var>[A-Za-z_][A-Za-z0-9_]*)['\"]|\bprocess\.env\.(?P<var2>[A-Za-z_]\w*)")


def _setting_value_step(ev: Evidence, container: str | None, exc: str, text: str, value: str,
                        own: Frame | None) -> str | None:
    allowed = _ALLOWED.search(text)
    settings_code = bool(own and not own.library and not own.runtime and _SETTINGS_FILE.search(own.where.rsplit(":", 1)[0]))
    key = _SETTING_KEY.search(text)
    # A list of allowed values alone is no setting: serde says the same of a record it deserializes.
    if not (key or _SETTINGS_LOAD.search(exc) or _ENV_READ.search(text) or settings_code):
        return None
    var = _ENV_NAME.search(text)
    setting = (f"its setting `{key.group('key')}`" if key else
               f"the variable `{var.group('var') or var.group('var2')}`" if var else "a setting")
    values = (allowed.group("list").replace("`", "").strip(" .,;:") if allowed else "")
    listed = f" (the error lists the values it takes: {values})" if values else ""
    name = remedy.container_name(ev, container) or "the container"
    what = (f"`{var.group('var') or var.group('var2')}`" if var else
            "it (the variable or the configuration file's key that sets it)")
    return (f"`{value}` is not a value the app accepts for {setting} (`{exc}`){listed}: the app read it "
            "from its environment, a secret or a configuration file, so the setting is wrong, not the code or the "
            f"data. Correct {what} to a value the app takes, in the task definition's `environment` or `secrets` "
            f"for {name} or in its configuration file: `{_env_query(ev, container)}`")


def _no_case_step(ev: Evidence, container: str | None, exc: str, text: str, where: str,
                  own: Frame | None, above: str = "") -> str | None:
    m = _NO_CASE.search(text)
    if not m:
        return None
    value = m.group("v1") or m.group("v3") or m.group("v4") or (m.group("v2") or "").rsplit(".", 1)[-1]
    setting = _setting_value_step(ev, container, exc, f"{text}\n{above}", value, own)
    if setting:
        return setting
    jvm = _jvm_frame(text)
    at = (f" at `{own.where}`" if own and not own.library and not own.runtime else
          f" at `{jvm}`" if jvm else where)
    return (f"The data the app read holds `{value}`, a value its code has no case for (`{exc}`): most often a new "
            "value added upstream (a new status or type in the records, messages or API it reads), so a rollback "
            f"meets the same data. Handle `{value}` in the code{at} (a case for it, or a default that logs and skips "
            "an unknown value), and ask the producer of the data whether more new values are coming")


def _poison_step(ev: Evidence, container: str | None, text: str, anchor: int) -> str | None:
    m = _POISON.search(text)
    if not m:
        return None
    topic, part, off = m.group("tp"), m.group("p"), int(m.group("off"))
    lo = max(0, anchor - 60)
    around = "\n".join(ev.logs.texts[lo:anchor + 1])
    group = _GROUP.search(around)
    broker = None
    for b in _BROKER.finditer(around):
        broker = f"{b.group('h')}:{b.group('port')}"
    cmd = ("kafka-consumer-groups.sh --bootstrap-server "
           + remedy.q(broker or remedy.needs_a_value("a broker host:port"))
           + f" --group {remedy.q(group.group('g') if group else remedy.needs_a_value('the consumer group'))}"
           + f" --topic {remedy.q(f'{topic}:{part}')} --reset-offsets --to-offset {off + 1} --execute")
    svc = remedy.service(ev)
    stop = (f"`aws ecs update-service --cluster {remedy.q(remedy.cluster(ev))} --service {remedy.q(svc)} "
            f"--desired-count 0{remedy.region_flag(ev)}`, then " if svc else "")
    return (f"The record at offset {off} of partition {part} of `{topic}` does not deserialize (a poison record): "
            "the consumer stops on it each time it starts, so restarts and rollbacks do not help. To get the consumer "
            "going, skip that record while none of the group's consumers runs (the reset fails while the group is "
            f"active): {stop}`{cmd}`" + (", then scale the service back up" if svc else "") + "; or make the consumer route undeserializable records to a "
            "dead-letter topic (with Spring Kafka, its ErrorHandlingDeserializer; with a plain consumer, catch "
            "RecordDeserializationException and seek past its offset). Then find the producer that wrote it"
            + (" (`Unknown magic byte`: it was not written with the schema-registry serializer the consumer expects)"
               if "Unknown magic byte" in text else ""))


def _module_path_step(ev: Evidence, container: str | None, exc: str) -> str | None:
    m = _MODULE_PATH.search(exc)
    if not m:
        return None
    path = m.group("path")
    if _FILE_PATH.search(path):
        # A path in the image's file system (/app/mysite/settings, a .py file): the setting names the module's file,
        # not its dotted name.
        rel = _WORKDIR.sub("", path, count=1)
        dotted = re.sub(r"\.py$", "", rel).strip("/").replace("/", ".") if rel != path else None
        hint = (f" (`{dotted}` if the app's directory, `{path[: len(path) - len(rel)].rstrip('/')}`, is on the "
                "Python path)" if dotted and "." in dotted else "")
        return (f"The app imports a module named `{path}`, which is a file path, not a module name: a setting that "
                "names a module (`DJANGO_SETTINGS_MODULE`, the module of a `-m` option, an app such as "
                "`module:app` in the gunicorn or uvicorn command, `FLASK_APP`) holds the path of its file. Give it "
                f"the dotted module name instead{hint}, in the task definition's `environment` or `command`: "
                f"`{_env_query(ev, container)}`")
    return (f"The app imports a module named `{path}`, which is a path, not a module name: the setting that should "
            "hold the module name holds this path, which looks like the NAME of an SSM Parameter Store parameter "
            "(so the variable was given the parameter's name instead of its value). In the task definition, pass "
            "that variable in `secrets` with `valueFrom` the parameter's ARN (ECS then injects its value and the "
            "execution role needs ssm:GetParameters on it), or set the value itself in `environment`: "
            f"`{_env_query(ev, container)}`")


def _prisma_step(text: str) -> str | None:
    if not _PRISMA_FAILED.search(text):
        return None
    m = _PRISMA_NAME.search(text)
    name = (m.group("n1") or m.group("n2")) if m else None
    arg = name or "<the failed migration's name>"
    which = f"`{name}`" if name else "the failed migration (its name is in the log and in the _prisma_migrations table)"
    return (f"Prisma Migrate stopped at a failed migration, {which}: the database's migration history (its "
            "_prisma_migrations table) records it as started and not finished, and `prisma migrate deploy` applies "
            "nothing after it until it is resolved. Find why it failed (the database error logged when it ran, or "
            "what it left half-done in the schema) and fix the migration or the database, then mark it: "
            f"`npx prisma migrate resolve --rolled-back {arg}` if its changes are not in the database (deploy then "
            f"re-applies it), or `npx prisma migrate resolve --applied {arg}` if you completed it by hand; then run "
            "`npx prisma migrate deploy` again (a new task of this revision does it)")


def _migration_step(exc: str, text: str) -> str | None:
    prisma = _prisma_step(text)
    if prisma:
        return prisma
    if _MULTIPLE_HEADS.search(text):
        return (f"The migrations in the image have more than one head (`{exc}`): two branches each added a migration "
                "to the same parent, so `upgrade head` does not know which to apply. Merge them in the code "
                "(`alembic merge heads -m 'merge heads'`, or `flask db merge heads`), commit the merge migration, "
                "rebuild and deploy the image; a rollback to the last image with one head gets the task running "
                "meanwhile")
    rev = _UNKNOWN_REVISION.search(text)
    if rev:
        return (f"The database records migration revision `{rev.group('rev')}` (its alembic_version table), which the "
                "migrations in this image do not contain: the database was migrated by another version of the app "
                "(a newer one, or another branch). Deploy an image whose migrations include that revision (the "
                "version that last ran against this database), or, if the revision was removed on purpose, stamp "
                "the database to the revision this image ends at (`alembic heads` names it; `alembic stamp` or "
                "`flask db stamp` records it) after checking the schema matches it")
    inc = _INCONSISTENT_HISTORY.search(text)
    if inc:
        return (f"The database's migration history (its django_migrations table) records `{inc.group('a')}` as "
                f"applied although its dependency `{inc.group('b')}` is not: the migrations in this image were "
                "changed or added after that database was migrated (an upgrade that skipped a version, or a "
                "dependency added to an existing migration). Follow the project's upgrade path for this version "
                "(upgrading through the intermediate release), or, once the dependency's tables are checked to "
                f"exist, record it as applied: `python manage.py migrate {inc.group('b').rsplit('.', 1)[0]} "
                f"{inc.group('b').rsplit('.', 1)[1]} --fake`")
    return None


def _summary_step(ev: Evidence, container: str | None, exc: str, anchor: int) -> str | None:
    """An error that only sums up failures of single items ("failed to load all models", "3 errors occurred"): the
    lines that name which item failed and why are what to fix; on a model server, in its model repository."""
    summary = ITEMS_SUMMARY.search(exc)
    if not summary:
        return None
    logs = ev.logs
    own = logs.containers[anchor]
    # In a stream no container is named for, only a line naming the same kind of item ("model") is one of them: the
    # other lines may be a sidecar's.
    item = (summary.group("item") or "").lower().rstrip("s")
    items = [j for j in range(max(0, anchor - 30), anchor)
             if logs.containers[j] == own and (own is not None or (item and item in logs.texts[j].lower()))
             and (logs.level(j) in ("error", "fatal") or re.search(r"(?i)\b(?:error|failed|failure|unable)\b",
                                                                    logs.texts[j]))]
    where = (f"logs[{logs.containers[items[0]] or container}]:{items[0] + 1} and the error lines after it"
             if items else None)
    tail = remedy.logs_tail(ev, container)
    read = (f"start at the first of them, {where}" if where else
            "this log holds none of them above it: read the container's whole log stream for the per-item errors"
            + (f" (`{tail}`)" if tail else ""))
    step = (f"`{exc}` only sums up: one or more of the items the program loads failed, and the lines that name which "
            f"one and why are what to fix; {read}")
    img = remedy.image(ev, remedy.container_name(ev, container)) or ""
    if _MODEL_SERVER.search(" ".join((exc, img))):
        step += (". For a model server, check the model repository it is given (the `--model-repository` path or "
                 "bucket in the container's `command`): each model's directory, its `config.pbtxt` (platform or "
                 "backend, inputs and outputs, `max_batch_size`) and its numbered version folders with the model "
                 "files; the per-model load error (Triton logs a `failed to load` line naming each model and a "
                 "model status table at start-up, more with `--log-verbose=1`) names the model and the reason")
    return step


def _di_step(text: str) -> str | None:
    m = _NEST_DI.search(text)
    if m:
        return (f"NestJS cannot inject `{m.group('arg')}` into `{m.group('svc')}`: `{m.group('arg')}` is not a "
                f"provider in `{m.group('mod')}`. Add it to that module's `providers`, or import into "
                f"`{m.group('mod')}` the module that provides and exports it")
    m = _DOTNET_DI.search(text)
    if m:
        return (f"The dependency-injection container has no registration for `{m.group('type')}`, which "
                f"`{m.group('target')}` needs: register it where the app configures its services "
                "(`builder.Services.AddScoped/AddSingleton<...>`), or stop registering the component that needs it")
    m = _SCOPED_FROM_ROOT.search(text)
    if m:
        return (f"`{m.group('type')}` is registered as scoped but is resolved from the root provider (by a "
                "singleton, a hosted service or start-up code, where no request scope exists): resolve it inside a "
                "scope (`IServiceScopeFactory.CreateScope()`), or register it or its consumer with a matching "
                "lifetime")
    return None


def _flag_step(ev: Evidence, container: str | None, exc: str) -> str | None:
    m = _DENO_FLAG.search(exc)
    if not m:
        return None
    target = (m.group("target") or "").strip('"')
    flag = m.group("flag")
    query = remedy.container_query(ev, container, "[entryPoint, command]")
    needs = (f"the app needs it for `{target}`: add `{flag}` (or `{flag}={target}` to grant only that)" if target
             else f"the app needs it: add `{flag}`")
    return (f"Deno runs without {m.group('what')} access, and {needs} to the `deno run` command, in the image's "
            f"CMD/ENTRYPOINT or the task definition's `command`: `{remedy.describe_task_definition(ev, query)}`")


def _nested_step(ev: Evidence, container: str | None, exc: str, anchor: int) -> str | None:
    """A Java exception that names the exception it wraps ("nested exception is ...") when the log has no "Caused
    by:" after it: the cause is in the part of the log that is not shown, and what the wrapped error is says where."""
    m = _NESTED_IS.search(exc)
    if not m:
        return None
    logs = ev.logs
    if any(t.lstrip().startswith(("Caused by:", "at ")) for t in logs.texts[anchor + 1:anchor + 300]):
        return None  # the cause is in the log, or the trace shown was cut (app_crash says so)
    inner = m.group("inner").strip()
    bean = _BEAN.search(exc)
    what = (f"the init method of bean `{bean.group('bean')}` (its `@PostConstruct` or `init-method`) threw" if bean
            and bean.group("init") else f"creating bean `{bean.group('bean')}` failed" if bean else "the error")
    static = ("; an `ExceptionInInitializerError` is a class's static initializer (a static field, a Kotlin "
              "`companion object` or top-level property) throwing the first time the class is used, often on a "
              "setting, file or native library it reads there" if "ExceptionInInitializerError" in inner else "")
    tail = remedy.logs_tail(ev, container)
    return (f"Spring could not start its context: {what}, wrapping `{inner}`{static}. The log here ends before the "
            "`Caused by:` lines that name what it threw: read the rest of the container's log stream"
            + (f" (`{tail}`)" if tail else "") + " for the last `Caused by:`, and fix that")


def _lines_of(numbers: list[int]) -> str:
    """"line 8", "lines 8-13" (consecutive), "lines 31, 32 and 40"."""
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return f"lines {numbers[0]}-{numbers[-1]}"
    return "lines " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


def _config_line_step(ev: Evidence, container: str | None, exc: str, anchor: int) -> str | None:
    """A program that rejected its configuration file at a line it names: that line of the file is the change, where
    the file comes from (the image, a template rendered at start, a mounted volume), or the release of the program."""
    m = CONFIG_AT.search(exc)
    if not m:
        return None
    name = m.group("file")
    logs = ev.logs
    numbers: list[int] = []
    for j in range(anchor, min(len(logs.texts), anchor + 40)):
        if container and logs.containers[j] not in (container, None):
            continue
        hit = CONFIG_AT.search(logs.texts[j])
        if hit and hit.group("file") == name:
            n = int(hit.group("line") or hit.group("bare"))
            if n not in numbers:
                numbers.append(n)
    where = f"`{name}` at {_lines_of(sorted(numbers))}" if name else f"its configuration at {_lines_of(sorted(numbers))}"
    said = exc[m.end():].lstrip(" :]").strip().strip("'\"")[:160]
    lines = "that line" if len(numbers) == 1 else "those lines"
    step = (f"{container or 'The container'} rejected {where}" + (f" (`{said}`)" if said else "")
            + " and refused to start: the configuration file it reads at start-up (copied into the image, rendered "
            "at start from a template or the task's environment, or on a mounted volume) has a setting or value "
            f"there that this release of the program does not accept. Fix {lines} where the file comes from, and "
            "check the file with the program's own validation before the next deployment")
    step += remedy.unknown_setting_release(exc, remedy.image(ev, remedy.container_name(ev, container)))
    return step


def _unknown_setting_step(ev: Evidence, container: str | None, exc: str) -> str | None:
    """A setting or flag the program rejects as unknown, on an image whose tag floats: the release it runs changed
    under a configuration written for another one. On a pinned tag the generic step stays (nothing says the release
    changed)."""
    img = remedy.image(ev, remedy.container_name(ev, container))
    if not remedy.floating_tag(img):
        return None
    release = remedy.unknown_setting_release(exc, img)
    if not release:
        return None
    name = remedy.container_name(ev, container) or "The container"
    return (f"{name} rejected a setting it does not recognize (`{exc}`), in its `command` flags, its environment or "
            f"its configuration file{release}. The setting it names is the first to change; the task definition "
            f"holds the flags: `{remedy.describe_task_definition(ev, remedy.container_query(ev, container, '[command, environment]'))}`")


def _syntax_step(ev: Evidence, exc: str, anchor: int, own: Frame | None) -> str | None:
    m = next((s for s in (_PY_SYNTAX.match(t) for t in ev.logs.texts[anchor:anchor + 30]) if s), None)
    if m is None or not own or own.library or own.runtime or not re.search(r"\.py:\d+$", own.where):
        return None
    lo = max(0, anchor - 40)
    version = next((v.group("v") for v in (_PY_VERSION.search(t) for t in ev.logs.texts[lo:anchor + 30]) if v), None)
    py = f"Python {version}" if version else "its Python"
    fstring = (" Quotes of the same kind nested inside an f-string parse only from Python 3.12 on." if "f-string" in exc
               and version and tuple(int(x) for x in version.split(".")) < (3, 12) else "")
    return (f"`{own.where}` does not parse under the image's {py} (`{exc}`): the code uses syntax this interpreter "
            f"does not accept (a newer Python's, or a plain mistake).{fstring} Build the image "
            "FROM the Python version the code is written and tested for, or rewrite that line for this one; "
            "`python -m compileall` in the image build catches it before deploying")


def _library_step(ev: Evidence, container: str | None, exc: str, trace: list[Frame]) -> str | None:
    code = [f for f in trace if not f.runtime]
    # An operating-system error (a refused or read-only path, a missing file, a full disk) raised inside a library
    # is the environment's answer to what the app asked for, not the library's fault: no version advice for it.
    if not code or not code[0].library or _RESOLUTION.search(exc) or _OS_ERROR.search(exc):
        return None
    lib = code[0]
    caller = next((f for f in code if not f.library), None)
    img = remedy.image(ev, remedy.container_name(ev, container))
    published = bool(img) and not remedy.own_ecr(ev, img)
    release = (f" (`{img}` is not built in this account, so that means another release of it, or of what installs "
               f"`{lib.library}` into it)" if published else "")
    if caller:
        return (f"The error (`{exc}`) is raised inside the library `{lib.library}` (`{lib.where}`), called from the "
                f"app's code at `{caller.where}`: the change is at that call, in what the app passes to "
                f"`{lib.library}` there or expects back from it, or in the version of `{lib.library}` the image "
                f"installs (compare it with the version that code was written for; its changelog or issue tracker "
                f"may have this error){release}")
    return (f"The error (`{exc}`) is raised inside the library `{lib.library}` (`{lib.where}`), and the trace shows "
            f"no frame of the app's own code: check the version of `{lib.library}` first: look this error up in its "
            "changelog and issue tracker, and pin a version without it (or upgrade) in the image's dependency file"
            f"{release}")


def _config_code_step(ev: Evidence, container: str | None, exc: str, own: Frame | None,
                      ran: float | None = None) -> str | None:
    if not own or own.library or own.runtime:
        return None
    # Settings are read at start-up: after a long run the same file's code runs on a request or a job (a login
    # callback kept with the framework's set-up under config/).
    if ran is not None and ran > remedy.RAN_A_WHILE_S:
        return None
    path = own.where.rsplit(":", 1)[0]
    if not _SETTINGS_FILE.search(path) or not _VALUE_ERROR.search(exc):
        return None
    name = remedy.container_name(ev, container) or "the container"
    return (f"The error (`{exc}`) is raised at `{own.where}`, in the code that reads the app's settings at start-up: "
            "a setting it reads is most likely missing or malformed for this code (an empty or short secret, a "
            "value in another format, a key this version renamed). Check the values the task definition gives "
            f"{name} against what that file reads (and any configuration file it loads): "
            f"`{_env_query(ev, container)}`")


def first_step(ev: Evidence, container: str | None, exc: str, anchor: int, where: str,
               related: str = "") -> str | None:
    """Step 1 (without its citation) for an app crash no error family names, or None to keep the generic one.
    `where` is the app-frame clause app_crash already wrote (" at `file:line`" or ""); `related` the error's
    root cause or neighbouring lines."""
    # The error is quoted as inline code: a backtick of its own (Rust's and serde's "unknown variant `x`") would end
    # the span early and leave one unbalanced.
    exc = exc.replace("`", "")
    logs = ev.logs
    window = "\n".join(t for j, t in enumerate(logs.texts[anchor:anchor + 12], anchor)
                       if not container or logs.containers[j] in (container, None))
    text = "\n".join((exc, related, window))
    # The whole trace (a Python traceback ends in its error): the source lines above the error say what it read.
    first = max(0, anchor - 40, logs.block_start(anchor))
    above = "\n".join(t for j, t in enumerate(logs.texts[first:anchor], first)
                      if not container or logs.containers[j] in (container, None))
    trace = frames(ev, container, anchor)
    own = next((f for f in trace if not f.runtime and not f.library), None)
    if not where:
        loc = _located(exc)
        where = f" at `{loc}`" if loc else ""
    ran = remedy.ran_for(ev)
    return (_poison_step(ev, container, text, anchor)
            or _parse_step(ev, container, exc, text, where, ran, own, anchor, above)
            or _no_case_step(ev, container, exc, text, where, own, above)
            or _module_path_step(ev, container, exc)
            or _migration_step(exc, "\n".join([text, above, *_before_block(ev, container, anchor)]))
            or _summary_step(ev, container, exc, anchor)
            or _di_step(text)
            or _flag_step(ev, container, exc)
            or _syntax_step(ev, exc, anchor, next((f for f in trace if not f.runtime), None))
            or _config_line_step(ev, container, exc, anchor)
            or _unknown_setting_step(ev, container, exc)
            or _nested_step(ev, container, exc, anchor)
            or _library_step(ev, container, exc, trace)
            or _config_code_step(ev, container, exc, own, ran)
            or _own_package_step(exc, where, own))


def _own_package_step(exc: str, where: str, own: Frame | None) -> str | None:
    """The generic step at the innermost frame of the app's own package installed as one (app_crash looks for the
    app's code outside site-packages and node_modules only)."""
    if where or not own or not _library_of(own.where):
        return None
    return f"Fix the error at `{own.where}`: `{exc}`"
