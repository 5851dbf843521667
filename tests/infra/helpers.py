"""Reading synthesized templates: which role, statements, rules belong to which function.

`function_statements` is the entry point for grant audits (e.g. "no action the code never calls"):
it returns the IAM statements of a function's role exactly as deployed.
"""

from __future__ import annotations

from typing import Any

from infra.autopsy import FUNCTION_IDS


def resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def function_id(template: dict, function: str) -> str:
    """Logical id of the Lambda function `function` (task_stopped, deploy_failed, manual)."""
    prefix = f"Autopsy{FUNCTION_IDS[function]}"
    ids = [k for k in resources(template, "AWS::Lambda::Function") if k.startswith(prefix)
           and k[len(prefix):].isalnum() and len(k) == len(prefix) + 8]
    assert len(ids) == 1, (function, ids)
    return ids[0]


def function_props(template: dict, function: str) -> dict:
    return template["Resources"][function_id(template, function)]["Properties"]


def role_id_of(template: dict, function: str) -> str:
    return function_props(template, function)["Role"]["Fn::GetAtt"][0]


def role_statements(template: dict, role_id: str) -> list[dict]:
    role = template["Resources"][role_id]["Properties"]
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for pol in resources(template, "AWS::IAM::Policy").values():  # none expected, but audit them too
        if {"Ref": role_id} in pol["Properties"].get("Roles", []):
            statements += pol["Properties"]["PolicyDocument"]["Statement"]
    return statements


def function_statements(template: dict, function: str) -> list[dict]:
    """Every IAM statement the function's role holds (inline and attached)."""
    return role_statements(template, role_id_of(template, function))


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def actions_of(statements: list[dict]) -> list[str]:
    return [a for s in statements for a in as_list(s["Action"])]


def by_sid(statements: list[dict]) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements}


def render(value: Any) -> Any:
    """Fn::Join of literal parts and pseudo parameters, as a readable string (<AWS::Region>, <Logical.Arn>)."""
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            return arg[0].join(str(render(p)) for p in arg[1])
        return {fn: render(arg)}
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    return value
