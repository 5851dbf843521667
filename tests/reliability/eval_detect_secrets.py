"""Measures Yelp's detect-secrets against shared.redact on the same corpora (not a test: run by hand).

    .venv/bin/pip install detect-secrets && .venv/bin/python tests/reliability/eval_detect_secrets.py

Prints import cost, CPU per line, false positives on tests/data/secrets/benign.log and formats fully
masked from tests/data/secrets/secrets.json, for detect-secrets with its default plugins (as
`scan_line` runs them), detect-secrets without the entropy and public-IP plugins, and shared.redact.
Result when measured (see shared/redact.py): detect-secrets is not adopted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "secrets"
BENIGN = (DATA / "benign.log").read_text().splitlines()
SECRETS = json.loads((DATA / "secrets.json").read_text())


def evaluate(name: str, mask_line: Callable[[str], str], mask_lines: Callable[[list[str]], list[str]] | None = None,
             lines: list[str] = BENIGN) -> None:
    start = time.process_time()
    changed = sum(1 for line in lines if mask_line(line) != line)
    per_line = (time.process_time() - start) / len(lines) * 1e6
    mask_lines = mask_lines or (lambda entry: [mask_line(line) for line in entry])
    missed = [e["format"] for e in SECRETS if any(s in "\n".join(mask_lines(e["lines"])) for s in e["secrets"])]
    print(f"{name}: {per_line:.0f} us/line; false positives {changed}/{len(lines)} ({changed / len(lines):.1%}); "
          f"formats fully masked {len(SECRETS) - len(missed)}/{len(SECRETS)}")


def main() -> None:
    start = time.perf_counter()
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings, get_plugins
    print(f"import detect_secrets: {(time.perf_counter() - start) * 1000:.0f} ms")

    def replace(line: str, values: set[str]) -> str:
        for value in sorted(values, key=len, reverse=True):
            line = line.replace(value, "[REDACTED]")
        return line

    with default_settings():
        evaluate("detect-secrets, default plugins (scan_line)",
                 lambda line: replace(line, {s.secret_value for s in scan_line(line) if s.secret_value}))
        plugins = [p for p in get_plugins() if type(p).__name__ not in
                   ("Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector")]
        evaluate("detect-secrets, no entropy/IP plugins", lambda line: replace(line, {
            s.secret_value for p in plugins for s in p.analyze_line(filename="x.log", line=line, line_number=1)
            if s.secret_value}))

    from shared.redact import redact, redact_lines
    evaluate("shared.redact", redact, redact_lines)


if __name__ == "__main__":
    main()
