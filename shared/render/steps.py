"""The parts of a remediation step: prose, inline code and fenced blocks.

A step is one string written by a pattern: sentences with `inline code` (a value, a command) and
```fenced``` blocks (a JSON fragment, a policy). The renderers use `segments()` to show code without
Markdown where the channel has none (the terminal), and the checks in the test suite use
`commands()`, `policies()` and `placeholders()` to prove every step can be pasted as written.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from shared.scan import lazy_re

Kind = Literal["text", "code", "block"]

_SPAN = lazy_re(r"```(?:json|bash|sh|shell)?\n?(?P<block>.*?)\n?```|`(?P<code>[^`\n]+)`", re.DOTALL)

# Programs a step may tell someone to run; a code span starting with one of them is a command.
SHELL_PROGRAMS = frozenset({
    "aws", "docker", "curl", "wget", "nc", "ncat", "dig", "nslookup", "host", "getent", "ss", "netstat", "du", "df",
    "npm", "yarn", "pnpm", "pip", "pip3", "apt-get", "apk", "yum", "dnf", "apt-file", "python", "python3", "node",
    "java", "ls", "cat", "env", "printenv", "grep", "sh", "bash", "openssl", "psql", "mysql", "redis-cli",
    "mongosh", "ping", "telnet", "find", "sudo", "systemctl", "journalctl", "docker-compose", "ldd", "file",
    "bundle", "go", "cargo", "mvn", "gradle", "free", "top", "ps", "kill", "chmod", "chown", "mount", "uname",
})

# `<what to put>`: a value the step could not know (a `<` that starts a word and closes on the line).
PLACEHOLDER = lazy_re(r"<(?P<name>[A-Za-z][^<>\n]{0,80})>")


def segments(step: str) -> list[tuple[Kind, str]]:
    """(kind, text) in order: "text" prose, "code" an inline span, "block" a fenced block."""
    out: list[tuple[Kind, str]] = []
    pos = 0
    for m in _SPAN.finditer(step):
        if m.start() > pos:
            out.append(("text", step[pos : m.start()]))
        if m.group("block") is not None:
            out.append(("block", m.group("block").strip("\n")))
        else:
            out.append(("code", m.group("code")))
        pos = m.end()
    if pos < len(step):
        out.append(("text", step[pos:]))
    return out


def code(step: str) -> list[str]:
    return [text for kind, text in segments(step) if kind != "text"]


def is_command(span: str) -> bool:
    words = span.strip().split(None, 1)
    return bool(words) and words[0] in SHELL_PROGRAMS and not span.strip().startswith(("{", "["))


# `port=$(aws ecs describe-task-definition ...)`: a line that reads a value for the next command.
_ASSIGN = lazy_re(r"^\s*[A-Za-z_]\w*=\$\((?P<cmd>.+)\)\s*$")


def commands(step: str) -> list[str]:
    """The shell commands of a step (inline spans and blocks whose first word is a program, and the
    command of a `name=$(...)` line)."""
    out: list[str] = []
    for span in code(step):
        lines = [line for line in span.splitlines() if line.strip()] if "\n" in span else [span]
        for line in lines:
            assign = _ASSIGN.match(line)
            if assign and is_command(assign.group("cmd")):
                out.append(assign.group("cmd").strip())
            elif is_command(line):
                out.append(line.strip())
    return out


def json_values(step: str) -> list[Any]:
    """Every code span of the step that is JSON (an object or a list), parsed; a span that looks like
    JSON but does not parse comes back as the string, for the checks to report."""
    out: list[Any] = []
    for span in code(step):
        s = span.strip()
        if not s.startswith(("{", "[")):
            continue
        try:
            out.append(json.loads(s))
        except json.JSONDecodeError:
            out.append(s)
    return out


def _is_statement(value: Any) -> bool:
    return isinstance(value, dict) and "Effect" in value


def policies(step: str) -> list[Any]:
    """IAM policy documents of a step: a {"Statement": ...} object, a bare statement (wrapped into a
    document), and the --policy-document of an `aws iam put-role-policy` command. Text that was meant
    to be a policy but does not parse comes back as a string."""
    import shlex

    found: list[Any] = []
    for value in json_values(step):
        if isinstance(value, str):
            if '"Effect"' in value or '"Statement"' in value:
                found.append(value)
        elif isinstance(value, dict) and "Statement" in value:
            found.append(value)
        elif _is_statement(value):
            found.append({"Version": "2012-10-17", "Statement": [value]})
        elif isinstance(value, list) and value and all(_is_statement(v) for v in value):
            found.append({"Version": "2012-10-17", "Statement": value})
    for cmd in commands(step):
        if "--policy-document" not in cmd:
            continue
        try:
            words = shlex.split(cmd)
        except ValueError:
            continue  # the shell check reports it
        for i, w in enumerate(words[:-1]):
            if w == "--policy-document":
                try:
                    found.append(json.loads(words[i + 1]))
                except json.JSONDecodeError:
                    found.append(words[i + 1])
    return found


def placeholders(step: str) -> list[str]:
    """The names of the `<placeholders>` left in a step."""
    return [m.group("name") for m in PLACEHOLDER.finditer(step)]


_TABLE_RULE = lazy_re(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def untable(text: str) -> str:
    """A Markdown table in a text becomes one bullet line per row ("Header: cell · Header: cell"):
    Slack and terminals show no tables, only their pipes."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if (i + 1 < len(lines) and lines[i].strip().startswith("|") and _TABLE_RULE.match(lines[i + 1])):
            head = [c.strip() for c in lines[i].strip().strip("|").split("|")]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                out.append("• " + " · ".join(f"{h}: {c}" if h else c for h, c in zip(head, cells, strict=False)))
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def plain(step: str) -> str:
    """The step for a terminal: a command or a block on its own indented lines (nothing to trim
    before pasting), other inline code without backticks."""
    parts: list[str] = []
    for kind, text in segments(step):
        if kind == "block" or (kind == "code" and is_command(text) and len(text.split()) > 2):
            body = "\n".join("    " + line for line in text.splitlines())
            parts.append("\n" + body + "\n")
        elif kind == "code":
            parts.append(text)
        else:
            if parts and parts[-1].endswith("\n"):
                text = re.sub(r"^[.,;:]?[ \t]*", "", text)  # the sentence's stop after a command
            parts.append(text)
    out = "".join(parts)
    out = re.sub(r"[ \t]+\n", "\n", out)
    out = re.sub(r"\n{2,}", "\n", out)
    return out.strip("\n")
