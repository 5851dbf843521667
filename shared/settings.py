"""Runtime settings of the Lambda functions, read from the environment once per cold start.

The CDK construct sets exactly these variables (a test holds the two together). Names are the
contract between infra/ and functions/.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.warm import on_reset

PREFIX = "ECS_AUTOPSY_"

# Log groups the functions may read by default. ECS's console and `aws ecs create-service` examples
# use /ecs/<family>; ECS Service Connect and Container Insights /aws/ecs/...; AWS Copilot names its
# groups /copilot/<app>-<env>-<service>. The CDK's AwsLogDriver (ecs.LogDrivers.awsLogs without a
# logGroup, ecs_patterns) creates a group whose name CloudFormation generates from the stack and the
# logical id: <Stack>-<TaskDef><Container>LogGroup<hash>-<random>, so no prefix covers it: the
# pattern "*LogGroup" (IAM ARN wildcard) matches exactly the names with "LogGroup" in them.
DEFAULT_LOG_GROUP_PREFIXES = ("/ecs/", "/aws/ecs/", "/copilot/", "*LogGroup")


def log_group_allowed(group: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    """Is the log group inside one of the prefixes (a '*' in a prefix is a wildcard, as in IAM)?"""
    from fnmatch import fnmatchcase

    return any(fnmatchcase(group, p + "*") if "*" in p else group.startswith(p) for p in prefixes)


ENV_VARS = {
    "topic_arn": "ECS_AUTOPSY_TOPIC_ARN",
    "slack_secret_id": "ECS_AUTOPSY_SLACK_SECRET_ID",
    "table_name": "ECS_AUTOPSY_TABLE_NAME",
    "log_lines": "ECS_AUTOPSY_LOG_LINES",
    "post_expected_stops": "ECS_AUTOPSY_POST_EXPECTED_STOPS",
    "post_insufficient": "ECS_AUTOPSY_POST_INSUFFICIENT",
    "noise_window_seconds": "ECS_AUTOPSY_NOISE_WINDOW_SECONDS",
    "chatbot_format": "ECS_AUTOPSY_CHATBOT_FORMAT",
    "member_role_name": "ECS_AUTOPSY_MEMBER_ROLE_NAME",
    "log_group_prefixes": "ECS_AUTOPSY_LOG_GROUP_PREFIXES",
    "max_slack_posts_per_window": "ECS_AUTOPSY_MAX_SLACK_POSTS_PER_WINDOW",
    "slack_channel": "ECS_AUTOPSY_SLACK_CHANNEL",
    "slack_mention": "ECS_AUTOPSY_SLACK_MENTION",
    "slack_min_severity": "ECS_AUTOPSY_SLACK_MIN_SEVERITY",
    "route_by_tags": "ECS_AUTOPSY_ROUTE_BY_TAGS",
}


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    topic_arn: str | None = None
    slack_secret_id: str | None = None
    table_name: str | None = None
    log_lines: int = Field(100, ge=1, le=10_000)
    post_expected_stops: bool = False
    post_insufficient: bool = False  # post "insufficient evidence" findings to Slack/Chatbot (SNS always has them)
    noise_window_seconds: int = Field(900, ge=0, le=86_400)
    chatbot_format: bool = False
    member_role_name: str | None = None
    log_group_prefixes: tuple[str, ...] = DEFAULT_LOG_GROUP_PREFIXES
    max_slack_posts_per_window: int = Field(5, ge=1, le=1000)
    # Slack app mode and routing (shared/notify/routing.py): the default route, and whether the
    # ecs-autopsy:* tags of the service, task definition and cluster are read (ecs:ListTagsForResource).
    slack_channel: str | None = None
    slack_mention: str | None = None
    slack_min_severity: Literal["info", "warning", "critical"] = "info"
    route_by_tags: bool = False

    @field_validator("log_group_prefixes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value


class SettingsError(ValueError):
    pass


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    raw = {field: env[name] for field, name in ENV_VARS.items() if env.get(name) not in (None, "")}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "?"
        raise SettingsError(f"{ENV_VARS.get(field, field)}: {first['msg']}") from None


@cache
def settings() -> Settings:
    return from_env()


on_reset(settings.cache_clear, "shared.settings.settings")
