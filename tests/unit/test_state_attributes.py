"""The state item's DynamoDB attribute values (shared/notify/dynamo.py writes them itself, so that the
Lambda path never imports boto3): the same as boto3's TypeSerializer/TypeDeserializer give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.notify.dynamo import _plain
from shared.notify.dynamo import dump as _dump
from shared.notify.dynamo import load as _load

VALUES: list[Any] = [
    None, True, False, 0, -7, 2**53 + 1, "", "app-crash 3f2a ", b"\x00bytes",
    {"pending": {"d1": {"at": 1700000000, "ok": True}}, "posts": 3, "gone": None},
    ["a", 1, None, [True, {"k": "v"}]], (1, "two"), 12.0, 1.25, {"score": 0.5, "n": [1.5, 2.0]},
    {"tags", "more"}, {1, 2, 3},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_dump_is_what_boto3_writes(value: Any) -> None:
    # boto3 is imported where its tests run, not while collecting: under `make unit`'s two workers both collect,
    # and importing boto3 is ~0.3 s of CPU.
    from boto3.dynamodb.types import TypeSerializer

    expected = TypeSerializer().serialize(_plain(value))
    got = _dump(value)
    if isinstance(value, set):  # set order is arbitrary in both
        ((kind, items),) = got.items()
        assert kind in expected and sorted(items) == sorted(expected[kind])
    else:
        assert got == expected


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_load_is_what_boto3_reads(value: Any) -> None:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    attribute = TypeSerializer().serialize(_plain(value))
    des = TypeDeserializer().deserialize(attribute)
    assert _load({"x": attribute}) == {"x": _numbers(des)}


def test_numbers_come_back_as_int_or_float() -> None:
    assert _load({"a": {"N": "3"}, "b": {"N": "2.5"}, "c": {"N": "1E+2"}, "d": {"NS": ["1", "0.5"]}}) == {
        "a": 3, "b": 2.5, "c": 100, "d": {1, 0.5}}


def test_an_unstorable_value_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="no DynamoDB attribute type for object"):
        _dump({"x": object()})


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, set):
        return {_numbers(v) for v in value}
    return value
