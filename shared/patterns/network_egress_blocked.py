"""network-egress-blocked: an outbound connection to a host outside the task times out.

Signals: botocore ConnectTimeoutError / EndpointConnectionError ("Could not connect to the endpoint
URL"); requests ConnectTimeout "Connection to host timed out"; Node "connect ETIMEDOUT ip:443" /
undici UND_ERR_CONNECT_TIMEOUT; Go "dial tcp ...: i/o timeout" / "Client.Timeout exceeded";
Java "connect timed out"; Ruby Net::OpenTimeout / Excon "connect_write timeout reached"; curl
"Failed to connect ... Timeout"; "Network is unreachable". A task in a private subnet with no NAT
gateway and no VPC endpoint sees exactly this. Facts: host, port, url. Near misses: timeouts to a
database (database-connection-failed), unless the failure names an http(s):// URL on a public host
(an ORM downloading its engine is an HTTP request, not a database connection); "connection refused"
(something answered); the link-local metadata endpoints.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns import connection
from shared.patterns.base import (
    DB_HOST_HINTS,
    WEB_PORTS,
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    database_endpoint,
    log_proof,
    looks_like_database,
)
from shared.scan import lazy_re

_HTTP_CLIENT = lazy_re(
    r"site-packages/(?:httpx|httpcore|requests|urllib3|aiohttp|telegram/request|botocore/httpsession)|"
    r"node_modules/(?:axios|node-fetch|got|undici)|node:_http_client|deps/undici/|TypeError: fetch failed|net/http\.|okhttp|java\.net\.http|"
    r"HttpClient|Faraday::|Net::HTTP|Excon::|RestClient::", re.IGNORECASE)
_NEEDLES = ("timed out", "timeout", "etimedout", "i/o timeout", "deadline exceeded", "endpoint url",
            "execution expired", "opentimeout", "open timeout", "took too long to respond",
            "unreachable", "no route to host", "ehostunreach")


def _private(host: str | None) -> bool:
    if not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host.endswith((".internal", ".local", ".svc", ".cluster.local")) or "." not in host
    return ip.is_private or ip.is_loopback or ip.is_link_local


# A name lookup that timed out at the resolver (Go: `lookup host on 127.0.0.11:53: ... i/o timeout`, a UDP dial to
# port 53): no connection to the host was ever tried.
_DNS_TIMEOUT = lazy_re(r"\blookup (?P<name>[\w.-]+)(?: on (?P<resolver>[\d.]+|\[[\w:]+\])(?::53)?)?:[^\n]*?"
                       r"(?:i/o timeout|timed? ?out|deadline exceeded)|\bdial udp (?P<udp>[\d.]+):53\b[^\n]*?"
                       r"(?:i/o timeout|timed? ?out)", re.IGNORECASE)
_READ_TIMEOUT = lazy_re(r"Read timed out|ReadTimeout|read timeout|SocketReadTimeout|ESOCKETTIMEDOUT"
                           r"|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|HeadersTimeoutError|BodyTimeoutError",
                           re.IGNORECASE)
_CONNECT_TIMEOUT = lazy_re(r"connect(?:ion)? ?time ?out|ConnectTimeout|connect timed out|UND_ERR_CONNECT_TIMEOUT"
                              r"|connect_(?:read|write) timeout"
                              r"|ETIMEDOUT|i/o timeout|Max retries exceeded.*ConnectTimeout", re.IGNORECASE)

def _web_call(failure: connection.ConnectionFailure, line: str) -> bool:
    """The failure names an http(s):// URL (its own, or one on the line with the same host) on a public host name
    that is no database endpoint: an HTTP request (a download, an API call), whatever library made it. An ORM's or
    driver's name on the line ("Downloading <ORM> engines ... request to https://...") or in the host name is then
    not a database connection."""
    host = failure.host
    if not host or connection.is_ip(host) or _private(host):
        return False
    url = (failure.url or "").lower()
    if not url.startswith(("http://", "https://")):
        named = re.search(r"\b(https?)://(?:[^@/\s]+@)?" + re.escape(host) + r"(?![\w.-])", line, re.IGNORECASE)
        if named is None:
            return False
        url = named.group(1).lower() + "://"
    return not database_endpoint(host, failure.port or (443 if url.startswith("https://") else 80))


# A line that says the request was a download (an engine, a binary, a model, a package fetched at start-up).
_START_DOWNLOAD = lazy_re(r"(?i)\bdownload(?:ing|s)?\b")
# An access-log line: the app answered a request ("GET /invoices/42 200 12ms", '"POST /api HTTP/1.1" 201').
_ANSWERED = lazy_re(r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD) /\S*(?: HTTP/[\d.]+\"?)? [1-5]\d\d\b")


def _at_start_up(ev: Evidence, anchor: int | None) -> bool:
    """Did the failed call happen while the container was starting? Not when the task ran a while before it was
    stopped, nor when the container had answered requests before the failure (a download per request)."""
    if (remedy.ran_for(ev) or 0) > remedy.RAN_A_WHILE_S:
        return False
    if anchor is None:
        return True
    own = ev.logs.containers[anchor]
    return ev.logs.search(_ANSWERED, 0, anchor, keep=lambda c: c == own) is None


class NetworkEgressBlockedFacts(Facts):
    """The facts of network-egress-blocked."""

    cause: str | None = Field(None, description="timeout, dns, unreachable, ...")
    host: str | None = Field(None, description="The host the task could not reach.")
    port: int | None = Field(None, description="The port.")
    url: str | None = Field(None, description="The URL requested.")
    internet_route: str | None = Field(None, description="The subnet's route to the internet, if any.")
    private_address: bool | None = Field(None, description="The host resolved to a private address.")
    vpc_endpoints: list[str] | None = Field(None, description="VPC endpoints in the task's VPC.")


class NetworkEgressBlocked(Pattern):
    id = "network-egress-blocked"
    explained_by = ("subnets", "securityGroups", "assignPublicIp")
    priority = 60
    severity = "critical"
    Facts = NetworkEgressBlockedFacts
    key_facts = ("host",)
    needs = frozenset({"network"})
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        logs = ev.logs
        for i in candidate_lines(ev, _NEEDLES):
            text = logs.texts[i]
            if logs.quiet(i):
                continue
            start, end = logs.block_start(i), logs.block_end(i)
            context = "\n".join(logs.texts[max(start, i - 8) : min(end, i + 4) + 1])
            failure = connection.parse(text, context)
            if failure is None or failure.cause not in ("timeout", "unreachable"):
                continue
            if (failure.host is None and failure.url is None) or connection.endpoint(text) == (None, None, None):
                # A property of the error object ("code: 'ETIMEDOUT'"): its headline, higher in the same
                # block, names the endpoint ("FetchError: request to https://host/ failed ...").
                for j in range(i - 1, max(start, i - 30) - 1, -1):
                    head = connection.parse(logs.texts[j], "")
                    if head is not None and head.cause == failure.cause and (head.host or head.url):
                        i, failure = j, head
                        break
            if failure.host and connection.is_ip(failure.host) and failure.url is None:
                # The error names the address it dialled and, further down the same entry, the host name it
                # resolved (Node's error object: `hostname: '...'`): the name says what was called.
                named, named_port, _ = connection.endpoint("", "\n".join(logs.texts[start : end + 1]))
                if named and not connection.is_ip(named) and named_port in (None, failure.port):
                    failure = replace(failure, host=named)
            if failure.host is None and failure.url is None and not _HTTP_CLIENT.search(
                    "\n".join(logs.texts[max(0, i - 15) : i + 1])):
                continue  # a timeout of what? Only an HTTP client's frames say it was an outbound request
            if failure.host and failure.host.startswith(("169.254.", "127.", "localhost", "::1", "[::1]")):
                continue  # task metadata / credentials endpoints, the task's own loopback: not egress
            if not _web_call(failure, text) and looks_like_database(context, failure.host, failure.port, logs.texts[i]):
                continue
            container = container_for_line(ev, i)
            facts: dict[str, Any] = {"host": failure.host, "port": failure.port, "url": failure.url, "container": container,
                     "cause": failure.cause}
            private = _private(failure.host)
            if private:
                facts["private_address"] = True
            if ev.network is not None:
                facts["internet_route"] = ev.network.internet_route or "none"
                facts["vpc_endpoints"] = list(ev.network.vpc_endpoints)
            return Match(facts={k: v for k, v in facts.items() if v is not None}, proofs=(log_proof(ev, i),),
                         confidence=0.7 if private else 0.88, stage=Stage.APP, anchor=i, container=container)
        return None

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        host = f.get("host") or f.get("url") or "an external host"
        port = f.get("port") or 443
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        container = f.get("container") or "the container"
        why = remedy.cite(m)
        aws = host.endswith(".amazonaws.com") if isinstance(host, str) else False
        steps: list[str] = []
        said = "\n".join(p.text for p in m.proofs)
        # A read timeout: the connection was open and the request sent, so there is a route and the security
        # groups let it through; the far side did not answer in time.
        read_timeout = bool(_READ_TIMEOUT.search(said)) and not _CONNECT_TIMEOUT.search(said)
        dns = _DNS_TIMEOUT.search(said) if not read_timeout else None
        endpoint = remedy.endpoint_unreachable_step(ev, said) if aws and not read_timeout and not dns else None
        # A database's own endpoint (RDS, ElastiCache ...) on a web port: no database listens there, so this was an
        # HTTP(S) call sent to the database's address, which times out however open the network is.
        db_service = next((h for h in DB_HOST_HINTS if h in host.lower()), None)
        misdirected = bool(db_service) and port in WEB_PORTS and not database_endpoint(host, port)
        if misdirected and db_service and not dns:
            service = db_service.split(".")[1]
            api = _DB_SERVICE_API.get(service, service)
            # The database's own region, from its name (<id>.<region>.rds.amazonaws.com), else the task's.
            labels = host.lower().split(".")
            at = labels[-4] if len(labels) >= 5 and re.fullmatch(r"[a-z]{2}(?:-[a-z]+)+-\d", labels[-4]) else region
            steps.append(f"`{host}` is the address of a database (`{db_service.lstrip('.')}`), which listens on its engine's "
                         f"port, not on {port}: this was an HTTP(S) call sent to the database's address, an AWS SDK or "
                         "API client given the database endpoint as its endpoint. Remove that endpoint override (an SDK "
                         f"client's `endpoint` option) so the client calls the service's API endpoint "
                         f"(`{api}.{at}.amazonaws.com`); keep the database's address for database "
                         f"connections.{why}")
            why = ""
        if dns:
            steps += _dns_steps(ev, host, dns, why)
        elif read_timeout:
            steps.append(f"The connection to {host} was open and the request sent, then no answer came in time (a "
                         "read timeout, not a blocked connect): the task has a route out and its security groups "
                         "let it through. The far side was slow or stalled: check its status and rate limits, "
                         "raise the client's read timeout if the call is legitimately slow, and retry with backoff "
                         f"instead of exiting.{why}")
        elif endpoint:
            steps.append(endpoint + why)
        elif f.get("private_address"):
            steps.append(f"`{host}` is a private address: allow TCP {port} from {remedy.sender_groups(ev)} in the "
                         f"target's security group and check NACLs and routes between the two subnets.{why}")
        else:
            route = f.get("internet_route")
            # Any of the task's images pulled from a public registry went out the way the app would: on Fargate
            # (platform 1.4.0+) through the task's own interface, in bridge/host mode through the instance's.
            # On EC2 with awsvpc the pull used the instance's interface, not the task's: no proof then.
            own = remedy.image(ev, f.get("container")) or ""
            images = [own] + [c.image or "" for c in ev.detail.containers if c.image and c.image != own]
            pv = ev.detail.platform_version or ""
            fargate = remedy.is_fargate(ev)
            same_path = (not pv.startswith("1.3")) if fargate else remedy.network_mode(ev) != "awsvpc"
            img = next((i for i in images if i and ".dkr.ecr." not in i), "")
            public_pull = bool(ev.detail.pull_stopped_at) and bool(img) and same_path
            hosts = _timed_out_hosts(ev)
            if public_pull and route != "none" and len(hosts) > 1:
                # Several hosts time out: the block is not about one destination, even though the pull got out.
                steps.append(f"Several hosts time out ({', '.join(f'`{h}`' for h in hosts[:4])}): a general "
                             "egress block, not one destination. The image pull got out, so check what the app's "
                             f"traffic does not share with it: {remedy.sender_groups(ev)}'s outbound rules (they "
                             "must allow the app's ports to `0.0.0.0/0`, not only a registry prefix list), the "
                             "subnet's NACL (outbound ports and the ephemeral return ports 1024-65535), and any "
                             f"egress proxy or firewall the app must go through (`HTTPS_PROXY`).{why}")
            elif public_pull and route != "none":
                # The image came from a public registry through this same interface: there IS a way out.
                # Neither host nor port is guessed when the log names none: the pull also went out on 443.
                dest = (f"{host}:{f['port']}" if f.get("port") else host) if f.get("host") or f.get("url") else \
                    "the host the app calls (the stack trace's frame names the call)"
                steps.append(f"The task pulled `{img}` from a public registry through the same network interface, "
                             f"so it has a route out: the block is specific to {dest}. Check "
                             f"{remedy.sender_groups(ev)}'s outbound rules for a destination-restricted rule (a prefix list or CIDR that "
                             f"leaves it out{', or its port ' + str(f['port']) if f.get('port') else ''}), "
                             f"the subnet's NACL, and any firewall or allow-list on the far side.{why}")
            elif route == "none":
                steps.append("The task's subnet has no route to the internet (no NAT gateway or internet gateway "
                             "route in its route table): that is why the connection times out.")
            if not public_pull or route == "none":
                if remedy.network_mode(ev) == "awsvpc":
                    steps.append("Give the task's subnets outbound access: a `0.0.0.0/0` route to a NAT gateway "
                                 + ("(private subnets), or a public subnet with `assignPublicIp: ENABLED`"
                                    if remedy.public_ip_allowed(ev) else
                                    "(an awsvpc task on an EC2 instance gets no public IP, so a NAT gateway is the "
                                    "way out)") + f".{why}")
                else:  # bridge/host mode: the task goes out through the container instance's interface
                    steps.append("Give the container instance's subnet outbound access (bridge/host networking uses "
                                 "the instance's interface): a `0.0.0.0/0` route to a NAT gateway, or a public IP on "
                                 f"the instance in a public subnet.{why}")
            if aws and not misdirected:
                service = host.split(".")[0]
                steps.append(f"Or, for {host}, an interface VPC endpoint `com.amazonaws.{region}.{service}` "
                             "(gateway endpoints for S3 and DynamoDB), with private DNS enabled.")
            if not public_pull or route == "none":
                who = remedy.sender_groups(ev)
                # The port only when the evidence gives it (a port, an https URL): 443 is not a fact otherwise.
                known = f.get("port") or (443 if str(f.get("url") or "").startswith("https://") or (
                    isinstance(host, str) and re.search(r"(?i)\bhttps://" + re.escape(host) + r"(?![\w.:-])", said))
                    else None)
                steps.append(f"Check {who}'s outbound rules allow "
                             + (f"TCP {known}." if known else "the port the app connects to (TCP)."))
        if _START_DOWNLOAD.search(said) and not read_timeout and not dns and not f.get("private_address") \
                and not misdirected and _at_start_up(ev, m.anchor):
            # The file was fetched when the container started: fetched when the image is built, it needs no way out.
            steps.append(f"{container} downloads from {host} each time it starts: fetch that file when the image is "
                         "built instead (a `RUN` step in the Dockerfile that runs the same download or the tool's own "
                         "fetch/generate command, on a machine with internet access), so the task no longer needs "
                         "a way out for it.")
        if f.get("host") and re.fullmatch(r"[\w.-]+", str(f["host"])) and dns:
            steps.append(f"Test the lookup from a one-off copy of the task ({remedy.same_network(ev)}; the task "
                         "itself has stopped): "
                         f"`{remedy.probe(ev, f.get('container'), 'getent hosts ' + str(f['host']))}`, then read its "
                         "log (no output and exit code 2: the name did not resolve)."
                         + remedy.probe_siblings_note(ev, f.get("container")))
        elif f.get("host") and re.fullmatch(r"[\w.-]+", str(f["host"])) and not read_timeout:
            scheme = "https" if port == 443 else "http"
            url = f"{scheme}://{f['host']}" + ("" if port in (443, 80) else f":{port}")
            steps.append(f"Test from a one-off copy of the task ({remedy.same_network(ev)}; the task itself "
                         f"has stopped): `{remedy.probe(ev, f.get('container'), f'curl -sv --max-time 5 {url}')}`, "
                         "then read its log (the image needs `curl`)." + remedy.probe_siblings_note(ev, f.get("container")))
        if dns:
            return Explanation(
                title=f"DNS lookup of {host} timed out",
                summary=(f"{container} could not resolve {host}: the DNS query to "
                         f"{dns.group('resolver') or dns.group('udp') or 'the resolver'} got no answer in time. "
                         "No connection to the host was tried; the resolver, not the route to the host, failed."),
                remediation=steps,
            )
        return Explanation(
            title=(f"Outbound request to {host} got no answer (read timeout)" if read_timeout else
                   f"Outbound connection to {host} timed out"),
            summary=(f"{container} got no answer in time from {host}"
                     + (f":{f['port']}" if f.get("port") else "")
                     + " on an open connection (a read timeout): the far side was slow, not the network path."
                     if read_timeout else
                     f"{container} could not open a connection to {host}"
                     + (f":{f['port']}" if f.get("port") else "")
                     + ": it timed out, which is what a task without a route out (no NAT gateway or VPC endpoint) "
                       "or with blocking security rules sees."),
            remediation=steps,
        )




# The API endpoint of each database service whose endpoints DB_HOST_HINTS names (Neptune and DocumentDB are
# managed through RDS's API).
_DB_SERVICE_API = {"docdb": "rds", "neptune": "rds", "cache": "elasticache", "memorydb": "memory-db"}


def _timed_out_hosts(ev: Evidence) -> list[str]:
    """The distinct outside hosts the logs show timing out (loopback and metadata addresses left out)."""
    hosts: list[str] = []
    texts = ev.logs.texts
    for i in ev.logs.may_match(connection.cause_regex("timeout")):  # only these lines may read "timeout"
        text = texts[i]
        failure = connection.parse(text, "") if "time" in text.lower() else None
        h = failure.host if failure is not None and failure.cause == "timeout" else None
        if h and not h.startswith(("169.254.", "127.", "localhost", "::1", "[::1]")) and h not in hosts:
            hosts.append(h)
    return hosts


def _dns_steps(ev: Evidence, host: str, dns: re.Match[str], why: str) -> list[str]:
    """A DNS query that got no answer: check the resolver the task used, not the route to the host."""
    resolver = dns.group("resolver") or dns.group("udp")
    # No ENI of its own (bridge/host mode): the task uses the container instance's network.
    instance_net = remedy.network_mode(ev) != "awsvpc"
    vpc = ev.network.vpc_id if ev.network is not None else None
    at = f" (`{resolver}`)" if resolver else ""
    if resolver == "127.0.0.11":
        where = ("Docker's embedded DNS server, which forwards to the container instance's own resolvers "
                 "(its /etc/resolv.conf)")
    elif instance_net:
        where = "the resolver the container instance uses (its /etc/resolv.conf)"
    else:
        where = "the VPC resolver or the container definition's `dnsServers`"
    sender = ("the container instance (bridge/host networking sends from the instance: its security group, subnet "
              "and NACL apply, the task has none of its own)" if instance_net else
              "the task's subnets (security group and NACL)")
    first = (f"The lookup of {host} timed out at the resolver{at}: the DNS query got no answer, so no connection to "
             f"{host} was tried (a name-resolution failure, not a blocked connection). The task asked {where}. "
             "Check that the VPC has DNS resolution on (`enableDnsSupport`), that its DHCP options set points at "
             "`AmazonProvidedDNS` or at DNS servers that answer, that any custom DNS server or container "
             f"`dnsServers` entry admits UDP and TCP 53 from {sender}, and that no "
             "Route 53 Resolver DNS Firewall rule drops the name." + why)
    steps = [first]
    if vpc:
        steps.append("Read the VPC's DNS settings: "
                     f"`aws ec2 describe-vpc-attribute --vpc-id {vpc} --attribute enableDnsSupport"
                     f"{remedy.region_flag(ev)}` and `aws ec2 describe-vpcs --vpc-ids {vpc} --query "
                     f"'Vpcs[0].DhcpOptionsId'{remedy.region_flag(ev)}`.")
    if instance_net or resolver == "127.0.0.11":
        steps.append("On the container instance, test its resolver directly (`getent hosts " + host + "` on the "
                     "instance, or `nslookup` against the nameserver in its /etc/resolv.conf): if the instance "
                     "resolves and the container does not, the Docker daemon's DNS forwarding is at fault "
                     "(restart Docker or the instance, or set `dnsServers` in the container definition).")
    return steps


PATTERN = NetworkEgressBlocked()
