"""Closed candles of any timeframe from a feed: from its points, or from its finer closed candles.

`CandleAggregator(timeframe, complete_from)` hands on closed `timeframe` candles, built
with `engine.candles.CandleBuilder`:

* `add_point(point)`: from price points (`last`; volume unknown, NaN), for feeds without
  candles of their own (live tickers, random walks). A candle closes when a point of a
  later period arrives.
* `add_candle(candle, source)`: from closed candles of a finer timeframe `source` that
  builds `timeframe` (a replay's own candles): the usual OHLCV aggregation (first open,
  highest high, lowest low, last close, summed volume, as `engine.candles.resample`), and
  the candle is closed as soon as the finer candle ending its period has closed.

`complete_from` (ms): candles opening before it are not handed on, so an aggregator that
starts in the middle of a period never passes on that partial candle. Start it at the
current period's open (`Timeframe.floor_one`) after adding what that period already
played, or at the next period (`Timeframe.next_open`) when that is not known.

`interrupt()`: the feed lost points (a live stream dropped). The candle being built is
forgotten, and so is the one the first point after the interruption falls in (it missed
the points before it): candles resume with the next complete period. A gap, never a
candle built from part of its period.
"""

from __future__ import annotations

from ..candles import Candle, CandleBuilder
from ..candles.timeframes import timeframe as parse_timeframe
from ..errors import InvalidTimeframe
from .events import PricePoint

__all__ = ["CandleAggregator"]


class CandleAggregator:
    """See the module documentation."""

    def __init__(self, timeframe: str, complete_from: int | None = None) -> None:
        self.timeframe = timeframe
        self.frame = parse_timeframe(timeframe)
        self.complete_from = complete_from
        self._builder = CandleBuilder(timeframe)
        self._interrupted = False

    def _complete(self, candles: list[Candle]) -> list[Candle]:
        start = self.complete_from
        return candles if start is None else [candle for candle in candles if candle.timestamp >= start]

    def add_point(self, point: PricePoint) -> list[Candle]:
        """A price point; the candles it closes."""
        if self._interrupted:
            self._interrupted = False
            resume = self.frame.next_open(point.timestamp)
            self.complete_from = resume if self.complete_from is None else max(self.complete_from, resume)
        return self._complete(self._builder.add(point.timestamp, point.last))

    def interrupt(self) -> None:
        """The feed lost points: see the module documentation."""
        self._builder = CandleBuilder(self.timeframe)
        self._interrupted = True

    def add_candle(self, candle: Candle, source: str) -> list[Candle]:
        """A closed `source` candle (a finer timeframe that builds this one); the candles it
        closes. `InvalidTimeframe` when `source` does not build the aggregator's timeframe."""
        frame = parse_timeframe(source)
        if not frame.builds(self.frame):
            raise InvalidTimeframe(f"Can not build {self.timeframe} candles from {source} candles",
                                   timeframe=self.timeframe, source=source)
        builder, at = self._builder, candle.timestamp
        closed = builder.add(at, candle.open, 0.0)
        closed += builder.add(at, candle.high, 0.0)
        closed += builder.add(at, candle.low, 0.0)
        closed += builder.add(at, candle.close, candle.volume)
        closed += builder.close_until(frame.next_open(at))
        return self._complete(closed)
