"""The samples in events/: each diagnoses as its name says (the name up to the first "--"), every
taxonomy id has one, and `make demo` (python -m demo) passes on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo import cli as demo
from shared.engine import diagnose
from shared.inputs import load_event, load_logs, offline_evidence
from tests.conftest import EVENTS
from tests.unit.test_registry import taxonomy_ids

SAMPLES = demo.samples(EVENTS)


def _diagnose(event_path: Path, log_path: Path | None):
    return diagnose(offline_evidence(load_event(event_path), load_logs(log_path) if log_path else []))


@pytest.mark.parametrize(("event_path", "log_path"), SAMPLES, ids=[e.stem for e, _ in SAMPLES])
def test_sample_diagnoses_as_named(event_path, log_path):
    finding = _diagnose(event_path, log_path)
    assert finding.pattern == event_path.stem.split("--")[0]


@pytest.mark.parametrize(("event_path", "log_path"), SAMPLES, ids=[e.stem for e, _ in SAMPLES])
def test_sample_is_a_real_shaped_eventbridge_event(event_path, log_path):
    raw = json.loads(event_path.read_text())
    assert raw["detail-type"] == "ECS Task State Change" and raw["source"] == "aws.ecs"
    detail = raw["detail"]
    assert detail["lastStatus"] == "STOPPED" and detail["taskArn"] in raw["resources"]
    assert detail["stopCode"] and detail["containers"]
    if log_path:
        task = detail["taskArn"].rsplit("/", 1)[1]
        names = {c["name"] for c in detail["containers"]}
        for line in log_path.read_text().splitlines():
            stream = line.split(" ", 2)[1]  # `aws logs tail` format: timestamp, stream, message
            prefix, container, stream_task = stream.split("/")
            assert (prefix, stream_task) == ("ecs", task) and container in names, line


def test_every_pattern_id_has_a_sample():
    named = {e.stem.split("--")[0] for e, _ in SAMPLES}
    assert taxonomy_ids() <= named
    assert named <= taxonomy_ids()  # no sample names a pattern that does not exist


EXPECTED = {
    "missing-env-var--behind-elb-health-check": ("missing-env-var", "health-check-failed",
                                                 {"variable": "DATABASE_URL"}),
    "health-check-failed--bound-loopback": ("health-check-failed", None,
                                            {"cause": "not-listening", "listen_address": "127.0.0.1"}),
    "iam-access-denied": ("iam-access-denied", None, {"action": "dynamodb:PutItem", "role_kind": "task role"}),
    "image-pull-failed": ("image-pull-failed", None, {"cause": "not-found"}),
    "secrets-retrieval-failed": ("secrets-retrieval-failed", None, {"cause": "access-denied"}),
    "out-of-memory": ("out-of-memory", None, {"container": "app", "limit": "1024 MiB"}),
    "database-connection-failed": ("database-connection-failed", None,
                                   {"cause": "refused", "engine": "postgres", "port": 5432}),
    "expected-stop--scale-in": ("expected-stop", None, {"reason": "scale-in"}),
    "expected-stop--spot-errors-at-shutdown": ("expected-stop", None, {"reason": "spot"}),
    "disk-full": ("disk-full", None, {"during": "image pull (layer extraction)"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_samples_carry_their_key_facts(name):
    event_path = EVENTS / f"{name}.json"
    log_path = event_path.with_suffix(".log")
    pattern, symptom, facts = EXPECTED[name]
    finding = _diagnose(event_path, log_path if log_path.exists() else None)
    assert (finding.pattern, finding.symptom) == (pattern, symptom)
    assert {k: finding.facts.get(k) for k in facts} == facts


def test_demo_passes_on_the_samples(capsys):
    assert demo.main([str(EVENTS)]) == 0
    out = capsys.readouterr().out
    assert f"{len(SAMPLES)} samples, 0 not as expected" in out


def test_demo_fails_when_a_sample_is_misnamed(tmp_path, capsys):
    (tmp_path / "disk-full--really.json").write_text((EVENTS / "unknown.json").read_text())
    assert demo.main([str(tmp_path)]) == 1
    assert "EXPECTED disk-full" in capsys.readouterr().out
