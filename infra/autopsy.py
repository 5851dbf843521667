"""EcsAutopsy: the reusable construct. Place it in any stack; everything ecs-autopsy needs is inside.

    from infra import AutopsyConfig, EcsAutopsy
    EcsAutopsy(self, "Autopsy", config=AutopsyConfig(clusters=("prod",), slack_webhook_secret="ecs/slack"))

Resources: three EventBridge rules (task stopped, deployment failed, task start impaired) with a
dead-letter queue; three Lambda functions (Python 3.12, arm64, reserved concurrency only when
configured) with their own role, log group and on-failure queue; the findings topic (KMS, SSL only)
unless an existing one is given; the alarm topic (KMS, SSL only; optional email and AWS Chatbot
subscriptions); the state table (TTL); alarms on every queue's depth and every function's errors,
published to the alarm topic; and, for an organization hub, the event bus policy that lets member
accounts (or the whole organization) send their ECS events.

Synth-time checks (each raises ConfigError with the key to change): an ARN in another Region than
the stack's (when the Region is known at synth; else a template Rule fails the deploy with the same
message), and a role's inline policies over IAM's 10,240-character limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from aws_cdk import Annotations, Aws, CfnRule, CfnRuleAssertion, Duration, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import grants as G
from infra import nag
from infra.config import RETENTION_DAYS, AutopsyConfig, ConfigError
from infra.hub import HubBusPolicy
from infra.packaging import handler_entry, lambda_code
from infra.rules import rule_specs
from shared import permissions as P
from shared.settings import ENV_VARS

# Idempotency and noise-control table: the attribute names are the contract with the functions
# (they are Powertools' idempotency defaults, so DynamoDBPersistenceLayer needs no arguments).
TABLE_PARTITION_KEY = "id"
TABLE_TTL_ATTRIBUTE = "expiration"

POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "ecs-autopsy",
    "POWERTOOLS_METRICS_NAMESPACE": "EcsAutopsy",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# How long a failed asynchronous event is retried before it goes to the on-failure queue. ECS
# keeps a stopped task describable for about an hour: a later diagnosis would only report gaps.
MAX_EVENT_AGE = Duration.hours(1)
ASYNC_RETRIES = 2
TARGET_RETRIES = 3

# Memory and timeout, from measurement (Nov 2026, 2-core x86 build machine, one process on one core,
# the engine as merged on main with its one-pass needle scan):
# - cold-start imports (boto3 + pydantic + powertools logging + slack_sdk.webhook + shared.engine):
#   0.51-0.56 s idle, up to 1.5 s with the machine loaded; `import shared.engine` alone 0.24-0.26 s.
# - diagnose() on the 27 corpus cases: median 1.1 ms, max 79-92 ms (first call); a 10,000-line log
#   (the autopsy:logLines maximum): 22-33 ms.
# - peak RSS: 42 MiB (engine + corpus); 94 MiB with every import above, shared.notify and 7 clients.
# Memory needs ~100 MiB; CPU is what memory buys: Lambda gives a full vCPU at 1,769 MB, in proportion
# below. 512 MB (~0.29 vCPU) keeps the cold start near 2 s and a 10k-line diagnosis near 0.1 s;
# a warm invocation mostly waits on AWS and Slack APIs, paid per ms and per MB, so more memory would
# cost more for ~1 s less cold start. Timeouts cover the AWS reads (describe calls, GetLogEvents,
# ELB/EC2/IAM), each bounded by botocore connect/read timeouts and 3 standard-mode attempts, plus the Slack
# post: one task 60 s; a failed deployment reads several stopped tasks, 120 s.
MEMORY_MB = 512


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # key of shared.permissions.FUNCTION_ACTIONS and folder under functions/
    id: str
    description: str
    timeout: Duration
    concurrency_share: int | None  # None: the configured reserved concurrency; else min(share, configured)


FUNCTION_SPECS = (
    FunctionSpec("task_stopped", "TaskStopped", "ecs-autopsy: diagnose a stopped ECS task", Duration.seconds(60),
                 None),
    FunctionSpec("deploy_failed", "DeployFailed", "ecs-autopsy: diagnose a failed or impaired ECS deployment",
                 Duration.seconds(120), 2),
    FunctionSpec("manual", "Manual", "ecs-autopsy: diagnose a task on demand (aws lambda invoke)",
                 Duration.seconds(120), 2),
)
# Slack app mode only (config.slack_app): the "recovered" reply; its rules are in infra/rules.py.
RECOVERY_SPEC = FunctionSpec("recovered", "Recovered", "ecs-autopsy: reply 'recovered' in a service's Slack thread",
                             Duration.seconds(30), 2)


def environment(config: AutopsyConfig, *, topic_arn: str, table_name: str) -> dict[str, str]:
    """Exactly the variables shared/settings.py reads (plus Powertools')."""
    values = {
        "topic_arn": topic_arn,
        "slack_secret_id": config.slack_webhook_secret or "",
        "table_name": table_name,
        "log_lines": str(config.log_lines),
        "post_expected_stops": str(config.post_expected_stops).lower(),
        "post_insufficient": str(config.post_insufficient).lower(),
        "noise_window_seconds": str(config.noise_window_seconds),
        "chatbot_format": str(config.chatbot_format).lower(),
        "member_role_name": config.member_role_name if config.is_hub else "",
        "log_group_prefixes": ",".join(config.log_group_prefixes),
        "max_slack_posts_per_window": str(config.max_slack_posts_per_window),
        "slack_channel": config.slack_channel or "",
        "slack_mention": config.slack_mention or "",
        "slack_min_severity": config.slack_min_severity,
        "route_by_tags": str(config.route_by_tags).lower(),
    }
    if set(values) != set(ENV_VARS):
        raise ValueError(f"shared/settings.py ENV_VARS and infra disagree: settings has {sorted(ENV_VARS)}, "
                         f"infra sets {sorted(values)}")
    return {ENV_VARS[k]: v for k, v in values.items()} | POWERTOOLS_ENV


class EcsAutopsy(Construct):
    """Diagnoses every stopped ECS task and failed deployment of the account/Region (or organization)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AutopsyConfig | None = None,
                 code: lambda_.Code | None = None) -> None:
        super().__init__(scope, construct_id)
        self.config = config = config or AutopsyConfig()
        check_regions(self, config)
        code = code or lambda_code()

        # One key for the topics this construct creates (the alarm topic, and the findings topic
        # unless an existing one is given).
        self.topic_key: kms.Key = kms.Key(
            self, "TopicKey", description="ecs-autopsy topics (findings, alarms)", enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY, policy=topic_key_policy())
        self.topic: sns.ITopic = self._topic(config)
        self.alarm_topic: sns.Topic = self._alarm_topic(config)
        topic_key_arn = config.topic_kms_key_arn if config.topic_arn else self.topic_key.key_arn
        self.table = self._table()

        self.events_dlq = self._queue("EventsDlq", "EventBridge rule targets that could not be delivered")
        self.failure_queues: dict[str, sqs.Queue] = {}
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.grants: dict[str, list[G.Grant]] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        scope_ = G.Scope(
            partition=Aws.PARTITION, region=Aws.REGION, account=Aws.ACCOUNT_ID,
            clusters=config.clusters, log_group_prefixes=config.log_group_prefixes,
            topic_arn=self.topic.topic_arn, topic_key_arn=topic_key_arn, table_arn=self.table.table_arn,
            secret_resources=G.secret_resources(Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID,
                                                config.slack_webhook_secret),
            member_role_arns=G.member_role_arns(Aws.PARTITION, config.source_accounts, config.member_role_name,
                                                config.organization_id),
            organization_id=config.organization_id,
            task_role_patterns=config.task_role_patterns, task_role_tag=config.task_role_tag,
        )
        if config.clusters and not scope_.clusters_in_iam:
            Annotations.of(self).add_warning_v2(
                "ecs-autopsy:many-clusters",
                f"{len(config.clusters)} watched clusters are too many to list in IAM policies "
                f"({G.cluster_list_size(config.clusters):,} characters > {G.CLUSTER_CONDITION_BUDGET:,}): the "
                "functions may read every cluster of the account; the EventBridge rules still only deliver "
                "the watched clusters' events.")
        env = environment(config, topic_arn=self.topic.topic_arn, table_name=self.table.table_name)
        for spec in FUNCTION_SPECS + ((RECOVERY_SPEC,) if config.slack_app else ()):
            self._function(spec, config, scope_, env, code)

        accounts = [Aws.ACCOUNT_ID, *config.source_accounts] if config.source_accounts and not \
            config.organization_id else None
        self.rules: dict[str, events.Rule] = {}
        for rule in rule_specs(config, accounts):
            r = events.Rule(self, rule.id, description=rule.description, event_pattern=rule.pattern)
            r.add_target(targets.LambdaFunction(
                self.functions[rule.function], dead_letter_queue=self.events_dlq,
                retry_attempts=TARGET_RETRIES, max_event_age=MAX_EVENT_AGE))
            self.rules[rule.id] = r

        self._queue_alarm("EventsDlq", self.events_dlq)
        for name, queue in self.failure_queues.items():
            self._queue_alarm(f"{FUNCTION_IDS[name]}FailureQueue", queue)

        self.hub_policy = HubBusPolicy(self, "OrganizationHub", accounts=config.source_accounts,
                                       organization_id=config.organization_id,
                                       organization_unit_paths=config.organization_unit_paths) \
            if config.is_hub else None

    # ---- pieces -------------------------------------------------------------------------------
    def _topic(self, config: AutopsyConfig) -> sns.ITopic:
        if config.topic_arn:
            return sns.Topic.from_topic_arn(self, "Topic", config.topic_arn)
        # Functions publish through their own IAM policy; the topic policy only enforces SSL.
        return sns.Topic(self, "Topic", display_name="ecs-autopsy findings", master_key=self.topic_key,
                         enforce_ssl=True)

    def _alarm_topic(self, config: AutopsyConfig) -> sns.Topic:
        """Alarms of this deployment go here, not to the findings topic (whose subscribers filter findings)."""
        topic = alarm_topic(self, self.topic_key, config)
        if config.alarm_slack_workspace_id and config.alarm_slack_channel_id:
            self.chatbot = chatbot.SlackChannelConfiguration(
                self, "AlarmChatbot", slack_channel_configuration_name=f"ecs-autopsy-alarms-{Aws.REGION}",
                slack_workspace_id=config.alarm_slack_workspace_id, slack_channel_id=config.alarm_slack_channel_id,
                notification_topics=[topic], logging_level=chatbot.LoggingLevel.ERROR)
        return topic

    def _table(self) -> dynamodb.Table:
        table = dynamodb.Table(
            self, "StateTable",
            partition_key=dynamodb.Attribute(name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.acknowledge(table, "AwsSolutions-DDB3")
        return table

    def _queue(self, construct_id: str, what: str) -> sqs.Queue:
        queue = sqs.Queue(self, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                          retention_period=Duration.days(14))
        nag.acknowledge(queue, "AwsSolutions-SQS3", f"{nag.REASONS['AwsSolutions-SQS3']} ({what})")
        return queue

    def _function(self, spec: FunctionSpec, config: AutopsyConfig, scope_: G.Scope, env: dict[str, str],
                  code: lambda_.Code) -> None:
        log_group = logs.LogGroup(self, f"{spec.id}Logs", retention=retention(config.log_retention_days),
                                  removal_policy=RemovalPolicy.DESTROY)
        failure_queue = self._queue(f"{spec.id}FailureQueue", f"failed asynchronous invocations of {spec.name}")
        actions = P.FUNCTION_ACTIONS[spec.name] + (P.ASSUME_MEMBER_ROLE if config.is_hub else ())
        grants = G.code_grants(actions, scope_)
        if config.slack_webhook_secret and P.SLACK_SECRET[0] in actions:
            grants += G.key_grants(config.slack_secret_kms_key_arn, Aws.REGION)
        grants += G.runtime_grants(log_group.log_group_arn, failure_queue.queue_arn)
        document = iam.PolicyDocument(statements=[g.statement() for g in grants])
        role = iam.Role(
            self, f"{spec.id}Role", path=G.ROLE_PATH,
            # Hub: a fixed name, so member accounts trust exactly the functions' roles.
            role_name=G.function_role_name(spec.name, Aws.REGION) if config.is_hub else None,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"ecs-autopsy {spec.name}: least privilege, from shared/permissions.py",
            inline_policies={"ecs-autopsy": document},
        )
        check_policy_size(role, [document])
        nag.acknowledge_wildcards(role, self, grants)

        reserved = config.reserved_concurrency
        if reserved is not None and spec.concurrency_share is not None:
            reserved = min(reserved, spec.concurrency_share)
        fn = lambda_.Function(
            self, spec.id,
            description=spec.description,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_entry(spec.name),
            code=code,
            role=role,
            memory_size=MEMORY_MB,
            timeout=spec.timeout,
            environment=env,
            log_group=log_group,
            reserved_concurrent_executions=reserved,
        )
        nag.acknowledge(fn, "AwsSolutions-L1")
        # The role (with sqs:SendMessage) exists before this config: it references the function, whose
        # Role property references the role.
        lambda_.CfnEventInvokeConfig(
            self, f"{spec.id}AsyncConfig",
            function_name=fn.function_name, qualifier="$LATEST",
            maximum_retry_attempts=ASYNC_RETRIES,
            maximum_event_age_in_seconds=int(MAX_EVENT_AGE.to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=failure_queue.queue_arn)),
        )

        errors = cloudwatch.Alarm(
            self, f"{spec.id}ErrorsAlarm",
            alarm_description=f"ecs-autopsy {spec.name} raised errors: findings may be missing; see its log group",
            metric=fn.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        errors.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

        self.functions[spec.name] = fn
        self.roles[spec.name] = role
        self.log_groups[spec.name] = log_group
        self.failure_queues[spec.name] = failure_queue
        self.grants[spec.name] = grants
        self.alarms[f"{spec.id}Errors"] = errors

    def _queue_alarm(self, name: str, queue: sqs.Queue) -> None:
        alarm = cloudwatch.Alarm(
            self, f"{name}DepthAlarm",
            alarm_description=f"ecs-autopsy: messages in {name}: events or invocations were dropped; redrive them",
            metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5),
                                                                       statistic="Maximum"),
            threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        self.alarms[f"{name}Depth"] = alarm

    # ---- introspection (tests, issue 6's grant audit) -----------------------------------------
    def statements(self, function: str, *, include_runtime: bool = True) -> list[G.Grant]:
        """The grants of one function: code grants, then (optionally) what the Lambda service needs."""
        return [g for g in self.grants[function] if include_runtime or not g.runtime]


def retention(days: int) -> logs.RetentionDays:
    """CDK's enum member for a number of days (config.RETENTION_DAYS lists the valid ones, in enum order)."""
    members = [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE]
    return dict(zip(RETENTION_DAYS, members, strict=True))[days]


FUNCTION_IDS = {spec.name: spec.id for spec in (*FUNCTION_SPECS, RECOVERY_SPEC)}

# Explicit key administration and use for the account (delegated to IAM), no "kms:*".
KEY_ACCOUNT_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription", "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
)


def alarms_source() -> dict[str, dict[str, str]]:
    """Confused-deputy conditions for CloudWatch: only this account's alarms (of this Region)."""
    return {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"}}


def topic_key_policy() -> iam.PolicyDocument:
    return iam.PolicyDocument(statements=[
        iam.PolicyStatement(
            sid="AccountAdministersAndDelegatesToIam", actions=list(KEY_ACCOUNT_ACTIONS), resources=["*"],
            principals=[iam.AccountRootPrincipal()]),
        # As AWS documents it for alarms on encrypted topics, limited to this account's alarms.
        iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToEncryptedTopic", actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"], principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions=alarms_source()),
    ])


def alarm_topic(scope: Construct, key: kms.IKey, config: AutopsyConfig) -> sns.Topic:
    """The encrypted, SSL-only topic CloudWatch alarms of this account publish to, with the email
    subscriptions of autopsy:alarmEmails."""
    topic = sns.Topic(scope, "AlarmTopic", display_name="ecs-autopsy alarms", master_key=key, enforce_ssl=True)
    topic.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchAlarmsPublish", actions=["sns:Publish"], resources=[topic.topic_arn],
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")], conditions=alarms_source()))
    for email in config.alarm_emails:
        topic.add_subscription(subs.EmailSubscription(email))
    return topic


def check_policy_size(role: iam.Role, documents: list[iam.PolicyDocument]) -> int:
    """Synth-time: the role's inline policies, resolved at worst-case lengths, fit IAM's limit."""
    stack = Stack.of(role)
    try:
        return G.check_inline_policy_size(role.node.path, [stack.resolve(d.to_json()) for d in documents])
    except G.PolicySizeError as exc:
        raise ConfigError(f"invalid ecs-autopsy configuration:\n  {exc}") from None


def deploy_region(scope: Construct) -> str | None:
    """The Region the stack deploys to, when synth knows it (the stack's env, else the CDK CLI's
    CDK_DEFAULT_REGION, which `cdk deploy` also uses for an environment-agnostic stack)."""
    region = Stack.of(scope).region
    if not Token.is_unresolved(region):
        return region
    return os.environ.get("CDK_DEFAULT_REGION") or None


def check_regions(scope: Construct, config: AutopsyConfig) -> None:
    """The topic, its key, the Slack secret and its key must be in the functions' Region: alarm
    actions cannot cross Regions, and the functions' clients publish and read in their own Region."""
    regions = config.arn_regions()
    if not regions:
        return
    here = deploy_region(scope)
    if here is not None:
        wrong = [f"{key}: {arn_region} is not the stack's Region {here}" for key, arn_region in regions.items()
                 if arn_region != here]
        if wrong:
            raise ConfigError("invalid ecs-autopsy configuration:\n  " + "\n  ".join(
                w + " (use a topic, key and secret of the Region ecs-autopsy is deployed to)" for w in wrong))
        return
    # Region unknown at synth (environment-agnostic stack): CloudFormation checks it before creating anything.
    for i, (key, arn_region) in enumerate(sorted(regions.items())):
        CfnRule(scope, f"SameRegion{i}", assertions=[CfnRuleAssertion(
            assert_=Fn.condition_equals(Aws.REGION, arn_region),
            assert_description=f"ecs-autopsy: {key} is in {arn_region}; deploy the stack to {arn_region} or use "
                               f"a resource of the stack's Region")])
