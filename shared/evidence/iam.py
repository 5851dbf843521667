"""IAM: confirm an AccessDenied with SimulatePrincipalPolicy against the role named in the message.

The message names an assumed-role session (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION); the
simulation needs the role's IAM ARN, path included, which the task definition has when it is the
task role or the execution role. Otherwise the ARN is rebuilt without a path.
"""

from __future__ import annotations

from typing import Any

from shared.evidence.model import IamCheck, TaskDefinitionFacts
from shared.scan import lazy_re

_ASSUMED = lazy_re(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/(.+)$")
_ROLE = lazy_re(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_INSTANCE_SESSION = lazy_re(r"i-[0-9a-f]{8,17}")


def role_of(principal: str, td: TaskDefinitionFacts | None) -> tuple[str | None, str]:
    """(IAM role ARN to simulate, kind: task role / execution role / instance role / unknown)."""
    m = _ASSUMED.match(principal.strip())
    if m:
        partition, account, name, session = m.groups()
    else:
        r = _ROLE.match(principal.strip())
        if not r:
            return None, "unknown"
        partition, account, name = r.groups()
        session = ""
    if td is not None:
        for arn, kind in ((td.task_role_arn, "task role"), (td.execution_role_arn, "execution role")):
            if arn and (arn.endswith(f"/{name}") or arn.endswith(f":role/{name}")):
                return arn, kind
    kind = "instance role" if _INSTANCE_SESSION.fullmatch(session) else "unknown"
    if m is None:
        return principal.strip(), kind
    return f"arn:{partition}:iam::{account}:role/{name}", kind


def fetch(client: Any, principal: str, action: str, resource: str | None,
          td: TaskDefinitionFacts | None = None) -> IamCheck:
    role_arn, kind = role_of(principal, td)
    if role_arn is None:
        from shared.evidence.errors import Gap

        raise Gap(f"IAM simulation: {principal} is not a role, nothing to simulate.")
    kwargs: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": [action]}
    if resource and resource.startswith("arn:"):
        kwargs["ResourceArns"] = [resource]
    resp = client.simulate_principal_policy(**kwargs)
    results = resp.get("EvaluationResults") or []
    if not results:
        return IamCheck(principal=principal, role_arn=role_arn, role_kind=kind, action=action, resource=resource,
                        decision=None, detail="the simulation returned no result")
    r = results[0]
    decision = r.get("EvalDecision")
    return IamCheck(principal=principal, role_arn=role_arn, role_kind=kind, action=action, resource=resource,
                    decision=decision, detail=_detail(r))


def _detail(result: dict) -> str | None:
    parts: list[str] = []
    matched = [s.get("SourcePolicyId") for s in result.get("MatchedStatements") or [] if s.get("SourcePolicyId")]
    if matched:
        parts.append(f"matched {', '.join(dict.fromkeys(matched))}")
    elif result.get("EvalDecision") == "implicitDeny":
        parts.append("no statement of the role's policies allows it")
    missing = result.get("MissingContextValues") or []
    if missing:
        parts.append(f"context not simulated: {', '.join(missing)}")
    boundary = result.get("PermissionsBoundaryDecisionDetail") or {}
    if boundary.get("AllowedByPermissionsBoundary") is False:
        parts.append("denied by the permissions boundary")
    org = result.get("OrganizationsDecisionDetail") or {}
    if org.get("AllowedByOrganizations") is False:
        parts.append("denied by an organizations SCP")
    return "; ".join(parts) or None
