"""iam-access-denied: the task's role (or whatever credentials it found) lacks a permission.

Signals: "User: arn:aws:sts::...:assumed-role/R/S is not authorized to perform: svc:Action on
resource: ARN"; "An error occurred (AccessDenied[Exception]) when calling the Op operation";
SDK exceptions with "(Service: S3, Status Code: 403 ...)", also when only their error code says IAM refused
the call ("Error Code: UnauthorizedOperation": the service is named, the action is not); "no identity-based
policy allows";
explicit denies (SCP, permissions boundary, resource policy); no credentials at all ("Unable to
locate credentials", "Couldn't find AWS credentials": the task has no task role). Facts: action,
resource, principal, role, role_kind (task role / execution role / instance role).
Near misses: MySQL "Access denied for user 'x'@'host'" is a database login; "Permission denied"
is the file system; stage-specific denials (secrets, image pull, log driver) belong to those
patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from shared import remediation as remedy
from shared.attribution import sidecar_kind
from shared.evidence.model import SIGNAL_EXITS, Evidence
from shared.patterns.base import (
    PLACEHOLDER,
    Explanation,
    Facts,
    Match,
    Need,
    Pattern,
    Stage,
    candidate_lines,
    container_for_line,
    log_proof,
)
from shared.scan import lazy_re

# Values may be quoted `like this' (older SDKs and man-page style), "like this" or 'like this'.
_PRINCIPAL = lazy_re(r"(?:User|Principal):? [`\"']?(arn:aws[\w-]*:(?:sts|iam)::(?:[\d*Xx]{3,12}|" + PLACEHOLDER + r"):"
                        r"[^\s,;\"'`]+)[`\"']? is not authorized")
_ACTION = lazy_re(r"(?:not authorized|[Uu]nauthorized|not allowed) to perform:? [`\"']?([\w-]+:[\w*]+)")
_RESOURCE = lazy_re(r"(?:on|for) (?:the )?(?!resource associated)(?:resource:? )?[\"'`]?(?!associated)(arn:[^\s,;\"'`]+|[^\s,;\"'`]+(?= because)|[\w.*-]*[/:][\w/.:*-]+)")
_DENY = lazy_re(r"(with an explicit deny in an? [\w -]+?policy|because no [\w -]+?policy allows[\w: ]*|"
                   r"because no (?:VPC endpoint|session|resource-based) policy)")
_OPERATION = lazy_re(r"\((AccessDenied(?:Exception)?|UnauthorizedOperation|AuthorizationError|"
                        r"AuthorizationErrorException|Forbidden|UnauthorizedException|"
                        r"AccessDeniedException)\) when calling the (\w+) operation")
# Envoy's xDS stream closed with gRPC status 7 (PERMISSION_DENIED): with the App Mesh management server
# that is IAM refusing appmesh:StreamAggregatedResources to the task role. Envoy logs it at warning and
# retries, so the line is read whatever its level. Another control plane's denial is not IAM.
_XDS_DENIED = lazy_re(r"gRPC config stream (?:to (?P<target>\S+) )?closed(?: since \d+s ago)?: 7\b")
_APPMESH = lazy_re(r"appmesh", re.IGNORECASE)
# S3 answers a HEAD request without a body, so botocore has only the status: "An error occurred (403)
# when calling the HeadObject operation: Forbidden" is S3's access denial of a HEAD (aws s3 cp runs one).
# SDKs that name the operation outside botocore's "when calling the X operation": PHP's 'Error executing "ListQueues"
# on "https://sqs.<region>.amazonaws.com"' and Go v2's "operation error SQS: ListQueues, https response error".
_SDK_OP = lazy_re(r"Error executing \"(?P<op>[A-Z]\w+)\" on \"https?://(?:[\w.-]+\.(?=s3[.-]))?(?P<host>[\w-]+"
                  r"(?:\.[\w-]+)*?)\.amazonaws\.com|"
                  r"operation error (?P<svc>[\w ]+?): (?P<op2>[A-Z]\w+), https response error StatusCode: (?:403|400)")
# Fluent Bit's AWS output plugins (FireLens): "[output:cloudwatch_logs:cloudwatch_logs.0] CreateLogGroup API
# responded with error='AccessDeniedException'": the plugin names the service, the line the operation.
_FLUENT_BIT_OP = lazy_re(r"\[output:(?P<plugin>\w+):[^\]]*\][^\n]*?\b(?P<op>[A-Z]\w+) API responded with "
                         r"error='(?:AccessDenied(?:Exception)?|UnauthorizedOperation|AuthorizationError\w*)'")
_FLUENT_BIT_SERVICE = {"cloudwatch_logs": "logs", "cloudwatch": "logs", "kinesis_firehose": "firehose",
                       "firehose": "firehose", "kinesis_streams": "kinesis", "kinesis": "kinesis", "s3": "s3"}
# The endpoint host or SDK service id -> the IAM service prefix, where they differ.
_ENDPOINT_SERVICE = {"email": "ses", "monitoring": "cloudwatch", "cloudwatchlogs": "logs", "secrets manager":
                     "secretsmanager", "eventbridge": "events", "sfn": "states", "cloudwatch logs": "logs",
                     "bedrock runtime": "bedrock", "bedrock-runtime": "bedrock", "bedrockruntime": "bedrock",
                     "sagemaker runtime": "sagemaker", "sagemakerruntime": "sagemaker", "runtime-v2-lex": "lex",
                     "lex runtime service": "lex", "lex runtime v2": "lex", "sesv2": "ses",
                     "dynamodb streams": "dynamodb",
                     "kinesis firehose": "firehose", "cognito identity provider": "cognito-idp",
                     "cognito-idp": "cognito-idp", "lambda": "lambda"}
# First host labels that name no service, only a kind of endpoint of the service in the next label:
# api.pricing, api.sagemaker, api.ecr, runtime.lex, runtime.sagemaker, streams.dynamodb, data.iot.
_GENERIC_LABELS = frozenset({"api", "runtime", "streams", "data", "control", "models"})
# IAM service prefixes an endpoint host or SDK service id may name directly; any other name is not turned into an
# action (an invented prefix would give a policy IAM rejects).
_IAM_PREFIXES = frozenset({
    "s3", "dynamodb", "sqs", "sns", "secretsmanager", "ssm", "kms", "sts", "cloudwatch", "logs", "events", "states",
    "lambda", "kinesis", "firehose", "ses", "bedrock", "sagemaker", "ecr", "ecs", "ec2", "iam", "rds", "rds-db",
    "elasticache", "es", "athena", "glue", "textract", "comprehend", "rekognition", "translate", "polly",
    "transcribe", "cognito-idp", "cognito-identity", "appconfig", "xray", "route53", "acm", "apigateway",
    "execute-api", "elasticfilesystem", "batch", "codeartifact", "ssmmessages", "servicediscovery", "scheduler",
    "pricing", "lex",
})
_HEAD_403 = lazy_re(r"\(403\) when calling the (Head\w+) operation(?:: Forbidden)?")
_SDK_SERVICE = lazy_re(r"\(Service: ([\w ]+?)[,;] Status Code: (?:403|400)[^)]*(?:Error Code: (\w+))?")
# The AWS SDK for Java's "(Service: AmazonEC2; Status Code: 403; Error Code: UnauthorizedOperation; ...)": the error
# codes by which a service says IAM refused the call, whatever the message's words.
_DENIAL_CODE = lazy_re(r"\bError Code: (?:AccessDenied(?:Exception)?|UnauthorizedOperation|AuthorizationError\w*)\b")
_JS = lazy_re(r"\b(AccessDenied(?:Exception)?|UnauthorizedOperation): (.*)")
_S3_DENIED = lazy_re(r"\bAccessDenied: Access Denied\b")
# S3 storage drivers that prefix S3's answer with their name: Docker registry "s3aws: Access Denied"
_S3_DRIVER = lazy_re(r"\bs3(?:aws|fs|driver)?: Access Denied\b", re.IGNORECASE)
_NO_CREDS = lazy_re(
    r"Unable to locate credentials|NoCredentialsError|Could not load credentials from any providers"
    r"|Unable to load (?:AWS )?credentials from any (?:of the )?providers? in the chain"
    r"|NoCredentialProviders: no valid providers in chain|CredentialsProviderError|no EC2 IMDS role found"
    # the same in other SDKs' words: rusoto "Couldn't find AWS credentials in environment, credentials file, or IAM
    # role", .NET "Failed to resolve AWS credentials", Ruby MissingCredentialsError. "AWS" is required (a database's
    # credentials are not IAM), and a missing credentials *file* alone is only one provider of the chain.
    r"|(?i:(?:could ?n[o']t|unable to|failed to) (?:find|locate|load|resolve) (?:any )?AWS credentials\b"
    r"(?! ?(?:file|profile)))"
    r"|MissingCredentialsError"
    # the JavaScript SDK v2's error when its provider chain found nothing ("CredentialsError: Missing credentials in
    # config", printed by Node as "Error [CredentialsError]: ..."); the class name is required, the words alone are not
    r"|\bCredentialsError\]?: Missing credentials\b"
)
# botocore's CredentialRetrievalError from the container (task role) or instance-metadata (instance role) provider:
# the endpoint that hands out the role's keys (the ECS agent on EC2, Fargate's) answered an error or dropped the
# connection. The role exists; its credentials did not reach the process, so no policy change helps.
_ENDPOINT_CREDS = lazy_re(r"Error when retrieving credentials from (container-role|iam-role)\b")
# KMS refused a call another service made for the caller (SSM's SecureString, a Secrets Manager secret, an
# SSE-KMS object): the denial is of the key, whatever operation the SDK reports.
_KMS_REFUSAL = lazy_re(r"\(Service: AWSKMS\b|\bKMS\.AccessDeniedException\b|not allowed to use the (?:CMK|KMS key)\b|"
                       r"ciphertext refers to a customer master key|\bAccess to KMS is not allowed\b", re.IGNORECASE)
_KMS_KEY_ARN = lazy_re(r"arn:aws[\w-]*:kms:[\w-]*:\d{12}:(?:key|alias)/[\w/-]+")
# Operations that write through KMS (GenerateDataKey), the others read (Decrypt).
_KMS_WRITES = lazy_re(r"^(?:Put|Create|Update|Upload|Copy|Send|Publish)")
# The ECS container agent's own control-plane calls (made with the container instance's credentials, relayed to the
# Service Connect proxy by the agent): no task role grants or lacks them, so a task's container that logs such a denial
# shows the agent's channel failing, not a permission the task is missing (a retried warning, seldom why it stopped).
# Only the calls nothing but the agent makes: draining and clean-up tools call UpdateContainerInstancesState and
# (De)RegisterContainerInstance with their own task role, so those denials are the task's to fix.
_AGENT_ACTION = lazy_re(r"^ecs:(?:Poll|DiscoverPollEndpoint|StartTelemetrySession|PutSystemLogEvents"
                        r"|Submit\w*StateChanges?)$", re.IGNORECASE)
# Actions that only publish telemetry (metrics, traces, log records, the X-Ray sampling rules an SDK polls): a denial
# loses that data, but the call fails on its own, stops no task and fails no health check. Such a denial is a weak
# lead (below the engine's CONFIDENT): a confident cause the application logged in the same incident (its memory
# limit, a crash) wins; alone, it is still named.
_TELEMETRY_ACTION = lazy_re(r"^(?:cloudwatch:PutMetricData|xray:(?:PutTraceSegments|PutTelemetryRecords|GetSampling\w+)"
                            r"|logs:PutLogEvents|aps:RemoteWrite)$",
                            re.IGNORECASE)
# A log shipper's set-up calls before PutLogEvents (watchtower, winston-cloudwatch, a log4j2 appender, a FireLens
# router's cloudwatch output): denied, they lose the records as a PutLogEvents denial does. Not so for the execution
# role under the awslogs driver: ECS creates the stream with it before the container starts, and its denial
# ("failed to create Cloudwatch log stream", "failed to validate logger args") stops the task at start.
_LOG_SETUP_ACTION = lazy_re(r"^logs:(?:CreateLogStream|CreateLogGroup)$", re.IGNORECASE)
_LOG_DRIVER_LINE = lazy_re(r"failed to create cloudwatch log (?:stream|group)|logger args|log(?:ging)? driver|"
                           r"ResourceInitializationError|CannotStartContainer", re.IGNORECASE)
_NOT_IAM = lazy_re(r"Access denied for user|for user '|password|Permission denied|permission denied \(publickey",
                      re.IGNORECASE)
_NEEDLES = ("not authorized to perform", "unauthorized to perform", "accessdenied", "unauthorizedoperation", "authorizationerror",
            "status code: 403", "access denied", "unable to locate credentials", "nocredentials",
            "could not load credentials", "credentials from any", "credentialsprovidererror", "no valid providers",
            "find aws credentials", "locate aws credentials", "resolve aws credentials", "load aws credentials",
            "missingcredentials", "missing credentials", "error when retrieving credentials from",
            "(403) when calling", "config stream")

# Operation -> service for the messages that name only the operation (botocore's short form).
_OP_SERVICE = {
    "GetObject": "s3", "PutObject": "s3", "HeadObject": "s3", "ListObjects": "s3", "ListObjectsV2": "s3",
    "DeleteObject": "s3", "ListBucket": "s3", "HeadBucket": "s3", "CopyObject": "s3", "CreateMultipartUpload": "s3",
    "GetItem": "dynamodb", "PutItem": "dynamodb", "UpdateItem": "dynamodb", "DeleteItem": "dynamodb",
    "Query": "dynamodb", "Scan": "dynamodb", "BatchWriteItem": "dynamodb", "BatchGetItem": "dynamodb",
    "DescribeTable": "dynamodb", "TransactWriteItems": "dynamodb",
    "SendMessage": "sqs", "ReceiveMessage": "sqs", "DeleteMessage": "sqs", "GetQueueUrl": "sqs",
    "GetQueueAttributes": "sqs", "SendMessageBatch": "sqs", "Publish": "sns",
    "GetSecretValue": "secretsmanager", "GetParameter": "ssm", "GetParameters": "ssm",
    "GetParametersByPath": "ssm", "Decrypt": "kms", "GenerateDataKey": "kms", "Encrypt": "kms",
    "AssumeRole": "sts", "GetCallerIdentity": "sts", "PutMetricData": "cloudwatch", "PutEvents": "events",
    "StartExecution": "states", "Invoke": "lambda", "PutRecord": "kinesis", "PutRecords": "kinesis",
    "PutRecordBatch": "firehose", "SendEmail": "ses", "PutLogEvents": "logs", "CreateLogStream": "logs",
    "CreateLogGroup": "logs", "PutRetentionPolicy": "logs", "DescribeLogStreams": "logs",
}
# Operations whose IAM action has another name (S3 authorizes a HEAD as the GET/List it precedes).
_OP_ACTION = {"Invoke": "lambda:InvokeFunction", "HeadObject": "s3:GetObject", "HeadBucket": "s3:ListBucket", "ListObjects": "s3:ListBucket",
              "ListObjectsV2": "s3:ListBucket", "CreateMultipartUpload": "s3:PutObject"}
_SDK_NAMES = {"amazons3": "s3", "s3": "s3", "amazondynamodbv2": "dynamodb", "dynamodb": "dynamodb",
              "amazonsqs": "sqs", "sqs": "sqs", "amazonsns": "sns", "sns": "sns", "awssecretsmanager":
              "secretsmanager", "secretsmanager": "secretsmanager", "awssimplesystemsmanagement": "ssm",
              "ssm": "ssm", "awskms": "kms", "kms": "kms", "awssecuritytokenservice": "sts", "sts": "sts"}


# The AWS call a no-credentials failure was making, from the frames or lines above it: botocore's operation name,
# a Python client method (`.get_secret_value(`), a JavaScript v2 method (`.getSecretValue(`) or v3 command
# (`GetSecretValueCommand`); only operations of the table above count, so an app's own function is never read as one.
_CALL_OP = lazy_re(r"when calling the (\w+) operation|\.([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\(|\.([a-z][a-z0-9]*[A-Z]\w*)\(|"
                   r"\b([A-Z][A-Za-z0-9]+)Command\(")
# A call split over lines leaves only its arguments in the frame's source line: a parameter only one service's read
# takes names the call (Secrets Manager's SecretId, SSM's WithDecryption).
_CALL_PARAM = {"SecretId": "GetSecretValue", "WithDecryption": "GetParameter"}
_PARAM = lazy_re(r"\b(" + "|".join(_CALL_PARAM) + r")\s*[=:]")


def _sdk_op_action(text: str) -> str | None:
    """The IAM action of an operation another SDK names (PHP's endpoint host, Go v2's service id), or None when
    the service does not map to a known IAM prefix."""
    named = _SDK_OP.search(text)
    if not named:
        return None
    name = named.group("op") or named.group("op2") or ""
    if name in _OP_ACTION:
        return _OP_ACTION[name]
    where = (named.group("svc") or "").lower()
    if named.group("host"):
        # The service is the first label, unless that is a VPC endpoint's id or a generic word (api, runtime):
        # then the next label names it (api.pricing -> pricing; runtime.lex -> lex).
        labels = [label for label in named.group("host").lower().split(".") if not label.startswith("vpce-")]
        where = labels[1] if labels[0] in _GENERIC_LABELS and len(labels) > 1 else labels[0]
    if where.startswith("s3-"):
        where = "s3"  # the legacy regional host s3-<region>
    service = _ENDPOINT_SERVICE.get(where, where.replace(" ", "")) if where else _OP_SERVICE.get(name, "")
    if service not in _IAM_PREFIXES:
        service = _OP_SERVICE.get(name, "")
    return f"{service}:{name}" if service in _IAM_PREFIXES else None


def _op_of(hit: re.Match[str]) -> str | None:
    name = hit.group(1) or hit.group(4)
    if not name:
        raw = hit.group(2) or hit.group(3) or ""
        name = "".join(p[:1].upper() + p[1:] for p in raw.split("_"))
    return name if name in _OP_SERVICE else None


def failing_call(ev: Evidence, container: str | None, anchor: int | None, lines: int = 40) -> str | None:
    """The IAM action of the AWS call the log shows the container making just before `anchor` (newest first)."""
    if anchor is None:
        return None
    logs = ev.logs
    for i in range(anchor, max(-1, anchor - lines), -1):
        if container and logs.containers[i] not in (container, None):
            continue
        text = logs.texts[i]
        for hit in _CALL_OP.finditer(text):
            op = _op_of(hit)
            if op:
                return _OP_ACTION.get(op) or f"{_OP_SERVICE[op]}:{op}"
        param = _PARAM.search(text)
        if param:
            op = _CALL_PARAM[param.group(1)]
            return f"{_OP_SERVICE[op]}:{op}"
    return None


def role_kind(principal: str | None, ev: Evidence) -> tuple[str | None, str]:
    """(role name, kind) for the principal in an AccessDenied message."""
    if not principal:
        return None, "unknown"
    m = re.search(r":assumed-role/([^/]+)/(.+)$", principal) or re.search(r":role/(?:.*/)?([^/]+)$", principal)
    if not m:
        return None, "user" if ":user/" in principal else "unknown"
    role = m.group(1)
    session = m.group(2) if m.re.pattern.startswith(":assumed") and m.lastindex and m.lastindex >= 2 else ""
    td = ev.task_definition
    if td and td.task_role_arn and td.task_role_arn.endswith("/" + role):
        return role, "task role"
    if td and td.execution_role_arn and td.execution_role_arn.endswith("/" + role):
        return role, "execution role"
    if re.fullmatch(r"i-[0-9a-f]{8,17}", session):
        return role, "instance role"
    if re.search(r"execution", role, re.IGNORECASE):
        return role, "execution role"
    return role, "task role"


class IamAccessDeniedFacts(Facts):
    """The facts of iam-access-denied."""

    action: str | None = Field(None, description="The denied IAM action.")
    cause: str | None = Field(None, description="no-credentials when the task had no credentials at all.")
    deny: str | None = Field(None, description="explicit or implicit deny, and by what.")
    principal: str | None = Field(None, description="The principal that was denied.")
    resource: str | None = Field(None, description="The resource the action was denied on.")
    role: str | None = Field(None, description="The role name.")
    role_kind: str | None = Field(None, description="task role, execution role, instance role.")
    service: str | None = Field(None, description="The AWS service called.")
    simulation: str | None = Field(None, description="What IAM's policy simulation answered.")


# service -> how a bare name becomes that service's resource ARN ({} is the name)
_NAMED = {
    "dynamodb": "table/{}", "sns": "{}", "sqs": "{}", "kinesis": "stream/{}", "ssm": "parameter/{}",
    "lambda": "function:{}", "states": "stateMachine:{}", "events": "event-bus/{}", "logs": "log-group:{}:*",
    "ecr": "repository/{}", "firehose": "deliverystream/{}", "kms": "key/{}",
}


# Actions that act on no particular resource: "*" is their only valid Resource (the Price List API has no
# resource-level permissions at all).
_STAR_ONLY = lazy_re(r"^(?:(?!s3:List(?!AllMyBuckets))[\w-]+:(?:List\w*s|GetCallerIdentity|GetAuthorizationToken|"
                        r"PutMetricData)|(?:ec2|elasticloadbalancing|autoscaling|cloudwatch):Describe\w+|"
                        r"logs:DescribeLogGroups|pricing:\w+)$")


def _statements(ev: Evidence, action: str, resource: str) -> list[dict]:
    """The statements that allow the denied call, resources as full ARNs."""
    service = action.split(":", 1)[0].lower()
    if _STAR_ONLY.match(action):
        return [remedy.statement([action], ["*"])]
    if action.lower() == "s3:*":
        # S3's "Access Denied" names no action: the usual object calls, on the bucket and its objects
        named = _resource_arn(ev, "s3:GetObject", resource)
        base = remedy.s3_arn(ev, named.split(":::", 1)[1].split("/", 1)[0], like=named)
        return [remedy.statement(["s3:GetObject", "s3:PutObject"], [f"{base}/*"]),
                remedy.statement(["s3:ListBucket"], [base])]
    if service == "ses" and action.split(":", 1)[1].startswith("Send"):
        # SES authorises a send against the sending identity AND any configuration set named in it; the
        # identity the app sends from is in no evidence: every identity of the account and region.
        res = [remedy.arn(ev, "ses", "identity/*")]
        named = _resource_arn(ev, action, resource)
        if ":configuration-set/" in named or ":identity/" in named:
            res = [named] if ":identity/" in named else [*res, named]
        return [remedy.statement([action], res)]
    return [remedy.statement([action], [_resource_arn(ev, action, resource)])]


def _named(resource: str) -> bool:
    """The error names the resource (an ARN with a name, or a bare name), not `*`, nothing or a masked value."""
    value = resource.strip()
    if value.startswith("arn:") and value.count(":") >= 5:
        return not re.search(r"<[^<>]*>|\[[^\]]*\]|\{[^}]*\}", value.split(":", 5)[5])
    return value not in ("*", "") and re.fullmatch(r"[\w./+=@-]+", value) is not None


def _resource_arn(ev: Evidence, action: str, resource: str) -> str:
    """The resource of the statement as a full ARN: the one the error named (masked account and region
    put back), a name turned into the service's ARN, or, when the error names none, every resource of
    that type in the account and region (a wildcard the step says to narrow)."""
    service = action.split(":", 1)[0].lower()
    value = resource.strip()
    if value.startswith("arn:") and value.count(":") >= 5:
        if not _named(value):  # a reporter's <name> in the resource part: that type's wildcard
            head, rest = value.split(":", 5)[:5], value.split(":", 5)[5]
            value = ":".join([*head, re.sub(r"<[^<>]*>|\[[^\]]*\]|\{[^}]*\}", "*", rest)])
        return remedy.secret_arn(ev, value) if service == "secretsmanager" else remedy.fill_arn(ev, value)
    named = _named(value)
    if service == "secretsmanager":
        return remedy.secret_arn(ev, value) if named else remedy.arn(ev, "secretsmanager", "secret:*")
    if service == "s3":
        name = value.split(":::", 1)[-1] if value.startswith("arn:") else value
        return f"arn:{remedy.partition(ev)}:s3:::" + (name if named or value.startswith("arn:") else "*/*")
    if service in _NAMED:
        what = value.lstrip("/") if named else "*"
        return remedy.arn(ev, service, _NAMED[service].format(what).replace("*:*", "*"))
    return remedy.arn(ev, service, value if named else "*")


# boto3/botocore "Found credentials in environment variables.", the JS/Java SDKs' environment provider
_ON_RESOURCE = lazy_re(r"\bon resource\b", re.IGNORECASE)

# IAM actions whose calls are CloudTrail DATA events (AWS's table of data event types): S3 object-level calls (not
# the bucket-level s3:*Bucket* ones such as PutBucketObjectLockConfiguration, which are management events; and
# ListBucket, which is ListObjects), Lambda Invoke, DynamoDB item-level and stream reads, SQS message calls, SNS
# Publish, Kinesis record calls. CloudTrail does not record them by default and Event history never shows them, so
# "the CloudTrail event of the denied call" exists only where a trail logs data events for that resource.
_DATA_EVENT = lazy_re(
    r"^(?:s3:(?:(?!\w*Bucket)\w*Object\w*|ListBucket(?:Versions|MultipartUploads)?|ListMultipartUploadParts|AbortMultipartUpload)"
    r"|lambda:Invoke\w*"
    r"|dynamodb:(?:\w*Items?|Query|Scan|PartiQL\w+|GetRecords|GetShardIterator)"
    r"|sqs:(?:SendMessage|ReceiveMessage|DeleteMessage|ChangeMessageVisibility)(?:Batch)?"
    r"|sns:Publish(?:Batch)?"
    r"|kinesis:(?:PutRecords?|GetRecords|GetShardIterator|SubscribeToShard))$")


def data_event(action: str) -> bool:
    """Whether calls of an IAM action (service:Action) are CloudTrail data events, not management events."""
    parts = [a for a in re.split(r"[,\s]+", action) if a]
    return bool(parts) and all(_DATA_EVENT.match(a) for a in parts)


def _who_names_it(action: str) -> str:
    """Where the resource a denied call was for can be read: the CloudTrail event for a management event; for a
    data event (not in Event history, not recorded by default) the app's own configuration and logs, and for S3 the
    bucket's server access logs."""
    if not data_event(action):
        return "the CloudTrail event of the denied call names it"
    return ("the app's configuration, or its log line for the failing call, names it"
            + ("; so do S3 server access logs, where the bucket has them" if action.startswith("s3:") else "")
            + f"; `{action}` calls are CloudTrail data events, which Event history never shows and a trail records "
            "only when data events are enabled for that resource")
_ON_RESOURCE_STAR = lazy_re(r"\bon resource:?\s*\"?\*(?![\w/:])", re.IGNORECASE)
_ENV_CREDENTIALS = lazy_re(r"Found credentials in environment variables|EnvironmentVariableCredentialsProvider|"
                              r"fromEnv\(\)|credentials from environment", re.IGNORECASE)
# the words of _ENV_CREDENTIALS (lower case): the lines that may hold it
_ENV_WORDS = ("found credentials in environment variables", "environmentvariablecredentialsprovider", "fromenv()",
              "credentials from environment")
_ENV_KEYS_QUERY = "taskDefinition.containerDefinitions[].[name, environment[?starts_with(name, 'AWS_')].name, " \
                  "secrets[?starts_with(name, 'AWS_')].name]"


class IamAccessDenied(Pattern):
    id = "iam-access-denied"
    explained_by = ("taskRoleArn", "executionRoleArn")
    priority = 80
    severity = "critical"
    Facts = IamAccessDeniedFacts
    key_facts = ("action",)
    needs = frozenset({"iam"})
    needles = _NEEDLES

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The IAM simulation needs a named principal and action (not a missing-credentials failure)."""
        if facts.get("cause") == "no-credentials" or facts.get("action") in (None, "unknown") or not facts.get("principal"):
            return frozenset()
        return self.needs

    def match(self, ev: Evidence) -> Match | None:
        logs = ev.logs
        for i in candidate_lines(ev, _NEEDLES):
            text = logs.texts[i]
            xds = _XDS_DENIED.search(text)
            if xds and "authorized to perform" not in text.lower():
                if self._appmesh(ev, i, xds.group("target")):
                    container = container_for_line(ev, i)
                    mesh = {"action": "appmesh:StreamAggregatedResources", "service": "appmesh",
                            "role_kind": "task role", "container": container}
                    return Match(facts=mesh, proofs=(log_proof(ev, i),), confidence=0.85, stage=Stage.APP,
                                 anchor=i, container=container)
                continue
            if logs.quiet(i) and "authorized to perform" not in text.lower():
                continue
            start, end = logs.block_start(i), logs.block_end(i)
            context = " ".join(logs.texts[j] for j in range(max(start, i - 3), min(end, i + 3) + 1))
            # AWS CLI/SDK messages wrapped over several lines (terminal width, a person's paste).
            wrapped = " ".join(logs.texts[j].strip() for j in range(max(0, i - 3), min(len(logs), i + 4))
                               if logs.containers[j] == logs.containers[i])
            if _NOT_IAM.search(text) and "authorized to perform" not in text.lower():
                continue
            facts = self._facts(text, context, ev, wrapped)
            if facts is not None and (not facts.get("principal") or not facts.get("resource")) \
                    and "authorized to perform" in wrapped and wrapped != text:
                better = self._facts(wrapped, wrapped, ev)
                if better and len(better) > len(facts):
                    facts = better
            if facts is None or _AGENT_ACTION.match(str(facts.get("action") or "")):
                continue
            container = container_for_line(ev, i)
            facts["container"] = container
            return Match(facts=facts, proofs=(log_proof(ev, i),),
                         confidence=0.75 if facts.get("cause") in ("no-credentials", "credentials-endpoint")
                         else 0.6 if self._telemetry(facts, wrapped) and not self._failed_itself(ev, container)
                         else 0.93,
                         stage=Stage.APP, anchor=i, container=container)
        return None

    @staticmethod
    def _telemetry(facts: Mapping[str, Any], said: str) -> bool:
        """A denial that only loses telemetry (a weak lead): a publishing call, or a log shipper's own stream/group
        set-up; never the execution role's, nor a line of the log driver ECS sets up before the container starts."""
        action = str(facts.get("action") or "")
        if _TELEMETRY_ACTION.match(action):
            return True
        return bool(_LOG_SETUP_ACTION.match(action)) and facts.get("role_kind") != "execution role" \
            and not _LOG_DRIVER_LINE.search(said)

    @staticmethod
    def _failed_itself(ev: Evidence, container: str | None) -> bool:
        """Is the denied container a sidecar (a log router, an agent) that failed on its own (its health check, or an
        exit code of its own, not a signal)? Then a telemetry denial is no side note: shipping logs or metrics is
        that container's job (a FireLens router refused CreateLogGroup goes unhealthy and stops the task). An app
        that failed keeps it weak: its own failure has a cause of its own."""
        for c in ev.detail.containers:
            if container and c.name == container:
                failed = (c.health_status or "").upper() == "UNHEALTHY" or (
                    c.exit_code not in (None, 0) and c.exit_code not in SIGNAL_EXITS)
                return failed and sidecar_kind(c, ev.task_definition) is not None
        return False

    @staticmethod
    def _appmesh(ev: Evidence, i: int, target: str | None) -> bool:
        """Is this envoy's xDS server App Mesh's (the stream's target, else the container's image)?"""
        if target:
            return bool(_APPMESH.search(target))
        c = ev.container(ev.logs.containers[i] or ev.primary)
        return bool(c and c.image and _APPMESH.search(c.image))

    def _facts(self, text: str, context: str, ev: Evidence, near: str = "") -> dict | None:
        facts: dict = {}
        action = _ACTION.search(text) or _ACTION.search(context)
        principal = _PRINCIPAL.search(text) or _PRINCIPAL.search(context)
        if action:
            facts["action"] = action.group(1)
            res = _RESOURCE.search(action.string, action.end())
            if res:
                facts["resource"] = res.group(1).rstrip(".,;")
            elif "resource associated with this ciphertext" in action.string:
                facts["resource"] = "the KMS key that encrypted the ciphertext"
        fluent = None if action else _FLUENT_BIT_OP.search(text)
        if fluent and fluent.group("plugin").lower() in _FLUENT_BIT_SERVICE:
            name = fluent.group("op")
            facts["action"] = _OP_ACTION.get(name) or f"{_FLUENT_BIT_SERVICE[fluent.group('plugin').lower()]}:{name}"
            action = fluent  # named: the generic readings below do not apply
        op = _OPERATION.search(text) or _OPERATION.search(context)
        head = None if op else _HEAD_403.search(text)
        sdk = _SDK_SERVICE.search(context)
        if not action and (op or head):
            name = op.group(2) if op else head.group(1) if head else ""
            service = _OP_SERVICE.get(name)
            facts["action"] = _OP_ACTION.get(name) or (f"{service}:{name}" if service else name)
        elif not action and sdk and ("access denied" in context.lower() or "accessdenied" in context.lower()):
            service = _SDK_NAMES.get(sdk.group(1).lower().replace(" ", ""), sdk.group(1).lower().replace(" ", ""))
            facts["action"] = f"{service}:*"
            facts["service"] = service
        elif not action and sdk and _DENIAL_CODE.search(context):
            # Only the error code says IAM refused it ("You are not authorized to perform this operation"): the
            # service is named, the call is not (CloudTrail names it), and a whole service is not the fix.
            sdk_name = sdk.group(1).lower().replace(" ", "")
            bare = sdk_name.removeprefix("amazon").removeprefix("aws")
            facts["action"] = "unknown"
            facts["service"] = _SDK_NAMES.get(sdk_name) or (bare if bare in _IAM_PREFIXES else sdk_name)
        elif not action and ((_JS.search(text) and ("s3" in context.lower() or _S3_DENIED.search(text)))
                             or _S3_DRIVER.search(text)):
            facts["action"] = "s3:*"  # "AccessDenied: Access Denied" is S3's own wording
        elif not action and (sdk_action := _sdk_op_action(f"{context} {near}")) and (
                "accessdenied" in f"{text} {context}".lower().replace(" ", "")
                or "403" in f"{text} {context}"):
            facts["action"] = sdk_action
        elif not action and not op:
            if endpoint := _ENDPOINT_CREDS.search(text):
                facts["cause"] = "credentials-endpoint"
                facts["role_kind"] = "task role" if endpoint.group(1) == "container-role" else "instance role"
                return facts
            if _NO_CREDS.search(text):
                facts["cause"] = "no-credentials"
                facts["principal"] = "none: no credentials found (no task role?)"
                return facts
            around = f"{context} {near}".lower()
            if not ("accessdenied" in text.lower() and ("aws" in around or "sdk" in around)):
                return None
            facts["action"] = "unknown"
        service_of = str(facts.get("action", "")).split(":", 1)[0]
        if not action and service_of not in ("kms", "unknown", "") and _KMS_REFUSAL.search(f"{text} {context}"):
            # The SDK reports the operation it called, but KMS refused the key behind it: the fix is the key's.
            op_name = op.group(2) if op else ""
            facts["action"] = "kms:GenerateDataKey" if _KMS_WRITES.match(op_name) else "kms:Decrypt"
            facts["service"] = "kms"
            key = _KMS_KEY_ARN.search(f"{text} {context}")
            facts["resource"] = key.group(0) if key else "*"
        if principal:
            facts["principal"] = principal.group(1).rstrip(".,")
        role, kind = role_kind(facts.get("principal"), ev)
        if role:
            facts["role"] = role
        facts["role_kind"] = kind
        deny = _DENY.search(context)
        if deny:
            facts["deny"] = deny.group(1).strip()
        if ev.iam is not None:
            facts["simulation"] = ev.iam.decision
        return facts

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        container = f.get("container") or "the container"
        if f.get("cause") == "no-credentials":
            return _no_credentials(m, ev, container)
        if f.get("cause") == "credentials-endpoint":
            return _credentials_endpoint(m, ev, container)
        action = f.get("action", "unknown")
        resource = f.get("resource") or "*"
        kind = f.get("role_kind", "task role")
        role = f.get("role")
        target = {"task role": "the task role", "execution role": "the task EXECUTION role",
                  "instance role": "the EC2 instance role"}.get(kind, "the role")
        why = remedy.cite(m)
        steps: list[str] = []
        explicit = bool(f.get("deny") and "explicit deny" in f["deny"])
        if explicit:
            steps.append(f"The request was refused {f['deny']}: adding an Allow will not help. Find and change that "
                         f"deny (service control policy, permissions boundary, or the resource's own policy).{why}")
            why = ""
        # The SDK said it used keys from the environment: the caller is the IAM user behind them, not the task role.
        env_keys = next((i for i in ev.logs.lines_with(*_ENV_WORDS) if _ENV_CREDENTIALS.search(ev.logs.texts[i])),
                        None)  # candidate lines only: a 100k-line log is not parsed line by line
        env_keys_used = env_keys is not None and not (role and kind in ("task role", "execution role")
                                                      and ":assumed-role/" in str(f.get("principal") or ""))
        if env_keys is not None and env_keys_used:
            steps.append("The SDK used access keys from the container's environment (AWS_ACCESS_KEY_ID / "
                         "AWS_SECRET_ACCESS_KEY), so the denied caller is the IAM user behind those keys, not the "
                         f"task role: remove them from {container}'s environment (and secrets) in the task "
                         "definition so the SDK falls back to the task role, and give the task role the statement "
                         "below. "
                         + f"`{remedy.describe_task_definition(ev, _ENV_KEYS_QUERY)}` shows where they come from."
                         + remedy.because(f"logs[{ev.logs.containers[env_keys] or container}]", ev.logs.texts[env_keys]))
            target = "the task role"
        if kind == "instance role":
            steps.append("The caller was the EC2 INSTANCE role: the task has no task role, so the SDK fell back to "
                         "the instance profile. Give the task its own `taskRoleArn` with the statement below rather "
                         f"than widening the instance role.{why}")
            why = ""
        known_action = action != "unknown" and ":" in action
        # Only the service is named (an SDK's "Error Code: UnauthorizedOperation" for a call it does not name).
        service_only = action == "unknown" and f.get("service")
        coded = _DENIAL_CODE.search(" ".join(p.text for p in m.proofs)) if service_only else None
        error_code = coded.group(0).split(": ", 1)[1] if coded else "AccessDenied"
        if not known_action:
            steps.append("The log does not name the denied action"
                         + (f", only the service ({f['service']})" if service_only else "")
                         + ": find the refused call in CloudTrail (Event "
                         f"history, filter on the error code {error_code} and the role {role or 'of the task'}), "
                         f"then allow that action on that resource for {target}.{why}")
        elif not explicit:
            stmts = _statements(ev, action, resource)
            shown = json.dumps(stmts[0]) if len(stmts) == 1 else json.dumps(stmts)
            name = remedy.role_name(role)
            direct = ""
            if name and kind != "instance role" and "'" not in remedy.policy(*stmts) and "<" not in shown:
                direct = (f" Where the role is not managed as code: `aws iam put-role-policy --role-name "
                          f"{remedy.q(name)} --policy-name ecs-autopsy-fix --policy-document "
                          f"'{remedy.policy(*stmts)}'`.")
            wide = [r for st in stmts for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
                    if r.endswith(("*", "*-??????", "*/*"))]
            narrow = ""
            if any(":identity/*" in r for r in wide):
                narrow = (" No evidence names the identity the app sends from, so `identity/*` allows every verified "
                          "identity of the account and region; narrow it to that address or domain "
                          "(`aws sesv2 list-email-identities` lists them).")
            elif wide and not _named(resource) and f.get("service") != "kms":  # the KMS step below narrows it
                said = " ".join(p.text for p in m.proofs)
                if resource.strip() == "*" and _ON_RESOURCE_STAR.search(said):
                    # AWS names "*" for an action without resource-level permissions: "*" is all it can take.
                    narrow = (" The error names the resource `*`: this action has no resource-level permissions, "
                              "so `\"Resource\": \"*\"` is the only form IAM accepts for it.")
                elif resource.strip() not in ("*", "") and _ON_RESOURCE.search(said):
                    narrow = (" The error names the resource, but only part of it is readable here (masked, or cut "
                              "across log lines); the statement widens the rest to `*`, so put the full name from "
                              "the error back to narrow it to that one resource.")
                else:
                    narrow = (" The error does not name the resource, so the statement allows the action on every "
                              "such resource of the account; narrow it to the one the app uses "
                              f"({_who_names_it(action)}).")
            to = f"{target}{f' `{role}`' if role else ''}"
            if kind == "unknown":
                # The app's own AWS calls use the task role; on EC2 a task without one falls back to the instance's.
                to = ("the task role (the task definition's `taskRoleArn`: "
                      f"`{remedy.describe_task_definition(ev, 'taskDefinition.taskRoleArn')}`"
                      + ("" if remedy.is_fargate(ev) else "; a task with none calls AWS as the container instance "
                         "role, so give it a task role rather than widening the instance role") + ")")
            steps.append(f"Add {'this statement' if len(stmts) == 1 else 'these statements'} to {to}"
                         f": ```{shown}```{why}{direct}{narrow}")
        if action.startswith("kms:") and f.get("service") == "kms" and known_action and not explicit:
            # KMS refused the key behind another service's call: the key policy decides too, and the error
            # rarely names the key.
            said = " ".join(p.text for p in m.proofs)
            find = ("`aws ssm describe-parameters --query 'Parameters[].[Name,KeyId]' --output text`"
                    if re.search(r"Parameter|\bssm\b", said, re.IGNORECASE) else
                    "`aws secretsmanager list-secrets --query 'SecretList[].[Name,KmsKeyId]' --output text`"
                    if re.search(r"Secret", said) else "the resource's encryption settings")
            steps.append(f"KMS refused the customer managed key that encrypts the value, not the call itself; "
                         f"{find} shows which key: narrow the statement to it, and check that key's policy allows "
                         "this role (a key policy without the account's root principal ignores IAM policies).")
        if action.startswith(("ssm:", "secretsmanager:", "s3:", "dynamodb:", "sqs:", "sns:")) and remedy.mentions_kms(ev, m):
            # Only where the evidence names KMS: a denial of the service's own action says nothing about a key.
            steps.append("The evidence names KMS: if the resource is encrypted with a customer managed KMS key, the role also needs "
                         "`kms:Decrypt` (or `kms:GenerateDataKey` for writes) on that key.")
        if ev.iam is not None:
            steps.append(f"IAM policy simulation for {ev.iam.role_arn or role}: {ev.iam.decision}"
                         + (f" ({ev.iam.detail})" if ev.iam.detail else "") + ".")
        if env_keys_used:
            # Removing the keys changes the task definition: the new revision must be rolled out, not restarted.
            steps.append(f"Register the task definition without the keys and roll the new revision out: "
                         f"{remedy.roll_out(ev)}.")
        else:
            steps.append("IAM evaluates the role's policies on every request, so the change applies within seconds, "
                         "also to running tasks; tasks that already exited need a restart: "
                         f"{remedy.rerun(ev)}.")
        shown_action = f"an {f['service']} call" if service_only else action
        return Explanation(
            title=f"Access denied: {shown_action}" + (f" on {resource}" if resource != "*" else ""),
            summary=(f"{container} was refused " + (shown_action if service_only else f"`{action}`")
                     + (f" on `{resource}`" if resource != "*" else "")
                     + (" because the IAM user behind the access keys in its environment is not allowed it "
                        "(the SDK used those keys, not the task role)." if env_keys_used else
                        f" because {target}{f' `{role}`' if role else ''} does not allow it.")),
            remediation=steps,
        )


# Why a process in a task with a task role finds no credentials: the SDK finds the role through the variable ECS
# sets in the container's environment, which a process started without that environment does not have.
_NO_URI = ("the process did not get the container credentials, because the SDK finds the role through "
           "`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, which ECS sets in the environment of the container's main "
           "process only, so a process started by cron, `su`/`sudo -i` or a service manager with a clean environment "
           "has none. Pass it on (cron: write it into the job's environment at start-up, e.g. "
           "`printenv | grep AWS_CONTAINER_CREDENTIALS >> /etc/environment`), or run the command as the container's "
           "own command")


def _credentials_endpoint(m: Match, ev: Evidence, container: str) -> Explanation:
    """The role's credentials endpoint failed (an error answer or a dropped connection): not a policy to change.
    From the instance-metadata provider (botocore's `iam-role`), the SDK only got there because the process had no
    task-role credentials: the container provider comes first in the chain."""
    fargate = remedy.is_fargate(ev)
    if m.facts.get("role_kind") == "instance role":
        return _instance_metadata_fallback(m, ev, container, fargate)
    where = "the ECS agent's task credentials endpoint (169.254.170.2)"
    again = (("Fargate runs that endpoint itself, so there is no agent of yours to fix; a one-off failure passes "
              "when the task runs again: " + remedy.rerun(ev) + ". If it recurs, check the container's environment "
              "for proxy variables "
              "(`HTTP_PROXY`/`HTTPS_PROXY`, also lower-case) without `NO_PROXY` naming `169.254.170.2` (and "
              "`169.254.169.254`): the SDK then sends the credentials request to the proxy, which cannot reach it.")
             if fargate else
             f"On EC2, check the container instance's ECS agent (its version and `{remedy.agent_log(ev)}` around "
             "the stop for credentials requests it refused) and restart or update it; then run the task again.")
    return Explanation(
        title="The task role's credentials could not be fetched",
        summary=(f"{container} asked {where} for the task role's credentials and got an error or a dropped "
                 "connection instead: the role's policy was never reached."),
        remediation=[
            f"Nothing in the role's policy causes this: the credentials came from {where}, which failed." + remedy.cite(m),
            again,
        ],
    )


def _instance_metadata_fallback(m: Match, ev: Evidence, container: str, fargate: bool) -> Explanation:
    """botocore's `iam-role` provider failed: it is reached only when the process found no task-role credentials
    (no `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` in its environment)."""
    td = ev.task_definition
    create = ("create an IAM role trusted by `ecs-tasks.amazonaws.com` with the permissions the app needs and set it "
              "as `taskRoleArn` (not the execution role)")
    dropped = (_NO_URI + "; an entrypoint script that starts the app with a cleaned environment (`env -i`, `su -`, "
               "`exec` of a service manager) drops it the same way")
    if td is None:
        which = (f"give the task a task role. Check `{remedy.describe_task_definition(ev, 'taskDefinition.taskRoleArn')}`"
                 f"; if it prints None, {create}. If it prints a role, {dropped}.")
    elif td.task_role_arn:
        which = f"the task definition sets the task role {td.task_role_arn}, so {dropped}."
    else:
        which = f"the task definition has no task role: {create}."
    steps = [
        "The SDK asked the EC2 instance metadata service (169.254.169.254) for credentials only because the process "
        "had no task-role credentials (the container credentials come first in its chain): " + which + remedy.cite(m),
        ("Fargate has no instance role and no instance metadata credentials for a task: the task role is the only "
         "way the task gets AWS credentials." if fargate else
         "Do not open instance metadata to the container instead: on EC2, bridge and host mode containers are often "
         "kept from it on purpose (an iptables rule, IMDSv2 with a hop limit of 1, `ECS_AWSVPC_BLOCK_IMDS` for "
         "awsvpc), and the instance role is the container instance's, shared by every task on it."),
    ]
    return Explanation(
        title="No task-role credentials reached the process (the SDK fell back to instance metadata)",
        summary=(f"{container} found no task-role credentials, so its AWS SDK fell back to the instance metadata "
                 "service (169.254.169.254), which gave it none"
                 + (" (a Fargate task has no instance role)" if fargate else "")
                 + ": the task role is missing or its credentials variable did not reach the process."),
        remediation=steps,
    )


def _no_credentials(m: Match, ev: Evidence, container: str) -> Explanation:
    """An SDK that found no credentials at all. Who gives the task its role decides the step: an AWS Batch job
    gets it from its job definition's jobRoleArn; an ECS task from taskRoleArn. A task role the task definition
    shows means the credentials did not reach the process; an unread task definition is checked, not assumed."""
    td = ev.task_definition
    role = td.task_role_arn if td else None
    why = remedy.cite(m)
    call = failing_call(ev, m.container, m.anchor)
    needs = f" (the log shows it calling `{call}`: at least that action)" if call else ""
    keys = ("Do not bake access keys into the image or environment; the SDK picks the role up from the container "
            "credentials endpoint automatically.")
    if remedy.launcher(ev) == "batch":
        job = remedy.batch_job(ev)
        check = (f"`aws batch describe-jobs --jobs {job}{remedy.region_flag(ev)} --query "
                 "'jobs[0].[jobDefinition, container.jobRoleArn]'`" if job else
                 "`aws batch describe-job-definitions` (its `containerProperties.jobRoleArn`)")
        return Explanation(
            title="No AWS credentials in the Batch job (job role)",
            summary=(f"{container} called AWS but found no credentials. It ran as an AWS Batch job, whose role comes "
                     "from the job definition's `jobRoleArn` (Batch writes the ECS task definition from it)."),
            remediation=[
                "This is an AWS Batch job: give it a role in its job definition, `containerProperties.jobRoleArn` (an "
                "IAM role trusted by `ecs-tasks.amazonaws.com` with the permissions the job calls need"
                + (f"; the log shows it calling `{call}`, so at least that action" if call else "") + "), "
                "not in the ECS task definition Batch generates. See its job definition and role: " + check + "; register a new "
                "job definition revision with `jobRoleArn` set and submit the job with it." + why,
                "If the job definition already has a jobRoleArn, " + _NO_URI + ".",
                keys,
            ],
        )
    if role:
        return Explanation(
            title="No AWS credentials reached the process (the task has a task role)",
            summary=(f"{container} called AWS but found no credentials, although the task definition sets the task "
                     f"role {role}: the process that called AWS did not get the container credentials."),
            remediation=["The task has a task role, so " + _NO_URI + "." + why, keys],
        )
    if td is None:
        return Explanation(
            title="No AWS credentials in the task",
            summary=(f"{container} called AWS but found no credentials: either the task definition has no task role "
                     "(`taskRoleArn`), or the process that called AWS did not get the container credentials."),
            remediation=[
                "Check whether the task definition has a task role: "
                f"`{remedy.describe_task_definition(ev, 'taskDefinition.taskRoleArn')}`. If it prints None, create an "
                "IAM role trusted by `ecs-tasks.amazonaws.com` with the permissions the app needs" + needs + " and "
                "set it as `taskRoleArn` (not the execution role)." + why,
                "If it prints a role, " + _NO_URI + ".",
                keys,
            ],
        )
    return Explanation(
        title="No AWS credentials in the task (no task role)",
        summary=(f"{container} called AWS but found no credentials: the task definition has no task role "
                 "(`taskRoleArn`), so the SDK had nothing to sign with."),
        remediation=[
            "Create an IAM role trusted by `ecs-tasks.amazonaws.com` with the permissions the app needs" + needs
            + " and set it as `taskRoleArn` in the task definition (not the execution role)." + why,
            keys,
        ],
    )


PATTERN = IamAccessDenied()
