"""Organization hub: one account diagnoses the ECS events of many.

Hub side (`HubBusPolicy`, placed by EcsAutopsy when `source_accounts` is set): the hub's default
event bus accepts `aws.ecs` events from the listed accounts, and the hub's rules match events of
those accounts. Findings carry the event's own account and Region (the event envelope has both).

Member side (`EcsAutopsyMember`, one per member account and Region): rules with the hub's patterns
forward the same ECS events to the hub's default bus (with a dead-letter queue), and a read-only
role lets the hub's functions (IAM path /ecs-autopsy/ in the hub account, nothing else there) read
task definitions, tasks, services and logs, with the same scoping as in the hub.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import grants as G
from infra import nag
from infra.config import AutopsyConfig, ConfigError
from infra.rules import SOURCE, rule_specs


class HubBusPolicy(Construct):
    """The hub's default event bus accepts ECS events (only) from the member accounts."""

    def __init__(self, scope: Construct, construct_id: str, *, accounts: Sequence[str]) -> None:
        super().__init__(scope, construct_id)
        if not accounts:
            raise ConfigError("an organization hub needs at least one source account")
        bus_arn = f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:event-bus/default"
        self.policy = events.CfnEventBusPolicy(
            self, "Policy",
            event_bus_name="default",
            statement_id="ecs-autopsy-member-accounts",
            statement={
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{Aws.PARTITION}:iam::{a}:root" for a in accounts]},
                "Action": "events:PutEvents",
                "Resource": bus_arn,
                "Condition": {"StringEquals": {"events:source": SOURCE}},
            },
        )


class EcsAutopsyMember(Construct):
    """Member account: forward ECS events to the hub and let the hub's functions read evidence."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AutopsyConfig) -> None:
        super().__init__(scope, construct_id)
        if not config.hub_account:
            raise ConfigError("invalid ecs-autopsy configuration:\n  autopsy:hubAccount: a member stack needs "
                              "the hub account id")
        self.config = config
        hub = config.hub_account
        hub_region = config.hub_region or Aws.REGION
        hub_bus = events.EventBus.from_event_bus_arn(
            self, "HubBus", f"arn:{Aws.PARTITION}:events:{hub_region}:{hub}:event-bus/default")

        self.dlq = sqs.Queue(self, "ForwardDlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                             retention_period=Duration.days(14))
        nag.acknowledge(self.dlq, "AwsSolutions-SQS3",
                        "This queue is itself the dead-letter queue of the forwarding rules (events the hub's bus "
                        "did not accept); a DLQ of a DLQ adds nothing. The member account has no findings topic: "
                        "watch its depth (ApproximateNumberOfMessagesVisible) with the account's own monitoring.")

        self.rules: dict[str, events.Rule] = {}
        for spec in rule_specs(config):
            rule = events.Rule(self, spec.id, description=spec.description.replace("ecs-autopsy:",
                                                                                    "ecs-autopsy (to hub):"),
                               event_pattern=spec.pattern)
            rule.add_target(targets.EventBus(hub_bus, dead_letter_queue=self.dlq))
            self.rules[spec.id] = rule

        self.reader_role: iam.Role | None = None
        self.grants: list[G.Grant] = []
        if config.member_reader_role:
            # The role is global: evidence may be read in any Region of this account.
            scope_ = G.Scope(partition=Aws.PARTITION, region="*", account=Aws.ACCOUNT_ID,
                             clusters=config.clusters, log_group_prefixes=config.log_group_prefixes)
            self.grants = G.code_grants(G.MEMBER_READ_ACTIONS, scope_)
            hub_functions = f"arn:{Aws.PARTITION}:iam::{hub}:role{G.ROLE_PATH}*"
            self.reader_role = iam.Role(
                self, "ReaderRole",
                role_name=config.member_role_name,
                description="ecs-autopsy hub functions read ECS evidence here (read-only)",
                max_session_duration=Duration.hours(1),
                assumed_by=iam.AccountPrincipal(hub).with_conditions(
                    {"ArnLike": {"aws:PrincipalArn": hub_functions}}),
                inline_policies={"ecs-autopsy-read": iam.PolicyDocument(
                    statements=[g.statement() for g in self.grants])},
            )
            nag.acknowledge_wildcards(self.reader_role, self, self.grants)
