"""Price feeds: the live prices paper accounts fill against and strategies decide on.

Every feed is an object whose `events()` is an async iterator of `PricePoint`s (and, where
it has them, `CandleClosed` candles and `FeedDropped`/`FeedRecovered` reports), paced on an
injected clock (`FeedClock`: `now_ms()`, `await sleep(s)`), so tests never sleep:

* `ReplayMarket`: a stored candle series played as a live market (four points a candle,
  the closed candle after them), at a `ReplaySpeed`, ending by `ReplayEnd`, resumable from
  its `ReplayPosition`, with `played(count)` as the warm-up history.
* `RandomWalk`: a seeded geometric random walk for a `sim` symbol with no stored candles.
* `LiveTicker`: an exchange's ticker stream through ccxt.pro (`watch_ticker`, or polling
  `fetch_ticker`), reconnecting with exponential backoff.
* `LiveCandles`: an exchange's candle stream through ccxt.pro (`watch_ohlcv`): its closed
  candles only, the one forming when the stream drops forgotten (a gap, never filled).

`RollingTicker` makes ccxt-shaped tickers (24-hour statistics) from points;
`CandleAggregator` makes closed candles of any timeframe from points or finer candles.
The platform runs the feeds (`services/market_data`); the engine knows nothing of it.
"""

from .aggregate import CandleAggregator
from .events import CandleClosed, FeedDropped, FeedEvent, FeedRecovered, PricePoint
from .live import LiveTicker, point_from_ticker
from .live_candles import LiveCandles
from .pacing import FeedClock, Pacer, RealTime
from .random_walk import RandomWalk
from .replay import ReplayEnd, ReplayMarket, ReplayPosition, ReplaySpeed
from .tickers import TICKER_FIELDS, RollingTicker

__all__ = [
    "TICKER_FIELDS", "CandleAggregator", "CandleClosed", "FeedClock", "FeedDropped", "FeedEvent", "FeedRecovered",
    "LiveCandles", "LiveTicker", "Pacer", "PricePoint", "RandomWalk", "RealTime", "ReplayEnd", "ReplayMarket", "ReplayPosition",
    "ReplaySpeed", "RollingTicker", "point_from_ticker",
]
