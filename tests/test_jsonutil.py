"""jsonutil: JSON.stringify-compatible output, strict input, usable by python-socketio."""

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from cryptorobot import jsonutil

NAN = float("nan")
INF = float("inf")
PLUS_2 = timezone(timedelta(hours=2))

DUMPS_CASES = [
    pytest.param({"a": 1, "b": [1, 2]}, '{"a":1,"b":[1,2]}', id="compact"),
    pytest.param(
        {"n": 3, "big": 2**70, "f": 1.5, "t": True, "z": None},
        '{"n":3,"big":1180591620717411303424,"f":1.5,"t":true,"z":null}',
        id="integers-stay-integers",
    ),
    pytest.param("Bad Request", '"Bad Request"', id="bare-string"),
    pytest.param({"s": "café ✓"}, '{"s":"café ✓"}', id="non-ascii-as-utf8"),
    pytest.param({"s": "\ud800"}, '{"s":"\\ud800"}', id="lone-surrogate-escaped"),
    # Datetimes like Date.toJSON(): UTC, milliseconds (truncated), Z.
    pytest.param(
        datetime(2024, 3, 13, 17, 21, 50, 123456, tzinfo=UTC),
        '"2024-03-13T17:21:50.123Z"',
        id="aware-utc",
    ),
    pytest.param(
        datetime(2024, 3, 13, 19, 21, 50, 123000, tzinfo=PLUS_2),
        '"2024-03-13T17:21:50.123Z"',
        id="aware-offset",
    ),
    pytest.param(datetime(2024, 3, 13, 17, 21), '"2024-03-13T17:21:00.000Z"', id="naive-is-utc"),
    pytest.param(
        datetime(2024, 12, 31, 23, 59, 59, 999999),
        '"2024-12-31T23:59:59.999Z"',
        id="truncated-not-rounded",
    ),
    pytest.param(datetime(999, 1, 2, 3, 4, 5), '"0999-01-02T03:04:05.000Z"', id="four-digit-year"),
    pytest.param(
        {"at": [datetime(2024, 1, 1)]}, '{"at":["2024-01-01T00:00:00.000Z"]}', id="nested-datetime"
    ),
    pytest.param(date(2024, 3, 13), '"2024-03-13"', id="date"),
    # NaN and Infinity become null, anywhere.
    pytest.param(NAN, "null", id="nan"),
    pytest.param([INF, -INF, 1.0], "[null,null,1.0]", id="infinity"),
    pytest.param(
        {"a": {"b": [{"c": NAN}]}, "d": (INF,)},
        '{"a":{"b":[{"c":null}]},"d":[null]}',
        id="nested-non-finite",
    ),
    pytest.param(
        {NAN: 1, INF: 2, -INF: 3}, '{"NaN":1,"Infinity":2,"-Infinity":3}', id="non-finite-keys"
    ),
    pytest.param(
        {"a": {NAN}, "b": datetime(2024, 1, 1), "c": NAN},
        '{"a":[null],"b":"2024-01-01T00:00:00.000Z","c":null}',
        id="fallback-keeps-conversions",
    ),
    # Decimal, sets, tuples.
    pytest.param(Decimal("1.25"), "1.25", id="decimal"),
    pytest.param([Decimal("NaN"), Decimal("-Infinity")], "[null,null]", id="decimal-non-finite"),
    pytest.param(
        {"s": {1}, "f": frozenset(["x"]), "t": (1, "a")},
        '{"s":[1],"f":["x"],"t":[1,"a"]}',
        id="set-tuple",
    ),
]


@pytest.mark.parametrize(("value", "expected"), DUMPS_CASES)
def test_dumps(value: object, expected: str) -> None:
    assert jsonutil.dumps(value) == expected


@pytest.mark.parametrize(
    "value", [b"x", bytearray(b"x"), {"a": memoryview(b"x")}, object(), {"t": timedelta(1)}]
)
def test_dumps_refuses_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        jsonutil.dumps(value)


def test_dumps_circular_raises_value_error() -> None:
    value: list = [1]
    value.append(value)
    with pytest.raises(ValueError, match="Circular"):
        jsonutil.dumps(value)
    value[0] = NAN  # the NaN fallback must not recurse forever either
    with pytest.raises(ValueError):
        jsonutil.dumps(value)


def test_dumps_ignores_socketio_kwargs() -> None:
    assert jsonutil.dumps({"a": [1, 2]}, separators=(", ", ": ")) == '{"a":[1,2]}'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param('{"a":[1,2.5,"x",null,true]}', {"a": [1, 2.5, "x", None, True]}, id="plain"),
        pytest.param(b'{"a":1}', {"a": 1}, id="bytes"),
        pytest.param('"\\u00e9"', "é", id="escapes"),
        pytest.param('"\\ud800"', "\ud800", id="lone-surrogate"),
        pytest.param('[18446744073709551616,-9223372036854775809,12345678901234567890123]',
                     [2**64, -(2**63) - 1, 12345678901234567890123], id="integers-beyond-64-bits-stay-integers"),
        pytest.param(b'{"a":18446744073709551615}', {"a": 2**64 - 1}, id="bytes-long-integer"),
    ],
)
def test_loads(text: str | bytes, expected: object) -> None:
    assert jsonutil.loads(text) == expected


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a":-Infinity}', "{", "", "[1,]"])
def test_loads_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        jsonutil.loads(text)


def test_round_trip() -> None:
    at = datetime(2024, 3, 13, 17, 21, 50, 123000)
    value = {"id": 1, "at": at, "price": Decimal("0.5"), "x": NAN}
    expected = {"id": 1, "at": "2024-03-13T17:21:50.123Z", "price": 0.5, "x": None}
    assert jsonutil.loads(jsonutil.dumps(value)) == expected
    assert json.loads(jsonutil.dumps([math.pi])) == [math.pi]


class _SioPacket(sio_packet.Packet):
    json = jsonutil


class _EioPacket(eio_packet.Packet):
    json = jsonutil


def test_usable_as_socketio_json_module() -> None:
    at = datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)
    data = ["created", {"at": at, "x": NAN}]
    encoded = _SioPacket(sio_packet.EVENT, data=data, id=7).encode()
    assert encoded == '27["created",{"at":"2024-03-13T17:21:50.123Z","x":null}]'
    decoded = _SioPacket(encoded_packet=encoded).data
    assert decoded == ["created", {"at": "2024-03-13T17:21:50.123Z", "x": None}]
    with pytest.raises(ValueError):
        _SioPacket(encoded_packet='2["find",NaN]')
    assert _EioPacket(eio_packet.MESSAGE, data={"a": [1]}).encode() == '4{"a":[1]}'


def test_loads_refuses_hostile_nesting_with_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonutil.loads("[" * 100_000 + "]" * 100_000)
