"""A start-up check refusing a setting it names as too low is a fatal app error; "could not" is an error's wording;
an Erlang cookie that differs between nodes, and a kernel parameter below a program's check, get the step they ask
for; an ENI allocation that did not complete is network setup; a database-only client's connection error with no
cause is a database connection failure. Each with near misses that must stay as they are."""

from __future__ import annotations

from typing import Any

from tests.unit.helpers import run

_EC2: dict[str, Any] = {"launchType": "EC2", "containers": [
    {"name": "search", "exitCode": 78, "lastStatus": "STOPPED", "image": "example/search:8"}]}


def _steps(finding: Any) -> str:
    return " ".join(finding.remediation)


# A start-up check that names a setting as too low and what to raise it to.

def test_a_kernel_parameter_below_a_start_up_check_is_an_app_crash_with_a_host_step():
    got = run(["overcommit ratio vm.overcommit_ratio [20] is too low, increase to at least [80]"], **_EC2)
    assert got.pattern == "app-crash" and got.facts["exit_code"] == 78
    steps = _steps(got)
    assert "user data" in steps and "sysctl -w vm.overcommit_ratio=80" in steps and "Fargate" in steps
    assert "systemControls" in steps  # says why the task definition cannot set it


def test_a_namespaced_kernel_parameter_below_a_check_is_set_in_system_controls():
    got = run(["net.core.somaxconn must be at least 4096 for this server"])
    assert got.pattern == "app-crash"
    assert '"namespace": "net.core.somaxconn", "value": "4096"' in _steps(got)
    assert "user data" not in _steps(got)


def test_an_application_setting_below_its_minimum_is_an_app_crash_without_a_kernel_step():
    got = run(["worker.pool_size [2] is too small, set it to at least [4]"])
    assert got.pattern == "app-crash" and "sysctl" not in _steps(got)


def test_a_low_setting_the_program_only_warned_about_is_no_failure():
    # Logged at WARN and the process went on to exit 0: not a failure.
    got = run(["[WARN ] vm.max_map_count [65530] is too low, increase to at least [262144]", "[INFO ] stopped"],
              containers=[{"name": "app", "exitCode": 0, "lastStatus": "STOPPED", "image": "example/app:1"}])
    assert got.pattern == "expected-stop"


def test_the_containers_memory_too_low_stays_out_of_memory():
    got = run(["memory limit [512mb] is too low, increase to at least [1024mb]"],
              containers=[{"name": "app", "exitCode": 137, "lastStatus": "STOPPED", "image": "example/app:1",
                           "reason": "OutOfMemoryError: Container killed due to memory usage"}])
    assert got.pattern == "out-of-memory"


def test_a_jvm_heap_that_ran_out_stays_out_of_memory():
    got = run(["Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space",
               "\tat com.example.Main.main(Main.java:12)"])
    assert got.pattern == "out-of-memory"


# "could not" is an error's wording; an Erlang cookie mismatch names its fix.

def test_a_cluster_node_that_could_not_join_for_its_cookie_is_an_app_crash_with_the_cookie_step():
    got = run(["Erlang cookie on this node differs from the one of node rabbit@mq-1",
               "Node could not join the cluster: no running peer accepted it"])
    assert got.pattern == "app-crash"
    steps = _steps(got)
    assert "same cookie" in steps and "RABBITMQ_ERLANG_COOKIE" in steps and ".erlang.cookie" in steps


def test_an_embedded_store_that_could_not_reach_its_peers_is_not_a_database_connection():
    got = run(["Mnesia could not connect to any running node"])
    assert got.pattern == "app-crash" and "cookie" not in _steps(got).lower()


def test_could_not_connect_to_a_real_database_host_stays_a_database_connection_failure():
    got = run(["psycopg2.OperationalError: could not connect to server: Connection refused",
               "\tIs the server running on host \"orders-db.cluster-abc.us-east-1.rds.amazonaws.com\" and "
               "accepting TCP/IP connections on port 5432?"])
    assert got.pattern == "database-connection-failed" and got.facts["cause"] == "refused"


def test_a_cookie_file_with_loose_permissions_is_not_a_mismatch():
    got = run(["Cookie file /var/lib/rabbitmq/.erlang.cookie must be accessible by owner only"])
    assert "same cookie" not in _steps(got)


# An ENI allocation that did not complete.

_ENI_FAILED = {"stopCode": "TaskFailedToStart",
               "containers": [{"name": "app", "lastStatus": "STOPPED", "image": "example/app:1"}]}


def test_an_eni_allocation_that_did_not_complete_is_network_setup():
    for reason in ("ResourcesNotReady: The ENI allocation could not be completed",
                   "ResourceInitializationError: the network interface provisioning did not complete"):
        got = run([], stoppedReason=reason, **_ENI_FAILED)
        assert got.pattern == "network-setup-failed" and got.facts["cause"] == "incomplete", reason
    # No interface address in the event: the subnet and the account's interface quota are in question (Fargate).
    steps = _steps(run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed",
                       **_ENI_FAILED))
    assert "AvailableIpAddressCount" in steps and "L-DF5E4CA3" in steps and "smaller batches" in steps


def test_an_eni_allocation_that_got_an_address_rules_the_subnet_out():
    attach = [{"id": "a", "type": "eni", "status": "FAILED", "details": [
        {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"}, {"name": "privateIPv4Address", "value": "10.0.3.7"}]}]
    got = run([], stoppedReason="ResourcesNotReady: The ENI allocation could not be completed", attachments=attach,
              **_ENI_FAILED)
    steps = _steps(got)
    assert got.pattern == "network-setup-failed" and "10.0.3.7" in steps and "did not complete" in steps
    # The subnet is ruled out; the account's interface quota is not (fix39: a burst of launches can reach it).
    assert "AvailableIpAddressCount" not in steps and "L-DF5E4CA3" in got.remediation[0]


def test_a_provisioning_timeout_keeps_its_cause():
    got = run([], stoppedReason="Timeout waiting for network interface provisioning to complete.", **_ENI_FAILED)
    assert got.pattern == "network-setup-failed" and got.facts["cause"] == "timeout"


def test_something_else_that_could_not_be_completed_is_not_network_setup():
    got = run([], stoppedReason="ResourcesNotReady: The volume allocation could not be completed", **_ENI_FAILED)
    assert got.pattern != "network-setup-failed"


# A database-only client's connection error that names no cause.

def test_a_jdbc_connection_that_could_not_be_obtained_is_a_database_connection_failure():
    got = run(["ERROR [org.example.Main] (main) Error details:: java.lang.RuntimeException: Failed to obtain JDBC "
               "connection"])
    assert got.pattern == "database-connection-failed" and "cause" not in got.facts and "host" not in got.facts
    assert "which database" in _steps(got) and "H2" in _steps(got)


def test_a_jdbc_failure_that_names_its_cause_and_host_keeps_them():
    got = run(["org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection; "
               "nested exception is org.postgresql.util.PSQLException: Connection to orders-db:5432 refused.",
               "\tat com.example.Main.main(Main.java:12)"])
    assert got.pattern == "database-connection-failed"
    assert got.facts["cause"] == "refused" and got.facts["host"] == "orders-db"
    assert "which database" not in _steps(got)


def test_other_things_that_failed_to_be_obtained_are_not_a_database():
    for line in ("java.lang.RuntimeException: Failed to obtain lock on /data/index.lock",
                 "sqlite3.OperationalError: no such table: orders"):
        assert run([line]).pattern != "database-connection-failed", line
