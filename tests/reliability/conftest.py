"""Prints the reliability figures at the end of the session (also under `-q`), so that `make test`
shows what was measured, not only that it passed."""

from __future__ import annotations

from tests.reliability.figures import FIGURES


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for section in sorted(FIGURES):
        terminalreporter.write_line(f"{section}:")
        for name, value in FIGURES[section].items():
            terminalreporter.write_line(f"  {name:<60} {value}")
