"""secrets-retrieval-failed: the agent could not fetch secrets, registry auth or env files at start."""

from __future__ import annotations

import pytest

from shared.patterns.secrets_retrieval_failed import PATTERN
from tests.support.fixcheck import problems
from tests.unit.helpers import evidence, run
from tests.unit.patterns.common import assert_finding, exited, failed_to_start

ID = "secrets-retrieval-failed"
ACCT = "111122223333"
PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
ASM = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf"

POSITIVES = [
    pytest.param("Fetching secret data from SSM Parameter Store in eu-west-1: AccessDeniedException: User: "
                 "arn:aws:sts::XXXXXXXXXXXX:assumed-role/exec-role/abc is not authorized to perform: ssm:GetParameters "
                 "on resource: arn:aws:ssm:eu-west-1:XXXXXXXXXXXX:parameter/app/db-password status code: 400",
                 {"secret": "arn:aws:ssm:eu-west-1:XXXXXXXXXXXX:parameter/app/db-password", "cause": "access-denied"},
                 id="account-id-redacted-in-a-paste"),
    pytest.param(PREFIX + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
                 f"AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/ecsTaskExecutionRole/abc is not "
                 f"authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:{ACCT}:parameter/prod/"
                 "db-password because no identity-based policy allows the ssm:GetParameters action status code: 400, "
                 "request id: 7f8e",
                 {"cause": "access-denied", "secret": f"arn:aws:ssm:us-east-1:{ACCT}:parameter/prod/db-password",
                  "action": "ssm:GetParameters", "kind": "ssm parameter",
                  "principal": f"arn:aws:sts::{ACCT}:assumed-role/ecsTaskExecutionRole/abc"}, id="ssm-access-denied"),
    pytest.param(PREFIX + "unable to retrieve secret from asm: service call has been retried 5 time(s): failed to "
                 f"fetch secret {ASM} from secrets manager: RequestCanceled: request context canceled caused by: "
                 "context deadline exceeded",
                 {"cause": "network", "secret": ASM, "kind": "secrets manager secret"}, id="asm-no-route"),
    pytest.param(PREFIX + "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid "
                 "parameters: /prod/api/key", {"cause": "not-found", "secret": "/prod/api/key"},
                 id="ssm-invalid-parameters"),
    pytest.param(PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to "
                 f"fetch secret arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db from secrets manager: "
                 "ResourceNotFoundException: Secrets Manager can't find the specified secret.",
                 {"cause": "not-found", "secret": f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db"},
                 id="asm-not-found"),
    pytest.param(PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to "
                 f"fetch secret {ASM} from secrets manager: AccessDeniedException: Access to KMS is not allowed",
                 {"cause": "access-denied", "secret": ASM}, id="kms-key-policy"),
    pytest.param(PREFIX + "unable to retrieve ecr registry auth: service call has been retried 3 time(s): "
                 "RequestError: send request failed caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial "
                 "tcp 10.0.0.1:443: i/o timeout", {"cause": "network", "kind": "ecr registry auth"},
                 id="ecr-registry-auth-timeout"),
    pytest.param("ResourceInitializationError: failed to download env files: file download command: non empty error "
                 "stream: service call has been retried 5 time(s): AccessDenied: Access Denied status code: 403, "
                 "request id: ABC, host id: xyz", {"cause": "access-denied", "kind": "environment file"},
                 id="env-file-s3-denied"),
    pytest.param(PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved "
                 "secret from Secrets Manager did not contain json key password",
                 {"cause": "not-found", "kind": "secrets manager secret"}, id="asm-json-key-missing"),
    pytest.param(PREFIX + "unable to retrieve ecr registry auth: service call has been retried 3 time(s): "
                 f"AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/ecsTaskExecutionRole/abc is not "
                 "authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy "
                 "allows the ecr:GetAuthorizationToken action status code: 400",
                 {"cause": "access-denied", "kind": "ecr registry auth", "action": "ecr:GetAuthorizationToken"},
                 id="ecr-auth-denied"),
    pytest.param("Fetching secret data from SSM Parameter Store in {REGION}: AccessDeniedException: User: "
                 "arn:aws:sts::{ACCOUNT_ID}:assumed-role/{...}/9e05ad12 is not authorized to perform: "
                 "ssm:GetParameters on resource: arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/{PARAMETER_NAME} "
                 "status code: 400, request id: 787934d9",
                 {"cause": "access-denied", "secret": "arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/{PARAMETER_NAME}",
                  "principal": "arn:aws:sts::{ACCOUNT_ID}:assumed-role/{...}/9e05ad12"},
                 id="reporter-placeholders-for-region-and-account"),
    pytest.param("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                 "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
                 "secret arn:aws:secretsmanager:eu-west-2:111122223333...",
                 {"secret": "arn:aws:secretsmanager:eu-west-2:111122223333", "secret_truncated": True},
                 id="arn-cut-short-by-the-console"),
]


def test_a_bare_failure_claims_no_kind():
    # "secrets" contains "ecr": the message must not be read as an ECR registry-auth failure.
    finding = run([], **failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: pull "
                                        "command failed: : signal: killed"))
    assert finding.pattern == ID
    assert "kind" not in finding.facts and "cause" not in finding.facts
    assert finding.title == "orders-api: Could not fetch secret at start"


@pytest.mark.parametrize(("reason", "facts"), POSITIVES)
def test_positive(reason, facts):
    assert_finding(run([], **failed_to_start(reason)), ID, facts)


def test_partial_arn_gets_a_wildcard_suffix_for_the_execution_role():
    partial = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db"
    finding = run([], **failed_to_start(
        PREFIX + "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
        f"{partial} from secrets manager: AccessDeniedException: User: arn:aws:sts::{ACCT}:assumed-role/exec/abc is "
        f"not authorized to perform: secretsmanager:GetSecretValue on resource: {partial} because no identity-based "
        "policy allows the secretsmanager:GetSecretValue action"))
    text = "\n".join(finding.remediation)
    assert f'"Resource": "{partial}-??????"' in text
    assert "EXECUTION role" in text


def test_secrets_failure_beats_whatever_the_app_never_logged():
    finding = run(["KeyError: 'DATABASE_URL'"], **failed_to_start(PREFIX + "unable to retrieve secret from asm: "
                                                                  f"failed to fetch secret {ASM}: i/o timeout"))
    assert finding.pattern == ID


NEGATIVES = [
    pytest.param([f"botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the "
                  f"GetSecretValue operation: User: arn:aws:sts::{ACCT}:assumed-role/app-task/abc is not authorized "
                  f"to perform: secretsmanager:GetSecretValue on resource: {ASM}"], exited(1), "iam-access-denied",
                 id="app-reading-a-secret-at-runtime-is-the-task-role"),
    pytest.param([], failed_to_start("CannotPullContainerError: Error response from daemon: pull access denied for "
                                     "acme/api, repository does not exist or may require 'docker login'"),
                 "image-pull-failed", id="pull-denied-is-not-registry-auth"),
    pytest.param([], failed_to_start("ResourceInitializationError: failed to validate logger args: create stream has "
                                     "been retried 1 times: failed to create Cloudwatch log stream: "
                                     "ResourceNotFoundException: The specified log group does not exist. : exit "
                                     "status 1"), "log-driver-failed", id="resource-initialization-for-logs"),
]


@pytest.mark.parametrize(("logs", "detail", "expected"), NEGATIVES)
def test_nearest_neighbour(logs, detail, expected):
    assert run(logs, **detail).pattern == expected
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_a_kms_denial_grants_kms_decrypt_first_not_get_secret_value():
    reason = (PREFIX + f"unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
              f"secret {ASM} from secrets manager: AccessDeniedException: Access to KMS is not allowed status code: 400")
    finding = run([], **failed_to_start(reason))
    assert '"kms:Decrypt"' in finding.remediation[0] and "GetSecretValue" not in finding.remediation[0]
    assert "kms:ViaService" in finding.remediation[0]
    assert "aws kms get-key-policy" in finding.remediation[1]
    assert not [p for ps in problems(finding).values() for p in ps]


def test_near_miss_a_secrets_manager_denial_still_grants_get_secret_value():
    reason = (PREFIX + f"unable to retrieve secret from asm: AccessDeniedException: User: arn:aws:sts::{ACCT}:"
              "assumed-role/ecsTaskExecutionRole/abc is not authorized to perform: secretsmanager:GetSecretValue on "
              f"resource: {ASM} status code: 400")
    finding = run([], **failed_to_start(reason))
    assert "secretsmanager:GetSecretValue" in finding.remediation[0] and "kms:ViaService" not in finding.remediation[0]


@pytest.mark.parametrize(("reason", "json_fault"), [
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secret from asm: service call has been retried 1 time(s): invalid character '\\'' looking "
     "for beginning of value", True),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secret from asm: service call has been retried 1 time(s): unexpected end of JSON input", True),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
     "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf from secrets manager: RequestError: send "
     "request failed caused by: Post \"https://secretsmanager.us-east-1.amazonaws.com/\": dial tcp 10.0.0.1:443: "
     "i/o timeout", False),
])
def test_a_secret_value_that_is_not_json_is_fixed_in_the_secret_not_in_iam_or_the_network(reason, json_fault):
    """A JSON-key reference to a value that does not parse: fix the value or the reference; near miss: a real
    network failure keeps the network advice."""
    from shared.render import steps
    from tests.support.fixcheck import command_problems

    f = run([], **failed_to_start(reason))
    assert f.pattern == ID
    first = f.remediation[0]
    assert ("JSON" in first and "not a permission or network fault" in first) == json_fault, first
    assert ("VPC endpoint" in " ".join(f.remediation) or "NAT" in " ".join(f.remediation)) == (not json_fault)
    assert all(command_problems(c) == [] for s in f.remediation for c in steps.commands(s))
    assert not any(steps.placeholders(s) for s in f.remediation)


@pytest.mark.parametrize(("tail", "kms"), [
    ("AccessDeniedException: Access to KMS is not allowed status code: 400", True),
    ("AccessDeniedException: The ciphertext refers to a customer master key that does not exist, does not exist in "
     "this region, or you are not allowed to access. (Service: AWSKMS; Status Code: 400)", True),
    ("AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/abc is not authorized to perform: "
     "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf "
     "because no identity-based policy allows the secretsmanager:GetSecretValue action status code: 400", False),
])
def test_a_kms_refusal_grants_kms_decrypt_first_not_get_secret_value(tail, kms):
    """"Access to KMS is not allowed": the role reached Secrets Manager, the key refused: kms:Decrypt first;
    near miss: a GetSecretValue denial grants GetSecretValue."""
    from shared.render import steps
    from tests.support.fixcheck import policy_problems

    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
              "secret arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf from secrets manager: " + tail)
    f = run([], **failed_to_start(reason))
    docs = steps.policies(f.remediation[0])
    assert docs and all(policy_problems(d) == [] for d in docs)
    action = docs[0]["Statement"][0]["Action"]
    assert (action == ["kms:Decrypt"]) == kms and (action == ["secretsmanager:GetSecretValue"]) == (not kms), action


@pytest.mark.parametrize(("cut", "first"), [(True, "describe-tasks"), (False, "EXECUTION role")])
def test_a_reason_cut_before_its_cause_is_read_whole_first(cut, first):
    reason = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
              "failed: unable to retrieve secrets from ssm: service call has been retried 1 time" + ("..." if cut else
                                                                                                       "(s): signal: killed"))
    f = run([], **failed_to_start(reason))
    assert f.pattern == ID and first in f.remediation[0], f.remediation[0]


def test_the_newer_registry_auth_wording_asks_for_the_ecr_endpoints_not_secrets_manager():
    text = ("ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry "
            "auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. RequestError: send "
            "request failed caused by: Post \"https://api.ecr.eu-west-1.amazonaws.com/\": dial tcp 10.1.2.3:443: "
            "i/o timeout")
    got = run([], **failed_to_start(text))
    assert got.pattern == ID and got.facts.get("kind") == "ecr registry auth"
    assert "ecr.api" in got.remediation[0] and "secretsmanager" not in got.remediation[0]
    assert "secret" not in got.summary.lower()
    # Near miss: a Secrets Manager fetch timing out in the same wording family keeps the secretsmanager endpoint.
    asm = run([], **failed_to_start(PREFIX + f"unable to retrieve secret from asm: failed to fetch secret {ASM}: "
                                    "RequestError: send request failed caused by: dial tcp 10.1.2.3:443: i/o timeout"))
    assert asm.pattern == ID and "secretsmanager" in " ".join(asm.remediation)


def test_a_pasted_reason_that_shortened_the_agent_prefix_is_still_a_secrets_failure():
    # Reporters shorten "unable to pull secrets or registry auth: execution resource retrieval failed: ..." to
    # "unable to pull secrets ...", and some drop the colon after "perform".
    finding = run([], **failed_to_start(
        "ResourceInitializationError: unable to pull secrets ... AccessDeniedException: role orders-exec is not "
        "authorized to perform ssm:GetParameters on resource: arn:aws:ssm:us-east-1:111122223333:parameter/prod/key"))
    assert_finding(finding, ID, {"cause": "access-denied", "action": "ssm:GetParameters"})
    assert "ssm:GetParameters" in "\n".join(finding.remediation)


def test_near_miss_an_app_that_could_not_pull_its_own_secrets_is_not_the_agents_fetch():
    # The same words in the application's log (a Vault client at run time) are not ECS's fetch before start.
    logs = ["Error: unable to pull secrets from vault: permission denied"]
    detail = exited(1)
    assert run(logs, **detail).pattern != ID
    assert PATTERN.match(evidence(logs, **detail)) is None


def test_a_secret_name_cut_short_is_granted_with_a_wildcard_after_it_not_every_secret():
    finding = run([], **failed_to_start(
        "ResourceInitializationError: unable to pull secrets ... AccessDeniedException: role orders-exec is not "
        "authorized to perform secretsmanager:GetSecretValue on ...:secret:orders-db-password-..."))
    assert_finding(finding, ID, {"secret": "orders-db-password", "secret_truncated": True})
    text = "\n".join(finding.remediation)
    assert ":secret:orders-db-password*" in text and ":secret:*" not in text
    assert "cut the secret's name short" in text
    assert not any(problems(finding).values())


def test_near_miss_a_whole_secret_name_keeps_the_six_character_suffix():
    finding = run([], **failed_to_start(
        PREFIX + "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/exec/abc is not authorized to "
        "perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:"
        "orders-db-password"))
    text = "\n".join(finding.remediation)
    assert ":secret:orders-db-password-??????" in text and "secret_truncated" not in finding.facts
