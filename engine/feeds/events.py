"""What a feed hands on: price points, closed candles, and the drops and recoveries of a live stream.

A feed's `events()` is an async iterator of these, in market order:

* `PricePoint`: one price of one symbol at a market time. `bid`/`ask`/`last` are what
  `SimExchange.on_price` and `MatchingEngine.on_price` take (pass `continuous` on too);
  replayed and random-walk points have `bid == ask == last`, live points are the
  exchange's ticker (kept whole in `ticker`, ccxt's ticker structure).
* `CandleClosed`: a candle that will not change again, handed on right after its last point
  (a replay's close point). Never the candle still forming.
* `FeedDropped` / `FeedRecovered`: a live stream lost its connection (each failed attempt
  to get it back is one `FeedDropped`, `attempt` counting up) / got it back.

Times are UTC epoch milliseconds: `timestamp` is market time (a replay's candle time, an
exchange's ticker time), `at` is wall time (the feed's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..candles import Candle

__all__ = ["CandleClosed", "FeedDropped", "FeedEvent", "FeedRecovered", "PricePoint"]


class PricePoint(NamedTuple):
    """A price of `symbol` at market time `timestamp` (ms).

    `continuous`: the price moved through every level between the previous point and this
    one (the three points after a replayed candle's open); other points are gaps (a
    candle's open, live ticks, random-walk steps), see `engine.matching`.
    `ticker`: the exchange's ccxt ticker for live points, else None.
    """

    symbol: str
    timestamp: int
    bid: float
    ask: float
    last: float
    continuous: bool = False
    ticker: dict[str, Any] | None = None


class CandleClosed(NamedTuple):
    """A closed `timeframe` candle of `symbol` (its `timestamp` is its open, ms)."""

    symbol: str
    timeframe: str
    candle: Candle


@dataclass(frozen=True)
class FeedDropped:
    """A live stream of `symbol` failed; it is tried again in `retry_in` seconds.
    `attempt` is 1 for the failure that lost the stream, then 2, 3, ... while retries fail."""

    symbol: str
    error: str
    attempt: int
    retry_in: float
    at: int


@dataclass(frozen=True)
class FeedRecovered:
    """A live stream of `symbol` is back after `attempts` failures and `down_ms` of wall time."""

    symbol: str
    attempts: int
    down_ms: int
    at: int


FeedEvent = PricePoint | CandleClosed | FeedDropped | FeedRecovered
