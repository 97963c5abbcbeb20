"""The JSON form of statistics: what services send to clients."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from .periods import EPOCH

__all__ = ["python_scalars", "to_wire"]


def to_wire(value: Any) -> Any:
    """`value` (a statistics mapping, or lists, mappings and numpy arrays of values) as
    plain JSON values.

    Keys are kept (backtesting.py's names stay the keys). NaN and +-inf become None (JSON
    null); datetimes become UTC epoch milliseconds (int; naive ones are taken as UTC);
    timedeltas become milliseconds (int when whole, which they are for any data at
    one-millisecond resolution or coarser, else float); numpy scalars and arrays become
    Python numbers and lists (an equity curve: one vectorised pass).
    """
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return ((value if value.tzinfo else value.replace(tzinfo=UTC)) - EPOCH) // _MS
    if isinstance(value, timedelta):
        whole, rest = divmod(value, _MS)
        return whole if not rest else value / _MS
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        cells = value.astype(object)
        cells[~np.isfinite(value)] = None
        return cells.tolist()
    if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        return value.tolist()
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str):
        return [to_wire(item) for item in value]
    return value


_MS = timedelta(milliseconds=1)


def python_scalars(stats: dict[str, Any]) -> dict[str, Any]:
    """`stats` with numpy scalars turned into Python's (NaN and inf kept)."""
    return {name: value.item() if isinstance(value, np.generic) else value for name, value in stats.items()}
