"""The Finding: ecs-autopsy's public contract.

Subscribers (SNS filter policies, Slack, tickets, dashboards) depend on this shape. Any change
to it bumps SCHEMA_VERSION (minor: optional fields added; major: fields removed or changed) and the
committed JSON Schema in shared/schemas/, which is generated from this model and the pattern registry
(`ecs-autopsy schema`; shared/schema.py). From 1.1 on, every object of the schema allows properties it
does not list, so a subscriber validating with 1.1 accepts every later 1.x finding; the tests check each
committed version against today's findings and against the current schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.2"  # 1.2: `changes` (what changed in the deploy), deployment rollback fields
SCHEMA_ID = f"urn:ecs-autopsy:finding:{SCHEMA_VERSION}"

Severity = Literal["critical", "warning", "info"]
Verdict = Literal["failure", "expected", "undetermined"]
GapKind = Literal["denied", "throttled", "missing", "unreachable", "timeout", "error", "skipped", "borrowed"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceItem(_Out):
    source: str = Field(description="Where the proof was read: stoppedReason, containers[x].reason, logs[x]:N, ...")
    text: str = Field(description="The line or field that proves the diagnosis (secrets masked).")


class ContainerSummary(_Out):
    name: str | None = None
    image: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    last_status: str | None = None
    health_status: str | None = None


class TaskSummary(_Out):
    account: str | None = None
    region: str | None = None
    cluster: str | None = None
    cluster_arn: str | None = None
    task_arn: str | None = Field(None, description="The stopped task (absent on deployment findings).")
    task_id: str | None = None
    service: str | None = None
    group: str | None = None
    started_by: str | None = None
    deployment_id: str | None = None
    task_definition: str | None = Field(None, description="family:revision")
    task_definition_arn: str | None = None
    launch_type: str | None = None
    capacity_provider: str | None = None
    platform_version: str | None = None
    cpu_architecture: str | None = None
    availability_zone: str | None = None
    cpu: str | None = None
    memory: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    stopped_at: str | None = None
    event_version: int | None = None
    containers: list[ContainerSummary] = Field(default_factory=list)


class Links(_Out):
    task: str | None = None
    service: str | None = None
    log_stream: str | None = None
    task_definition: str | None = None


class Check(_Out):
    name: str = Field(description="What was checked automatically.")
    result: str = Field(description="What the check found.")
    ok: bool | None = Field(None, description="True: no problem there; False: a problem; None: not checked.")


class DeploymentSummary(_Out):
    """Present on deploy-level findings: one finding for a failed deployment of many tasks."""

    cluster: str | None = None
    service: str | None = None
    service_arn: str | None = None
    deployment_id: str | None = None
    event_name: str | None = Field(None, description="SERVICE_DEPLOYMENT_FAILED, SERVICE_TASK_START_IMPAIRED ...")
    reason: str | None = None
    tasks_stopped: int = 0
    tasks_diagnosed: int = 0
    patterns: dict[str, int] = Field(default_factory=dict, description="root cause -> number of tasks")
    task_arns: list[str] = Field(default_factory=list)
    status: str | None = Field(None, description="The service deployment's status: ROLLBACK_SUCCESSFUL, "
                                                 "ROLLBACK_FAILED, STOPPED, IN_PROGRESS ...")
    rolled_back: bool | None = Field(None, description="The circuit breaker rolled the deployment back.")
    rollback_succeeded: bool | None = None
    rolled_back_to: str | None = Field(None, description="family:revision the service went back to.")


ChangeKind = Literal["added", "removed", "changed"]


class Change(_Out):
    """One difference between the revision that ran healthy and the failing one. Values of environment
    variables are never shown (only that they changed); secrets show their ARN, never their value."""

    field: str = Field(description="What changed: image, imageDigest, environment, secrets, memory, "
                                   "taskRoleArn, loadBalancer, securityGroups ... (task definition or service).")
    container: str | None = Field(None, description="The container, for container-level fields.")
    name: str | None = Field(None, description="The variable or secret name, for environment and secrets.")
    before: str | None = Field(None, description="The healthy revision's value (never an environment value).")
    after: str | None = Field(None, description="The failing revision's value (never an environment value).")
    kind: ChangeKind
    text: str = Field(description="One sentence for people: 'DATABASE_URL was removed from app'.")
    explains: bool = Field(False, description="This change explains the diagnosed cause.")


class Changes(_Out):
    """What changed between the last revision that ran healthy and the failing one."""

    before: str | None = Field(None, description="The healthy revision: family:revision of its task definition.")
    after: str | None = Field(None, description="The failing revision: family:revision.")
    basis: str = Field(description="How the healthy revision was found: service-deployment, previous-deployment "
                                   "(DescribeServices), previous-revision (family revision - 1), given (offline).")
    items: list[Change] = Field(default_factory=list, description="Changes, those that explain the cause first.")
    verdict: str = Field(description="One sentence: the change that explains the cause, or that none does.")
    explained: bool = Field(False, description="A change explains the diagnosed cause.")
    rollback_command: str | None = Field(None, description="Back to the healthy revision, when a change explains "
                                                           "the failure.")
    deployment_status: str | None = Field(None, description="The service deployment's status (ROLLBACK_SUCCESSFUL ...).")
    rolled_back_to: str | None = Field(None, description="The revision the circuit breaker rolled back to.")


class EvidenceGap(_Out):
    kind: GapKind = Field(description="Why it is missing: denied, throttled, missing (not there), unreachable, "
                                      "timeout, error (a defect in ecs-autopsy), skipped (not read on purpose), "
                                      "borrowed (a crash-loop sibling's logs stood in).")
    text: str = Field(description="What was not read, and why (the same text as in `gaps`).")


class Finding(_Out):
    """One diagnosis of one stopped task."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        json_schema_extra={"$id": SCHEMA_ID, "$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    schema_: str = Field(SCHEMA_ID, alias="schema", description="Schema id; changes with schema_version.")
    schema_version: str = SCHEMA_VERSION
    pattern: str = Field(description="Root cause: a pattern id of the taxonomy (docs/taxonomy.md).")
    verdict: Verdict = Field("failure", description="failure: a cause to fix; expected: the stop was meant to "
                                                    "happen (scale-in, deployment, a job that finished); "
                                                    "undetermined: no cause could be named.")
    symptom: str | None = Field(None, description="The symptom ECS reported when it differs from the root cause.")
    severity: Severity
    confidence: float = Field(ge=0, le=1)
    title: str
    summary: str
    facts: dict[str, Any] = Field(default_factory=dict)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    remediation: list[str] = Field(default_factory=list)
    also_matched: list[str] = Field(default_factory=list)
    task: TaskSummary
    log_excerpt: list[str] = Field(default_factory=list, description="Last <= 50 relevant log lines, masked.")
    links: Links = Field(default_factory=Links)
    gaps: list[str] = Field(default_factory=list, description="Evidence that was not available.")
    evidence_gaps: list[EvidenceGap] = Field(default_factory=list,
                                             description="The same gaps, each with its kind (from 1.1).")
    checks: list[Check] = Field(default_factory=list, description="What was checked automatically.")
    fingerprint: str = Field(description="Stable hash of (service, pattern, key facts) for de-duplication.")
    scope: Literal["task", "deployment"] = Field("task", description="One task, or a whole failed deployment.")
    deployment: DeploymentSummary | None = None
    changes: Changes | None = Field(None, description="What changed in the deploy, and whether it explains the cause.")


def finding_json_schema() -> dict[str, Any]:
    """The model's own JSON Schema (no pattern detail); shared.schema adds the registry's facts and ids."""
    return Finding.model_json_schema(by_alias=True, mode="serialization")
