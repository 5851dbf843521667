"""The AWS API actions ecs-autopsy calls, per function: the single source of IAM grants.

infra/ grants exactly these (scoped to resources where the service supports it) and a test fails
if a template grants an action the code never calls. Code that starts calling a new action adds
it here, and infra picks it up.
"""

from __future__ import annotations

# Reading evidence about a task (describe calls have no side effects).
ECS_READ = ("ecs:DescribeTasks", "ecs:DescribeTaskDefinition", "ecs:DescribeServices")
ECS_LIST = ("ecs:ListTasks",)
# What changed in a deploy: the service's deployments and the revisions they rolled out.
ECS_CHANGES = ("ecs:ListServiceDeployments", "ecs:DescribeServiceRevisions")
# Routing a finding to its team (shared/notify/routing.py): the ecs-autopsy:* tags of the service,
# task definition and cluster.
ECS_TAGS = ("ecs:ListTagsForResource",)
LOGS_READ = ("logs:GetLogEvents",)
ELB_READ = (
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
)
IAM_SIMULATE = ("iam:SimulatePrincipalPolicy",)
EC2_READ = (
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSubnets",
)
# Delivering a finding.
SNS_PUBLISH = ("sns:Publish",)
KMS_FOR_TOPIC = ("kms:GenerateDataKey", "kms:Decrypt")
SLACK_SECRET = ("secretsmanager:GetSecretValue",)
# Idempotency and noise-control state.
STATE_TABLE = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# Organization hub: reading evidence in member accounts.
ASSUME_MEMBER_ROLE = ("sts:AssumeRole",)

_EVIDENCE = ECS_READ + ECS_CHANGES + LOGS_READ + ELB_READ + IAM_SIMULATE + EC2_READ
_DELIVERY = SNS_PUBLISH + KMS_FOR_TOPIC + SLACK_SECRET + STATE_TABLE

FUNCTION_ACTIONS: dict[str, tuple[str, ...]] = {
    "task_stopped": _EVIDENCE + ECS_TAGS + _DELIVERY,
    "deploy_failed": _EVIDENCE + ECS_LIST + ECS_TAGS + _DELIVERY,
    "manual": _EVIDENCE + ECS_LIST + ECS_TAGS + _DELIVERY,
    # Slack app mode only: a reply in the thread when a service with an open incident is healthy again
    # (one GetItem for a healthy service; DescribeServices for the revision note when one is open).
    "recovered": ("ecs:DescribeServices", *SLACK_SECRET, *STATE_TABLE),
}

# Actions that have no resource-level permissions in IAM: they can only be granted on "*".
NO_RESOURCE_LEVEL = frozenset(ELB_READ + EC2_READ + ("ecs:DescribeTaskDefinition",))
