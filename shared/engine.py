"""diagnose(): evaluate every pattern on the evidence, pick the root cause, build the Finding.

Choosing among matches (root cause over symptom, most specific wins):
1. A failure ECS itself reported (Stage.PLATFORM: pull, secrets, log driver, OOM kill, ENI ...)
   wins; among several, a confident match beats a generic one, then the higher priority.
2. A stop ordered from outside (scale-in, deployment, spot, StopTask) is an expected stop: what
   the application logged while being stopped is not the cause.
3. Causes named by the application's own output (Stage.APP). The failing container's lines come
   first; among them the LAST incident decides (an error the app recovered from earlier is not
   why it died): matches within a window of the latest one compete on confidence and priority. A known
   sidecar's own wording in unlabelled lines is that sidecar's: when another container failed, not the cause.
4. Symptoms ECS saw (health checks) when the logs name no cause.
5. A clean exit 0, then `unknown`.
A pattern that raises is isolated: its error becomes a gap, the diagnosis goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from operator import is_not
from typing import Any
from urllib.parse import quote

from shared import remediation as remedy
from shared.evidence.model import SIGNAL_EXITS, Evidence, gap_kind
from shared.logs import GC_QUIET_LINES, quiet_gc
from shared.models.event import cluster_name, service_name, split_arn, task_id
from shared.models.finding import Finding
from shared.patterns import by_id, fallback, registry
from shared.patterns.base import Match, Pattern, Stage, sidecar_line
from shared.redact import redact_lines_and
from shared.scan import lazy_re

log = logging.getLogger(__name__)

CLUSTER_WINDOW = 25  # log lines: matches this close to the latest one belong to the same incident
CONFIDENT = 0.7
EXCERPT_LINES = 50
_VOLATILE = lazy_re(r"0x[0-9a-f]+|\b[0-9a-f]{12,}\b|\d+")


def diagnose(ev: Evidence) -> Finding:
    with quiet_gc(len(ev.logs) >= GC_QUIET_LINES):
        return _diagnose(ev)


def _diagnose(ev: Evidence) -> Finding:
    matches: dict[str, Match] = {}
    gaps = list(ev.gaps)
    for pattern in registry():
        if pattern.fallback:
            continue
        try:
            m = pattern.match(ev)
        except Exception as exc:  # one broken pattern must not lose the diagnosis
            log.exception("pattern %s failed", pattern.id)
            gaps.append(f"pattern {pattern.id} raised {type(exc).__name__}: {exc}")
            continue
        if m is not None:
            matches[pattern.id] = m
    chosen_id = choose(matches, ev)
    if _worth_a_second_look(chosen_id, matches, ev):
        # The container failed and nothing loud explains it: what it logged as a warning may be why
        # (a connection refused at WARN right before exiting 1). Same patterns, quiet lines included.
        loud = replace(ev, logs=ev.logs.loud())
        for pattern in registry():
            if pattern.fallback or pattern.id in matches:
                continue
            try:
                m = pattern.match(loud)
            except Exception:  # already reported by the first pass if it is a real defect
                continue
            if m is not None and m.stage is Stage.APP:
                matches[pattern.id] = replace(m, confidence=round(m.confidence * 0.85, 2))
        chosen_id = choose(matches, ev)
    if chosen_id is None:
        pattern = fallback()
        match = pattern.match(ev)
        assert match is not None
    else:
        pattern, match = by_id(chosen_id), matches[chosen_id]
    return build_finding(ev, pattern, match, matches, gaps)


def _worth_a_second_look(chosen: str | None, matches: dict[str, Match], ev: Evidence) -> bool:
    """Only when the app exited on its own with a failure code and nothing loud says why.

    A health-check kill or a signal exit (137/143) came from outside: warnings before it are noise.
    """
    if not ev.logs or "health check" in ev.stopped_reason.lower():
        return False
    current = matches.get(chosen or "")
    if current is not None and (current.confidence >= CONFIDENT or not by_id(chosen or "").generic):
        return False
    code = next((c.exit_code for c in ev.detail.containers if c.name == ev.primary), None)
    return code not in (None, 0) and code not in SIGNAL_EXITS


def outranked(matches: dict[str, Match]) -> set[str]:
    """The matched ids another match explains (its pattern's `outranks`, narrowed by the match)."""
    out: set[str] = set()
    for pid, m in matches.items():
        out.update(m.outranks if m.outranks is not None else by_id(pid).outranks)
    out.discard("")
    return out & matches.keys()


def choose(matches: dict[str, Match], ev: Evidence) -> str | None:
    def rank(pid: str) -> tuple[bool, int]:
        return matches[pid].confidence >= CONFIDENT, by_id(pid).priority

    explained = outranked(matches)
    by_stage: dict[Stage, list[str]] = {}
    for pid, m in matches.items():
        if pid not in explained:
            by_stage.setdefault(m.stage, []).append(pid)

    platform = by_stage.get(Stage.PLATFORM, [])
    if platform:
        return max(platform, key=rank)

    benign = [pid for pid in by_stage.get(Stage.BENIGN, []) if matches[pid].strong]
    if benign:
        return benign[0]

    app = [pid for pid in by_stage.get(Stage.APP, []) if not _sidecar_noise(matches[pid], ev)]
    if app:
        failing = set(ev.failing) | {None}
        primary = [pid for pid in app if matches[pid].container in failing] or app
        latest = max(matches[pid].anchor or 0 for pid in primary)
        incident = [pid for pid in primary if latest - (matches[pid].anchor or 0) <= CLUSTER_WINDOW]
        return max(incident, key=rank)

    symptoms = by_stage.get(Stage.SYMPTOM, [])
    if symptoms:
        return max(symptoms, key=rank)

    benign = by_stage.get(Stage.BENIGN, [])
    if benign:
        return benign[0]
    return None


def _sidecar_noise(m: Match, ev: Evidence) -> bool:
    """A match on a sidecar's own wording in another container's stream (base.sidecar_line) while another container
    failed on its own and the sidecar did not: the agent's complaint, not why the task stopped."""
    ranked = ev.attribution.ranked
    return (bool(ranked) and m.container is not None and m.container in ev.attribution.sidecars
            and m.container not in ranked and m.anchor is not None and sidecar_line(ev, m.anchor) == m.container)


# -------------------------------------------------------------------------------------------------
def build_finding(ev: Evidence, pattern: Pattern, match: Match, matches: dict[str, Match],
                  gaps: list[str]) -> Finding:
    explanation = pattern.explain(match, ev)
    symptom = None
    if match.stage is not Stage.SYMPTOM:
        symptoms = sorted((pid for pid, m in matches.items() if m.stage is Stage.SYMPTOM),
                          key=lambda pid: -by_id(pid).priority)
        symptom = symptoms[0] if symptoms else None
    evidence = [{"source": p.source, "text": p.text} for p in match.proofs]
    if symptom:
        evidence.extend({"source": p.source, "text": p.text} for p in matches[symptom].proofs[:1])
    also = sorted((pid for pid in matches if pid != pattern.id), key=lambda pid: -by_id(pid).priority)
    facts = typed_facts(pattern, match.facts)
    container = match.container or facts.get("container") or ev.primary
    if container and container == ev.attribution.culprit:
        # The others ECS stopped because this one failed: shown as victims, never blamed.
        evidence.extend({"source": f"containers[{name}]", "text": why}
                        for name, why in ev.attribution.victims.items())
    if not ev.logs:
        gaps.append("No container log lines were available; the diagnosis rests on the stop reason and exit codes.")
    elif container and container not in ev.logs.container_names() and not ev.logs.unlabelled():
        gaps.append(f"No log lines from container {container}.")
    title = explanation.title
    svc = service_name(ev.detail.group)
    data: dict[str, Any] = {
        "pattern": pattern.id,
        "symptom": symptom,
        "severity": pattern.severity,
        "confidence": round(match.confidence, 2),
        "title": f"{svc}: {title}" if svc else title,
        "summary": explanation.summary,
        "facts": facts,
        "evidence": evidence,
        "remediation": remedy.with_ran_image(ev, remedy.with_region(ev, explanation.remediation)),
        "also_matched": also,
        "task": _task_summary(ev),
        "log_excerpt": excerpt(ev, container, anchor=match.anchor if match.stage is Stage.APP else None),
        "links": _links(ev, container),
        "gaps": list(dict.fromkeys(gaps)),
        "checks": _checks(ev, pattern, match, matches),
        "verdict": pattern.verdict,
    }
    data["fingerprint"] = fingerprint(ev, pattern, facts)
    _mask(data)
    data["evidence_gaps"] = [{"kind": gap_kind(g), "text": text} for g, text in zip(dict.fromkeys(gaps),
                                                                                   data["gaps"], strict=True)]
    return Finding.model_validate(data)


def typed_facts(pattern: Pattern, raw: dict) -> dict:
    """The match's facts through the pattern's Facts model (types checked, empty values dropped)."""
    facts = {k: v for k, v in raw.items() if v is not None and v != [] and v != {}}
    try:
        pattern.Facts.model_validate(facts)
    except Exception:  # a pattern defect: keep the facts, say so in the log (tests hold every pattern to its model)
        log.exception("pattern %s produced facts outside its model", pattern.id)
    return facts


_MASKED = ("title", "summary", "facts", "evidence", "remediation", "gaps", "checks", "task")


def _mask(data: dict) -> None:
    """Mask every string of the finding that can carry text from the task (logs, reasons, facts and
    what quotes them), in ONE pass: the excerpt as consecutive lines (key blocks span lines). The strings are
    gathered first and put back only when masking changed one (most findings hold no secret): one walk of
    the finding, not a record of where each of its ~40 strings is."""
    texts: list[str] = []
    _strings([data[key] for key in _MASKED], texts)
    lines, masked = redact_lines_and(data["log_excerpt"], texts)
    # A mask is longer than a short value: clip again, after masking, so no line passes 1,000 characters.
    data["log_excerpt"] = [line if len(line) <= 1000 else line[:999] + "…" for line in lines]
    if any(map(is_not, masked, texts)):
        _put_back(data, [(key, data[key]) for key in _MASKED], iter(masked))


def _strings(items: Iterable[Any], into: list[str]) -> None:
    """Append the strings in `items` (and inside its dicts' values and lists' items, depth first) to `into`."""
    for value in items:
        kind = type(value)
        if kind is str:
            into.append(value)
        elif kind is dict:
            _strings(value.values(), into)
        elif kind is list:
            _strings(value, into)
        elif value is None or kind is int or kind is bool or kind is float:
            continue  # (most of what is not a string: no text to mask)
        elif isinstance(value, str):
            into.append(value)
        elif isinstance(value, (dict, list)):
            _strings(value, into)  # (a subclass: its items, a dict's keys, as `_put_back` walks it)


def _put_back(holder: dict | list, items: Iterable[tuple[Any, Any]], masked: Iterator[str]) -> None:
    """Store the masked strings (in `_strings`' order) where their originals were, those that changed."""
    for key, value in items:
        kind = type(value)
        if kind is str or (kind is not dict and kind is not list and value is not None and isinstance(value, str)):
            new = next(masked)
            if new is not value:
                holder[key] = new
        elif kind is dict:
            _put_back(value, list(value.items()), masked)
        elif kind is list or isinstance(value, (dict, list)):
            _put_back(value, list(enumerate(value)), masked)


def excerpt(ev: Evidence, container: str | None, limit: int = EXCERPT_LINES, anchor: int | None = None) -> list[str]:
    """The failing container's lines (unlabelled lines included): its last `limit` non-blank lines, or, when
    the incident (`anchor`) lies further back (a goroutine or thread dump, a long shutdown after it), the
    incident and a bounded part of what follows. Lines of another container carry its name, so a log
    router's (or any sidecar's) lines are never shown as the app's."""
    logs = ev.logs
    if not logs:
        return []
    names = logs.container_names()
    containers, texts = logs.containers, logs.texts
    own = {container, None} if container in names or not names else None
    if own is not None and own.issuperset(names):
        own = None  # every line is the container's (or unlabelled): no line to leave out
    label = len(names) > 1 or (bool(names) and container not in names)

    def show(i: int) -> str:
        if label:  # (a line's container is read only when lines are labelled)
            c = containers[i]
            if c:
                return f"[{c}] {texts[i]}"
        return texts[i]

    def mine(i: int) -> bool:  # (the container first: another container's line is not parsed)
        return (own is None or containers[i] in own) and bool(texts[i].strip())

    # The last `limit` lines of the container, newest first (a line's text is read once: `kept`; mine(i)).
    picked, kept = logs.last_lines(limit, own)
    picked.reverse()
    if anchor is not None and picked and anchor < picked[0] and mine(anchor):
        before = [i for i in range(anchor - 1, max(-1, anchor - 40), -1) if mine(i)][:5][::-1]
        window = [*before, anchor]
        i = anchor + 1
        while len(window) < limit - 1 and i < len(logs):
            if mine(i):
                window.append(i)
            i += 1
        rest = sum(1 for j in range(i, len(logs)) if mine(j))
        out = [show(j) for j in window] + ([f"… {rest} more lines after the incident not shown"] if rest else [])
    else:
        kept.reverse()
        out = [f"[{c}] {text}" if label and (c := containers[i]) else text for i, text in zip(picked, kept, strict=True)]
    return [line if len(line) <= 1000 else line[:999] + "…" for line in out]


def identity(pattern: Pattern, facts: dict) -> tuple[tuple[str, str], ...]:
    """The pattern's declared key facts, numbers and ids normalised away: what tells one root cause of
    the pattern from another. Nothing else, so a read that succeeded or failed never changes it."""
    return tuple((k, _VOLATILE.sub("#", str(facts[k]))) for k in pattern.key_facts
                 if facts.get(k) not in (None, "", [], {}))


def fingerprint(ev: Evidence, pattern: Pattern, facts: dict) -> str:
    """Account, Region, cluster, service (else task family) + pattern + key facts -> the finding's identity."""
    d = ev.detail
    scope = d.group or (d.task_definition_arn or "").rsplit("/", 1)[-1].rsplit(":", 1)[0] or d.task_arn
    raw = (f"{ev.event.account or split_arn(d.task_arn)[1]}|{ev.event.region or split_arn(d.task_arn)[0]}|"
           f"{cluster_name(d.cluster_arn)}|{scope}|{pattern.id}|{list(identity(pattern, facts))}")
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _task_summary(ev: Evidence) -> dict:
    """The task block of the finding, as plain data (masked with the rest in _mask)."""
    d = ev.detail
    region, account, _ = split_arn(d.task_arn)
    td = d.task_definition_arn.rsplit("/", 1)[-1] if d.task_definition_arn else None
    return {
        "account": ev.event.account or account,
        "region": ev.event.region or region,
        "cluster": cluster_name(d.cluster_arn),
        "cluster_arn": d.cluster_arn,
        "task_arn": d.task_arn,
        "task_id": task_id(d.task_arn),
        "service": service_name(d.group),
        "group": d.group,
        "started_by": d.started_by,
        "deployment_id": d.started_by if (d.started_by or "").startswith("ecs-svc/") else None,
        "task_definition": td,
        "task_definition_arn": d.task_definition_arn,
        "launch_type": d.launch_type,
        "capacity_provider": d.capacity_provider_name,
        "platform_version": d.platform_version,
        "cpu_architecture": ev.cpu_architecture,
        "availability_zone": d.availability_zone,
        "cpu": d.cpu,
        "memory": d.memory,
        "stop_code": d.stop_code,
        "stopped_reason": d.stopped_reason,
        "stopped_at": d.stopped_at.isoformat() if d.stopped_at else None,
        "event_version": d.version,
        "containers": [{"name": c.name, "image": c.image, "exit_code": c.exit_code, "reason": c.reason,
                        "last_status": c.last_status, "health_status": c.health_status} for c in d.containers],
    }


def _console(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com"


def _cw_escape(value: str) -> str:
    # The CloudWatch console double-escapes path parts: '/' -> '$252F'.
    return quote(quote(value, safe=""), safe="").replace("%", "$")


def _links(ev: Evidence, container: str | None) -> dict[str, str | None]:
    """The finding's console links, as the plain data Finding.model_validate makes its Links of (validated there
    once, not first here as a model of its own)."""
    d = ev.detail
    region = ev.event.region or split_arn(d.task_arn)[0]
    cluster = cluster_name(d.cluster_arn)
    if not region or not cluster:
        return {}
    base = _console(region)
    tid = task_id(d.task_arn)
    svc = service_name(d.group)
    links = {
        "task": f"{base}/ecs/v2/clusters/{cluster}/tasks/{tid}/configuration?region={region}",
        "service": f"{base}/ecs/v2/clusters/{cluster}/services/{svc}/health?region={region}" if svc else None,
    }
    if d.task_definition_arn:
        family_rev = d.task_definition_arn.rsplit("/", 1)[-1]
        family, _, rev = family_rev.partition(":")
        links["task_definition"] = f"{base}/ecs/v2/task-definitions/{family}/{rev}/containers?region={region}"
    source = ev.log_source(container)
    if source and source.group and source.stream:
        links["log_stream"] = (f"{base}/cloudwatch/home?region={source.region or region}#logsV2:log-groups/"
                               f"log-group/{_cw_escape(source.group)}/log-events/{_cw_escape(source.stream)}")
    return links


def _checks(ev: Evidence, pattern: Pattern, match: Match, matches: dict[str, Match]) -> list[dict]:
    d = ev.detail
    checks = [
        dict(name="Stop code and stopped reason",
              result=f"{d.stop_code or 'no stop code'}: {d.stopped_reason or 'no reason'}",
              ok=pattern.verdict == "expected"),
    ]
    exits = []
    for c in d.containers:
        code = c.exit_code
        meaning = f" ({SIGNAL_EXITS[code]})" if code in SIGNAL_EXITS else ""
        exits.append(f"{c.name}={code if code is not None else 'none'}{meaning}"
                     + (f" reason: {c.reason}" if c.reason else ""))
    checks.append(dict(name="Container exit codes and reasons", result="; ".join(exits) or "no containers",
                        ok=all(c.exit_code in (0, None) and not c.reason for c in d.containers)))
    n = len(ev.logs)
    checks.append(dict(name="Container logs scanned for known failures",
                        result=(f"{n} lines from {', '.join(ev.logs.container_names()) or 'the task'}; "
                                f"matched: {', '.join(sorted(matches)) or 'nothing'}") if n else "no log lines available",
                        ok=None if not n else not any(m.stage is Stage.APP for m in matches.values())))
    checks.append(dict(name="Task definition (env names, memory, ports, log config)",
                        result="read" if ev.task_definition else "not read (offline or unavailable)",
                        ok=None))
    hc = next((m for pid, m in matches.items() if "target_health" in by_id(pid).needs), None)
    if hc is not None or ev.target_groups:
        cause = hc.facts.get("cause") if hc else None
        result = f"cause: {cause}" if cause else "cause not determined"
        if ev.target_groups:
            tg = ev.target_groups[0]
            result += f"; target group path {tg.health_check_path}, port {tg.health_check_port}, matcher {tg.matcher}"
        checks.append(dict(name="Health-check path and port vs the application", result=result,
                            ok=False if cause else None))
    if ev.iam is not None:
        checks.append(dict(name=f"IAM simulation of {ev.iam.action} for {ev.iam.role_kind}",
                            result=f"{ev.iam.decision} ({ev.iam.role_arn or ev.iam.principal})",
                            ok=ev.iam.decision == "allowed"))
    if ev.network is not None:
        net = ev.network
        checks.append(dict(name="Network path (routes, endpoints, security groups)",
                            result=(f"subnet {net.subnet_id}: internet route {net.internet_route or 'none'}; "
                                    f"VPC endpoints {', '.join(net.vpc_endpoints) or 'none'}"
                                    + (f"; LB -> task: {net.lb_ingress_detail}" if net.lb_ingress_detail else "")),
                            ok=bool(net.internet_route or net.vpc_endpoints)))
    return checks
