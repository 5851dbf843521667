"""iam-access-denied: the task's role lacks a permission, in every SDK's wording."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.evidence.model import TaskDefinitionFacts
from shared.patterns.iam_access_denied import PATTERN
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, box, exited, failed_to_start

ID = "iam-access-denied"
ACCT = "111122223333"
DDB = (f"botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the PutItem "
       f"operation: User: arn:aws:sts::{ACCT}:assumed-role/orders-api-task-role/0123456789abcdef0123456789abcdef is "
       f"not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:{ACCT}:table/orders "
       "because no identity-based policy allows the dynamodb:PutItem action")

POSITIVES = [
    pytest.param(["AmazonS3Exception: User: arn:aws:sts::XXXXXXXXXXXX:assumed-role/media-task/abc is not authorized "
                  "to perform: s3:PutObject on resource: arn:aws:s3:::media-uploads/avatars/1.png (Service: Amazon "
                  "S3; Status Code: 403; Error Code: AccessDenied)"], {},
                 {"action": "s3:PutObject", "principal": "arn:aws:sts::XXXXXXXXXXXX:assumed-role/media-task/abc"},
                 id="account-id-redacted-in-a-paste"),
    pytest.param(["com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied (Service: Amazon S3; Status "
                  "Code: 403; Error Code: AccessDenied; Request ID: 7Q2B)"], {}, {"action": "s3:*", "service": "s3"},
                 id="java-sdk-v1-service-name-with-a-space"),
    pytest.param(["/srv/node_modules/@aws-sdk/smithy-client/dist-cjs/default-error-handler.js:8",
                  "const response = new exceptionCtor({", "^", "", "AccessDenied: Access Denied"], {},
                 {"action": "s3:*"}, id="js-sdk-v3-s3-wording-after-source-excerpt"),
    pytest.param([f"User: arn:aws:sts::{ACCT}:assumed-role/app/x is not authorized to perform: kinesis:PutRecord on "
                  "clicks because no identity-based policy allows the kinesis:PutRecord action"], {},
                 {"action": "kinesis:PutRecord", "resource": "clicks"}, id="plain-resource-name-before-because"),
    pytest.param(["Traceback (most recent call last):", '  File "/app/orders.py", line 30, in save',
                  "    table.put_item(Item=item)", DDB], {},
                 {"action": "dynamodb:PutItem", "resource": f"arn:aws:dynamodb:us-east-1:{ACCT}:table/orders",
                  "principal": f"arn:aws:sts::{ACCT}:assumed-role/orders-api-task-role/0123456789abcdef0123456789abcdef",
                  "role": "orders-api-task-role", "role_kind": "task role",
                  "deny": "because no identity-based policy allows the dynamodb:PutItem action"},
                 id="boto3-dynamodb-putitem"),
    pytest.param(["botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject "
                  "operation: Access Denied"], {}, {"action": "s3:GetObject"}, id="boto3-s3-short-form"),
    pytest.param(["software.amazon.awssdk.services.s3.model.S3Exception: Access Denied (Service: S3, Status Code: 403, "
                  "Request ID: 8T9X2AB, Extended Request ID: abc=)"], {}, {"action": "s3:*"}, id="java-sdk-v2-s3"),
    pytest.param([f"com.amazonaws.services.dynamodbv2.model.AmazonDynamoDBException: User: arn:aws:sts::{ACCT}:"
                  f"assumed-role/ecsTaskRole/5a6b is not authorized to perform: dynamodb:Query on resource: "
                  f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/sessions/index/by-user (Service: AmazonDynamoDBv2; "
                  "Status Code: 400; Error Code: AccessDeniedException; Request ID: ABC)"],
                 {}, {"action": "dynamodb:Query", "role": "ecsTaskRole",
                      "resource": f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/sessions/index/by-user"},
                 id="java-sdk-v1-dynamodb-index"),
    pytest.param([f"AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/worker-task/abc123 is not "
                  f"authorized to perform: sqs:ReceiveMessage on resource: arn:aws:sqs:us-east-1:{ACCT}:jobs because "
                  "no identity-based policy allows the sqs:ReceiveMessage action",
                  "    at throwDefaultError (/app/node_modules/@smithy/smithy-client/dist-cjs/index.js:838:20)"],
                 {}, {"action": "sqs:ReceiveMessage", "resource": f"arn:aws:sqs:us-east-1:{ACCT}:jobs"},
                 id="js-sdk-v3-sqs"),
    pytest.param([f"operation error SNS: Publish, https response error StatusCode: 403, RequestID: 1b2c, api error "
                  f"AuthorizationError: User: arn:aws:sts::{ACCT}:assumed-role/notifier/abc is not authorized to "
                  f"perform: SNS:Publish on resource: arn:aws:sns:us-east-1:{ACCT}:alerts because no identity-based "
                  "policy allows the SNS:Publish action"],
                 {}, {"action": "SNS:Publish", "resource": f"arn:aws:sns:us-east-1:{ACCT}:alerts"}, id="go-sdk-v2-sns"),
    pytest.param([f"botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the "
                  f"Decrypt operation: User: arn:aws:sts::{ACCT}:assumed-role/app-task/abc is not authorized to "
                  "perform: kms:Decrypt on the resource associated with this ciphertext because the resource does not "
                  "exist in this Region, no resource-based policies allow access, or a resource-based policy "
                  "explicitly denies access"],
                 {}, {"action": "kms:Decrypt", "resource": "the KMS key that encrypted the ciphertext"}, id="kms-decrypt"),
    pytest.param([f"An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::{ACCT}:"
                  "assumed-role/uploader/abc is not authorized to perform: s3:PutObject on resource: "
                  '"arn:aws:s3:::acme-uploads/2024/a.png" with an explicit deny in a service control policy'],
                 {}, {"action": "s3:PutObject", "resource": "arn:aws:s3:::acme-uploads/2024/a.png",
                      "deny": "with an explicit deny in a service control policy"}, id="scp-explicit-deny"),
    pytest.param(["An error occurred (AccessDeniedException) when calling the GetParameters operation: User: "
                  "arn:aws:sts::845828040396:assumed-role/ecsInstanceRole/i-081cc40f40abe42cd is not authorized to "
                  "perform: ssm:GetParameters on resource: arn:aws:ssm:us-west-2:845828040396:parameter/prod/DB"],
                 exited(255), {"action": "ssm:GetParameters", "role": "ecsInstanceRole", "role_kind": "instance role"},
                 id="aws-cli-on-instance-role"),
    pytest.param(['{"level":"error","time":"2024-05-01T10:00:00Z","msg":"failed to load config","error":'
                  f'"AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/api-task/abc is not authorized to '
                  f'perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:{ACCT}:secret:'
                  'prod/api-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action"}'],
                 {}, {"action": "secretsmanager:GetSecretValue"}, id="json-structured-error-field"),
    pytest.param(["botocore.exceptions.NoCredentialsError: Unable to locate credentials"], {},
                 {"cause": "no-credentials"}, id="boto3-no-task-role"),
    pytest.param(["software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of "
                  "the providers in the chain AwsCredentialsProviderChain(credentialsProviders=["
                  "SystemPropertyCredentialsProvider(), EnvironmentVariableCredentialsProvider()])"],
                 {}, {"cause": "no-credentials"}, id="java-no-task-role"),
    # Other SDKs' words for the same empty provider chain: Rust (rusoto), .NET.
    pytest.param(['Error: Credentials(CredentialsError { message: "Could not find AWS credentials in the environment, '
                  'profile or container endpoint" })'], exited(1), {"cause": "no-credentials"},
                 id="rust-sdk-no-task-role"),
    pytest.param(["Unhandled exception. Amazon.Runtime.AmazonServiceException: Unable to find credentials",
                  "Failed to resolve AWS credentials. The credential providers used to search for credentials returned "
                  "the following errors:"], exited(139), {"cause": "no-credentials"}, id="dotnet-no-task-role"),
    pytest.param(["AccessDenied: User `arn:aws:sts::111122223333:assumed-role/api-task/0123abcd' is not authorized to "
                  "perform `ses:SendEmail' on resource `arn:aws:ses:us-west-2:111122223333:configuration-set/default'"],
                 exited(1), {"action": "ses:SendEmail",
                             "resource": "arn:aws:ses:us-west-2:111122223333:configuration-set/default",
                             "principal": "arn:aws:sts::111122223333:assumed-role/api-task/0123abcd"},
                 id="backtick-quote-quoting"),
    pytest.param(['time="2018-03-21T09:12:44.101Z" level=error msg="response completed with error" err.code=unknown '
                  'err.message="s3aws: Access Denied"', 'time="2018-03-21T09:12:44.102Z" level=panic '
                  'msg="s3aws: Access Denied"'], exited(1), {"action": "s3:*"}, id="registry-s3-driver-access-denied"),
    # aws s3 cp runs a HEAD first; S3 answers a HEAD with a bare status, IAM checks it as s3:GetObject.
    pytest.param(["+ aws s3 cp s3://acme-releases/0.9/init.sh /tmp/init.sh",
                  "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden"],
                 {"containers": [box(1, "fetch-init", image="amazon/aws-cli:2.9.0"), box(143, "app")]},
                 {"action": "s3:GetObject", "container": "fetch-init"}, id="aws-cli-head-object-403-init-container"),
    pytest.param(["botocore.exceptions.ClientError: An error occurred (403) when calling the HeadBucket operation: "
                  "Forbidden"], exited(1), {"action": "s3:ListBucket"}, id="boto3-head-bucket-403"),
    pytest.param(["botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the ListObjectsV2 "
                  "operation: Access Denied"], exited(1), {"action": "s3:ListBucket"},
                 id="list-objects-is-authorized-as-list-bucket"),
]


APPMESH_ENVOY = "840364872350.dkr.ecr.eu-west-1.amazonaws.com/aws-appmesh-envoy:v1.27.2.0-prod"
XDS = "[2024-01-17 09:10:21.408][1][warning][config] [source/common/config/grpc_stream.h:163] "


def envoy_unhealthy(image: str = APPMESH_ENVOY) -> dict:
    return {"stoppedReason": "Task failed container health checks", "stopCode": "ServiceSchedulerInitiated",
            "containers": [box(143, "app"), box(143, "envoy", image=image, healthStatus="UNHEALTHY")]}


XDS_DENIED = [
    pytest.param({"envoy": [XDS + "gRPC config stream closed: 7"] * 3}, envoy_unhealthy(),
                 id="bare-status-7-from-the-app-mesh-envoy-image"),
    pytest.param({"envoy": [XDS + "DeltaAggregatedResources gRPC config stream to appmesh-envoy-management.eu-west-1."
                            "amazonaws.com:443 closed since 35s ago: 7, "]},
                 envoy_unhealthy("envoyproxy/envoy:v1.29.0"), id="status-7-from-the-app-mesh-management-server"),
]


@pytest.mark.parametrize(("logs", "detail"), XDS_DENIED)
def test_app_mesh_xds_permission_denied_is_the_task_role_at_warning_level(logs, detail):
    finding = run(logs, **detail)
    assert_finding(finding, ID, {"action": "appmesh:StreamAggregatedResources", "container": "envoy",
                                 "role_kind": "task role"})
    assert finding.symptom == "container-health-check-failed"


@pytest.mark.parametrize(("logs", "detail", "expected"), [
    pytest.param({"envoy": [XDS + "StreamAggregatedResources gRPC config stream to appmesh-envoy-management.ap-south-1."
                            "amazonaws.com:443 closed: 13,"]}, envoy_unhealthy(), "container-health-check-failed",
                 id="status-13-internal-is-not-a-denial"),
    pytest.param({"envoy": [XDS + "StreamAggregatedResources gRPC config stream to xds_cluster closed: 7, rbac denied"]},
                 envoy_unhealthy("envoyproxy/envoy:v1.29.0"), "container-health-check-failed",
                 id="status-7-from-a-self-hosted-control-plane-is-not-iam"),
    pytest.param({"envoy": [XDS + "gRPC config stream closed: 70"]}, envoy_unhealthy(), "container-health-check-failed",
                 id="another-status-starting-with-7"),
])
def test_xds_near_misses(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


@pytest.mark.parametrize(("logs", "detail", "facts"), POSITIVES)
def test_positive(logs, detail, facts):
    assert_finding(run(logs, **detail), ID, facts)


def test_remediation_is_a_policy_statement_for_the_task_role():
    finding = run([DDB])
    text = "\n".join(finding.remediation)
    assert '"Action": ["dynamodb:PutItem"]' in text
    assert f'"Resource": "arn:aws:dynamodb:us-east-1:{ACCT}:table/orders"' in text
    assert "put-role-policy --role-name orders-api-task-role" in text


def test_role_kind_comes_from_the_task_definition_when_known():
    base = evidence([DDB.replace("orders-api-task-role", "svc-role")])
    td = TaskDefinitionFacts(arn="arn:aws:ecs:us-east-1:111122223333:task-definition/orders-api:12",
                             execution_role_arn=f"arn:aws:iam::{ACCT}:role/svc-role")
    m = PATTERN.match(replace(base, task_definition=td))
    assert m is not None and m.facts["role_kind"] == "execution role"


def test_explicit_deny_says_an_allow_will_not_help():
    finding = run([f"An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::{ACCT}:"
                   "assumed-role/uploader/abc is not authorized to perform: s3:PutObject on resource: "
                   '"arn:aws:s3:::acme-uploads/a.png" with an explicit deny in a service control policy'])
    assert "adding an Allow will not help" in finding.remediation[0]


NEGATIVES = [
    pytest.param(["pymysql.err.OperationalError: (1045, \"Access denied for user 'admin'@'10.0.1.5' (using "
                  "password: YES)\")"], {}, "database-connection-failed", id="mysql-access-denied-is-a-database-login"),
    pytest.param(["PermissionError: [Errno 13] Permission denied: '/data/cache'"], {}, "app-crash",
                 id="file-permission-denied"),
    pytest.param(["Error: Request failed with status code 403",
                  "    at createError (/app/node_modules/axios/lib/core/createError.js:16:15)"], {}, "app-crash",
                 id="http-403-from-a-partner-api"),
    pytest.param(["fatal error: An error occurred (404) when calling the HeadObject operation: Not Found"], exited(1),
                 "app-crash", id="head-object-404-is-a-missing-key-not-a-denial"),
    pytest.param(["requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.github.com/repos/a/b"],
                 exited(1), "app-crash", id="http-403-forbidden-from-a-rest-api"),
    pytest.param(["git@github.com: Permission denied (publickey).", "fatal: Could not read from remote repository."],
                 {}, "app-crash", id="ssh-publickey"),
    pytest.param(['{"level":"info","msg":"access denied for anonymous request to /admin"}'], exited(143), "unknown",
                 id="app-level-access-log"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_denial_while_fetching_secrets_at_start_belongs_to_secrets_retrieval():
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
              f"secret arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf from secrets manager: "
              f"AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/orders-exec/abc is not authorized to "
              f"perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:{ACCT}:secret:"
              "prod/db-AbCdEf because no identity-based policy allows the secretsmanager:GetSecretValue action")
    assert run([], **failed_to_start(reason)).pattern == "secrets-retrieval-failed"


def test_placeholders_a_reporter_put_in_the_arns_are_kept():
    finding = run(["botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetItem "
                   "operation: User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/app-task/abc is not authorized to perform: "
                   "dynamodb:GetItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders"], **exited(1))
    assert_finding(finding, ID, {"action": "dynamodb:GetItem", "role": "app-task",
                                 "principal": "arn:aws:sts::{ACCOUNT_ID}:assumed-role/app-task/abc"})


@pytest.mark.parametrize(("line", "resource"), [
    ("botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the ReceiveMessage operation: "
     "Access to the resource https://sqs.us-east-1.amazonaws.com/ is denied.", None),
    (f"AccessDenied: User `arn:aws:sts::{ACCT}:assumed-role/mailer-task/abc' is not authorized to perform "
     f"`ses:SendEmail' on resource `arn:aws:ses:us-east-1:{ACCT}:configuration-set/default'", ":identity/*"),
    (DDB, f"arn:aws:dynamodb:us-east-1:{ACCT}:table/orders"),
])
def test_a_resource_no_evidence_names_is_a_wildcard_to_narrow_never_a_placeholder(line, resource):
    """The statement and put-role-policy run as pasted: an unnamed resource (an SES sending identity, a queue
    the error leaves out) becomes that type's wildcard with a note to narrow it; a named one stays exact."""
    from shared.render import steps
    from tests.support.fixcheck import command_problems, policy_problems

    rem = run([line], **exited(1)).remediation
    text = "\n".join(rem)
    assert not any(steps.placeholders(s) for s in rem), text
    docs = [d for s in rem for d in steps.policies(s)]
    assert docs and all(policy_problems(d) == [] for d in docs), docs
    assert all(command_problems(c) == [] for s in rem for c in steps.commands(s))
    if resource:
        assert resource in text
    assert ("narrow it" in text) == (resource != DDB.split("resource: ")[1].split(" ")[0]), text


def test_an_unnamed_caller_is_the_task_role_and_on_ec2_the_instance_role_fallback_is_said():
    line = ('level=fatal msg="AccessDeniedException: User: assumed-role X is not authorized to perform: '
            'ecs:ListClusters status code: 400"')
    finding = run([line], launchType="EC2", attachments=[])
    assert finding.facts.get("role_kind") == "unknown"
    assert "taskDefinition.taskRoleArn" in finding.remediation[0]
    assert "container instance role" in finding.remediation[0]


def test_near_miss_a_named_task_role_is_named_as_it_is():
    finding = run([DDB])
    assert "orders-api-task-role" in finding.remediation[0] and "taskDefinition.taskRoleArn" not in finding.remediation[0]


@pytest.mark.parametrize("env", [True, False])
def test_keys_from_the_environment_are_removed_first(env):
    """"Found credentials in environment variables": the caller is the keys' IAM user, so remove them first;
    near miss: without that line the statement for the role comes first."""
    logs = (["[INFO] Found credentials in environment variables."] if env else []) + [
        "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the ReceiveMessage operation: "
        "Access to the resource https://sqs.eu-west-3.amazonaws.com/ is denied."]
    f = run(logs, **exited(1))
    assert f.pattern == ID
    assert ("AWS_ACCESS_KEY_ID" in f.remediation[0]) == env, f.remediation


def _proxy_unhealthy() -> dict:
    return {"stoppedReason": "Task failed container health checks", "stopCode": "ServiceSchedulerInitiated",
            "containers": [box(143, "api", healthStatus="HEALTHY"),
                           box(0, "ecs-service-connect-Ab12C", healthStatus="UNHEALTHY")]}


@pytest.mark.parametrize("action", ["ecs:Poll", "ecs:DiscoverPollEndpoint", "ecs:SubmitTaskStateChange"])
def test_near_miss_a_denied_ecs_agent_action_is_not_the_tasks_role(action):
    """Near miss: the container agent's own calls (made with the instance's credentials, relayed to the Service
    Connect proxy) are no permission of the task role; the proxy's failed health check is what stopped the task."""
    line = (XDS + "StreamAggregatedResources gRPC config stream to unix:///var/run/ecs/relay/envoy_xds.sock closed: "
            f"13, Unauthorized to perform {action} for arn:aws:ecs:us-east-1:{ACCT}:task-set/prod/api/ecs-svc/123")
    logs = {"api": [], "ecs-service-connect-Ab12C": [line]}
    assert PATTERN.match(evidence(logs, **_proxy_unhealthy())) is None
    assert_finding(run(logs, **_proxy_unhealthy()), "container-health-check-failed",
                   {"container": "ecs-service-connect-Ab12C"})


def test_an_ecs_api_call_of_the_app_itself_is_still_the_task_role():
    """The app calling the ECS API (ecs:RunTask, ecs:DescribeServices) with its task role is a real denial."""
    line = (f"An error occurred (AccessDeniedException) when calling the RunTask operation: User: arn:aws:sts::{ACCT}:"
            "assumed-role/orders-api-task-role/abc is not authorized to perform: ecs:RunTask on resource: "
            f"arn:aws:ecs:us-east-1:{ACCT}:task-definition/report:3")
    assert_finding(run([line], **exited(1)), ID, {"action": "ecs:RunTask"})


@pytest.mark.parametrize("line", [
    # a database's credentials are not IAM
    pytest.param("FATAL: could not find credentials for user orders in /run/secrets/db", id="database-credentials"),
    # one provider of the chain missing (the credentials file), the SDK goes on to the next
    pytest.param("ERROR could not find AWS credentials file at /root/.aws/credentials", id="credentials-file-only"),
])
def test_near_miss_credentials_that_are_not_an_empty_aws_provider_chain(line):
    detail = {"stoppedReason": "Essential container in task exited", "containers": [box(1)]}
    m = PATTERN.match(evidence([line], **detail))
    assert m is None or m.facts.get("cause") != "no-credentials", m


@pytest.mark.parametrize("line", [
    "Error [CredentialsError]: Missing credentials in config, if using AWS_CONFIG_FILE, set AWS_SDK_LOAD_CONFIG=1",
    "CredentialsError: Missing credentials in config",
])
def test_the_javascript_sdks_missing_credentials_is_no_credentials(line):
    finding = run([line, "    at Request.extractError (/app/node_modules/aws-sdk/lib/protocol/json.js:51:27)"],
                  **exited(1))
    assert_finding(finding, ID, {"cause": "no-credentials"})


def test_near_miss_missing_credentials_without_the_sdk_error_class_is_not_iam():
    """A database or an API client complaining of missing credentials is not the AWS SDK's provider chain."""
    finding = run(["Error: Missing credentials in config for the database connection"], **exited(1))
    assert finding.pattern != ID


@pytest.mark.parametrize(("line", "kind"), [
    ("Error when retrieving credentials from container-role: Error retrieving metadata: Received error when "
     "attempting to retrieve ECS metadata: ('Connection aborted.', ConnectionResetError(104))", "task role"),
    ("Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response "
     "(500) from ECS metadata: internal error", "task role"),
    ("Error when retrieving credentials from iam-role: Credential refresh failed, response did not contain: "
     "access_key", "instance role"),
])
def test_a_failing_role_credentials_endpoint_is_not_a_missing_permission(line, kind):
    """botocore could not fetch the role's keys from its endpoint: the role exists, no policy statement helps."""
    finding = run([line], **exited(255))
    assert_finding(finding, ID, {"cause": "credentials-endpoint", "role_kind": kind})
    assert "action" not in finding.facts
    text = " ".join(finding.remediation)
    assert "169.254" in text and '"Action"' not in text


@pytest.mark.parametrize("line", [
    "Error when retrieving credentials from vault: permission denied",
    "Error when retrieving credentials from the database secret store",
])
def test_near_miss_credentials_from_something_other_than_an_aws_role_endpoint(line):
    m = PATTERN.match(evidence([line], **exited(1)))
    assert m is None or m.facts.get("cause") != "credentials-endpoint", m


def test_a_fluent_bit_output_plugin_refused_names_the_action_from_the_plugin_and_the_operation():
    # FireLens' Fluent Bit: "[output:<plugin>:<instance>] <Operation> API responded with error='AccessDeniedException'"
    logs = ["[2024/02/01 10:00:00] [error] [output:kinesis_firehose:kinesis_firehose.0] PutRecordBatch API responded "
            "with error='AccessDeniedException', message='User is not authorized'"]
    finding = run({"log_router": logs}, **exited(1, name="log_router"))
    assert finding.pattern == "iam-access-denied"
    assert finding.facts["action"] == "firehose:PutRecordBatch"


def test_near_miss_a_fluent_bit_output_throttled_is_not_an_access_denial():
    logs = ["[2024/02/01 10:00:00] [error] [output:cloudwatch_logs:cloudwatch_logs.0] PutLogEvents API responded "
            "with error='ThrottlingException'"]
    assert run({"log_router": logs}, **exited(1, name="log_router")).pattern != "iam-access-denied"
