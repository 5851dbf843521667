"""port-in-use: the application could not bind its port because something else holds it.

Signals: "[Errno 98] Address already in use"; EADDRINUSE; "bind: address already in use"; gunicorn
"Connection in use: ('host', port)"; Spring "Port 8080 was already in use"; nginx "bind() to
0.0.0.0:80 failed (98: Address already in use)"; Docker "port is already allocated"; Kestrel
"Failed to bind to address ...: address already in use". Facts: port, container. A bind error that names no port
(a JVM's bare BindException) takes the port the container announced, else its one mapped container port.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    container_for_line,
    container_for_reason,
    find_in_logs,
    find_in_reasons,
    log_proof,
    reason_proof,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    r"address already in use|EADDRINUSE|Connection in use:|Port \d+ (?:was|is) already in use"
    r"|port is already allocated|Only one usage of each socket address|Address in use|already listening on"
    r"|Cannot find empty port in range|connector configured to listen on port \d+ failed to start"
    r"|port may already be in use",
    re.IGNORECASE,
)
_NEEDLES = ("already in use", "eaddrinuse", "connection in use", "already allocated", "address in use",
            "socket address", "already listening", "empty port",
            "connector configured to listen", "may already be in use")
_PORTS = (
    lazy_re(r"Connection in use: \('[^']*', (\d+)\)"),
    lazy_re(r"Cannot find empty port in range: (\d+)"),
    lazy_re(r"listen on port (\d+)"),
    lazy_re(r"Port (\d+) (?:was|is) already in use", re.IGNORECASE),
    lazy_re(r"EADDRINUSE:? (?:address already in use )?\S*?:(\d+)"),
    lazy_re(r"bind\(\) to \S*?:(\d+) failed"),
    lazy_re(r"listen tcp\d? \S*?:(\d+): bind"),
    lazy_re(r"Bind for \S*?:(\d+) failed"),
    # Python socket addresses: ('0.0.0.0', 8000) in uvicorn's message or the bind call above the error
    lazy_re(r"\(['\"][\w.:\[\]-]*['\"],\s*(\d{2,5})\)"),
    lazy_re(r"address (?:https?://)?\S*?:(\d+)", re.IGNORECASE),
    lazy_re(r"\bport['\"]?[ =:]+(\d{2,5})\b", re.IGNORECASE),
    lazy_re(r"\{port,\s*(\d{2,5})\}"),  # Erlang/ranch: ranch_tcp:listen([{port,8088},{ip,...}])
    lazy_re(r"(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\]|::):(\d{2,5})\b"),
)


def _port(texts: list[str]) -> int | None:
    for text in texts:
        for regex in _PORTS:
            m = regex.search(text)
            if m:
                return int(m.group(1))
    return None


# The server saying where it listens: "Uvicorn running on http://0.0.0.0:8080", "Listening on :3000",
# "Starting <name> on 0.0.0.0:8080", "Server started on port 5000", "Now listening on: http://[::]:80".
_ANNOUNCED = lazy_re(r"\b(?:listen(?:ing)?|running|serving|started|starting|bound)\b[^\n]{0,80}?\b(?:on|at)\b:?\s+"
                     r"(?:(?:https?|tcp)://)?(?:(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[\w:]*\]|[a-z][\w.-]*)?:(\d{2,5})"
                     r"|port\s+(\d{2,5}))(?![.\d:])", re.IGNORECASE)


def _announced_port(ev: Evidence, i: int, reach: int = 40) -> int | None:
    """The port the failing container said it listens on, when the bind error itself names none (uvicorn's bare
    "[Errno 98] Address already in use"): its own announcements within `reach` lines of the error. Only one
    port: a container that announces two servers (the app and its metrics) does not say which one collided."""
    logs = ev.logs
    who = logs.containers[i]
    ports = set()
    for j in range(max(0, i - reach), min(len(logs), i + reach + 1)):
        if logs.containers[j] != who:
            continue
        m = _ANNOUNCED.search(logs.texts[j])
        if m:
            ports.add(int(m.group(1) or m.group(2)))
    return ports.pop() if len(ports) == 1 else None


def _only_mapped_port(ev: Evidence, container: str | None) -> int | None:
    """The container's one container port (its task definition's port mappings, else the event's network bindings),
    when neither the bind error nor its own announcements name a port (a JVM's bare "java.net.BindException: Address
    already in use"): the port it was set up to serve is the one it failed to bind. None when it maps several."""
    cdef = ev.container_definition(container)
    if cdef and cdef.port_mappings:
        return cdef.port_mappings[0] if len(set(cdef.port_mappings)) == 1 else None
    c = ev.container(container)
    ports = {b.container_port for b in (c.network_bindings if c else []) if b.container_port}
    return ports.pop() if len(ports) == 1 else None


class PortInUseFacts(Facts):
    """The facts of port-in-use."""

    port: int | None = Field(None, description="The port already in use.")
    shares_network_with: list[str] | None = Field(None, description="Containers sharing the network namespace.")


class PortInUse(Pattern):
    id = "port-in-use"
    explained_by = ("portMappings",)
    priority = 90
    severity = "critical"
    Facts = PortInUseFacts
    key_facts = ("port",)
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _SIGNAL)
        if hit:
            source, text, _ = hit
            container = container_for_reason(ev, source)
            return self._build(ev, [text], container, Stage.PLATFORM, (reason_proof(source, text),), None)
        found = find_in_logs(ev, _NEEDLES, _SIGNAL)
        if not found:
            return None
        i, _ = found
        texts = ev.logs.texts
        lo, hi = max(ev.logs.block_start(i), i - 12), min(ev.logs.block_end(i), i + 12)
        near = [texts[i]] + [texts[j] for j in range(max(0, min(lo, i - 3)), min(len(texts), max(hi, i + 3) + 1))
                             if j != i and ev.logs.containers[j] == ev.logs.containers[i]]
        container = container_for_line(ev, i)
        port = _port(near) or _announced_port(ev, i) or _only_mapped_port(ev, container)
        return self._build(ev, near, container, Stage.APP, (log_proof(ev, i),), i, port)

    def _build(self, ev, texts, container, stage, proofs, anchor, port: int | None = None) -> Match:
        facts = {"port": port or _port(texts), "container": container}
        others = [c.name for c in ev.detail.containers if c.name and c.name != container]
        awsvpc = (ev.detail.launch_type or "").upper() == "FARGATE" or bool(
            ev.task_definition and ev.task_definition.network_mode == "awsvpc")
        if others and awsvpc:
            facts["shares_network_with"] = others
        return Match(facts={k: v for k, v in facts.items() if v}, proofs=proofs, confidence=0.93, stage=stage,
                     anchor=anchor, container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        port = f.get("port")
        p = str(port) if port else "its port"
        container = f.get("container") or "the container"
        mode = remedy.network_mode(ev)
        # An EC2 task with no network interface of its own may run in host mode: the holder is then on the instance.
        # Not on Windows, whose only modes are `default` (NAT, a network per container) and awsvpc.
        windows = remedy.windows_instance(ev) and not remedy.is_fargate(ev)
        maybe_host = mode == "host" or (mode is None and not remedy.is_fargate(ev) and not windows)
        on_host = (f"another task or process on the same instance holds it ({_instance_check(ev, port)}); run one "
                   "such task per instance (placement constraint `distinctInstance`) or move the other holder to "
                   "another port") if port else (
                   "another task or process on the same instance holds it; run one such task per instance "
                   "(placement constraint `distinctInstance`)")
        if mode == "host":
            find = f"Find what else binds {p} on the instance: in host network mode the container binds the " \
                   f"instance's own port, so {on_host}."
        elif mode in (None, "default") and windows:
            # Nano Server images have no PowerShell: netstat (with the owning process id) is there in every image.
            nano = "nanoserver" in (remedy.image(ev, f.get("container")) or "").lower()
            look = ((f"in the container, which has no PowerShell (Nano Server), in cmd: `netstat -ano | findstr :{port}`"
                     if port else "in the container, which has no PowerShell (Nano Server), in cmd: `netstat -ano`")
                    + ", the last column being the process id to find in `tasklist`") if nano else (
                   f"in the container, in PowerShell: `Get-NetTCPConnection -LocalPort {p} -State Listen`")
            find = (f"Find what else binds {p} in {container} itself: this Windows task has no network interface of "
                    "its own, so it runs in the `default` network mode (NAT), where each container has its own "
                    f"network, so a second process in the same container holds it ({look}).")
        elif mode is None and not remedy.is_fargate(ev):
            which = remedy.describe_task_definition(ev, "taskDefinition.networkMode")
            find = (f"Find what else binds {p} (this EC2 task has no network interface of its own, so it runs in bridge "
                    f"or host mode; `{which} --output text` says which, None meaning bridge): in host network mode the "
                    "container binds the instance's own port, "
                    f"so {on_host}; in bridge mode the container has its own network namespace, so a second "
                    "process in the same container holds it.")
        else:
            find = (f"Find what else binds {p} in the task: in {mode or 'awsvpc'} mode "
                    + ("(always on Fargate) all containers of a task share one network namespace, so a sidecar or "
                       "a second process on the same port collides" if mode in (None, "awsvpc") else
                       "each container has its own network namespace, so a second process in the same container "
                       "holds it")
                    + (f" (other containers here: {', '.join(f['shares_network_with'])}); move one of them to "
                       "another port with its listen setting (e.g. `ASPNETCORE_URLS=http://+:8080`, `PORT`, "
                       "`server.port`, nginx/Apache `listen`/`Listen`) and point the port mapping and the load "
                       "balancer at it"
                       if f.get("shares_network_with") else "")
                    + ".")
        if mode != "awsvpc" and not remedy.is_fargate(ev) and _ALLOCATED.search(remedy.evidence_text(ev, m)):
            return _host_port_steps(m, ev, p)
        holder = _holder(ev, f.get("shares_network_with") or (), port, f.get("container"))
        if holder:
            # Another container's own log shows it bound the port: the holder is known, nothing started twice.
            name, line = holder
            find = (f"`{name}` of this task bound port {p} first (its log: “{line.strip()[:120]}”), and all "
                    "containers of an awsvpc task share one network namespace: move one of the two to another "
                    f"port with its listen setting (e.g. `PORT={int(str(port)) + 1}` in its environment, `--port`, `server.port`, "
                    "`ASPNETCORE_URLS=http://+:8080`, nginx `listen`), then point its port mapping, health check "
                    "and load balancer target at the new port.")
        steps = [find]
        # A server started twice in one container: only where the evidence points inside the container (its own
        # log bound the port before the error, or no other container shares its network and it is not host mode).
        own = None if holder else _own_bind(ev, port, f.get("container"), m.anchor)
        siblings = [c.name for c in ev.detail.containers if c.name and c.name != f.get("container")]
        # (In an EC2 task that may be in host mode, only a lone container's bridge-mode case leaves it alone.)
        alone = not f.get("shares_network_with") and mode != "host" and not (maybe_host and siblings)
        # (The runtime's own refusal, "port is already allocated", is the instance's port: not the app's doing.)
        if own is not None or (alone and not holder and m.anchor is not None):
            steps.append("Make sure the server is started once: a process manager (supervisord, an entrypoint "
                         "script) plus the image CMD, or a framework that binds the port and then forks another "
                         "server, both bind it."
                         + (remedy.because(log_proof(ev, own).source, ev.logs.texts[own]) if own is not None else
                            f" (Why: in bridge mode no other container shares {container}'s network, so the holder "
                            "would be in it.)" if maybe_host else
                            f" (Why: no other container shares {container}'s network, so the holder is in it.)"))
        if ev.detail.launch_type and ev.detail.launch_type.upper() == "EC2" and mode == "bridge":
            steps.append("With a static `hostPort` in bridge/host mode, two tasks on one instance collide: use "
                         "`hostPort: 0` (dynamic) with the load balancer, or awsvpc.")
        ports_query = "taskDefinition.containerDefinitions[].[name, portMappings[].containerPort]"
        if (maybe_host and not siblings) or (windows and mode in (None, "default")):
            # One container that may bind the instance's own port: no other container of the task to look for,
            # the holder is on the instance (host mode) or in the container itself (bridge).
            steps[0] += remedy.cite(m)
        else:
            steps.insert(0, f"See which containers of {remedy.family_revision(ev) or 'the task definition'} declare port "
                            f"{p}: `{remedy.describe_task_definition(ev, ports_query)}`.{remedy.cite(m)}")
        if not siblings and mode in ("awsvpc", None) and remedy.is_fargate(ev) and len(steps) > 2 and m.anchor is not None:
            # A task of one container on Fargate: nothing else shares its namespace, so listing the containers
            # that declare the port and looking for a sidecar lead nowhere; the server started twice comes first.
            steps = [steps[2].split(" (Why:", 1)[0] + remedy.cite(m) if " (Why: no other" in steps[2] else steps[2], *steps[3:]]
        if str(p).isdigit() and not holder and not remedy.local_repro_blocked(ev, f.get('container')):
            steps.append("Reproduce locally with the image alone: if "
                         f"`{remedy.docker_run(ev, f.get('container'), port=p)}` fails the same way, the image "
                         "itself starts two servers on the port; if it starts, the other holder is "
                         + ("in the task definition's command or environment, which the local run does not use."
                            if not siblings and remedy.is_fargate(ev) else
                            "a container of the task." if mode == "awsvpc" or remedy.is_fargate(ev) else
                            "outside the image (another task or process on the instance"
                            + (", or a container of the task)." if siblings else ").")))
        return Explanation(
            title=f"Port {p} already in use" + (f" in {container}" if f.get("container") else ""),
            summary=(f"{container} could not start its server because port {p} was already taken by another "
                     "process in the same network namespace."),
            remediation=steps,
        )


def _instance_check(ev: Evidence, port: object) -> str:
    """How to see what listens on the port on the task's container instance: through SSM Run Command when the
    container instance is known (its EC2 instance id read first), else on the instance itself."""
    ci = ev.detail.container_instance_arn
    if not ci or (ev.detail.launch_type or "").upper() == "EXTERNAL":
        if remedy.windows_instance(ev):
            return f"on the instance, in PowerShell: `Get-NetTCPConnection -LocalPort {port} -State Listen` and `docker ps`"
        return f"on the instance: `sudo ss -ltnp 'sport = :{port}'` and `sudo docker ps`"
    region = remedy.region_flag(ev)
    windows = remedy.windows_instance(ev)
    if windows:
        # A Windows container instance runs PowerShell, not bash: AWS-RunShellScript and ss do not exist there.
        commands = json.dumps({"commands": [f"Get-NetTCPConnection -LocalPort {port} -State Listen", "docker ps"]})
        local = f"in PowerShell, `Get-NetTCPConnection -LocalPort {port} -State Listen` and `docker ps`"
    else:
        commands = json.dumps({"commands": [f"ss -ltnp sport = :{port}", "docker ps --format {{.Names}}"]})
        local = f"`sudo ss -ltnp 'sport = :{port}'`"
    return ("see what listens on it there, in " + ("PowerShell" if windows else "bash") + ", through SSM Run "
            "Command (the ECS-optimized AMI runs the SSM agent; its instance role needs "
            "AmazonSSMManagedInstanceCore): ```\n"
            + remedy.read_into("instance", f"aws ecs describe-container-instances --cluster {remedy.q(remedy.cluster(ev))} "
                               f"--container-instances {remedy.q(ci)}{region} --query 'containerInstances[0].ec2InstanceId'")
            + "\n" + remedy.read_into("run", f"aws ssm send-command --instance-ids \"$instance\" --document-name "
                                     f"{'AWS-RunPowerShellScript' if windows else 'AWS-RunShellScript'} "
                                     f"--parameters {shlex.quote(commands)}{region} "
                                     "--query Command.CommandId")
            + f"\nsleep 5; aws ssm get-command-invocation --command-id \"$run\" --instance-id \"$instance\"{region} "
            "--query StandardOutputContent --output text\n```"
            + f" or, on the instance, {local}")


# Docker publishing a host port (bridge mode) and failing: the INSTANCE's port is held, not one inside the container.
_ALLOCATED = lazy_re(r"port is already allocated|driver failed programming external connectivity|"
                     r"Error starting userland proxy", re.IGNORECASE)


def _host_port_steps(m: Match, ev: Evidence, p: str) -> Explanation:
    """Docker's own refusal "port is already allocated" in bridge/host mode: the INSTANCE's host port is held
    (another task or process on the instance), never a second server inside the container."""
    container = m.facts.get("container") or "the container"
    query = "taskDefinition.containerDefinitions[].[name, portMappings[].[containerPort, hostPort]]"
    check = f" ({_instance_check(ev, p)})" if p.isdigit() else ""
    steps = [f"Docker could not publish host port {p} on the container instance: a static `hostPort` {p} in the "
             f"port mapping is already held there by another task or process{check}. Use dynamic host ports "
             f"(`\"hostPort\": 0`, the load balancer registers each task's port) so tasks on one instance never "
             f"collide, or keep the static port and run one such task per instance (placement constraint "
             f"`distinctInstance`).{remedy.cite(m)}",
             f"See the host ports {remedy.family_revision(ev) or 'the task definition'} maps: "
             f"`{remedy.describe_task_definition(ev, query)}`."]
    return Explanation(
        title=f"Host port {p} already allocated on the instance",
        summary=(f"{container} could not start because Docker could not bind host port {p} on the container "
                 "instance: another task or process there already holds it."),
        remediation=steps,
    )


_BOUND_WORDS = lazy_re(r"listen|bound|bind|running|serving|started|ready|local:|network:|http://|https://",
                          re.IGNORECASE)

# A client's line: it connects (or fails to) to the port, which says nothing of who listens on it; only a line
# with a word of listening makes a container the holder.
_CLIENT_WORDS = lazy_re(r"\bconnect(?:ing|ion|ed)?\b|\bdial(?:ing)?\b|refused|unreachable|\bexport(?:ing|er)?\b|"
                           r"failed to (?:send|reach|fetch)|\bupstream\b|\bretry(?:ing)?\b", re.IGNORECASE)
_LISTEN_WORDS = lazy_re(r"\blisten(?:ing|s)?\b|\bbound\b|\bbind\b|\bserving\b|\baccepting\b", re.IGNORECASE)


_GO_BIND = lazy_re(r"\blisten tcp[46]? \S*: bind: ")
# A listening line that names a server other than the app's main one: a second server on the port. A path it serves
# (`/metrics`), not a source file's location (`/src/cmd/api/main.go:42:`, Go's log.Llongfile prefix): a path
# running on into `.go:42` (a file name and a line number) is where the line was logged from.
_OTHER_SERVER = lazy_re(r"(?i)\b(?:metrics|admin|management|health(?:check)?|pprof|prometheus|debug server|"
                        r"grpc)\b|\s/[\w/-]+(?![\w/.-]*:\d)")


def _own_bind(ev: Evidence, port: object, container: str | None, anchor: int | None) -> int | None:
    """The line where the failing container itself bound the port before the error (`Server listening on port
    9736` and then EADDRINUSE): the same process or container binds it twice."""
    if not str(port or "").isdigit() or anchor is None:
        return None
    on_port = re.compile(rf"(?:[:\s]|port\s+){port}(?![\d.])", re.IGNORECASE)
    # Go's own bind error (`listen tcp :4000: bind: ...`): ListenAndServe blocks once it has bound, so the line the
    # container printed right before the error was printed before the call (gin's "Listening and serving HTTP on
    # :4000", a `log.Printf("listening on ...")`): the same attempt, no earlier bind, unless it names another server
    # (metrics, admin, a path it serves). Node's "listening" comes from the callback after a bind, so it counts.
    adjacent = bool(_GO_BIND.search(ev.logs.texts[anchor]))
    for j in range(anchor - 1, max(-1, anchor - 40), -1):
        who, text = ev.logs.containers[j], ev.logs.texts[j]
        if who not in (container, None) or not text.strip():
            continue
        if adjacent:
            adjacent = False
            if not _OTHER_SERVER.search(text):
                continue
        if on_port.search(text) and _BOUND_WORDS.search(text) \
                and not re.search(r"(?i)in use|EADDRINUSE|address already", text):
            return j
    return None


def _holder(ev: Evidence, others: Sequence[str], port: object, container: str | None) -> tuple[str, str] | None:
    """The other container of the task whose own log shows it bound the port (`Listening on :3000`,
    `Local: http://localhost:3000`)."""
    if not others or not str(port or "").isdigit():
        return None
    on_port = re.compile(rf"(?:[:\s]|port\s+){port}(?![\d.])", re.IGNORECASE)
    texts, containers = ev.logs.texts, ev.logs.containers
    for i in ev.logs.may_match(_BOUND_WORDS):
        text, who = texts[i], containers[i]
        if who and who in others and who != container and on_port.search(text) and _BOUND_WORDS.search(text) \
                and not (_CLIENT_WORDS.search(text) and not _LISTEN_WORDS.search(text)):
            return who, text
    return None


PATTERN = PortInUse()
