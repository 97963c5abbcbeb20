"""Live candles: closed candles from a stream, never the one still forming.

Time comes from the points themselves (their exchange timestamps), never from a clock: a
candle is closed once a point of a later period arrives, or when the caller says the
market time has passed its end (`close_until`, e.g. with the market clock on a quiet
stream). A period without points yields no candle: a gap, not an invented flat candle.

* `CandleBuilder` builds candles from trades (ccxt `watch_trades`: price and amount) or
  ticker points (ccxt `watch_ticker`: `last`; the volume of such candles is unknown, NaN,
  since a ticker's `baseVolume` is a rolling 24-hour figure, not a per-candle one). Open
  and close are the prices of the earliest and latest points of the period by timestamp,
  so points slightly out of order within the period still count; a point older than the
  period being built belongs to a candle already handed on and is dropped (`late`).
* `OhlcvCloser` passes on the closed candles of a ccxt `watch_ohlcv` stream, whose last
  row is the candle still forming (updated in place until its period ends): a row is
  handed on once a row of a later period has been seen, each candle once, in order.
  When the stream was interrupted (`interrupt()`: the connection dropped), the candle
  forming then is forgotten, since its end was not seen; the first batch of rows after
  the interruption counts from its newest row only (older rows in it may have been
  received before the drop). A row of the forgotten candle's own period arriving after
  the interruption takes its place again: an exchange's kline row carries the whole
  candle (Binance's kline stream, `watch_ohlcv`'s source), not only what changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .series import Candle
from .timeframes import timeframe

__all__ = ["CandleBuilder", "OhlcvCloser"]


class CandleBuilder:
    """Closed `timeframe_text` candles from price points; see the module documentation."""

    def __init__(self, timeframe_text: str) -> None:
        self.frame = timeframe(timeframe_text)
        self.late = 0
        """Points dropped because their period was already closed."""
        self.dropped = 0
        """Points dropped for a missing timestamp or a price that is not a positive number."""
        self._open_at: int | None = None  # open of the period being built
        self._end: int | None = None
        self._first = self._last = 0  # timestamps of the points giving open and close
        self._candle: list[float] = []  # open, high, low, close, volume
        self._closed_until: int | None = None  # no point before this may start a candle

    @property
    def forming(self) -> Candle | None:
        """The candle still forming (for display only: it is never handed on as closed)."""
        if self._open_at is None:
            return None
        return Candle(self._open_at, *self._candle)

    def add(self, timestamp: int | None, price: float | None, amount: float | None = None) -> list[Candle]:
        """Add a point (`amount` None: volume unknown); the candles this closes."""
        if timestamp is None or price is None or not math.isfinite(price) or price <= 0:
            self.dropped += 1
            return []
        timestamp = int(timestamp)
        closed = self.close_until(timestamp)
        if (self._closed_until is not None and timestamp < self._closed_until) or (
                self._open_at is not None and timestamp < self._open_at):
            self.late += 1
            return closed
        volume = math.nan if amount is None else float(amount)
        if self._open_at is None:
            self._open_at = self.frame.floor_one(timestamp)
            self._end = self.frame.next_open(timestamp)
            self._first = self._last = timestamp
            self._candle = [price, price, price, price, volume]
            return closed
        candle = self._candle
        if timestamp < self._first:
            self._first, candle[0] = timestamp, price
        if timestamp >= self._last:
            self._last, candle[3] = timestamp, price
        candle[1], candle[2] = max(candle[1], price), min(candle[2], price)
        candle[4] += volume
        return closed

    def add_trade(self, trade: Mapping[str, Any]) -> list[Candle]:
        """A ccxt trade (`timestamp`, `price`, `amount`)."""
        return self.add(trade.get("timestamp"), trade.get("price"), trade.get("amount"))

    def add_ticker(self, ticker: Mapping[str, Any]) -> list[Candle]:
        """A ccxt ticker (`timestamp`, `last`); volume unknown."""
        return self.add(ticker.get("timestamp"), ticker.get("last"))

    def add_all(self, points: Iterable[Mapping[str, Any]], kind: str = "trade") -> list[Candle]:
        """Several trades (or tickers, `kind="ticker"`) in arrival order."""
        add = self.add_trade if kind == "trade" else self.add_ticker
        return [candle for point in points for candle in add(point)]

    def close_until(self, timestamp: int) -> list[Candle]:
        """Hand on the candle being built if its period ended by `timestamp` (ms)."""
        if self._open_at is None or self._end is None or timestamp < self._end:
            return []
        candle = Candle(self._open_at, *self._candle)
        self._closed_until, self._open_at, self._end = self._end, None, None
        return [candle]


class OhlcvCloser:
    """The closed candles of a `watch_ohlcv` stream; see the module documentation.

    `after`: the open (ms) of the last candle already stored; nothing at or before it is
    handed on again.
    """

    def __init__(self, timeframe_text: str, *, after: int | None = None) -> None:
        self.frame = timeframe(timeframe_text)
        self._emitted = after
        self._pending: Candle | None = None
        self._resuming = False

    @property
    def forming(self) -> Candle | None:
        """The latest row: the candle still forming."""
        return self._pending

    def add(self, rows: Sequence[Sequence[float]]) -> list[Candle]:
        """Rows as `watch_ohlcv` returns them; the candles now known to be closed."""
        closed: list[Candle] = []
        ordered = sorted(rows, key=lambda row: row[0])
        if self._resuming and ordered:
            self._resuming, ordered = False, ordered[-1:]
        for row in ordered:
            candle = Candle(int(row[0]), *(math.nan if value is None else float(value) for value in row[1:6]))
            if self._emitted is not None and candle.timestamp <= self._emitted:
                continue
            pending = self._pending
            if pending is None or candle.timestamp == pending.timestamp:
                self._pending = candle
            elif candle.timestamp > pending.timestamp:
                closed.append(pending)
                self._emitted, self._pending = pending.timestamp, candle
            else:  # a candle older than the one forming: its period is over
                closed.append(candle)
                self._emitted = candle.timestamp
        return closed

    def close_until(self, timestamp: int) -> list[Candle]:
        """Hand on the forming candle if its period ended by `timestamp` (ms)."""
        pending = self._pending
        if pending is None or timestamp < self.frame.next_open(pending.timestamp):
            return []
        self._emitted, self._pending = pending.timestamp, None
        return [pending]

    def interrupt(self) -> None:
        """The stream was interrupted: forget the forming candle (see the module documentation)."""
        self._pending, self._resuming = None, True
