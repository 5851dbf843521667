"""database-connection-failed: drivers of every kind failing to reach or log in to a database."""

from __future__ import annotations

import pytest

from shared.patterns.database_connection_failed import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, elb_failed, exited

ID = "database-connection-failed"
RDS = "orders.c9akciq32.us-east-1.rds.amazonaws.com"

POSITIVES = [
    # Flyway as an init container: the JDBC URL names host and engine; "connection attempt failed" is the
    # PgJDBC wording of a connect timeout and the only failure word on the line.
    pytest.param(["ERROR: Unable to obtain connection from database (jdbc:postgresql://db/orders?sslmode=require) for "
                  "user 'postgres': The connection attempt failed."],
                 {"containers": [box(1, "flyway", image="flyway/flyway:10"), box(143, "web")]},
                 {"host": "db", "engine": "postgres", "cause": "timeout", "container": "flyway"},
                 id="flyway-connection-attempt-failed-jdbc-url"),
    # Spring Boot running Flyway: no engine, host or port is named, but the wording says it was the database.
    pytest.param(["org.springframework.beans.factory.BeanCreationException: Error creating bean with name "
                  "'flywayInitializer': Invocation of init method failed; nested exception is org.flywaydb.core."
                  "internal.exception.FlywaySqlException: Unable to obtain connection from database: The connection "
                  "attempt failed.", "-------------------------------------------------------------------------",
                  "SQL State  : 08001", "Error Code : 0", "Message    : The connection attempt failed."],
                 exited(1), {"cause": "timeout"}, id="flyway-no-engine-named-sqlstate-08001"),
    pytest.param(['level=fatal msg="dial tcp: lookup db on 172.16.0.2:53: no such host"'],
                 {"containers": [box(1, "web"), box(0, "db", image="postgres:16")]},
                 {"host": "db", "engine": "postgres", "cause": "dns"}, id="host-is-a-database-container-of-the-task"),
    pytest.param(['Error: getaddrinfo ENOTFOUND orders-db'], exited(1), {"host": "orders-db", "cause": "dns"},
                 id="host-named-like-a-database"),
    pytest.param(['09:52:33 0|app  | db: Could not connect. Will try again. password authentication failed for user '
                  '"joplin"'], exited(1), {"engine": "postgres", "cause": "auth", "user": "joplin"},
                 id="libpq-wording-names-postgres"),
    pytest.param(["10:02:11.204 [error] Ch.Connection (#PID<0.210.0>) failed to connect: ** (Mint.TransportError) "
                  "non-existing domain"], {}, {"engine": "clickhouse", "cause": "dns"}, id="elixir-clickhouse-nxdomain"),
    pytest.param(["KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full. Are you missing "
                  "a .transacting(trx) call?",
                  "    at Client_PG.acquireConnection (/srv/node_modules/knex/lib/client.js:307:26)"], {},
                 {"engine": "postgres", "cause": "timeout"}, id="knex-pool-timeout"),
    pytest.param(["2024-02-01 10:00:01,100 WARN  [io.agroal.pool] (agroal-11) Datasource '<default>': Connection to "
                  "pg.internal:5432 refused. Check that the hostname and port are correct and that the postmaster "
                  "is accepting TCP/IP connections."], exited(1),
                 {"host": "pg.internal", "port": 5432, "engine": "postgres", "cause": "refused"},
                 id="refused-logged-at-warn-then-exit-1"),
    pytest.param(['psycopg2.OperationalError: connection to server at "db.internal" (10.0.3.12), port 5432 failed: '
                  'Connection refused', '\tIs the server running on that host and accepting TCP/IP connections?'],
                 {}, {"host": "db.internal", "port": 5432, "engine": "postgres", "cause": "refused"},
                 id="psycopg2-refused"),
    pytest.param([f'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "{RDS}" '
                  '(10.0.1.5), port 5432 failed: FATAL:  password authentication failed for user "orders_app"'],
                 {}, {"host": RDS, "engine": "postgres", "cause": "auth", "user": "orders_app"},
                 id="sqlalchemy-password-auth"),
    pytest.param(['psycopg2.OperationalError: could not translate host name "postgres" to address: Name or service '
                  'not known'], {}, {"host": "postgres", "engine": "postgres", "cause": "dns"}, id="psycopg2-dns"),
    pytest.param(["django.db.utils.OperationalError: could not connect to server: Connection timed out",
                  f'\tIs the server running on host "{RDS}" (34.246.133.146) and accepting',
                  "\tTCP/IP connections on port 5432?"],
                 {}, {"host": RDS, "port": 5432, "engine": "postgres", "cause": "timeout"}, id="django-libpq-timeout"),
    pytest.param(['psycopg2.OperationalError: connection to server at "pg.internal" (10.1.1.1), port 5432 failed: '
                  'FATAL:  database "orders" does not exist'], {}, {"engine": "postgres", "cause": "not-found"},
                 id="database-does-not-exist"),
    pytest.param(['FATAL:  no pg_hba.conf entry for host "10.0.1.7", user "app", database "app", no encryption'],
                 {}, {"engine": "postgres", "cause": "auth"}, id="pg-hba"),
    pytest.param(['asyncpg.exceptions.InvalidPasswordError: password authentication failed for user "postgres"'],
                 {}, {"engine": "postgres", "cause": "auth", "user": "postgres"}, id="asyncpg-password"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.2.15:5432",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {", "  errno: -111,",
                  "  code: 'ECONNREFUSED',", "  syscall: 'connect',", "  address: '10.0.2.15',", "  port: 5432", "}"],
                 {}, {"host": "10.0.2.15", "port": 5432, "engine": "postgres", "cause": "refused"},
                 id="node-pg-econnrefused"),
    pytest.param(["Error: connect ETIMEDOUT 172.31.5.9:5432",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1300:16)"],
                 {}, {"host": "172.31.5.9", "port": 5432, "engine": "postgres", "cause": "timeout"},
                 id="etimedout-to-5432-is-database-not-egress"),
    pytest.param(["ERROR 1045 (28000): Access denied for user 'app'@'10.0.1.23' (using password: YES)"],
                 {}, {"engine": "mysql", "cause": "auth", "user": "app"}, id="mysql-client-access-denied"),
    pytest.param(["Error: Access denied for user 'wp'@'172.31.20.4' (using password: YES)",
                  "    at Packet.asError (/app/node_modules/mysql2/lib/packets/packet.js:728:17)",
                  "  code: 'ER_ACCESS_DENIED_ERROR',"], {}, {"engine": "mysql", "cause": "auth", "user": "wp"},
                 id="node-mysql2-access-denied"),
    pytest.param(["pymysql.err.OperationalError: (2003, \"Can't connect to MySQL server on "
                  "'mydb.cluster-abc.eu-west-1.rds.amazonaws.com' (timed out)\")"],
                 {}, {"host": "mydb.cluster-abc.eu-west-1.rds.amazonaws.com", "engine": "mysql", "cause": "timeout"},
                 id="pymysql-timeout"),
    pytest.param(["com.mysql.cj.jdbc.exceptions.CommunicationsException: Communications link failure", "",
                  "The last packet sent successfully to the server was 0 milliseconds ago. The driver has not "
                  "received any packets from the server.", "Caused by: java.net.ConnectException: Connection timed out"],
                 {}, {"engine": "mysql", "cause": "timeout"}, id="jdbc-communications-link-failure"),
    pytest.param(["com.zaxxer.hikari.pool.HikariPool$PoolInitializationException: Failed to initialize pool: "
                  "Connection to localhost:5432 refused. Check that the hostname and port are correct and that the "
                  "postmaster is accepting TCP/IP connections."],
                 {}, {"host": "localhost", "port": 5432, "engine": "postgres", "cause": "refused"},
                 id="hikari-localhost"),
    pytest.param(["SequelizeConnectionRefusedError: connect ECONNREFUSED 10.0.0.8:3306"], {},
                 {"engine": "mysql", "cause": "refused", "port": 3306}, id="sequelize"),
    pytest.param(["Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error "
                  "occurred while establishing a connection to SQL Server. The server was not found or was not "
                  "accessible."], {}, {"engine": "mssql", "cause": "timeout"}, id="sqlclient-network"),
    pytest.param(["Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'sa'."], {},
                 {"engine": "mssql", "cause": "auth", "user": "sa"}, id="sqlclient-login"),
    pytest.param(["pymongo.errors.ServerSelectionTimeoutError: cluster0-shard-00-00.abcde.mongodb.net:27017: timed "
                  "out, Timeout: 30s, Topology Description: <TopologyDescription id: 65, topology_type: "
                  "ReplicaSetNoPrimary>"], {}, {"engine": "mongodb", "cause": "timeout", "port": 27017},
                 id="pymongo-server-selection"),
    pytest.param(["MongooseServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017",
                  "    at NativeConnection.Connection.openUri (/app/node_modules/mongoose/lib/connection.js:825:32)"],
                 {}, {"engine": "mongodb", "cause": "refused", "host": "127.0.0.1"}, id="mongoose-localhost"),
    pytest.param(["redis.exceptions.ConnectionError: Error 111 connecting to "
                  "my-redis.abc123.0001.use1.cache.amazonaws.com:6379. Connection refused."],
                 {}, {"engine": "redis", "cause": "refused", "port": 6379,
                      "host": "my-redis.abc123.0001.use1.cache.amazonaws.com"}, id="redis-py-elasticache"),
    pytest.param(["[ioredis] Unhandled error event: Error: connect ETIMEDOUT",
                  "    at Socket.<anonymous> (/app/node_modules/ioredis/built/Redis.js:170:41)"],
                 {}, {"engine": "redis", "cause": "timeout"}, id="ioredis"),
    pytest.param(["Error: P1001: Can't reach database server at "
                  "`prod-db.cluster-ro-xyz.us-east-2.rds.amazonaws.com`:`5432`"],
                 {}, {"engine": "postgres", "cause": "timeout", "port": 5432,
                      "host": "prod-db.cluster-ro-xyz.us-east-2.rds.amazonaws.com"}, id="prisma-p1001"),
    pytest.param(["2024/05/01 10:00:00 failed to connect to `host=db.prod.internal user=api database=orders`: dial "
                  "error (dial tcp 10.0.4.4:5432: connect: connection refused)"],
                 {}, {"engine": "postgres", "cause": "refused", "port": 5432}, id="go-pgx"),
    pytest.param(["panic: dial tcp 10.0.4.4:5432: i/o timeout"], exited(2),
                 {"engine": "postgres", "cause": "timeout", "port": 5432}, id="go-panic-dial"),
    pytest.param(["ActiveRecord::ConnectionNotEstablished: could not connect to server: Connection refused",
                  '\tIs the server running on host "db" (172.18.0.2) and accepting',
                  "\tTCP/IP connections on port 5432?"],
                 {}, {"engine": "postgres", "cause": "refused", "host": "db", "port": 5432}, id="rails-activerecord"),
    pytest.param(['{"level": "ERROR", "message": "django.db.utils.OperationalError: connection to server at '
                  '\\"pg.internal\\" (10.1.1.1), port 5432 failed: timeout expired"}'],
                 {}, {"engine": "postgres", "cause": "timeout", "host": "pg.internal"}, id="json-structured"),
    pytest.param(["[Nest] 1  - 05/01/2024, 10:00:00 AM   ERROR [TypeOrmModule] Unable to connect to the database. "
                  "Retrying (1)...", "Error: getaddrinfo ENOTFOUND postgres-db",
                  "    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)"],
                 {}, {"cause": "dns", "host": "postgres-db"}, id="nestjs-typeorm-dns"),
    pytest.param([f"Error: connect ETIMEDOUT {RDS}:6000"], {}, {"host": RDS, "port": 6000, "cause": "timeout"},
                 id="rds-host-on-a-custom-port-engine-unnamed"),
    pytest.param(["ORA-12541: TNS:no listener"], {}, {"engine": "oracle", "cause": "refused"}, id="oracle-no-listener"),
    pytest.param(["INFO[2023-09-24T06:39:21Z] connecting to database db-1.cluster-abc.us-west-2.rds.amazonaws.com:5432",
                  "WARN[2023-09-24T06:39:25Z] failed to connect to postgres, trying again in 4s  error=\"failed to "
                  "connect to `host=db-1.cluster-abc.us-west-2.rds.amazonaws.com user=postgres database=app`: hostname "
                  "resolving error (lookup db-1.cluster-abc.us-west-2.rds.amazonaws.com on 127.0.0.11:53: no such host)\""],
                 elb_failed(143), {"host": "db-1.cluster-abc.us-west-2.rds.amazonaws.com", "port": 5432,
                                   "engine": "postgres", "cause": "dns"}, id="port-from-the-announced-endpoint"),
    pytest.param(["failed to run server: WRONGPASS invalid username-password pair or user is disabled"], exited(1),
                 {"engine": "redis", "cause": "auth"}, id="redis-wrongpass-without-endpoint"),
    pytest.param(["MongoServerError: bad auth : Authentication failed."], exited(1),
                 {"engine": "mongodb", "cause": "auth"}, id="mongodb-atlas-bad-auth"),
    pytest.param(["Error: P1001: Can't reach database server at `<endpoint>`:`3306`", "",
                  "Please make sure your database server is running at `<endpoint>`:`3306`."], exited(1),
                 {"host": "<endpoint>", "port": 3306, "engine": "mysql"}, id="prisma-with-a-placeholder-host"),
    # No engine, port or database host named: the error type of a client that only talks to databases says it.
    pytest.param(["SequelizeHostNotFoundError: getaddrinfo ENOTFOUND orders-primary.internal",
                  "    at ConnectionManager.connect (/app/node_modules/sequelize/lib/dialects/abstract/connection-manager"
                  ".js:94:17)"], exited(1),
                 {"host": "orders-primary.internal", "cause": "dns"}, id="sequelize-host-not-found-error-type"),
    pytest.param(['{', '  "name": "SequelizeConnectionTimedOutError",', '  "parent": {', '    "code": "ETIMEDOUT",',
                  '    "syscall": "connect"', '  }', '}'], exited(1), {"cause": "timeout"},
                 id="sequelize-error-object-printed-over-lines"),
    pytest.param(["org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection; nested "
                  "exception is java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, "
                  "request timed out after 30000ms."], exited(1), {"cause": "timeout"},
                 id="spring-jdbc-hikari-pool-timeout-no-url"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_localhost_is_called_out_as_a_missing_database_url():
    finding = run(["Error: connect ECONNREFUSED 127.0.0.1:5432"])
    assert_finding(finding, ID, {"host": "127.0.0.1", "cause": "refused"})
    assert "inside a container is the container itself" in finding.remediation[0]


NEGATIVES = [
    pytest.param(["2024-02-01 10:00:01,100 WARN  [io.agroal.pool] (agroal-11) Datasource '<default>': Connection "
                  "to pg.internal:5432 refused."], exited(143), "unknown", id="warn-then-stopped-from-outside"),
    pytest.param(['botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: '
                  '"https://sqs.us-east-1.amazonaws.com/"'], {}, "network-egress-blocked", id="aws-api-timeout"),
    pytest.param(["Error: connect ETIMEDOUT 52.94.133.131:443"], {}, "network-egress-blocked", id="https-timeout"),
    pytest.param(["botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetItem "
                  "operation: User: arn:aws:sts::111122223333:assumed-role/orders-task/abc is not authorized to "
                  "perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:111122223333:table/orders"],
                 {}, "iam-access-denied", id="dynamodb-is-iam-not-database-login"),
    pytest.param(["WARN could not connect to server: Connection refused (retrying in 2s)",
                  "INFO connected to postgres at db:5432", "Traceback (most recent call last):",
                  '  File "/app/a.py", line 2, in <module>', "    x()", "RuntimeError: boom"],
                 {}, "app-crash", id="retried-at-warn-then-connected"),
    pytest.param(["requests.exceptions.ConnectionError: HTTPConnectionPool(host='payments.internal', port=8080): Max "
                  "retries exceeded with url: /charge (Caused by NewConnectionError('<urllib3.connection."
                  "HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection "
                  "refused'))"], {}, "app-crash", id="refused-http-service"),
    pytest.param(["System.Net.Http.HttpRequestException: A connection attempt failed because the connected party did "
                  "not properly respond after a period of time (payments.example.com:443)"], {},
                 "app-crash", id="dotnet-connection-attempt-failed-to-an-https-api"),
    pytest.param(["java.lang.IllegalStateException: Unable to obtain connection from pool: the connection attempt "
                  "failed (api.partner.example:8443)"], {}, "app-crash",
                 id="connection-pool-of-an-http-client-is-not-a-database"),
    pytest.param(["[2024-05-01 10:00:00,000: CRITICAL/MainProcess] Unrecoverable error: ImproperlyConfigured('Cannot "
                  "connect to broker')", "Traceback (most recent call last):",
                  '  File "/usr/local/lib/python3.12/site-packages/celery/worker/worker.py", line 202, in start',
                  "    self.blueprint.start(self)", "kombu.exceptions.OperationalError: [Errno 111] Connection refused"],
                 {}, "app-crash", id="message-broker-operationalerror-is-not-a-database"),
    # A database client's other lines next to a timeout to an HTTP API: the client is there, the failure is not its.
    pytest.param(["SequelizeValidationError: notNull Violation: Order.total cannot be null",
                  "Error: connect ETIMEDOUT 52.94.133.131:443"], exited(1), "network-egress-blocked",
                 id="sequelize-validation-error-next-to-an-api-timeout"),
    pytest.param(["2024-05-01 10:00:00.000  INFO 1 --- [main] com.zaxxer.hikari.HikariDataSource : HikariPool-1 - "
                  "Start completed.", "java.net.SocketTimeoutException: connect timed out (api.partner.example:8443)"],
                 exited(1), "app-crash", id="hikari-started-then-an-http-connect-timeout"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_containers_without_a_name_or_image_do_not_break_the_name_lookup():
    detail = {"containers": [{"lastStatus": "STOPPED", "exitCode": 1}, box(0, "db", image=None)]}
    assert run(['dial tcp: lookup db on 10.0.0.2:53: no such host'], **detail).pattern == ID


def test_the_port_of_a_longer_host_name_is_not_taken():
    logs = ["connected to session store cache-db:6379",
            'psycopg2.OperationalError: could not translate host name "db" to address: Name or service not known']
    finding = run(logs, **exited(1))
    assert finding.facts.get("port") != 6379 and finding.facts.get("engine") == "postgres"


@pytest.mark.parametrize(("group", "loop"), [("service:api", "crash-loop the service"),
                                             ("family:api-migrate", "fail the whole run")])
def test_retry_advice_names_a_service_only_when_one_runs_the_task(group, loop):
    logs = ["ERROR: Unable to obtain connection from database (jdbc:postgresql://db/orders?sslmode=require) for "
            "user 'postgres': The connection attempt failed.",
            # a later connection that worked: the database was only late, the case retrying is for
            "HikariPool-1 - Start completed."]
    finding = run(logs, **exited(1), group=group, startedBy="ecs-deploy")
    assert finding.pattern == ID
    text = " ".join(finding.remediation)
    assert loop in text and ("crash-loop the service" in text) == group.startswith("service:"), text


@pytest.mark.parametrize(("line", "vague"), [
    (f"Error: P1001: Can't reach database server at `{RDS}`:`3306`", True),
    ("goose run: dial tcp 10.0.20.65:5432: connect: connection timed out", False),
])
def test_cant_reach_is_not_called_a_timeout(line, vague):
    """P1001 "Can't reach" gives no connection, for a timeout, a refusal or a name that does not resolve alike:
    no "packets get no answer"; a real `connection timed out` keeps the timeout wording (near miss)."""
    f = run([line], **exited(1))
    text = " ".join([f.title, f.summary, *f.remediation])
    assert ("get no answer" in text) == (not vague), text
    assert ("no connection was made" in f.summary.lower()) == vague
    assert "security group" in f.remediation[0]


def test_an_auth_failure_names_no_port_the_evidence_does_not_give():
    f = run(['org.postgresql.util.PSQLException: FATAL: password authentication failed for user "app"'], **exited(1))
    assert f.pattern == ID and "5432" not in f.title + f.summary, (f.title, f.summary)
    f = run([f'FATAL: password authentication failed for user "app" (host {RDS}, port 6432)'], **exited(1))
    assert f.pattern == ID


def test_localhost_with_no_database_container_points_at_the_real_host_and_does_not_retry():
    finding = run(["MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"])
    fix = "\n".join(finding.remediation)
    assert "`MONGO_URL`" in finding.remediation[0] and "retrying cannot help" in finding.remediation[0]
    assert "backoff" not in fix


def test_near_miss_localhost_with_the_database_container_in_the_task_waits_for_it():
    detail = {"containers": [box(1, "app"), box(None, "db", image="mongo:7")]}
    finding = run(["MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"], **detail)
    assert "`db`" in finding.remediation[0] and "dependsOn" in finding.remediation[0]
    assert "retry the first connection" in finding.remediation[0]


@pytest.mark.parametrize(("line", "retry"), [
    ("MongoNetworkError: failed to connect to server [127.0.0.1:27017] on first connect [Error: connect ECONNREFUSED "
     "127.0.0.1:27017]", False),
    (f"psycopg2.OperationalError: could not translate host name \"{RDS}\" to address: Name or service not known", False),
    (f"psycopg2.OperationalError: could not connect to server: Connection refused Is the server running on host "
     f"\"{RDS}\" and accepting TCP/IP connections on port 5432?", False),
    (f"psycopg2.OperationalError: could not connect to server: Connection refused Is the server running on host "
     f"\"{RDS}\" and accepting TCP/IP connections on port 5432?\nconnected to {RDS}:5432", True),
])
def test_retry_advice_only_where_a_retry_can_succeed(line, retry):
    """A database on localhost with none in the task, or a name that does not resolve, never comes up by
    retrying; a refused remote server does only when the log shows a later connection that worked (near miss)."""
    f = run(line.split("\n"), **exited(1))
    assert f.pattern == ID
    assert any("retry the first connection" in s for s in f.remediation) == retry, f.remediation


@pytest.mark.parametrize(("line", "refused"), [
    ("Error connecting to Redis on cache.abc.0001.euw2.cache.amazonaws.com:6379 (Errno::ECONNREFUSED)", True),
    (f"dial tcp {RDS}:5432: connect: connection timed out", False),
])
def test_a_refusal_is_never_blamed_on_a_security_group(line, refused):
    """Security groups drop (timeout); a refusal is an answer: no "check the security group admits" for it; near
    miss: a timeout keeps the security group step."""
    f = run([line], **exited(1))
    assert f.pattern == ID
    text = "\n".join(f.remediation)
    assert ("security group must admit" in text or "security group admits" in text) == (not refused), text


def test_a_database_at_a_public_address_outside_aws_gets_no_security_group_or_peering_step():
    """A timeout to a host the driver shows at a public IP (not an AWS endpoint), from a task without an ENI:
    the server's own firewall and the instance's way out, no 'database security group' / peering. Near miss: the
    same timeout to a private address keeps the security-group step, naming the instance's group (no ENI)."""
    lines = ["could not connect to server: Connection timed out",
             '\tIs the server running on host "db.example.net" (93.184.216.34) and accepting',
             "\tTCP/IP connections on port 49155?"]
    f = run(lines, **exited(1), launchType="EC2", attachments=[])
    assert f.pattern == "database-connection-failed" and f.facts.get("cause") == "timeout"
    fix = "\n".join(f.remediation)
    assert "93.184.216.34" in f.remediation[0] and "firewall" in f.remediation[0]
    assert "database security group" not in fix and "peered" not in fix and "task's security group" not in fix
    assert "container instance's public IP" in fix
    near = run([lines[0], lines[1].replace("93.184.216.34", "10.0.3.7"), lines[2]], **exited(1), launchType="EC2",
               attachments=[])
    nfix = "\n".join(near.remediation)
    assert "database security group must admit TCP 49155 from the container instances' security group" in nfix


def test_an_aurora_host_name_is_not_read_as_an_oracle_error_code():
    """"ora-" names Oracle only as its error code (ORA-12541); inside a name such as aurora-cluster it does not."""
    from shared.patterns.base import engine_of

    assert engine_of("connect ETIMEDOUT", host="orders.aurora-cluster.internal") == "mysql"
    assert engine_of("ORA-12541: TNS:no listener") == "oracle"
    assert engine_of("java.sql.SQLException: ORA-01017: invalid username/password; logon denied") == "oracle"
    assert engine_of("could not reach flora-api:8080") is None


@pytest.mark.parametrize(("line", "facts"), [
    pytest.param(f"connect_to {RDS} port 5432: failed.", {"host": RDS, "port": 5432, "engine": "postgres"},
                 id="ssh-tunnel-to-an-rds-endpoint"),
    pytest.param("connect_to 10.0.3.17 port 3306: failed.", {"host": "10.0.3.17", "port": 3306, "engine": "mysql"},
                 id="ssh-tunnel-to-a-database-port"),
])
def test_a_tunnel_that_could_not_reach_its_database_fails_the_task_even_at_exit_0(line, facts):
    """A bastion's sshd reports a forwarded channel it could not open ("connect_to H port N: failed.") and the
    container exits 0: a failed connection to a database is a failure, not an expected stop. The line does not
    say how it failed, so no cause is claimed."""
    finding = run(["Server listening on 0.0.0.0 port 22.", line], **exited(0, "bastion"))
    assert_finding(finding, ID, {**facts, "container": "bastion"})
    assert "cause" not in finding.facts


def test_near_miss_a_tunnel_to_another_service_is_not_a_database():
    """Near miss: the same sshd line about a web service's port on a plain host names no database."""
    logs = ["connect_to internal-api.corp.example port 8443: failed."]
    assert PATTERN.match(evidence(logs, **exited(0, "bastion"))) is None


DATASTORES = [
    pytest.param(["ERROR [2024-03-02T08:00:01.120Z]: Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect "
                  "ECONNREFUSED 10.0.7.21:19092", '    code: "kafkajs"'],
                 {"host": "10.0.7.21", "port": 19092, "engine": "kafka", "cause": "refused"},
                 id="kafkajs-on-a-custom-port-named-by-its-client"),
    pytest.param(["%3|1709366401.120|FAIL|rdkafka#consumer-1| [thrd:b-1.events:9092/bootstrap]: b-1.events:9092/"
                  "bootstrap: Connect to ipv4#10.0.7.21:9092 failed: Connection refused (after 0ms in state CONNECT)",
                  "Error: connect ECONNREFUSED 10.0.7.21:9092"],
                 {"port": 9092, "engine": "kafka", "cause": "refused"}, id="kafka-default-port"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.9.4:5672", "    at TCPConnectWrap.afterConnect [as oncomplete] "
                  "(node:net:1595:16)", "    at /app/node_modules/amqplib/lib/connect.js:170:12"],
                 {"host": "10.0.9.4", "port": 5672, "engine": "rabbitmq", "cause": "refused"}, id="rabbitmq-amqp-port"),
    pytest.param(["ConnectionError: connect ECONNREFUSED 10.0.3.3:9200",
                  "    at ClientRequest.onError (/app/node_modules/@elastic/elasticsearch/lib/Connection.js:116:16)"],
                 {"host": "10.0.3.3", "port": 9200, "engine": "elasticsearch", "cause": "refused"},
                 id="elasticsearch-client"),
]


@pytest.mark.parametrize(("logs", "facts"), DATASTORES)
def test_the_apps_other_data_stores_and_brokers_count_as_its_database(logs, facts):
    """The taxonomy's rule (a database port, endpoint or client) holds for the other stores an app cannot run
    without: Kafka, RabbitMQ, Elasticsearch/OpenSearch. The steps name no RDS or ElastiCache command for them."""
    finding = run(logs, **exited(1))
    assert_finding(finding, ID, facts)
    assert not any("aws rds" in s or "elasticache" in s for s in finding.remediation)


def test_a_refused_local_broker_is_pointed_at_the_brokers_endpoint_not_a_database_url():
    finding = run(["KafkaJSConnectionError: Connection error: connect ECONNREFUSED 127.0.0.1:9092",
                   "    at Socket.onError (/app/node_modules/kafkajs/src/network/connection.js:210:23)"], **exited(1))
    assert_finding(finding, ID, {"engine": "kafka", "cause": "refused"})
    assert "broker" in finding.summary and "DATABASE_URL" not in " ".join(finding.remediation)


@pytest.mark.parametrize("logs", [
    pytest.param(["Error: connect ECONNREFUSED 10.0.3.3:9200", "    at TCPConnectWrap.afterConnect [as oncomplete] "
                  "(node:net:1595:16)"], id="port-9200-alone-names-no-client"),
    pytest.param(["Error: connect ECONNREFUSED 10.0.5.8:8080", "    at TCPConnectWrap.afterConnect [as oncomplete] "
                  "(node:net:1595:16)"], id="an-http-service"),
])
def test_near_miss_a_refusal_naming_no_store_is_not_a_database(logs):
    assert PATTERN.match(evidence(logs, **exited(1))) is None


def _cut_trace(*frames: tuple[str, str]) -> list[str]:
    lines = ["Traceback (most recent call last):"]
    for frame, code in frames:
        lines += [frame, f"    {code}"]
    return lines


_APP_FRAME = ('  File "/srv/app/cli.py", line 12, in upgrade', "engine.connect()")
_PSYCOPG_CONNECT = ('  File "/usr/lib/python3.11/site-packages/psycopg2/__init__.py", line 122, in connect',
                    "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)")


def test_a_traceback_cut_inside_the_drivers_connect_is_a_database_connection_failure():
    finding = run({"worker": _cut_trace(_APP_FRAME, _PSYCOPG_CONNECT)}, **exited(1, name="worker"))
    assert_finding(finding, ID, {"container": "worker"})


def test_near_miss_a_traceback_with_its_exception_line_is_not_read_as_cut():
    """The exception is in the log (a KeyError raised in the driver): the cut-trace rule names nothing."""
    logs = [*_cut_trace(_APP_FRAME, _PSYCOPG_CONNECT), "KeyError: 'sslmode'"]
    assert PATTERN._cut_connect_traceback(evidence({"worker": logs}, **exited(1, name="worker"))) is None


def test_near_miss_a_cut_traceback_ending_in_the_apps_own_code_is_not_the_database():
    """The driver's connect frame is an outer one; the innermost frames are the app's own: not a connection."""
    own = ('  File "/srv/app/report.py", line 40, in render', "return template.format(**row)")
    logs = _cut_trace(_PSYCOPG_CONNECT, _APP_FRAME, own, own)
    assert PATTERN._cut_connect_traceback(evidence({"worker": logs}, **exited(1, name="worker"))) is None


def test_near_miss_a_cut_connect_traceback_of_a_container_that_exited_0_is_not_why_it_stopped():
    logs = _cut_trace(_APP_FRAME, _PSYCOPG_CONNECT)
    assert PATTERN._cut_connect_traceback(evidence({"worker": logs}, **exited(0, name="worker"))) is None


@pytest.mark.parametrize("line", [
    "level=error msg=\"failed to ping DB, retrying\" err=\"dial tcp 203.0.113.40:6432: i/o timeout\"",
    "ERROR could not connect to the primary database: dial tcp 10.2.0.9:15432: connect: connection timed out",
])
def test_a_line_saying_it_called_its_database_counts_on_an_unusual_port(line):
    """No engine, driver or known port is named, but the failing line itself says the database was called."""
    finding = run([line], **elb_failed())
    assert_finding(finding, ID, {"cause": "timeout"})


@pytest.mark.parametrize("line", [
    "level=error msg=\"failed to ping upstream, retrying\" err=\"dial tcp 203.0.113.40:6432: i/o timeout\"",
    "level=error msg=\"failed to ping dbus bridge\" err=\"dial tcp 10.2.0.9:7000: i/o timeout\"",
    "ERROR could not connect to database-exporter: dial tcp 10.2.0.9:443: i/o timeout",
])
def test_near_miss_a_timeout_to_something_not_called_a_database(line):
    assert PATTERN.match(evidence([line], **elb_failed())) is None


_RB_GEMS = "/app/vendor/bundle/ruby/3.2.0/gems"


def test_a_ruby_backtrace_whose_innermost_frame_is_the_adapters_connect_is_a_database_connection_failure():
    # The excerpt lost the message line: the innermost frame (Ruby prints it first) is the adapter opening a client.
    logs = [f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/postgresql_adapter.rb:87:in "
            "`rescue in new_client'",
            f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/postgresql_adapter.rb:77:in "
            "`new_client'",
            f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/abstract/connection_pool.rb:"
            "656:in `new_connection'"]
    finding = run({"web": logs}, **exited(1, name="web"))
    assert_finding(finding, ID, {"container": "web"})
    assert "not the error that names why" in finding.remediation[0]


def test_near_miss_a_ruby_backtrace_of_a_pool_that_lent_no_connection_is_not_a_connect_failure():
    # An exhausted pool fails waiting for a connection it has, not opening one.
    logs = [f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/abstract/connection_pool/queue.rb:"
            "128:in `block in wait_poll'",
            f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/abstract/connection_pool.rb:"
            "683:in `acquire_connection'",
            f"{_RB_GEMS}/activerecord-7.0.8/lib/active_record/connection_adapters/abstract/connection_pool.rb:"
            "181:in `connection'"]
    assert PATTERN._cut_connect_traceback(evidence({"web": logs}, **exited(1, name="web"))) is None


_DJANGO = "/usr/local/lib/python3.11/site-packages/django/db/backends"


def test_a_headerless_python_trace_cut_where_the_backend_opens_a_connection_is_a_database_connection_failure():
    # An excerpt that starts and ends inside the traceback (3.11 ^^^ markers): the innermost frame's source line opens
    # a connection.
    logs = ["    connection.features.can_return_columns_from_insert or",
            "    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
            f'  File "{_DJANGO}/base/base.py", line 262, in get_database_version',
            "    return self.connection.server_version",
            f'  File "{_DJANGO}/postgresql/base.py", line 190, in server_version',
            "    with self.temporary_connection():"]
    finding = run({"migrate": logs}, **exited(1, name="migrate"))
    assert_finding(finding, ID, {"container": "migrate"})


def test_near_miss_a_python_trace_cut_in_the_pools_wait_is_not_a_connect_failure():
    # SQLAlchemy's QueuePool raising its TimeoutError (pool exhausted): _do_get, but not creating a connection.
    logs = _cut_trace(('  File "/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/base.py", line 712, in checkout',
                       "rec = pool._do_get()"),
                      ('  File "/usr/local/lib/python3.11/site-packages/sqlalchemy/pool/impl.py", line 168, in _do_get',
                       "raise exc.TimeoutError("))
    assert PATTERN._cut_connect_traceback(evidence({"worker": logs}, **exited(1, name="worker"))) is None


def test_near_miss_a_headerless_trace_cut_in_a_query_is_not_a_connect_failure():
    logs = [f'  File "{_DJANGO}/utils.py", line 89, in _execute',
            "    return self.cursor.execute(sql, params)",
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
            f'  File "{_DJANGO}/utils.py", line 103, in execute',
            "    return super().execute(sql, params)"]
    assert PATTERN._cut_connect_traceback(evidence({"migrate": logs}, **exited(1, name="migrate"))) is None


@pytest.mark.parametrize(("line", "cause"), [
    pytest.param("FATAL: failed to connect to the app database: timed out waiting 30s "
                 "(pq: the database system is starting up)", "starting", id="gave-up-while-postgres-was-starting"),
    pytest.param('psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                 "the database system is in recovery mode", "starting", id="postgres-in-recovery"),
    pytest.param('psycopg2.OperationalError: connection to server at "127.0.0.1", port 5432 failed: Connection '
                 "refused", "refused", id="near-miss-nothing-listening-at-localhost"),
])
def test_a_database_that_answered_it_is_not_ready_is_waited_for_not_looked_for(line, cause):
    """Postgres answering 57P03 (starting up, recovering) is there, even at localhost: wait for it. Near miss: a
    refusal at localhost in a task of one container is nothing listening there."""
    f = run([line], **exited(1))
    assert f.pattern == ID and f.facts["engine"] == "postgres" and f.facts["cause"] == cause, f.facts
    text = "\n".join(f.remediation)
    assert ("nothing will ever listen" in text) == (cause == "refused"), text
    assert ("retry the first connection" in text) == (cause == "starting"), text


@pytest.mark.parametrize(("line", "expected"), [
    # PHP's PDO puts the MySQL client's error number after SQLSTATE[HY000]: a MySQL connection failure, host unnamed
    ("SQLSTATE[HY000] [2002] Connection refused (SQL: select * from information_schema.tables where table_schema = "
     "shop and table_name = migrations and table_type = 'BASE TABLE')", {"engine": "mysql", "cause": "refused"}),
    ("SQLSTATE[HY000] [2002] No such file or directory", {"engine": "mysql"}),
    # a PDO error that is no connection failure (a missing table, a general error) is not this pattern
    ("SQLSTATE[42S02]: Base table or view not found: 1146 Table 'shop.orders' doesn't exist", None),
    ("SQLSTATE[HY000]: General error: 1 no such table: orders", None),
], ids=["pdo-2002-refused", "pdo-2002-socket", "pdo-missing-table", "pdo-general-error"])
def test_pdos_mysql_error_number_names_the_engine(line, expected):
    logs = ["   Illuminate\\Database\\QueryException", "", "  " + line,
            "  at vendor/laravel/framework/src/Illuminate/Database/Connection.php:670"]
    got = run(logs, **exited(1))
    if expected is None:
        assert got.pattern != "database-connection-failed"
    else:
        assert_finding(got, "database-connection-failed", expected)
