"""Pydantic models of the ECS events ecs-autopsy reacts to.

AWS casing stays at the edge: fields are snake_case in Python and validated from the camelCase
(or `detail-type`) names EventBridge uses. Unknown fields are kept (``extra="allow"``), never fatal;
a wrong shape raises a ``pydantic.ValidationError`` whose location names the field.

Reference: "Amazon ECS task state change events" in the ECS developer guide.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

TASK_STATE_CHANGE = "ECS Task State Change"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"
ECS_SOURCE = "aws.ecs"


class _AwsModel(BaseModel):
    """camelCase on the wire, snake_case in Python, unknown fields kept.

    Each model's validator is built on its first use (`defer_build`), not at import: an event's validator
    holds its parts' (TaskStateChangeEvent's: the task, containers, attachments...), which then need no
    validator of their own, and a function never builds those of the events it does not read (the
    task-stopped function, the one whose cold start counts most, never reads a deployment event)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        defer_build=True,
    )


class NameValue(_AwsModel):
    name: str
    value: str | None = None


class NetworkBinding(_AwsModel):
    bind_ip: str | None = None
    container_port: int | None = None
    host_port: int | None = None
    protocol: str | None = None


class NetworkInterface(_AwsModel):
    attachment_id: str | None = None
    private_ipv4_address: str | None = None


class Attachment(_AwsModel):
    id: str | None = None
    type: str | None = None
    status: str | None = None
    details: list[NameValue] = Field(default_factory=list)

    def detail(self, name: str) -> str | None:
        for item in self.details:
            if item.name == name:
                return item.value
        return None


class Container(_AwsModel):
    name: str | None = None
    container_arn: str | None = None
    task_arn: str | None = None
    image: str | None = None
    image_digest: str | None = None
    runtime_id: str | None = None
    last_status: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    health_status: str | None = None
    cpu: str | None = None
    memory: str | None = None
    memory_reservation: str | None = None
    network_bindings: list[NetworkBinding] = Field(default_factory=list)
    network_interfaces: list[NetworkInterface] = Field(default_factory=list)
    gpu_ids: list[str] = Field(default_factory=list)  # the GPUs ECS assigned this container (resourceRequirements GPU)

    @field_validator("cpu", "memory", "memory_reservation", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        # ECS sends these as strings; DescribeTasks output sometimes as numbers.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class TaskDetail(_AwsModel):
    """`detail` of an "ECS Task State Change" event (same shape as a DescribeTasks task)."""

    task_arn: str
    cluster_arn: str | None = None
    task_definition_arn: str | None = None
    last_status: str | None = None
    desired_status: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: list[Container] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    attributes: list[NameValue] = Field(default_factory=list)
    group: str | None = None
    started_by: str | None = None
    launch_type: str | None = None
    capacity_provider_name: str | None = None
    platform_version: str | None = None
    platform_family: str | None = None
    availability_zone: str | None = None
    container_instance_arn: str | None = None
    cpu: str | None = None
    memory: str | None = None
    health_status: str | None = None
    connectivity: str | None = None
    version: int | None = None
    created_at: datetime | None = None
    connectivity_at: datetime | None = None
    pull_started_at: datetime | None = None
    pull_stopped_at: datetime | None = None
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    execution_stopped_at: datetime | None = None
    stopped_at: datetime | None = None
    updated_at: datetime | None = None
    overrides: dict[str, Any] | None = None

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    def attribute(self, name: str) -> str | None:
        for item in self.attributes:
            if item.name == name:
                return item.value
        return None

    def eni_detail(self, name: str) -> str | None:
        for attachment in self.attachments:
            if (attachment.type or "").lower() in ("eni", "elasticnetworkinterface"):
                value = attachment.detail(name)
                if value:
                    return value
        return None


class EventEnvelope(_AwsModel):
    """The EventBridge envelope, generic over `detail`."""

    version: str | None = None
    id: str | None = None
    detail_type: str = Field(validation_alias=AliasChoices("detail-type", "detail_type", "detailType"))
    source: str
    account: str | None = None
    time: datetime | None = None
    region: str | None = None
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]


class TaskStateChangeEvent(EventEnvelope):
    detail: TaskDetail  # type: ignore[assignment]  # pydantic narrows the field per subclass; mypy sees a mutable override


class DeploymentDetail(_AwsModel):
    """`detail` of "ECS Deployment State Change" and "ECS Service Action" events."""

    event_type: str | None = None
    event_name: str
    deployment_id: str | None = None
    reason: str | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None
    cluster_arn: str | None = None
    capacity_provider_arns: list[str] = Field(default_factory=list)


class DeploymentEvent(EventEnvelope):
    detail: DeploymentDetail  # type: ignore[assignment]  # as above: the narrowed detail of this event kind


def split_arn(arn: str | None) -> tuple[str | None, str | None, str | None]:
    """(region, account, resource) of an ARN, or Nones."""
    if not arn or not arn.startswith("arn:"):
        return None, None, None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None, None, None
    return parts[3] or None, parts[4] or None, parts[5] or None


def cluster_name(cluster_arn: str | None) -> str | None:
    _, _, resource = split_arn(cluster_arn)
    if resource and resource.startswith("cluster/"):
        return resource.split("/", 1)[1]
    return cluster_arn if cluster_arn and not cluster_arn.startswith("arn:") else None


def task_id(task_arn: str | None) -> str | None:
    if not task_arn:
        return None
    return task_arn.rsplit("/", 1)[-1]


def service_name(group: str | None) -> str | None:
    if group and group.startswith("service:"):
        return group.split(":", 1)[1]
    return None
