"""Delivery state: idempotency, in-progress detection and noise control in ONE DynamoDB item per service.

Key schema (the infra creates it): partition key `id` (S), TTL attribute `expiration` (epoch s). One item
per service (`noise#<hash of account, region, cluster, service group>`, see `noise.noise_key`) holds:

    n_<fp>, ws_<fp>, pv_<fp>  the noise window of failure <fp> (its fingerprint): the count, when the window
                            started, how many tasks the window before it saw
    t_<slot>                "<task> <fp> <token>": the last stopped task claimed in slot <slot> (64 slots by a
                            hash of the task key), the fingerprint it was delivered with, and the token of the
                            write that claimed it. A duplicate event of that task, or a later version of its
                            STOPPED event with the same diagnosis, is recognised here and sends nothing; a
                            later version with ANOTHER diagnosis finds the earlier fingerprint and is marked as
                            an update that supersedes it. A write whose answer was lost (botocore retried it)
                            recognises its own token.
    ip_<did>, ic_<did>      delivery <did> is in progress until ip (epoch ms: the invocation's deadline), and the
                            count it claimed: a concurrent duplicate ends normally ("in progress"), a retry after
                            the invocation died (timeout, out of memory) takes the delivery over and sends it
    pending                 {delivery id: {"channels": [...], "decision": {...}, "at": epoch s}}: the channels a
                            failed delivery still has to send and the noise decision it took, so that its retry
                            re-sends only those and neither counts nor decides again
    expiration              the last occurrence + the window + 7 days (retries and DLQ redrives within)

This replaces Powertools Idempotency on the task-stopped path and keeps its guarantees in the item: the
claim is one conditional write (in-progress detection), the in-progress mark expires with the
invocation (a retry after a crash runs again), and a completed delivery is remembered (for as long as
its slot is not reused by another task of the same service: 64 tasks; the `pending` entries of failed
deliveries are kept until their retry, whatever the traffic). Idempotency is per stopped task, not per
event version.

Writes (each one UpdateItem):
- `claim`    first-seen delivery: counts the task in its failure's window (returns the old item, from
             which the new count follows), marks it in progress and remembers the task. A duplicate
             fails the condition and gets the item back (ReturnValuesOnConditionCheckFailure): no second
             call.
- `release`  success: the in-progress mark goes (the slot keeps the task: later duplicates send nothing),
             and so do the windows of other failures over for 2 days and dead marks (the item stays bounded).
- `hold`     a channel failed: what is still to send, with the decision taken, replaces the mark.
- `roll`     the window was over: one more conditional write opens the next one.
- `take_over` a retry finds the mark of an invocation that died: one conditional write takes it.

So a first-seen finding costs 2 writes, an exact duplicate or a later version with the same diagnosis
1 (the failed claim), a retry of a failed delivery 2.

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
TASK_SLOTS = 64
MAX_PENDING = 200  # failed deliveries remembered per service (bounds the item far below DynamoDB's 400 KB)
FORGET_AFTER = 2 * 86_400  # a window this long over, or a mark this long expired, is dropped by the next completion
MAX_FORGET = 30  # attributes dropped per write


class StateError(RuntimeError):
    """The state table could not be read or written."""


@dataclass(frozen=True)
class Claim:
    """One delivery: which item, which failure, which task, and until when it is in progress."""

    key: str  # the item (one per service)
    fp: str  # the finding's fingerprint
    task: str  # the stopped task (or deployment): per task, not per event version
    did: str  # the delivery id: (fingerprint, task)
    now: int  # epoch s
    until_ms: int  # in progress until (epoch ms): the invocation's deadline
    window_seconds: int
    expiration: int

    @property
    def slot(self) -> str:
        return f"t_{zlib.crc32(self.task.encode()) % TASK_SLOTS:02x}"

    @property
    def names(self) -> dict[str, str]:
        return {"#n": f"n_{self.fp}", "#ws": f"ws_{self.fp}", "#pv": f"pv_{self.fp}", "#pd": "pending",
                "#did": self.did, "#t": self.slot, "#ip": f"ip_{self.did}", "#ic": f"ic_{self.did}",
                "#e": "expiration"}


@dataclass(frozen=True)
class Counted:
    """This delivery was counted: the window it was counted in, the failed deliveries pending there, and
    the fingerprint of an earlier finding of the same task it supersedes (another diagnosis)."""

    start: int
    count: int
    previous_count: int = 0
    pending: dict[str, int] = field(default_factory=dict)  # delivery id -> when it failed
    supersedes: str | None = None
    forget: tuple[str, ...] = ()  # attributes of long-gone windows and dead marks, for the completion to drop


@dataclass(frozen=True)
class Seen:
    """This delivery was counted before: `entry` is what it still has to send (None: it completed)."""

    entry: dict[str, Any] | None


@dataclass(frozen=True)
class InProgress:
    """Another invocation claimed this delivery and is sending it until `until_ms` (or died before then)."""

    until_ms: int
    count: int
    start: int
    previous_count: int = 0


@dataclass(frozen=True)
class Stale:
    """Nothing was counted: the window that started at `start` is over (it saw `count` tasks)."""

    start: int
    count: int


class State(Protocol):
    def claim(self, c: Claim) -> Counted | Seen | InProgress | Stale:
        """Atomically: Seen when the delivery is pending or its task was delivered with this fingerprint;
        InProgress when it is marked so; Stale when the window is over (window_seconds > 0); else count it
        (opening the window on the first occurrence), mark it in progress and remember its task."""
        ...

    def roll(self, c: Claim, old_start: int, previous_count: int) -> Counted | None:
        """Open a new window counting this delivery as its first task, if the window is still the one that
        started at `old_start`; None when another invocation changed it first (claim again)."""
        ...

    def take_over(self, c: Claim, old_until_ms: int) -> bool:
        """Mark the delivery in progress for this invocation if it still carries the mark of the one that died."""
        ...

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        """Store what delivery `did` still has to send (and forget the pending deliveries in `drop`)."""
        ...

    def release(self, key: str, did: str, forget: Sequence[str] = ()) -> None:
        """Delivery `did` has nothing left to send (and the attributes in `forget` are dropped)."""
        ...


def slot_value(value: Any) -> tuple[str, str] | None:
    """(task, fingerprint) of a task slot ("<task> <fp> <token>")."""
    parts = str(value).split(" ") if value is not None else []
    return (parts[0], parts[1]) if len(parts) >= 2 else None


def classify(item: dict[str, Any], c: Claim) -> Seen | InProgress | Stale | None:
    """Why `claim` would not count `c` in this item (the condition, evaluated in Python); None: it would."""
    pending = item.get("pending") or {}
    if c.did in pending:
        return Seen(dict(pending[c.did]))
    if f"ip_{c.did}" in item:
        return InProgress(int(item[f"ip_{c.did}"]), int(item.get(f"ic_{c.did}", 1)),
                          int(item.get(f"ws_{c.fp}", c.now)), int(item.get(f"pv_{c.fp}", 0)))
    if slot_value(item.get(c.slot)) == (c.task, c.fp):
        return Seen(None)
    ws = item.get(f"ws_{c.fp}")
    if c.window_seconds and ws is not None and int(ws) <= c.now - c.window_seconds:
        return Stale(int(ws), int(item.get(f"n_{c.fp}", 0)))
    return None


def _pending(item: dict[str, Any]) -> dict[str, int]:
    return {d: int(e.get("at", 0)) for d, e in (item.get("pending") or {}).items() if isinstance(e, dict)}


def _supersedes(old: dict[str, Any], c: Claim) -> str | None:
    earlier = slot_value(old.get(c.slot))
    return earlier[1] if earlier and earlier[0] == c.task and earlier[1] != c.fp else None


def _counted_from_old(old: dict[str, Any], c: Claim) -> Counted:
    """The claim's outcome from the item as it was before the claim (ReturnValues=ALL_OLD)."""
    return Counted(int(old.get(f"ws_{c.fp}", c.now)), int(old.get(f"n_{c.fp}", 0)) + 1,
                   int(old.get(f"pv_{c.fp}", 0)), _pending(old), _supersedes(old, c), _forgettable(old, c))


def _forgettable(item: dict[str, Any], c: Claim) -> tuple[str, ...]:
    """What no delivery will read again: the windows of other failures over for FORGET_AFTER (a new window
    mentions the previous one only within a day), and in-progress marks expired that long ago (their
    invocations died and no retry came). Keeps a service's item bounded however long it lives."""
    cutoff = c.now - c.window_seconds - FORGET_AFTER
    out: list[str] = []
    for name, value in item.items():
        if name.startswith("ws_") and name != f"ws_{c.fp}" and int(value) < cutoff:
            out += [f"n_{name[3:]}", name, f"pv_{name[3:]}"]
        elif name.startswith("ip_") and name != f"ip_{c.did}" and int(value) < (c.now - FORGET_AFTER) * 1000:
            out += [name, f"ic_{name[3:]}"]
    return tuple(out[:MAX_FORGET])


def _counted_own(item: dict[str, Any], c: Claim) -> Counted:
    """Our own claim took effect but its answer was lost: the count it claimed is stored with its mark."""
    return Counted(int(item.get(f"ws_{c.fp}", c.now)), int(item.get(f"ic_{c.did}", item.get(f"n_{c.fp}", 1))),
                   int(item.get(f"pv_{c.fp}", 0)), _pending(item))


def windows(item: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The noise windows an item holds, by fingerprint: {fp: {count, window_start, previous_count}}."""
    out: dict[str, dict[str, int]] = {}
    for name, value in item.items():
        if name.startswith("n_"):
            fp = name[2:]
            out[fp] = {"count": int(value), "window_start": int(item.get(f"ws_{fp}", 0)),
                       "previous_count": int(item.get(f"pv_{fp}", 0))}
    return out


# -------------------------------------------------------------------------------------------------
class MemoryState:
    """In-process state with the same semantics (a lock stands in for DynamoDB's conditional updates)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[str, dict[str, Any]] = {}

    def claim(self, c: Claim) -> Counted | Seen | InProgress | Stale:
        with self._lock:
            item = self.items.get(c.key)
            if item is not None:
                why = classify(item, c)
                if why is not None:
                    return why
            else:
                item = self.items[c.key] = {"pending": {}}
            old = dict(item)
            n = f"n_{c.fp}"
            item[n] = int(item.get(n, 0)) + 1
            item.setdefault(f"ws_{c.fp}", c.now)
            item.update({c.slot: _mark(c), f"ip_{c.did}": c.until_ms, f"ic_{c.did}": item[n],
                         "expiration": c.expiration})
            return _counted_from_old(old, c)

    def roll(self, c: Claim, old_start: int, previous_count: int) -> Counted | None:
        with self._lock:
            item = self.items.get(c.key)
            if item is None or item.get(f"ws_{c.fp}") != old_start or c.did in item["pending"]                     or f"ip_{c.did}" in item or slot_value(item.get(c.slot)) == (c.task, c.fp):
                return None
            old = dict(item)
            item.update({f"ws_{c.fp}": c.now, f"n_{c.fp}": 1, f"pv_{c.fp}": previous_count, c.slot: _mark(c),
                         f"ip_{c.did}": c.until_ms, f"ic_{c.did}": 1, "expiration": c.expiration})
            return Counted(c.now, 1, previous_count, _pending(old), _supersedes(old, c), _forgettable(old, c))

    def take_over(self, c: Claim, old_until_ms: int) -> bool:
        with self._lock:
            item = self.items.get(c.key)
            if item is None or item.get(f"ip_{c.did}") != old_until_ms:
                return False
            item[f"ip_{c.did}"] = c.until_ms
            return True

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        with self._lock:
            if key not in self.items:
                raise StateError(f"no state item {key} to hold delivery {did} in")
            item = self.items[key]
            for old in drop:
                item["pending"].pop(old, None)
            item["pending"][did] = dict(entry)
            item.pop(f"ip_{did}", None)
            item.pop(f"ic_{did}", None)

    def release(self, key: str, did: str, forget: Sequence[str] = ()) -> None:
        with self._lock:
            item = self.items.get(key)
            if item is not None:
                item["pending"].pop(did, None)
                for name in (f"ip_{did}", f"ic_{did}", *forget):
                    item.pop(name, None)


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

    def claim(self, c: Claim) -> Counted | Seen | InProgress | Stale:
        mark = _mark(c)
        values = {":zero": 0, ":one": 1, ":now": c.now, ":empty": {}, ":tf": f"{c.task} {c.fp} ", ":mark": mark,
                  ":until": c.until_ms, ":exp": c.expiration}
        condition = f"attribute_not_exists(#pd.#did) AND attribute_not_exists(#ip) AND {_NOT_SAME_TASK}"
        if c.window_seconds:
            condition += " AND (attribute_not_exists(#ws) OR #ws > :cutoff)"
            values[":cutoff"] = c.now - c.window_seconds
        names = {k: v for k, v in c.names.items() if k != "#pv"}
        for _ in range(3):
            try:
                old = self._update(
                    c.key, "SET #n = if_not_exists(#n, :zero) + :one, #ws = if_not_exists(#ws, :now), "
                           "#pd = if_not_exists(#pd, :empty), #t = :mark, #ip = :until, "
                           "#ic = if_not_exists(#n, :zero) + :one, #e = :exp",
                    names, values, condition, "ALL_OLD")
                return _counted_from_old(old, c)
            except _Conflict as conflict:
                item = conflict.item if conflict.item is not None else self._get(c.key)
                if item and item.get(c.slot) == mark:
                    return _counted_own(item, c)  # our own write took effect; botocore retried it after a lost answer
                why = classify(item or {}, c)
                if why is not None:
                    return why
                # the item changed between the failed write and the read (GetItem fallback only): try again
        raise StateError(f"could not count an occurrence in {c.key}: too much contention")

    def roll(self, c: Claim, old_start: int, previous_count: int) -> Counted | None:
        mark = _mark(c)
        values = {":one": 1, ":now": c.now, ":prev": previous_count, ":empty": {}, ":tf": f"{c.task} {c.fp} ",
                  ":mark": mark, ":until": c.until_ms, ":exp": c.expiration, ":old": old_start}
        try:
            old = self._update(
                c.key, "SET #ws = :now, #n = :one, #pv = :prev, #pd = if_not_exists(#pd, :empty), #t = :mark, "
                       "#ip = :until, #ic = :one, #e = :exp",
                c.names, values,
                f"#ws = :old AND attribute_not_exists(#pd.#did) AND attribute_not_exists(#ip) AND {_NOT_SAME_TASK}",
                "ALL_OLD")
        except _Conflict as conflict:
            if conflict.item and conflict.item.get(c.slot) == mark:
                return _counted_own(conflict.item, c)  # our own write took effect (its answer was lost)
            return None
        return Counted(c.now, 1, previous_count, _pending(old), _supersedes(old, c), _forgettable(old, c))

    def take_over(self, c: Claim, old_until_ms: int) -> bool:
        try:
            self._update(c.key, "SET #ip = :until", {"#ip": f"ip_{c.did}"},
                         {":until": c.until_ms, ":old": old_until_ms}, "#ip = :old")
        except _Conflict as conflict:
            # our own write took effect (its answer was lost), or another retry took it first
            return conflict.item is not None and conflict.item.get(f"ip_{c.did}") == c.until_ms
        return True

    def hold(self, key: str, did: str, entry: dict[str, Any], drop: Sequence[str] = ()) -> None:
        names = {"#pd": "pending", "#did": did, "#ip": f"ip_{did}", "#ic": f"ic_{did}"}
        remove = ["#ip", "#ic"]
        if drop:
            names.update({f"#x{i}": old for i, old in enumerate(drop)})
            remove += [f"#pd.#x{i}" for i in range(len(drop))]
        self._update(key, "SET #pd.#did = :entry REMOVE " + ", ".join(remove), names, {":entry": entry})

    def release(self, key: str, did: str, forget: Sequence[str] = ()) -> None:
        names = {"#pd": "pending", "#did": did, "#ip": f"ip_{did}", "#ic": f"ic_{did}"}
        names.update({f"#f{i}": name for i, name in enumerate(forget)})
        remove = ", ".join(["#pd.#did", "#ip", "#ic", *(f"#f{i}" for i in range(len(forget)))])
        self._update(key, f"REMOVE {remove}", names, None, "attribute_exists(#pd)", conflict_ok=True)

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


# The task's slot does not already hold this task delivered with this fingerprint ("<task> <fp> <token>").
_NOT_SAME_TASK = "(attribute_not_exists(#t) OR NOT begins_with(#t, :tf))"


def _mark(c: Claim) -> str:
    """The slot value of one claim: the task, its fingerprint and a token only this write holds."""
    return f"{c.task} {c.fp} {uuid.uuid4().hex[:12]}"


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


# DynamoDB attribute values, written and read here: boto3.dynamodb.types would do the same for these
# plain types, but importing it imports boto3 (and s3transfer), which the Lambda path otherwise never
# loads (~20 ms of a cold start's CPU on Python 3.12).
def _dump(value: Any) -> dict[str, Any]:
    return _attribute(_plain(value))


def _attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, dict):
        return {"M": {str(k): _attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, set | frozenset) and value:
        kinds = {"S" if isinstance(v, str) else "B" if isinstance(v, bytes) else "N" for v in value}
        if len(kinds) == 1:
            kind = kinds.pop()
            return {f"{kind}S": [str(v) if kind == "N" else v for v in value]}
    raise TypeError(f"no DynamoDB attribute type for {type(value).__name__}")


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


def _value(attribute: dict[str, Any]) -> Any:
    ((kind, raw),) = attribute.items()
    if kind in ("S", "BOOL", "B"):
        return raw
    if kind == "N":
        return _number(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _value(v) for k, v in raw.items()}
    if kind == "L":
        return [_value(v) for v in raw]
    if kind == "SS" or kind == "BS":
        return set(raw)
    if kind == "NS":
        return {_number(v) for v in raw}
    raise TypeError(f"unknown DynamoDB attribute type {kind}")


def _number(text: str) -> int | float:
    from decimal import Decimal

    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(value: Any) -> Any:
    """DynamoDB takes no floats: seconds and scores are stored as integers or strings."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
