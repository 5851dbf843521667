"""The README serves a new user first, and the documents link to files that exist in the repository."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "tests" / "cases").glob("*/README.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Written on another branch of issue 14 (the deploy work); merged with it.
PENDING = {ROOT / "docs" / "deploy.md"}


def test_readme_starts_with_the_two_commands():
    first_screen = README.read_text().splitlines()[:8]
    text = "\n".join(first_screen)
    assert re.search(r"^make demo\b", text, re.M) and re.search(r"^make test\b", text, re.M), text


def test_readme_is_short_and_has_the_user_sections():
    text = README.read_text()
    words = len(re.sub(r"```.*?```", "", text, flags=re.S).split())
    assert words < 1500, words
    for heading in ("Quick start", "Install", "Deploy in five commands", "Configure", "Cost per 1,000 stopped tasks",
                    "Uninstall", "Troubleshooting"):
        assert re.search(rf"^## {re.escape(heading)}", text, re.M), heading
    assert "aws secretsmanager create-secret --name" in text
    assert "../" + "shared" not in text  # (spelled in two parts: this check is not itself a reference)


def test_readme_deploys_in_five_commands():
    text = README.read_text()
    block = text.split("## Deploy in five commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith((" ", "\t"))]
    assert len(commands) == 5, commands


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    missing = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        path = (doc.parent / target).resolve()
        if not path.exists() and path not in PENDING:
            missing.append(target)
    assert not missing, f"{doc.name}: links to missing files {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_build_machine_paths(doc):
    assert not re.search(r"(?<![\w.])/work/[a-z]", doc.read_text())
