"""Engine speed: diagnoses per second over the case sets, the fixed cost, and one task with a huge log.

    .venv/bin/python benchmarks/bench_engine.py [--cases 'tests/cases/*'] [--seconds 2] [--rounds 3]
                                                [--baseline PATH] [--clock wall|cpu]

One core (the process is pinned to one CPU where the OS allows), process start and imports
excluded, inputs parsed once (as the Lambda receives a parsed event). Each diagnosis includes
reading the logs, every pattern, the Finding (with redaction) and its JSON serialisation. Measured:

- diagnoses/s over every case (logs as given, then padded to 200 lines with ordinary lines);
- the fixed cost: the same events with no log lines at all;
- one task stopped by ELB health checks whose log ends in a KeyError, with 1,000 to 100,000 lines
  (`aws logs tail` format, ~190 bytes a line): the time must grow linearly with the lines.

Targets (issue 15): >= 2,000 diagnoses/s with 200-line logs; <= 0.15 s for the 100,000-line log.

`--baseline PATH` measures another checkout of ecs-autopsy (say `git worktree add /tmp/base main`)
in the same run: each round runs both, one after the other, in fresh child processes, so that a
shared, noisy machine weighs on both alike; medians over the rounds and their ratio are printed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

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
SERIES = (1_000, 3_000, 10_000, 30_000, 100_000)


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


def case_paths(pattern: str) -> list[Path]:
    return sorted(Path(p) for folder in sorted(glob.glob(str(ROOT / pattern))) for p in glob.glob(f"{folder}/*.json"))


# -------------------------------------------------------------------------------------------------
# One round, in a child process (the code measured is the checkout the child imports)
# -------------------------------------------------------------------------------------------------
def _round(paths: list[Path], seconds: float, series: tuple[int, ...], clock: str = "wall") -> dict:
    # wall: time.perf_counter; cpu: the process's CPU time, which the other work of a shared machine
    # does not lengthen (the engine is single-threaded and does no I/O here, so the two agree on an idle one).
    now = time.process_time if clock == "cpu" else time.perf_counter
    from shared.engine import diagnose
    from shared.inputs import offline_evidence, parse_task_event

    def load(pad_to: int | None, keep_logs: bool = True) -> list[tuple[object, list[str]]]:
        cases = []
        for path in paths:
            case = json.loads(path.read_text())
            logs = case.get("logs") or []
            if not keep_logs:
                logs = []
            elif pad_to and isinstance(logs, list) and len(logs) < pad_to:
                logs = benign_lines(pad_to - len(logs), stream_prefix(logs)) + logs
            cases.append((parse_task_event(case["event"]), logs))
        return cases

    def rate(cases) -> float:
        for event, logs in cases:  # warm-up
            diagnose(offline_evidence(event, logs)).model_dump_json()
        done, started = 0, now()
        deadline = started + seconds
        while now() < deadline:
            for event, logs in cases:
                diagnose(offline_evidence(event, logs)).model_dump_json()
                done += 1
        return done / (now() - started)

    out: dict = {"cases": len(paths)}
    out["as_is"] = rate(load(None))
    out["padded_200"] = rate(load(200))
    out["no_logs"] = rate(load(None, keep_logs=False))

    # The big log: an ELB health-check stop whose logs end in a KeyError.
    chosen = None
    for path in paths:
        case = json.loads(path.read_text())
        logs = case.get("logs")
        reason = case["event"].get("detail", {}).get("stoppedReason") or ""
        if isinstance(logs, list) and "ELB health checks" in reason and "KeyError" in " ".join(logs):
            chosen = (path, parse_task_event(case["event"]), logs)
            break
    if chosen is None:
        return out
    path, event, logs = chosen
    out["big_case"] = path.name
    prefix = stream_prefix(logs)
    out["series"] = {}
    for n in series:
        lines = benign_lines(n - len(logs), prefix) + list(logs)
        times = []
        for _ in range(3 if n >= 30_000 else 7):
            t = now()
            finding = diagnose(offline_evidence(event, lines))
            finding.model_dump_json()
            times.append(now() - t)
        out["series"][str(n)] = {"seconds": min(times), "mb": sum(map(len, lines)) / 1e6, "pattern": finding.pattern}
    return out


def _child(tree: Path, args: argparse.Namespace) -> dict:
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]); "
            "import bench_engine as b; from pathlib import Path; "
            "print(json.dumps(b._round([Path(p) for p in json.loads(sys.argv[3])], float(sys.argv[4]), "
            "tuple(json.loads(sys.argv[5])), sys.argv[6])))")
    paths = json.dumps([str(p) for p in case_paths(args.cases)])
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", code, str(tree), str(Path(__file__).parent), paths,
                           str(args.seconds), json.dumps(list(args.series)), args.clock],
                          cwd=tree, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark round in {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="tests/cases/*", help="glob of case folders, relative to the repository")
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per throughput figure per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--series", type=lambda s: tuple(int(x) for x in s.split(",")), default=SERIES,
                    help="line counts of the big-log series (comma-separated)")
    ap.add_argument("--baseline", type=Path, help="another checkout to measure in the same run (before/after)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time, or the process's CPU time (steadier on a machine other work shares)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # children inherit the pinning
    trees = {"this": ROOT}
    if args.baseline:
        trees = {"baseline": args.baseline.resolve(), "this": ROOT}
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))  # alternate who goes first
        for name in order:
            results[name].append(_child(trees[name], args))
    print(f"{results['this'][0]['cases']} cases ({args.cases}); one core; {args.clock} clock; median of {args.rounds} "
          "interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f}")

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    def big(name: str, n: int) -> float:
        return statistics.median(r["series"][str(n)]["seconds"] for r in results[name] if "series" in r)

    cols = list(trees)
    print(f"{'':44s}" + "".join(f"{c:>12s}" for c in cols) + ("       ratio" if len(cols) == 2 else ""))
    for key, label in (("as_is", "diagnoses/s, logs as given"), ("padded_200", "diagnoses/s, logs padded to 200 lines"),
                       ("no_logs", "diagnoses/s, no logs (fixed cost)")):
        values = [med(c, key) for c in cols]
        ratio = f"{values[-1] / values[0]:11.2f}x" if len(cols) == 2 else ""
        print(f"{label:44s}" + "".join(f"{v:12.0f}" for v in values) + ratio)
    fixed = [1000 / med(c, "no_logs") for c in cols]
    print(f"{'fixed cost per diagnosis, ms':44s}" + "".join(f"{v:12.3f}" for v in fixed))
    if "series" in results["this"][0]:
        first = results["this"][0]
        print(f"one task, ELB stop + KeyError ({first['big_case']}), seconds (and µs per line):")
        for n in args.series:
            values = [big(c, n) for c in cols]
            ratio = f"{values[0] / values[-1]:11.2f}x faster" if len(cols) == 2 else ""
            mb = first["series"][str(n)]["mb"]
            print(f"  {n:>7,} lines {mb:5.1f} MB {'':22s}" + "".join(f"{v:7.3f} ({v / n * 1e6:4.1f})" for v in values)
                  + ratio)
        print(f"  diagnosed: {first['series'][str(args.series[-1])]['pattern']}")
    this_pad, this_big = med("this", "padded_200"), big("this", args.series[-1]) if "series" in results["this"][0] else 0
    print(f"targets: >= 2000/s with 200-line logs: {'MET' if this_pad >= 2000 else 'MISSED'} ({this_pad:.0f}/s); "
          f"<= 0.15 s for {args.series[-1]:,} lines: {'MET' if this_big <= 0.15 else 'MISSED'} ({this_big:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
