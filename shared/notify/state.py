"""Delivery and noise-control state: ONE item per failure in the table shared with the idempotency layer.

Key schema (the infra creates it): partition key `id` (S), TTL attribute `expiration` (epoch s), the
defaults of Powertools Idempotency, so both live in one table. Our item is `noise#<fingerprint>`:

    count, window_start     the current noise window (ADD: atomic, every invocation sees its own count)
    previous_count          how many tasks the window before it saw
    pending                 {delivery id: {"channels": [...], "decision": {...}, "at": epoch s}}: the
                            channels a failed delivery still has to send and the noise decision it took,
                            so that its retry re-sends only those and neither counts nor decides again
    recent_<x>              the last delivery id counted in slot x (16 slots by a hash of the id), then
                            the token of the write that counted it: a duplicate of a recent delivery
                            that completed is recognised and not counted, and a write that took effect
                            but whose answer was lost (botocore retries it) recognises its own token
    expiration              the last occurrence + the window + 7 days (retries and DLQ redrives within)

A delivery that succeeds costs ONE UpdateItem (`count`), a failed one a second (`hold`), its retry a
conditional UpdateItem that fails and returns the item (ReturnValuesOnConditionCheckFailure) and one
that clears its entry (`release`). A window that is over costs one more conditional write (`roll`).

`MemoryState` implements the same operations in process (CLI, demo, tests run both backends).
"""

from __future__ import annotations

import threading
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

STATE_TTL_SECONDS = 7 * 86_400  # an item outlives its window by this much: a retry within re-sends only what failed
RECENT_SLOTS = 16
MAX_PENDING = 200  # failed deliveries remembered per failure (bounds the item far below DynamoDB's 400 KB)


class StateError(RuntimeError):
    """The state table could not be read or written."""


@dataclass(frozen=True)
class Counted:
    """One occurrence was counted: the window it was counted in, and the failed deliveries pending there."""

    start: int
    count: int
    previous_count: int = 0
    pending: dict[str, int] = field(default_factory=dict)  # delivery id -> when it failed


@dataclass(frozen=True)
class Seen:
    """This delivery was counted before: `entry` is what it still has to send (None: it completed)."""

    entry: dict[str, Any] | None


@dataclass(frozen=True)
class Stale:
    """Nothing was counted: the window that started at `start` is over (it saw `count` tasks)."""

    start: int
    count: int


class State(Protocol):
    def count(self, key: str, did: str, now: int, window_seconds: int, expiration: int) -> Counted | Seen | Stale:
        """Atomically: Seen when `did` is pending or recent; else Stale when the window is over (window_seconds
        > 0); else ADD 1 to the count (opening the window on the first occurrence) and remember `did`."""
        ...

    def roll(self, key: str, did: str, old_start: int, now: int, previous_count: int,
             expiration: int) -> Counted | None:
        """Open a new window counting `did` as its first task, if the window is still the one that started
        at `old_start`; None when another invocation changed it first (count again)."""
        ...

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        """Store what delivery `did` still has to send (and forget the pending deliveries in `drop`)."""
        ...

    def release(self, key: str, did: str) -> None:
        """Delivery `did` has nothing left to send."""
        ...


def recent_slot(did: str) -> str:
    return f"recent_{zlib.crc32(did.encode()) % RECENT_SLOTS:x}"


def recent_did(value: Any) -> str | None:
    """The delivery id a recent slot holds ("<did>" or "<did> <token>")."""
    return str(value).split(" ", 1)[0] if value is not None else None


def classify(item: dict[str, Any], did: str, now: int, window_seconds: int) -> Seen | Stale | None:
    """Why `count` would not count `did` in this item (the condition, evaluated in Python); None: it would."""
    pending = item.get("pending") or {}
    if did in pending:
        return Seen(dict(pending[did]))
    if recent_did(item.get(recent_slot(did))) == did:
        return Seen(None)
    if window_seconds and "window_start" in item and int(item["window_start"]) <= now - window_seconds:
        return Stale(int(item["window_start"]), int(item.get("count", 0)))
    return None


def _counted(item: dict[str, Any]) -> Counted:
    pending = {d: int(e.get("at", 0)) for d, e in (item.get("pending") or {}).items() if isinstance(e, dict)}
    return Counted(int(item["window_start"]), int(item["count"]), int(item.get("previous_count", 0)), pending)


# -------------------------------------------------------------------------------------------------
class MemoryState:
    """In-process state with the same semantics (a lock stands in for DynamoDB's conditional updates)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[str, dict[str, Any]] = {}

    def count(self, key: str, did: str, now: int, window_seconds: int, expiration: int) -> Counted | Seen | Stale:
        with self._lock:
            item = self.items.get(key)
            if item is not None:
                why = classify(item, did, now, window_seconds)
                if why is not None:
                    return why
            else:
                item = self.items[key] = {"count": 0, "window_start": now, "pending": {}}
            item["count"] += 1
            item[recent_slot(did)] = did
            item["expiration"] = expiration
            return _counted(item)

    def roll(self, key: str, did: str, old_start: int, now: int, previous_count: int,
             expiration: int) -> Counted | None:
        with self._lock:
            item = self.items.get(key)
            if item is None or item["window_start"] != old_start or did in item["pending"] \
                    or recent_did(item.get(recent_slot(did))) == did:
                return None
            item.update({"window_start": now, "count": 1, "previous_count": previous_count,
                         recent_slot(did): did, "expiration": expiration})
            return _counted(item)

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        with self._lock:
            if key not in self.items:
                raise StateError(f"no state item {key} to hold delivery {did} in")
            pending = self.items[key]["pending"]
            for old in drop:
                pending.pop(old, None)
            pending[did] = dict(entry)

    def release(self, key: str, did: str) -> None:
        with self._lock:
            item = self.items.get(key)
            if item is not None:
                item["pending"].pop(did, None)


# -------------------------------------------------------------------------------------------------
class DynamoState:
    """The State on a DynamoDB table (low-level client: no resource model to load on a cold start)."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from shared.notify.aws import client

            self._client = client("dynamodb")
        return self._client

    def count(self, key: str, did: str, now: int, window_seconds: int, expiration: int) -> Counted | Seen | Stale:
        names = {"#n": "count", "#ws": "window_start", "#pd": "pending", "#did": did, "#r": recent_slot(did),
                 "#e": "expiration"}
        mark = _mark(did)
        values = {":one": 1, ":now": now, ":empty": {}, ":rid": did, ":rsp": f"{did} ", ":mark": mark,
                  ":exp": expiration}
        condition = f"attribute_not_exists(#pd.#did) AND {_NOT_RECENT}"
        if window_seconds:
            condition += " AND (attribute_not_exists(#ws) OR #ws > :cutoff)"
            values[":cutoff"] = now - window_seconds
        for _ in range(3):
            try:
                out = self._update(
                    key, "ADD #n :one SET #ws = if_not_exists(#ws, :now), #pd = if_not_exists(#pd, :empty), "
                         "#r = :mark, #e = :exp", names, values, condition, "ALL_NEW")
                return _counted(out)
            except _Conflict as conflict:
                item = conflict.item if conflict.item is not None else self._get(key)
                if item and item.get(recent_slot(did)) == mark:
                    return _counted(item)  # our own write took effect; botocore retried it after a lost answer
                why = classify(item or {}, did, now, window_seconds)
                if why is not None:
                    return why
                # the item changed between the failed write and the read (GetItem fallback only): try again
        raise StateError(f"could not count an occurrence of {key}: too much contention")

    def roll(self, key: str, did: str, old_start: int, now: int, previous_count: int,
             expiration: int) -> Counted | None:
        names = {"#n": "count", "#ws": "window_start", "#pv": "previous_count", "#pd": "pending", "#did": did,
                 "#r": recent_slot(did), "#e": "expiration"}
        mark = _mark(did)
        values = {":one": 1, ":now": now, ":prev": previous_count, ":empty": {}, ":rid": did, ":rsp": f"{did} ",
                  ":mark": mark, ":exp": expiration, ":old": old_start}
        try:
            out = self._update(
                key, "SET #ws = :now, #n = :one, #pv = :prev, #pd = if_not_exists(#pd, :empty), #r = :mark, #e = :exp",
                names, values, f"#ws = :old AND attribute_not_exists(#pd.#did) AND {_NOT_RECENT}", "ALL_NEW")
        except _Conflict as conflict:
            if conflict.item and conflict.item.get(recent_slot(did)) == mark:
                return _counted(conflict.item)  # our own write took effect (its answer was lost)
            return None
        return _counted(out)

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        names = {"#pd": "pending", "#did": did}
        expression = "SET #pd.#did = :entry"
        if drop:
            names.update({f"#x{i}": old for i, old in enumerate(drop)})
            expression += " REMOVE " + ", ".join(f"#pd.#x{i}" for i in range(len(drop)))
        self._update(key, expression, names, {":entry": entry})

    def release(self, key: str, did: str) -> None:
        self._update(key, "REMOVE #pd.#did", {"#pd": "pending", "#did": did}, None,
                     "attribute_exists(#pd)", conflict_ok=True)

    # -- plumbing -----------------------------------------------------------------------------------
    def _update(self, key: str, expression: str, names: dict[str, str], values: dict[str, Any] | None,
                condition: str | None = None, return_values: str | None = None,
                conflict_ok: bool = False) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": _key(key), "UpdateExpression": expression,
                                  "ExpressionAttributeNames": names}
        if values:
            kwargs["ExpressionAttributeValues"] = {k: _dump(v) for k, v in values.items()}
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if return_values:
            kwargs["ReturnValues"] = return_values
        try:
            out = self.client.update_item(**kwargs)
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                if conflict_ok:
                    return {}
                old = getattr(exc, "response", {}).get("Item")
                raise _Conflict(_load(old) if old else None) from None
            raise StateError(f"DynamoDB UpdateItem on {self.table} failed: {_describe(exc)}") from exc
        return _load(out.get("Attributes") or {})

    def _get(self, key: str) -> dict[str, Any] | None:
        """The item, read only when a failed conditional write did not return it."""
        try:
            item = self.client.get_item(TableName=self.table, Key=_key(key), ConsistentRead=True).get("Item")
        except Exception as exc:
            raise StateError(f"DynamoDB GetItem on {self.table} failed: {_describe(exc)}") from exc
        return _load(item) if item else None


# `did` is not the delivery id in its recent slot (stored as "<did>", or "<did> <token>").
_NOT_RECENT = "(attribute_not_exists(#r) OR (#r <> :rid AND NOT begins_with(#r, :rsp)))"


def _mark(did: str) -> str:
    """The recent-slot value of one write: the delivery id and a token only this write holds."""
    return f"{did} {uuid.uuid4().hex[:12]}"


class _Conflict(Exception):
    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("conditional check failed")
        self.item = item


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def _describe(exc: Exception) -> str:
    return f"{_error_code(exc) or type(exc).__name__}: {exc}"


def _key(key: str) -> dict[str, Any]:
    return {"id": {"S": key}}


def _dump(value: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer().serialize(_plain(value))


def _load(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    return {k: _native(des.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB takes no floats: seconds and scores are stored as integers or strings."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _native(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    return value
