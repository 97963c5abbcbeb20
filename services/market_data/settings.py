"""The `[tickers]` configuration section, read once (see config/default.toml for every key)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.candles import timeframe
from engine.errors import InvalidTimeframe
from engine.feeds import ReplayEnd, ReplaySpeed
from services.candles.service import instant_ms

__all__ = ["MarketDataSettings"]


def _section(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = settings.get(name) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"[{name}] must be a table")
    return value


def _positive(section: Mapping[str, Any], key: str, default: float) -> float:
    value = float(section.get(key, default))
    if not 0 < value < float("inf"):
        raise ValueError(f"tickers {key} must be a positive number, not {section.get(key)!r}")
    return value


@dataclass(frozen=True)
class MarketDataSettings:
    """Feeds and ticker delivery, from the app's `tickers` settings."""

    rate: float = 2.0
    """Most `exchanges/ticker patched` events per symbol per second per socket."""
    linger: float = 30.0
    """Seconds a feed nobody listens to any more keeps running."""
    max_subscriptions: int = 200
    """Most symbols one socket may `subscribe` to."""
    max_watchlist: int = 200
    """Most watchlist entries per user."""
    backoff: tuple[float, float] = (1.0, 60.0)
    """A dropped live stream is tried again after min seconds, doubling up to max."""
    poll_interval: float = 5.0
    """Seconds between `fetch_ticker` calls on exchanges that stream no tickers."""
    first_price_timeout: float = 10.0
    """Seconds a `get` (or `listen`) waits for a feed it started to have a price."""
    replay_autostart: bool = True
    """Replay every stored `sim` series from startup (else: when first watched)."""
    replay_speed: ReplaySpeed = field(default_factory=lambda: ReplaySpeed(factor=60.0))
    replay_end: ReplayEnd = ReplayEnd.LOOP
    replay_start: int | None = None
    """Where a replay without a saved position starts (ms; None: its first candle)."""
    replay_save_interval: float = 5.0
    """Seconds between saves of the replay positions."""
    walk_seed: int = 42
    walk_interval: float = 1.0
    walk_volatility: float = 0.8
    ccxt: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """ccxt constructor options per exchange id (proxies, URLs, ...)."""
    watch_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """`watch_ticker` params per exchange id (binance: `{"name": "ticker"}` for bid and ask)."""
    store_timeframes: tuple[str, ...] = ("1m",)
    """Timeframes of the closed candles of running live feeds kept in the candle store
    (`keeper`); empty: none are kept."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MarketDataSettings:
        """From a loaded configuration; ValueError for values out of range."""
        tickers = _section(settings, "tickers")
        replay, walk = _section(tickers, "replay"), _section(tickers, "random_walk")
        low, high = (float(value) for value in tickers.get("backoff", (1.0, 60.0)))
        if not 0 <= low <= high:
            raise ValueError("tickers backoff must be [min, max] seconds with 0 <= min <= max")
        per_second = float(replay.get("candles_per_second") or 0)
        speed = ReplaySpeed(candles_per_second=per_second) if per_second > 0 else ReplaySpeed(
            factor=_positive(replay, "speed", 60.0))
        start = replay.get("start")
        if start not in (None, ""):
            start = instant_ms(start)
        return cls(
            rate=_positive(tickers, "rate", 2.0), linger=float(tickers.get("linger", 30.0)),
            max_subscriptions=int(tickers.get("max_subscriptions", 200)),
            max_watchlist=int(tickers.get("max_watchlist", 200)), backoff=(low, high),
            poll_interval=_positive(tickers, "poll_interval", 5.0),
            first_price_timeout=_positive(tickers, "first_price_timeout", 10.0),
            replay_autostart=bool(replay.get("autostart", True)), replay_speed=speed,
            replay_end=ReplayEnd(str(replay.get("end", "loop"))), replay_start=start or None,
            replay_save_interval=_positive(replay, "save_interval", 5.0), walk_seed=int(walk.get("seed", 42)),
            walk_interval=_positive(walk, "interval", 1.0), walk_volatility=float(walk.get("volatility", 0.8)),
            ccxt=dict(_section(tickers, "ccxt")), watch_params=dict(_section(tickers, "watch_params")),
            store_timeframes=_timeframes(tickers.get("store_timeframes", ["1m"])),
        )


def _timeframes(value: Any) -> tuple[str, ...]:
    """ccxt timeframe strings, each once; ValueError for anything else."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"tickers store_timeframes must be a list of timeframes such as [\"1m\"], not {value!r}")
    for text in value:
        try:
            timeframe(text)
        except InvalidTimeframe:
            raise ValueError(f"tickers store_timeframes: {text!r} is not a timeframe such as 1m, 1h or 1d") from None
    return tuple(dict.fromkeys(value))
