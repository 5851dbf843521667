"""Organization hub: one account diagnoses the ECS events of many.

Hub side (`HubBusPolicy`, placed by EcsAutopsy when `source_accounts` or `organization_id` is
set): the hub's default event bus accepts `aws.ecs` events from the organization (aws:PrincipalOrgID,
optionally only some OUs with aws:PrincipalOrgPaths), so a new account needs no hub redeploy; or,
without an organization id, from the listed accounts. Findings carry the event's own account and
Region (the event envelope has both).

Member side (`EcsAutopsyMember`, one per member account and Region): rules with the hub's patterns
forward the same ECS events to the hub's default bus (with a dead-letter queue, alarmed), and a
read-only role lets exactly the hub's three function roles (aws:PrincipalArn, their fixed names
ecs-autopsy-<function>-<hub Region>) read task definitions, tasks, services and logs, with the same
scoping as in the hub. The member stack has no assets: `member_stackset_template` (infra/app.py)
writes it as a plain template for service-managed StackSets, hub account and Region as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnCondition, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import grants as G
from infra import nag
from infra.config import AutopsyConfig, ConfigError
from infra.rules import SOURCE, rule_specs

FUNCTIONS = ("task_stopped", "deploy_failed", "manual")


class HubBusPolicy(Construct):
    """The hub's default event bus accepts ECS events (only) from the organization or the member accounts."""

    def __init__(self, scope: Construct, construct_id: str, *, accounts: Sequence[str] = (),
                 organization_id: str | None = None, organization_unit_paths: Sequence[str] = ()) -> None:
        super().__init__(scope, construct_id)
        if not accounts and not organization_id:
            raise ConfigError("an organization hub needs autopsy:organizationId or at least one source account")
        bus_arn = f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:event-bus/default"
        condition: dict = {"StringEquals": {"events:source": SOURCE}}
        if organization_id:
            # Any account of the organization (or of the OUs): one statement whatever the number of accounts.
            principal: dict | str = "*"
            condition["StringEquals"]["aws:PrincipalOrgID"] = organization_id
            if organization_unit_paths:
                condition["ForAnyValue:StringLike"] = {
                    "aws:PrincipalOrgPaths": [p if p.endswith("*") else p.rstrip("/") + "/*"
                                              for p in organization_unit_paths]}
        else:
            principal = {"AWS": [f"arn:{Aws.PARTITION}:iam::{a}:root" for a in accounts]}
        self.policy = events.CfnEventBusPolicy(
            self, "Policy",
            event_bus_name="default",
            statement_id="ecs-autopsy-organization" if organization_id else "ecs-autopsy-member-accounts",
            statement={
                "Effect": "Allow",
                "Principal": principal,
                "Action": "events:PutEvents",
                "Resource": bus_arn,
                "Condition": condition,
            },
        )


class EcsAutopsyMember(Construct):
    """Member account: forward ECS events to the hub and let the hub's functions read evidence."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AutopsyConfig,
                 hub_account: str | None = None, hub_region: str | None = None,
                 reader_role: CfnCondition | None = None) -> None:
        """`hub_account`/`hub_region`: override the config (e.g. CloudFormation parameters of a
        StackSet template); `reader_role`: a condition on which the reader role is created."""
        super().__init__(scope, construct_id)
        hub = hub_account or config.hub_account
        if not hub:
            raise ConfigError("invalid ecs-autopsy configuration:\n  autopsy:hubAccount: a member stack needs "
                              "the hub account id")
        self.config = config
        hub_region = hub_region or config.hub_region or Aws.REGION
        hub_bus = events.EventBus.from_event_bus_arn(
            self, "HubBus", f"arn:{Aws.PARTITION}:events:{hub_region}:{hub}:event-bus/default")

        self.dlq = sqs.Queue(self, "ForwardDlq", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                             retention_period=Duration.days(14))
        nag.acknowledge(self.dlq, "AwsSolutions-SQS3",
                        "This queue is itself the dead-letter queue of the forwarding rules (events the hub's bus "
                        "did not accept); a DLQ of a DLQ adds nothing, and its depth is alarmed.")
        # Events the hub did not accept: alarmed, to this account's own alarm topic (alarm actions
        # cannot publish to another account's topic).
        from infra.autopsy import alarm_topic, topic_key_policy

        self.alarm_key = kms.Key(self, "AlarmKey", description="ecs-autopsy member alarm topic",
                                 enable_key_rotation=True, policy=topic_key_policy())
        self.alarm_topic = alarm_topic(self, self.alarm_key, config)
        self.dlq_alarm = cloudwatch.Alarm(
            self, "ForwardDlqDepthAlarm",
            alarm_description="ecs-autopsy member: ECS events could not be forwarded to the hub's bus (see the "
                              "forward DLQ's messages: ERROR_CODE/ERROR_MESSAGE attributes); redrive them",
            metric=self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5),
                                                                          statistic="Maximum"),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dlq_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

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
            # Exactly the hub functions' roles (fixed names in hub mode), not any role under the path.
            hub_functions = [f"arn:{Aws.PARTITION}:iam::{hub}:role{G.ROLE_PATH}{G.function_role_name(f, hub_region)}"
                             for f in FUNCTIONS]
            document = iam.PolicyDocument(statements=[g.statement() for g in self.grants])
            self.reader_role = iam.Role(
                self, "ReaderRole",
                role_name=config.member_role_name,
                description="ecs-autopsy hub functions read ECS evidence here (read-only)",
                max_session_duration=Duration.hours(1),
                assumed_by=iam.AccountPrincipal(hub).with_conditions(
                    {"StringEquals": {"aws:PrincipalArn": hub_functions}}),
                inline_policies={"ecs-autopsy-read": document},
            )
            if reader_role is not None:
                self.reader_role.node.default_child.cfn_options.condition = reader_role  # type: ignore[union-attr]
            from infra.autopsy import check_policy_size

            check_policy_size(self.reader_role, [document])
            nag.acknowledge_wildcards(self.reader_role, self, self.grants)
