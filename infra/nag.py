"""cdk-nag (3.x, Validations API): the rule pack and every acknowledgement, each with its reason.

Acknowledgements are attached by the constructs to the exact resource they concern, so an app that
imports the construct inherits them. IAM5 (wildcard) findings are acknowledged per finding
(`AwsSolutions-IAM5[Resource::...]`), with the reason the grant gives for its wildcard.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import Construct, IConstruct

from infra.grants import Grant

# Reasons for rules acknowledged on whole resources, by rule id.
REASONS = {
    "AwsSolutions-L1": (
        "Python 3.12 is pinned on purpose: the bundled compiled wheels (pydantic-core, ahocorasick-rs) are built "
        "for CPython 3.12 manylinux aarch64 and the code is tested on it; a runtime bump is a reviewed change."
    ),
    "AwsSolutions-SQS3": (
        "This queue is itself a dead-letter queue (EventBridge rule target DLQ or Lambda on-failure destination); "
        "a DLQ of a DLQ adds nothing, and its depth is alarmed."
    ),
    "AwsSolutions-DDB3": (
        "The table only holds idempotency keys and noise-control counters that expire (TTL) within the noise "
        "window; there is nothing worth restoring, so point-in-time recovery would be cost without value."
    ),
}


def acknowledge(construct: IConstruct, rule_id: str, reason: str | None = None) -> None:
    reason = reason or REASONS[rule_id]
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _render(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in a finding id (<Ref>, <Res.Attr>)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>" if isinstance(arg, list) else f"<{arg}>"
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(_render(p) for p in parts)
    return json.dumps(value, sort_keys=True)


def wildcard_resource_ids(scope: Construct, grants: Iterable[Grant]) -> dict[str, str]:
    """cdk-nag IAM5 finding id -> reason, for every wildcard resource of the grants."""
    stack = Stack.of(scope)
    out: dict[str, str] = {}
    for g in grants:
        for resource in g.resources:
            rendered = _render(stack.resolve(resource))
            if "*" not in rendered:
                continue
            if not g.wildcard_reason:
                raise ValueError(f"grant {g.sid} has a wildcard resource {rendered!r} but no reason")
            finding = f"AwsSolutions-IAM5[Resource::{rendered}]"
            reason = f"{g.sid} ({', '.join(g.actions)}): {g.wildcard_reason}"
            out[finding] = f"{out[finding]} | {reason}" if finding in out else reason
    return out


def acknowledge_wildcards(construct: IConstruct, scope: Construct, grants: Iterable[Grant]) -> dict[str, str]:
    acks = wildcard_resource_ids(scope, grants)
    for rule_id, reason in acks.items():
        acknowledge(construct, rule_id, reason)
    return acks


def acknowledgements(root: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgement under `root`."""
    out = []
    for c in root.node.find_all():
        for entry in c.node.metadata:
            if entry.type != Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            # Stored by CDK as {"Annotation::<rule id>": reason}.
            for key, reason in dict(entry.data).items():
                out.append((c.node.path, str(key).split("::", 1)[-1], str(reason)))
    return out
