"""The terminal output (`--format text`): no Markdown fences, backticks, tables or Python reprs."""

from __future__ import annotations

import re

import pytest

from shared.render.markdown import render_markdown
from shared.render.text import render_text
from tests.unit.test_fixes_paste import all_findings

_REPR = re.compile(r"=\[['\"]|=\{['\"]|=None\b|=\(['\"]")


@pytest.fixture(scope="module")
def findings():
    return all_findings()


def test_text_output_has_no_markdown_and_no_reprs(findings):
    bad = []
    for name, f in findings:
        text = render_text(f)
        if "```" in text.split("\nLog excerpt")[0]:
            bad.append(f"{name}: a Markdown fence")
        if re.search(r"^\s*\|.*\|\s*$", text.split("\nLog excerpt")[0], re.M):
            bad.append(f"{name}: a table")
        head = text.split("\nEvidence")[0]  # above the quoted evidence: only our own words and facts
        if _REPR.search(head):
            bad.append(f"{name}: a Python repr: {_REPR.search(head).group(0)}")
    assert not bad, "\n".join(bad[:30])


def test_markdown_facts_are_not_reprs(findings):
    for name, f in findings:
        facts = "\n".join(line for line in render_markdown(f).splitlines() if line.startswith("- ") and ": `" in line)
        assert not re.search(r"`\['|`\{'", facts), name


def test_facts_read_as_written_and_steps_carry_no_fences(findings):
    _, f = findings[0]
    f = f.model_copy(update={"facts": {"variables": ["A_URL", "B_KEY"], "exit_codes": {"app": 1}},
                             "remediation": ['Add: ```[{"name": "A_URL"}]``` then `aws ecs update-service '
                                             '--cluster prod --service api --task-definition api`.']})
    text = render_text(f)
    assert "variables=A_URL, B_KEY; exit_codes=app=1" in text
    assert "```" not in text and "\n         aws ecs update-service --cluster prod" in text
