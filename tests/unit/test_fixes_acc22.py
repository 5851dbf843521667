"""An unexpanded ${NAME} placeholder names a variable that was not set; a connect that cannot use its address
(EADDRNOTAVAIL) is a failed connection; Agroal's connection failures are a database's. Each with a near miss."""

from __future__ import annotations

from shared.patterns import connection
from tests.unit.helpers import run

_TRACE = ["\tat com.example.Main.main(Main.java:12)"]


def test_a_placeholder_shown_as_dollar_brace_names_the_unset_variable():
    got = run(["Caused by: io.micronaut.context.exceptions.ConfigurationException: Error resolving property",
               "Message: Could not resolve placeholder ${PAYMENTS_API_TOKEN}", *_TRACE])
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "PAYMENTS_API_TOKEN"
    # Spring's quoted form still names it.
    spring = run(["java.lang.IllegalArgumentException: Could not resolve placeholder 'MAIL_HOST' in value "
                  "\"${MAIL_HOST}\"", *_TRACE])
    assert spring.pattern == "missing-env-var" and spring.facts["variable"] == "MAIL_HOST"


def test_an_error_showing_a_value_as_its_unexpanded_placeholder_is_a_missing_variable():
    got = run(["TypeError [ERR_INVALID_URL]: Invalid URL: ${ORDERS_BROKER_URL}", "    at new URL (node:internal/url:775:36)"])
    assert got.pattern == "missing-env-var" and got.facts["variable"] == "ORDERS_BROKER_URL"


def test_placeholders_with_a_default_in_source_or_without_an_error_are_not_missing_variables():
    for lines in (["Error: Invalid URL: ${ORDERS_BROKER_URL:-amqp://mq:5672}"],  # a default: substitution had a value
                  ["Error: failed at `const url = ${ORDERS_BROKER_URL}` in config.js"],  # quoted source code
                  ["Error: unknown property ${app.broker.url}"],  # a property, not an environment variable's name
                  ["Loaded template with ${ORDERS_BROKER_URL} for the report header"]):  # no error
        assert run(lines).pattern != "missing-env-var", lines


def test_a_connect_that_cannot_assign_its_address_is_an_unreachable_database():
    got = run(["panic: dial tcp [::1]:5432: connect: cannot assign requested address"])
    assert got.pattern == "database-connection-failed"
    assert got.facts["cause"] == "unreachable" and got.facts["port"] == 5432
    assert connection.failure_cause("connect EADDRNOTAVAIL 127.0.0.1:6379 - Local (0.0.0.0:0)") == "unreachable"


def test_a_bind_that_cannot_assign_its_address_is_no_connection_failure():
    line = "listen tcp 10.0.7.9:8080: bind: cannot assign requested address"
    assert connection.failure_cause(line) is None
    assert run([line]).pattern != "database-connection-failed"


def test_an_agroal_datasource_connection_failure_is_a_database_connection_failure():
    got = run(["2026-02-03 10:00:01,100 WARN  [io.agroal.pool] (agroal-7) Datasource 'inventory': "
               "The connection attempt failed.",
               "2026-02-03 10:00:01,200 ERROR [io.quarkus.runtime.Application] (main) Failed to start application",
               "\tat io.quarkus.runtime.Quarkus.run(Quarkus.java:71)"])
    assert got.pattern == "database-connection-failed" and got.facts["cause"] == "timeout"


def test_the_same_words_from_another_client_are_not_a_database():
    got = run(["2026-02-03 10:00:01,100 ERROR [io.vertx.core.net.impl.ConnectionBase] (vert.x-eventloop-thread-1) "
               "The connection attempt failed.",
               "2026-02-03 10:00:01,200 ERROR [io.quarkus.runtime.Application] (main) Failed to start application",
               "\tat io.quarkus.runtime.Quarkus.run(Quarkus.java:71)"])
    assert got.pattern != "database-connection-failed"
