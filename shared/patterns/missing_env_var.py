"""missing-env-var: a required environment variable is absent.

Signals: Python `KeyError: 'X'` from os.environ (an UPPER_CASE key, or a traceback through
`environ`); Ruby `key not found: "X"`; "environment variable X is not set/required/missing" in
its many wordings; Go envconfig "required key X missing value"; shell "X: parameter not set" /
"unbound variable"; Spring "Could not resolve placeholder 'X'" (Micronaut: ${X}); an error showing a value as
its unexpanded ${X} placeholder; pydantic-settings "Field
required" under a *Settings/*Config model; zod/envalid/dotenv-safe "Invalid/Missing environment
variables" lists; well-known framework messages (Laravel APP_KEY, Rails SECRET_KEY_BASE, Django
SECRET_KEY, botocore NoRegionError); an app refusing to start on a setting it names as unset or at
its insecure default ("Refusing to start due to insecure X_KEY"). Facts: variable (one) or variables
(several), container, insecure_default. Near misses: a KeyError on a lower-case dict key is an app crash;
"X is not set, using default", a warning that a default X is in use, and lines logged at info/warn level
are not failures; nor is a variable the app reported missing and then said it was ready (listening,
started) without.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    ERLANG_BYTES_NEEDLE,
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    dedupe,
    erlang_message,
    log_proof,
)
from shared.scan import lazy_re

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# "User env var should exist", "`PORT` environment variable missing": a name put before the words "env var"
_SAID = lazy_re(r"(?:^|[\s'\"`(])[`'\"]?([A-Za-z_][A-Za-z0-9_]{1,63})[`'\"]? (?i:env(?:ironment)?[ _-]?var(?:iable)?)\b")
_NOT_A_NAME = frozenset({"the", "an", "a", "no", "missing", "required", "this", "that", "some", "any", "one", "empty",
                         "unset", "undefined", "your", "mandatory", "expected", "invalid", "following"})
_UPPER = r"[A-Z][A-Z0-9_]*[A-Z0-9]"
# "Missing CSRF_TOKEN header": a name followed by one of these is not an environment variable.
_NOT_ENV_NOUN = (r"(?!\s+(?i:header|cookie|field|param(?:eter)?|column|attribute|argument|permission|scope|claim|"
                 r"property|key in|in (?:request|body|payload|response|query)))")
_UPPER_VAR = r"[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]"  # UPPER_CASE with an underscore: looks like a variable
_Q = r"['\"`‘’“”]?"
_QUOTE = r"['\"`‘’“”]"
# Keywords are matched case-insensitively with scoped flags: a global IGNORECASE would let _UPPER
# match any word ("environment variable is not set" would name the variable "is").
_ENV = r"(?i:environment|env)[ _-]?(?i:variables?|vars?)"
# "CONSUL_PORT key is not set", "SECRET_KEY_BASE configuration option is required"
_NOUN = r"(?: (?:key|(?:configuration |config )?(?:option|setting|value)|variable|env(?:ironment)? var(?:iable)?))?"
_MISSING = (r"(?i:(?:is |was |are )?(?:not (?:set|defined|found|provided|present|configured|specified)|missing|"
            r"required|undefined|empty|unset|must be (?:set|defined|provided|specified)))")
_SIMPLE: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = [  # (kind, guards, regex)
    # "SUPABASE_URL and SUPABASE_ANON_KEY are required.", "DB_HOST, DB_USER or DB_PASS is not set"
    ("several", ("required", "missing", "not set", "undefined", "not defined", "must be"),
     lazy_re(r"((?:" + _Q + _UPPER_VAR + _Q + r"(?:,\s*|\s+(?:and|or|&)\s+|,\s*(?:and|or)\s+)){1,8}" + _Q + _UPPER_VAR + _Q
                + r")\s+(?:are|is|were|must be)\s+(?:required|missing|not set|unset|undefined|not defined|set|provided)\b")),
    # KeyError: 'X' (python os.environ) / key not found: "X" (ruby ENV.fetch)
    ("keyerror", ("keyerror",), lazy_re(r"\bKeyError: " + _Q + "(" + _NAME + ")" + _Q + r"\s*$")),
    ("keyerror", ("key not found",), lazy_re(r"key not found: " + _Q + "(" + _NAME + ")" + _Q)),
    # "environment variable 'ConnectionStrings__Default' is not set": any spelling when quoted
    ("english", ("env",), lazy_re(_ENV + r"\s*[:=]?\s*" + _QUOTE + "(" + _NAME + ")" + _QUOTE
                           + r"\s*(?:\(\w+\)\s*)?" + _MISSING)),
    ("english", ("env",), lazy_re(_ENV + r"\s*[:=]?\s*" + _Q + "(" + _UPPER + ")" + _Q + r"\s*(?:\(\w+\)\s*)?" + _MISSING)),
    ("english", ("env",), lazy_re(r"(?i:missing|required|undefined|unset|no)\s+(?i:required\s+|mandatory\s+)?" + _ENV
                           + r"(?:\s+(?i:named|called))?[:\s]+" + _Q + "(" + _UPPER + ")" + _Q)),
    # Symfony: Environment variable not found: "DATABASE_URL".
    ("english", ("env",), lazy_re(_ENV + r"\s+(?i:not found|not set|not defined|undefined|missing)\s*[:=]\s*" + _Q + "("
                           + _NAME + ")" + _Q)),
    ("english", ("env",), lazy_re(_Q + "(" + _UPPER + ")" + _Q + r"\s+" + _ENV + r"\s+" + _MISSING)),
    ("english", ("env",), lazy_re(r"(?i:(?:please |you must )?set (?:the )?|(?:please|must|need to) set an? )" + _Q + "(" + _UPPER + ")" + _Q
                           + r" " + _ENV)),
    ("english", ("not set", "unset", "undefined", "required", "missing", "not defined", "empty"), lazy_re(r"(?:^|[\s:(\[])" + _Q + r"(" + _UPPER + ")" + _Q + _NOUN + r" (?:is|was) (?:not set|unset|undefined|"
                           r"required|missing|not defined|empty)\b")),
    ("english", ("must be",), lazy_re(r"(?:^|[\s:(\[])" + _Q + r"(" + _UPPER + ")" + _Q + _NOUN + r" must be (?:set|defined|provided)\b")),
    ("go", ("required key",), lazy_re(r"required key (" + _UPPER + r") missing value")),
    ("english", ("env",), lazy_re(r"(?:could not|cannot|can't|unable to|failed to) (?:fetch|find|read|get|load|resolve) (?:the )?"
                           r"(?:environment|env) (?:variable|var) " + _Q + "(" + _UPPER + ")" + _Q)),
    # python-decouple: "UndefinedValueError: SECRET_KEY not found. Declare it as envvar or define a default value."
    ("library", ("undefinedvalueerror",), lazy_re(r"UndefinedValueError: (" + _NAME + r") not found")),
    ("shell", ("unbound variable", "parameter not set", "parameter null"), lazy_re(r"\b(" + _NAME + r"): (?:unbound variable|parameter not set|parameter null or not set)")),
    # Spring "Could not resolve placeholder 'X' in value", Micronaut "Could not resolve placeholder ${X}"
    ("spring", ("placeholder",), lazy_re(r"(?:Could not|Cannot|Unable to) resolve placeholder\s*(?:'([\w.-]+)'"
                                         r"|\$\{([\w.-]+)(?::[^}\n]*)?\})")),
    ("spring", ("expand value",), lazy_re(r"Could not expand value ([\w.-]+) in (?:property|expression)")),  # Quarkus/SmallRye
    ("spring", ("substitution",), lazy_re(r"Could not resolve substitution to a value: \$\{\??([\w.-]+)\}")),  # Typesafe config
    ("spring", ("required environment variable",), lazy_re(r"Required environment variable ['\"]?([\w.-]+)['\"]? (?:is )?not (?:set|found|defined)")),
    # "Missing DATABASE_URL." / "Missing required configuration: GITHUB_BOT_USERNAME": a bare name needs
    # the shape of a variable (an underscore); after a noun any UPPER_CASE name will do.
    ("english", ("missing",), lazy_re(r"(?i:missing)\s+(?i:required\s+|mandatory\s+)?(?i:(?:configuration|config|env)\s+)?"
                                         r"(?i:configuration|config|setting|option|variable|key|value)s?\s*[:=]?\s*"
                                         + _Q + "(" + _UPPER + ")" + _Q + r"(?![\w-])" + _NOT_ENV_NOUN)),
    ("english", ("missing",), lazy_re(r"(?i:missing)\s+(?i:required\s+)?" + _Q + "(" + _UPPER_VAR + ")" + _Q
                                         + r"(?![\w-])" + _NOT_ENV_NOUN)),
    # An app that refuses to start because a required secret or setting is unset, empty or still at its insecure
    # default, and names it: "Refusing to start due to insecure SECRET_KEY", "refusing to start: JWT_SECRET is not
    # set", "Refusing to start with the default X", "refusing to start - insecure X" (after "with" only a qualified
    # name counts). (A warning about a default that the app goes on with says no refusal.)
    ("refusal", ("refusing to start", "refuse to start", "refused to start", "refuses to start"),
     lazy_re(r"(?i:refus(?:ing|es?|ed) to start)\b[^\n]{0,30}?(?:(?i:due to|because(?: of)?|with)\s+|:\s*|\s[-\u2013\u2014]+\s*)"
             r"(?i:(?:an?|the)\s+)?(?i:(?:insecure|default|weak|unset|empty|missing|placeholder|unsafe)\s+){1,2}"
             r"(?i:(?:default|value|of)\s+)?" + _Q + "(" + _UPPER_VAR + ")" + _Q + r"(?![\w-])"
             r"|(?i:refus(?:ing|es?|ed) to start)\b[^\n]{0,30}?(?:(?i:due to|because|as|since)\s+|:\s*|\s[-\u2013\u2014]+\s*)"
             + _Q + "(" + _UPPER_VAR + ")" + _Q + r"\s+(?i:is|was)\s+(?i:not set|unset|empty|missing|insecure|"
             r"the default|(?:still )?(?:at |set to )?(?:its |the )?(?:insecure |default )+(?:value|default))")),
    ("known", ("encryption key",), lazy_re(r"No application encryption key has been specified")),
    ("known", ("secret_key_base",), lazy_re(r"Missing `?secret_key_base`? for")),
    ("known", ("secret_key setting",), lazy_re(r"The SECRET_KEY setting must not be empty")),
    ("known", ("region",), lazy_re(r"NoRegionError|You must specify a region|Missing [Rr]egion in config|ConfigError: Missing region")),
    # Rust std::env::var: VarError::NotPresent displays as "environment variable not found" and names nothing.
    ("unnamed", ("environment variable", "notpresent"),
     lazy_re(r"(?i:\benvironment variable (?:is |was )?(?:not found|not set|not defined|undefined|missing))"
                r"(?!\s*[:=]\s*\S)|(?:Err`? value|\bErr\(|EnvVar\(|VarError::|: )NotPresent\b")),  # .unwrap()/.expect("msg") on VarError
    # Last, after the rules that name a wording: an error that shows a setting's value as its unexpanded
    # placeholder ("Invalid URL: ${DATABASE_URL}", "getaddrinfo ENOTFOUND ${DB_HOST}"): nothing substituted the variable,
    # so it was not set where the substitution looked. A placeholder with a default (${X:-y}) or in quoted source code
    # (a `template`) is not one. Found by _unexpanded, in linear time; the regex stands for it here.
    ("unexpanded", ("${",), lazy_re(r"\$\{")),
]
# The words of an error, and a bare ${NAME} placeholder (not $${X}, \${X} or part of a word).
_ERROR_WORD = lazy_re(r"(?i:error|exception|invalid|fail|unknown|cannot|could not|unable|not found|unresolv|malformed|"
                      r"enotfound|no such host)")
_PLACEHOLDER = lazy_re(r"(?<![\w$\\])\$\{(" + _UPPER + r")\}")


def _unexpanded(text: str) -> re.Match[str] | None:
    """The first placeholder after an error word, with no backtick after the word on its line (a quoted `template`
    is code, not a value). Each line is read a fixed number of times: after its last backtick, the first error word,
    then the first placeholder after it (what one regex with a lazy gap and a look-ahead to the line's end would
    find, but that regex retries the gap from every error word and the look-ahead from every placeholder)."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        tail = text.rfind("`", start, end) + 1 or start
        word = _ERROR_WORD.search(text, tail, end)
        found = _PLACEHOLDER.search(text, word.end(), end) if word else None
        if found:
            return found
        start = end + 1
    return None

_KNOWN = {
    "No application encryption key": "APP_KEY",
    "secret_key_base": "SECRET_KEY_BASE",
    "SECRET_KEY setting": "SECRET_KEY",
}
_NEEDLES: tuple[str, ...] = ("keyerror", "key not found", "environment", "env var", "env_var", "envvar", "env variable",
            "not set", "is required", "must be set", "missing", "is undefined", "unbound variable",
            "parameter not set", "parameter null", "resolve placeholder", "encryption key", "secret_key",
            "region", "required key", "is empty", "must be defined", "must be provided", "is unset",
            "validation error", "missingenvvars", "undefinedvalueerror", "could not expand value",
            "resolve substitution", "fetch environment variable", "fetch env", ERLANG_BYTES_NEEDLE)
# Every rule's guard is a needle too, so a line that a rule could match is always looked at.
_NEEDLES = tuple(dict.fromkeys((*_NEEDLES, *(g for _, guards, _ in _SIMPLE for g in guards))))
_CGI_NAMES = frozenset({"REMOTE_ADDR", "REMOTE_HOST", "REMOTE_USER", "SERVER_NAME", "SERVER_PORT", "REQUEST_METHOD",
                        "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH", "SCRIPT_NAME",
                        "SERVER_PROTOCOL", "REQUEST_URI"})
# Variables Kubernetes injects into every pod: on ECS their absence means the program is configured for
# Kubernetes (an in-cluster client, an EKS resource detector), not that the task definition lacks them.
_KUBERNETES_INJECTED = lazy_re(r"KUBERNETES_(?:SERVICE|PORT)\w*")


def _platform_set(facts: dict) -> bool:
    names = [facts["variable"]] if facts.get("variable") else list(facts.get("variables") or ())
    return bool(names) and all(_KUBERNETES_INJECTED.fullmatch(n) for n in names)


_BENIGN = lazy_re(r"default|fall(?:ing)? ?back|ignor|optional|skipp|disabl|not required|\boff\b|won't|will not|"
                     r"not be (?:used|sent|exported|enabled|available)", re.IGNORECASE)

_SETTINGS_HEAD = lazy_re(r"(\d+) validation errors? for (\w*(?:Settings|Config|Env|Environment|Conf)\w*)")
_PYDANTIC_FIELD = lazy_re(r"^\s*(" + _NAME + r")\s*$")
_ZOD_HEAD = lazy_re(r"(?:invalid|missing|required) environment variables?|MissingEnvVarsError", re.IGNORECASE)
_LISTED = lazy_re(r"\b(" + _UPPER + r")\b")


# Names whose values are secrets: credentials, and URLs that carry them (a data store's or broker's
# connection string, a webhook). A plain service address (API_URL, PUSHGATEWAY_URL) is not one.
_SENSITIVE = lazy_re(
    r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|DSN|CONNECTION_?STRING"
    r"|(?:DATABASE|DB|REDIS|MONGO(?:DB)?|AMQP|RABBITMQ|BROKER|POSTGRES(?:QL)?|PG|MYSQL|MARIADB|CACHE|QUEUE"
    r"|WEBHOOK|SQLALCHEMY_DATABASE|ELASTICSEARCH|OPENSEARCH|KAFKA|NATS|MQ)_UR[LI]$",
    re.IGNORECASE)

_READY = lazy_re(r"(?i)application startup complete|\blistening (?:on|at)\b|\brunning on https?://|\bstarted (?:server|"
                 r"application|\w+application)\b|server started|\bready to accept connections\b|\bStarted \w+ in \d")
_REQUEST = lazy_re(r"\"(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S* HTTP/[\d.]+\" 5\d\d\b|Exception in ASGI application|"
                   r"Error handling request|Exception on /\S+ \[(?:GET|POST|PUT|PATCH|DELETE)\]")


def _while_serving(ev: Evidence, anchor: int | None) -> bool:
    """The variable was read inside a request handler: the app said it was ready before the error, and a
    request (a 5xx answer, a request-handler exception) surrounds it. Then it does not fail at start-up."""
    if anchor is None:
        return False
    logs = ev.logs
    return (logs.search(_READY, max(0, anchor - 200), anchor) is not None
            and logs.search(_REQUEST, max(0, anchor - 40), anchor + 5) is not None)


def _went_on(ev: Evidence, anchor: int | None) -> bool:
    """The app said it was ready after complaining about the variable (its own lines, within 200): it started
    without it, so the complaint was a warning, not why it stopped."""
    if anchor is None:
        return False
    logs = ev.logs
    own = logs.containers[anchor]
    return logs.search(_READY, anchor + 1, min(len(logs), anchor + 200), keep=lambda c: c == own) is not None


class MissingEnvVarFacts(Facts):
    """The facts of missing-env-var."""

    variable: str | None = Field(None, description="The environment variable that is not set.")
    variables: list[str] | None = Field(None, description="Several variables that are not set.")
    absent_from_task_definition: list[str] | None = Field(None, description="Variables the task definition does not set.")
    in_task_definition: list[str] | None = Field(None, description="Variables the task definition sets (names only).")
    insecure_default: bool | None = Field(None, description="The app refused to start on the variable's unset or "
                                                          "insecure default value.")


_ENV_QUERY = "taskDefinition.containerDefinitions[].[name, environment[].name, secrets[].name]"


class MissingEnvVar(Pattern):
    id = "missing-env-var"
    explained_by = ("environment", "secrets", "environmentFiles")
    priority = 110
    severity = "critical"
    Facts = MissingEnvVarFacts
    key_facts = ("variable", "variables")
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        return next((m for m in self._matches(ev) if not _platform_set(m.facts) and not _went_on(ev, m.anchor)), None)

    def _matches(self, ev: Evidence) -> Iterator[Match]:
        logs = ev.logs
        for i in candidate_lines(ev, _NEEDLES):
            text = logs.texts[i]
            if logs.quiet(i):
                continue
            # An Elixir exception in the VM's crash term prints its message as bytes: the rules read it decoded.
            text = erlang_message(text) or text
            hit = self._settings_list(ev, i) if ("validation error" in text or _ZOD_HEAD.search(text)) else None
            if hit:
                yield hit
                continue
            low = text.lower()
            for kind, guards, regex in _SIMPLE:
                if not any(g in low for g in guards):
                    continue
                m = _unexpanded(text) if kind == "unexpanded" else regex.search(text)
                if not m:
                    continue
                if kind == "known":
                    var = next((v for k, v in _KNOWN.items() if k in text), "AWS_REGION")
                    yield self._match(ev, i, [var], 0.85)
                    continue
                if kind == "several":
                    if _BENIGN.search(text):
                        continue
                    yield self._match(ev, i, dedupe(re.findall(_UPPER_VAR, m.group(1))), 0.88)
                    continue
                if kind == "unnamed":
                    if _BENIGN.search(text):
                        continue
                    yield self._match(ev, i, [], 0.8)
                    continue
                var = m.group(1) if m.group(1) is not None else next(g for g in m.groups() if g)
                if kind == "keyerror" and not self._env_keyerror(ev, i, var):
                    continue
                if kind == "english" and _BENIGN.search(text.replace(var, "")):
                    continue  # "X is not set, using default" (the name itself may say DEFAULT)
                if kind == "shell" and var.islower() and len(var) <= 2:
                    continue
                hit = self._match(ev, i, [var], 0.93 if kind in ("keyerror", "go", "spring", "library") else 0.88)
                if kind == "refusal" and re.search(r"(?i)insecure|default|weak|placeholder|unsafe", m.group(0)):
                    hit.facts["insecure_default"] = True
                yield hit
                continue

    def _env_keyerror(self, ev: Evidence, i: int, var: str) -> bool:
        """Is this KeyError about the environment? Yes when the traceback reads `environ`/ENV; no when the
        code that raised subscripts some other mapping (request.META, a config dict, a DataFrame) or a
        library raised it; otherwise when the key is an UPPER_CASE name that is not a CGI/WSGI header."""
        start = ev.logs.block_start(i)
        lines = ev.logs.texts[max(start, i - 40) : i]
        low = "\n".join(lines).lower()
        if "environ" in low or "getenv" in low or "env.fetch" in low or "env[" in low:
            return True
        # (from the start of a run of name characters only, its first "[" that can be the key's: a search from every
        # character of a 16 KB run read the rest of it again, seconds; the same match)
        quoted = re.compile(r"(?<![\w.()\]\[])([\w.()\]\[]*?)\[\s*['\"]" + re.escape(var) + r"['\"]\s*\]")
        for line in reversed(lines):
            m = quoted.search(line)
            if m:
                return False  # `something['X']` where something is not the environment
        frames = [line for line in lines if line.lstrip().startswith('File "')]
        if frames and re.search(r"site-packages|dist-packages", frames[-1]) and "/os.py" not in frames[-1]:
            return False  # raised inside a library (pandas, a config loader ...)
        if var.startswith("HTTP_") or var in _CGI_NAMES:
            return False  # request headers in a WSGI environ / request.META
        return bool(re.fullmatch(_UPPER, var)) and len(var) > 2

    def _settings_list(self, ev: Evidence, i: int) -> Match | None:
        texts = ev.logs.texts
        head = _SETTINGS_HEAD.search(texts[i])
        names: list[str] = []
        if head:
            j = i + 1
            while j < len(texts) and j <= i + 4 * int(head.group(1)) + 2:
                field = _PYDANTIC_FIELD.match(texts[j])
                nxt = texts[j + 1].lower() if j + 1 < len(texts) else ""
                if field and ("field required" in nxt or "value_error.missing" in nxt or "type=missing" in nxt):
                    names.append(field.group(1))
                j += 1
        elif _ZOD_HEAD.search(texts[i]):
            for j in range(i, min(len(texts), i + 12)):
                if j > i and texts[j].strip() and not texts[j][:1].isspace() and not texts[j].lstrip().startswith(
                        ("{", "}", "-", "*", "[", "'", '"')) and not _LISTED.match(texts[j].strip()):
                    break
                names.extend(n for n in _LISTED.findall(texts[j]) if len(n) > 2 and n not in ("ERROR", "WARN", "INFO"))
        names = dedupe(names)
        if not names:
            return None
        return self._match(ev, i, names, 0.9)

    def _match(self, ev: Evidence, i: int, names: list[str], confidence: float) -> Match:
        container = container_for_line(ev, i)
        facts: dict = {"container": container}
        if len(names) == 1:
            facts["variable"] = names[0]
        elif names:
            facts["variables"] = names
        cdef = ev.container_definition(container)
        if cdef is not None and names:
            defined = cdef.env_names | cdef.secret_names
            absent = [n for n in names if n not in defined and n.upper() not in defined]
            facts["absent_from_task_definition"] = absent
            facts["in_task_definition"] = [n for n in names if n not in absent]
        end = ev.logs.block_end(i)
        proof = log_proof(ev, i, through=min(end, i + 6) if end > i else None)
        return Match(facts=facts, proofs=(proof,), confidence=confidence, stage=Stage.APP, anchor=i,
                     container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        names = [f["variable"]] if "variable" in f else list(f.get("variables", []))
        container = f.get("container") or "the container"
        shown = ", ".join(f"`{n}`" for n in names)
        image = remedy.image(ev, f.get("container")) or "<the image of the container>"
        sensitive = [n for n in names if _SENSITIVE.search(n)]
        plain = [n for n in names if n not in sensitive]
        if not names:
            return self._explain_unnamed(m, ev, container, image)
        steps: list[str] = []
        why = remedy.cite(m)
        present = f.get("in_task_definition") or []
        if present:
            steps.append(f"{', '.join(present)} IS in the task definition of {container}: its value is empty or is "
                         "not reaching the process (entrypoint script, `env -i`, wrong container). Check the value "
                         f"and the spelling: `{remedy.describe_task_definition(ev, _ENV_QUERY)}`.{why}")
        if plain:
            env = [{"name": n, "value": f"<the value of {n}>"} for n in plain]
            steps.append(f"Add to the `environment` of container `{container}` in the task definition: "
                         f"```{json.dumps(env)}```{why if not present else ''}")
        if sensitive:
            # A secret of our naming (<family>/<VAR>), created from the shell where the value is set, so the create
            # command, the valueFrom and the grant all name it: nothing to fill in.
            prefix = remedy.family(ev) or container
            names_ = {n: f"{prefix}/{n}" for n in sensitive}
            # In the task's region: the valueFrom ARN below names it.
            # A value the app refused as its insecure default is replaced by a new random one, not copied from a shell.
            fresh = bool(f.get("insecure_default"))
            create = "\n".join((f'{n}="$(openssl rand -base64 42)"\n' if fresh else "")
                                + f'aws secretsmanager create-secret --name {remedy.q(names_[n])} --secret-string "${n}"'
                                + remedy.region_flag(ev)
                                for n in sensitive if re.fullmatch(r"[A-Za-z_]\w*", n))
            secrets = [{"name": n, "valueFrom": remedy.secret_ref(ev, names_[n])} for n in sensitive]
            grant = remedy.statement(["secretsmanager:GetSecretValue"],
                                     [remedy.secret_arn(ev, names_[n]) for n in sensitive])
            one = len(sensitive) == 1
            store = (f"{container} refuses the insecure default value of {', '.join(sensitive)}: give it a strong "
                     "random one of its own (the command below generates it), stored in Secrets Manager (or use the "
                     f"secret that already holds {'it' if one else 'them'}); if the app reads the setting from a "
                     "variable of another name (often with the app's name as prefix), use that name as the secret's "
                     "`name` below" if fresh else
                     f"{', '.join(sensitive)} look{'s' if one else ''} sensitive: store {'it' if one else 'them'} "
                     "in Secrets Manager from a shell where "
                     f"{'it is' if one else 'they are'} set (or use the secret that already holds "
                     f"{'it' if one else 'them'})")
            steps.append(f"{store}: ```\n{create}\n``` then add {'it' if one else 'them'} as "
                         f"`secrets` of container `{container}`: ```{json.dumps(secrets)}``` and let the task "
                         f"execution role read {'it' if one else 'them'}: ```{json.dumps(grant)}```"
                         f"{why if not present and not plain else ''}")
        steps.append(f"Register the new task definition revision and roll it out: {remedy.roll_out(ev)}.")
        serving = _while_serving(ev, m.anchor)
        if not serving and not remedy.local_repro_blocked(ev, f.get('container')):
            steps.append("Reproduce and verify locally: with the variable"
                         f"{'s' if len(names) > 1 else ''} unset the image fails the same way, exported it starts: "
                         f"`{remedy.docker_run(ev, f.get('container'), env=names)}`.")
        many = len(names) > 1
        return Explanation(
            title=f"Missing environment variable{'s' if many else ''} {', '.join(names)}",
            summary=(f"{container} refused to start because {shown} is unset or still at its insecure default "
                     "value: the application will not run on a secret anyone can know." if f.get("insecure_default") else
                     f"{container} stopped because the environment variable{'s' if many else ''} {shown} "
                     f"{'are' if many else 'is'} not set. The application "
                     + (f"started, then read {'them' if many else 'it'} while handling requests and failed there."
                        if serving else f"reads {'them' if many else 'it'} at start-up and fails without "
                        f"{'them' if many else 'it'}.")),
            remediation=steps,
        )

    def _explain_unnamed(self, m: Match, ev: Evidence, container: str, image: str) -> Explanation:
        # "User env var should exist: NotPresent" (Rust `expect`), "PORT env variable missing": the message names
        # the variable in words; the process reads it under that name or its upper-case form.
        said = next((h.group(1) for p in m.proofs if (h := _SAID.search(p.text))
                     and h.group(1).lower() not in _NOT_A_NAME), None)
        if said:
            var = said if said.isupper() else said.upper()
            named = dataclasses.replace(m, facts={**m.facts, "variable": var})
            out = self.explain(named, ev)
            note = (f"The error names the variable as `{said}`: the code most likely reads `{var}` (names are "
                    "case-sensitive: check the exact spelling where it is read). " if said != var else "")
            return dataclasses.replace(out, remediation=[note + out.remediation[0], *out.remediation[1:]]) if note else out
        cdef = ev.container_definition(m.facts.get("container"))
        defined = sorted(cdef.env_names | cdef.secret_names) if cdef is not None else []
        have = (f"The task definition gives {container} these variables: {', '.join(defined)}. Compare them"
                if defined else f"List the variables the task definition gives {container} "
                f"(`{remedy.describe_task_definition(ev, _ENV_QUERY)}`) and compare them")
        where = None
        if m.anchor is not None:
            near = ev.logs.texts[max(0, m.anchor - 3) : m.anchor + 3]
            where = next((w.group(1) for t in near if (w := re.search(r"panicked at '?([\w./-]+:\d+)", t))), None)
        first = (f"{have} with the variables the application reads at start-up (its config module, README or "
                 "`.env.example`) and find the one that is absent.")
        if where:
            first += f" The code that read it is at `{where}`."
        first += remedy.cite(m)
        return Explanation(
            title="Missing environment variable (the log does not name it)",
            summary=(f"{container} stopped because it reads an environment variable at start-up that is not set; "
                     "the error does not say which one."),
            remediation=[
                first,
                "Find the name locally: run the image with the same environment and a debugger or more logging "
                f"(Rust: `RUST_BACKTRACE=1`; the frame that panicked reads the variable): "
                f"`{remedy.docker_run(ev, m.facts.get('container'), env=['RUST_BACKTRACE=1'])}`.",
                f"Add it to the `environment` (or, if sensitive, `secrets`) of container `{container}`, register "
                f"the new task definition revision and roll it out: {remedy.roll_out(ev)}.",
            ],
        )


PATTERN = MissingEnvVar()
