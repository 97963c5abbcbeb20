"""order_key and sort_records: NeDB's cross-type order, multi-key and stable."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from cryptorobot.adapters.records import MISSING
from cryptorobot.adapters.sorting import order_key, sort_records

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Side(StrEnum):
    BUY = "buy"


def test_cross_type_order() -> None:
    ordered = [MISSING, None, -1, 0.5, 2, "", "B", "a", Side.BUY, "é", False, True, T0,
               [], [1], [1, 2], [2], {}, {"z": 1}, {"a": 2}, {"a": 2, "b": 0}]
    backwards = ordered[::-1]  # a stable sort of input already in order would pass with any key
    assert sorted(backwards, key=order_key) == ordered


def test_sort_records_multi_key_stable_and_dotted() -> None:
    records = [{"n": n, "g": {"k": n % 3}, "s": n // 4} for n in range(8)]
    sort_records(records, {"s": -1, "g.k": 1})
    assert [r["n"] for r in records] == [6, 4, 7, 5, 0, 3, 1, 2]
