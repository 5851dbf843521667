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

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    PLACEHOLDER,
    Cause,
    Explanation,
    Facts,
    Match,
    Need,
    ReasonPattern,
    find_in_reasons,
    words,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(
    # "unable to pull secrets" alone: a paste that shortened the agent's "... or registry auth: ..." prefix
    r"unable to pull secrets(?: or registry auth)?\b|unable to retrieve secrets? from (?:asm|ssm)"
    r"|failed to fetch secret|execution resource retrieval failed|unable to retrieve ecr registry auth"
    r"|failed to (?:download|retrieve) env(?:ironment)? files?|unable to get secret|fetching secret data",
    re.IGNORECASE,
)
_SECRET_ARN = lazy_re(
    r"arn:aws[\w-]*:(?:secretsmanager|ssm):(?:[\w-]*|" + PLACEHOLDER + r"):(?:[\d*Xx]*|" + PLACEHOLDER + r"):"
    r"(?:secret:[^\s,;'\")]+|parameter/?[^\s,;'\")]+)"
)
_CUT_ARN = lazy_re(r"(arn:aws[\w-]*:(?:secretsmanager|ssm):[\w-]+:\d{12})(?::[^\s,;'\")]*)?(?:\.{3}|…)")
# A secret's name after an elided ARN head and before a cut: "...:secret:prod/db-password-..." (a reporter's ellipses)
_CUT_NAME = lazy_re(r"(?:\.{3}|…):secret:([\w/+=.@-]+?)-?(?:\.{3}|…)")
_S3_ARN = lazy_re(r"arn:aws[\w-]*:s3:::[^\s,;'\")]+")
_SSM_NAMES = lazy_re(r"invalid (?:ssm )?parameters?:?\s*\[?([/\w.,\s-]+?)\]?(?:\s*status|$|,)", re.IGNORECASE)
_PRINCIPAL = lazy_re(r"User: (arn:aws[\w-]*:(?:sts|iam)::(?:[\d*Xx]{3,12}|" + PLACEHOLDER + r"):[^\s]+) is not authorized")
_ACTION = lazy_re(r"not authorized to perform:? ([\w-]+:\w+)")  # the colon is missing in some pastes
_NETWORK = ("i/o timeout", "deadline exceeded", "timed out", "requesterror", "send request failed",
            "dial tcp", "no such host", "requestcanceled", "connection reset", "tls handshake timeout")


# Why the read failed, first row that matches: denied (IAM or the KMS key), the network path, a missing
# secret, parameter or JSON key.
_CAUSES = (
    # (\A: with DOTALL the lookaheads hold at the start whenever they hold anywhere; unanchored, each position
    # re-read the rest of the text, seconds on a 16 KB line)
    Cause("access-denied", lazy_re(r"accessdenied|not authorized|access denied|\A(?=.*kms)(?=.*denied)",
                                      re.IGNORECASE | re.DOTALL)),
    Cause("network", words(*_NETWORK)),
    Cause("not-found", words("resourcenotfound", "can't find the specified secret", "parameternotfound",
                              "invalidparameters", "invalid parameters", "invalid ssm parameters", "does not exist",
                              "not found", "did not contain json key")),
)


_KMS_DENIED = lazy_re(r"access to kms is not allowed|kms:decrypt|\bkms\b.{0,80}(?:denied|not authorized|not allowed)"
                         r"|(?:denied|not authorized|not allowed).{0,80}\bkms\b|KMS\.\w*(?:AccessDenied|Disabled|"
                         r"InvalidState)|KMSAccessDenied|Service: AWSKMS|ciphertext refers to a customer master key", re.IGNORECASE)
_JSON_KEY = lazy_re(r"(?:secret\s+(?P<arn>arn:\S+?)[:,]?\s.{0,80}?)?did not contain json key\s+(?P<key>[\w.-]+)",
                    re.IGNORECASE | re.DOTALL)
_KMS_KEY = lazy_re(r"arn:aws[\w-]*:kms:[\w-]+:\d{12}:(?:key|alias)/[\w/-]+")


def _kms_denied(m: Match, f: Mapping[str, Any]) -> bool:
    """The denial is KMS's, not Secrets Manager's or SSM's: the role reached the secret but may not decrypt
    it with its customer managed key ("Access to KMS is not allowed", kms:Decrypt)."""
    text = m.proofs[0].text if m.proofs else ""
    return str(f.get("action") or "").lower().startswith("kms:") or bool(_KMS_DENIED.search(text))


def _kms_steps(ev: Evidence, m: Match, ssm: bool, role_txt: str, why: str) -> list[str]:
    """kms:Decrypt on the secret's key for the execution role, and the key policy that must allow it."""
    secret = m.facts.get("secret")
    region = remedy.region(ev) or remedy.REGION_UNKNOWN
    via = "ssm" if ssm else "secretsmanager"
    key = _KMS_KEY.search(m.proofs[0].text if m.proofs else "")
    stmt: dict[str, Any] = remedy.statement(["kms:Decrypt"], [key.group(0) if key else remedy.arn(ev, "kms", "key/*")])
    if not key:  # any key of the account, only when Secrets Manager / SSM asks for it
        stmt["Condition"] = {"StringEquals": {"kms:ViaService": f"{via}.{region}.amazonaws.com"}}
    steps = [f"The role reaches the {'parameter' if ssm else 'secret'} but may not decrypt it with its customer "
             f"managed KMS key: add this statement to {role_txt}: ```{json.dumps(stmt)}```{why}"]
    if secret and not ssm and not remedy.is_s3_arn(secret):
        find = (f"aws secretsmanager describe-secret --secret-id {remedy.q(secret)} --query KmsKeyId --output text")
        steps.append("The key's policy must allow it too (its default statement lets the account's IAM policies "
                     "grant access; otherwise add the execution role as a principal with kms:Decrypt). Read the "
                     f"key and its policy: `aws kms get-key-policy --policy-name default --key-id \"$({find})\"`.")
    else:
        steps.append("The key's policy must allow it too (its default statement lets the account's IAM policies "
                     "grant access; otherwise add the execution role as a principal with kms:Decrypt).")
    return steps


_NOT_JSON = lazy_re(r"invalid character '(?P<char>\\?.|[^']{1,4})' (?:looking for beginning of (?:object key string|value)|"
                       r"after top-level value)|unexpected end of JSON input|cannot unmarshal \w+ into Go value")


# The agent killed its own fetch of the task's secrets and registry auth when it ran out of time ("pull command failed:
# : signal: killed"): no answer came back, which is the network path; a refusal or a missing secret answers at once.
_KILLED = lazy_re(r"signal: killed", re.IGNORECASE)
_REGISTRY_AUTH = lazy_re(r"registry auth", re.IGNORECASE)


def _killed_fetch(m: Match) -> bool:
    """The agent killed its fetch on its timeout ("signal: killed"), unless the SDK said it gave up at once (a
    non-retryable answer, such as a refusal, came first: "retried 1 time(s)")."""
    said = " ".join(p.text for p in m.proofs)
    tries = re.search(r"retried (\d+) time", said, re.IGNORECASE)
    return bool(_KILLED.search(said)) and not (tries and int(tries.group(1)) <= 1)


def _subnets_named(ev: Evidence) -> str:
    """Whose subnets the agent's calls leave from, naming the task's subnet when the event gives it (Fargate)."""
    subnets, _ = remedy.agent_network(ev)
    return f"{subnets} (`{ev.subnet}`)" if remedy.is_fargate(ev) and ev.subnet else subnets


def _killed_network_step(ev: Evidence, said: str) -> str:
    """The network path of a fetch the agent killed on its timeout: a NAT route, or an interface endpoint for each
    service it calls at start (Secrets Manager / SSM for the secrets; for the registry auth of an ECR image the ECR
    API, with ecr.dkr and the S3 gateway endpoint for the layers the pull reads next)."""
    region = remedy.region(ev) or remedy.REGION_UNKNOWN
    _, sender = remedy.agent_network(ev)
    needs = [f"`com.amazonaws.{region}.secretsmanager` or `com.amazonaws.{region}.ssm` for the task definition's "
             "`secrets[].valueFrom` (whichever service they name)"]
    ecr = remedy.ecr_images(ev)
    if _REGISTRY_AUTH.search(said) and ecr:
        needs.insert(0, f"`com.amazonaws.{region}.ecr.api` for the registry auth of `{ecr[0]}`, "
                        f"`com.amazonaws.{region}.ecr.dkr` and the S3 gateway endpoint `com.amazonaws.{region}.s3` "
                        "for its layers")
    if remedy.uses_awslogs(ev):
        needs.append(f"`com.amazonaws.{region}.logs` for awslogs")
    return ("`signal: killed`: the ECS agent's fetch ran out of time and was killed, so no service answered: check "
            "the network path first (a refusal would have been answered at once). "
            f"{_subnets_named(ev)} need a route to a NAT gateway"
            + (" (or assignPublicIp ENABLED in a public subnet)" if remedy.public_ip_allowed(ev) else "")
            + ", or these VPC endpoints, the interface ones with private DNS on and a security group admitting 443 "
            f"from {sender}: " + "; ".join(needs) + ".")


def _env_files(ev: Evidence) -> list[str]:
    """The environment files the task was started with, from its own overrides (S3 ARNs, not their contents)."""
    raw = ev.detail.overrides or {}
    items = raw.get("containerOverrides") if isinstance(raw, dict) else None
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        for f in (item.get("environmentFiles") or []) if isinstance(item, dict) else []:
            if isinstance(f, dict) and isinstance(f.get("value"), str) and f["value"].startswith("arn:aws"):
                out.append(f["value"])
    return out


def _env_file_network_steps(ev: Evidence, m: Match, secret: str | None, role_txt: str, why: str) -> list[str]:
    """An environment file is an S3 object the agent downloads with the execution role: S3's reachability (the S3
    gateway endpoint, or a NAT route) and the role's s3:GetObject / s3:GetBucketLocation, not Secrets Manager."""
    region = remedy.region(ev) or remedy.REGION_UNKNOWN
    files = [secret] if remedy.is_s3_arn(secret) else _env_files(ev)
    named = ", ".join(f"`{f}`" for f in files)
    what = f"the environment file {named}" if len(files) == 1 else (
        f"the environment files {named}" if files else "the task definition's `environmentFiles`")
    objects = [f for f in files if ":::" in f]
    buckets = sorted({remedy.s3_arn(ev, f.split(":::", 1)[1].split("/", 1)[0], like=f) for f in objects})
    stmts = [remedy.statement(["s3:GetObject"], objects or [remedy.s3_arn(ev, "*/*")]),
             remedy.statement(["s3:GetBucketLocation"], buckets or [remedy.s3_arn(ev, "*")])]
    steps = [f"The agent downloads {what} from S3 before the container starts, and the download timed out: "
             f"{_subnets_named(ev)[0].lower()}{_subnets_named(ev)[1:]} need a way to S3 in its bucket's Region: the S3 gateway endpoint "
             f"`com.amazonaws.{region}.s3` on their route tables (an interface endpoint for S3 needs private DNS and "
             "443 in its security group), or a route to a NAT gateway. An endpoint policy or a bucket policy that "
             f"names the VPC endpoint must allow the execution role.{why}"]
    others = remedy.start_endpoints(ev)
    if others:
        steps.append("With VPC endpoints instead of a NAT gateway, the task also needs " + " and ".join(others) + ".")
    # A timeout is no refusal: S3 never answered, so whether the role may read the file is not known yet. The grant
    # is what to check once the download reaches S3, not the fix.
    steps.append("If, once the network path works, the download fails with AccessDenied (403), the role may not read "
                 f"the file: add these statements to {role_txt}, which downloads it: ```{json.dumps(stmts)}``` (a "
                 "bucket encrypted with a customer managed KMS key also needs `kms:Decrypt` on that key).")
    return steps


class SecretsRetrievalFailedFacts(Facts):
    """The facts of secrets-retrieval-failed."""

    action: str | None = Field(None, description="The denied action, when denied.")
    cause: str | None = Field(None, description="access-denied, not-found, network, kms, ...")
    kind: str | None = Field(None, description="secretsmanager or ssm.")
    principal: str | None = Field(None, description="The principal.")
    secret: str | None = Field(None, description="The secret or parameter.")
    secret_truncated: bool | None = Field(None, description="ECS cut the secret's name in the message.")


class SecretsRetrievalFailed(ReasonPattern):
    id = "secrets-retrieval-failed"
    explained_by = ("secrets", "executionRoleArn")
    priority = 180
    severity = "critical"
    Facts = SecretsRetrievalFailedFacts
    key_facts = ("secret", "cause")
    needs = frozenset({"network"})
    signal = _SIGNAL
    causes = _CAUSES
    container_fact = True

    def wants(self, facts: Mapping[str, Any]) -> frozenset[Need]:
        """The network path only explains a network failure."""
        return self.needs if facts.get("cause") == "network" else frozenset()

    def find(self, ev: Evidence) -> tuple[str, str, re.Match[str]] | None:
        return find_in_reasons(ev, self.signal)  # the stop reasons only, never a pasted log line

    def facts(self, text: str, m: re.Match[str], ev: Evidence) -> dict:
        facts: dict = {}
        low = text.lower()
        arn = _SECRET_ARN.search(text)
        cut = None if arn else _CUT_ARN.search(text)
        if arn:
            facts["secret"] = arn.group(0).rstrip(".,:")
        elif cut:
            facts["secret"] = cut.group(1)  # the console cut the ARN short ("arn:...:788375279931...")
            facts["secret_truncated"] = True
        elif (name := _CUT_NAME.search(text)) and name.group(1):
            facts["secret"] = name.group(1)  # the start of the secret's name, cut short
            facts["secret_truncated"] = True
        elif "env file" in low or "envfile" in low:
            s3 = _S3_ARN.search(text)
            if s3:
                facts["secret"] = s3.group(0).rstrip(".,:")
        else:
            names = _SSM_NAMES.search(text)
            if names and names.group(1).strip():
                facts["secret"] = names.group(1).strip()
        if re.search(r"\becr\b.{0,20}(?:registry )?auth|retrieve ecr|ecr:GetAuthorizationToken|"
                     r"registry auth from (?:Amazon )?ECR\b", text, re.I) \
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
        return facts

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        f = m.facts
        secret = f.get("secret")
        cause = f.get("cause")
        region = remedy.region(ev) or remedy.REGION_UNKNOWN
        kind = f.get("kind", "secret")
        role = ev.task_definition.execution_role_arn if ev.task_definition else None
        role_txt = f"the task EXECUTION role{f' (`{role}`)' if role else ''}"
        why = remedy.cite(m)
        ssm = kind == "ssm parameter" or bool(secret and ":ssm:" in secret)
        steps: list[str] = []
        # "invalid character '\\'' looking for beginning of value": the JSON-key lookup parsed a value that is not JSON
        bad_json = None if cause else next(
            (j for p in m.proofs if (j := _NOT_JSON.search(p.text))), None)
        if f.get("secret_truncated"):
            cut_what = "ARN" if str(secret).startswith("arn:") else "name"
            steps.append(f"The message cut the secret's {cut_what} short (`{secret}...`): list the secrets of the task "
                         "definition to find it: "
                         f"`{remedy.describe_task_definition(ev, 'taskDefinition.containerDefinitions[].secrets')}`.")
        if cause == "access-denied" and _kms_denied(m, f):
            steps += _kms_steps(ev, m, ssm, role_txt, why)
        elif cause == "access-denied":
            action = f.get("action") or ("ssm:GetParameters" if ssm else
                                         "ecr:GetAuthorizationToken" if kind == "ecr registry auth" else
                                         "s3:GetObject" if kind == "environment file" else
                                         "secretsmanager:GetSecretValue")
            service = action.split(":", 1)[0].lower()
            if service == "ecr":
                resource = "*"  # GetAuthorizationToken takes no resource
            elif service == "ssm":
                resource = remedy.ssm_parameter_arn(ev, secret) if secret else remedy.arn(ev, "ssm", "parameter/*")
            elif service == "s3":
                resource = (remedy.s3_arn(ev, secret.split(":::", 1)[-1], like=secret)
                            if secret and remedy.is_s3_arn(secret) else remedy.s3_arn(ev, "*/*"))
            elif secret and f.get("secret_truncated") and not secret.startswith("arn:"):
                resource = remedy.arn(ev, "secretsmanager", f"secret:{secret}*")  # a cut name: whatever follows it
            else:
                resource = remedy.secret_arn(ev, secret) if secret else remedy.arn(ev, "secretsmanager", "secret:*")
            stmt = remedy.statement([action], [resource])
            narrow = ("" if secret or resource == "*" else
                      " The message names no secret, so the statement covers every one of the account and region: "
                      "narrow it to the `secrets[].valueFrom` (or `environmentFiles`) of the task definition: "
                      f"`{remedy.describe_task_definition(ev, 'taskDefinition.containerDefinitions[].[secrets[].valueFrom, environmentFiles[].value]')}`.")
            steps.append(f"Add this statement to {role_txt}, which ECS uses to fetch secrets before the "
                         f"container starts: ```{json.dumps(stmt)}```{why}{narrow}")
            if remedy.mentions_kms(ev, m):  # a GetSecretValue/GetParameters denial alone says nothing about a key
                steps.append("The evidence names KMS: if the secret or parameter is encrypted with a customer managed "
                             "KMS key, also allow `kms:Decrypt` on that key for the same role.")
            if secret and service == "secretsmanager" and not re.search(r"-[A-Za-z0-9]{6}$", secret):
                steps.append(f"`{secret}` is not a complete secret ARN (no 6-character suffix), so a policy "
                             "naming it exactly does not match the secret: keep the `-??????` above or use the full ARN.")
        elif cause == "network" and remedy.endpoint_unreachable_step(ev, m.proofs[0].text if m.proofs else ""):
            steps.append(f"{remedy.endpoint_unreachable_step(ev, m.proofs[0].text)}{why}")
        elif kind == "environment file" and (cause == "network" or (not cause and _killed_fetch(m))):
            # A download that timed out (or that the agent killed on its timeout): the way to S3 first.
            steps += _env_file_network_steps(ev, m, secret, role_txt, why)
        elif cause == "network":
            endpoint = "ssm" if ssm else {"ecr registry auth": "ecr.api"}.get(kind, "secretsmanager")
            subnets, sender = remedy.agent_network(ev)
            steps.append(f"{subnets} cannot reach the service: give them a route to a NAT gateway"
                         + (" (or assignPublicIp with an internet gateway)" if remedy.public_ip_allowed(ev) else "")
                         + ", or add the interface VPC endpoint "
                         f"`com.amazonaws.{region}.{endpoint}` with a security group admitting 443 from {sender}.{why}")
            if kind == "ecr registry auth" and remedy.ecr_images(ev):
                steps.append("For images in ECR also add `ecr.dkr` and the S3 gateway endpoint.")
            else:
                # Endpoints instead of NAT: what else the task reaches at start needs one too; name only what the
                # evidence shows it uses (an ECR image, the awslogs driver).
                others = remedy.start_endpoints(ev)
                if others:
                    steps.append("With VPC endpoints instead of a NAT gateway, the task also needs "
                                 + " and ".join(others) + ".")
        elif cause == "not-found" and (key := _JSON_KEY.search(ev.reason_text)):
            # The secret was fetched: only the key named after its ARN in valueFrom is missing from its JSON.
            ref = secret or key.group("arn")
            sid = ref.split(":" + key.group("key") + ":", 1)[0] if ref else None
            keys = (f"aws secretsmanager get-secret-value --secret-id {remedy.q(sid)} --query SecretString --output "
                    "text | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))'") if sid else None
            steps.append(f"ECS fetched the secret{f' `{sid}`' if sid else ''}, but its JSON value has no key "
                         f"`{key.group('key')}`: add `{key.group('key')}` to the secret's JSON, or change the "
                         f"`:{key.group('key')}::` part of the task definition's `secrets[].valueFrom` to a key it has"
                         + (f" (`{keys}` lists them)" if keys else
                            " (`" + remedy.describe_task_definition(
                                ev, f"taskDefinition.containerDefinitions[].secrets[?contains(valueFrom, ':{key.group('key')}:')].valueFrom[]")
                            + "` shows which secret it refers to)")
                         + f". The secret exists and was read: this is not a permission, network or secret-name "
                         f"fault.{why}")
        elif cause == "not-found":
            if not secret:
                check = remedy.describe_task_definition(ev, "taskDefinition.containerDefinitions[].secrets[].valueFrom")
            elif ssm:
                name = secret.split(":parameter", 1)[-1] if secret.startswith("arn:") else secret
                check = f"aws ssm get-parameters --names {remedy.q(name)}"
            else:
                check = f"aws secretsmanager describe-secret --secret-id {remedy.q(secret)}"
            steps.append(f"Check that {('`' + secret + '`') if secret else 'the secret'} exists in {region} and is "
                         f"spelled exactly as in the task definition's `secrets[].valueFrom`: `{check}`.{why}")
        elif bad_json:
            char = bad_json.group("char").replace("\\'", "'").replace("\\\\", "\\") if bad_json.group("char") else None
            steps.append("ECS fetched the secret but could not parse its value as JSON: a `secrets[].valueFrom` "
                         "names a JSON key (`arn:...:secret:NAME:KEY::`), and that secret's value is not a JSON object"
                         + (f" (it begins with `{char}`" + ("; JSON needs double quotes, so a value stored with "
                            "single quotes, e.g. by quoting `--secret-string` twice, fails" if char == "'" else "")
                            + ")" if char else "")
                         + ". Store the value as a JSON object (`{\"KEY\": \"value\"}`), or reference the whole "
                         f"secret without the `:KEY::` suffix. This is not a permission or network fault.{why}")
            # valueFrom arn:...:secret:NAME-AbCdEf:KEY:STAGE:ID -> the secret's ARN: drop the last three fields
            query = ("taskDefinition.containerDefinitions[].secrets[?contains(valueFrom, ':secretsmanager:')]"
                     ".valueFrom[]")
            steps.append("Find the secret whose value does not parse: ```\n"
                         f"for ref in $({remedy.describe_task_definition(ev, query)} --output text); do\n"
                         '  aws secretsmanager get-secret-value --secret-id "${ref%:*:*:*}" --query SecretString '
                         '--output text | python3 -m json.tool >/dev/null || echo "$ref: not a JSON object"\n'
                         "done\n```")
        elif kind == "ecr registry auth":
            # ECR's login token, not a secret: the execution role's ecr:GetAuthorizationToken and a way to the ECR
            # API. The SDK retries a timeout; one try means a non-retryable answer (a denial) instead.
            said = " ".join(p.text for p in m.proofs)
            tries = re.search(r"retried (\d+) time", said, re.IGNORECASE)
            denial_first = bool(tries and int(tries.group(1)) <= 1)
            subnets, sender = remedy.agent_network(ev)
            route = (f"{subnets} need a way to the ECR API: a route to a NAT gateway"
                     + (" (or assignPublicIp ENABLED in a public subnet)" if remedy.public_ip_allowed(ev) else "")
                     + f", or the interface VPC endpoints `com.amazonaws.{region}.ecr.api` and "
                     f"`com.amazonaws.{region}.ecr.dkr` (security group admitting 443 from {sender}) plus the S3 "
                     "gateway endpoint for the layers")
            grant = (f"{role_txt} has `ecr:GetAuthorizationToken` (on `*`; the managed policy "
                     "`AmazonECSTaskExecutionRolePolicy` has it, with ecr:BatchGetImage and ecr:GetDownloadUrlForLayer)")
            head = "ECS could not get an ECR login token for the image (registry auth, not a secret)"
            if denial_first:
                steps.append(f"{head}, and the call was not retried, which points at a refusal: check that {grant}. "
                             f"Then: {route}.{why}")
            else:
                steps.append(f"{head}, and the call was retried, which points at the network: {route}. Then check "
                             f"that {grant}.{why}")
        else:
            if any(remedy.cut_by_ecs(p.text) for p in m.proofs):
                # ECS itself cut the reason at its length limit: describe-tasks has no more of it.
                steps.append("ECS cut the stop reason at its length limit before its cause, and describe-tasks "
                             "returns the same cut text; CloudTrail's events for the execution role's "
                             "GetSecretValue/GetParameters calls at the task's start show the errorCode "
                             "(AccessDenied, a missing parameter or secret, a KMS refusal); no such event at all "
                             f"means the call never arrived: the network path.{why}")
                why = ""
            elif any(p.text.rstrip().endswith(("...", "…")) for p in m.proofs):
                # The console / a tool cut the reason before its cause: ECS keeps the whole one about an hour.
                steps.append("The stop reason is cut off before its cause; read the whole one (ECS keeps a stopped "
                             f"task about an hour): `{remedy.describe_task(ev)} --query 'tasks[0].stoppedReason'`. "
                             "It ends with the cause: AccessDenied (the role, below), a timeout (the network "
                             f"path) or a missing parameter or secret.{why}")
                why = ""
            said = " ".join(p.text for p in m.proofs)
            tries = re.search(r"retried (\d+) time", said, re.IGNORECASE)
            killed = _killed_fetch(m)
            if killed:
                steps.append(_killed_network_step(ev, said) + why)
                steps.append(f"Then check {role_txt} can read every `secrets[].valueFrom` of the task definition "
                             "(secretsmanager:GetSecretValue / ssm:GetParameters, kms:Decrypt)"
                             + (" and pull the image (ecr:GetAuthorizationToken, ecr:BatchGetImage, "
                                "ecr:GetDownloadUrlForLayer; the managed policy `AmazonECSTaskExecutionRolePolicy` "
                                "has them)" if _REGISTRY_AUTH.search(said) and remedy.ecr_images(ev) else "")
                             + ": a refusal is answered at once, so it is the less likely reading of a killed fetch.")
            else:
                steps.append(f"Check {role_txt} can read every `secrets[].valueFrom` of the task definition "
                             "(secretsmanager:GetSecretValue / ssm:GetParameters, kms:Decrypt), and that the task's "
                             f"subnets can reach Secrets Manager/SSM (NAT or VPC endpoints).{why}")
            if killed:
                pass
            elif tries and int(tries.group(1)) <= 1:
                # The SDK retries timeouts and throttling (up to 5 times); one try means it gave up at once: a
                # non-retryable answer such as AccessDenied, a missing parameter/secret or a KMS refusal.
                steps.append(f"\"retried {tries.group(1)} time(s)\" means the fetch was not retried: AWS answered "
                             "with a non-retryable error (AccessDenied, a parameter or secret that does not exist, a "
                             "KMS refusal), not a timeout. Check the names in `valueFrom` exist in this region and "
                             "account, and the role's permissions above, before the network path.")
            else:
                steps.append("`signal: killed` or a bare failure usually means the fetch timed out: check the "
                             "network path first, then start the task again (below).")
        # A fix may change the task definition (valueFrom, the execution role ARN): start the latest revision.
        fetched = "the environment files" if kind == "environment file" else "the secrets"
        if remedy.launcher(ev) == "service":
            steps.append(f"Then start fresh tasks (they fetch {fetched} again at start), on the latest revision if "
                         f"the fix changed the task definition: {remedy.roll_out_any(ev)}.")
        else:
            # A re-test of a fetch over the network: the copy must leave from the task's own network (its security
            # groups, which a stopped one-off task's event does not name) and fetch what it fetched.
            net = (f" ({remedy.same_network(ev)})" if (cause == "network" or _KILLED.search(ev.reason_text))
                   and remedy.network_mode(ev) == "awsvpc" else "")
            steps.append(f"Then start fresh tasks (they fetch {fetched} again at start): {remedy.rerun(ev)}{net}.")
        what = f" `{secret}`" if secret else ""
        if kind == "ecr registry auth":
            # The image's pull credentials (ECR GetAuthorizationToken), not a secret the task definition names.
            return Explanation(
                title="Could not get ECR registry auth at start" + (f" ({cause})" if cause else ""),
                summary=("ECS could not get the ECR authorization token needed to pull the task's image, so the "
                         "container never started" + (f": {cause.replace('-', ' ')}." if cause else ".")),
                remediation=[s.replace("fetch the secrets again", "fetch the registry auth again") for s in steps],
            )
        return Explanation(
            title=f"Could not fetch {kind}{what} at start" + (f" ({cause})" if cause else ""),
            summary=(f"ECS could not retrieve the {kind}{what} the task definition references, so the "
                     "container never started" + (f": {cause.replace('-', ' ')}." if cause else ".")),
            remediation=steps,
        )


PATTERN = SecretsRetrievalFailed()
