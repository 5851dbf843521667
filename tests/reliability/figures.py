"""Figures the reliability tests measure; tests/reliability/conftest.py prints them after the run."""

from __future__ import annotations

from collections import defaultdict

FIGURES: dict[str, dict[str, object]] = defaultdict(dict)


def record(section: str, name: str, value: object) -> None:
    FIGURES[section][name] = value


def add(section: str, name: str, n: int = 1) -> None:
    current = FIGURES[section].get(name, 0)
    FIGURES[section][name] = (current if isinstance(current, int) else 0) + n
