"""Slack thread state (app mode): one item per incident, one per service with open incidents.

Kept apart from the noise item of state.py (`noise#<fingerprint>`), in the same table (partition key
`id`, TTL attribute `expiration`):

`thread#<incident>` (incident: `deploy#<deployment id>` or `fp#<fingerprint>#<window start>`)
    count, first_seen, last_seen  every task of the incident (ADD: each invocation sees its own count)
    causes                        the patterns seen (a string set: a new one is a new cause)
    claim                         the delivery id that posts the parent (the first to touch the item)
    ts, channel                   the parent message, once posted
    parent                        the parent's payload (JSON, at most PARENT_MAX characters): every
                                  chat.update re-sends it with a new status line
    posted                        {marker: "<did>" while being posted, then the message ts}: what was
                                  posted ("parent", "count:10", "cause:<pattern>", "deploy:<event>",
                                  "recovered"), so a retry of a delivery never posts it twice
    updated_at                    the last chat.update of the parent (at most one per UPDATE_GAP s)
    status                        open | resolved
    service                       the service key (`<account>/<region>/<cluster>/<service>`)
    recent_<x>                    the last delivery ids counted (16 slots), to recognise a retry
    expiration                    last seen + 7 days

`open#<service key>`: {incident: first seen} of the incidents with a parent that are still open,
so that the recovery function costs ONE GetItem for a healthy service (no index: a Scan).

`MemoryThreads` implements the same operations in process (CLI, demo, tests run both backends).
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from shared.notify.dynamo import Conflict, Table

TTL_SECONDS = 7 * 86_400
UPDATE_GAP = 1  # seconds between two chat.update of one message (Slack: about 1 per second per message)
SLOTS = 16


@dataclass(frozen=True)
class Touch:
    """One occurrence counted (`retry` False) or a delivery seen before (`retry` True, nothing counted)."""

    before: dict[str, Any]  # the item before this write ({} for a new incident)
    after: dict[str, Any]
    retry: bool = False

    @property
    def count(self) -> int:
        return int(self.after.get("count", 0))

    def new_cause(self, cause: str) -> bool:
        return bool(self.before) and cause not in set(self.before.get("causes") or ())


def slot(did: str) -> str:
    return f"recent_{zlib.crc32(did.encode()) % SLOTS:x}"


class ThreadStore(Protocol):
    def touch(self, key: str, did: str, now: int, cause: str, service: str, add: int = 1) -> Touch:
        """Count one occurrence (`add` 0: a deploy-level finding, not a task) unless `did` was counted."""
        ...
    def mark(self, key: str, marker: str, value: str, *, expect: str | None = None) -> bool:
        """posted[marker] = value if it is absent (or equals `expect`): True when written."""
        ...
    def put(self, key: str, values: Mapping[str, Any]) -> None: ...
    def claim_update(self, key: str, now: float, gap: float = UPDATE_GAP) -> dict[str, Any] | None: ...
    def resolve(self, key: str, now: int) -> dict[str, Any] | None:
        """Mark an open incident resolved: its item after, or None when it was not open."""
        ...
    def get(self, key: str) -> dict[str, Any] | None: ...
    def open_add(self, service: str, key: str, now: int) -> None: ...
    def open_get(self, service: str) -> dict[str, Any]: ...
    def open_remove(self, service: str, key: str) -> None: ...


def thread_key(incident: str) -> str:
    return f"thread#{incident}"


def open_key(service: str) -> str:
    return f"open#{service}"


# -------------------------------------------------------------------------------------------------
class MemoryThreads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[str, dict[str, Any]] = {}

    def touch(self, key: str, did: str, now: int, cause: str, service: str, add: int = 1) -> Touch:
        with self._lock:
            item = self.items.get(key)
            if item is not None and item.get(slot(did)) == did:
                return Touch(_copy(item), _copy(item), retry=True)
            before = _copy(item or {})
            item = self.items.setdefault(key, {"count": 0, "first_seen": now, "claim": did, "status": "open",
                                               "posted": {}, "causes": set(), "service": service})
            item["count"] += add
            item["last_seen"] = now
            item["causes"].add(cause)
            item[slot(did)] = did
            item["expiration"] = now + TTL_SECONDS
            return Touch(before, _copy(item))

    def mark(self, key: str, marker: str, value: str, *, expect: str | None = None) -> bool:
        with self._lock:
            posted = self.items.setdefault(key, {}).setdefault("posted", {})
            if marker in posted and posted[marker] != expect:
                return False
            posted[marker] = value
            return True

    def put(self, key: str, values: Mapping[str, Any]) -> None:
        with self._lock:
            self.items.setdefault(key, {}).update(values)

    def claim_update(self, key: str, now: float, gap: float = UPDATE_GAP) -> dict[str, Any] | None:
        with self._lock:
            item = self.items.get(key)
            if item is None or ("updated_at" in item and float(item["updated_at"]) > now - gap):
                return None
            item["updated_at"] = now
            return _copy(item)

    def resolve(self, key: str, now: int) -> dict[str, Any] | None:
        with self._lock:
            item = self.items.get(key)
            if item is None or item.get("status") != "open":
                return None
            item.update(status="resolved", resolved_at=now)
            return _copy(item)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            item = self.items.get(key)
            return _copy(item) if item is not None else None

    def open_add(self, service: str, key: str, now: int) -> None:
        with self._lock:
            self.items.setdefault(open_key(service), {}).setdefault("incidents", {})[key] = now

    def open_get(self, service: str) -> dict[str, Any]:
        with self._lock:
            return dict((self.items.get(open_key(service)) or {}).get("incidents") or {})

    def open_remove(self, service: str, key: str) -> None:
        with self._lock:
            (self.items.get(open_key(service)) or {}).get("incidents", {}).pop(key, None)


def _copy(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    if "posted" in out:
        out["posted"] = dict(out["posted"])
    if "causes" in out:
        out["causes"] = set(out["causes"])
    return out


# -------------------------------------------------------------------------------------------------
class DynamoThreads(Table):
    """The same on DynamoDB: each operation is one UpdateItem or GetItem (shared.notify.dynamo)."""

    def touch(self, key: str, did: str, now: int, cause: str, service: str, add: int = 1) -> Touch:
        names = {"#n": "count", "#f": "first_seen", "#l": "last_seen", "#c": "causes", "#cl": "claim",
                 "#s": "status", "#p": "posted", "#sv": "service", "#r": slot(did), "#e": "expiration"}
        values = {":one": add, ":now": now, ":cause": {cause}, ":did": did, ":open": "open", ":empty": {},
                  ":svc": service, ":exp": now + TTL_SECONDS}
        try:
            old = self._update(key, "ADD #n :one, #c :cause SET #f = if_not_exists(#f, :now), #l = :now, "
                                    "#cl = if_not_exists(#cl, :did), #s = if_not_exists(#s, :open), "
                                    "#p = if_not_exists(#p, :empty), #sv = if_not_exists(#sv, :svc), "
                                    "#r = :did, #e = :exp",
                               names, values, "attribute_not_exists(#r) OR #r <> :did", "ALL_OLD")
        except Conflict as conflict:
            item = conflict.item or self.get(key) or {}
            return Touch(item, item, retry=True)
        after = dict(old)
        after.update({"count": int(old.get("count", 0)) + add, "last_seen": now,
                      "causes": set(old.get("causes") or ()) | {cause}, slot(did): did})
        for k, v in (("first_seen", now), ("claim", did), ("status", "open"), ("posted", {}), ("service", service)):
            after.setdefault(k, v)
        return Touch(old, after)

    def mark(self, key: str, marker: str, value: str, *, expect: str | None = None) -> bool:
        names = {"#p": "posted", "#m": marker}
        values: dict[str, Any] = {":v": value}
        condition = "attribute_not_exists(#p.#m)"
        if expect is not None:
            condition += " OR #p.#m = :x"
            values[":x"] = expect
        try:
            self._update(key, "SET #p.#m = :v", names, values, condition)
        except Conflict:
            return False
        return True

    def put(self, key: str, values: Mapping[str, Any]) -> None:
        names = {f"#k{i}": k for i, k in enumerate(values)}
        vals = {f":v{i}": v for i, v in enumerate(values.values())}
        self._update(key, "SET " + ", ".join(f"#k{i} = :v{i}" for i in range(len(values))), names, vals)

    def claim_update(self, key: str, now: float, gap: float = UPDATE_GAP) -> dict[str, Any] | None:
        try:
            return self._update(key, "SET #u = :now", {"#u": "updated_at", "#s": "status"},
                                {":now": str(now), ":cut": str(now - gap)},
                                "attribute_exists(#s) AND (attribute_not_exists(#u) OR #u <= :cut)", "ALL_NEW",
                                numeric_strings=True)
        except Conflict:
            return None

    def resolve(self, key: str, now: int) -> dict[str, Any] | None:
        try:
            return self._update(key, "SET #s = :r, #ra = :now", {"#s": "status", "#ra": "resolved_at"},
                                {":r": "resolved", ":now": now, ":open": "open"}, "#s = :open", "ALL_NEW")
        except Conflict:
            return None

    def open_add(self, service: str, key: str, now: int) -> None:
        # Two writes at most: the map must exist before a path in it can be set.
        try:
            self._update(open_key(service), "SET #i.#k = :now, #e = :exp", {"#i": "incidents", "#k": key,
                                                                            "#e": "expiration"},
                         {":now": now, ":exp": now + TTL_SECONDS}, "attribute_exists(#i)")
        except Conflict:
            try:
                self._update(open_key(service), "SET #i = :m, #e = :exp", {"#i": "incidents", "#e": "expiration"},
                             {":m": {key: now}, ":exp": now + TTL_SECONDS}, "attribute_not_exists(#i)")
            except Conflict:  # created meanwhile by another incident of the service
                self._update(open_key(service), "SET #i.#k = :now", {"#i": "incidents", "#k": key}, {":now": now})

    def open_get(self, service: str) -> dict[str, Any]:
        item = self.get(open_key(service))
        return dict((item or {}).get("incidents") or {})

    def open_remove(self, service: str, key: str) -> None:
        with contextlib.suppress(Conflict):
            self._update(open_key(service), "REMOVE #i.#k", {"#i": "incidents", "#k": key}, None,
                         "attribute_exists(#i)")
