"""The public real-world corpus and our case sets, diagnosed through the same code path as the CLI."""

from __future__ import annotations

import json

import pytest

from shared.engine import diagnose
from shared.inputs import load_case, offline_evidence
from tests.conftest import case_files


def _fact_found(expected, facts) -> bool:
    want = str(expected).strip().lower()
    values = []

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list | tuple):
            for x in v:
                walk(x)
        elif v is not None:
            values.append(str(v).strip().lower())

    walk(facts)
    return any(want == v or want in v for v in values)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_case(path):
    expect = json.loads(path.read_text())["expect"]
    event, logs = load_case(path)
    finding = diagnose(offline_evidence(event, logs))
    assert finding.pattern == expect["pattern"]
    for key, value in (expect.get("facts") or {}).items():
        assert _fact_found(value, finding.facts), f"{key}={value!r} not in {finding.facts}"
    if expect.get("cause"):
        assert finding.facts.get("cause") == expect["cause"]


@pytest.mark.parametrize("path", case_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_same_diagnosis_under_a_long_benign_prefix(path):
    """A real tail is mostly ordinary lines: 150 of them before the case's own lines (same format,
    same stream) must not change the diagnosis."""
    from benchmarks.bench_engine import benign_lines, stream_prefix

    expect = json.loads(path.read_text())["expect"]
    event, logs = load_case(path)
    if not isinstance(logs, list):
        pytest.skip("logs given as a text or a mapping")
    padded = benign_lines(150, stream_prefix(logs)) + list(logs)
    assert diagnose(offline_evidence(event, padded)).pattern == expect["pattern"]
