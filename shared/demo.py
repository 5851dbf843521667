"""`make demo` (offline stage): diagnose every sample in events/ and print the findings.

Each sample is events/<name>.json (an EventBridge "ECS Task State Change" event) with an optional
events/<name>.log beside it. The expected pattern is the name up to the first "--".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from shared.engine import diagnose
from shared.inputs import BadInput, load_event, load_logs, offline_evidence
from shared.render.text import render_text, use_colour

ROOT = Path(__file__).resolve().parents[1]


def samples(folder: Path) -> list[tuple[Path, Path | None]]:
    out = []
    for event in sorted(folder.glob("*.json")):
        log = event.with_suffix(".log")
        out.append((event, log if log.exists() else None))
    return out


def main(argv: list[str] | None = None) -> int:
    folder = Path(argv[0]) if argv else ROOT / "events"
    colour = use_colour()
    rows, wrong = [], 0
    for event_path, log_path in samples(folder):
        expected = event_path.stem.split("--")[0]
        started = time.perf_counter()
        try:
            finding = diagnose(offline_evidence(load_event(event_path), load_logs(log_path) if log_path else []))
        except BadInput as exc:
            print(f"error: {exc}", file=sys.stderr)
            wrong += 1
            continue
        ms = (time.perf_counter() - started) * 1000
        print(render_text(finding, colour=colour, excerpt_lines=8))
        print("-" * 100)
        ok = finding.pattern == expected
        wrong += not ok
        rows.append((event_path.stem, finding.pattern, finding.severity, "ok" if ok else f"EXPECTED {expected}", ms))
    print(f"\n{'sample':46s} {'pattern':30s} {'severity':9s} {'check':10s} ms")
    for name, pattern, severity, check, ms in rows:
        print(f"{name:46s} {pattern:30s} {severity:9s} {check:10s} {ms:.1f}")
    print(f"\n{len(rows)} samples, {wrong} not as expected")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
