"""Evidence: everything known about one stopped task, gathered before any diagnosis.

Frozen and pure: patterns read it, never extend it. Live gatherers (see `shared.evidence.gather`)
fill the optional AWS-side facts; offline diagnosis has the event and the log lines only, and
what is missing is listed in `gaps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_args, overload

from shared.attribution import Attribution, attribute
from shared.logs import LogSet
from shared.models.event import Container, TaskDetail, TaskStateChangeEvent

# Exit codes that mean "killed from outside" rather than "the program gave up".
SIGNAL_EXITS = {137: "SIGKILL", 143: "SIGTERM", 130: "SIGINT", 129: "SIGHUP"}
# How much of a stop reason the patterns read (ECS writes at most a few hundred characters).
REASON_CHARS = 8192

# Second-phase evidence a pattern may ask for (Pattern.needs): read only when a first diagnosis wants it.
Need = Literal["target_health", "iam", "network"]
NEEDS: frozenset[Need] = frozenset(get_args(Need))

# Why a piece of evidence is missing: refused (denied), rate-limited (throttled), not there (missing),
# no answer from the endpoint (unreachable), out of time (timeout), a defect in ecs-autopsy (error), not
# read on purpose (skipped: offline, nothing to read), or stood in for by a crash-loop sibling's (borrowed).
GapKind = Literal["denied", "throttled", "missing", "unreachable", "timeout", "error", "skipped", "borrowed"]
GAP_KINDS: frozenset[str] = frozenset(get_args(GapKind))


class GapNote(str):
    """A gap's text that also carries its kind: plain str everywhere text is enough, `.kind` where code
    must decide (never parse the prose)."""

    kind: GapKind

    def __new__(cls, text: str, kind: GapKind = "missing") -> GapNote:
        note = super().__new__(cls, text)
        note.kind = kind
        return note


def gap_kind(gap: str) -> GapKind:
    kind = getattr(gap, "kind", None)
    return kind if kind in GAP_KINDS else "missing"


_T = TypeVar("_T")


class cached_property(Generic[_T]):
    """functools.cached_property without the lock Python 3.11 takes on every first read of every instance (3.12
    dropped it; ~1 us a read, and a diagnosis reads a dozen of Evidence's views first): the value is computed once
    and stored in the instance's __dict__, where later reads find it without calling this descriptor."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | cached_property[_T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


@dataclass(frozen=True)
class ContainerDefinition:
    name: str
    image: str | None = None
    essential: bool = True
    memory: int | None = None  # hard limit, MiB
    memory_reservation: int | None = None  # soft limit, MiB
    cpu: int | None = None
    port_mappings: tuple[int, ...] = ()  # container ports
    health_check: tuple[str, ...] = ()  # the HEALTHCHECK command as in the task definition
    health_check_start_period: int | None = None
    env_names: frozenset[str] = frozenset()
    secret_names: frozenset[str] = frozenset()
    log_driver: str | None = None
    log_options: Mapping[str, str] = field(default_factory=dict)
    entry_point: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    depends_on: tuple[tuple[str, str], ...] = ()  # (container name, condition: START, COMPLETE, SUCCESS, HEALTHY)
    firelens: str | None = None  # firelensConfiguration.type (fluentbit, fluentd): this container is the log router
    gpus: int = 0  # resourceRequirements GPU: how many GPUs ECS assigns this container
    # restartPolicy.enabled: ECS restarts this container in place when it exits (the same container, writable layer
    # kept), not by replacing the task
    restarts: bool = False


@dataclass(frozen=True)
class TaskDefinitionFacts:
    arn: str
    family: str | None = None
    revision: int | None = None
    cpu: str | None = None
    memory: str | None = None
    network_mode: str | None = None
    task_role_arn: str | None = None
    execution_role_arn: str | None = None
    cpu_architecture: str | None = None  # runtimePlatform.cpuArchitecture
    os_family: str | None = None
    containers: tuple[ContainerDefinition, ...] = ()
    ephemeral_storage_gib: int | None = None

    def container(self, name: str | None) -> ContainerDefinition | None:
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True)
class TargetHealth:
    target_id: str
    port: int | None
    state: str | None
    reason: str | None = None  # e.g. Target.ResponseCodeMismatch, Target.Timeout
    description: str | None = None


@dataclass(frozen=True)
class TargetGroupFacts:
    arn: str
    name: str | None = None
    protocol: str | None = None
    port: int | None = None
    target_type: str | None = None
    health_check_protocol: str | None = None
    health_check_path: str | None = None
    health_check_port: str | None = None  # "traffic-port" or a number
    matcher: str | None = None  # HttpCode, e.g. "200" or "200-399"
    timeout_seconds: int | None = None
    interval_seconds: int | None = None
    healthy_threshold: int | None = None
    unhealthy_threshold: int | None = None
    load_balancer_arns: tuple[str, ...] = ()
    load_balancer_security_groups: tuple[str, ...] = ()
    targets: tuple[TargetHealth, ...] = ()
    container_name: str | None = None  # from the service's loadBalancers block
    container_port: int | None = None


@dataclass(frozen=True)
class ServiceFacts:
    name: str
    health_check_grace_period: int | None = None
    desired_count: int | None = None
    target_group_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class IamCheck:
    principal: str  # the ARN in the message (assumed-role session or role)
    role_arn: str | None
    role_kind: str  # "task role", "execution role", "instance role", "unknown"
    action: str
    resource: str | None
    decision: str | None  # allowed / implicitDeny / explicitDeny, from SimulatePrincipalPolicy
    detail: str | None = None


@dataclass(frozen=True)
class NetworkFacts:
    subnet_id: str | None = None
    vpc_id: str | None = None
    security_groups: tuple[str, ...] = ()
    public_ip: bool | None = None
    internet_route: str | None = None  # "nat", "igw", or None when the subnet has neither
    vpc_endpoints: tuple[str, ...] = ()  # service names, e.g. com.amazonaws.us-east-1.ecr.dkr
    lb_ingress_ok: bool | None = None  # does the task SG admit the load balancer SG on the port?
    lb_ingress_detail: str | None = None


@dataclass(frozen=True)
class LogSource:
    container: str
    group: str | None
    stream: str | None
    region: str | None = None


@dataclass(frozen=True)
class Evidence:
    event: TaskStateChangeEvent
    logs: LogSet
    task_definition: TaskDefinitionFacts | None = None
    service: ServiceFacts | None = None
    target_groups: tuple[TargetGroupFacts, ...] = ()
    iam: IamCheck | None = None
    network: NetworkFacts | None = None
    log_sources: tuple[LogSource, ...] = ()
    gaps: tuple[str, ...] = ()
    offline: bool = True

    # -- convenient views, computed once ---------------------------------------------------------
    @property
    def detail(self) -> TaskDetail:
        return self.event.detail

    @cached_property
    def reasons(self) -> tuple[tuple[str, str], ...]:
        """(source, text) for the task's stoppedReason and every container reason, as patterns read
        them: clipped to REASON_CHARS (ECS writes a few hundred characters; a forged megabyte would
        cost every regex of every pattern a pass over it). The finding still shows the whole text."""
        out: list[tuple[str, str]] = []
        if self.detail.stopped_reason:
            out.append(("stoppedReason", self.detail.stopped_reason[:REASON_CHARS]))
        waiting = self.attribution.waiting_on
        for c in self.detail.containers:
            if c.reason and c.name not in waiting:  # "dependency ... did not exit successfully": a victim's
                out.append((f"containers[{c.name}].reason", c.reason[:REASON_CHARS]))
        return tuple(out)

    @cached_property
    def reason_text(self) -> str:
        return "\n".join(text for _, text in self.reasons)

    @cached_property
    def stop_code(self) -> str:
        return self.detail.stop_code or ""

    @cached_property
    def task_definition_name(self) -> str:
        """family:revision of the task definition, for CLI commands in remediations."""
        return (self.detail.task_definition_arn or "").rsplit("/", 1)[-1] or "<family>"

    @cached_property
    def stopped_reason(self) -> str:
        return (self.detail.stopped_reason or "")[:REASON_CHARS]

    def container(self, name: str | None) -> Container | None:
        return next((c for c in self.detail.containers if c.name == name), None)

    @cached_property
    def attribution(self) -> Attribution:
        """Which container failed first and which were only stopped with it (shared.attribution)."""
        return attribute(self.detail, self.task_definition)

    @cached_property
    def failing(self) -> tuple[str, ...]:
        """Containers that most likely took the task down, most likely first."""
        if self.attribution.ranked:
            return self.attribution.ranked
        containers = self.detail.containers
        essential = {c.name for c in self.task_definition.containers if c.essential} if self.task_definition else None
        named = [c.name for c in containers if c.name]
        if essential:
            named = [n for n in named if n in essential] or named
        apps = [n for n in named if n not in self.attribution.sidecars]
        return tuple((apps or named)[:1])

    @cached_property
    def primary(self) -> str | None:
        return self.failing[0] if self.failing else None

    @cached_property
    def cpu_architecture(self) -> str | None:
        arch = self.detail.attribute("ecs.cpu-architecture")
        if not arch and self.task_definition:
            arch = self.task_definition.cpu_architecture
        return arch.lower() if arch else None

    @cached_property
    def subnet(self) -> str | None:
        return self.detail.eni_detail("subnetId") or (self.network.subnet_id if self.network else None)

    def container_definition(self, name: str | None) -> ContainerDefinition | None:
        return self.task_definition.container(name) if self.task_definition else None

    def memory_limit(self, name: str | None) -> tuple[int | None, str]:
        """(MiB, where it came from) of the memory limit that applies to the container."""
        cdef = self.container_definition(name)
        if cdef and cdef.memory:
            return cdef.memory, "container hard limit (task definition)"
        c = self.container(name)
        if c and c.memory and c.memory.isdigit():
            return int(c.memory), "container memory (event)"
        task_mem = (self.task_definition.memory if self.task_definition else None) or self.detail.memory
        if task_mem and str(task_mem).isdigit():
            return int(task_mem), "task memory"
        return None, ""

    def log_source(self, container: str | None) -> LogSource | None:
        return next((s for s in self.log_sources if s.container == container), None)
