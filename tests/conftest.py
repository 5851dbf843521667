from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
EVENTS = ROOT / "events"


def case_files() -> list[Path]:
    return sorted(CORPUS.glob("*.json"))


@pytest.fixture
def load_case():
    def _load(path: Path) -> dict:
        return json.loads(path.read_text())

    return _load
