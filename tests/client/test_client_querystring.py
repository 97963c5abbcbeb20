"""`stringify_query`: query strings as `qs.stringify` writes them (the Feathers REST client).

The table's rows are also run through qs itself by tests/interop/test_client_querystring_qs.py
(those that JSON can carry); here, without Node, the property that matters to the server:
what the client writes, the server's qs parser reads back as the same query, every leaf a
string (as Feathers REST queries are).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptorobot.client import stringify_query
from cryptorobot.client.querystring import js_number
from cryptorobot.transports.querystring import parse_query_string

CASES = [
    # feathers-wire.md 1.4's example, byte for byte.
    ({"$limit": 2, "name": {"$in": ["a", "b"]}, "$sort": {"createdAt": -1}},
     "%24limit=2&name%5B%24in%5D%5B0%5D=a&name%5B%24in%5D%5B1%5D=b&%24sort%5BcreatedAt%5D=-1"),
    ({"$or": [{"type": "x"}, {"name": "y"}]}, "%24or%5B0%5D%5Btype%5D=x&%24or%5B1%5D%5Bname%5D=y"),
    ({"$select": ["name", "status"]}, "%24select%5B0%5D=name&%24select%5B1%5D=status"),
    ({"a": {"b": {"c": {"d": "e"}}}}, "a%5Bb%5D%5Bc%5D%5Bd%5D=e"),
    ({"note": None, "yes": True, "no": False}, "note=&yes=true&no=false"),
    ({"empty": [], "nothing": {}, "kept": 1}, "kept=1"),
    ({}, ""),
    ({"text": "café & co = 100% +1 [x]~"}, "text=caf%C3%A9%20%26%20co%20%3D%20100%25%20%2B1%20%5Bx%5D~"),
    ({"sym": "BTC/USDT", "id": "a-b_c.d~e"}, "sym=BTC%2FUSDT&id=a-b_c.d~e"),
    ({"emoji": "🚀"}, "emoji=%F0%9F%9A%80"),
    ({"b": 1, "2": 2, "a": 3, "1": 4, "01": 5}, "1=4&2=2&b=1&a=3&01=5"),  # JS key order
    ({"n": [1.0, 0.1, -2.5, 1e21, 1e-7, 123456789.125, 1e16, 0.000001, 5e-324]},
     "&".join(f"n%5B{i}%5D={text}" for i, text in enumerate(
         ["1", "0.1", "-2.5", "1e%2B21", "1e-7", "123456789.125", "10000000000000000", "0.000001", "5e-324"]))),
    ({"t": [(1, 2), {"x", }]}, "t%5B0%5D%5B0%5D=1&t%5B0%5D%5B1%5D=2&t%5B1%5D%5B0%5D=x"),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_table(query: dict, expected: str) -> None:
    assert stringify_query(query) == expected


def test_dates_and_decimals_as_the_wire_carries_them() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert stringify_query({"at": {"$gte": datetime(2024, 3, 13, 12, 21, 50, 123456, tzinfo=eastern)}}) == \
        "at%5B%24gte%5D=2024-03-13T17%3A21%3A50.123Z"
    assert stringify_query({"at": datetime(2024, 1, 1, tzinfo=UTC)}) == "at=2024-01-01T00%3A00%3A00.000Z"
    assert stringify_query({"day": date(2024, 1, 2)}) == "day=2024-01-02"
    assert stringify_query({"price": Decimal("42400.50")}) == "price=42400.5"


def test_values_json_can_not_carry() -> None:
    with pytest.raises(TypeError, match="bytes"):
        stringify_query({"raw": b"x"})


@pytest.mark.parametrize(("number", "text"), [
    (0.0, "0"), (-0.0, "0"), (1.5, "1.5"), (100.0, "100"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
    (1.5e-7, "1.5e-7"), (1e-6, "0.000001"), (-1.25e-10, "-1.25e-10"), (2**53 + 0.0, "9007199254740992"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (float("nan"), "NaN"), (float("-inf"), "-Infinity"),
])
def test_numbers_are_written_as_javascript_writes_them(number: float, text: str) -> None:
    assert js_number(number) == text


KEYS = st.from_regex(r"[A-Za-z$_][A-Za-z0-9$_ .é/-]{0,8}", fullmatch=True)
LEAVES = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def nested(depth: int) -> st.SearchStrategy[Any]:
    """Leaves in at most `depth` levels of lists and dicts (qs parses five bracket groups)."""
    if depth == 0:
        return LEAVES
    inner = nested(depth - 1)
    return LEAVES | st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3)


QUERIES = st.dictionaries(KEYS, nested(5), max_size=4)


def as_the_server_reads_it(value: Any) -> Any:
    """`value` with every leaf as its query-string text; empty lists and dicts send nothing."""
    if isinstance(value, dict):
        return {key: as_the_server_reads_it(item) for key, item in value.items() if not _empty(item)}
    if isinstance(value, list):
        return [as_the_server_reads_it(item) for item in value if not _empty(item)]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return js_number(value) if isinstance(value, float) else str(value)


def _empty(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_empty(item) for item in value.values())
    if isinstance(value, list):
        return all(_empty(item) for item in value)
    return False


@settings(max_examples=300, deadline=None)
@given(QUERIES)
def test_the_server_reads_back_what_the_client_wrote(query: dict) -> None:
    assert parse_query_string(stringify_query(query)) == as_the_server_reads_it(query)
