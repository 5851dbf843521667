"""Every pattern's declarations hold: what it needs, what it outranks, its key facts and Facts model.

These declarations are the only place a pattern's meaning lives (no list keyed on pattern ids in the
pipeline, engine, evidence, notify or deploy code), so they are checked here, pattern by pattern.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.evidence.model import NEEDS
from shared.patterns import by_id, fallback, registry
from shared.patterns.base import Facts

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = registry()
IDS = {p.id for p in PATTERNS}


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_needs_are_known_second_phase_reads(pattern):
    assert set(pattern.needs) <= NEEDS, f"{pattern.id} needs unknown evidence {set(pattern.needs) - NEEDS}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_wants_stays_within_needs(pattern):
    facts = {name: "x" for name in pattern.Facts.model_fields} | {"cause": "network", "action": "s3:GetObject",
                                                                 "principal": "arn:aws:iam::1:role/r"}
    for probe in ({}, facts, {**facts, "cause": "timeout"}, {**facts, "cause": "no-credentials"}):
        assert pattern.wants(probe) <= pattern.needs


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_outranks_names_other_real_patterns_without_cycles(pattern):
    assert pattern.id not in pattern.outranks
    for other in pattern.outranks:
        assert other in IDS, f"{pattern.id} outranks unknown id {other!r}"
        assert pattern.id not in by_id(other).outranks, f"{pattern.id} and {other} outrank each other"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.id)
def test_key_facts_are_declared_facts(pattern):
    assert issubclass(pattern.Facts, Facts)
    fields = set(pattern.Facts.model_fields)
    assert set(pattern.key_facts) <= fields, f"{pattern.id}: key facts {set(pattern.key_facts) - fields} undeclared"


def test_exactly_one_fallback_and_it_is_last():
    assert [p.id for p in PATTERNS if p.fallback] == [fallback().id] and PATTERNS[-1].fallback


def test_one_generic_catch_all_at_most():
    assert len([p for p in PATTERNS if p.generic]) <= 1


def test_every_verdict_is_used_by_a_pattern():
    assert {p.verdict for p in PATTERNS} == {"failure", "expected", "undetermined"}


# -- no central lists keyed on pattern ids ---------------------------------------------------------
PIPELINE_CODE = ["shared/pipeline.py", "shared/engine.py", "shared/deploy.py", "shared/evidence", "shared/notify",
                 "shared/render", "functions"]


def test_no_pattern_id_is_spelled_outside_the_pattern_files():
    """A pattern id as a string literal in the pipeline's code is a central list in disguise. (The
    fallback's id, "unknown", is also an English word: it counts only where it names a pattern.)"""
    plain = IDS - {fallback().id}
    offenders = []
    for entry in PIPELINE_CODE:
        base = ROOT / entry
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and node.value in plain:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
                named = (node.value if isinstance(node, ast.keyword) and node.arg == "pattern" else None)
                if isinstance(named, ast.Constant) and named.value in IDS:
                    offenders.append(f"{path.relative_to(ROOT)}:{named.lineno}: pattern={named.value!r}")
    assert not offenders, "\n".join(offenders)
