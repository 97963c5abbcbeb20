"""Helpers of the strategy and backtest tests: candle series, a bracket strategy that exercises
resting orders, stops, cancels and `on_fill`, and what two runs are compared on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest import BacktestResult
from engine.candles import Candles
from engine.indicators import live_window, sma
from engine.strategies import Bar, Context, Fill, Intents, Setting, SettingsSchema, Strategy, buy, cancel, sell

HOUR_MS = 3_600_000
START_MS = 1_699_999_200_000  # an hour boundary


def walk(n: int, seed: int, *, start: float = 100.0, volatility: float = 0.02, timeframe: str = "1h",
         step_ms: int = HOUR_MS) -> Candles:
    """A seeded random walk of `n` candles (prices rounded to cents, so ties happen)."""
    rng = np.random.default_rng(seed)
    close = np.round(start * np.exp(np.cumsum(rng.normal(0, volatility, n))), 2)
    opening = np.round(np.concatenate(([start], close[:-1])) * np.exp(rng.normal(0, volatility / 4, n)), 2)
    high = np.round(np.maximum(opening, close) * np.exp(np.abs(rng.normal(0, volatility / 2, n))), 2)
    low = np.round(np.minimum(opening, close) * np.exp(-np.abs(rng.normal(0, volatility / 2, n))), 2)
    timestamps = START_MS + step_ms * np.arange(n, dtype=np.int64)
    return Candles(timeframe, timestamps, opening, high, low, close, np.ones(n))


def from_frame(frame: pd.DataFrame, timeframe: str) -> Candles:
    """backtesting.py's OHLCV data frames as `Candles`."""
    timestamps = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    return Candles(timeframe, timestamps, *(frame[column].to_numpy(np.float64)
                                           for column in ("Open", "High", "Low", "Close", "Volume")))


class Bracket(Strategy):
    """A test device: buys all-in when the close crosses above its SMA and nothing is open;
    on that fill, brackets the position with a take-profit limit for half (whole units) and a
    stop-loss for the rest; once the take-profit fills, the stop moves to break-even."""

    type = "test_bracket"
    name = "Bracket (tests)"
    description = "A strategy for tests: resting limits, stops, cancels and on_fill."
    schema = SettingsSchema((
        Setting.number("period", "Period", 5, integer=True, min=2, max=50),
        Setting.number("takeProfit", "Take profit %", 3.0, min=0.1, max=50),
        Setting.number("stopLoss", "Stop loss %", 3.0, min=0.1, max=50),
    ))

    def window(self) -> int:
        return live_window(sma, period=self.settings["period"]) + 1

    def indicators(self, candles: Candles) -> dict[str, np.ndarray]:
        return {"sma": sma(candles.close, self.settings["period"]), "close": candles.close}

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        close, average = candles.close, indicators["sma"]
        with np.errstate(invalid="ignore"):
            return np.concatenate(([False], (close[:-1] < average[:-1]) & (close[1:] > average[1:])))

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        crossed = bar.ago("close", 1) < bar.ago("sma", 1) and bar["close"] > bar["sma"]
        if crossed and not ctx.position and not ctx.open_orders:
            ctx.log(f"close {bar.close} crossed above its average {bar['sma']:.2f}")
            return (buy(tag="entry"),)
        return None

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        if fill.side == "buy":
            held = ctx.position
            half = float(np.floor(held / 2)) if held >= 2 else 0.0
            intents = [sell(held - half, trigger_price=fill.price * (1 - self.settings["stopLoss"] / 100),
                            kind="stopLoss", tag="sl")]
            if half:
                intents.append(sell(half, price=fill.price * (1 + self.settings["takeProfit"] / 100), tag="tp"))
            return intents
        if fill.tag == "tp":  # the rest waits at break-even now
            return (cancel(tag="sl"), sell(trigger_price=ctx.average_cost, kind="stopLoss", tag="sl"))
        return None


def trade_list(result: BacktestResult) -> list[tuple[Any, ...]]:
    """What two runs must agree on: every fill (bar, side, price, amount, fee) and every order."""
    fills = result.fills
    orders = result.orders
    return [("fill", *row) for row in zip(fills.bar.tolist(), fills.buy.tolist(), fills.price.tolist(),
                                          fills.amount.tolist(), fills.fee.tolist(), strict=True)] + [
        ("order", *row) for row in zip(orders.timestamp.tolist(), orders.side, orders.type, orders.status,
                                       np.nan_to_num(orders.amount, nan=-1).tolist(), orders.tag, strict=True)]
