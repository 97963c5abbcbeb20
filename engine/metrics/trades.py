"""`Trades`: the closed trades of a run as columns, the input of the trade statistics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["Trades"]

_INT_COLUMNS = frozenset({"entry_time", "exit_time", "entry_bar", "exit_bar"})


@dataclass(frozen=True, slots=True)
class Trades:
    """Closed trades as columns of equal length k (backtesting.py's `_trades` table).

    Times are UTC epoch ms (int64); `size` is signed units (positive long, negative short,
    fractions allowed); `pnl` is the profit in the quote currency after `commissions` (the
    fees of both legs, >= 0); `returns` is the return as a fraction (0.01 = 1%), after
    commissions (backtesting.py's `ReturnPct`). `entry_bar`/`exit_bar` are indices into the
    bar arrays of a backtest (inclusive); they are None where trades have no bars (a
    portfolio's closed positions), and only the exposure statistic needs them.

    Columns may be given as any array-like (lists, pandas Series); they are stored as
    contiguous int64/float64 arrays. ValueError when their lengths differ or a column is not
    one-dimensional.
    """

    entry_time: np.ndarray
    exit_time: np.ndarray
    entry_price: np.ndarray
    exit_price: np.ndarray
    size: np.ndarray
    pnl: np.ndarray
    returns: np.ndarray
    commissions: np.ndarray
    entry_bar: np.ndarray | None = None
    exit_bar: np.ndarray | None = None

    def __post_init__(self) -> None:
        lengths = set()
        for column in fields(self):
            value = getattr(self, column.name)
            if value is None:
                continue
            dtype = np.int64 if column.name in _INT_COLUMNS else np.float64
            array = np.ascontiguousarray(value, dtype=dtype)
            if array.ndim != 1:
                raise ValueError(f"trade column {column.name} must be one-dimensional, not {array.shape}")
            lengths.add(len(array))
            object.__setattr__(self, column.name, array)
        if len(lengths) > 1:
            raise ValueError(f"trade columns differ in length: {sorted(lengths)}")
        if (self.entry_bar is None) != (self.exit_bar is None):
            raise ValueError("entry_bar and exit_bar go together")

    def __len__(self) -> int:
        return len(self.pnl)

    @classmethod
    def empty(cls) -> Trades:
        """No trades (bars included, so backtest statistics accept it)."""
        return cls(**{column.name: np.empty(0) for column in fields(cls)})

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Trades:
        """From row mappings keyed by the column names (bars optional, all rows alike)."""
        rows = list(records)
        names = [column.name for column in fields(cls)
                 if column.name not in ("entry_bar", "exit_bar") or (rows and column.name in rows[0])]
        if not rows:
            return cls.empty()
        return cls(**{name: np.asarray([row[name] for row in rows]) for name in names})

    @classmethod
    def from_fills(cls, *, entry_time: Any, exit_time: Any, entry_price: Any, exit_price: Any, size: Any,
                   commissions: Any, entry_bar: Any = None, exit_bar: Any = None) -> Trades:
        """Trades whose `pnl` and `returns` follow from their fills, by backtesting.py's
        `Trade.pl` and `Trade.pl_pct`: `pnl = size * (exit - entry) - commissions`,
        `returns = sign(size) * (exit / entry - 1) - commissions / (|size| * entry)`."""
        size, commissions = np.asarray(size, dtype=np.float64), np.asarray(commissions, dtype=np.float64)
        entry, exit_ = np.asarray(entry_price, dtype=np.float64), np.asarray(exit_price, dtype=np.float64)
        return cls(entry_time=entry_time, exit_time=exit_time, entry_price=entry, exit_price=exit_, size=size,
                   pnl=size * (exit_ - entry) - commissions,
                   returns=np.copysign(1.0, size) * (exit_ / entry - 1) - commissions / (np.abs(size) * entry),
                   commissions=commissions, entry_bar=entry_bar, exit_bar=exit_bar)

    @property
    def durations_ms(self) -> np.ndarray:
        """Exit time minus entry time per trade, in ms (int64)."""
        return self.exit_time - self.entry_time
