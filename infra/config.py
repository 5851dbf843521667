"""The deployment's configuration: one validated model, read from CDK context at synth.

Every setting has a context key (`autopsy:<name>`, set in cdk.json or with `cdk deploy -c KEY=VALUE`)
and a snake_case field for code that places the construct itself. Values from the command line
arrive as strings, so lists also accept a comma-separated string and numbers/booleans their text.
A key that is not known fails synth and names the key it most resembles.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.settings import DEFAULT_LOG_GROUP_PREFIXES

CONTEXT_PREFIX = "autopsy:"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_CLUSTER_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster/[A-Za-z0-9_-]{1,255}$")
_LOG_GROUP_PREFIX = re.compile(r"^[A-Za-z0-9._/#*-]{1,511}$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_ROLE_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_/*-]{1,512}$")
_TAG = re.compile(r"^([\w .:/=+@-]{1,128})=([\w .:/=+@-]{0,256})$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ORG_PATH = re.compile(r"^o-[a-z0-9]{10,32}/r-[a-z0-9]{4,32}(/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32})*/?\*?$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_SLACK_ID = re.compile(r"^[A-Z0-9]{9,11}$")

# Roles iam:SimulatePrincipalPolicy may simulate by default: ECS task and execution roles as people
# and tools name them: ecsTaskExecutionRole / ecsTaskRole (console, docs), <Stack>-TaskDefTaskRole...
# and ...TaskDefExecutionRole... (CDK), <app>-<env>-<svc>-TaskRole-... / -ExecutionRole-... (Copilot).
DEFAULT_TASK_ROLE_PATTERNS = ("*TaskRole*", "*ExecutionRole*")

# CloudWatch Logs accepts only these retention periods (days).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


class ConfigError(ValueError):
    """Invalid configuration: the message names every offending context key."""


def _as_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _unique(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} {v!r} is listed twice")
        seen.add(v)
    return values


class AutopsyConfig(BaseModel):
    """Settings of one ecs-autopsy deployment (hub, single account, or member)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    slack_webhook_secret: str | None = Field(
        None, alias="autopsy:slackWebhookSecret",
        description="Secrets Manager secret (name or ARN) holding the Slack incoming-webhook URL; none: no Slack.")
    slack_channel: str | None = Field(
        None, alias="autopsy:slackChannel",
        description="Slack app mode (the secret holds a bot token): the default channel (C0123... or a name). "
                    "Set, it also creates the recovery function and its two rules (threads get a 'recovered' reply).")
    slack_mention: str | None = Field(
        None, alias="autopsy:slackMention",
        description="Default mention in a new thread: <!subteam^S...> and/or user ids (U...), space separated.")
    slack_min_severity: str = Field("info", alias="autopsy:slackMinSeverity",
                                    description="Default: Slack is told of findings of this severity and above.")
    route_by_tags: bool = Field(
        True, alias="autopsy:routeByTags",
        description="Route by the ecs-autopsy:* tags of the service, task definition and cluster "
                    "(ecs:ListTagsForResource, cached 5 min per resource).")
    clusters: tuple[str, ...] = Field(
        (), alias="autopsy:clusters",
        description="Cluster names or ARNs to watch; empty: every cluster in the account and Region.")
    log_group_prefixes: tuple[str, ...] = Field(
        DEFAULT_LOG_GROUP_PREFIXES, alias="autopsy:logGroupPrefixes",
        description="Log group name prefixes the functions may read (logs:GetLogEvents); '*' is an IAM "
                    "wildcard (the default '*LogGroup' matches CDK-generated groups).")
    log_lines: int = Field(100, ge=1, le=10_000, alias="autopsy:logLines",
                           description="Log lines read per container.")
    post_expected_stops: bool = Field(False, alias="autopsy:postExpectedStops",
                                      description="Also post scale-in, deployment and spot stops.")
    post_insufficient: bool = Field(False, alias="autopsy:postInsufficientEvidence",
                                    description="Also post findings that say the event held too little to "
                                                "diagnose (SNS always gets them).")
    noise_window_seconds: int = Field(900, ge=0, le=86_400, alias="autopsy:noiseWindowSeconds",
                                      description="Repeats of one failure inside this window are collapsed.")
    max_slack_posts_per_window: int = Field(5, ge=1, le=1000, alias="autopsy:maxSlackPostsPerWindow",
                                            description="At most this many Slack posts per noise window (storm cap).")
    chatbot_format: bool = Field(False, alias="autopsy:chatbotFormat",
                                 description="Publish to SNS in the AWS Chatbot custom-notification format.")
    topic_arn: str | None = Field(None, alias="autopsy:topicArn",
                                  description="Existing SNS topic to publish to; none: one is created (KMS).")
    topic_kms_key_arn: str | None = Field(
        None, alias="autopsy:topicKmsKeyArn",
        description="KMS key of the existing topic (customer managed key only), so the functions may use it.")
    slack_secret_kms_key_arn: str | None = Field(
        None, alias="autopsy:slackSecretKmsKeyArn",
        description="Customer managed KMS key of the Slack secret, so the functions may decrypt it "
                    "(kms:Decrypt through Secrets Manager only).")
    source_accounts: tuple[str, ...] = Field(
        (), alias="autopsy:sourceAccounts",
        description="Organization hub: member accounts whose ECS events this account's bus accepts.")
    organization_id: str | None = Field(
        None, alias="autopsy:organizationId",
        description="Organization hub: accept ECS events from every account of this AWS Organization "
                    "(aws:PrincipalOrgID), so a new account needs no hub redeploy.")
    organization_unit_paths: tuple[str, ...] = Field(
        (), alias="autopsy:organizationUnitPaths",
        description="Organization hub: only accounts under these OU paths (o-.../r-.../ou-.../, "
                    "aws:PrincipalOrgPaths); needs autopsy:organizationId.")
    alarm_emails: tuple[str, ...] = Field(
        (), alias="autopsy:alarmEmails",
        description="Email addresses subscribed to the alarm topic (each confirms by email).")
    alarm_slack_workspace_id: str | None = Field(
        None, alias="autopsy:alarmSlackWorkspaceId",
        description="AWS Chatbot: Slack workspace (team) id for the alarm topic; with autopsy:alarmSlackChannelId.")
    alarm_slack_channel_id: str | None = Field(
        None, alias="autopsy:alarmSlackChannelId",
        description="AWS Chatbot: Slack channel id the alarms are posted to.")
    task_role_patterns: tuple[str, ...] = Field(
        DEFAULT_TASK_ROLE_PATTERNS, alias="autopsy:taskRolePatterns",
        description="Roles (path and name, IAM wildcards) iam:SimulatePrincipalPolicy may simulate: "
                    "the task and execution roles of your task definitions.")
    task_role_tag: str | None = Field(
        None, alias="autopsy:taskRoleTag",
        description="KEY=VALUE: roles tagged so may also be simulated (aws:ResourceTag condition).")
    member_role_name: str = Field("ecs-autopsy-reader", alias="autopsy:memberRoleName",
                                  description="Name of the read-only role in each member account.")
    reserved_concurrency: int | None = Field(
        None, ge=1, le=100, alias="autopsy:reservedConcurrency",
        description="Reserved concurrency of the task-stopped function (deploy-failed and manual get at most "
                    "2); none (default): no reservation. Reserving needs an account concurrency quota of at "
                    "least 10 + the reserved total (docs/deploy.md).")
    log_retention_days: int = Field(30, alias="autopsy:logRetentionDays",
                                    description="Retention of the functions' log groups, in days.")
    hub_account: str | None = Field(None, alias="autopsy:hubAccount",
                                    description="Member stack: the hub account that receives events and diagnoses.")
    hub_region: str | None = Field(None, alias="autopsy:hubRegion",
                                   description="Member stack: the hub's Region; none: the member stack's Region.")
    member_reader_role: bool = Field(
        True, alias="autopsy:memberReaderRole",
        description="Member stack: create the read-only role (false in a second Region of the same account; "
                    "IAM roles are global).")

    # ---- field validation -------------------------------------------------------------------
    @field_validator("clusters", "log_group_prefixes", "source_accounts", "organization_unit_paths",
                     "alarm_emails", "task_role_patterns", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _as_list(value)

    @field_validator("reserved_concurrency", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "null", "none", "off", "false"):
            return None
        if value is False:
            return None
        return value

    @field_validator("clusters")
    @classmethod
    def _clusters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for c in value:
            if not (_CLUSTER_NAME.match(c) or _CLUSTER_ARN.match(c)):
                raise ValueError(f"{c!r} is neither a cluster name nor a cluster ARN")
        return _unique(value, "cluster")

    @field_validator("log_group_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one log group prefix is needed (the functions read task logs)")
        for p in value:
            if not _LOG_GROUP_PREFIX.match(p) or p.endswith("*"):
                raise ValueError(f"{p!r} is not a log group name prefix (letters, digits, . _ / # - and '*' "
                                 "wildcards inside; a prefix already matches what follows it: no trailing '*')")
            if not p.strip("*/"):
                raise ValueError(f"{p!r} would let the functions read every log group of the account")
        return _unique(value, "prefix")

    @field_validator("slack_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("arn:"):
            if not _SECRET_ARN.match(value):
                raise ValueError(f"{value!r} is not a Secrets Manager secret ARN")
        elif not _SECRET_NAME.match(value):
            raise ValueError(f"{value!r} is not a secret name (letters, digits, / _ + = . @ -)")
        return value

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not re.match(r"^(?:[CG][A-Z0-9]{6,20}|#?[a-z0-9][a-z0-9._-]{0,79})$", value):
            raise ValueError(f"{value!r} is not a Slack channel id (C0123...) or name")
        return value

    @field_validator("slack_mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        from shared.notify.routing import parse_mentions

        tokens = [t for t in re.split(r"[\s,]+", value.strip()) if t]
        if len(parse_mentions(value, "configured")) != len(tokens):
            raise ValueError(f"{value!r}: mentions must be <!subteam^S...> or user ids (U...)")
        return value

    @field_validator("slack_min_severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        if value not in ("info", "warning", "critical"):
            raise ValueError(f"{value!r} is not one of info, warning, critical")
        return value

    @field_validator("topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _TOPIC_ARN.match(value) or value.endswith(".fifo"):
            raise ValueError(f"{value!r} is not a standard SNS topic ARN")
        return value

    @field_validator("topic_kms_key_arn", "slack_secret_kms_key_arn")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _KMS_KEY_ARN.match(value):
            raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
        return value

    @field_validator("source_accounts")
    @classmethod
    def _accounts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for a in value:
            if not _ACCOUNT.match(a):
                raise ValueError(f"{a!r} is not a 12-digit AWS account id")
        return _unique(value, "account")

    @field_validator("organization_id")
    @classmethod
    def _org(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _ORG_ID.match(value):
            raise ValueError(f"{value!r} is not an AWS Organizations id (o-xxxxxxxxxx)")
        return value

    @field_validator("organization_unit_paths")
    @classmethod
    def _org_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for p in value:
            if not _ORG_PATH.match(p):
                raise ValueError(f"{p!r} is not an organization path (o-xxxxxxxxxx/r-xxxx/ou-xxxx-xxxxxxxx/)")
        return _unique(value, "path")

    @field_validator("alarm_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for e in value:
            if not _EMAIL.match(e):
                raise ValueError(f"{e!r} is not an email address")
        return _unique(value, "email")

    @field_validator("alarm_slack_workspace_id", "alarm_slack_channel_id")
    @classmethod
    def _slack_id(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _SLACK_ID.match(value):
            raise ValueError(f"{value!r} is not a Slack id (like T0123ABCD or C0123ABCDEF)")
        return value

    @field_validator("task_role_patterns")
    @classmethod
    def _role_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one role pattern is needed (or set autopsy:taskRoleTag)")
        for p in value:
            if not _ROLE_PATTERN.match(p) or p.strip("*/") == "":
                raise ValueError(f"{p!r} is not a role name pattern (path/name with * wildcards, not only '*': "
                                 "that would be every role of the account)")
        return _unique(value, "role pattern")

    @field_validator("task_role_tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _TAG.match(value):
            raise ValueError(f"{value!r} is not KEY=VALUE")
        return value

    @field_validator("hub_account", mode="before")
    @classmethod
    def _hub_account(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:012d}"
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _ACCOUNT.match(value):
            raise ValueError(f"{value!r} is not a 12-digit AWS account id")
        return value

    @field_validator("hub_region")
    @classmethod
    def _hub_region(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _REGION.match(value):
            raise ValueError(f"{value!r} is not a Region name (like eu-west-1)")
        return value

    @field_validator("member_role_name")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _ROLE_NAME.match(value):
            raise ValueError(f"{value!r} is not an IAM role name (1-64 of letters, digits, + = , . @ _ -)")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period; use one of {RETENTION_DAYS}")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> AutopsyConfig:
        if self.topic_kms_key_arn and not self.topic_arn:
            raise ValueError("autopsy:topicKmsKeyArn is only for an existing topic: set autopsy:topicArn too "
                             "(a created topic gets its own key)")
        if self.hub_account and self.hub_account in self.source_accounts:
            raise ValueError(f"autopsy:hubAccount {self.hub_account} is also in autopsy:sourceAccounts")
        if self.organization_unit_paths:
            if not self.organization_id:
                raise ValueError("autopsy:organizationUnitPaths needs autopsy:organizationId")
            wrong = [p for p in self.organization_unit_paths if not p.startswith(self.organization_id + "/")]
            if wrong:
                raise ValueError(f"autopsy:organizationUnitPaths {wrong} are not in organization "
                                 f"{self.organization_id}")
        if bool(self.alarm_slack_workspace_id) != bool(self.alarm_slack_channel_id):
            raise ValueError("AWS Chatbot needs both autopsy:alarmSlackWorkspaceId and autopsy:alarmSlackChannelId")
        regions = self.arn_regions()
        if regions.get("autopsy:topicKmsKeyArn") and regions.get("autopsy:topicArn") and \
                regions["autopsy:topicKmsKeyArn"] != regions["autopsy:topicArn"]:
            raise ValueError("autopsy:topicKmsKeyArn is in another Region than autopsy:topicArn: an SNS topic "
                             "is encrypted with a key of its own Region")
        return self

    # ---- derived ----------------------------------------------------------------------------
    @property
    def is_hub(self) -> bool:
        return bool(self.source_accounts or self.organization_id)

    def arn_regions(self) -> dict[str, str]:
        """context key -> Region of every configured ARN the functions use from their own Region."""
        return {key: arn.split(":")[3] for key, arn in (
            ("autopsy:topicArn", self.topic_arn), ("autopsy:topicKmsKeyArn", self.topic_kms_key_arn),
            ("autopsy:slackWebhookSecret", self.slack_webhook_secret),
            ("autopsy:slackSecretKmsKeyArn", self.slack_secret_kms_key_arn)) if arn and arn.startswith("arn:")}

    @property
    def slack_app(self) -> bool:
        """Slack app mode: threads, live counts and the recovery function."""
        return bool(self.slack_channel and self.slack_webhook_secret)

    @classmethod
    def context_keys(cls) -> dict[str, str]:
        """context key -> field name."""
        return {str(f.alias): name for name, f in cls.model_fields.items()}

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> AutopsyConfig:
        """Build from CDK context (every key; keys of other tools are ignored). Raises ConfigError."""
        keys = cls.context_keys()
        errors: list[str] = []
        ours: dict[str, Any] = {}
        for key, value in context.items():
            if key in keys:
                ours[key] = value
            elif key.startswith(CONTEXT_PREFIX) or _resembles(key, keys):
                errors.append(f"{key}: unknown setting{_did_you_mean(key, keys)}")
        if errors:
            raise ConfigError(_format(errors))
        try:
            return cls.model_validate(ours)
        except ValidationError as exc:
            raise ConfigError(_format(_describe(exc))) from None

    @classmethod
    def from_options(cls, **options: Any) -> AutopsyConfig:
        """Build from snake_case keyword arguments (for code that places the construct). Raises ConfigError."""
        errors = [f"{k}: unknown option{_did_you_mean(k, cls.model_fields)}" for k in options
                  if k not in cls.model_fields]
        if errors:
            raise ConfigError(_format(errors))
        try:
            return cls.model_validate(options)
        except ValidationError as exc:
            raise ConfigError(_format(_describe(exc, by_alias=False))) from None


def _resembles(key: str, known: Mapping[str, str]) -> bool:
    """A context key that is probably a misspelt one of ours (e.g. 'autpsy:clusters', 'clusters')."""
    if key.startswith(("@aws-cdk", "aws:cdk", "cdk-", "@")):
        return False
    bare = {k.removeprefix(CONTEXT_PREFIX).lower() for k in known}
    return key.lower() in bare or bool(difflib.get_close_matches(key, list(known), n=1, cutoff=0.85))


def _did_you_mean(key: str, known: Any) -> str:
    names = list(known)
    match = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if not match:
        lowered = {n.lower().removeprefix(CONTEXT_PREFIX): n for n in names}
        bare = key.lower().removeprefix(CONTEXT_PREFIX)
        close = difflib.get_close_matches(bare, list(lowered), n=1, cutoff=0.6)
        match = [lowered[close[0]]] if close else []
    if match:
        return f" (did you mean {match[0]!r}?)"
    return f"; known: {', '.join(sorted(names))}"


def _describe(exc: ValidationError, by_alias: bool = True) -> list[str]:
    out = []
    aliases = {name: str(f.alias) for name, f in AutopsyConfig.model_fields.items()}
    for err in exc.errors():
        loc = err.get("loc") or ()
        head = str(loc[0]) if loc else "configuration"
        if not by_alias:
            head = next((n for n, a in aliases.items() if a == head), head)
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        if err["type"] not in ("value_error",) and loc and not isinstance(got, dict):
            msg = f"{msg} (got {got!r})"
        out.append(f"{head}: {msg}")
    return out


def _format(errors: list[str]) -> str:
    return "invalid ecs-autopsy configuration:\n  " + "\n  ".join(errors)
