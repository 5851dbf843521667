"""database-connection-failed: the application cannot reach or log in to its database.

Signals: psycopg2/libpq "could not connect to server" / "connection to server at ... failed";
ECONNREFUSED/ETIMEDOUT to a database port; MySQL "Can't connect to MySQL server" / "Access denied
for user"; "password authentication failed"; JDBC "Communications link failure" /
PSQLException; Mongo ServerSelectionTimeout / MongoNetworkError; Redis "Error 111 connecting";
Prisma P1001/P1000; a timeout to *.rds.amazonaws.com. A connection failure is about a database
when the port is a database port, the host is an AWS database endpoint (not on 80/443, where
it answered an HTTP call: network-egress-blocked; OpenSearch excepted), or a database driver
is in the entry; with no engine, host or port named, when the error is a database-only client's
connection error (java.sql SQLTransientConnectionException, Spring "Failed to obtain JDBC
Connection", HikariCP, Agroal, Sequelize*ConnectionError); such an error is a failed connection even when it names
no cause (refused, timeout ...), an embedded file database's (H2, Derby) too: the first step is then which database
the app is configured to use. The application's other data stores and brokers count as its
database by the same rule (Elasticsearch/OpenSearch, Kafka, RabbitMQ, Memcached, Cassandra: their port, or their
client, such as kafkajs or amqplib, in the entry). A failing container's log that ends in a traceback with no
exception line (cut) whose innermost frame is a database client opening a connection (a driver's connect, an ORM
backend's connection, not a pool waiting for a free one) is this too, with no cause.
Facts: host, port, engine, cause (refused / timeout / auth / dns), user.
Most specific: beats app-crash; an ETIMEDOUT to port 5432 is this, not network-egress-blocked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns import connection
from shared.patterns.base import (
    DB_CALL,
    Explanation,
    Facts,
    Match,
    Need,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    database_endpoint,
    engine_of,
    exit_code,
    log_proof,
    looks_like_database,
)
from shared.scan import lazy_re, run_regex

# Messages only one engine's server or client writes: they name the engine without a driver word,
# URL or port ("ERROR 1045 (28000): Access denied for user 'app'@'10.0.1.23'" is the mysql client).
_WORDING = (
    # PHP's PDO puts the MySQL client's or server's own error number after SQLSTATE[HY000] (Laravel, Doctrine,
    # Symfony): "SQLSTATE[HY000] [2002] Connection refused", "[2005] Unknown MySQL server host", "[1045] Access
    # denied". Only pdo_mysql answers HY000 with a bracketed 1xxx/2xxx number (pdo_pgsql's failures are class 08).
    (lazy_re(r"Access denied for user '[^']*'@|\(using password: (?:YES|NO)\)|\bERROR (?:1045|2003|2005) \("
             r"|\bSQLSTATE\[HY000\] \[(?:1044|1045|1049|1130|2002|2003|2005|2006|2013)\]"
             r"|Can't connect to local (?:(?:MySQL|MariaDB) )?server through socket"
             r"|is not allowed to connect to this (?:MySQL|MariaDB) server", re.I),
     "mysql"),
    (lazy_re(r"SqlException|SqlClient|SQL Server|Login failed for user '", re.I), "mssql"),
    (lazy_re(r"\bORA-\d{5}\b|TNS:", re.I), "oracle"),
    (lazy_re(r"password authentication failed for user|no pg_hba\.conf entry|FATAL:\s+role \"[^\"]+\" does not exist"
             r"|the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections)"
             r"|connection to server on socket \"[^\"\n]*\.s\.PGSQL\.\d+\" failed"),
     "postgres"),
    # Redis replies: "WRONGPASS invalid username-password pair", "NOAUTH Authentication required."
    (lazy_re(r"\bWRONGPASS\b|\bNOAUTH Authentication required|invalid username-password pair"), "redis"),
    (lazy_re(r"\bbad auth\s*:\s*Authentication failed", re.I), "mongodb"),  # MongoDB Atlas
)
# A host whose first label names a database ("db", "postgres-primary", "orders-db", "mysql1").
_DB_NAMED = lazy_re(r"^(?:[\w-]*[-_])?(?:db|database|postgres(?:ql)?|pg|mysql|mariadb|mongo(?:db)?|redis|memcached)"
                       r"(?:[-_\d][\w-]*)?$", re.IGNORECASE)
# Wordings that say the failed connection was to a database even when no engine, host or port is
# named: Flyway/Liquibase "Unable to obtain connection from database", and SQLSTATE class 08
# (connection exception: 08001 the client could not establish the connection, 08006 it failed).
# The connection-error types of clients that only ever connect to a database say so too: java.sql's
# SQL(Non)TransientConnectionException, Spring's "Failed to obtain JDBC Connection" (CannotGetJdbcConnectionException),
# a HikariCP pool that could not start or lend a connection, Connector/J's "Communications link failure", Sequelize's
# Sequelize*ConnectionError family (ConnectionRefused, ConnectionTimedOut, HostNotFound, AccessDenied ...), and
# SQLAlchemy's OperationalError. A client's other errors (a Sequelize validation error, a Hikari start-up line) do not.
_TO_A_DATABASE = lazy_re(r"Unable to (?:obtain|get|acquire) (?:a )?(?:JDBC )?connection from (?:the )?database"
                            r"|\bSQL ?State\s*(?:\[|:\s*)08\d{3}\b"
                            r"|\bSQL(?:Non)?TransientConnectionException\b|CannotGetJdbcConnectionException"
                            r"|(?:Failed to obtain|Could not (?:get|open)) JDBC Connection"
                            r"|HikariPool-\d+ - (?:Exception during pool initialization|Connection is not available)"
                            r"|Communications link failure"
                            r"|\bSequelize(?:Connection\w*|HostNotFound|HostNotReachable|AccessDenied)Error\b"
                            r"|\bsqlalchemy\.exc\.OperationalError\b"
                            # Agroal (Quarkus's pool) pools only JDBC connections: its logger (io.agroal.pool, shortened
                            # io.agr.pool) or its "Datasource '<name>': " prefix on a connection failure is a database's.
                            # (The line's first "agroal", atomic: a later one has fewer "Datasource" after it, and each
                            # retried the rest of the line, seconds on a 16 KB line of them.)
                            r"|\[io\.agr(?:oal)?\.pool\]|\bio\.agroal\.pool\b|^(?>[^\n]*?\bagroal\b)[^\n]*\bDatasource '[^'\n]*':"
                            , re.IGNORECASE | re.MULTILINE)
# Of those, the errors that are a failed connection by themselves, however the client says no more (no refused,
# timeout or login failure on the line): a JDBC connection that could not be obtained or opened, a java.sql connection
# exception, a Hikari pool that could not open its first connection. An embedded database (H2, Derby, SQLite files)
# fails this way too. Not Agroal's logger or SQLAlchemy's OperationalError: they also report errors on a connection.
_CLIENT_CONNECT_ERROR = lazy_re(r"(?:Failed to obtain|Could not (?:get|open)) JDBC Connection|CannotGetJdbcConnectionException"
                                r"|\bSQL(?:Non)?TransientConnectionException\b"
                                r"|Unable to (?:obtain|get|acquire) (?:a )?(?:JDBC )?connection from (?:the )?database"
                                r"|HikariPool-\d+ - Exception during pool initialization", re.IGNORECASE)
_CLIENT_NEEDLES = ("jdbc connection", "transientconnectionexception", "cannotgetjdbcconnection",
                   "connection from database", "connection from the database", "during pool initialization")
_LOCAL = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
# A Python frame inside a database client library (an ORM's pool or backend, a driver): (its function).
_PY_DB_FRAME = lazy_re(r'File "[^"]*/(?:site|dist)-packages/(?:sqlalchemy|psycopg2?|pymysql|MySQLdb|asyncpg|'
                       r'pymongo|redis|aiomysql|aiopg|cx_Oracle|oracledb|pyodbc|django/db/backends)/[^"]*", line \d+, '
                       r"in (\w+)$")
# A Ruby backtrace frame with no message after it ("/app/.../mysql2_adapter.rb:45:in `rescue in new_client'"):
# (its file, its method).
_RB_FRAME = lazy_re(r"^\s*(?:from\s+)?(\S+\.rb):\d+:in [`']((?:(?:rescue|block(?: \(\d+ levels\))?|ensure) in )?"
                    r"[\w?!]+)'$")
_RB_FRAME_WORD = ".rb:"  # a Ruby frame line: path/file.rb:N:in 'm'
# The first line of a Ruby backtrace: the innermost frame, then the message and its class.
_RB_MESSAGE_FRAME = lazy_re(r"^\s*\S+\.rb:\d+:in [`'][^']+': \S.*\([\w:]+\)\s*$")
_RB_DB_FILE = lazy_re(r"/(?:active_record/connection_adapters|gems/(?:mysql2|pg|trilogy|sqlite3|sequel|mongo|"
                      r"redis(?:-client)?)-\d[\w.]*)/")
# The name of a function (or a call in the source line under its frame) that opens a connection: connect,
# _create_connection, get_new_connection, temporary_connection, new_client, mysql2_connection. Not a pool lending
# one it has (checkout, _do_get, acquire_connection, with_connection): an exhausted pool fails there, not connecting.
_OPENS = lazy_re(r"^(?!(?:acquire|with|retrieve|release|remove|checkin|lease)_connection$)"
                 r"(?:_*(?:re)?connect\w*|\w*_connect(?:ion)?|new_client|\w+_connection)$")
_OPENS_CALL = lazy_re(r"(?:^|[\s.=(])(_*(?:re)?connect\w*|\w*_connect(?:ion)?|new_client|\w+_connection)\(")
# A Python 3.11+ marker line under a source line.
# A Python exception line ("psycopg2.OperationalError: ...", "KeyboardInterrupt"): never a frame's source line.
_PY_EXCEPTION = lazy_re(r"^[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|Failure|Timeout)\b(?::|$)")
_CARETS = lazy_re(r"[\s^~]+")
# How a container of the engine is named or imaged (the database container of the same task).
_ENGINE_WORDS = {"mongodb": ("mongo",), "postgres": ("postgres", "postgis", "pgvector", "timescale"),
                 "mysql": ("mysql", "mariadb", "percona"), "redis": ("redis", "valkey", "keydb"),
                 "mssql": ("mssql", "sqlserver"), "oracle": ("oracle",), "kafka": ("kafka", "redpanda"),
                 "rabbitmq": ("rabbitmq",), "elasticsearch": ("elasticsearch", "opensearch")}
# What the server is called where "database" would mislead (a Kafka broker is no database to point a DATABASE_URL at).
_NOUNS = {"kafka": "broker", "rabbitmq": "broker", "elasticsearch": "cluster"}
# The variables apps commonly read the connection string from, per engine (examples for a step).
_URL_VARS = {"postgres": ("DATABASE_URL", "PGHOST"), "mysql": ("DATABASE_URL", "MYSQL_HOST"),
             "mongodb": ("MONGO_URL", "MONGODB_URI"), "redis": ("REDIS_URL", "REDIS_HOST"),
             "mssql": ("DATABASE_URL",), "oracle": ("DATABASE_URL",),
             "kafka": ("KAFKA_BROKERS", "KAFKA_BOOTSTRAP_SERVERS"), "rabbitmq": ("AMQP_URL", "RABBITMQ_URL"),
             "elasticsearch": ("ELASTICSEARCH_URL", "OPENSEARCH_URL")}
# Frameworks that read the connection from variables of their own: (how its log or image shows it, what else must show
# the framework itself, its variables). A library is no framework: a Vert.x client is Quarkus's only with Quarkus
# (or its SmallRye Mutiny) in sight, and a HikariCP pool is Spring's only with Spring in sight (Micronaut, Ktor and
# plain JDBC apps use it too). Quarkus's reactive client (Vert.x, awaited through SmallRye Mutiny) reads the reactive
# URL, never the JDBC one. Each gap is bounded, so a long line of "reactive-reactive-..." is searched in linear time.
_FRAMEWORK_VARS = (
    (lazy_re(r"io\.smallrye\.mutiny|io\.vertx\.(?:pg|mysql|mssql|db2|oracle|sql)client|quarkus[\w.-]{0,40}?reactive|"
             r"reactive[\w.-]{0,40}?datasource", re.IGNORECASE),
     lazy_re(r"quarkus|io\.smallrye\.", re.IGNORECASE), ("QUARKUS_DATASOURCE_REACTIVE_URL",)),
    # Laravel's console is "php artisan" (or an artisan file): a word of its own, not part of a name (artisan-shop).
    (lazy_re(r"Illuminate\\Database|\blaravel\b|(?<![\w.-])artisan(?![\w-])", re.IGNORECASE), None, ("DB_HOST", "DB_PORT")),
    (lazy_re(r"org\.springframework|\bHikariPool\b", re.IGNORECASE),
     lazy_re(r"org\.springframework|\bSpringApplication\b|\bSpring Boot\b|\bo\.s\.(?:b|boot|web|orm|jdbc|context|data)\.",
             re.IGNORECASE), ("SPRING_DATASOURCE_URL",)),
)


def _connection_vars(ev: Evidence, container: str | None, engine: str) -> tuple[str, ...]:
    """The variables the container's app reads its connection from: its framework's (seen in its log lines or its
    image name), else the ones apps of the engine commonly read."""
    image = next((c.image for c in ev.detail.containers if c.name == container and c.image), "") or ""
    said = "\n".join([*_own_texts(ev, container)[-200:], image])
    for regex, framework, names in _FRAMEWORK_VARS:
        if regex.search(said) and (framework is None or framework.search(said)):
            return names
    return _URL_VARS.get(engine, ("DATABASE_URL",))


_READ_TIMEOUT = lazy_re(r"Read timed out|SocketReadTimeout|\bread timeout|ReadTimeout(?:Error|Exception)?\b",
                           re.IGNORECASE)
_POOL_TIMEOUT = lazy_re(r"Timeout acquiring a connection|Connection is not available, request timed out"
                           r"|timed out waiting for (?:a )?(?:free )?connection|pool (?:is )?(?:probably )?full"
                           r"|acquire(?:ing)? (?:a )?connection timed out", re.IGNORECASE)


def _database_by_name(ev: Evidence, host: str | None) -> tuple[bool, str | None]:
    """(is it a database, engine) for a host named after a database: another container of the task
    (compose-style service names: `db` is the `postgres:16` sidecar) or a database-like host name."""
    if not host:
        return False, None
    label = host.split(".")[0]
    for c in ev.detail.containers:
        if c.name and c.image and c.name.lower() == label.lower():
            engine = engine_of(c.image.rsplit("/", 1)[-1].split(":")[0])
            if engine:
                return True, engine
    return bool(_DB_NAMED.match(label)), engine_of(label)


class DatabaseConnectionFailedFacts(Facts):
    """The facts of database-connection-failed."""

    cause: str | None = Field(None, description="timeout, refused, auth, dns, unreachable, starting (not ready yet), ...")
    engine: str | None = Field(None, description="postgres, mysql, redis, mongodb, ...")
    host: str | None = Field(None, description="The database host.")
    port: int | None = Field(None, description="The database port.")
    user: str | None = Field(None, description="The database user.")


# The client sent no password at all (an empty or unset variable, a secret not injected), not a wrong one.
_NO_PASSWORD = lazy_re(r"using password: NO\b|no password (?:was )?supplied|client password must be a string|"
                       r"password must be a string|no password provided", re.IGNORECASE)
# A database image run as another container of the task, and the variables its entrypoint sets the user from.
_DB_IMAGES = (
    (lazy_re(r"(?i)(?:^|/)(?:postgres|postgis|pgvector|timescaledb)[\w.-]*(?::|@|$)"),
     "POSTGRES_USER / POSTGRES_PASSWORD (POSTGRES_DB)"),
    (lazy_re(r"(?i)(?:^|/)mariadb[\w.-]*(?::|@|$)"),
     "MARIADB_USER / MARIADB_PASSWORD (or the MYSQL_* names; MARIADB_ROOT_PASSWORD for root)"),
    (lazy_re(r"(?i)(?:^|/)(?:mysql|percona)[\w.-]*(?::|@|$)"),
     "MYSQL_USER / MYSQL_PASSWORD (MYSQL_ROOT_PASSWORD for root)"),
)


def _database_container(ev: Evidence, app: str | None) -> tuple[str, str] | None:
    """(name, the variables that set its credentials) of a database image run as another container of the task."""
    for c in ev.detail.containers:
        if c.name and c.name != app and c.image:
            for image_re, variables in _DB_IMAGES:
                if image_re.search(c.image):
                    return c.name, variables
    return None


# The password-like variables with their values (an empty one is the fault to see), and the secrets' names.
_PASSWORD_QUERY = ("taskDefinition.containerDefinitions[].[name, secrets[].name, "
                   "environment[?contains(name, 'PASS')].[name, value]]")
# PostgreSQL's pg_hba refusal of an unencrypted connection: "no pg_hba.conf entry for host ..., no encryption"
# (PostgreSQL 14+) or "..., SSL off" (before 14).
_PG_NO_SSL = lazy_re(r"no pg_hba\.conf entry for [^\n]*?(?:no encryption|SSL off)")
# The same refusal of the encrypted attempt ("..., SSL encryption" from 14, "..., SSL on" before): libpq with
# sslmode=prefer tries SSL first and retries without, so both refusals mean no line admits this host at all.
_PG_SSL_REFUSED = lazy_re(r"no pg_hba\.conf entry for [^\n]*?(?:\bSSL encryption|\bSSL on)\b")
_PG_HBA_WHO = lazy_re(r'no pg_hba\.conf entry for host "([^"]+)", user "([^"]+)", database "([^"]+)"')
_CREDENTIALS_QUERY = "taskDefinition.containerDefinitions[].[name, secrets, environment[].name]"


_UNREACHED = lazy_re(r"Can't reach database server|\bP1001\b|Communications link failure|"
                        r"network-related or instance-specific error", re.IGNORECASE)
# PgJDBC's "The connection attempt failed." wraps an unknown host, a TLS failure, a refusal and a timeout alike: on
# its own (no `Caused by:` naming one) it proves no timeout. A line that says timed out does.
_ATTEMPT_FAILED = lazy_re(r"\bconnection attempt failed\b", re.IGNORECASE)
_TIMEOUT_SAID = lazy_re(r"timed out|\btimeout\b|SocketTimeout|\bETIMEDOUT\b|errno 110|\(110\)", re.IGNORECASE)
# The setting that holds a JVM app's datasource URL, by the framework its log is written by.
_DATASOURCE_KEYS = (
    (lazy_re(r"\bio\.qua(?:rkus)?\.|\bquarkus\b", re.IGNORECASE),
     "`QUARKUS_DATASOURCE_JDBC_URL` (`quarkus.datasource.jdbc.url`; `QUARKUS_DATASOURCE_USERNAME`/`_PASSWORD` with it)"),
    (lazy_re(r"\bo\.s\.b\.|\borg\.springframework\b|\bSpring Boot\b"),
     "`SPRING_DATASOURCE_URL` (`spring.datasource.url`)"),
)


def _endpoint_check(engine: str, host: str | None) -> str:
    """A command that shows the database's state and endpoint, for the engine and endpoint at hand."""
    h = (host or "").lower()
    if engine in ("redis", "memcached") or ".cache.amazonaws.com" in h:
        return (" (`aws elasticache describe-cache-clusters --show-cache-node-info --query "
                "'CacheClusters[].[CacheClusterId,CacheClusterStatus,CacheNodes[0].Endpoint]'`)")
    if ".docdb.amazonaws.com" in h or (engine == "mongodb" and ".amazonaws.com" in h):
        return " (`aws docdb describe-db-clusters --query 'DBClusters[].[DBClusterIdentifier,Status,Endpoint,Port]'`)"
    if ".cluster-" in h and ".rds.amazonaws.com" in h:
        return (" (`aws rds describe-db-clusters --query "
                f"\"DBClusters[?Endpoint=='{host}'||ReaderEndpoint=='{host}'].[Status,Port]\"`)")
    if ".rds.amazonaws.com" in h:
        return (" (`aws rds describe-db-instances --query "
                f"\"DBInstances[?Endpoint.Address=='{host}'].[DBInstanceStatus,Endpoint.Port]\"`)")
    return ""


_PY_FRAME_WORD = 'file "'  # a Python frame line: File "path", line N, in f


def _own_lines_backwards(ev: Evidence, name: str) -> Iterator[int]:
    """The container's non-blank lines, newest first, read (parsed) only as far as the caller walks back: a
    traceback cut at the end of a long log is a few lines, not the whole log."""
    logs = ev.logs
    containers, texts = logs.containers, logs.texts
    for j in range(len(logs) - 1, -1, -1):
        if containers[j] == name and texts[j].strip():
            yield j


class DatabaseConnectionFailed(Pattern):
    id = "database-connection-failed"
    priority = 70
    severity = "critical"
    Facts = DatabaseConnectionFailedFacts
    key_facts = ("host", "cause")
    needs = frozenset({"network"})
    needles = connection.NEEDLES + _CLIENT_NEEDLES

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a connection that timed out or found no route."""
        return frozenset({"network"}) if facts.get("cause") in ("timeout", "unreachable") else frozenset()

    def match(self, ev: Evidence) -> Match | None:
        logs = ev.logs
        for i in candidate_lines(ev, self.needles):
            text = logs.texts[i]
            if logs.quiet(i):
                continue
            start, end = logs.block_start(i), logs.block_end(i)
            lo, hi = max(start, i - 12), min(end, i + 6)
            context = "\n".join(logs.texts[lo : hi + 1])
            failure = connection.parse(text, context)
            if failure is None and _CLIENT_CONNECT_ERROR.search(text):
                # A database-only client's connection error that names no cause: still a failed connection.
                host, port, url = connection.endpoint(text, context)
                failure = connection.ConnectionFailure(cause=None, host=host, port=port, url=url)
            if failure is None:
                continue
            # Drivers name themselves in the frames around the error, not always on its line.
            near = "\n".join(t for j, t in enumerate(logs.texts[max(0, i - 8) : i + 9], max(0, i - 8))
                             if logs.containers[j] == logs.containers[i])
            named, named_engine = _database_by_name(ev, failure.host)
            database = looks_like_database(context, failure.host, failure.port, text) or named or (
                failure.host is None and looks_like_database(near, None, failure.port))
            host, port = failure.host, failure.port
            if host is None and database:
                host, port = self._announced_endpoint(ev, i, port)
            if host and port is None:
                # Drivers often print the address later in the same dump ('mongo:27017', port: 27017), and
                # apps announce it before connecting ("connecting to database db.example:5432").
                after = re.search(r"(?<![\w.-])" + re.escape(host) + r"['\"]?:(\d{2,5})\b", "\n".join(logs.texts[i : i + 40]))
                before = None
                if after is None:
                    for j in range(i - 1, max(-1, i - 40), -1):
                        if logs.containers[j] == logs.containers[i] and host in logs.texts[j]:
                            before = re.search(r"(?<![\w.-])" + re.escape(host) + r"['\"]?:(\d{2,5})\b", logs.texts[j])
                            if before:
                                break
                near_port = after or before
                if near_port:
                    port = int(near_port.group(1))
            engine = (engine_of(context, host, port) or engine_of(near, host, port)) if database else None
            if engine is None:
                engine = next((name for regex, name in _WORDING if regex.search(context)), None)
            engine = engine or named_engine
            if engine is None and not database_endpoint(host, port) and not named and not (
                    _TO_A_DATABASE.search(context) or (failure.host is None and _TO_A_DATABASE.search(near))
                    or (database and DB_CALL.search(text))):
                # an AWS database endpoint on a custom port still counts, and so does the failing line saying it
                # was the database it called ("failed to ping DB ... dial tcp ..."); a driver word alone does not
                continue
            container = container_for_line(ev, i)
            facts = {
                "host": host,
                "port": port or None,
                "engine": engine,
                "cause": failure.cause,
                "user": failure.user,
                "container": container,
            }
            proof_end = i + 2 if i + 2 <= hi and "\n" not in text and len(text) < 120 else None
            return Match(facts={k: v for k, v in facts.items() if v is not None},
                         proofs=(log_proof(ev, i, through=proof_end),), confidence=0.92, stage=Stage.APP,
                         anchor=i, container=container)
        return self._cut_connect_traceback(ev)

    def _cut_traceback_frames(self, ev: Evidence, name: str) -> list[int] | None:
        """The frame lines of the Python traceback that ends `name`'s log with no exception line (the log cut
        inside it), or None when its log does not end inside a traceback. Without its "Traceback" header (an
        excerpt that starts inside it) at least two frames, so that a stray line is not read as one."""
        logs = ev.logs
        # Only a log with a Python frame line can end inside a traceback: the one search pass tells, so most
        # logs are not read (parsed) line by line here.
        if not logs.lines_with(_PY_FRAME_WORD):
            return None
        own = _own_lines_backwards(ev, name)
        frames: list[int] = []
        header = False
        j = next(own, None)
        # From the end back: frames, the source line under each (and 3.11's ^^^ markers), a copy's "--"; an
        # exception line (or any other output) at the end means the trace was not cut.
        while j is not None:
            older = next(own, None)  # the container's line before j
            text = logs.texts[j]
            line = text.strip()
            if line.startswith("Traceback (most recent call last)"):
                header = True
                break
            if line.startswith('File "'):
                frames.append(j)
            elif _PY_EXCEPTION.match(line):
                break  # the exception line: the trace ends here, whether or not its frames show their source
            elif not (line in ("--", "...") or _CARETS.fullmatch(line)
                      or (older is not None and logs.texts[older].strip().startswith('File "'))
                      or text[:1].isspace()):  # a source line whose frame is above the excerpt
                break
            j = older
        if not frames or (not header and len(frames) < 2):
            return None
        return frames[::-1]

    def _py_frame_opens(self, ev: Evidence, j: int) -> bool:
        """Frame line j is a database client library's, opening a connection: its function's name says so, or
        the source line under it calls one that does (Django's `with self.temporary_connection():`)."""
        logs = ev.logs
        frame = _PY_DB_FRAME.search(logs.texts[j].strip())
        if not frame:
            return False
        if _OPENS.match(frame.group(1)):
            return True
        below = logs.texts[j + 1].strip() if j + 1 < len(logs) and logs.containers[j + 1] == logs.containers[j] else ""
        return not below.startswith('File "') and bool(_OPENS_CALL.search(below))

    def _cut_ruby_frames(self, ev: Evidence, name: str) -> list[int] | None:
        """The frame lines of the Ruby backtrace that ends `name`'s log, innermost first, when no message is on
        them (the log or its excerpt lost it); at least two frames."""
        logs = ev.logs
        if not logs.lines_with(_RB_FRAME_WORD):  # no Ruby frame line anywhere: nothing to read line by line
            return None
        own = _own_lines_backwards(ev, name)
        frames: list[int] = []
        j = next(own, None)
        while j is not None and _RB_FRAME.match(logs.texts[j]):
            frames.append(j)
            j = next(own, None)
        # Ruby prints the message on the first frame ("x.rb:49:in `new_client': SSL connection error: ...
        # (ActiveRecord::ConnectionNotEstablished)"), then the `from` frames: with that line above them, nothing
        # was lost.
        if j is not None and _RB_MESSAGE_FRAME.match(logs.texts[j]):
            return None
        return frames[::-1] if len(frames) >= 2 else None

    def _cut_connect_traceback(self, ev: Evidence) -> Match | None:
        """A container that exited non-zero whose log ends inside a traceback with no exception line (Python:
        cut before it; Ruby: a backtrace whose message the excerpt lost) whose innermost frames are a database
        client library opening a connection: the error was raised while connecting to the database, whatever
        it said. Only the container's own log and its own failing exit; the cause stays unnamed (the exception
        line is not in the log)."""
        logs = ev.logs
        for c in ev.detail.containers:
            if exit_code(ev, c.name) in (None, 0) or c.name not in ev.failing:
                continue
            anchor = None
            frames = self._cut_traceback_frames(ev, c.name)
            # Python: the innermost frames (the last two) are the library's connect path
            if frames and any(self._py_frame_opens(ev, j) for j in frames[-2:]):
                anchor = frames[-1]
            rb = None if frames else self._cut_ruby_frames(ev, c.name)
            if rb:
                # Ruby: the innermost frame (the first) is an adapter's or driver's connect
                top = _RB_FRAME.match(logs.texts[rb[0]])
                method = top.group(2).rsplit(" in ", 1)[-1] if top else ""
                if top and _RB_DB_FILE.search(top.group(1)) and _OPENS.match(method):
                    anchor = rb[0]
            if anchor is None:
                continue
            # the same traceback read by app-crash (with no exception to name) is explained by this one
            return Match(facts={"container": c.name}, proofs=(log_proof(ev, anchor),), confidence=0.6,
                         stage=Stage.APP, anchor=anchor, container=c.name, outranks=("app-crash",))
        return None

    def _announced_endpoint(self, ev: Evidence, i: int, port: int | None) -> tuple[str | None, int | None]:
        """The error names no endpoint: take the one the app announced earlier ("connecting to redis
        host=... port=...") in the same container."""
        logs = ev.logs
        container = logs.containers[i]
        for j in range(i - 1, max(-1, i - 80), -1):
            if logs.containers[j] != container:
                continue
            text = logs.texts[j]
            low = text.lower()
            if "connect" not in low and "host" not in low and "://" not in low:
                continue
            host, found_port, _ = connection.endpoint(text)
            if host and looks_like_database(text, host, found_port or port):
                return host, port or found_port
        return None, port

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        engine = f.get("engine", "database")
        noun = _NOUNS.get(engine, "database")
        host = f.get("host")
        # Steps name only a port the evidence gives: an engine's default is a guess (and often wrong).
        port = f.get("port")
        cause = f.get("cause")
        no_ssl = cause == "auth" and any(_PG_NO_SSL.search(p.text) for p in m.proofs)
        # Refused with SSL too: pg_hba.conf has no line for this host at all; SSL is no fix.
        no_entry = no_ssl and any(_PG_SSL_REFUSED.search(t) for t in _own_texts(ev, f.get("container")))
        no_ssl = no_ssl and not no_entry
        container = f.get("container") or "the container"
        # The title and summary name the port only when the evidence does (an engine's default is a guess).
        shown = f.get("port")
        target = f"{host}:{shown}" if host and shown else host or (f"port {shown}" if shown else "the database")
        # "Can't reach database server" (Prisma P1001), "Communications link failure" (JDBC): no connection was
        # made, which a timeout, a refusal and an unresolved name all give; not proof of a timeout.
        vague = cause == "timeout" and any(_UNREACHED.search(p.text) for p in m.proofs)
        # "The connection attempt failed" with no line saying it timed out: the host itself is the first suspect.
        unsaid = (cause == "timeout" and not vague and any(_ATTEMPT_FAILED.search(p.text) for p in m.proofs)
                  and not any(_TIMEOUT_SAID.search(t) for t in _own_texts(ev, f.get("container"))))
        vague = vague or unsaid
        # A read timeout on an open socket, or a pool that handed out no connection, is not a connect timeout.
        read_timeout = cause == "timeout" and any(_READ_TIMEOUT.search(p.text) for p in m.proofs)
        pool = cause == "timeout" and not read_timeout and any(_POOL_TIMEOUT.search(p.text) for p in m.proofs)
        vague = vague or pool
        where = f" at {target}" if host or shown else ""
        steps: list[str] = []
        why = remedy.cite(m)
        known_host = host if host and not host.startswith("<") else None
        name = f.get("container")
        local = host in _LOCAL
        # This task's own container of the engine: the server a localhost (or unnamed, so default) host reaches.
        engine_box = next((c.name for c in ev.detail.containers if c.name and c.name != name
                           and engine != "database" and any(a in f"{c.name} {c.image or ''}".lower()
                                                            for a in _ENGINE_WORDS.get(engine, (engine,)))), None)
        sidecar = engine_box if local else None
        # A local Unix socket (MySQL's client at `localhost`, PostgreSQL's with no host): a file in the container's
        # own filesystem, which another container's server never creates there; only TCP reaches that server.
        socket = any(connection.LOCAL_SOCKET.search(p.text) for p in m.proofs)
        over_tcp = (" over TCP: set the host to `127.0.0.1`" + (f" (port {port})" if port else "") + ", not "
                    "`localhost`, which makes the client look for a Unix socket file in its own container, where the "
                    f"`{sidecar}` container's server never creates one" if socket and sidecar else "")
        others = [c.name for c in ev.detail.containers if c.name and c.name != name]
        if cause == "starting":
            # The server answered: it is there (even at localhost), only not ready yet.
            steps.append(f"The {engine} server at {target} answered that its database is not ready (starting up, "
                         f"recovering or shutting down), and {container} gave up: make {container} wait longer for "
                         "it (retry the first connection with backoff, or raise its start-up wait)"
                         + (f", and start {container} after `{sidecar}` (`dependsOn` with condition `HEALTHY`, and a "
                            f"health check on `{sidecar}`)" if sidecar else "")
                         + f". If the server takes long to start, its own log says why (crash recovery after an "
                         "unclean stop replays its write-ahead log; a slow or full volume); a managed database that "
                         f"answers this is rebooting or failing over: check its recent events.{why}")
            why = ""
        elif sidecar and remedy.localhost_mode(ev) == "bridge":
            steps.append(f"`{host}` is {container} itself: in `bridge` network mode the containers of a task do not "
                         f"share localhost, so the {engine} container `{sidecar}` is not there. Reach it by name with "
                         f"`links` (`{sidecar}:{sidecar}`) and connect to `{sidecar}" + (f":{port}" if port else "")
                         + "`, or use the `awsvpc` "
                         f"network mode, where they share localhost.{why}")
            why = ""
        elif sidecar:
            steps.append(f"`{host}" + (f":{port}" if port else "") + f"` is the {engine} container `{sidecar}` of "
                         f"this same task, which was not ready when {container} connected: make {container} wait for "
                         f"it with `dependsOn` (condition `HEALTHY`, with a health check on `{sidecar}`) and retry the "
                         f"first connection{'. Reach it' + over_tcp if over_tcp else ''}.{why}")
            why = ""
        elif local and cause != "starting":
            bracketed = f"[{host}]" if ":" in str(host) else host  # an IPv6 address with a port: [::1]:5432
            at = f"`{bracketed}:{shown}`" if shown else f"`{host}`"
            vars_ = _connection_vars(ev, name, engine)
            query = (f"taskDefinition.containerDefinitions[?name=='{name}'].[environment, secrets]" if name
                     else "taskDefinition.containerDefinitions[].[environment, secrets]")
            none = ("and none of this task's other containers (" + ", ".join(f"`{o}`" for o in others)
                    + f") looks like a {engine} server" if others else
                    "and this task has no other container: nothing will ever listen there, so retrying cannot help")
            steps.append(f"The app connects to {at}, which inside a container is the container itself, {none}. "
                         f"Point the app at the real {noun}: set its connection variable (e.g. "
                         + " / ".join(f"`{v}`" for v in vars_) + f") to the {noun}'s endpoint in the task "
                         f"definition, or {remedy.sibling_container(ev, 'a ' + engine + ' server') or f'add a {engine} container to the task'}; then roll it out: "
                         f"{remedy.roll_out(ev)}. See what the task definition sets now: "
                         f"`{remedy.describe_task_definition(ev, query)}`.{why}")
            why = ""
        elif (known_host and cause == "refused" and (linked := next(
                (c.name for c in ev.detail.containers if c.name and c.name != name
                 and c.name.lower() == known_host.lower()), None))):
            # A refusal needs an address: in bridge mode (`links`) the name resolved to this task's own container,
            # which was not listening yet when the app connected. In awsvpc (Fargate) container names get no DNS:
            # the sibling is at localhost, and the name reached something else (Service Connect, Cloud Map).
            wait = (f"make {container} wait for it with `dependsOn` (condition `HEALTHY`, with a health check on "
                    f"`{linked}`; or `START` plus retries of the first connection)")
            if remedy.localhost_mode(ev) == "shared":
                steps.append(f"`{linked}` is a container of this same task, but in `awsvpc` mode (Fargate's) "
                             f"container names get no DNS entry: the task's containers share localhost, so "
                             f"`{known_host}` reached something else. Point {container} at "
                             + (f"`localhost:{port}`" if port else "`localhost` (on the port it listens on)")
                             + f" for the `{linked}` container, then {wait}.{why}")
            else:
                steps.append(f"`{known_host}` resolved (a refusal needs an address) to this task's own container "
                             f"`{linked}`, which was not listening yet when {container} connected: {wait}.{why}")
            why = ""
        elif known_host and "." not in known_host and cause in ("dns", "timeout"):
            # Only a DNS failure proves the name does not resolve; a timeout may have had an address.
            steps.append(f"`{known_host}` is a bare name (a Docker Compose service name?): on ECS no such host exists "
                         "unless Service Connect or Cloud Map defines it" if cause == "dns" else
                         f"`{known_host}` is a bare name (a Docker Compose service name?): on ECS it reaches a "
                         "server only through `links` to a container of the same task (bridge mode), Service "
                         "Connect or Cloud Map")
            steps[-1] += f". Point the connection string at the database endpoint.{why}"
            why = ""
        if cause == "refused" and not host and not steps:
            # The log names no host: which one the app used is in its configuration, read first (a default of
            # 127.0.0.1 or localhost, the usual one, is the task itself).
            vars_ = _connection_vars(ev, name, engine)
            query = remedy.container_query(ev, name, "[environment, secrets[].name]")
            shared = remedy.localhost_mode(ev) == "shared"
            self_ = ("the task itself (its containers share one network namespace in `awsvpc` mode, Fargate's)"
                     if shared else f"{container}'s own container")
            if engine_box and shared:
                # The task runs its own server: localhost reaches it, so it was not up yet when the app connected.
                then = (f"where this task's {engine} container `{engine_box}` listens: it was not ready when "
                        f"{container} connected, so make {container} wait for it with `dependsOn` (condition "
                        f"`HEALTHY`, with a health check on `{engine_box}`) and retry the first connection. If it is "
                        f"another host, check that the {engine} server there is running and listens on that port")
            elif engine_box:
                then = (f"where the {engine} container `{engine_box}` is not (in `bridge` mode a task's containers "
                        f"do not share localhost): reach it by name with `links` (`{engine_box}:{engine_box}`), set "
                        f"the host to `{engine_box}`, and start {container} after it (`dependsOn` with condition "
                        f"`HEALTHY`)")
            else:
                then = (f"where no {engine} server runs: set it to the {noun}'s endpoint and roll out the new "
                        f"revision: {remedy.roll_out(ev)}")
            steps.append(f"The log does not name the host {container} connected to: read the {engine} host and port "
                         f"it is configured with (" + " / ".join(f"`{v}`" for v in vars_) + ") in the task "
                         f"definition, `{remedy.describe_task_definition(ev, query)}`. If it is 127.0.0.1 or "
                         f"localhost (or unset, so the default applies), that is {self_}, {then}.{why}")
            why = ""
        if cause == "starting" or (local and cause in ("refused", "timeout", None)):
            pass  # neither the network nor the server's security group is involved
        elif cause == "refused":
            steps.append(f"Something answered but nothing listens on {target}: check the {engine} server is running "
                         f"and the endpoint and port are right{_endpoint_check(engine, known_host)}.{why}")
            steps.append("A refusal is an answer (a TCP reset), not a security group: those drop packets silently, "
                         "which times out. So the host is reachable; check the port, that the endpoint is the "
                         "server's current one (a primary or configuration endpoint, not a replaced node or replica), "
                         "and that the server listens on its network interface, not only on localhost.")
        elif cause == "timeout" and read_timeout:
            tls = (" DocumentDB requires TLS: `tls=true` (and the RDS CA bundle) in the connection string, else the "
                   "server never answers the handshake;" if engine == "mongodb" or "docdb" in str(host) else
                   " a TLS setting the server requires (or forbids) on this connection;")
            steps.append(f"The connection to {target} was open, then the server did not answer in time (a read "
                         "timeout on the socket, not a dropped connect, so security groups are not the cause). "
                         f"Check, in order:{tls} a slow or blocked query or an overloaded server (its CPU, "
                         f"connections and slow-query log); the driver's socket/read timeout.{why}")
            why = ""
        elif cause == "timeout" and (public := _public_address(known_host, m)) and not pool and not vague:
            # A database outside AWS (a public address, not an AWS endpoint): no security group of yours guards
            # it, and no VPC peering reaches it; the packets leave through the internet.
            steps += _outside_aws_steps(ev, target, public, port, why)
            why = ""
        elif cause == "timeout" and pool:
            steps.append(f"{container}'s connection pool gave out no connection in time: that says the pool was "
                         "empty, not why. If the log shows no connection ever succeeded, the database is unreachable: "
                         f"check the database security group admits TCP {port or 'on its port'} from "
                         f"{remedy.sender_groups(ev)} and that the host is the database's endpoint. If connections worked "
                         "before, the pool was exhausted: raise its size (within the server's max connections), "
                         f"and look for connections held and not released, or slow queries.{why}")
            why = ""
        elif cause == "timeout" and unsaid:
            texts = "\n".join(_own_texts(ev, name))
            keys = next((k for r, k in _DATASOURCE_KEYS if r.search(texts)), "the JDBC URL setting")
            steps.append(f"{container}'s driver reports only that the connection attempt failed, not why (an unknown "
                         "host, a TLS failure, a refusal and a timeout all read so): first check the database URL it "
                         f"uses, {keys}, in the variable or secret that sets it: its host, port and database name must "
                         "be the database's current endpoint. The task definition names the variables and secrets: "
                         f"`{remedy.describe_task_definition(ev, _CREDENTIALS_QUERY)}`{why}")
            steps.append(f"Then check reachability: the database security group admits TCP {port or 'on its port'} "
                         f"from {remedy.sender_groups(ev)}, task and database are in the same VPC (or peered) with "
                         "routes and NACLs allowing the port both ways, and the host resolves from the task's subnets. "
                         "The rest of the container's log stream may hold the `Caused by:` that names which it was.")
            why = ""
        elif cause == "timeout" and vague:
            steps.append(f"No connection to {target} was made (the message does not say whether it timed out, was "
                         f"refused or did not resolve): first check the database security group admits TCP "
                         f"{port or 'on its port'} from {remedy.sender_groups(ev)} (not from an IP range that "
                         f"changes), and that the host in the connection string is the database's endpoint.{why}")
            steps.append("Check the route: task and database in the same VPC (or peered), NACLs allow the database "
                         "port out and the return traffic back (ephemeral ports 1024-65535, NACLs are stateless), and the task does not resolve a PUBLIC endpoint it cannot reach from a private subnet.")
        elif cause == "timeout":
            steps.append(f"Packets to {target} get no answer: the database security group must admit TCP "
                         f"{port or 'on its port'} from {remedy.sender_groups(ev)} (not from an IP range that "
                         f"changes).{why}")
            steps.append("Check the route: task and database in the same VPC (or peered), NACLs allow the database "
                         "port out and the return traffic back (ephemeral ports 1024-65535, NACLs are stateless), and the task does not resolve a PUBLIC endpoint it cannot reach from a private subnet.")
        elif cause == "auth" and no_entry:
            who = next((w for t in _own_texts(ev, name) if (w := _PG_HBA_WHO.search(t))), None)
            client, user, dbname = who.groups() if who else ("<task address>", f.get("user") or "<user>", "<database>")
            subnet = ev.subnet
            cidr = (f" (`aws ec2 describe-subnets --subnet-ids {subnet}{remedy.region_flag(ev)} --query "
                    "'Subnets[].CidrBlock' --output text`)" if subnet else "")
            steps.append(f"The server refused {container} both over SSL (\"SSL encryption\") and without it (\"no "
                         "encryption\"): its pg_hba.conf has no line at all that admits this host, user and database, "
                         "so turning SSL on changes nothing and the password was never checked. Add one to the "
                         f"server's pg_hba.conf for the task's subnet{cidr}, not only the address {client} (a new "
                         f"task gets a new one): `hostssl {dbname} {user} <subnet CIDR> scram-sha-256` (`host` to "
                         "admit unencrypted connections too), then reload it (`SELECT pg_reload_conf();`)."
                         f"{why}")
        elif cause == "auth" and no_ssl and _task_local(ev, host, others):
            # The server is the task's own: nothing says it forces SSL, only that no line admits this host without it.
            steps.append(f"The server refused {container}'s unencrypted connection (\"no encryption\" / \"SSL off\" "
                         "in the pg_hba.conf refusal): its pg_hba.conf has no non-SSL line for this host, user and "
                         "database, and the password was never checked, so this is no credentials problem. Either "
                         "turn SSL on in the client (`sslmode=require` in the connection URL, or `PGSSLMODE=require`) "
                         "if the server has SSL enabled, or add a `host` line for the task's addresses to its "
                         f"pg_hba.conf and reload it (`SELECT pg_reload_conf();`).{why}")
            steps.append("Find the variable or secret that carries the connection URL and set it there: "
                         f"`{remedy.describe_task_definition(ev, _CREDENTIALS_QUERY)}`.")
        elif cause == "auth" and no_ssl:
            # pg_hba.conf has no entry for an unencrypted connection from this host: the server allows this user
            # only over SSL (a `hostssl` line; RDS with rds.force_ssl, the default from PostgreSQL 15). The
            # password was never checked.
            steps.append(f"The server refused {container}'s connection because it was not encrypted (\"no "
                         "encryption\" / \"SSL off\" in the pg_hba.conf refusal): it accepts this user only over SSL "
                         "(a `hostssl` rule, or on RDS `rds.force_ssl`, on by default from PostgreSQL 15), and the "
                         "password was never checked, so this is no credentials problem. Turn SSL on in the client: "
                         "add `sslmode=require` to the connection URL (`...?sslmode=require`; libpq-based clients "
                         "also read `PGSSLMODE=require`), or the driver's own SSL option (node-postgres `ssl: true`, "
                         f"JDBC `ssl=true&sslmode=require`).{why}")
            steps.append("Find the variable or secret that carries the connection URL and set it there: "
                         f"`{remedy.describe_task_definition(ev, _CREDENTIALS_QUERY)}`.")
        elif cause == "auth" and (any(_NO_PASSWORD.search(p.text) for p in m.proofs)
                                  or _database_container(ev, name)):
            user = f.get("user")
            db = _database_container(ev, name)
            said = any(_NO_PASSWORD.search(p.text) for p in m.proofs)
            if said:
                steps.append("The log shows the client sent no password at all, so this is not a wrong or rotated "
                             f"password: the variable or secret that should carry it reached {container} empty or "
                             "not at all. Check the task definition gives it the password under the name the app "
                             "reads (a `secrets` entry, or an `environment` value that is not empty), and that the "
                             f"app's configuration refers to that name: `{remedy.describe_task_definition(ev, _PASSWORD_QUERY)}`."
                             + (f" The database is the task's own `{db[0]}` container: the user and password it "
                                f"creates come from its {db[1]}, so give {container} that same password." if db else "")
                             + why)
            elif db:
                steps.append(f"The database is the task's own `{db[0]}` container, so no rotation or RDS setting is "
                             f"involved: it creates the user{f' `{user}`' if user else ''} and its password from its "
                             f"{db[1]} the first time it starts on an empty data directory (a volume that already "
                             f"holds data keeps the old password). Give {container} the same user and password as "
                             f"`{db[0]}`, and check both containers have them set: "
                             f"`{remedy.describe_task_definition(ev, _CREDENTIALS_QUERY)}`.{why}")
        elif cause == "auth":
            user = f.get("user")
            steps.append(f"The database refused the credentials{f' of user `{user}`' if user else ''}: check the "
                         "password in the task's secret (rotation may have changed it), the user exists and may "
                         "connect from the task's address ("
                         + {"postgres": "pg_hba.conf, or an IAM auth token for RDS IAM authentication",
                            "mysql": "the user's host grants, or an IAM auth token for RDS IAM authentication",
                            "mariadb": "the user's host grants"}.get(engine, "the server's access rules") + f").{why}")
            steps.append("See which secret and variables carry the credentials: "
                         f"`{remedy.describe_task_definition(ev, _CREDENTIALS_QUERY)}`; compare the secret's current "
                         "value with the database user's password.")
        elif cause == "dns":
            steps.append(f"`{known_host or 'the host'}` does not resolve from the task: check the spelling in the "
                         "database URL, private hosted zones associated with the VPC, and that the VPC has DNS "
                         f"resolution enabled.{why}")
            if known_host:
                steps.append(f"Resolve it from a one-off copy of the task ({remedy.same_network(ev)}): "
                             f"`{remedy.probe(ev, name, f'getent hosts {known_host} || nslookup {known_host}')}`."
                             + remedy.probe_siblings_note(ev, name))
        elif cause == "not-found":
            steps.append("The server answered but the database name does not exist: create it or fix the name in "
                         f"the connection string.{why}")
        peer = next((o for o in others if known_host and o == known_host), None)
        if peer and not steps:
            # The host is another container of this task, by name (bridge `links`, or a name the app was given):
            # that container was not up, or not reachable, when this one connected.
            bridge = remedy.network_mode(ev) in ("bridge", None) and not remedy.is_fargate(ev)
            steps.append(f"`{known_host}` is the container `{peer}` of this same task, which was not reachable when "
                         f"{container} connected: make {container} start after it (`dependsOn` `{peer}` with "
                         f"condition `HEALTHY`, and a health check on `{peer}`), retry the first connection with "
                         f"backoff, and read `{peer}`'s own log for why it was not up"
                         + (f"; in bridge mode {container} reaches it only through `links` (`{peer}:{peer}`)"
                            if bridge else "") + f".{why}")
            why = ""
        if cause in ("refused", "timeout") and known_host and port and not local and not read_timeout:
            steps.append(f"Test from a one-off copy of the task ({remedy.same_network(ev)}; the task itself "
                         f"has stopped): `{remedy.probe(ev, name, f'nc -zv -w 5 {known_host} {port}')}` "
                         "(refused = the host answered but nothing listens on the port; timed out = a security "
                         "group, NACL or route drops the packets, since security groups drop silently; the image "
                         "needs `nc`)." + remedy.probe_siblings_note(ev, name))
        # Retrying helps only a database that comes up after the app tried: the log shows a later connection that
        # worked. (A database container of this task already gets its retry with dependsOn above; a security group
        # or a wrong host does not start answering with retries.)
        later = _connected_later(ev, m.anchor) if cause in ("refused", "timeout", None) and not sidecar else None
        ready_other = (later is not None and ev.logs.containers[later] in others
                       and bool(_SERVER_READY.search(ev.logs.texts[later])))
        if ready_other and later is not None and not (
                _same_engine(ev, ev.logs.containers[later], ev.logs.texts[later], engine)
                and _task_local(ev, host, others)):
            # Another server of the task came up (a cache beside an RDS database): no proof the database the app
            # was refused by started late, so neither the start order nor a retry follows from it.
            later = ready_other = None  # type: ignore[assignment]
        if later is not None and ready_other and not local:
            # A database container of this same task said it was ready after the app had given up: the order of
            # start-up, not the endpoint, the network or a replica. Only the server's own line proves that.
            ready_db = ev.logs.containers[later]
            check = _READY_CHECKS.get(engine)
            steps = [f"`{ready_db}`, a container of this same task, became ready only after {container} had given up "
                     f"(its log: “{ev.logs.texts[later].strip()[:100]}”): {container} started too early. Make it "
                     f"wait: in {container}'s container definition add `dependsOn` "
                     f"`[{{\"containerName\": \"{ready_db}\", \"condition\": \"HEALTHY\"}}]`, and give `{ready_db}` a "
                     "`healthCheck` that passes once it accepts connections"
                     + (f" (`{{\"command\": [\"CMD-SHELL\", \"{check} || exit 1\"], \"interval\": 5, "
                        "\"retries\": 10, \"startPeriod\": 30}`)" if check else "")
                     + f"; a `START` condition only waits for the process to exist, not to listen.{why}"]
        proxy = next((c.name for c in ev.detail.containers if c.name and c.name != name
                      and _MESH_PROXY.search(f"{c.name} {c.image or ''}")), None)
        if proxy and cause == "refused" and not local:
            # App Mesh / a mesh proxy takes the task's outbound traffic: until Envoy is ready it refuses
            # connections, so an app that connects at once is refused whatever the database does.
            steps.insert(0, f"The task runs the mesh proxy `{proxy}`, which carries {container}'s outbound "
                            "traffic and refuses connections until it is ready: make "
                            f"{container} start after it (`dependsOn` `{proxy}` with condition `HEALTHY`, and a "
                            f"health check on `{proxy}`), and retry the first connection with backoff. (Why: the "
                            f"task's containers include `{proxy}`, and the connection was refused.)")
        elif later is not None and not (local and not others):
            loop = ("does not crash-loop the service" if remedy.launcher(ev) == "service"
                    else "does not fail the whole run")
            steps.append("Make the app retry the first connection with backoff instead of exiting, so a database that "
                         f"starts slower {loop}."
                         + remedy.because(log_proof(ev, later).source, ev.logs.texts[later]))
        cut = not cause and bool(m.proofs) and (m.proofs[0].text.strip().startswith('File "')
                                                 or bool(_RB_FRAME.match(m.proofs[0].text)))
        if not steps and cut:
            # A traceback with no exception line: the frames say where it failed (connecting), not why.
            steps.append(f"{container}'s log shows the database client's connect frames but not the error that "
                         "names why (refused, timed out, authentication failed, unknown database): read the lines "
                         "around them in its log stream, and meanwhile check that the database is up and "
                         f"reachable from the task: the host, port, user and database name in {container}'s "
                         "connection settings, the database's security group and the routes between the task's "
                         f"subnets and it.{why}")
        embedded = _embedded_db(ev, name) if not steps and not cause and not host and not shown else None
        if embedded is not None:
            kind, file = embedded
            on = f" on its file `{file}`" if file else ""
            steps.append(f"The error comes from the embedded {kind} database inside {container}{on}, not from a "
                         "database server: it fails when that file cannot be created or opened (a read-only or "
                         "missing directory, a file another process or another task holds, such as two tasks sharing "
                         "one volume, or a lock left by a container that was stopped). Make its directory writable "
                         f"by {container}'s user and used by one task at a time, or point the app at a real database "
                         "server (the JDBC URL or database settings in its task definition's environment or "
                         "secrets)." + why)
        if not steps and not cause and not host and not shown and "engine" not in f:
            # The client's error names no server, engine or cause: which database the app was set to use is the
            # first question. Apps given none often fall back to an embedded file database in the container.
            steps.append(f"The error names no database server, engine or cause, so first check which database "
                         f"{container} is configured to use (the JDBC URL or database settings in its task "
                         "definition's environment, secrets or command). With none set, many apps fall back to a "
                         "built-in file database (H2, Derby, SQLite) inside the container, which fails when its file "
                         "cannot be created or opened (a read-only or missing directory, a file another process "
                         "holds): point the app at the real database server, or at an in-memory database for a "
                         "throw-away development setup. If it names a server, check that it is up and reachable from "
                         "the task (its security group, the routes between the task's subnets and it)." + why)
        if not steps:
            # No sub-cause above applies: still a first step, on what the error says (never an empty Fix).
            steps.append(f"Check that {target} is up and reachable from the task: the host and port in "
                         f"{container}'s connection settings, the database's security group and the routes between "
                         f"the task's subnets and it (`{cause or 'the error'}` says no connection was made).{why}")
        return Explanation(
            title=(f"Cannot {'log in to' if cause == 'auth' else 'connect to'} {engine}" + where
                   + (f" ({'pool timeout' if pool else 'read timeout' if read_timeout else 'unreachable' if vague else 'not ready' if cause == 'starting' else cause})"
                      if cause else "")),
            summary=(f"{container} could not "
                     + ("log in to" if cause == "auth" else "reach")
                     + (f" its {engine} {noun}{where}" if engine != noun else f" its {noun}{where}")
                     + {"refused": ": the connection was refused.",
                        "timeout": ": the server did not answer on an open connection (a read timeout)."
                        if read_timeout else ": no connection was made." if vague else ": the connection timed out.",
                        "auth": ": the server's pg_hba.conf has no entry for this host, user and database."
                        if no_entry else ": the server's pg_hba.conf admits no unencrypted connection from here."
                        if no_ssl and _task_local(ev, host, others)
                        else ": the server requires SSL and the connection was not encrypted." if no_ssl
                        else ": the credentials were rejected.", "dns": ": the host name does not resolve.",
                        "not-found": ": the database does not exist.",
                        "starting": ": the server answered that its database is not ready yet (starting up)."
                        }.get(cause or "", ".")),
            remediation=steps,
        )


_IPV4 = lazy_re(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")


# An embedded (in-process, file) database named by its driver's package or name, and the file it opened.
_EMBEDDED_DB = lazy_re(r"\borg\.h2\.|\bH2\b|\borg\.apache\.derby\b|\bDerby\b|\borg\.hsqldb\b|\bHSQLDB\b|"
                       r"\borg\.sqlite\b|\bSQLite\b")
_EMBEDDED_NAMES = (("h2", "H2"), ("derby", "Derby"), ("hsqldb", "HSQLDB"), ("sqlite", "SQLite"))
_EMBEDDED_WORDS = tuple(key for key, _ in _EMBEDDED_NAMES)  # one of which every `_EMBEDDED_DB` match holds
# (Searched from the first "/" of each run of path characters, or a drive, only: every "/" of a run ends the file at
# the same place, and each read the rest of the run again, 0.3 s on a 16 KB path; the same match.)
_DB_FILE_PATTERN = r"(?:[A-Za-z]:\\|/)[^\s\"'<>:]*\.(?:mv\.db|h2\.db|db|sqlite3?)\b"
_DB_FILE = run_regex(_DB_FILE_PATTERN, r"(?:(?<![^\s\"'<>:])[^\s\"'<>:/]*+(?=/)|(?=[A-Za-z]:\\))(?P<at>)" + _DB_FILE_PATTERN,
                     None, r"^\s\"'<>:", start="at")


def _embedded_db(ev: Evidence, container: str | None) -> tuple[str, str | None] | None:
    """The embedded database engine a line of the failing container's own log names (H2, Derby, HSQLDB, SQLite) and
    the file it names, if any. Another container's words are not about its database (an Envoy sidecar's "using
    protocol H2" is HTTP/2); a line no container is known for is read as the failing one's."""
    logs = ev.logs
    texts, containers = logs.texts, logs.containers
    # (Only the lines whose text may hold an engine's name are read: every match holds one, in any case.)
    for i in logs.may_hold_any(_EMBEDDED_WORDS):
        if container and containers[i] not in (container, None):
            continue
        text = texts[i]
        said = _EMBEDDED_DB.search(text)
        if said:
            word = said.group(0).lower()
            kind = next(name for key, name in _EMBEDDED_NAMES if key in word)
            file = _DB_FILE.search(text)
            return kind, file.group(0) if file else None
    return None


def _public_address(host: str | None, m: Match) -> str | None:
    """The database's public IPv4 address when the evidence shows one (the host itself, or the address the
    driver printed next to it) and the host is no AWS endpoint: a database outside AWS."""
    if not host or re.search(r"\.amazonaws\.com(?:\.cn)?$|\.rds\.|\.internal$", host):
        return None
    seen = [host, *(a for p in m.proofs for a in _IPV4.findall(p.text))]
    for value in seen:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            continue
        if ip.is_global:
            return str(ip)
    return None


def _outside_aws_steps(ev: Evidence, target: str, public: str, port: Any, why: str) -> list[str]:
    instance = remedy.network_mode(ev) != "awsvpc"
    who = "the container instance" if instance else "the task"
    source = ("the container instance's public IP (bridge/host networking sends from the instance; the task has "
              "no security group of its own)" if instance else "the task's public IP")
    on = f"TCP {port}" if port else "the database port"
    return [
        f"Packets to {target} ({public}, a public address outside your VPC, not an AWS database) get no answer. "
        f"No security group of yours guards that host and no VPC peering reaches it: check the server is up and "
        f"accepts outside connections on {on}, and that its own firewall or allow-list admits {source}, or the "
        f"NAT gateway's Elastic IP when {who} sits in a private subnet.{why}",
        f"Check the way out from {who}: its subnet routes `0.0.0.0/0` to an internet gateway (with a public IP) or "
        f"a NAT gateway, {remedy.sender_groups(ev)} allows outbound {on}, and the subnet's NACL allows {on} out "
        "and the ephemeral ports (1024-65535) back.",
    ]


PATTERN = DatabaseConnectionFailed()


# A database server's own line that it accepts connections (PostgreSQL, MySQL/MariaDB, Redis, MongoDB).
_SERVER_READY = lazy_re(r"(?i)ready to accept connections|ready for connections|waiting for connections")
_READY_CHECKS = {"postgres": "pg_isready -h localhost", "mysql": "mysqladmin ping -h 127.0.0.1",
                 "mariadb": "mysqladmin ping -h 127.0.0.1", "redis": "redis-cli ping",
                 "mongodb": "mongosh --quiet --eval 'db.runCommand({ping: 1})'"}
_MESH_PROXY = lazy_re(r"(?i)aws-appmesh-envoy|\benvoy\b|envoyproxy/|\blinkerd-proxy\b")
_CONNECTED = lazy_re(r"(?i)\b(?:connected to|connection (?:established|succeeded|restored)|reconnected|"
                        r"ready to accept connections|database is ready|connection pool started|"
                        r"start completed)\b")
_NOT_CONNECTED = lazy_re(r"(?i)\b(?:not|dis|un)connected|could not|failed|unable|error")


# The engine a server's own "ready" line names when its image does not (PostgreSQL says "database system is ready",
# MySQL/MariaDB "ready for connections", MongoDB "Waiting for connections", Redis/Valkey a bare "Ready to accept").
_READY_ENGINES = ((lazy_re(r"(?i)database system is ready to accept connections"), "postgres"),
                  (lazy_re(r"(?i)ready for connections"), "mysql"),
                  (lazy_re(r"(?i)waiting for connections"), "mongodb"),
                  (lazy_re(r"(?i)ready to accept connections"), "redis"))
_FAMILY = {"mariadb": "mysql"}


def _own_texts(ev: Evidence, container: str | None) -> list[str]:
    """The log lines of one container (all lines when the container is not known)."""
    return [t for t, c in zip(ev.logs.texts, ev.logs.containers, strict=False) if not container or c in (container, None)]


def _same_engine(ev: Evidence, container: str | None, line: str, engine: str | None) -> bool:
    """Whether the container that said it was ready runs the engine the app failed to reach: its image's engine,
    else the engine its ready line is worded in."""
    image = next((c.image for c in ev.detail.containers if c.name == container and c.image), None)
    theirs = engine_of(image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]) if image else None
    if not theirs:
        theirs = next((e for r, e in _READY_ENGINES if r.search(line)), None)
    return bool(theirs and engine) and _FAMILY.get(str(theirs), theirs) == _FAMILY.get(str(engine), engine)


def _task_local(ev: Evidence, host: str | None, others: list[str]) -> bool:
    """Whether the address the app was refused at is inside the task: localhost, another container's name (a
    `links` alias is that name), or a Docker bridge-network address on a task without its own network interface.
    An endpoint name (an RDS host) or a VPC address on an awsvpc task is elsewhere."""
    if not host:
        return False
    h = host.lower().strip("[]")
    if h in _LOCAL or h.startswith("127."):
        return True
    if h.split(".")[0] in {o.lower() for o in others} and not h.replace(".", "").isdigit():
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False
    bridge = remedy.localhost_mode(ev) in ("bridge", "not-awsvpc")
    return bridge and ip in ipaddress.ip_network("172.16.0.0/12")


def _connected_later(ev: Evidence, anchor: int | None) -> int | None:
    """A line after the failed connection that says a connection then worked: the database came up late."""
    if anchor is None:
        return None
    for j in range(anchor + 1, len(ev.logs.texts)):
        text = ev.logs.texts[j]
        if _CONNECTED.search(text) and not _NOT_CONNECTED.search(text):
            return j
    return None
