from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
DEV_CASES = ROOT / "tests" / "cases"
# The project's public reference corpus: 27 real-world cases, kept in the repository (tests/cases/public).
CORPUS = DEV_CASES / "public"


def case_files() -> list[Path]:
    """The public corpus first, then our own case sets, all under tests/cases/."""
    others = [p for p in sorted(DEV_CASES.glob("*/*.json")) if p.parent != CORPUS]
    return sorted(CORPUS.glob("*.json")) + others


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


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The run is over: the interpreter's exit need not search the ~500,000 objects the tests left (modules, test
    items and reports, cached findings) for garbage, as its final collections do: ~1.9 s of CPU after `make unit`
    in one process (2.9 -> 1.0 s from pytest's end to the process's, 2-core machine). The process's exit frees
    them all the same."""
    gc.freeze()
