"""Who hears about a finding: the Slack channel, who is mentioned, from ECS resource tags.

Tags, on the service, its task definition or its cluster (the first that has a tag wins, in that
order; the stack's configuration is the default route):

    ecs-autopsy:slack-channel   C0123456789 or a channel name (app mode; a webhook has one channel)
    ecs-autopsy:mention         <!subteam^S0123ABCD> and/or user ids (U0123ABCD, <@U0123ABCD>),
                                separated by spaces or commas; anything else is ignored (logged)
    ecs-autopsy:min-severity    info | warning | critical: below it, Slack is not told (SNS still is)
    ecs-autopsy:mute            true, or an ISO date/time until which Slack is not told
    ecs-autopsy:team            a team name, carried as the SNS message attribute `team`

Mentions come from these tags and the stack configuration only, never from the finding's text
(its log lines are escaped everywhere).

Tag reads are `ecs:ListTagsForResource`, one per resource, cached per warm container for
CACHE_SECONDS (a storm of one service costs 3 reads, then none); `Router.reads` counts them.
A failed read (throttled, denied) is logged and routes to the default: it never loses a finding.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from shared.models.finding import Finding

log = logging.getLogger(__name__)

PREFIX = "ecs-autopsy:"
CACHE_SECONDS = 300
SEVERITIES = ("info", "warning", "critical")
_MENTION = re.compile(r"^(?:<!subteam\^(S[A-Z0-9]{2,20})(?:\|[^<>|]{0,80})?>|<@([UW][A-Z0-9]{2,20})>|([UW][A-Z0-9]{2,20}))$")
_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{6,20}|#?[a-z0-9][a-z0-9._-]{0,79})$")
_TEAM = re.compile(r"^[A-Za-z0-9 ._/-]{1,64}$")


@dataclass(frozen=True)
class Route:
    channel: str | None = None
    mention: tuple[str, ...] = ()  # validated Slack mention tokens (<!subteam^S..>, <@U..>)
    min_severity: str = "info"
    muted_until: float | None = None  # epoch s; float("inf"): muted
    team: str | None = None
    source: str = "default"  # where the channel came from (tag on service/task-definition/cluster, default)

    def muted(self, now: float | None = None) -> bool:
        return self.muted_until is not None and (time.time() if now is None else now) < self.muted_until

    def wants(self, severity: str) -> bool:
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 0) >= rank.get(self.min_severity, 0)

    def mention_text(self) -> str:
        return " ".join(self.mention)

    def attributes(self) -> dict[str, str]:
        """SNS message attributes (subscribers may filter on them)."""
        out = {"slack_channel": self.channel, "team": self.team}
        return {k: v for k, v in out.items() if v}


def parse_mentions(text: str | None, where: str = "tag") -> tuple[str, ...]:
    """Valid mention tokens of `text`; invalid ones are dropped with a warning (never sent)."""
    out: list[str] = []
    for token in re.split(r"[\s,]+", (text or "").strip()):
        if not token:
            continue
        m = _MENTION.match(token)
        if m is None:
            log.warning("ignoring %s mention %r: not <!subteam^S...> nor a user id", where, token[:40])
            continue
        group, at, bare = m.groups()
        out.append(f"<!subteam^{group}>" if group else f"<@{at or bare}>")
    return tuple(dict.fromkeys(out))


def parse_mute(value: str | None) -> float | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("", "false", "no", "0", "off"):
        return None
    if v in ("true", "yes", "1", "on"):
        return float("inf")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        log.warning("ignoring %smute=%r: expected true/false or an ISO date", PREFIX, value[:40])
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def route_from_tags(tags: list[dict[str, str]], base: Route, source: str) -> Route:
    """`base` with what these tags say (the tags of one resource)."""
    values = {t.get("key", ""): t.get("value", "") for t in tags}
    out = base
    ch = values.get(PREFIX + "slack-channel")
    if ch is not None:
        if _CHANNEL.match(ch.strip()):
            out = replace(out, channel=ch.strip(), source=source)
        else:
            log.warning("ignoring %sslack-channel=%r on the %s: not a channel id or name", PREFIX, ch[:40], source)
    if PREFIX + "mention" in values:
        out = replace(out, mention=parse_mentions(values[PREFIX + "mention"], f"{source} tag"))
    sev = values.get(PREFIX + "min-severity")
    if sev is not None:
        if sev.strip().lower() in SEVERITIES:
            out = replace(out, min_severity=sev.strip().lower())
        else:
            log.warning("ignoring %smin-severity=%r: expected one of %s", PREFIX, sev[:20], ", ".join(SEVERITIES))
    if PREFIX + "mute" in values:
        out = replace(out, muted_until=parse_mute(values[PREFIX + "mute"]))
    team = values.get(PREFIX + "team")
    if team is not None and _TEAM.match(team.strip()):
        out = replace(out, team=team.strip())
    return out


def resources(f: Finding) -> list[tuple[str, str]]:
    """(kind, ARN) to read tags from, most specific first: service, task definition, cluster."""
    t = f.task
    d = f.deployment
    cluster_arn = t.cluster_arn
    if not cluster_arn and t.cluster and t.account and t.region:
        cluster_arn = f"arn:aws:ecs:{t.region}:{t.account}:cluster/{t.cluster}"
    if cluster_arn and not cluster_arn.startswith("arn:"):
        cluster_arn = None
    service = (d.service if d and d.service else None) or t.service
    out: list[tuple[str, str]] = []
    if cluster_arn and service:
        out.append(("service", cluster_arn.replace(":cluster/", ":service/", 1) + "/" + service))
    if t.task_definition_arn and t.task_definition_arn.startswith("arn:"):
        out.append(("task definition", t.task_definition_arn))
    if cluster_arn:
        out.append(("cluster", cluster_arn))
    return out


class Router:
    """Routes findings by tags. `clients`: a shared.aws.Clients (member accounts through its role)."""

    def __init__(self, default: Route, clients: Any = None, *, ttl: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.default = default
        self.clients = clients
        self.ttl = ttl
        self.clock = clock
        self.reads = 0
        self._cache: dict[str, tuple[float, list[dict[str, str]]]] = {}
        self._lock = threading.Lock()

    def route(self, f: Finding) -> Route:
        out = self.default
        # Least specific first, so the service's tags win.
        for kind, arn in reversed(resources(f)):
            tags = self._tags(arn, f)
            if tags:
                out = route_from_tags(tags, out, f"{kind} tag")
        return out

    def _tags(self, arn: str, f: Finding) -> list[dict[str, str]]:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(arn)
            if hit and hit[0] > now:
                return hit[1]
        if self.clients is None:
            return []
        tags: list[dict[str, str]] = []
        try:
            account = arn.split(":")[4]
            region = arn.split(":")[3]
            clients = self.clients.for_account(account, region) if hasattr(self.clients, "for_account") \
                else self.clients
            self.reads += 1
            tags = list(clients("ecs", region).list_tags_for_resource(resourceArn=arn).get("tags") or [])
        except Exception as exc:  # route to what we know; never lose the finding over a tag
            from shared.aws import error_code

            log.warning("could not read the tags of %s (%s): routing without them", arn, error_code(exc))
        with self._lock:
            self._cache[arn] = (now + self.ttl, tags)
        return tags

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
