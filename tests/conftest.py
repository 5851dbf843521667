from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EVENTS = ROOT / "events"


DEV_CASES = ROOT / "tests" / "cases"


def case_files() -> list[Path]:
    """The public corpus (beside the repo) and our own case sets under tests/cases/."""
    return sorted(CORPUS.glob("*.json")) + sorted(DEV_CASES.glob("*/*.json"))


@pytest.fixture
def load_case():
    def _load(path: Path) -> dict:
        return json.loads(path.read_text())

    return _load


@pytest.fixture(autouse=True)
def _fresh_warm_caches():
    """Each test is a cold start: no task definition, crash-loop logs, clients or settings carried over."""
    from shared import warm

    warm.reset()
    yield
    warm.reset()


@pytest.fixture(autouse=True, scope="session")
def _ecs_as_the_stand_in_models_it():
    """moto lacks ECS service deployments and revisions: every test's moto has the stand-in's
    (demo/deployments.py), as `make demo`'s server does."""
    from demo.standin import extend_ecs

    extend_ecs()
