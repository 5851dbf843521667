"""The Finding's JSON Schema, generated from the Finding model and the pattern registry.

    ecs-autopsy schema > shared/schemas/finding-<SCHEMA_VERSION>.json

What the generation adds to the model's own schema:
- `pattern` lists every pattern id of the registry (ids subscribers can filter on; later minor versions
  may add ids, which still validate);
- `facts` is typed per pattern: one `$defs` entry per pattern's Facts model, selected by `pattern`
  (if/then), each documenting its fields;
- every object allows properties it does not list (`additionalProperties` is never false), so a
  subscriber that validates with this version accepts every later minor version of the same major.
"""

from __future__ import annotations

from typing import Any

from shared.models.finding import SCHEMA_VERSION, finding_json_schema
from shared.patterns import registry


def facts_def_name(pattern_id: str) -> str:
    return "Facts_" + pattern_id.replace("-", "_")


def generate() -> dict[str, Any]:
    schema = finding_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    patterns = registry()
    props = schema["properties"]
    # The ids known at this version, listed; a later minor version may add ids, so the list does not close
    # the field (anyOf with the id shape): a 1.x subscriber keeps accepting findings of newer patterns.
    known = {k: v for k, v in props["pattern"].items() if k != "type"}
    props["pattern"] = {**known, "type": "string", "anyOf": [{"enum": [p.id for p in patterns]},
                                                             {"pattern": "^[a-z]+(?:-[a-z]+)*$"}]}
    branches = []
    for p in patterns:
        facts = p.Facts.model_json_schema(mode="serialization")
        nested = facts.pop("$defs", {})
        defs.update(nested)
        facts["title"] = f"Facts of {p.id}"
        facts["description"] = (f"{p.id}: key facts (identity) {', '.join(p.key_facts) or 'none'}. "
                                + (p.Facts.__doc__ or "").strip())
        defs[facts_def_name(p.id)] = facts
        branches.append({"if": {"properties": {"pattern": {"const": p.id}}, "required": ["pattern"]},
                         "then": {"properties": {"facts": {"$ref": f"#/$defs/{facts_def_name(p.id)}"}}}})
    schema["allOf"] = branches
    _open(schema)
    schema["description"] = (f"ecs-autopsy Finding, schema version {SCHEMA_VERSION}. One diagnosis of a stopped "
                             "ECS task or a failed deployment. Objects may carry properties added by later minor "
                             "versions.")
    return schema


def _open(node: Any) -> None:
    """additionalProperties false -> absent (open), everywhere."""
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for value in node.values():
            _open(value)
    elif isinstance(node, list):
        for value in node:
            _open(value)
