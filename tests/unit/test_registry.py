"""The registry holds one pattern per taxonomy id, each with a test module of its own."""

from __future__ import annotations

import re

from shared.patterns import registry
from tests.conftest import ROOT

TAXONOMY = ROOT.parent / "shared" / "taxonomy.md"


def taxonomy_ids() -> set[str]:
    return set(re.findall(r"^\| ([a-z][a-z-]+) \|", TAXONOMY.read_text(), re.M)) - {"pattern"}


def test_every_taxonomy_id_has_exactly_one_pattern():
    ids = [p.id for p in registry()]
    assert len(ids) == len(set(ids))
    assert taxonomy_ids() <= set(ids)  # the original taxonomy; new patterns add ids


def test_ids_are_kebab_case_and_priorities_unique():
    pats = registry()
    assert all(re.fullmatch(r"[a-z]+(?:-[a-z]+)*", p.id) for p in pats)
    priorities = [p.priority for p in pats]
    assert len(priorities) == len(set(priorities))


def test_every_pattern_module_has_a_test_module():
    pattern_dir = ROOT / "shared" / "patterns"
    test_dir = ROOT / "tests" / "unit" / "patterns"
    missing = []
    for pattern in registry():
        module = type(pattern).__module__.rsplit(".", 1)[-1]
        assert (pattern_dir / f"{module}.py").exists()
        if not (test_dir / f"test_{module}.py").exists():
            missing.append(module)
    assert not missing, f"patterns without tests: {missing}"


def test_module_name_matches_id():
    for pattern in registry():
        module = type(pattern).__module__.rsplit(".", 1)[-1]
        assert module == pattern.id.replace("-", "_")


def test_patterns_never_import_aws_clients():
    for path in (ROOT / "shared" / "patterns").glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(?:import|from)\s+(?:boto3|botocore|urllib\.request|socket|requests)\b", text, re.M), \
            path.name
