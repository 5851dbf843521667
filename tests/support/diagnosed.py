"""A case file's finding, diagnosed once per test session.

Several unit tests judge the finding of every case (test_corpus: pattern and facts; test_fixes_paste and
test_render_text: its fix and its output). Diagnosing ~1,000 cases is most of what they cost, and the
finding of a case does not depend on which test asks for it: each is diagnosed from a cold start (every
warm state dropped first, as the conftest does before each test), and a Finding is frozen, so the one
finding can be handed to every test that reads it.

Under `make unit`'s parallel workers (pytest-xdist, `--dist loadgroup`) the cache is one per worker: the tests
that read it carry ON_ONE_WORKER, so they run on one worker and each case is still diagnosed once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from shared import warm
from shared.engine import diagnose
from shared.inputs import load_case, offline_evidence
from shared.models.finding import Finding

ON_ONE_WORKER = pytest.mark.xdist_group("case-findings")


@cache
def case_finding(path: Path) -> Finding:
    """The finding of the case file at `path`, as `ecs-autopsy diagnose` makes it on a cold start."""
    warm.reset()
    event, logs = load_case(path)
    return diagnose(offline_evidence(event, logs))
