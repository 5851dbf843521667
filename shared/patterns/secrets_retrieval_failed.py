"""secrets-retrieval-failed: secrets or registry auth could not be fetched when the task started.

Signals: "ResourceInitializationError: unable to pull secrets or registry auth"; "unable to
retrieve secret(s) from asm/ssm"; "failed to fetch secret"; "unable to retrieve ecr registry auth";
"failed to download env files". Facts: secret (ARN or name), cause (access-denied / network /
not-found), principal/action when the message names them. This happens before the application
runs, so the EXECUTION role (not the task role) is the one that needs permissions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from shared.evidence.model import Evidence
from shared.patterns.base import (
    PLACEHOLDER,
    Explanation,
    Facts,
    Match,
    Need,
    Pattern,
    Stage,
    container_for_reason,
    find_in_reasons,
    reason_proof,
)

_SIGNAL = re.compile(
    r"unable to pull secrets or registry auth|unable to retrieve secrets? from (?:asm|ssm)"
    r"|failed to fetch secret|execution resource retrieval failed|unable to retrieve ecr registry auth"
    r"|failed to (?:download|retrieve) env(?:ironment)? files?|unable to get secret|fetching secret data",
    re.IGNORECASE,
)
_SECRET_ARN = re.compile(
    r"arn:aws[\w-]*:(?:secretsmanager|ssm):(?:[\w-]*|" + PLACEHOLDER + r"):(?:[\d*Xx]*|" + PLACEHOLDER + r"):"
    r"(?:secret:[^\s,;'\")]+|parameter/?[^\s,;'\")]+)"
)
_CUT_ARN = re.compile(r"(arn:aws[\w-]*:(?:secretsmanager|ssm):[\w-]+:\d{12})(?::[^\s,;'\")]*)?(?:\.{3}|…)")
_S3_ARN = re.compile(r"arn:aws[\w-]*:s3:::[^\s,;'\")]+")
_SSM_NAMES = re.compile(r"invalid (?:ssm )?parameters?:?\s*\[?([/\w.,\s-]+?)\]?(?:\s*status|$|,)", re.IGNORECASE)
_PRINCIPAL = re.compile(r"User: (arn:aws[\w-]*:(?:sts|iam)::(?:[\d*Xx]{3,12}|" + PLACEHOLDER + r"):[^\s]+) is not authorized")
_ACTION = re.compile(r"not authorized to perform: ([\w-]+:\w+)")
_NETWORK = ("i/o timeout", "deadline exceeded", "timed out", "requesterror", "send request failed",
            "dial tcp", "no such host", "requestcanceled", "connection reset", "tls handshake timeout")


def _cause(text: str) -> str | None:
    low = text.lower()
    if "accessdenied" in low or "not authorized" in low or "access denied" in low or ("kms" in low and "denied" in low):
        return "access-denied"
    if any(w in low for w in _NETWORK):
        return "network"
    if any(w in low for w in ("resourcenotfound", "can't find the specified secret", "parameternotfound",
                              "invalidparameters", "invalid parameters", "invalid ssm parameters", "does not exist",
                              "not found", "did not contain json key")):
        return "not-found"
    return None


class SecretsRetrievalFailedFacts(Facts):
    """The facts of secrets-retrieval-failed."""

    action: str | None = Field(None, description="The denied action, when denied.")
    cause: str | None = Field(None, description="access-denied, not-found, network, kms, ...")
    kind: str | None = Field(None, description="secretsmanager or ssm.")
    principal: str | None = Field(None, description="The principal.")
    secret: str | None = Field(None, description="The secret or parameter.")
    secret_truncated: bool | None = Field(None, description="ECS cut the secret's name in the message.")


class SecretsRetrievalFailed(Pattern):
    id = "secrets-retrieval-failed"
    explained_by = ("secrets", "executionRoleArn")
    priority = 180
    severity = "critical"
    Facts = SecretsRetrievalFailedFacts
    key_facts = ("secret", "cause")
    needs = frozenset({"network"})

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a network failure."""
        return self.needs if facts.get("cause") == "network" else frozenset()

    def match(self, ev: Evidence) -> Match | None:
        hit = find_in_reasons(ev, _SIGNAL)
        if not hit:
            return None
        source, text, _ = hit
        container = container_for_reason(ev, source)
        facts: dict = {"container": container, "cause": _cause(text)}
        low = text.lower()
        arn = _SECRET_ARN.search(text)
        cut = None if arn else _CUT_ARN.search(text)
        if arn:
            facts["secret"] = arn.group(0).rstrip(".,:")
        elif cut:
            facts["secret"] = cut.group(1)  # the console cut the ARN short ("arn:...:788375279931...")
            facts["secret_truncated"] = True
        elif "env file" in low or "envfile" in low:
            s3 = _S3_ARN.search(text)
            if s3:
                facts["secret"] = s3.group(0).rstrip(".,:")
        else:
            names = _SSM_NAMES.search(text)
            if names and names.group(1).strip():
                facts["secret"] = names.group(1).strip()
        if re.search(r"\becr\b.{0,20}(?:registry )?auth|retrieve ecr|ecr:GetAuthorizationToken", text, re.I) \
                and "secret" not in facts:
            facts["kind"] = "ecr registry auth"
        elif "env file" in low:
            facts["kind"] = "environment file"
        elif "ssm" in low:
            facts["kind"] = "ssm parameter"
        elif "asm" in low or "secrets manager" in low or "secretsmanager" in low:
            facts["kind"] = "secrets manager secret"
        principal = _PRINCIPAL.search(text)
        if principal:
            facts["principal"] = principal.group(1).rstrip(".,")
        action = _ACTION.search(text)
        if action:
            facts["action"] = action.group(1)
        return Match(facts={k: v for k, v in facts.items() if v is not None},
                     proofs=(reason_proof(source, text),), confidence=0.95, stage=Stage.PLATFORM,
                     container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        secret = f.get("secret")
        cause = f.get("cause")
        region = ev.event.region or "<region>"
        kind = f.get("kind", "secret")
        role = ev.task_definition.execution_role_arn if ev.task_definition else None
        role_txt = f"the task EXECUTION role{f' (`{role}`)' if role else ''}"
        steps: list[str] = []
        if f.get("secret_truncated"):
            family = ev.task_definition_name
            steps.append(f"The message cut the secret's ARN short (`{secret}...`): list the secrets of the task "
                         f"definition to find it: `aws ecs describe-task-definition --task-definition {family} "
                         "--query 'taskDefinition.containerDefinitions[].secrets'`.")
        if cause == "access-denied":
            action = f.get("action") or ("ssm:GetParameters" if kind == "ssm parameter" else
                                         "ecr:GetAuthorizationToken" if kind == "ecr registry auth" else
                                         "s3:GetObject" if kind == "environment file" else
                                         "secretsmanager:GetSecretValue")
            resource = secret or "*"
            if secret and ":secret:" in secret and not re.search(r"-[A-Za-z0-9]{6}$", secret):
                # A name-only or partial ARN: Secrets Manager appends "-" and 6 random characters.
                resource = secret + "-??????"
            stmt = {"Effect": "Allow", "Action": [action], "Resource": resource}
            steps.append(f"Add this statement to {role_txt}, which ECS uses to fetch secrets before the "
                         f"container starts: ```{json.dumps(stmt)}```")
            steps.append("If the secret or parameter is encrypted with a customer managed KMS key, also allow "
                         "`kms:Decrypt` on that key for the same role.")
            if secret and resource != secret:
                steps.append(f"`{secret}` is not a complete secret ARN (no 6-character suffix), so a policy "
                             "naming the full ARN does not match it: use the wildcard above or the full ARN.")
        elif cause == "network":
            endpoint = {"ssm parameter": "ssm", "ecr registry auth": "ecr.api"}.get(kind, "secretsmanager")
            steps.append("The task's subnets cannot reach the service: give them a route to a NAT gateway "
                         f"(or assignPublicIp with an internet gateway), or add the interface VPC endpoint "
                         f"`com.amazonaws.{region}.{endpoint}` with a security group admitting 443 from the task.")
            steps.append("For images in ECR also add `ecr.api`, `ecr.dkr` and the S3 gateway endpoint.")
        elif cause == "not-found":
            steps.append(f"Check that {('`' + secret + '`') if secret else 'the secret'} exists in {region} and is "
                         "spelled exactly as in the task definition's `secrets[].valueFrom`: "
                         f"`aws secretsmanager describe-secret --secret-id {secret or '<id>'}` or "
                         "`aws ssm get-parameters --names <name>`.")
        else:
            steps.append(f"Check {role_txt} can read every `secrets[].valueFrom` of the task definition "
                         "(secretsmanager:GetSecretValue / ssm:GetParameters, kms:Decrypt), and that the task's "
                         "subnets can reach Secrets Manager/SSM (NAT or VPC endpoints).")
            steps.append("`signal: killed` or a bare failure usually means the fetch timed out: check the network "
                         "path first, then retry the deployment.")
        steps.append("Register the fixed task definition or role and force a new deployment: "
                     "`aws ecs update-service --cluster <cluster> --service <service> --force-new-deployment`.")
        what = f" `{secret}`" if secret else ""
        return Explanation(
            title=f"Could not fetch {kind}{what} at start" + (f" ({cause})" if cause else ""),
            summary=(f"ECS could not retrieve the {kind}{what} the task definition references, so the "
                     "container never started" + (f": {cause.replace('-', ' ')}." if cause else ".")),
            remediation=steps,
        )


PATTERN = SecretsRetrievalFailed()
