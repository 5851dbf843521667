"""What changed between the revision that ran healthy and the failing one, and whether it explains the cause.

Pure: no AWS call (shared/evidence/changes.py reads the revisions). Three steps:

    before = snapshot(task_definition_dict)            # value-free: environment values become keyed hashes
    comparison = compare(before, after, service_before, service_after, basis="service-deployment")
    finding = relate(finding, comparison)              # Finding.changes, evidence, confidence

`snapshot` keeps no environment value: each becomes an HMAC under a key drawn when the process starts, so
two revisions compare equal or not, and nothing can be read back from what is kept (or from a finding).
Secrets keep their name and ARN (never a value: a task definition holds none).

Which changes explain which cause is declared by each pattern (`explained_by`, the change fields that
can cause it; shared/patterns/base.py). A change carrying a name (a variable, a secret) explains the
cause only when the diagnosis names it too (DATABASE_URL removed, and the app says DATABASE_URL is
missing), or names none. A limit (memory, cpu) explains it only when it was lowered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.models.finding import Change, Changes, EvidenceItem, Finding

_KEY = os.urandom(32)  # per process: equal values compare equal, nothing can be read back
LIMITS = frozenset({"cpu", "memory", "memoryReservation", "ephemeralStorage"})
NAMED = frozenset({"environment", "secrets"})
FREE_TEXT = frozenset({"command", "entryPoint", "healthCheck", "serviceConnect", "environmentFiles"})
CONFIDENCE_BOOST = 0.1
MAX_CONFIDENCE = 0.99
NAME_FACTS = ("variable", "variables", "secret", "secrets", "absent_from_task_definition")

LABELS = {
    "image": "image", "imageDigest": "image digest", "environment": "environment variable",
    "environmentFiles": "environment files", "secrets": "secret", "cpu": "CPU units", "memory": "memory (MiB)",
    "memoryReservation": "memory reservation (MiB)", "command": "command", "entryPoint": "entryPoint",
    "healthCheck": "container health check", "portMappings": "port mappings", "essential": "essential flag",
    "dependsOn": "dependsOn", "taskRoleArn": "task role", "executionRoleArn": "execution role",
    "logConfiguration": "log configuration", "ulimits": "ulimits", "runtimePlatform": "platform (OS/architecture)",
    "networkMode": "network mode", "ephemeralStorage": "ephemeral storage (GiB)", "loadBalancer": "load balancer",
    "healthCheckGracePeriodSeconds": "health-check grace period (s)", "subnets": "subnets",
    "securityGroups": "security groups", "assignPublicIp": "public IP", "capacityProviderStrategy":
    "capacity provider strategy", "serviceConnect": "Service Connect", "launchType": "launch type",
    "platformVersion": "platform version", "container": "container",
}


# -- snapshots ------------------------------------------------------------------------------------
def task_definition_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The task definition inside `aws ecs describe-task-definition` output, or a bare one."""
    td = obj.get("taskDefinition") if isinstance(obj.get("taskDefinition"), Mapping) else obj
    if not isinstance(td, Mapping) or not isinstance(td.get("containerDefinitions"), list):
        raise ValueError("not a task definition: expected `containerDefinitions` (a bare task definition) or "
                         "`taskDefinition.containerDefinitions` (aws ecs describe-task-definition output)")
    return dict(td)


def _hash(value: Any) -> str:
    return hmac.new(_KEY, str(value).encode(), hashlib.sha256).hexdigest()[:16]


def _text(value: Any) -> str | None:
    if value is None or value == [] or value == {}:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def snapshot(td: Mapping[str, Any]) -> dict[str, Any]:
    """What is compared of a task definition (a DescribeTaskDefinition `taskDefinition`), value-free."""
    td = task_definition_of(td)
    platform = td.get("runtimePlatform") or {}
    arch = "/".join(p for p in (platform.get("operatingSystemFamily"), platform.get("cpuArchitecture")) if p)
    containers: dict[str, dict[str, Any]] = {}
    for c in td.get("containerDefinitions") or []:
        log_config = c.get("logConfiguration") or {}
        options = log_config.get("options") or {}
        health = c.get("healthCheck") or {}
        containers[c.get("name") or ""] = {
            "image": c.get("image"),
            "essential": _text(c.get("essential", True)),
            "cpu": _text(c.get("cpu")),
            "memory": _text(c.get("memory")),
            "memoryReservation": _text(c.get("memoryReservation")),
            "command": _text(c.get("command")),
            "entryPoint": _text(c.get("entryPoint")),
            "healthCheck": _text({k: health[k] for k in sorted(health)}) if health else None,
            "portMappings": ", ".join(sorted(f"{p.get('containerPort')}/{p.get('protocol') or 'tcp'}"
                                             for p in c.get("portMappings") or [])) or None,
            "dependsOn": ", ".join(sorted(f"{d.get('containerName')}:{d.get('condition')}"
                                          for d in c.get("dependsOn") or [])) or None,
            # The driver and where it sends; option values other than these may hold tokens.
            "logConfiguration": " ".join(x for x in (
                log_config.get("logDriver"), options.get("awslogs-group"), options.get("awslogs-region"),
                options.get("awslogs-stream-prefix")) if x) or None,
            "ulimits": ", ".join(sorted(f"{u.get('name')}={u.get('softLimit')}:{u.get('hardLimit')}"
                                        for u in c.get("ulimits") or [])) or None,
            "environment": {e["name"]: _hash(e.get("value", "")) for e in c.get("environment") or [] if e.get("name")},
            "environmentFiles": ", ".join(sorted(f.get("value") or "" for f in c.get("environmentFiles") or [])) or None,
            "secrets": {s["name"]: s.get("valueFrom") for s in c.get("secrets") or [] if s.get("name")},
        }
    return {
        "family": td.get("family"), "revision": td.get("revision"), "arn": td.get("taskDefinitionArn"),
        "cpu": _text(td.get("cpu")), "memory": _text(td.get("memory")),
        "taskRoleArn": td.get("taskRoleArn"), "executionRoleArn": td.get("executionRoleArn"),
        "runtimePlatform": arch or None, "networkMode": td.get("networkMode"),
        "ephemeralStorage": _text((td.get("ephemeralStorage") or {}).get("sizeInGiB")),
        "containers": containers,
    }


def service_config(obj: Mapping[str, Any] | None, *, grace_period: int | None = None) -> dict[str, Any]:
    """The service-level fields compared, from a ServiceRevision, a DescribeServices deployment or service."""
    if not obj:
        return {}
    vpc = ((obj.get("networkConfiguration") or {}).get("awsvpcConfiguration")) or {}
    lbs = obj.get("loadBalancers")
    out: dict[str, Any] = {
        "loadBalancer": None if lbs is None else ", ".join(sorted(
            f"{(lb.get('targetGroupArn') or lb.get('loadBalancerName') or '').rsplit(':', 1)[-1]} -> "
            f"{lb.get('containerName')}:{lb.get('containerPort')}" for lb in lbs)) or "none",
        "subnets": ", ".join(sorted(vpc.get("subnets") or [])) or None,
        "securityGroups": ", ".join(sorted(vpc.get("securityGroups") or [])) or None,
        "assignPublicIp": vpc.get("assignPublicIp"),
        "capacityProviderStrategy": ", ".join(
            f"{s.get('capacityProvider')} weight {s.get('weight', 0)} base {s.get('base', 0)}"
            for s in obj.get("capacityProviderStrategy") or []) or None,
        "serviceConnect": _text(obj.get("serviceConnectConfiguration")),
        "launchType": obj.get("launchType"),
        "platformVersion": obj.get("platformVersion"),
        "digests": {i.get("containerName"): i.get("imageDigest") for i in obj.get("containerImages") or []
                    if i.get("containerName") and i.get("imageDigest")},
    }
    grace = obj.get("healthCheckGracePeriodSeconds", grace_period)
    if grace is not None:
        out["healthCheckGracePeriodSeconds"] = str(grace)
    if not vpc:
        for k in ("subnets", "securityGroups", "assignPublicIp"):
            out.pop(k)
    if lbs is None:
        out.pop("loadBalancer")
    return out


def label(snap: Mapping[str, Any] | None) -> str | None:
    """family:revision of a snapshot."""
    if not snap:
        return None
    if snap.get("family") and snap.get("revision") is not None:
        return f"{snap['family']}:{snap['revision']}"
    arn = snap.get("arn") or ""
    return arn.rsplit("/", 1)[-1] or None


# -- the diff -------------------------------------------------------------------------------------
def _change(fld: str, before: Any, after: Any, *, container: str | None = None, name: str | None = None,
            kind: str | None = None) -> Change:
    kind = kind or ("added" if before is None else "removed" if after is None else "changed")
    if fld in FREE_TEXT:  # a command line may carry a password: masked like everything leaving the account
        from shared.redact import redact

        before = None if before is None else redact(str(before))
        after = None if after is None else redact(str(after))
    return Change(field=fld, container=container, name=name, before=before, after=after, kind=kind,
                  text=_sentence(fld, container, name, before, after, kind))


def _sentence(fld: str, container: str | None, name: str | None, before: Any, after: Any, kind: str) -> str:
    of = f" of {container}" if container else ""
    what = LABELS.get(fld, fld)
    if fld == "environment":
        verb = {"added": "was added to", "removed": "was removed from", "changed": "changed value in"}[kind]
        return f"environment variable {name} {verb} {container}" + (" (values are not shown)" if kind == "changed" else "")
    if fld == "secrets":
        verb = {"added": "was added to", "removed": "was removed from", "changed": "now comes from another source in"}[kind]
        return f"secret {name} {verb} {container}" + (f" ({before} -> {after})" if kind == "changed" else "")
    if fld == "imageDigest":
        return f"image{of} resolves to a new digest: same tag, new content ({_short(before)} -> {_short(after)})"
    if fld == "container":
        return f"container {container} was {kind}"
    if kind == "added":
        return f"{what}{of} set to {after}"
    if kind == "removed":
        return f"{what}{of} removed (was {before})"
    if fld in LIMITS:
        old, new = _num(before), _num(after)
        if old is not None and new is not None:
            verb = "lowered" if new < old else "raised"
            return f"{what}{of} {verb} from {before} to {after}"
    return f"{what}{of} changed from {before} to {after}"


def _short(digest: Any) -> str:
    text = str(digest or "")
    return text[:19] + "…" if len(text) > 20 else text


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _tag(image: str | None) -> str:
    return (image or "").rsplit("/", 1)[-1]


def diff(before: Mapping[str, Any], after: Mapping[str, Any], service_before: Mapping[str, Any] | None = None,
         service_after: Mapping[str, Any] | None = None) -> list[Change]:
    """Changes from `before` to `after` (snapshots), and between their service configurations."""
    out: list[Change] = []
    for key in ("cpu", "memory", "taskRoleArn", "executionRoleArn", "runtimePlatform", "networkMode",
                "ephemeralStorage"):
        if before.get(key) != after.get(key):
            out.append(_change(key, before.get(key), after.get(key)))
    digests_before = (service_before or {}).get("digests") or {}
    digests_after = (service_after or {}).get("digests") or {}
    cb, ca = before.get("containers") or {}, after.get("containers") or {}
    for name in [*ca, *(n for n in cb if n not in ca)]:
        b, a = cb.get(name), ca.get(name)
        if b is None or a is None:
            out.append(_change("container", None if b is None else name, None if a is None else name, container=name))
            continue
        for key in ("image", "cpu", "memory", "memoryReservation", "command", "entryPoint", "healthCheck",
                    "portMappings", "essential", "dependsOn", "logConfiguration", "ulimits", "environmentFiles"):
            if b.get(key) != a.get(key):
                out.append(_change(key, b.get(key), a.get(key), container=name))
        if b.get("image") == a.get("image") and digests_before.get(name) and digests_after.get(name) \
                and digests_before[name] != digests_after[name]:
            out.append(_change("imageDigest", digests_before[name], digests_after[name], container=name))
        for key in ("environment", "secrets"):
            vb, va = b.get(key) or {}, a.get(key) or {}
            for var in sorted(set(vb) | set(va)):
                if var not in va:
                    out.append(_change(key, None, None, container=name, name=var, kind="removed"))
                elif var not in vb:
                    out.append(_change(key, None, None, container=name, name=var, kind="added"))
                elif vb[var] != va[var]:
                    shown = key == "secrets"  # ARNs may be shown, values never
                    out.append(_change(key, vb[var] if shown else None, va[var] if shown else None, container=name,
                                       name=var, kind="changed"))
    sb, sa = service_before or {}, service_after or {}
    for key in ("loadBalancer", "healthCheckGracePeriodSeconds", "subnets", "securityGroups", "assignPublicIp",
                "capacityProviderStrategy", "serviceConnect", "launchType", "platformVersion"):
        if key in sb and key in sa and sb[key] != sa[key]:
            out.append(_change(key, sb[key], sa[key]))
    return out


# -- relating the diff to the diagnosis -----------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """A diff and where its sides came from (before relating it to a diagnosis)."""

    before: str | None
    after: str | None
    basis: str
    items: tuple[Change, ...] = ()
    cluster: str | None = None
    service: str | None = None
    deployment_status: str | None = None
    rolled_back_to: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def compare(before: Mapping[str, Any], after: Mapping[str, Any], service_before: Mapping[str, Any] | None = None,
            service_after: Mapping[str, Any] | None = None, *, basis: str, cluster: str | None = None,
            service: str | None = None, deployment_status: str | None = None,
            rolled_back_to: str | None = None) -> Comparison:
    return Comparison(label(before), label(after), basis, tuple(diff(before, after, service_before, service_after)),
                      cluster, service, deployment_status, rolled_back_to)


def _named(facts: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for key in NAME_FACTS:
        value = facts.get(key)
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, list | tuple):
            names.update(str(v) for v in value)
    return names


def explains(change: Change, fields: Iterable[str], facts: Mapping[str, Any]) -> bool:
    """Does this change explain a cause whose pattern declares `fields` and whose facts are `facts`?"""
    if change.field not in fields:
        return False
    if change.field in NAMED:
        names = _named(facts)
        if names:
            return change.name in names and change.kind in ("removed", "changed")
        return change.kind == "removed"
    if change.field in LIMITS:
        before, after = _num(change.before), _num(change.after)
        return change.kind == "added" or (before is not None and after is not None and after < before)
    return True


def _revision_number(label_: str | None) -> str:
    return (label_ or "").rpartition(":")[2] or "?"


def _headline(change: Change, comp: Comparison) -> str:
    rev_a, rev_b = _revision_number(comp.after), _revision_number(comp.before)
    if change.field in NAMED and change.kind == "removed":
        kind = "variable" if change.field == "environment" else "secret"
        return (f"{change.name} was removed in revision {rev_a}; revision {rev_b} had it "
                f"({kind} of {change.container})")
    return f"{change.text[:1].upper()}{change.text[1:]} in revision {rev_a} (revision {rev_b} ran healthy)"


def rollback_command(comp: Comparison) -> str | None:
    if not (comp.before and comp.cluster and comp.service):
        return None
    return f"aws ecs update-service --cluster {comp.cluster} --service {comp.service} --task-definition {comp.before}"


def relate(finding: Finding, comp: Comparison | None, explained_by: Sequence[str] | None = None) -> Finding:
    """The finding with `changes`: each change marked when it explains the diagnosed cause (the pattern's
    `explained_by`, unless given), that change as evidence and a higher confidence, and a verdict."""
    if comp is None:
        return finding
    if explained_by is None:
        from shared.patterns import by_id

        try:
            explained_by = tuple(getattr(by_id(finding.pattern), "explained_by", ()))
        except KeyError:
            explained_by = ()
    marked = [c.model_copy(update={"explains": explains(c, explained_by, finding.facts)}) for c in comp.items]
    marked.sort(key=lambda c: not c.explains)
    why = [c for c in marked if c.explains]
    if why:
        verdict = _headline(why[0], comp) + (f"; {len(why) - 1} more related change{'s' if len(why) > 2 else ''}"
                                             if len(why) > 1 else "") + "."
    elif not marked:
        verdict = (f"nothing changed between {comp.before} and {comp.after}: the cause is outside this deploy."
                   if comp.before and comp.after else "nothing changed: the cause is outside this deploy.")
    elif all(c.field == "imageDigest" for c in marked):
        verdict = ("no configuration change: only the image content (digest) changed "
                   f"({marked[0].container}: {_short(marked[0].before)} -> {_short(marked[0].after)}).")
    else:
        verdict = (f"none of the {len(marked)} change{'s' if len(marked) != 1 else ''} from {comp.before} to "
                   f"{comp.after} explains {finding.pattern}: the cause is likely outside this deploy.")
    changes = Changes(before=comp.before, after=comp.after, basis=comp.basis, items=marked, verdict=verdict,
                      explained=bool(why), rollback_command=rollback_command(comp) if why else None,
                      deployment_status=comp.deployment_status, rolled_back_to=comp.rolled_back_to)
    update: dict[str, Any] = {"changes": changes}
    if why and finding.pattern not in ("unknown", "expected-stop"):
        item = EvidenceItem(source=f"changes:{comp.before}->{comp.after}", text=verdict)
        update["evidence"] = [*finding.evidence, item]
        update["confidence"] = round(min(MAX_CONFIDENCE, max(finding.confidence, finding.confidence + CONFIDENCE_BOOST)), 2)
        update["remediation"] = [_rollback_step(changes), *finding.remediation]
    return finding.model_copy(update=update)


ROLLED_BACK = "ROLLBACK_SUCCESSFUL"


def _rollback_step(changes: Changes) -> str:
    if changes.deployment_status == ROLLED_BACK and changes.rolled_back_to:
        return (f"The circuit breaker already rolled the service back to {changes.rolled_back_to}, the revision that "
                f"ran healthy. Fix what {changes.after} changed, then deploy again (by hand: "
                f"`{changes.rollback_command}`).")
    return (f"Roll back to the revision that ran healthy while you fix {changes.after}: "
            f"`{changes.rollback_command}`.")
