"""A case file's finding, diagnosed once per test session.

Several unit tests judge the finding of every case (test_corpus: pattern and facts; test_fixes_paste and
test_render_text: its fix and its output). Diagnosing ~1,000 cases is most of what they cost, and the
finding of a case does not depend on which test asks for it: each is diagnosed from a cold start (every
warm state dropped first, as the conftest does before each test), and a Finding is frozen, so the one
finding can be handed to every test that reads it.

Under `make unit`'s parallel workers (pytest-xdist) the cache is one per worker: the test modules that read it
are READERS, which tests/unit/conftest.py's scheduler hands to one worker as one unit, so each case is still
diagnosed once. (pytest-xdist's own `--dist loadgroup` and its xdist_group mark did this until pytest 9.2,
whose structured node ids drop the group xdist writes into a node id: pytest-xdist issue 1386.) A test
outside READERS that reads a case finding fails, rather than diagnosing every case again on the other worker.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from shared import warm
from shared.engine import diagnose
from shared.inputs import load_case, offline_evidence
from shared.models.finding import Finding

# The test modules that read case findings (node id paths, relative to the repository).
READERS = ("tests/unit/test_corpus.py", "tests/unit/test_fixes_paste.py", "tests/unit/test_render_text.py")


def case_finding(path: Path) -> Finding:
    """The finding of the case file at `path`, as `ecs-autopsy diagnose` makes it on a cold start."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "")  # "<node id> (setup|call|teardown)" while pytest runs one
    assert not test or test.split("::", 1)[0] in READERS, (
        f"{test.split(' ')[0]} reads case findings: add its module to READERS in tests/support/diagnosed.py, "
        "so that `make unit` runs it on the worker that holds them")
    return _case_finding(path)


@cache
def _case_finding(path: Path) -> Finding:
    warm.reset()
    event, logs = load_case(path)
    return diagnose(offline_evidence(event, logs))
