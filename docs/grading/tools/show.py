"""Print a case's evidence and the finding's remediation side by side, for grading.

Usage: python docs/grading/tools/show.py tests/cases/devN/ID.json [...]
Reads only the case file and docs/grading/<phase>/<set>-<id>.json (the CLI's output).
"""

import json
import os
import sys

phase = os.environ.get("PHASE", "before")
for path in sys.argv[1:]:
    with open(path) as fh:
        case = json.load(fh)
    ev = case["event"]
    d = ev.get("detail", ev)
    cid = path.split("/")[-2] + "-" + os.path.basename(path)[:-5]
    print("=" * 100)
    print(cid)
    print("NOTE:", case.get("note"))
    print("EXPECT:", json.dumps(case.get("expect")))
    print(
        "launch:",
        d.get("launchType"),
        "group:",
        d.get("group"),
        "startedBy:",
        d.get("startedBy"),
        "cpu/mem:",
        d.get("cpu"),
        d.get("memory"),
        "stopCode:",
        d.get("stopCode"),
    )
    print("stoppedReason:", d.get("stoppedReason"))
    for c in d.get("containers", []):
        print(
            "  container:",
            c.get("name"),
            "exit:",
            c.get("exitCode"),
            "reason:",
            c.get("reason"),
            "image:",
            c.get("image"),
            "health:",
            c.get("healthStatus"),
        )
    for k, v in (case.get("logs") or {}).items() if isinstance(case.get("logs"), dict) else []:
        print(f"  LOGS[{k}]:")
        for line in (v if isinstance(v, list) else [v])[:40]:
            print("    |", str(line)[:220])
    if isinstance(case.get("logs"), list):
        for line in case["logs"][:40]:
            print("    |", str(line)[:220])
    with open(f"docs/grading/{phase}/{cid}.json") as fh:
        f = json.load(fh)
    print("--- FINDING:", f["pattern"], "symptom:", f.get("symptom"), "conf:", f.get("confidence"))
    print("title:", f["title"])
    print("summary:", f["summary"])
    print("facts:", json.dumps(f["facts"]))
    t = f["task"]
    print(
        "task:",
        {
            k: t.get(k)
            for k in (
                "cluster",
                "service",
                "task_definition",
                "task_id",
                "launch_type",
                "platform_version",
                "region",
                "cpu",
                "memory",
            )
        },
    )
    for i, s in enumerate(f["remediation"], 1):
        print(f"  {i}. {s}")
    print("also:", f.get("also_matched"), "gaps:", f.get("gaps"))
