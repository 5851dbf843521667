"""What every pattern module is built from: the Match it returns and small shared helpers.

A pattern is a pure function of the Evidence. It returns a `Match` (facts, proofs, confidence,
and where the signal came from) or None, and it explains a match in plain words. The engine picks
one match as the root cause; patterns never look at each other's results.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.attribution import speaker
from shared.evidence.model import NEEDS, Evidence, Need
from shared.scan import lazy_re, may_hold, run_regex

Severity = Literal["critical", "warning", "info"]
# What a finding of the pattern means for the people it reaches: a failure to fix, a stop that was
# meant to happen (not posted by default, never a deploy's root cause), or no cause determined.
Verdict = Literal["failure", "expected", "undetermined"]


class Stage(IntEnum):
    """Where a signal came from; decides how the engine weighs it."""

    BENIGN = 0  # the stop looks intended (exit 0, scale-in, spot, user stop)
    SYMPTOM = 1  # ECS saw a symptom (health checks failed); logs may name the cause
    APP = 2  # the application's own output names a cause
    PLATFORM = 3  # ECS/agent reported a definite failure (pull, secrets, OOM kill, ENI ...)


@dataclass(frozen=True, slots=True)
class Proof:
    source: str
    text: str


@dataclass(frozen=True)
class Match:
    facts: dict[str, Any]
    proofs: tuple[Proof, ...]
    confidence: float
    stage: Stage
    anchor: int | None = None  # index of the deciding log line, for APP matches
    container: str | None = None
    strong: bool = False  # BENIGN only: the stop was initiated from outside (scale-in, spot, user)
    notes: tuple[str, ...] = ()
    # The ids this match explains, when narrower than the pattern's `outranks` (None: all of them).
    outranks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Explanation:
    title: str
    summary: str
    remediation: list[str] = field(default_factory=list)


class Facts(BaseModel):
    """The facts of a match: each pattern declares its own subclass (typed, documented, published in the
    Finding schema). Unknown keys are kept, so a fact added later is not an error for older readers.

    Each model's validator is built on its first use (`defer_build`), not when its pattern module is
    imported: a diagnosis validates the facts of the one pattern that won, so a cold start builds one
    of the twenty-odd models instead of all of them (about 15 ms of CPU on Python 3.12)."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    container: str | None = Field(None, description="The container the cause was found in (the culprit).")


class Pattern:
    """Base of every pattern; subclasses set the class attributes and implement match/explain.

    A pattern declares everything the pipeline needs to know about it, so that no list keyed on pattern
    ids exists outside its own file (tests/unit/test_registry.py checks every declaration):
    - `needs`: the second-phase evidence it may ask for (`wants` narrows it from a match's facts);
    - `outranks`: the pattern ids whose matches it explains (root cause over symptom, most specific wins);
      a match may narrow this with `Match.outranks`;
    - `key_facts`: the facts that tell one root cause of this pattern from another; with the account,
      Region, cluster and service they are the finding's identity (fingerprint, deploy grouping);
    - `Facts`: the model of its facts;
    - `verdict`, `generic`, `fallback`: how the engine and the notifiers treat its findings.
    """

    id: ClassVar[str]
    priority: ClassVar[int]  # unique; higher = more specific, wins among comparable matches
    severity: ClassVar[Severity] = "critical"
    needles: ClassVar[tuple[str, ...]] = ()  # lower-case substrings of the log lines it looks at
    needs: ClassVar[frozenset[Need]] = frozenset()
    outranks: ClassVar[tuple[str, ...]] = ()
    key_facts: ClassVar[tuple[str, ...]] = ()
    Facts: ClassVar[type[Facts]] = Facts
    verdict: ClassVar[Verdict] = "failure"
    generic: ClassVar[bool] = False  # a catch-all: when it wins weakly, quieter log lines get a second look
    fallback: ClassVar[bool] = False  # chosen when nothing matched (exactly one pattern)
    # Change fields (shared/changes.py) that, changed in the failing deploy, explain this cause.
    explained_by: ClassVar[tuple[str, ...]] = ()

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The second-phase reads this match asks for (a subset of `needs`)."""
        return self.needs

    def match(self, ev: Evidence) -> Match | None:  # pragma: no cover - interface
        raise NotImplementedError

    def explain(self, m: Match, ev: Evidence) -> Explanation:  # pragma: no cover - interface
        raise NotImplementedError


__all__ = ["NEEDS", "Cause", "Explanation", "Facts", "Match", "Need", "Pattern", "Proof", "ReasonPattern", "Severity",
           "Stage", "Verdict", "classify"]


# -------------------------------------------------------------------------------------------------
# Shared helpers (pure)
# -------------------------------------------------------------------------------------------------
def log_proof(ev: Evidence, i: int, *, through: int | None = None) -> Proof:
    """A proof naming the container and 1-based line number of log line i (optionally a range)."""
    container = ev.logs.containers[i] or ev.primary or "?"
    text = ev.logs.texts[i].strip()
    if through is not None and through > i:
        text = " | ".join(t.strip() for t in ev.logs.texts[i : through + 1] if t.strip())
    return Proof(f"logs[{container}]:{i + 1}", clip(text))


def reason_proof(source: str, text: str) -> Proof:
    return Proof(source, clip(text))


def clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# An Erlang/Elixir crash term ("init terminating in do_boot", a crash report): an Elixir exception is a map whose
# message is a binary, which the VM prints as its bytes when it does not print it as text:
# `#{'__exception__'=>true,'__struct__'=>'Elixir.RuntimeError',message=><<101,110,...>>}`.
ERLANG_BYTES_NEEDLE = "__exception__"  # in every Elixir exception term, however the VM spaces it
_ERLANG_BYTES = lazy_re(r"\bmessage\s*=>\s*<<(\d{1,3}(?:,\d{1,3})*)>>")
_ERLANG_STRUCT = lazy_re(r"'__struct__'\s*=>\s*'Elixir\.([\w.]+)'")


def erlang_message(text: str) -> str | None:
    """The message of an Elixir exception a line prints as an Erlang term with its message as a byte list,
    decoded (the bytes of printable UTF-8 text), or None. Only the reading changes: the line stays as printed."""
    if "<<" not in text:
        return None
    m = _ERLANG_BYTES.search(text)
    if m is None:
        return None
    values = [int(v) for v in m.group(1).split(",")]
    if any(v > 255 for v in values):
        return None
    try:
        decoded = bytes(values).decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoded = decoded.strip()
    if not decoded or not all(ch.isprintable() or ch in "\n\t" for ch in decoded):
        return None  # binary data (a hash, a packed record), not a message
    return decoded


def erlang_exception(text: str) -> str | None:
    """`Module: message` of the Elixir exception of `erlang_message`, on one line, or None."""
    message = erlang_message(text)
    if message is None:
        return None
    struct = _ERLANG_STRUCT.search(text)
    flat = " ".join(message.split())
    return f"{struct.group(1)}: {flat}" if struct else flat


# A value a reporter replaced in an ARN or message: <account id>, {REGION}, [ACCOUNT-ID]
PLACEHOLDER = r"<[^<>:\n]*>|\{[^{}:\n]*\}|\[[^\[\]:\n]*\]"

# The ECS agent could not reach the container runtime (Docker daemon down, named pipe refused on Windows).
DAEMON_UNREACHABLE = lazy_re(r"Cannot connect to the Docker daemon|Is the docker daemon running|"
                                r"docker client must be run with elevated privileges|error during connect:",
                                re.IGNORECASE)


# The container runtime failed inside itself, whatever the image: Fargate/containerd device-node and
# shim failures ("error creating device nodes: mknod ...: errno 524", "ttrpc: closed").
RUNTIME_INTERNAL = lazy_re(r"error creating device nodes|\berrno 524\b|ttrpc: closed|"
                              r"failed to create shim task: context deadline exceeded", re.IGNORECASE)


def candidate_lines(ev: Evidence, needles: Sequence[str]) -> Iterator[int]:
    """Log lines containing a needle: the failing container's (and unlabelled) lines first, newest
    first, then other containers' lines, newest first."""
    hits = ev.logs.lines_with(*needles)
    if not hits:
        return
    preferred = set(ev.failing) | {None}
    if len(ev.detail.containers) <= 1:
        yield from reversed(hits)
        return
    containers = ev.logs.containers
    sidecars = ev.attribution.sidecars
    later = []
    for i in reversed(hits):
        if containers[i] in preferred and not (sidecars and sidecar_line(ev, i)):
            yield i
        else:
            later.append(i)
    yield from later


def sidecar_line(ev: Evidence, i: int) -> str | None:
    """The task's sidecar whose own wording line i is (attribution.speaker), or the continuation of such a line (the
    X-Ray daemon's indented second line), when no known container's stream carries it (an unlabelled paste, a label
    naming no container of the task); None otherwise. A line in a container's own stream is that container's: an
    application may print the same wording (a Telegraf app's 'E! [outputs.influxdb]' is the CloudWatch agent's form)."""
    sidecars = ev.attribution.sidecars
    if not sidecars:
        return None
    logs = ev.logs
    label = logs.containers[i]
    if label is not None and any(c.name == label for c in ev.detail.containers):
        return None
    agent = speaker(logs.texts[i], sidecars)
    if agent is None and logs.texts[i][:1] in (" ", "\t") and (start := logs.block_start(i)) < i:
        agent = speaker(logs.texts[start], sidecars)
    return agent


def find_in_logs(
    ev: Evidence,
    needles: Sequence[str],
    regex: re.Pattern[str],
    *,
    allow_quiet: bool = False,
) -> tuple[int, re.Match[str]] | None:
    """The preferred log line (see candidate_lines) where `regex` matches, skipping lines logged at
    an explicit debug/info/warn level unless allow_quiet."""
    for i in candidate_lines(ev, needles):
        m = regex.search(ev.logs.texts[i])
        if m and (allow_quiet or not ev.logs.quiet(i)):
            return i, m
    return None


def find_in_reasons(ev: Evidence, regex: re.Pattern[str]) -> tuple[str, str, re.Match[str]] | None:
    for source, text in ev.reasons:
        m = search_cached(regex, text)
        if m:
            return source, text, m
    return None


_SEARCHES: dict[tuple[int, str], re.Match[str] | None] = {}


def search_cached(regex: re.Pattern[str], text: str) -> re.Match[str] | None:
    """regex.search(text), remembered: stop reasons repeat across tasks ("Essential container in
    task exited", one service's health-check reason), and every pattern searches them."""
    if len(text) > 2000:
        return regex.search(text)
    key = (id(regex), text)
    try:
        return _SEARCHES[key]
    except KeyError:
        pass
    if len(_SEARCHES) >= 8192:
        _SEARCHES.clear()
    m = _SEARCHES[key] = regex.search(text)
    return m


def never_started(ev: Evidence) -> bool:
    """The task failed before any container ran (its "logs" are agent lines or service events)."""
    d = ev.detail
    return (ev.stop_code == "TaskFailedToStart" or "failed to start" in ev.stopped_reason.lower()
            or (d.started_at is None and all(c.exit_code is None for c in d.containers)))


def find_at_start(ev: Evidence, regex: re.Pattern[str],
                  needles: Sequence[str]) -> tuple[str, str, re.Match[str]] | None:
    """(source, text, match) from the stop reasons, else, for a task that never started, from its
    log lines (agent log lines and service events people paste)."""
    hit = find_in_reasons(ev, regex)
    if hit or not never_started(ev):
        return hit
    found = find_in_logs(ev, needles, regex, allow_quiet=True)
    if not found:
        return None
    i, m = found
    return log_proof(ev, i).source, ev.logs.texts[i], m


def container_for_line(ev: Evidence, i: int) -> str | None:
    """The container whose words line i is: its stream's, or, for a record a log router printed (its stdout
    output or a FireLens record), the container the record names, or, for a task's sidecar's own wording in another
    stream that names no container of the task (unlabelled lines), that sidecar."""
    container = ev.logs.containers[i] or ev.primary
    if container and ev.attribution.sidecars.get(container) == "log-router":
        return _routed_from(ev, i, container) or container
    if ev.attribution.sidecars and (agent := sidecar_line(ev, i)):
        return agent  # a known agent's own wording in an unlabelled line: the agent's line
    return container


# A record a log router forwards, printed by it: Fluent Bit's stdout output `[0] <tag>: [<time>, {"log"=>...}]`
# (the FireLens tag is `<container>-firelens-<task id>`), or a record's `"container_name": "/ecs-<family>-<rev>-<name>-..."`.
_ROUTED_TAG = lazy_re(r"^\s*\[\d+\]\s+([\w./-]+):\s+\[\d[\d.]*,\s*\{")
_ROUTED_NAME = lazy_re(r"[\"']?container_name[\"']?\s*(?:=>|:)\s*[\"']/?([\w./-]+)[\"']")


def _routed_from(ev: Evidence, i: int, router: str) -> str | None:
    """The other container of the task a routed record at line i names (as a whole word of its tag or container
    name, the longest name when several fit)."""
    text = ev.logs.texts[i]
    labels = [m.group(1) for m in (_ROUTED_TAG.search(text), _ROUTED_NAME.search(text)) if m]
    if not labels:
        return None
    names = sorted((c.name for c in ev.detail.containers if c.name and c.name != router), key=len, reverse=True)
    for label in labels:
        for name in names:
            if re.search(rf"(?:^|[./_-]){re.escape(name)}(?:$|[./_-])", label):
                return name
    return None


def container_for_reason(ev: Evidence, source: str) -> str | None:
    if source.startswith("containers["):
        return source[len("containers[") : source.index("]")]
    return ev.primary


def exit_code(ev: Evidence, container: str | None) -> int | None:
    c = ev.container(container)
    return c.exit_code if c else None


def strip_quotes(value: str) -> str:
    return value.strip().strip("'\"`‘’“”").strip()


# A report that the process was killed by a signal, by the shell or a supervisor that ran it ("Killed",
# "Proc: Killed", "/entrypoint.sh: line 9:  7 Killed  python run.py"): its own last words were not an error, something
# killed it (the kernel OOM killer, most often, which such a line does not prove), so it names no exception to fix.
KILL_REPORT = lazy_re(r"^\s*(?:[\w./\[\]-]+:\s*)*(?:line \d+:\s*)?(?:\d+\s+)?Killed(?:\s+\S.*)?$")

# --- endpoints --------------------------------------------------------------------------------
DB_PORTS = {
    5432: "postgres", 3306: "mysql", 1433: "mssql", 1521: "oracle", 27017: "mongodb",
    6379: "redis", 6380: "redis", 11211: "memcached", 9042: "cassandra", 5433: "postgres",
    26257: "cockroachdb", 7687: "neo4j", 8529: "arangodb", 9200: "elasticsearch", 8086: "influxdb",
    5984: "couchdb", 28015: "rethinkdb", 3307: "mysql",
    # The application's other data stores and brokers count as its database (the taxonomy's rule: the port, the
    # endpoint or the client names one): Kafka, RabbitMQ/AMQP.
    9092: "kafka", 5672: "rabbitmq", 5671: "rabbitmq",
}
_ENGINE_WORDS = (
    ("postgres", "postgres"), ("psycopg", "postgres"), ("psql", "postgres"), ("pgx", "postgres"),
    ("npgsql", "postgres"), ("pg-pool", "postgres"), ("node-postgres", "postgres"), ("pq:", "postgres"),
    ("libpq", "postgres"), ("postmaster", "postgres"), ("asyncpg", "postgres"), ("pg_hba", "postgres"),
    ("pg::", "postgres"), ("postgresql_adapter", "postgres"), ("ecto.adapters.postgres", "postgres"),
    ("client_pg", "postgres"), ("pg_database", "postgres"), ("clickhouse", "clickhouse"), ("ch.connection", "clickhouse"),
    ("mariadb", "mysql"), ("mysql", "mysql"), ("pymysql", "mysql"), ("mysqli", "mysql"),
    ("sqlserver", "mssql"), ("sql server", "mssql"), ("mssql", "mssql"), ("tedious", "mssql"),
    ("pyodbc", "mssql"), ("oracle", "oracle"), ("ora-", "oracle"),  # ora-: an ORA-nnnnn code (see _word_in)
    ("mongo", "mongodb"), ("docdb", "mongodb"),
    ("redis", "redis"), ("ioredis", "redis"), ("elasticache", "redis"), ("valkey", "redis"),
    ("memcache", "memcached"), ("cassandra", "cassandra"), ("keyspaces", "cassandra"),
    ("elasticsearch", "elasticsearch"), ("opensearch", "elasticsearch"), ("neo4j", "neo4j"),
    ("cockroach", "cockroachdb"), ("aurora", "mysql"),
    ("kafka", "kafka"), ("rabbitmq", "rabbitmq"), ("amqp", "rabbitmq"),
)
_SCHEMES = {
    "postgres": "postgres", "postgresql": "postgres", "postgresql+psycopg2": "postgres",
    "postgresql+asyncpg": "postgres", "mysql": "mysql", "mysql+pymysql": "mysql", "mariadb": "mysql",
    "mongodb": "mongodb", "mongodb+srv": "mongodb", "redis": "redis", "rediss": "redis",
    "sqlserver": "mssql", "mssql": "mssql", "jdbc:postgresql": "postgres", "jdbc:mysql": "mysql",
    "jdbc:sqlserver": "mssql", "jdbc:oracle": "oracle", "jdbc:mariadb": "mysql", "amqp": "rabbitmq", "amqps": "rabbitmq",
}
DB_HOST_HINTS = (".rds.amazonaws.com", ".docdb.amazonaws.com", ".cache.amazonaws.com",
                 ".redshift.amazonaws.com", ".neptune.amazonaws.com", ".es.amazonaws.com",
                 ".aoss.amazonaws.com", ".memorydb.amazonaws.com")
DB_DRIVER_WORDS = (
    "psycopg", "sqlalchemy", "django.db", "sequelize", "typeorm", "prisma", "knex", "hikari",
    "jdbc", "gorm", "pgx", "pg-pool", "mongoose", "mongoclient", "mongonetwork", "mongoserver",
    "pymongo", "mysql", "redis", "postgres", "database", "activerecord", "ecto", "db connection",
    "operationalerror", "psqlexception", "npgsql", "sqlstate", "asyncpg", "ioredis", "lettuce",
    "jedis", "r2dbc", "datasource", "pg_connect", "dbal", "doctrine", "flyway", "liquibase", "mikro-orm",
    "connectionnotestablished", "connectionbad", "pg::", "dbconnection", "ecto.", "entityframework", "hibernate",
    "clickhouse", "ch.connection", "knex", "agroal",
    # Clients of the other data stores and brokers an application depends on: Elasticsearch/OpenSearch, Kafka
    # (kafkajs, librdkafka, the Java client, sarama, kafka-python), RabbitMQ (amqplib, pika), Memcached, Cassandra.
    "elasticsearch", "opensearch", "kafkajs", "rdkafka", "org.apache.kafka", "sarama", "confluent_kafka",
    "kafka.errors", "amqplib", "rabbitmq", "pika.exceptions", "memcache", "cassandra", "datastax",
)

_SCHEME_RE = lazy_re(r"\b((?:jdbc:)?[a-z][a-z0-9+]*)://", re.IGNORECASE)


def engine_of(text: str, host: str | None = None, port: int | None = None) -> str | None:
    """Normalise the database engine from a driver name, URL scheme or well-known port."""
    low = text.lower()
    for m in _SCHEME_RE.finditer(low):
        engine = _SCHEMES.get(m.group(1))
        if engine:
            return engine
    if port in DB_PORTS and port not in (9200,):
        return DB_PORTS[port]
    for word, engine in _ENGINE_WORDS:
        if _word_in(word, low):
            return engine
    if host:
        h = host.lower()
        for word, engine in _ENGINE_WORDS:
            if _word_in(word, h):
                return engine
    if port in DB_PORTS:
        return DB_PORTS[port]
    return None


_ORA_CODE = lazy_re(r"(?<![a-z0-9])ora-\d{5}\b")


def _word_in(word: str, low: str) -> bool:
    """`word` in the lower-cased text; "ora-" only as Oracle's error code (ORA-12541), not inside a name such as
    aurora-cluster."""
    if word == "ora-":
        return "ora-" in low and _ORA_CODE.search(low) is not None
    return word in low


# The AWS database services reached over HTTPS (OpenSearch, OpenSearch Serverless): their endpoint on 443 is the
# database. Every other one listens on its engine's port; on 80 or 443 its host name answers an HTTP call.
_HTTPS_DB_HINTS = (".es.amazonaws.com", ".aoss.amazonaws.com")
WEB_PORTS = frozenset({80, 443})


def database_endpoint(host: str | None, port: int | None) -> bool:
    """An AWS database endpoint (RDS, DocumentDB, ElastiCache ...) reached as a database: not on a web port, where
    the connection was an HTTP(S) call (an SDK or API client given the database's address as its endpoint)."""
    if not host:
        return False
    low = host.lower()
    if not any(h in low for h in DB_HOST_HINTS):
        return False
    return port not in WEB_PORTS or any(h in low for h in _HTTPS_DB_HINTS)


# Bare engine words that also name topics, middleware, services and alerts ("kafka lag", "memcache-session"): on a
# web port they do not make an HTTP call a database connection; a client's own token does.
_ENGINE_ONLY_WORDS = frozenset({"mysql", "redis", "postgres", "database", "elasticsearch", "opensearch", "rabbitmq",
                                "memcache", "cassandra", "clickhouse", "db connection", "datasource"})
_WEB_PORT_CLIENTS = (*(w for w in DB_DRIVER_WORDS if w not in _ENGINE_ONLY_WORDS),
                     "elasticsearch.", "elastic_transport", "opensearchpy", "@elastic/", "@opensearch-project",
                     "librdkafka", "aiokafka")
# The same tokens as words: each must start a word ("ecto" is not the one in "connector", "collector", "vector";
# "pgx" and "hikari" not inside a longer word), while a longer name may follow (HikariPool, pgxpool, psycopg2).
_WEB_PORT_CLIENT_RE = lazy_re(r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in sorted(_WEB_PORT_CLIENTS, key=len,
                                                                                             reverse=True)) + ")")


# An application's own words for a call to its database: "failed to ping DB", "connecting to the primary
# database", "could not open db" (the abbreviation alone is too short a word to look for anywhere in a line).
DB_CALL = lazy_re(r"\b(?:ping(?:ing)?|connect(?:ing)?(?: to)?|open(?:ing)?|reach(?:ing)?)\s+(?:the\s+)?"
                  r"(?:(?:sql|master|primary|main|app)\s+)?(?:db|database)\b", re.IGNORECASE)


def looks_like_database(text: str, host: str | None, port: int | None, line: str | None = None) -> bool:
    """Is this connection failure about a database (as opposed to any other outbound host)? With the failing
    `line`, a host on a web port (80/443) that is no database endpoint counts only when that line names a
    client or driver (kafkajs, amqplib ...) or a database URL: an engine word elsewhere in the context is not
    what was called."""
    if port in DB_PORTS and port != 9200:
        return True
    if database_endpoint(host, port):
        return True
    if line is not None and host and port in WEB_PORTS:
        low = line.lower()
        if _WEB_PORT_CLIENT_RE.search(low):
            return True
        return any(m.group(1) in _SCHEMES for m in _SCHEME_RE.finditer(low))
    low = text.lower()
    if any(word in low for word in DB_DRIVER_WORDS) or DB_CALL.search(low):
        return True
    return bool(_SCHEME_RE.search(low) and engine_of(low))


# A host is a run of name characters from its first letter or digit: searched from the runs' starts only (from each
# start of a 16 KB "a.a.a..." line the search read the rest again: seconds), the same matches (`run_regex`).
_HOST_AT = (r"(?P<host>\[[0-9a-f:]+\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]*+(?<=[A-Za-z0-9]))?):(?P<port>\d{2,5})\b")
_HOSTPORT = run_regex(
    r"(?P<host>\[[0-9a-f:]+\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?):(?P<port>\d{2,5})\b",
    r"(?:(?<![A-Za-z0-9_.-])[_.-]*+(?=[A-Za-z0-9])|(?=\[))" + _HOST_AT, r"[_.-]*+" + _HOST_AT, r"A-Za-z0-9_.-",
)


def host_port(text: str) -> tuple[str | None, int | None]:
    """The first host:port pair in the text (ignores times like 10:00:31 and URL schemes)."""
    for m in _HOSTPORT.finditer(text):
        host = m.group("host")
        if host.isdigit() or (len(host) < 2 and not host.isalpha()):
            continue
        end = m.end()
        if end < len(text) and text[end] == ":" and text[end + 1 : end + 2].isdigit():
            continue  # a time or IPv6 fragment
        try:
            port = int(m.group("port"))
        except ValueError:
            continue
        if 0 < port < 65536:
            return host.strip("[]"), port
    return None, None


def dedupe(items: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def fmt_container(name: str | None) -> str:
    return f"`{name}`" if name else "the failing container"


# -------------------------------------------------------------------------------------------------
# Stop-reason patterns as data: a signal, an ordered cause table, an extractor per row
# -------------------------------------------------------------------------------------------------
Extract = Callable[[str, "re.Match[str]", Evidence], Mapping[str, Any]]


@dataclass(frozen=True)
class Cause:
    """One row of a cause table: the first row whose regex finds the reason text names the sub-cause
    (`name`, the `cause` fact; None adds no cause), and its `extract` adds the row's facts."""

    name: str | None
    regex: re.Pattern[str]
    extract: Extract | None = None


def words(*needles: str) -> re.Pattern[str]:
    """A row's regex for "any of these words, in any case"."""
    return lazy_re("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def classify(text: str, table: Sequence[Cause], ev: Evidence) -> dict[str, Any]:
    """The facts the first matching row of `table` gives for `text` ({} when no row matches)."""
    low = text.lower() if text.isascii() else None
    for row in table:
        if not may_hold(row.regex, low):
            continue  # a row it cannot match (some rows' lookaheads try every position of a long text)
        m = row.regex.search(text)
        if m:
            facts: dict[str, Any] = {"cause": row.name} if row.name else {}
            if row.extract is not None:
                facts.update(row.extract(text, m, ev))
            return facts
    return {}


class ReasonPattern(Pattern):
    """A pattern read from the stop reasons (and, for a task that never started, from the agent lines or
    service events a person pasted): `signal` finds the reason, `facts` extracts what every row shares,
    `causes` (ordered, most specific first) names the sub-cause. A new wording is a row, not a branch.

    `find` says where the signal is read (the reasons, then a never-started task's pasted lines); with
    `container_fact` the culprit container is a fact too (the first, before the cause)."""

    signal: ClassVar[re.Pattern[str]]
    causes: ClassVar[tuple[Cause, ...]] = ()
    confidence: ClassVar[float] = 0.95
    container_fact: ClassVar[bool] = False

    def facts(self, text: str, m: re.Match[str], ev: Evidence) -> dict[str, Any]:
        return {}

    def find(self, ev: Evidence) -> tuple[str, str, re.Match[str]] | None:
        return find_at_start(ev, self.signal, self.needles)

    def match(self, ev: Evidence) -> Match | None:
        hit = self.find(ev)
        if not hit:
            return None
        source, text, m = hit
        container = container_for_reason(ev, source)
        first = {"container": container, "cause": None} if self.container_fact else {}
        facts = {**first, **self.facts(text, m, ev), **classify(text, self.causes, ev)}
        return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=(reason_proof(source, text),),
                     confidence=self.confidence, stage=Stage.PLATFORM, container=container)
