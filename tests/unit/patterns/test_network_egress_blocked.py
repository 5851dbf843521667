"""network-egress-blocked: outbound connections to hosts outside the task that time out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.evidence.model import NetworkFacts
from shared.patterns.network_egress_blocked import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, exited

ID = "network-egress-blocked"

POSITIVES = [
    pytest.param(["Failed to create connection to https://ecs.eu-west-1.amazonaws.com/",
                  "io.netty.channel.ConnectTimeoutException: connection timed out: ecs.eu-west-1.amazonaws.com/"
                  "52.46.135.59:443"], {}, {"host": "ecs.eu-west-1.amazonaws.com", "port": 443},
                 id="java-host-slash-ip-names-the-host"),
    pytest.param(['botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: '
                  '"https://sqs.eu-west-1.amazonaws.com/"'], {}, {"host": "sqs.eu-west-1.amazonaws.com"},
                 id="botocore-endpoint-connection"),
    pytest.param(['botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: '
                  '"https://s3.us-east-1.amazonaws.com/my-bucket?list-type=2"'],
                 {}, {"host": "s3.us-east-1.amazonaws.com", "cause": "timeout"}, id="botocore-connect-timeout"),
    pytest.param(["requests.exceptions.ConnectTimeout: HTTPSConnectionPool(host='api.stripe.com', port=443): Max "
                  "retries exceeded with url: /v1/charges (Caused by ConnectTimeoutError(<urllib3.connection."
                  "HTTPSConnection object at 0x7f>, 'Connection to api.stripe.com timed out. (connect timeout=10)'))"],
                 {}, {"host": "api.stripe.com", "port": 443}, id="python-requests"),
    pytest.param(["requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.openai.com', port=443): Max "
                  "retries exceeded with url: /v1/chat/completions (Caused by NewConnectionError('<urllib3."
                  "connection.HTTPSConnection object at 0x7f3c>: Failed to establish a new connection: [Errno 101] "
                  "Network is unreachable'))"], {}, {"host": "api.openai.com", "cause": "unreachable"},
                 id="network-unreachable"),
    pytest.param(["Error: connect ETIMEDOUT 52.94.133.131:443",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16) {", "  errno: -110,",
                  "  code: 'ETIMEDOUT',", "  syscall: 'connect',", "  address: '52.94.133.131',", "  port: 443", "}"],
                 {}, {"host": "52.94.133.131", "port": 443}, id="node-etimedout"),
    pytest.param(["TypeError: fetch failed", "    at node:internal/deps/undici/undici:12345:11",
                  "  [cause]: ConnectTimeoutError: Connect Timeout Error (attempted address: hooks.slack.com:443, "
                  "timeout: 10000ms)", "      at onConnectTimeout (node:internal/deps/undici/undici:6869:28)",
                  "    code: 'UND_ERR_CONNECT_TIMEOUT'"], {}, {"host": "hooks.slack.com", "port": 443},
                 id="node-fetch-undici"),
    pytest.param(['2024/05/01 10:00:00 Get "https://api.github.com/repos/acme/app": dial tcp 140.82.112.6:443: i/o '
                  'timeout'], {}, {"host": "api.github.com", "url": "https://api.github.com/repos/acme/app"},
                 id="go-net-http-names-the-url-host"),
    pytest.param(['Post "https://hooks.slack.com/services/T000/B000/XXX": context deadline exceeded '
                  '(Client.Timeout exceeded while awaiting headers)'], {}, {"host": "hooks.slack.com"},
                 id="go-client-timeout"),
    pytest.param(["java.net.SocketTimeoutException: Connect timed out",
                  "\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:546)",
                  "org.apache.http.conn.ConnectTimeoutException: Connect to api.sendgrid.com:443 "
                  "[api.sendgrid.com/104.18.0.1] failed: Connect timed out"],
                 {}, {"host": "api.sendgrid.com", "port": 443}, id="java-httpclient"),
    pytest.param(["Net::OpenTimeout: Failed to open TCP connection to api.stripe.com:443 (execution expired)"], {},
                 {"host": "api.stripe.com", "port": 443}, id="ruby-net-http"),
    pytest.param(["Excon::Error::Timeout: connect_read timeout reached",
                  "/usr/local/bundle/gems/excon-0.79.0/lib/excon/socket.rb:148:in `connect'"], exited(1),
                 {"cause": "timeout"}, id="ruby-excon-connect-phase-timeout"),
    pytest.param(['operation error S3: GetObject, exceeded maximum number of attempts, 3, https response error '
                  'StatusCode: 0, RequestID: , HostID: , request send failed, Get "https://media-bucket.s3.us-east-1.'
                  'amazonaws.com/in/a.mov": dial tcp 52.217.1.1:443: i/o timeout'], {},
                 {"host": "media-bucket.s3.us-east-1.amazonaws.com"}, id="go-sdk-v2-s3"),
    pytest.param(["software.amazon.awssdk.core.exception.SdkClientException: Unable to execute HTTP request: Connect to "
                  "sqs.us-east-1.amazonaws.com:443 [sqs.us-east-1.amazonaws.com/3.5.1.1] failed: connect timed out"],
                 {}, {"host": "sqs.us-east-1.amazonaws.com", "port": 443}, id="java-sdk-v2"),
    pytest.param(["Unhandled exception. System.Net.Http.HttpRequestException: Connection timed out (api.example.com:443)",
                  " ---> System.Net.Sockets.SocketException (110): Connection timed out"], {},
                 {"host": "api.example.com", "port": 443}, id="dotnet-httpclient"),
    pytest.param(["PHP Fatal error:  Uncaught GuzzleHttp\\Exception\\ConnectException: cURL error 28: Failed to "
                  "connect to api.mailgun.net port 443 after 30001 ms: Timeout was reached"], {},
                 {"host": "api.mailgun.net", "port": 443}, id="php-guzzle"),
    pytest.param(["npm ERR! code ETIMEDOUT", "npm ERR! errno ETIMEDOUT",
                  "npm ERR! network request to https://registry.npmjs.org/express failed, reason: connect ETIMEDOUT "
                  "104.16.24.35:443"], {}, {"port": 443}, id="npm-install-at-start"),
    pytest.param(["curl: (28) Failed to connect to registry.npmjs.org port 443 after 130001 ms: Timeout was reached"],
                 {}, {"host": "registry.npmjs.org", "port": 443}, id="curl-timeout-was-reached"),
    pytest.param(["node:internal/deps/undici/undici:12618", "    Error.captureStackTrace(err, this);",
                  "TypeError: fetch failed", "    at node:internal/deps/undici/undici:12618:11",
                  "    at async /var/app/backend/app.js:61:16 {", "  cause: ConnectTimeoutError: Connect Timeout Error",
                  "      at onConnectTimeout (node:internal/deps/undici/undici:7760:28)",
                  "    code: 'UND_ERR_CONNECT_TIMEOUT'", "  }", "}"],
                 exited(1), {"cause": "timeout"}, id="node-builtin-fetch-connect-timeout"),
    pytest.param(["/app/node_modules/node-fetch/lib/index.js:1505",
                  "FetchError: request to https://chat.example.org/api/v4/users/me failed, reason: connect ETIMEDOUT "
                  "203.0.113.9:443",
                  "    at ClientRequest.<anonymous> (/app/node_modules/node-fetch/lib/index.js:1505:11)",
                  "  type: 'system',", "  errno: 'ETIMEDOUT',", "  code: 'ETIMEDOUT'", "}"],
                 exited(1), {"host": "chat.example.org", "port": 443}, id="node-fetch-host-from-the-headline"),
]


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_network_facts_name_the_missing_route_and_the_vpc_endpoint():
    base = evidence(['botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: '
                     '"https://sqs.us-east-1.amazonaws.com/"'])
    ev = replace(base, network=NetworkFacts(subnet_id="subnet-0a1b2c3d4e5f60718"))
    m = PATTERN.match(ev)
    assert m is not None
    assert m.facts["internet_route"] == "none"
    steps = "\n".join(PATTERN.explain(m, ev).remediation)
    assert "no route to the internet" in steps
    assert "com.amazonaws.us-east-1.sqs" in steps


def test_private_address_is_less_certain_and_says_so():
    m = PATTERN.match(evidence(["Error: connect ETIMEDOUT 10.0.9.9:8443"]))
    assert m is not None and m.facts["private_address"] is True
    assert m.confidence < 0.8


NEGATIVES = [
    pytest.param(['[error] Envoy readiness check failed with: Get "http://127.0.0.1:9901/ready": context deadline '
                  'exceeded (Client.Timeout exceeded while awaiting headers)'], exited(1), "app-crash",
                 id="own-loopback-is-not-egress"),
    pytest.param(["Error: connect ETIMEDOUT 10.0.12.7:5432"], {}, "database-connection-failed",
                 id="timeout-to-5432-is-database"),
    pytest.param(["Error: connect ETIMEDOUT orders.abc.us-east-1.rds.amazonaws.com:6000"], {},
                 "database-connection-failed", id="timeout-to-rds-host"),
    pytest.param(["requests.exceptions.ConnectionError: HTTPConnectionPool(host='payments.internal', port=8080): Max "
                  "retries exceeded with url: /charge (Caused by NewConnectionError('<urllib3.connection."
                  "HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection "
                  "refused'))"], {}, "app-crash", id="refused-means-something-answered"),
    pytest.param(["Error: connect ETIMEDOUT 169.254.170.2:80",
                  "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1300:16)"], {}, "app-crash",
                 id="task-metadata-endpoint"),
    pytest.param(['{"level":"warn","msg":"request to https://api.partner.com timed out, retrying"}'], exited(143),
                 "unknown", id="warn-level-retry"),
    # Excon's read/write timeouts: the connection was made, the far side was slow; not a blocked route
    pytest.param(["Excon::Error::Timeout: read timeout reached"], exited(1), "app-crash",
                 id="ruby-excon-read-timeout-after-connect"),
    # the same wording from something that is not an HTTP client and names no host: a timeout of what?
    pytest.param(["JobRunner::StepFailed: connect_write timeout reached"], exited(1), "app-crash",
                 id="excon-wording-without-an-http-client"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


_SQS = ("com.amazonaws.SdkClientException: Unable to execute HTTP request: Connect to sqs.us-east-1.amazonaws.com:443 "
        "[sqs.us-east-1.amazonaws.com/{ip}] failed: connect timed out")


def test_an_aws_endpoint_at_a_private_address_opens_its_interface_endpoint_first():
    finding = run([_SQS.format(ip="10.0.1.5")])
    assert finding.pattern == "network-egress-blocked"
    assert "com.amazonaws.us-east-1.sqs" in finding.remediation[0] and "resolved to 10.0.1.5" in finding.remediation[0]
    assert not any("NAT gateway" in s for s in finding.remediation)


def test_near_miss_a_public_address_keeps_the_route_advice():
    finding = run([_SQS.format(ip="52.46.1.2")])
    assert "resolved to" not in "\n".join(finding.remediation)


def test_no_host_or_port_is_asserted_when_the_log_names_none():
    """A timeout with no host in the log, after a public pull through the same ENI: no invented "host:443"."""
    f = run(["TypeError: fetch failed", "  [cause]: ConnectTimeoutError: Connect Timeout Error", "  code: 'UND_ERR_CONNECT_TIMEOUT'"],
            **exited(1, image="someone/app:latest"), pullStoppedAt="2024-01-01T00:00:10Z")
    if f.pattern != "network-egress-blocked":
        pytest.skip(f.pattern)
    assert ":443" not in f.remediation[0] and "TCP 443" not in f.remediation[0], f.remediation[0]


def test_a_lookup_that_timed_out_at_the_resolver_checks_dns_not_the_route_to_the_host():
    """`lookup X on 127.0.0.11:53: ... i/o timeout`: the resolver, not a host-specific block or port 443; bridge
    mode (no ENI) names the instance, not a task security group. Near miss: a TCP dial timeout to the same host
    keeps the connection advice."""
    dns = ('Get "https://api.example.io/v2/x": dial tcp: lookup api.example.io on 127.0.0.11:53: read udp '
           '127.0.0.1:57113->127.0.0.11:53: i/o timeout')
    f = run([dns], **exited(1), launchType="EC2", attachments=[])
    assert f.pattern == "network-egress-blocked"
    fix = "\n".join(f.remediation)
    assert "DNS" in f.title and "resolver" in f.remediation[0] and "enableDnsSupport" in f.remediation[0]
    assert "specific to" not in fix and "TCP 443" not in fix and "task security group" not in fix, fix
    assert "getent hosts api.example.io" in fix and "from the container instance (bridge/host" in fix
    near = run(['Get "https://api.example.io/v2/x": dial tcp 203.0.113.9:443: i/o timeout'], **exited(1))
    assert "DNS" not in near.title and "enableDnsSupport" not in "\n".join(near.remediation)


def test_several_hosts_timing_out_is_a_general_egress_block_not_a_host_specific_one():
    """After a public pull, one host timing out is host-specific; several distinct hosts timing out is a general
    egress block (outbound rules, NACL, proxy). Near miss: a single host keeps the host-specific step."""
    one = "ConnectTimeoutError: Connect Timeout Error (attempted address: api.example.com:443, timeout: 10000ms)"
    two = "ConnectTimeoutError: Connect Timeout Error (attempted address: hooks.example.org:443, timeout: 10000ms)"
    detail = {**exited(1, image="someone/app:latest"), "pullStoppedAt": "2024-01-01T00:00:10Z"}
    f = run([one, two], **detail)
    assert f.pattern == "network-egress-blocked"
    assert "general egress block" in f.remediation[0] and "specific to" not in "\n".join(f.remediation)
    assert "`api.example.com`" in f.remediation[0] and "`hooks.example.org`" in f.remediation[0]
    near = run([one], **detail)
    assert "specific to" in near.remediation[0] and "general egress block" not in near.remediation[0]


# A database service's endpoint on a web port: no database listens on 443, so the call was HTTP(S) (an SDK given
# the database's address as its endpoint), an outbound request that timed out, not a database connection.
_SDK_TO_DB_HOST = ["Error: connect ETIMEDOUT 34.210.7.19:443",
                   "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1300:16) {",
                   "  errno: -110,",
                   "  code: 'TimeoutError',",
                   "  syscall: 'connect',",
                   "  address: '34.210.7.19',",
                   "  port: 443,",
                   "  region: 'eu-west-1',",
                   "  hostname: 'reports-replica.x7y8z9w0v1u2.eu-west-1.rds.amazonaws.com',",
                   "  retryable: true",
                   "}"]


def test_a_database_endpoint_called_on_443_is_an_outbound_request():
    finding = run(_SDK_TO_DB_HOST, **exited(1))
    assert_finding(finding, ID, {"host": "reports-replica.x7y8z9w0v1u2.eu-west-1.rds.amazonaws.com", "port": 443,
                                 "cause": "timeout"})
    assert "connect ETIMEDOUT" in finding.evidence[0].text  # a line naming the endpoint, not a bare property
    first = finding.remediation[0]
    assert "is the address of a database" in first and "rds.eu-west-1.amazonaws.com" in first
    # no interface endpoint named after the database's first label
    assert not any("com.amazonaws.eu-west-1.reports-replica" in step for step in finding.remediation)


@pytest.mark.parametrize(("logs", "expected"), [
    # The same entry on the engine's port: the database connection it looks like.
    pytest.param([line.replace(":443", ":5432").replace("port: 443", "port: 5432") for line in _SDK_TO_DB_HOST],
                 "database-connection-failed", id="rds-host-on-its-engine-port"),
    pytest.param(["Error: connect ETIMEDOUT reports-replica.x7y8z9w0v1u2.eu-west-1.rds.amazonaws.com:3306"],
                 "database-connection-failed", id="rds-host-named-on-its-engine-port"),
    # OpenSearch is reached over HTTPS: its endpoint on 443 is the search database.
    pytest.param(["Error: connect ETIMEDOUT search-logs-abc123.eu-west-1.es.amazonaws.com:443"],
                 "database-connection-failed", id="opensearch-on-443-is-the-database"),
])
def test_near_miss_a_database_endpoint_on_its_own_port(logs, expected):
    assert run(logs, **exited(1)).pattern == expected
