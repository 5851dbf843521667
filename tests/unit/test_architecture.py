"""The one-way flow, held over the import graph (every import statement, function-level ones included):

    event -> evidence (reads AWS) -> patterns (pure) -> engine -> pipeline -> render -> notify
                                                              \\-> cli / functions (entry points)

- models, logs, redaction, attribution: the bottom; they import nothing of the flow above them;
- evidence gatherers only read: no engine, pattern, pipeline, render or notify;
- patterns never call AWS and never see a gatherer;
- the engine decides from Evidence only; the pipeline orchestrates and never renders or sends;
- renderers and notifiers never re-diagnose (no engine, pattern, evidence or pipeline);
- the shipped core (shared/, functions/) never imports the CLI's input side, the demo, tests, benchmarks
  or infra;
- the demo (its stand-ins and the in-process Lambda runner, demo/lambda_local.py) is what the tests and
  benchmarks build on, never the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GATHERERS = ("shared.evidence.gather", "shared.evidence.ecs", "shared.evidence.cwlogs", "shared.evidence.elbv2",
             "shared.evidence.iam", "shared.evidence.network", "shared.evidence.errors", "shared.aws")
ENTRY = ("shared.cli", "shared.live", "shared.inputs")
OUTSIDE = ("demo", "tests", "benchmarks", "infra")
AWS_SDKS = ("boto3", "botocore")

# module prefix -> prefixes it must never import
RULES: dict[str, tuple[str, ...]] = {
    "shared.models": ("shared.evidence", "shared.patterns", "shared.engine", "shared.pipeline", "shared.render",
                      "shared.notify", "shared.deploy", *ENTRY, *AWS_SDKS),
    "shared.attribution": ("shared.evidence.gather", "shared.patterns", "shared.engine", "shared.pipeline",
                           *AWS_SDKS),
    "shared.evidence.model": (*GATHERERS, "shared.patterns", "shared.engine", "shared.pipeline", *AWS_SDKS),
    "shared.evidence": ("shared.engine", "shared.patterns", "shared.pipeline", "shared.render", "shared.notify",
                        "shared.deploy", *ENTRY),
    "shared.patterns": (*GATHERERS, "shared.engine", "shared.pipeline", "shared.render", "shared.notify",
                        "shared.deploy", *ENTRY, *AWS_SDKS, "socket", "urllib.request", "requests"),
    "shared.engine": (*GATHERERS, "shared.pipeline", "shared.render", "shared.notify", "shared.deploy", *ENTRY,
                      *AWS_SDKS),
    "shared.deploy": (*GATHERERS, "shared.pipeline", "shared.render", "shared.notify", *ENTRY, *AWS_SDKS),
    "shared.pipeline": ("shared.render", "shared.notify", *ENTRY),
    "shared.changes": (*GATHERERS, "shared.pipeline", "shared.render", "shared.notify", *ENTRY, *AWS_SDKS),
    "shared.render": ("shared.engine", "shared.patterns", "shared.evidence", "shared.pipeline", "shared.notify",
                      "shared.deploy", *ENTRY, *AWS_SDKS),
    "shared.notify": ("shared.engine", "shared.patterns", "shared.evidence", "shared.pipeline", "shared.deploy",
                      *ENTRY),
    "shared": OUTSIDE,
    "functions": (*ENTRY, *OUTSIDE),
    "demo": ("tests", "benchmarks"),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones resolved (against `module`, the file's
    module name, when the file is not in the tree)."""
    tree = ast.parse(path.read_text())
    module = module or module_name(path)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rules_for(module: str) -> tuple[str, ...]:
    """Every rule whose prefix covers the module (the most specific first; all apply)."""
    out: list[str] = []
    for prefix, banned in sorted(RULES.items(), key=lambda kv: -len(kv[0])):
        if _under(module, prefix):
            out += banned
    return tuple(out)


FILES = sorted([*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py"), *(ROOT / "demo").rglob("*.py")])


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_one_way_flow(path):
    module = module_name(path)
    banned = rules_for(module)
    if module == "shared.evidence.model":
        banned = tuple(b for b in banned if b != "shared.evidence")  # its own package's model is fine
    wrong = [f"line {line}: {module} imports {name}" for line, name in imports(path)
             for b in banned if _under(name, b) and not _under(name, module)
             and not (module.startswith("shared.evidence") and _under(name, "shared.evidence")
                      and b == "shared.evidence")]
    assert not wrong, "\n".join(wrong)


def test_the_rules_cover_every_layer():
    """A new package under shared/ needs a rule of its own (or a conscious place under an existing one)."""
    packages = {module_name(p.parent) for p in (ROOT / "shared").rglob("__init__.py")}
    uncovered = [p for p in packages if not any(_under(p, prefix) for prefix in RULES if prefix != "shared")
                 and p not in ("shared",)]
    assert not uncovered, uncovered


def test_the_check_catches_a_violation(tmp_path):
    """The test itself can fail: a pattern importing boto3 or a gatherer is caught. The probe is read as the
    module shared.patterns._probe_violation but written outside the tree: in shared/patterns/ it would be seen
    by tests that read the package's files (test_registry's AWS-client check) while it exists, as under
    `make unit`'s parallel workers."""
    bad = tmp_path / "_probe_violation.py"
    bad.write_text("import boto3\nfrom shared.evidence import ecs\nfrom ..evidence import network\n")
    names = [n for _, n in imports(bad, "shared.patterns._probe_violation")]
    banned = rules_for("shared.patterns._probe_violation")
    assert any(_under(n, b) for n in names for b in banned if b == "boto3")
    assert any(_under(n, b) for n in names for b in banned if b == "shared.evidence.ecs")
    assert any(_under(n, b) for n in names for b in banned if b == "shared.evidence.network")  # relative import
