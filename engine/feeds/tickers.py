"""Tickers in ccxt's shape for feeds that have none of their own (replays, random walks).

A live exchange sends its ticker (last, bid, ask and its 24-hour statistics); a replay or a
random walk has only price points. `RollingTicker` builds the same structure from them:
`bid`, `ask`, `last` (= `close`) of the latest point, and over the last 24 hours of market
time `open` (the first price), `high`, `low`, `change` (`last - open`), `percentage`
(`change / open * 100`), `average` (`(open + last) / 2`) and `baseVolume` (the volumes of
the candles closed in it; None when none was given, e.g. a random walk). Fields a point
can not tell (`bidVolume`, `askVolume`, `vwap`, `previousClose`, `quoteVolume`,
`markPrice`, `indexPrice`) are None, as ccxt leaves what an exchange does not send.

The window is kept in 1440 one-minute slots (of a 24-hour window), so memory and time per
point stay constant whatever the point rate; the window's edge is therefore exact to the
slot: it holds the points of the current minute and the 1439 before it. A replay stamps a
candle's points with its open, so with candles of a day or more the window holds the
current candle's points only (and `baseVolume` is 0 until its close).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ccxt.base.exchange import Exchange

from .events import PricePoint

__all__ = ["TICKER_FIELDS", "RollingTicker"]

DAY_MS = 86_400_000
SLOTS = 1440

TICKER_FIELDS = (
    "symbol", "timestamp", "datetime", "high", "low", "bid", "bidVolume", "ask", "askVolume", "vwap", "open", "close",
    "last", "previousClose", "change", "percentage", "average", "baseVolume", "quoteVolume", "markPrice", "indexPrice",
)
"""ccxt's ticker structure, without `info`."""

iso8601 = Exchange.iso8601


class RollingTicker:
    """The ccxt ticker of `symbol` from its price points; see the module documentation."""

    def __init__(self, symbol: str, window_ms: int = DAY_MS) -> None:
        self.symbol = symbol
        self.slot_ms = max(1, window_ms // SLOTS)
        self._slots = SLOTS
        self._highs: deque[tuple[int, float]] = deque()  # (slot, price), prices decreasing
        self._lows: deque[tuple[int, float]] = deque()  # (slot, price), prices increasing
        self._opens: deque[tuple[int, float]] = deque()  # (slot, first price in it)
        self._volumes: deque[tuple[int, float]] = deque()  # (slot, volume closed in it)
        self._volume = 0.0
        self._has_volume = False
        self._slot = -(2**62)

    def _expire(self, slot: int) -> None:
        oldest = slot - self._slots + 1
        for queue in (self._highs, self._lows, self._opens):
            while queue and queue[0][0] < oldest:
                queue.popleft()
        volumes = self._volumes
        while volumes and volumes[0][0] < oldest:
            self._volume -= volumes.popleft()[1]
        if not volumes:
            self._volume = 0.0

    def add_volume(self, timestamp: int, volume: float) -> None:
        """Count `volume` (a closed candle's, base currency) at market time `timestamp` (ms)."""
        if volume != volume:  # NaN: unknown
            return
        slot = max(timestamp // self.slot_ms, self._slot)
        self._has_volume = True
        if self._volumes and self._volumes[-1][0] == slot:
            self._volumes[-1] = (slot, self._volumes[-1][1] + volume)
        else:
            self._volumes.append((slot, volume))
        self._volume += volume

    def update(self, point: PricePoint) -> dict[str, Any]:
        """Add `point` (market time never going backwards: an older point counts as now);
        the ticker as of it."""
        slot = max(point.timestamp // self.slot_ms, self._slot)
        if slot != self._slot:
            self._slot = slot
            self._expire(slot)
        price = point.last
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= price:
            highs.pop()
        if not highs or highs[-1][0] != slot:
            highs.append((slot, price))
        while lows and lows[-1][1] >= price:
            lows.pop()
        if not lows or lows[-1][0] != slot:
            lows.append((slot, price))
        if not self._opens or self._opens[-1][0] != slot:
            self._opens.append((slot, price))
        opened = self._opens[0][1]
        change = price - opened
        return {
            "symbol": self.symbol, "timestamp": point.timestamp, "datetime": iso8601(point.timestamp),
            "high": highs[0][1], "low": lows[0][1], "bid": point.bid, "bidVolume": None, "ask": point.ask,
            "askVolume": None, "vwap": None, "open": opened, "close": price, "last": price, "previousClose": None,
            "change": change, "percentage": change / opened * 100, "average": (opened + price) / 2,
            "baseVolume": self._volume if self._has_volume else None, "quoteVolume": None, "markPrice": None,
            "indexPrice": None,
        }
