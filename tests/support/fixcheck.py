"""Checks that a finding's fix can be pasted as written (issue 13).

- no `<placeholder>` for a value the finding knows (its task block or facts hold it), and a
  placeholder that remains says what to put (`<the path your app answers health checks on>`);
- every `aws ...` command names a real service, operation and parameters of botocore's service models
  (the CLI's names are their kebab-case forms), with the required parameters present;
- every IAM policy document parses, passes parliament, and names full ARNs;
- every shell command parses with shlex.

`problems(finding)` returns {"placeholders": [...], "bare placeholders": [...], "commands": [...],
"policies": [...]}: one message per fault.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from functools import cache
from typing import Any

from shared.models.finding import Finding
from shared.render import steps

# --------------------------------------------------------------------------------------------------
# Placeholders
# --------------------------------------------------------------------------------------------------
_INT = re.compile(r"^\d{1,5}$")


def _image(f: Finding) -> str | None:
    want = f.facts.get("container")
    boxes = [c for c in f.task.containers if c.image]
    for c in boxes:
        if c.name == want:
            return c.image
    return boxes[0].image if len(boxes) == 1 else None


def _port(f: Finding) -> str | None:
    for key in ("port", "listen_port", "container_port", "expected_port"):
        v = f.facts.get(key)
        if v is not None and _INT.match(str(v)):
            return str(v)
    return None


def known_values(f: Finding) -> dict[str, str]:
    """Placeholder name (lower case) -> the value the finding holds for it."""
    t = f.task
    image = _image(f)
    container = f.facts.get("container") or (t.containers[0].name if len(t.containers) == 1 else None)
    values: dict[str, Any] = {
        "cluster": t.cluster, "cluster name": t.cluster,
        "service": t.service, "service name": t.service,
        "family": t.task_definition, "family:revision": t.task_definition, "task definition": t.task_definition,
        "task-definition": t.task_definition, "revision": t.task_definition,
        "task": t.task_id, "task id": t.task_id, "task-id": t.task_id, "task arn": t.task_arn,
        "image": image, "container": container, "container name": container,
        "region": t.region, "account": t.account, "account id": t.account, "account-id": t.account,
        "acctnumber": t.account, "port": _port(f),
        "group": f.facts.get("log_group"), "log group": f.facts.get("log_group"),
        "log-group": f.facts.get("log_group"),
        "subnet": f.facts.get("subnet"), "subnet id": f.facts.get("subnet"),
        "host": f.facts.get("host"), "endpoint": f.facts.get("host"),
        "role": f.facts.get("role"), "role arn": f.facts.get("role"), "role name": f.facts.get("role"),
        "target group": f.facts.get("target_group"), "target-group": f.facts.get("target_group"),
        "target group arn": f.facts.get("target_group"),
        "secret": f.facts.get("secret"), "secret arn": f.facts.get("secret"),
        "file system": f.facts.get("file_system"), "file-system-id": f.facts.get("file_system"),
        "repository": image.split("/", 1)[-1].split(":")[0].split("@")[0] if image and "/" in image else None,
    }
    resource = f.facts.get("resource")
    if isinstance(resource, str) and resource.startswith("arn:"):
        service = resource.split(":")[2]
        values[f"arn of the {service} resource"] = resource
    return {k: str(v) for k, v in values.items() if v not in (None, "", [])}


def _in_quoted_log_text(step: str, start: int) -> bool:
    # "<Puma::DSL:0x…>" quoted from a log line is not a placeholder of ours
    return "::" in step[start : start + 60].split(">", 1)[0]


def _evidence_text(f: Finding) -> str:
    """Everything the finding quotes from its input: evidence, facts, stop reasons."""
    parts = [e.text for e in f.evidence] + [f.task.stopped_reason or ""]
    parts += [c.reason or "" for c in f.task.containers] + [json.dumps(f.facts, default=str)]
    return "\n".join(parts)


def placeholder_problems(f: Finding) -> tuple[list[str], list[str]]:
    """(placeholders for known values, placeholders that do not say what to put)."""
    known = known_values(f)
    quoted = _evidence_text(f)
    for_known: list[str] = []
    bare: list[str] = []
    for n, step in enumerate(f.remediation, 1):
        for m in steps.PLACEHOLDER.finditer(step):
            name = m.group("name")
            if (_in_quoted_log_text(step, m.start()) or not re.fullmatch(r"[A-Za-z][\w ./:-]*", name)
                    or m.group(0) in quoted):
                continue  # text quoted from the event or the logs (a reporter's own placeholder)
            key = name.lower()
            if key in known:
                for_known.append(f"step {n}: <{name}> although the finding knows {known[key]!r}")
            elif " " not in name.strip():
                bare.append(f"step {n}: <{name}> does not say what to put")
    return for_known, bare


# --------------------------------------------------------------------------------------------------
# aws commands
# --------------------------------------------------------------------------------------------------
# `aws <name>` -> botocore service name, where they differ.
_CLI_SERVICE = {"s3api": "s3", "configservice": "config", "deploy": "codedeploy"}
# CLI customisations: commands the CLI adds on top of the service models, with the options they take.
_CUSTOM: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {
    # (service, command): (required options, allowed options)
    ("logs", "tail"): (frozenset(), frozenset({"--since", "--follow", "--format", "--filter-pattern",
                                              "--log-stream-names", "--log-stream-name-prefix", "--until"})),
    ("ecr", "get-login-password"): (frozenset(), frozenset()),
    ("s3", "ls"): (frozenset(), frozenset({"--recursive", "--human-readable", "--summarize"})),
    ("s3", "cp"): (frozenset(), frozenset({"--recursive"})),
    ("ecs", "wait"): (frozenset(), frozenset({"--cluster", "--services", "--tasks"})),
}
_GLOBAL = frozenset({"--region", "--query", "--output", "--profile", "--no-cli-pager", "--endpoint-url",
                     "--no-paginate", "--debug", "--cli-input-json", "--color", "--no-verify-ssl",
                     "--cli-read-timeout", "--cli-connect-timeout", "--max-items", "--page-size",
                     "--starting-token"})


@cache
def _session():
    import botocore.session

    return botocore.session.get_session()


@cache
def _service(name: str):
    return _session().get_service_model(name)


@cache
def _services() -> frozenset[str]:
    return frozenset(_session().get_available_services())


@cache
def _operations(service: str) -> dict[str, str]:
    from botocore import xform_name

    model = _service(service)
    return {xform_name(op, "-"): op for op in model.operation_names}


def aws_problems(words: list[str]) -> list[str]:
    """Faults of an `aws` command given as shell words ([] when it is valid)."""
    from botocore import xform_name

    if len(words) < 3:
        return [f"`{' '.join(words)}`: no service and operation"]
    cli_service, command = words[1], words[2]
    options = [w for w in words[3:] if w.startswith("--")]
    custom = _CUSTOM.get((cli_service, command))
    if custom is not None:
        required, allowed = custom
        out = [f"aws {cli_service} {command}: unknown option {o}" for o in options
               if o not in allowed and o not in _GLOBAL]
        out += [f"aws {cli_service} {command}: missing {r}" for r in required if r not in options]
        return out
    service = _CLI_SERVICE.get(cli_service, cli_service)
    if service not in _services():
        return [f"aws {cli_service}: no such service"]
    ops = _operations(service)
    if command not in ops:
        return [f"aws {cli_service} {command}: no such operation"]
    shape = _service(service).operation_model(ops[command]).input_shape
    members = shape.members if shape is not None else {}
    params: dict[str, str] = {}
    for name, member in members.items():
        flag = "--" + xform_name(name, "-")
        params[flag] = name
        if member.type_name == "boolean":
            params["--no-" + xform_name(name, "-")] = name
    out: list[str] = []
    given: set[str] = set()
    for i, w in enumerate(words[3:], 3):
        if not w.startswith("--"):
            if w in ("...", "…") or w.startswith("..."):
                out.append(f"aws {cli_service} {command}: an elided argument {w!r}")
            continue
        if w in _GLOBAL:
            continue
        if w not in params:
            out.append(f"aws {cli_service} {command}: unknown option {w}")
            continue
        given.add(params[w])
        member = members[params[w]]
        if member.type_name != "boolean":
            nxt = words[i + 1] if i + 1 < len(words) else None
            if nxt is None or nxt.startswith("--"):
                out.append(f"aws {cli_service} {command}: {w} has no value")
    required = shape.required_members if shape is not None else []
    # The CLI fills an idempotency token (ClientToken) itself: required by the API, never by the command.
    required = [r for r in required if not members[r].metadata.get("idempotencyToken")]
    out += [f"aws {cli_service} {command}: missing --{xform_name(r, '-')}" for r in required if r not in given]
    return out


_DOCKER_VALUED = frozenset({"-e", "--env", "-p", "--publish", "-v", "--volume", "-m", "--memory", "--cpus",
                            "--entrypoint", "--env-file", "--name", "-w", "--workdir", "-u", "--user",
                            "--platform", "--network", "--mount", "--label", "-l", "--add-host", "--dns",
                            "--memory-swap", "--shm-size", "--tmpfs", "--ulimit", "--health-cmd"})


def _docker_problems(words: list[str]) -> list[str]:
    out: list[str] = []
    for i, w in enumerate(words[:-1]):
        if w in ("-p", "--publish"):
            value = words[i + 1]
            port = r"(?:\d{1,5}|<[^<>]+>|\$\{?\w+\}?)"  # a port, a placeholder saying which one, a $variable
            if not re.fullmatch(rf"(?:[\d.]+:)?{port}(?::{port})?(?:/(?:tcp|udp))?", value):
                out.append(f"docker {w} {value}: not a port mapping")
    if len(words) > 1 and words[1] == "run":
        i = 2
        while i < len(words) and words[i].startswith("-"):
            i += 2 if words[i] in _DOCKER_VALUED else 1
        if i >= len(words):
            out.append("docker run: no image")
    return out


def command_problems(cmd: str) -> list[str]:
    try:
        words = shlex.split(cmd)
    except ValueError as exc:
        return [f"`{cmd[:80]}`: does not parse ({exc})"]
    if not words:
        return []
    # a pipeline or a list (`aws ecr get-login-password | docker login ...`): check each command of it
    parts: list[list[str]] = [[]]
    for w in words:
        if w in ("|", "||", "&&", ";") or w.startswith((">", "2>")):
            parts.append([])
        else:
            parts[-1].append(w)
    out: list[str] = []
    for part in (p for p in parts if p):
        if part[0] == "aws":
            out += aws_problems(part)
        elif part[0] == "docker":
            out += _docker_problems(part)
    return out


# --------------------------------------------------------------------------------------------------
# Policies
# --------------------------------------------------------------------------------------------------


def _parliament_out_of_date(finding: Any, resources: list[str]) -> bool:
    """parliament's RESOURCE_MISMATCH where every action's resource does match one of the formats it
    lists by glob (its strict check trips on names holding a colon, e.g. Bedrock's model ids `...-v1:0`)."""
    if finding.issue != "RESOURCE_MISMATCH" or not isinstance(finding.detail, list):
        return False
    by_action: dict[str, list[str]] = {}
    for item in finding.detail:
        by_action.setdefault(item["action"], []).append(item["required_format"])
    return all(any(fnmatch.fnmatchcase(r, fmt) for r in resources for fmt in formats)
               for formats in by_action.values())
_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws)?:(.+)$")
_SECRET_ARN_SUFFIX = re.compile(r":secret:.+(-\?{6}|-[A-Za-z0-9]{6}|\*)$")


def policy_problems(doc: Any, f: Finding | None = None) -> list[str]:
    from parliament import analyze_policy_string

    if isinstance(doc, str):
        return [f"policy does not parse as JSON: {doc[:80]}"]
    out: list[str] = []
    policy = analyze_policy_string(json.dumps(doc))
    statements = doc.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    named = [r for st in statements for r in ([st.get("Resource")] if isinstance(st.get("Resource"), str)
                                                else st.get("Resource") or [])]
    for finding in policy.findings:  # RESOURCE_STAR too: "*" for an action that takes a resource
        if not _parliament_out_of_date(finding, named):
            out.append(f"parliament {finding.issue}: {finding.detail}")
    for st in statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = st.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        for r in resources:
            if r == "*":
                continue  # parliament says whether the actions take a resource (RESOURCE_STAR)
            m = _ARN.match(r)
            if not m:
                out.append(f"Resource {r!r} is not an ARN")
                continue
            if re.search(r"<[^<>\s]*>", r):
                out.append(f"Resource {r!r} holds a placeholder that does not say what to put")
            service, region, account = m.group(2), m.group(3), m.group(4)
            if f is not None and service not in ("iam", "s3", "route53", "cloudfront") and ":foundation-model/" not in r:
                if f.task.account and not account:
                    out.append(f"Resource {r!r} leaves out the account {f.task.account}")
                if f.task.region and not region:
                    out.append(f"Resource {r!r} leaves out the region {f.task.region}")
            if service == "secretsmanager" and not _SECRET_ARN_SUFFIX.search(r):
                out.append(f"Resource {r!r}: a secret ARN ends in -?????? (the six random characters)")
            # every resource of one type (`...:*`, `table/*`): the fix says to narrow it, where the error names none
            every = re.fullmatch(r"(?:[\w-]+[/:])?\*", r.split(":", 5)[5]) is not None
            if r.endswith("*") and not every and service not in ("secretsmanager", "s3", "logs", "ssm", "kms", "dynamodb",
                                                   "cloudformation", "ses", "bedrock", "ecs", "ecr", "sns", "sqs"):
                out.append(f"Resource {r!r}: a wildcard the service does not need")
    return out


# --------------------------------------------------------------------------------------------------
def unrunnable(f: Finding) -> list[str]:
    """Commands and policies that hold a placeholder of ours (any `<...>`, known value or not): they do not run
    or validate as pasted. A reporter's own placeholder quoted from the evidence is not ours."""
    quoted = _evidence_text(f)
    out: list[str] = []
    for n, step in enumerate(f.remediation, 1):
        items = steps.commands(step) + [d if isinstance(d, str) else json.dumps(d) for d in steps.policies(step)]
        for item in items:
            holes = [m.group(0) for m in steps.PLACEHOLDER.finditer(item) if m.group(0) not in quoted]
            if holes:
                out.append(f"step {n}: {', '.join(holes)} in `{item[:100]}`")
    return out


def problems(f: Finding) -> dict[str, list[str]]:
    for_known, bare = placeholder_problems(f)
    cmds: list[str] = []
    pols: list[str] = []
    for n, step in enumerate(f.remediation, 1):
        for cmd in steps.commands(step):
            cmds += [f"step {n}: {p}" for p in command_problems(cmd)]
        for doc in steps.policies(step):
            pols += [f"step {n}: {p}" for p in policy_problems(doc, f)]
    return {"placeholders": for_known, "bare placeholders": bare, "commands": cmds, "policies": pols,
            "placeholders in commands": unrunnable(f)}
