"""A replay market: one stored candle series played as a live market.

The `sim` exchange replays imported candles as live prices (PLATFORM.md, "Time, strategies
and fills"): one replay per series and server, shared by everyone, at a configurable speed,
with a position that outlives restarts and a documented end.

Rules:

* Each candle is played as four price points, by the matching engine's bar rule
  (`engine.matching.bar_points`, the same as `MatchingEngine.play_bar`): the open (a gap from
  the previous point), the extreme nearer to the open (the low on a tie), the farther
  extreme, the close (the last three continuous). Every point has `bid == ask == last` and
  carries the candle's open as its market `timestamp` (as `play_bar` stamps a bar's
  points), so a paper replay and a backtest over the same candles record the same times.
* Right after a candle's close point the candle itself is handed on (`CandleClosed`): a
  strategy decides on it, and its order fills at the next candle's open.
* Speed (`ReplaySpeed`): `candles_per_second`, or `factor` times real time (a `1m` series at
  factor 60 plays one candle per wall second). The four points of a candle are spread evenly
  over its wall-time share, paced without drift on the injected clock (`Pacer`).
* End (`ReplayEnd`): `stop` ends the stream after the last candle (`ended` is then True);
  `loop` starts again from the first candle, with market time going on: loop `k` plays
  every candle `k` spans later (a span is the series' whole number of periods, first to
  last, so calendar timeframes stay on their boundaries). Market time never goes backwards.
* Position (`ReplayPosition`): the stored open of the next candle to play and the loops
  completed. A replay built with a saved position resumes there, by timestamp, so candles
  imported meanwhile do not shift it; a candle cut short by a stop is played again from its
  open, and no candle is handed on twice.
* Warm-up: `played(count)` gives the last `count` candles played before the current
  position, with the timestamps they were played at, so a strategy started mid-replay sees
  the history a live one would have seen.

A replay holds its whole series in memory (numpy arrays: 48 bytes a candle).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from ..candles import Candle, Candles
from ..candles.timeframes import Timeframe, timeframe
from ..matching import bar_points
from .events import CandleClosed, PricePoint
from .pacing import FeedClock, Pacer, RealTime

__all__ = ["ReplayEnd", "ReplayMarket", "ReplayPosition", "ReplaySpeed"]

POINTS_PER_CANDLE = 4


class ReplayEnd(StrEnum):
    """What a replay does after its last candle."""

    STOP = "stop"
    LOOP = "loop"


@dataclass(frozen=True)
class ReplaySpeed:
    """How fast a replay plays: `candles_per_second` when given, else `factor` times real time."""

    factor: float = 1.0
    candles_per_second: float | None = None

    def __post_init__(self) -> None:
        rate = self.candles_per_second if self.candles_per_second is not None else self.factor
        if not 0 < rate < float("inf"):
            raise ValueError(f"a replay speed must be a positive number, not {rate!r}")

    def candle_seconds(self, frame: Timeframe) -> float:
        """Wall seconds one candle of `frame` takes (nominal length for calendar timeframes)."""
        if self.candles_per_second is not None:
            return 1.0 / self.candles_per_second
        return frame.ms / 1000.0 / self.factor

    def to_json(self) -> dict[str, float | None]:
        return {"factor": self.factor, "candlesPerSecond": self.candles_per_second}


@dataclass(frozen=True)
class ReplayPosition:
    """Where a replay stands: `candle`, the stored open (ms) of the next candle to play (None:
    past the last one), and `loops`, the loops completed."""

    candle: int | None
    loops: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"candle": self.candle, "loops": self.loops}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplayPosition:
        candle = data.get("candle")
        return cls(None if candle is None else int(candle), int(data.get("loops") or 0))


class ReplayMarket:
    """Plays `candles` (one stored series of `symbol`) as price points; see the module documentation.

    `position`: where to resume (default: the first candle). `clock`: wall time for the pace
    (default: `RealTime()`). ValueError for an empty series.
    """

    def __init__(self, symbol: str, candles: Candles, *, speed: ReplaySpeed | None = None,
                 end: ReplayEnd | str = ReplayEnd.LOOP, position: ReplayPosition | None = None,
                 clock: FeedClock | None = None) -> None:
        if not len(candles):
            raise ValueError(f"nothing to replay for {symbol}: the series is empty")
        self.symbol = symbol
        self.candles = candles
        self.frame = timeframe(candles.timeframe)
        self.speed = speed or ReplaySpeed()
        self.end = ReplayEnd(end)
        self.clock: FeedClock = clock or RealTime()
        buckets = self.frame.bucket(candles.timestamp)
        self._buckets = buckets
        self._span = int(buckets[-1] - buckets[0]) + 1
        """Periods one loop covers: the shift (in candles of the timeframe) between loops."""
        self.market_time: int | None = None
        """The market timestamp of the last point played (ms); None before the first."""
        self._index = 0
        self._loops = 0
        self._times = candles.timestamp
        self._seek(position or ReplayPosition(int(candles.timestamp[0])))

    # -- position --------------------------------------------------------------------------

    def _seek(self, position: ReplayPosition) -> None:
        self._loops = max(0, position.loops)
        if position.candle is None:
            self._index = len(self.candles)
        else:
            self._index = int(np.searchsorted(self.candles.timestamp, position.candle, side="left"))
        self._times = self._loop_times(self._loops)
        self._wrap()

    def _wrap(self) -> None:
        """At the end of a looping replay, move on to the next loop."""
        if self._index >= len(self.candles) and self.end is ReplayEnd.LOOP:
            self._index = 0
            self._loops += 1
            self._times = self._loop_times(self._loops)

    def _loop_times(self, loops: int) -> np.ndarray:
        """The market opens (ms) of the series' candles in loop `loops`."""
        if loops == 0:
            return self.candles.timestamp
        return self.frame.opening(self._buckets + loops * self._span)

    @property
    def position(self) -> ReplayPosition:
        """The next candle to play (what to save to resume here)."""
        candle = int(self.candles.timestamp[self._index]) if self._index < len(self.candles) else None
        return ReplayPosition(candle, self._loops)

    @property
    def ended(self) -> bool:
        """A `stop` replay has played its last candle."""
        return self._index >= len(self.candles)

    @property
    def candle_seconds(self) -> float:
        return self.speed.candle_seconds(self.frame)

    @property
    def next_open(self) -> int | None:
        """The market open (ms) of the next candle to play; None once ended."""
        return None if self.ended else int(self._times[self._index])

    # -- history ---------------------------------------------------------------------------

    def played(self, count: int) -> Candles:
        """The last `count` candles played before the current position (the one playing now
        excluded), oldest first, with the market timestamps they were played at."""
        parts: list[Candles] = []
        wanted, loops, stop = max(0, int(count)), self._loops, self._index
        while wanted > 0 and loops >= 0:
            start = max(0, stop - wanted)
            if stop > start:
                part = self.candles[start:stop]
                if loops:
                    part = Candles(part.timeframe, self._loop_times(loops)[start:stop], part.open, part.high, part.low,
                                   part.close, part.volume)
                parts.insert(0, part)
                wanted -= stop - start
            loops, stop = loops - 1, len(self.candles)
            if self.end is ReplayEnd.STOP:
                break
        return Candles.concat(self.candles.timeframe, parts)

    # -- playing ---------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[PricePoint | CandleClosed]:
        """Play from the current position: four `PricePoint`s per candle, then its
        `CandleClosed`; ends after the last candle with `stop`, never with `loop`."""
        pacer = Pacer(self.clock, self.candle_seconds / POINTS_PER_CANDLE)
        candles, symbol, frame = self.candles, self.symbol, self.candles.timeframe
        while not self.ended:
            i = self._index
            at = int(self._times[i])
            open_, high, low, close = (float(candles.open[i]), float(candles.high[i]), float(candles.low[i]),
                                       float(candles.close[i]))
            for number, price in enumerate(bar_points(open_, high, low, close)):
                await pacer.wait()
                self.market_time = at
                yield PricePoint(symbol, at, price, price, price, number > 0)
            # Moved on before the candle is handed on: nothing awaits between the two, so a
            # replay stopped here never hands the same candle on twice.
            self._index = i + 1
            self._wrap()
            yield CandleClosed(symbol, frame, Candle(at, open_, high, low, close, float(candles.volume[i])))
