"""The stacks app.py builds: they only compose the constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.autopsy import EcsAutopsy
from infra.config import AutopsyConfig
from infra.hub import EcsAutopsyMember


class EcsAutopsyStack(Stack):
    """Single account, or organization hub when `source_accounts` is set."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AutopsyConfig,
                 code: lambda_.Code | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("description", "ecs-autopsy: diagnoses stopped ECS tasks and failed deployments")
        super().__init__(scope, construct_id, **kwargs)
        self.autopsy = a = EcsAutopsy(self, "Autopsy", config=config, code=code)
        CfnOutput(self, "TopicArn", value=a.topic.topic_arn, description="Findings are published here")
        CfnOutput(self, "AlarmTopicArn", value=a.alarm_topic.topic_arn,
                  description="ecs-autopsy's own alarms (function errors, dead-letter queues) are published here")
        CfnOutput(self, "ManualFunctionName", value=a.functions["manual"].function_name,
                  description="Invoke to diagnose a task on demand")
        CfnOutput(self, "EventsDlqUrl", value=a.events_dlq.queue_url,
                  description="Events EventBridge could not deliver to the functions")


class EcsAutopsyMemberStack(Stack):
    """Member account of an organization hub: forwards ECS events, lets the hub read evidence."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AutopsyConfig, **kwargs: Any) -> None:
        kwargs.setdefault("description", "ecs-autopsy member: forwards ECS events to the hub, read-only role")
        super().__init__(scope, construct_id, **kwargs)
        self.member = EcsAutopsyMember(self, "Member", config=config)
