"""The Finding's JSON Schema is a versioned public contract, generated from the model and the registry.

- The committed schema of the current version is exactly what `ecs-autopsy schema` generates.
- Every committed version stays compatible: what it defines is still defined (same name, same type),
  nothing new is required, and from 1.1 on (open objects) today's findings validate against it.
- Every finding's facts fit its pattern's declared Facts model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.engine import diagnose
from shared.inputs import load_event, offline_evidence
from shared.models.finding import SCHEMA_ID, SCHEMA_VERSION
from shared.patterns import by_id, registry
from shared.schema import facts_def_name, generate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "shared" / "schemas"
COMMITTED = sorted(SCHEMA_DIR.glob("finding-*.json"))
jsonschema = pytest.importorskip("jsonschema")


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in path.stem.removeprefix("finding-").split("."))


def _findings() -> list:
    out = []
    for event in sorted((ROOT / "events").glob("*.json")):
        log = event.with_suffix(".log")
        out.append(diagnose(offline_evidence(load_event(event), log.read_text() if log.exists() else [])))
    return out


FINDINGS = _findings()


def _model_part(schema: dict) -> dict:
    """The schema without what the pattern registry contributes (ids, per-pattern facts)."""
    out = json.loads(json.dumps(schema))
    out["properties"]["pattern"].pop("anyOf", None)
    out.pop("allOf", None)
    out["$defs"] = {k: v for k, v in out.get("$defs", {}).items() if not k.startswith("Facts_")}
    return out


def _ids(schema: dict) -> list[str]:
    return schema["properties"]["pattern"]["anyOf"][0]["enum"]


def test_committed_schema_is_the_generated_one():
    """The model's part must match exactly; the registry's part may have grown: a new pattern is one file and
    its test (its id and facts join the schema; the committed file is regenerated with the next version bump),
    but a committed pattern or fact never disappears."""
    committed = json.loads((SCHEMA_DIR / f"finding-{SCHEMA_VERSION}.json").read_text())
    now = generate()
    assert _model_part(committed) == _model_part(now), (
        "The Finding model changed: bump SCHEMA_VERSION (minor for added fields, major for removed/changed) "
        "and regenerate with `ecs-autopsy schema > shared/schemas/finding-<version>.json`."
    )
    assert set(_ids(committed)) <= set(_ids(now)), "a pattern id of the committed schema is gone"
    for name, facts in committed["$defs"].items():
        if name.startswith("Facts_"):
            assert set(facts.get("properties", {})) <= set(now["$defs"][name].get("properties", {})), name


def test_schema_carries_id_version_and_every_pattern_id():
    schema = generate()
    assert schema["$id"] == SCHEMA_ID and SCHEMA_VERSION in SCHEMA_ID
    assert _ids(schema) == [p.id for p in registry()]
    for p in registry():
        assert facts_def_name(p.id) in schema["$defs"]


def test_objects_are_open_so_later_minor_versions_validate():
    text = json.dumps(generate())
    assert '"additionalProperties": false' not in text


@pytest.mark.parametrize("old", [p for p in COMMITTED if _version(p) >= (1, 1)], ids=lambda p: p.stem)
def test_todays_findings_validate_against_every_open_committed_version(old):
    schema = json.loads(old.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for f in FINDINGS:
        errors = list(validator.iter_errors(json.loads(f.model_dump_json(by_alias=True))))
        assert not errors, f"{f.pattern}: {errors[0].message} at {list(errors[0].path)}"


def _props(schema: dict) -> dict[str, dict]:
    """Every property of every object of the schema, as {"Def.prop": subschema}."""
    out = {f"Finding.{k}": v for k, v in schema.get("properties", {}).items()}
    for name, d in schema.get("$defs", {}).items():
        for k, v in d.get("properties", {}).items():
            out[f"{name}.{k}"] = v
    return out


def _types(sub: dict) -> set[str]:
    if "type" in sub:
        return {sub["type"]} if isinstance(sub["type"], str) else set(sub["type"])
    if "anyOf" in sub:
        return set().union(*(_types(s) for s in sub["anyOf"]))
    if "$ref" in sub:
        return {"object"}
    return set()


# Documented in the 1.1 changelog (docs/schema.md): a deployment finding no longer puts the service ARN in
# task.task_arn (it moved to deployment.service_arn), so task_arn may be null.
WIDENED = {("1.0", "TaskSummary.task_arn")}


@pytest.mark.parametrize("old", COMMITTED, ids=lambda p: p.stem)
def test_every_committed_version_is_a_subset_of_the_current_schema(old):
    before, now = json.loads(old.read_text()), generate()
    version = old.stem.removeprefix("finding-")
    current = _props(now)
    for path, sub in _props(before).items():
        assert path in current, f"{path} of {old.name} is gone: removing a field needs a major version"
        if (version, path) in WIDENED:
            continue
        old_types, new_types = _types(sub), _types(current[path])
        assert old_types <= new_types or not old_types, f"{path}: {old_types} -> {new_types}"
    required_now = set(now.get("required", []))
    assert required_now <= set(before.get("required", [])), "a new required field needs a major version"


@pytest.mark.parametrize("finding", FINDINGS, ids=lambda f: f.pattern)
def test_facts_fit_the_patterns_declared_model(finding):
    model = by_id(finding.pattern).Facts
    model.model_validate(finding.facts)
    undeclared = set(finding.facts) - set(model.model_fields)
    assert not undeclared, f"{finding.pattern} reports facts its Facts model does not declare: {undeclared}"
