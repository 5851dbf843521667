"""The DynamoDB plumbing the delivery state (state.py) and the Slack threads (threads.py) share.

One table, items keyed by `id`, read with the low-level client (no resource model to load on a cold
start, attribute values written and read here without boto3). A conditional write that fails raises
`Conflict` with the item as it was (ReturnValuesOnConditionCheckFailure), so the caller decides from
it without another read; any other failure is a `StateError`.
"""

from __future__ import annotations

from typing import Any


class StateError(RuntimeError):
    """The state table could not be read or written."""


class Conflict(Exception):
    """A conditional write's condition did not hold; `item`: the item as it was (None if there was none)."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        super().__init__("conditional check failed")
        self.item = item


class Table:
    """One DynamoDB table of state items: UpdateItem and a consistent GetItem, with errors made plain."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from shared.notify.aws import client

            self._client = client("dynamodb")
        return self._client

    def get(self, key: str) -> dict[str, Any] | None:
        """The item (consistent read), or None."""
        try:
            item = self.client.get_item(TableName=self.table, Key=item_key(key), ConsistentRead=True).get("Item")
        except Exception as exc:
            raise StateError(f"DynamoDB GetItem on {self.table} failed: {describe(exc)}") from exc
        return load(item) if item else None

    def _update(self, key: str, expression: str, names: dict[str, str], values: dict[str, Any] | None,
                condition: str | None = None, return_values: str | None = None, *, conflict_ok: bool = False,
                numeric_strings: bool = False) -> dict[str, Any]:
        """One UpdateItem; the attributes `return_values` asks for. A failed `condition` raises Conflict
        (returns {} when `conflict_ok`); `numeric_strings`: string values (seconds with a fraction) are
        sent as numbers, to compare as numbers."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": item_key(key), "UpdateExpression": expression,
                                  "ExpressionAttributeNames": names}
        if values:
            dumped = {k: dump(v) for k, v in values.items()}
            if numeric_strings:
                dumped = {k: {"N": v["S"]} if "S" in v else v for k, v in dumped.items()}
            kwargs["ExpressionAttributeValues"] = dumped
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if return_values:
            kwargs["ReturnValues"] = return_values
        try:
            out = self.client.update_item(**kwargs)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                if conflict_ok:
                    return {}
                old = getattr(exc, "response", {}).get("Item")
                raise Conflict(load(old) if old else None) from None
            raise StateError(f"DynamoDB UpdateItem on {self.table} failed: {describe(exc)}") from exc
        return load(out.get("Attributes") or {})


def error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def describe(exc: Exception) -> str:
    return f"{error_code(exc) or type(exc).__name__}: {exc}"


def item_key(key: str) -> dict[str, Any]:
    return {"id": {"S": key}}


# DynamoDB attribute values, written and read here: boto3.dynamodb.types would do the same for these
# plain types, but importing it imports boto3 (and s3transfer), which the Lambda path otherwise never
# loads (~20 ms of a cold start's CPU on Python 3.12).
def dump(value: Any) -> dict[str, Any]:
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


def load(item: dict[str, Any]) -> dict[str, Any]:
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
