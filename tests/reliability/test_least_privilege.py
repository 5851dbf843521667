"""Least privilege, proved on the synthesized templates (issue 6, part 6).

What the code calls is derived here from the code itself, not from shared/permissions.py (the list
infra grants from, which could be wrong with it):

- static: the modules each handler reaches (an AST walk of its imports, function-local ones included,
  in shared/ and functions/) and, in them, the code that can run (module-level statements, and the
  functions and classes reachable by name from them and from `handler`); the AWS services it builds
  clients for (string literals given to a `client(...)`/`clients(...)` call) and every attribute name
  it uses: an attribute that is the Python name of an operation of one of those services (botocore's
  models) is a call of that operation. Libraries the code hands a client to are read the same way, in the methods that run:
  Powertools Idempotency's DynamoDB layer, Powertools Parameters' SecretsProvider.get.
- what AWS needs besides the code's calls, each with its source: the Lambda service writing the
  function's own log group and sending failed asynchronous events to its on-failure queue, KMS for
  publishing to an encrypted topic, EventBridge forwarding a member account's events to the hub.
- dynamic: the operations the handlers really called in the fault matrix's scenarios without faults
  (counted by shared.aws.Clients; run here when test_faults.py did not run first).

Then, on the default, organization hub (with its member stack) and existing-topic templates:
(a) no role grants an action its code never calls; (b) no `*` resource for an action that supports
resource-level permissions (the table below lists those that do not, and the one scoped by a
condition key instead); (c) the code calls nothing its role is not granted.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from tests.infra.conftest import EXISTING_TOPIC_CONTEXT, HUB_CONTEXT, synth
from tests.infra.helpers import (
    as_list,
    function_id,
    function_props,
    render,
    resources,
    role_id_of,
    role_statements,
)
from tests.reliability.figures import add, record
from tests.reliability.harness import OBSERVED

FIG = "least privilege (issue 6.6)"
ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("task_stopped", "deploy_failed", "manual")

# Actions IAM cannot scope to a resource (the "Resource types" column of the Service Authorization
# Reference is empty for them): "*" is the only resource they take.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
NO_RESOURCE_LEVEL = {
    "ecs:DescribeTaskDefinition",
    "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints", "ec2:DescribeSubnets",
    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeLoadBalancers",
}
# Actions whose resource type cannot name what is called (ListTasks authorises on container instances;
# Fargate has none): "*" is allowed only with this condition key narrowing it (same reference, ECS).
CONDITION_SCOPED = {"ecs:ListTasks": "ecs:cluster"}
# Calls that need no permission at all: "No permissions are required to perform this operation."
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
# What AWS does with the function's role besides the code's calls (Lambda developer guide: execution
# role, "Amazon CloudWatch Logs" and "Destinations for asynchronous invocation").
LAMBDA_RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}
# Publishing to a topic encrypted with a customer managed key: "kms:GenerateDataKey* and kms:Decrypt"
# (SNS developer guide, "Managing Amazon SNS encryption keys and costs": publishers' permissions).
IMPLIED = {"sns:Publish": {"kms:GenerateDataKey", "kms:Decrypt"}}
# Libraries the code hands one of its clients to, and the methods of theirs that run.
LIBRARIES = {
    ("aws_lambda_powertools.utilities.idempotency.persistence.dynamodb", "DynamoDBPersistenceLayer"):
        ("dynamodb", ("_put_record", "_get_record", "_update_record", "_delete_record")),
    ("aws_lambda_powertools.utilities.parameters.secrets", "SecretsProvider"): ("secretsmanager", ("_get",)),
}


# --- what the code calls (static) -----------------------------------------------------------------
def _module_files() -> dict[str, Path]:
    out = {}
    for top in ("shared", "functions"):
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (anywhere in it), and the packages on the way."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for t in targets:
            parts = t.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b, a.b.c
                if ".".join(parts[:i]) in modules:
                    found.add(".".join(parts[:i]))
    return found


@cache
def reachable(function: str) -> frozenset[str]:
    modules = _module_files()
    todo, seen = [f"functions.{function}.handler"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += _imports(name, modules[name], modules) - seen
    return frozenset(seen)


@cache
def _service_models() -> dict[str, object]:
    import botocore.session

    session = botocore.session.get_session()
    return {s: session.get_service_model(s) for s in session.get_available_services()}


def _iam_prefix(service: str) -> str:
    return _service_models()[service].metadata["endpointPrefix"]


def _scan(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(service names given to client(...)-like calls, attribute names used)."""
    services, attrs = set(), set()
    known = _service_models()

    def client_service(node: ast.AST) -> str | None:
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            # clients("ecs", region), self.clients("logs"), clients()("sns"), aws_client("sns"), c("sns"), self("sts")
            callee = ast.unparse(node.func)
            value = node.args[0].value
            if isinstance(value, str) and value in known and ("client" in callee.lower() or callee in ("c", "self")):
                return value
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            # A method called on a client call itself (`clients("ecs").list_tags_for_resource`) is that
            # service's operation only; any other attribute may be any used service's.
            bound = client_service(node.value)
            attrs.add(f"{bound}:{node.attr}" if bound else node.attr)
        service = client_service(node)
        if service:
            services.add(service)
    return services, attrs


def _operations(services: set[str], attrs: set[str]) -> set[str]:
    from botocore import xform_name

    out = set()
    for s in services:
        model = _service_models()[s]
        out |= {f"{_iam_prefix(s)}:{op}" for op in model.operation_names
                if xform_name(op) in attrs or f"{s}:{xform_name(op)}" in attrs}
    return out


def _library_calls(modules: frozenset[str]) -> set[str]:
    texts = "\n".join(_module_files()[m].read_text() for m in modules)
    out = set()
    for (module, cls), (service, methods) in LIBRARIES.items():
        if cls not in texts:
            continue
        klass = getattr(importlib.import_module(module), cls)
        attrs: set[str] = set()
        for method in methods:
            _, used = _scan(ast.parse(textwrap.dedent(inspect.getsource(getattr(klass, method)))))
            attrs |= used
        out |= _operations({service}, attrs)
    return out


def _names(node: ast.AST) -> set[str]:
    """Names a piece of code refers to (variables, functions, attributes)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


@cache
def live_code(function: str) -> tuple[ast.AST, ...]:
    """The code of the handler that can run: module-level statements of the modules it imports, and
    the functions and classes reachable from them and from `handler` by name (a name used anywhere
    reaches every definition of that name: an over-approximation, tighter than whole modules)."""
    defs: dict[str, list[ast.AST]] = defaultdict(list)
    top: list[ast.AST] = []
    for m in reachable(function):
        tree = ast.parse(_module_files()[m].read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defs[node.name].append(node)
                top += node.decorator_list
            else:
                top.append(node)
        for node in ast.walk(tree):  # methods and nested functions, by their own names too
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        defs[item.name].append(item)
    live: list[ast.AST] = list(top)
    todo = set().union(*(_names(n) for n in top)) | {"handler"}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in defs.get(name, ()):
            live.append(node)
            todo |= _names(node) - seen
    return tuple(live)


@cache
def code_calls(function: str) -> frozenset[str]:
    """IAM actions of the API calls the function's code (and the libraries it hands clients to) makes."""
    services, attrs = set(), set()
    for node in live_code(function):
        s, a = _scan(node)
        services |= s
        attrs |= a
    return frozenset(_operations(services, attrs) | _library_calls(reachable(function)))


def needed(function: str) -> set[str]:
    calls = set(code_calls(function)) - NEEDS_NO_PERMISSION
    for action, extra in IMPLIED.items():
        if action in calls:
            calls |= extra
    return calls | LAMBDA_RUNTIME


# --- the templates -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, dict]:
    out = {}
    for name, context in (("default", None), ("hub", HUB_CONTEXT), ("existing topic", EXISTING_TOPIC_CONTEXT)):
        s = synth(tmp_path_factory.mktemp(f"lp-{name}".replace(" ", "-")), context)
        for stack, t in s.templates.items():
            out[f"{name}: {stack}"] = t
    return out


def _roles(t: dict) -> dict[str, str]:
    """role logical id -> what it is: a function name, "member reader" or "events forwarder"."""
    out = {}
    fns = {fn: role_id_of(t, fn) for fn in FUNCTIONS} if any(
        k.startswith("AutopsyTaskStopped") for k in resources(t, "AWS::Lambda::Function")) else {}
    for fn, rid in fns.items():
        out[rid] = fn
    for rid, r in resources(t, "AWS::IAM::Role").items():
        if rid in out:
            continue
        principal = r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        if principal == {"Service": "events.amazonaws.com"}:
            out[rid] = "events forwarder"
        elif "AWS" in principal:
            out[rid] = "member reader"
        else:
            out[rid] = f"unknown role ({principal})"
    return out


def _resource_is_star(resource: object) -> bool:
    if resource == "*":
        return True
    if isinstance(resource, str) and resource.startswith("arn:"):
        return resource.split(":", 5)[-1] == "*"
    return False


def _violations(t: dict, rid: str, kind: str, *, count: bool = True) -> tuple[list[str], set[str]]:
    """(violations, actions granted) of one role."""
    statements = role_statements(t, rid)
    if kind in FUNCTIONS:
        allowed = needed(kind)
    elif kind == "member reader":  # the hub's functions read evidence through it
        allowed = set().union(*(code_calls(fn) for fn in FUNCTIONS)) - NEEDS_NO_PERMISSION
    elif kind == "events forwarder":
        allowed = {"events:PutEvents"}  # EventBridge sends the member's events to the hub's bus
    else:
        return [f"{rid}: {kind} is not audited by this test: add it"], set()
    out, granted = [], set()
    for st in statements:
        if count:
            add(FIG, "statements checked")
        assert st["Effect"] == "Allow", st
        actions = as_list(st["Action"])
        granted |= set(actions)
        for action in actions:
            if "*" in action or "?" in action:
                out.append(f"{rid} ({kind}): wildcard action {action}")
            elif action not in allowed:
                out.append(f"{rid} ({kind}): grants {action}, which its code never calls")
            if any(_resource_is_star(r) for r in as_list(st["Resource"])):
                if action in NO_RESOURCE_LEVEL:
                    continue
                key = CONDITION_SCOPED.get(action)
                keys = {k for cond in (st.get("Condition") or {}).values() for k in cond}
                if key is None or key not in keys:
                    out.append(f"{rid} ({kind}): {action} on '*' although it supports resource-level permissions")
    return out, granted


def test_every_role_grants_only_what_its_code_calls_and_no_star_where_a_resource_fits(templates):
    violations: list[str] = []
    granted_all: set[str] = set()
    for name, t in templates.items():
        for rid, kind in _roles(t).items():
            found, granted = _violations(t, rid, kind)
            violations += [f"{name}: {v}" for v in found]
            granted_all |= granted
            if kind == "events forwarder":
                for st in role_statements(t, rid):
                    assert all(":event-bus/" in str(render(r)) for r in as_list(st["Resource"])), st
    record(FIG, "actions granted (distinct, all templates)", len(granted_all))
    record(FIG, "actions the code calls (static, all handlers)",
           len(set().union(*(code_calls(fn) for fn in FUNCTIONS))))
    add(FIG, "violations (must be 0)", len(violations))
    assert not violations, "\n".join(violations)


def test_runtime_grants_name_the_functions_own_log_group_and_queue(templates):
    """The Lambda service's grants are scoped to this function's log group and on-failure queue."""
    for name, t in templates.items():
        if not resources(t, "AWS::Lambda::Function"):
            continue  # the member stack
        for fn in FUNCTIONS:
            fid = function_id(t, fn)
            group = function_props(t, fn)["LoggingConfig"]["LogGroup"]["Ref"]
            (cfg,) = [c["Properties"] for c in resources(t, "AWS::Lambda::EventInvokeConfig").values()
                      if c["Properties"]["FunctionName"] == {"Ref": fid}]
            queue = cfg["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
            for st in role_statements(t, role_id_of(t, fn)):
                actions = set(as_list(st["Action"]))
                if actions & {"logs:CreateLogStream", "logs:PutLogEvents"}:
                    assert st["Resource"] == {"Fn::GetAtt": [group, "Arn"]}, (name, fn, st)
                if "sqs:SendMessage" in actions:
                    assert st["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}, (name, fn, st)


def test_the_code_calls_nothing_it_is_not_granted(templates, monkeypatch):
    """Static: every call a handler's code can make is granted to its role in the hub template (the
    configuration with every feature on: Slack secret, member accounts). Dynamic: every call a handler
    made in the fault matrix's scenarios is granted to its role."""
    hub = templates["hub: EcsAutopsy"]
    granted = {fn: {a for st in role_statements(hub, role_id_of(hub, fn)) for a in as_list(st["Action"])}
               for fn in FUNCTIONS}
    for fn in FUNCTIONS:
        missing = set(code_calls(fn)) - NEEDS_NO_PERMISSION - granted[fn]
        assert not missing, f"{fn} can call {sorted(missing)}, which its role is not granted"

    if set(OBSERVED) != set(FUNCTIONS):  # test_faults.py did not run (whole) before this module
        from tests.reliability.test_faults import observe_baselines

        observe_baselines(monkeypatch)
    missing = []
    for fn, ops in OBSERVED.items():
        for op in ops:
            service, name = op.split(".")
            action = f"{_iam_prefix(service)}:{name}"
            add(FIG, "API calls observed in the handler scenarios (distinct per handler)")
            if action not in NEEDS_NO_PERMISSION and action not in granted[fn]:
                missing.append(f"{fn} called {action}, which its role is not granted")
            if action not in code_calls(fn):
                missing.append(f"{fn} called {action}, which the static scan missed (the scan is wrong)")
    add(FIG, "violations (must be 0)", len(missing))
    assert not missing, "\n".join(missing)


def test_every_async_path_ends_in_a_queue(templates):
    """Part 1's dead-letter path: each function's failed asynchronous events go to its on-failure
    queue, each rule target's undeliverable events to the events DLQ (tests/infra checks the default
    stack in detail; here every template)."""
    wired = defaultdict(int)
    for name, t in templates.items():
        fns = list(resources(t, "AWS::Lambda::Function"))
        configs = resources(t, "AWS::Lambda::EventInvokeConfig")
        for fid in fns:
            (cfg,) = [c["Properties"] for c in configs.values() if c["Properties"]["FunctionName"] == {"Ref": fid}]
            dest = cfg["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
            assert t["Resources"][dest]["Type"] == "AWS::SQS::Queue", (name, fid)
            wired["functions with an on-failure queue"] += 1
        for rule in resources(t, "AWS::Events::Rule").values():
            for target in rule["Properties"]["Targets"]:
                dlq = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
                assert t["Resources"][dlq]["Type"] == "AWS::SQS::Queue", (name, target)
                wired["rule targets with a dead-letter queue"] += 1
    for k, v in wired.items():
        record("bad input (issue 6.1), through the task_stopped handler", f"{k} (all templates)", f"{v}/{v}")
    assert wired["functions with an on-failure queue"] == 9


def test_the_static_scan_sees_known_calls():
    """The scan is code too: it finds calls the handlers are known to make, and only real operations."""
    calls = code_calls("task_stopped")
    assert {"ecs:DescribeTaskDefinition", "logs:GetLogEvents", "sns:Publish", "dynamodb:UpdateItem",
            "dynamodb:PutItem", "secretsmanager:GetSecretValue", "iam:SimulatePrincipalPolicy"} <= calls
    assert "ecs:ListTasks" in code_calls("deploy_failed")
    assert "secretsmanager:PutSecretValue" not in calls  # SecretsProvider.set is not used
    assert "functions.deploy_failed.handler" not in reachable("task_stopped")


def test_the_audit_catches_an_extra_grant_and_a_misplaced_star(templates):
    """A grant the code never calls, and a '*' on an action that takes a resource, are reported."""
    import copy

    t = copy.deepcopy(templates["hub: EcsAutopsy"])
    rid = role_id_of(t, "task_stopped")
    statements = t["Resources"][rid]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    statements.append({"Effect": "Allow", "Action": "ecs:ListTasks", "Resource": "*",
                       "Condition": {"ArnLike": {"ecs:cluster": "arn:aws:ecs:*:*:cluster/prod"}}})
    statements.append({"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"})
    statements.append({"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"})
    found, _ = _violations(t, rid, "task_stopped", count=False)
    assert any("grants ecs:ListTasks, which its code never calls" in v for v in found), found
    assert any("sns:Publish on '*'" in v for v in found), found
    assert any("wildcard action ecs:Describe*" in v for v in found), found
    assert len(found) == 4  # and ecs:Describe* on '*'

