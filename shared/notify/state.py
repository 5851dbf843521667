"""Delivery and noise-control state: one DynamoDB table shared with the idempotency layer.

Key schema (the infra creates it): partition key `id` (S), TTL attribute `expiration` (epoch s), the
defaults of Powertools Idempotency, so both live in ONE table; our ids carry a prefix:

    delivery#<delivery id>   which channels already delivered one finding, and the noise decision
                             taken for it (a retried invocation re-sends only what failed and
                             does not count the same task twice); kept 7 days
    noise#<fingerprint>      the current noise window of one failure: window_start, count (ADD,
                             atomic), posts (conditional ADD under the per-window cap), and
                             previous_count; kept until the window is over plus a day

`MemoryState` implements the same operations in process (CLI, demo, tests of the policy).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

DELIVERY_TTL_SECONDS = 7 * 86_400
NOISE_TTL_EXTRA_SECONDS = 86_400


class StateError(RuntimeError):
    """The state table could not be read or written."""


@dataclass(frozen=True)
class Window:
    start: int
    count: int
    previous_count: int = 0


class State(Protocol):
    def get_delivery(self, delivery_id: str) -> dict[str, Any]:
        """{"channels": {name: {"status", "detail", "at"}}, "decision": {...} | None}; empty when unknown."""
        ...

    def put_decision(self, delivery_id: str, decision: dict[str, Any], now: int) -> dict[str, Any]:
        """Store the decision unless one is stored already; return the stored one (first writer wins)."""
        ...

    def mark_channel(self, delivery_id: str, channel: str, outcome: dict[str, Any], now: int) -> None: ...

    def observe(self, key: str, now: int, window_seconds: int) -> Window:
        """Count one occurrence in the current window of `key`, starting a new window when it is over."""
        ...

    def claim_post(self, key: str, window_start: int, max_posts: int) -> int | None:
        """Take one of the window's posts: the post number, or None when the cap is reached."""
        ...


# -------------------------------------------------------------------------------------------------
class MemoryState:
    """In-process state with the same semantics (a lock stands in for DynamoDB's atomic updates)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, dict[str, int]] = {}

    def get_delivery(self, delivery_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self.deliveries.get(delivery_id)
            if not rec:
                return {}
            return {"channels": dict(rec.get("channels", {})), "decision": rec.get("decision")}

    def put_decision(self, delivery_id: str, decision: dict[str, Any], now: int) -> dict[str, Any]:
        with self._lock:
            rec = self.deliveries.setdefault(delivery_id, {"channels": {}})
            if rec.get("decision") is None:
                rec["decision"] = dict(decision)
            return dict(rec["decision"])

    def mark_channel(self, delivery_id: str, channel: str, outcome: dict[str, Any], now: int) -> None:
        with self._lock:
            self.deliveries.setdefault(delivery_id, {"channels": {}})["channels"][channel] = dict(outcome)

    def observe(self, key: str, now: int, window_seconds: int) -> Window:
        with self._lock:
            w = self.windows.get(key)
            if w and w["window_start"] > now - window_seconds:
                w["count"] += 1
            else:
                w = {"window_start": now, "count": 1, "posts": 0, "previous_count": w["count"] if w else 0}
                self.windows[key] = w
            return Window(w["window_start"], w["count"], w["previous_count"])

    def claim_post(self, key: str, window_start: int, max_posts: int) -> int | None:
        with self._lock:
            w = self.windows.get(key)
            if not w or w["window_start"] != window_start or w["posts"] >= max_posts:
                return None
            w["posts"] += 1
            return w["posts"]


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

    # -- delivery records ---------------------------------------------------------------------------
    def get_delivery(self, delivery_id: str) -> dict[str, Any]:
        item = self._call("get_item", TableName=self.table, Key=_key(f"delivery#{delivery_id}"),
                          ConsistentRead=True).get("Item")
        if not item:
            return {}
        data = _load(item)
        channels = {k[3:]: v for k, v in data.items() if k.startswith("ch_") and isinstance(v, dict)}
        return {"channels": channels, "decision": data.get("decision")}

    def put_decision(self, delivery_id: str, decision: dict[str, Any], now: int) -> dict[str, Any]:
        try:
            self._client_call_conditional(
                "update_item", TableName=self.table, Key=_key(f"delivery#{delivery_id}"),
                UpdateExpression="SET #d = :d, #e = if_not_exists(#e, :e)",
                ConditionExpression="attribute_not_exists(#d)",
                ExpressionAttributeNames={"#d": "decision", "#e": "expiration"},
                ExpressionAttributeValues={":d": _dump(decision), ":e": _dump(now + DELIVERY_TTL_SECONDS)})
            return dict(decision)
        except _Conflict:
            stored = self.get_delivery(delivery_id).get("decision")
            if stored is None:
                raise StateError(f"decision of delivery {delivery_id} vanished") from None
            return stored

    def mark_channel(self, delivery_id: str, channel: str, outcome: dict[str, Any], now: int) -> None:
        self._call("update_item", TableName=self.table, Key=_key(f"delivery#{delivery_id}"),
                   UpdateExpression="SET #c = :c, #e = if_not_exists(#e, :e)",
                   ExpressionAttributeNames={"#c": f"ch_{channel}", "#e": "expiration"},
                   ExpressionAttributeValues={":c": _dump(outcome), ":e": _dump(now + DELIVERY_TTL_SECONDS)})

    # -- noise windows ------------------------------------------------------------------------------
    def observe(self, key: str, now: int, window_seconds: int) -> Window:
        k = _key(key)
        names = {"#id": "id", "#n": "count", "#ws": "window_start"}
        for _ in range(5):
            try:
                item = self._client_call_conditional(
                    "update_item", TableName=self.table, Key=k, UpdateExpression="ADD #n :one",
                    ConditionExpression="attribute_exists(#id) AND #ws > :cutoff",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={":one": _dump(1), ":cutoff": _dump(now - window_seconds)},
                    ReturnValues="ALL_NEW")["Attributes"]
                data = _load(item)
                return Window(int(data["window_start"]), int(data["count"]), int(data.get("previous_count", 0)))
            except _Conflict:
                pass
            old = self._call("get_item", TableName=self.table, Key=k, ConsistentRead=True).get("Item")
            old_data = _load(old) if old else None
            if old_data and int(old_data["window_start"]) > now - window_seconds:
                continue  # another invocation opened a window in between: count in it
            previous = int(old_data.get("count", 0)) if old_data else 0
            new = {"id": key, "window_start": now, "count": 1, "posts": 0, "previous_count": previous,
                   "expiration": now + window_seconds + NOISE_TTL_EXTRA_SECONDS}
            try:
                if old_data:
                    self._client_call_conditional(
                        "put_item", TableName=self.table, Item=_dump_item(new), ConditionExpression="#ws = :old",
                        ExpressionAttributeNames={"#ws": "window_start"},
                        ExpressionAttributeValues={":old": _dump(int(old_data["window_start"]))})
                else:
                    self._client_call_conditional(
                        "put_item", TableName=self.table, Item=_dump_item(new),
                        ConditionExpression="attribute_not_exists(#id)", ExpressionAttributeNames={"#id": "id"})
                return Window(now, 1, previous)
            except _Conflict:
                continue
        raise StateError(f"could not count an occurrence of {key}: too much contention")

    def claim_post(self, key: str, window_start: int, max_posts: int) -> int | None:
        try:
            out = self._client_call_conditional(
                "update_item", TableName=self.table, Key=_key(key), UpdateExpression="ADD #p :one",
                ConditionExpression="#ws = :ws AND (attribute_not_exists(#p) OR #p < :max)",
                ExpressionAttributeNames={"#p": "posts", "#ws": "window_start"},
                ExpressionAttributeValues={":one": _dump(1), ":ws": _dump(window_start), ":max": _dump(max_posts)},
                ReturnValues="UPDATED_NEW")
        except _Conflict:
            return None
        return int(_load(out["Attributes"])["posts"])

    # -- plumbing -----------------------------------------------------------------------------------
    def _call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, op)(**kwargs)
        except Exception as exc:
            raise StateError(f"DynamoDB {op} on {self.table} failed: {_describe(exc)}") from exc

    def _client_call_conditional(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, op)(**kwargs)
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                raise _Conflict from None
            raise StateError(f"DynamoDB {op} on {self.table} failed: {_describe(exc)}") from exc


class _Conflict(Exception):
    pass


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


def _dump_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _dump(v) for k, v in item.items()}


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


def now() -> int:
    return int(time.time())
