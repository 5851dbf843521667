"""Turn a grades TSV (one row per finding) into the Markdown table and totals.

Usage: python docs/grading/tools/tally.py docs/grading/before_grades.tsv > docs/grading/before_table.md
Columns: case pattern diag F1 W P E S faults note (diag: yes, yes* = pattern right but a sub-fact wrong, no).
"""

import collections
import csv
import sys


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else f"{n}/0"


def main(path: str) -> None:
    with open(path) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    n = len(rows)
    print("| # | case | pattern | diagnosis right | F1 | W | P | E | S | fault |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(rows, 1):
        note = r["note"].replace("|", "\\|")
        print(
            f"| {i} | {r['case']} | {r['pattern']} | {r['diag']} | {r['F1']} | {r['W']} | {r['P']} | {r['E']} | "
            f"{r['S']} | {note} |"
        )
    diag = sum(r["diag"].startswith("yes") for r in rows)
    diag_star = sum(r["diag"] == "yes*" for r in rows)
    f1 = sum(r["F1"] == "yes" for r in rows)
    w = sum(r["W"] == "yes" for r in rows)
    shown = [r for r in rows if r["E"] != "n.a."]
    e = sum(r["E"] == "yes" for r in shown)
    p_total = sum(int(r["P"]) for r in rows)
    p_rows = sum(int(r["P"]) > 0 for r in rows)
    s = sum(r["S"] == "yes" for r in rows)
    print()
    print("## Totals")
    print()
    print(f"- Findings graded: {n}")
    print(f"- Diagnosis (pattern) right: {pct(diag, n)}; of these, {diag_star} have a wrong sub-fact (marked yes*)")
    print(f"- F1, first step is the right first action: {pct(f1, n)}")
    print(f"- W, at least one wrong or inapplicable step: {pct(w, n)}")
    print(
        f"- Findings that show a command or policy: {len(shown)}; of which E yes (all run/validate as pasted): "
        f"{pct(e, len(shown))}"
    )
    print(f"- P, placeholders for known values: {p_total} in total, in {p_rows} findings")
    print(f"- S, some step uses this failure's own facts: {pct(s, n)}")
    tags = collections.Counter(t for r in rows for t in r["faults"].split(",") if t and t != "-")
    print()
    print("## Fault tags (findings carrying each)")
    print()
    for t, c in tags.most_common():
        print(f"- {t}: {c}")


if __name__ == "__main__":
    main(sys.argv[1])
