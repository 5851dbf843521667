"""Compare grading rounds side by side: one column per grades TSV.

Usage: python docs/grading/tools/compare.py LABEL=PATH [LABEL=PATH ...]
Prints a Markdown table of the rubric totals (see README.md) and of the fault-tag counts.
"""

import collections
import csv
import sys


def totals(path: str) -> dict[str, str]:
    with open(path) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    n = len(rows)

    def share(k: int, d: int) -> str:
        return f"{k}/{d} ({100 * k / d:.0f}%)" if d else "-"

    shown = [r for r in rows if r["E"] != "n.a."]
    tags: collections.Counter[str] = collections.Counter()
    for r in rows:
        tags.update(t.strip() for t in r["faults"].split(",") if t.strip() not in ("", "-"))
    out = {
        "findings": str(n),
        "diagnosis right (yes*)": f"{sum(r['diag'] != 'no' for r in rows)}/{n} ({sum(r['diag'] == 'yes*' for r in rows)})",
        "F1, right first step": share(sum(r["F1"] == "yes" for r in rows), n),
        "W, some step wrong": share(sum(r["W"] == "yes" for r in rows), n),
        "E, commands run as pasted": share(sum(r["E"] == "yes" for r in shown), len(shown)),
        "P, placeholders for known values": str(sum(int(r["P"]) for r in rows)),
        "S, uses the case's facts": share(sum(r["S"] == "yes" for r in rows), n),
    }
    out.update({f"tag: {t}": str(c) for t, c in tags.items()})
    return out


def main(args: list[str]) -> None:
    cols = [(a.split("=", 1)[0], totals(a.split("=", 1)[1])) for a in args]
    keys: list[str] = []
    for _, t in cols:
        keys += [k for k in t if k not in keys]
    print("| measure | " + " | ".join(label for label, _ in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for k in keys:
        print(f"| {k} | " + " | ".join(t.get(k, "0" if k.startswith("tag:") else "-") for _, t in cols) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
