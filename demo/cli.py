"""`make demo` (`python -m demo`, run from the repository): the whole pipeline on a laptop, against a local AWS stand-in (see demo/run.py).

    python -m demo                     the live demo: moto server + local Slack webhook, the real
                                              Lambda handlers, scenario by scenario; writes demo-out/
    python -m demo --out DIR --tasks N  elsewhere, with a crash loop of N tasks (default 50)
    python -m demo events/             offline: diagnose every sample in a folder, no AWS at all

Offline, each sample is <name>.json (an EventBridge "ECS Task State Change" event) with an optional
<name>.log beside it; the expected pattern is the name up to the first "--".
Exit status: 0 when every scenario (sample) came out as expected, 1 otherwise, 130 when interrupted.
"""

from __future__ import annotations

import argparse
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


def offline(folder: Path) -> int:
    """Diagnose every sample of `folder` from the event and its log file alone."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", nargs="?", type=Path, help="offline: a folder of sample events (no AWS)")
    parser.add_argument("--out", type=Path, default=ROOT / "demo-out", help="output folder (default demo-out/)")
    parser.add_argument("--tasks", type=int, default=None, help="tasks in the deploy crash loop (default 50)")
    parser.add_argument("--quiet", action="store_true", help="progress and summary only, no Slack rendering")
    parser.add_argument("--no-colour", "--no-color", action="store_true")
    args = parser.parse_args(argv)
    if args.samples is not None:
        return offline(args.samples)

    from demo.run import run
    from demo.scenarios import SCENARIOS, with_crash_loop

    if args.tasks is not None and args.tasks < 1:
        parser.error("--tasks must be at least 1")
    scenarios = with_crash_loop(args.tasks) if args.tasks else SCENARIOS
    return run(args.out.resolve(), scenarios=scenarios, colour=use_colour() and not args.no_colour, quiet=args.quiet)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
