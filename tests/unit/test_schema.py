"""The Finding's JSON Schema is a versioned public contract: the committed copy must match the code."""

from __future__ import annotations

import json
from pathlib import Path

from shared.models.finding import SCHEMA_ID, SCHEMA_VERSION, finding_json_schema
from tests.unit.helpers import run

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def test_committed_schema_matches_the_model():
    committed = json.loads((SCHEMA_DIR / f"finding-{SCHEMA_VERSION}.json").read_text())
    assert committed == finding_json_schema(), (
        "The Finding model changed: bump SCHEMA_VERSION (minor for added fields, major for removed/changed) "
        "and regenerate with `ecs-autopsy schema > shared/schemas/finding-<version>.json`."
    )


def test_schema_carries_id_and_version():
    schema = finding_json_schema()
    assert schema["$id"] == SCHEMA_ID
    assert SCHEMA_VERSION in SCHEMA_ID


def test_a_real_finding_validates_against_the_committed_schema():
    jsonschema = __import__("pytest").importorskip("jsonschema")
    schema = json.loads((SCHEMA_DIR / f"finding-{SCHEMA_VERSION}.json").read_text())
    finding = run(["Traceback (most recent call last):", '  File "app.py", line 3, in <module>',
                   "KeyError: 'DATABASE_URL'"])
    jsonschema.validate(json.loads(finding.model_dump_json(by_alias=True)), schema)
