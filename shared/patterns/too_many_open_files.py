"""too-many-open-files: the process ran out of file descriptors (EMFILE) and died of it.

Signals: "Too many open files" in the runtime's own words: Python "OSError: [Errno 24] Too many open
files", Java "java.io.IOException: Too many open files" / "java.net.SocketException: Too many open files",
Go "accept tcp [::]:8080: accept4: too many open files", Node "Error: EMFILE: too many open files",
nginx "(24: Too many open files)", envoy "listener accept failure: Too many open files". Facts: container,
message, language, exit_code.

Near misses (not this pattern): a message that only mentions `ulimit -n`, a warning that the limit is low
(logged at WARN/INFO, the process went on), ENFILE ("file table overflow": the host's table, not this
container's limit).
"""

from __future__ import annotations

import json
import re

from pydantic import Field

from shared import remediation as remedy
from shared.evidence.model import Evidence
from shared.patterns.base import (
    Explanation,
    Facts,
    Match,
    Pattern,
    Stage,
    container_for_line,
    exit_code,
    find_in_logs,
    fmt_container,
    log_proof,
)
from shared.scan import lazy_re

_SIGNAL = lazy_re(r"too many open files|\bEMFILE\b|\(24: too many open files\)|\[Errno 24\]", re.IGNORECASE)
_NEEDLES = ("too many open files", "emfile", "errno 24")
_LANGUAGE = (
    ("java", lazy_re(r"java\.(?:io|net|nio)\.|Exception", re.I)),
    ("python", lazy_re(r"OSError|\[Errno 24\]")),
    ("node", lazy_re(r"EMFILE")),
    ("go", lazy_re(r"accept4?:|dial tcp|socket:|open /")),
    ("nginx", lazy_re(r"\(24: Too many open files\)|\[(?:alert|crit|emerg)\]")),
)
# Fargate's default for nofile is 65535 (soft and hard); on EC2 it is the Docker daemon's default.
FARGATE_DEFAULT = 65535
SUGGESTED = 65535
HARD_MAX = 1048576
FARGATE_RAISE = 262144  # above Fargate's default, within its hard maximum


class TooManyOpenFilesFacts(Facts):
    """The facts of too-many-open-files."""

    message: str | None = Field(None, description="The runtime's words for the exhausted descriptors.")
    language: str | None = Field(None, description="The runtime that reported it.")
    exit_code: int | None = Field(None, description="The container's exit code.")


class TooManyOpenFiles(Pattern):
    id = "too-many-open-files"
    explained_by = ("ulimits",)
    priority = 85
    severity = "critical"
    Facts = TooManyOpenFilesFacts
    key_facts = ("container",)
    needles = _NEEDLES

    def match(self, ev: Evidence) -> Match | None:
        found = find_in_logs(ev, _NEEDLES, _SIGNAL)
        if not found:
            return None
        i, _ = found
        text = ev.logs.texts[i].strip()
        if "ulimit -n" in text.lower() and "too many open files" not in text.lower():
            return None
        container = container_for_line(ev, i)
        language = next((name for name, regex in _LANGUAGE if regex.search(text)), None)
        facts: dict = {"container": container, "message": text[:300], "language": language,
                       "exit_code": exit_code(ev, container)}
        return Match(facts=facts, proofs=(log_proof(ev, i),), confidence=0.9, stage=Stage.APP, anchor=i,
                     container=container)

    def explain(self, m: Match, ev: Evidence) -> Explanation:
        container = m.facts.get("container") or ev.primary or "app"
        fargate = (ev.detail.launch_type or "").upper() == "FARGATE" or "fargate" in (
            ev.detail.capacity_provider_name or "").lower()
        # On Fargate the default is already SUGGESTED: raising "to" it changes nothing, so the raise goes higher.
        limit = FARGATE_RAISE if fargate else SUGGESTED
        ulimit = {"name": "nofile", "softLimit": limit, "hardLimit": limit}
        steps = [
            f"Raise the open-files limit of {fmt_container(container)}"
            + (f" above Fargate's default of {FARGATE_DEFAULT}" if fargate else "")
            + ": in its container definition set "
            f"```\"ulimits\": {json.dumps([ulimit])}``` (at most {HARD_MAX}), register the revision and "
            f"roll it out: {remedy.roll_out(ev)}.{remedy.cite(m)}",
            "Then find what holds so many descriptors: connections that are never closed (an HTTP client or a "
            "database pool created per request), files opened in a loop, or a burst of traffic above what one "
            "task should take (scale out instead).",
        ]
        if fargate:
            # Hitting 65535 is nearly always a leak: finding it comes first, the higher limit only buys time.
            steps[0], steps[1] = (
                f"Find what holds so many descriptors: on Fargate the limit is already {FARGATE_DEFAULT}, so "
                "hitting it usually means a leak: connections never closed (an HTTP client or database pool "
                "created per request, upstream connections a proxy keeps open), files opened in a loop, or more "
                f"traffic than one task should take (scale out instead).{remedy.cite(m)}",
                "Meanwhile, to buy time, r" + steps[0][1:].split(remedy.cite(m))[0].rstrip(".") + ".")
        else:
            steps.insert(1, "On EC2 the default comes from the Docker daemon (often 1024 soft): set `ulimits` in the "
                            "task definition rather than on the instance, so every instance gives the same limit.")
        return Explanation(
            title=f"{container} ran out of file descriptors (too many open files)",
            summary=(f"{container} stopped after it could not open another file or socket: its open-files limit "
                     "(nofile) was exhausted."),
            remediation=steps,
        )


PATTERN = TooManyOpenFiles()
