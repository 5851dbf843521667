"""Engine speed: diagnoses per second over the corpus, and one task with a 100,000-line log.

    .venv/bin/python benchmarks/bench_engine.py [--corpus tests/cases/public] [--seconds 3]

One core (the process is pinned to one CPU where the OS allows), process start and imports
excluded, inputs parsed once (as the Lambda receives a parsed event). Each diagnosis includes
log normalisation, every pattern, the Finding (with redaction) and its JSON serialisation.
Targets (issue 2): >= 2,000 diagnoses/s with 200-line logs; <= 0.3 s for the 100,000-line log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.engine import diagnose  # noqa: E402
from shared.inputs import offline_evidence, parse_task_event  # noqa: E402

# Ordinary lines an application writes while it works: what fills a real 200-line tail.
_BENIGN = [
    'INFO  [main] c.e.orders.web.RequestLogger - GET /api/orders/{n} 200 {ms}ms request_id={rid}',
    '{{"level":"info","time":"2024-05-01T10:00:{s:02d}Z","msg":"request completed","path":"/api/items/{n}",'
    '"status":200,"duration_ms":{ms},"request_id":"{rid}"}}',
    '10.0.{a}.{b} - - [01/May/2024:10:00:{s:02d} +0000] "GET /health HTTP/1.1" 200 2 "-" "ELB-HealthChecker/2.0"',
    '[2024-05-01 10:00:{s:02d},123] INFO worker.tasks: processed job id={n} queue=default in {ms} ms',
    'time="2024-05-01T10:00:{s:02d}Z" level=info msg="cache refreshed" entries={n} took={ms}ms',
    'DEBUG sqlalchemy.engine: SELECT orders.id, orders.status FROM orders WHERE orders.id = %(id_1)s',
    '2024-05-01 10:00:{s:02d}.456  INFO 1 --- [nio-8080-exec-{a}] o.s.web.servlet.DispatcherServlet : Completed 200 OK',
]


def benign_lines(n: int, prefix: str | None, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        line = rnd.choice(_BENIGN).format(n=rnd.randrange(1, 99999), ms=rnd.randrange(1, 900),
                                          rid=f"{rnd.getrandbits(64):016x}", s=i % 60, a=rnd.randrange(1, 9),
                                          b=rnd.randrange(2, 250))
        out.append(f"{prefix}{line}" if prefix else line)
    return out


def stream_prefix(logs: list[str]) -> str | None:
    """Reuse the `aws logs tail` prefix of the case (timestamp + stream) for padding lines."""
    for line in logs:
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0][:4].isdigit() and "/" in parts[1]:
            return f"{parts[0]} {parts[1]} "
    return None


def load_cases(folder: Path, pad_to: int | None) -> list[tuple[object, list[str]]]:
    cases = []
    for path in sorted(folder.glob("*.json")):
        case = json.loads(path.read_text())
        logs = case.get("logs") or []
        if pad_to and len(logs) < pad_to:
            logs = benign_lines(pad_to - len(logs), stream_prefix(logs)) + logs
        cases.append((parse_task_event(case["event"]), logs))
    return cases


def rate(cases, seconds: float) -> tuple[float, int]:
    for event, logs in cases:  # warm-up
        diagnose(offline_evidence(event, logs)).model_dump_json()
    done, started = 0, time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for event, logs in cases:
            diagnose(offline_evidence(event, logs)).model_dump_json()
            done += 1
    return done / (time.perf_counter() - started), done


def big_log(cases, n_lines: int) -> tuple[float, float, str]:
    """Median seconds to diagnose one task whose log has n_lines lines, the failure at the end."""
    event, logs = next((e, lg) for e, lg in cases if len(lg) >= 5 and "KeyError" in " ".join(lg)) \
        if any("KeyError" in " ".join(lg) for _, lg in cases) else cases[0]
    prefix = stream_prefix(logs)
    lines = benign_lines(n_lines - len(logs), prefix) + list(logs)
    times = []
    finding = None
    for _ in range(5):
        t = time.perf_counter()
        finding = diagnose(offline_evidence(event, lines))
        finding.model_dump_json()
        times.append(time.perf_counter() - t)
    assert finding is not None
    return statistics.median(times), min(times), finding.pattern


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "tests" / "cases" / "public",
                    help="folder of case files (default: the public corpus, tests/cases/public)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--big", type=int, default=100_000)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    raw = load_cases(args.corpus, None)
    if not raw:
        ap.error(f"no case files (*.json) in {args.corpus}")
    padded = load_cases(args.corpus, 200)
    r_raw, n_raw = rate(raw, args.seconds)
    r_pad, n_pad = rate(padded, args.seconds)
    median, best, pattern = big_log(padded, args.big)
    print(f"corpus cases: {len(raw)} (one core, imports and parsing excluded)")
    print(f"diagnoses/s, corpus logs as-is:        {r_raw:8.0f}  ({n_raw} diagnoses)")
    print(f"diagnoses/s, logs padded to 200 lines: {r_pad:8.0f}  ({n_pad} diagnoses)   target >= 2000")
    print(f"one task, {args.big:,}-line log:          {median:8.3f} s median, {best:.3f} s best "
          f"(diagnosed {pattern})   target <= 0.3 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
