"""SNS: the finding JSON (by alias, the public contract) with message attributes for filter policies.

Attributes (String, omitted when empty): pattern, severity, cluster, service, account, region, scope,
fingerprint, and `format` ("finding" or "chatbot"). When the Chatbot variant is on, the topic also
receives the custom-notification JSON as a second message with format=chatbot: Chatbot needs that
body, raw subscribers need the finding. Give the Chatbot subscription the filter policy
{"format": ["chatbot"]} and raw subscribers {"format": ["finding"]} (or any policy on pattern/severity
/...: both messages carry the same attributes).

SNS takes at most 256 KB (message + attribute names, types and values). A finding over that loses, in
order, old log lines, evidence text, deployment task ARNs, long check results, long fact values and
long prose, until it fits; the result is still a valid Finding and says what was trimmed in `gaps`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from shared.models.finding import Finding
from shared.redact import redact_obj
from shared.render.channels import Occurrence

SNS_MAX_BYTES = 262_144
SUBJECT_MAX = 99
_MARGIN = 2_048  # room for the gap note added when trimming
ATTRIBUTES = ("pattern", "severity", "cluster", "service", "account", "region", "scope", "fingerprint", "format")


@dataclass(frozen=True)
class SnsMessage:
    message: str
    attributes: dict[str, str] = field(default_factory=dict)
    subject: str | None = None

    def request(self) -> dict[str, Any]:
        """Keyword arguments of sns.publish, without TopicArn."""
        req: dict[str, Any] = {}
        if self.subject:
            req["Subject"] = self.subject
        req["Message"] = self.message
        req["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in self.attributes.items()}
        return req

    def size(self) -> int:
        return message_size(self.message, self.attributes, self.subject)


def message_size(message: str, attributes: dict[str, str], subject: str | None = None) -> int:
    size = len(message.encode()) + len((subject or "").encode())
    return size + sum(len(k.encode()) + len(b"String") + len(v.encode()) for k, v in attributes.items())


def attributes(f: Finding, fmt: str = "finding") -> dict[str, str]:
    t = f.task
    d = f.deployment
    values = {
        "pattern": f.pattern,
        "severity": f.severity,
        "cluster": t.cluster or (d.cluster if d else None),
        "service": t.service or (d.service if d else None),
        "account": t.account,
        "region": t.region,
        "scope": f.scope,
        "fingerprint": f.fingerprint,
        "format": fmt,
    }
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


_NOT_SUBJECT = re.compile(r"[^\x20-\x7e]+")


def subject(f: Finding) -> str:
    """Email subject: printable ASCII, one line, under 100 characters, starting with a letter."""
    text = _NOT_SUBJECT.sub(" ", f"ECS {f.severity}: {f.title}")
    text = " ".join(text.split())
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3].rstrip() + "..."


def render_sns(f: Finding, limit: int = SNS_MAX_BYTES) -> SnsMessage:
    """The finding message, trimmed to fit the SNS limit when it must be."""
    attrs = attributes(f, "finding")
    subj = subject(f)
    data = redact_obj(f.model_dump(mode="json", by_alias=True))
    overhead = message_size("", attrs, subj)
    body = _dumps(data)
    if len(body.encode()) + overhead > limit:
        data = fit(data, limit - overhead)
        body = _dumps(data)
    return SnsMessage(body, attrs, subj)


def render_chatbot_publish(f: Finding, occurrence: Occurrence | None = None) -> SnsMessage:
    from shared.render.chatbot import render_chatbot

    return SnsMessage(_dumps(render_chatbot(f, occurrence)), attributes(f, "chatbot"))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _size(data: dict[str, Any]) -> int:
    return len(_dumps(data).encode())


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def fit(data: dict[str, Any], budget: int) -> dict[str, Any]:
    """A copy of finding `data` whose JSON is at most `budget` bytes (see the module docstring)."""
    data = json.loads(_dumps(data))
    target = budget - _MARGIN
    notes: list[str] = []

    def over() -> bool:
        return _size(data) > target

    excerpt = data.get("log_excerpt") or []
    if over() and excerpt:
        keep = len(excerpt)
        while keep and over():
            keep //= 2
            data["log_excerpt"] = excerpt[len(excerpt) - keep:] if keep else []
        notes.append(f"log_excerpt kept the last {keep} of {len(excerpt)} lines")

    evidence = data.get("evidence") or []
    if over() and evidence:
        for item in evidence:
            item["text"] = _cut(item.get("text", ""), 300)
        while len(data["evidence"]) > 1 and over():
            data["evidence"] = data["evidence"][: len(data["evidence"]) // 2]
        notes.append(f"evidence kept {len(data['evidence'])} of {len(evidence)} items, each cut to 300 characters")

    deployment = data.get("deployment") or {}
    arns = deployment.get("task_arns") or []
    if over() and arns:
        keep = len(arns)
        while keep and over():
            keep //= 2
            deployment["task_arns"] = arns[:keep]
        notes.append(f"deployment.task_arns kept {keep} of {len(arns)}")

    for key, inner, size in (("checks", "result", 300), ("facts", None, 300), ("remediation", None, 2000),
                             ("gaps", None, 500)):
        if not over():
            break
        value = data.get(key)
        if isinstance(value, list):
            data[key] = [({**v, inner: _cut(str(v.get(inner, "")), size)} if inner and isinstance(v, dict)
                          else _cut(v, size) if isinstance(v, str) else v) for v in value]
        elif isinstance(value, dict):
            data[key] = {k: _cut(v, size) if isinstance(v, str) else v for k, v in value.items()}
            if over():
                data[key] = {k: v if len(_dumps(v)) <= size else _cut(_dumps(v), size) for k, v in data[key].items()}
        notes.append(f"{key} cut to {size} characters each")

    for key, size in (("summary", 4000), ("title", 500)):
        if over():
            data[key] = _cut(data.get(key, ""), size)
            notes.append(f"{key} cut to {size} characters")
    if over():  # pathological: lists of thousands of items; keep the head of every list
        for key in ("facts", "checks", "remediation", "also_matched", "gaps"):
            value = data.get(key)
            if isinstance(value, list):
                data[key] = value[:20]
            elif isinstance(value, dict):
                data[key] = dict(list(value.items())[:20])
        notes.append("lists cut to 20 items")
    data["gaps"] = [*data.get("gaps", []), "Trimmed to fit the SNS 256 KB message limit: " + "; ".join(notes) + "."]
    Finding.model_validate(data)  # still the public contract
    return data
