"""The wake declaration is faithful, and a pod's per-candle driving equals the backtest loop.

Every shipped type (and a bracket strategy with resting limits, stops, cancels and
`on_fill`) is run three ways over random series and settings: the fast loop (`on_candle`
only at declared wake bars and at bars that reach an open order's level), `on_candle` at
every bar, and a `StrategyRunner` fed candle by candle with its live window, as a pod
feeds it. All three must make the same orders and fills, bar for bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.backtest import run_backtest
from engine.clock import ManualClock
from engine.matching import MatchingEngine
from engine.sim_markets import sim_catalog
from engine.strategies import Bar, Context, EngineContext, Intents, StrategyRunner, register, unregister
from engine.strategies.types.sma_cross import SmaCross
from tests.engine.strategy_support import Bracket, trade_list, walk


@pytest.fixture(autouse=True, scope="module")
def bracket() -> Iterator[None]:
    register(Bracket)
    yield
    unregister(Bracket.type)


SIZING = st.sampled_from([{}, {"sizing": "Base amount", "orderSize": 1.0}, {"sizing": "Quote amount", "orderSize": 500.0}])


@st.composite
def type_and_settings(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(["momentum", "sma_cross", "rsi", "test_bracket"]))
    if name == "momentum":
        chosen = {"lookback": draw(st.integers(1, 20)), "threshold": draw(st.floats(0, 5))}
    elif name == "sma_cross":
        fast = draw(st.integers(1, 15))
        chosen = {"fastPeriod": fast, "slowPeriod": draw(st.integers(fast + 1, 40))}
    elif name == "rsi":
        oversold = draw(st.floats(0, 60))
        chosen = {"period": draw(st.integers(1, 20)), "oversold": oversold,
                  "overbought": draw(st.floats(oversold + 1, 100))}
    else:
        return name, {"period": draw(st.integers(2, 12)), "takeProfit": draw(st.floats(0.5, 8)),
                      "stopLoss": draw(st.floats(0.5, 8))}
    return name, {**chosen, **draw(SIZING)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_and_settings(), st.integers(20, 160), st.integers(0, 2**31), st.sampled_from(["next_point", "close"]),
       st.booleans(), st.booleans(), st.sampled_from([0.005, 0.02, 0.05]))
def test_declared_every_bar_and_live_driving_make_the_same_trades(
        chosen: tuple[str, dict[str, Any]], bars: int, seed: int, fill_model: str, fractional: bool, finalize: bool,
        volatility: float) -> None:
    name, values = chosen
    candles = walk(bars, seed, volatility=volatility)
    runs = {mode: run_backtest(candles, name, values, cash=10_000, commission=0.001, fill_model=fill_model,
                               fractional=fractional, finalize_trades=finalize, mode=mode)
            for mode in ("declared", "every_bar", "live")}
    declared = runs["declared"]
    for mode in ("every_bar", "live"):
        assert trade_list(runs[mode]) == trade_list(declared), mode
        assert runs[mode].strategy_logs == declared.strategy_logs, mode
        assert runs[mode].equity.tolist() == declared.equity.tolist(), mode


@pytest.mark.parametrize("fill_model", ["next_point", "close"])
def test_the_bracket_exercises_limits_stops_cancels_and_fills(fill_model: str) -> None:
    candles = walk(600, 11, volatility=0.02)
    results = {mode: run_backtest(candles, "test_bracket", {"period": 4, "takeProfit": 2, "stopLoss": 2},
                                  cash=100_000, fill_model=fill_model, mode=mode) for mode in ("declared", "live")}
    result = results["declared"]
    orders = result.orders
    kinds = {(side, kind, status) for side, kind, status in zip(orders.side, orders.type, orders.status, strict=True)}
    assert {("buy", "market", "closed"), ("sell", "limit", "closed"), ("sell", "market", "closed"),
            ("sell", "market", "canceled")} <= kinds
    assert {"entry", "tp", "sl"} == set(orders.tag)
    assert len(result.trades) > 10 and any(line.message.startswith("close ") for line in result.strategy_logs)
    assert trade_list(results["live"]) == trade_list(result)


class CountingSmaCross(SmaCross):
    """sma_cross, noting each bar `on_candle` is called at."""

    type = "test_counting_sma_cross"
    calls: ClassVar[list[int]] = []

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        CountingSmaCross.calls.append(bar.index)
        return super().on_candle(ctx, bar)


def test_a_wakes_only_type_is_called_at_its_wake_bars_only() -> None:
    candles = walk(400, 5)
    register(CountingSmaCross)
    try:
        CountingSmaCross.calls.clear()
        result = run_backtest(candles, CountingSmaCross.type, {"fastPeriod": 3, "slowPeriod": 8})
    finally:
        unregister(CountingSmaCross.type)
    wakes = np.flatnonzero(result.indicators["enter"] | result.indicators["exit"]).tolist()
    assert len(result.fills) > 10 and CountingSmaCross.calls == wakes  # never at the fill bars in between
    strategy = CountingSmaCross({"fastPeriod": 3, "slowPeriod": 8})
    runner = StrategyRunner(strategy, EngineContext(MatchingEngine(sim_catalog(), ManualClock(0)), "BTC/USDT", "me"))
    quiet = next(bar for bar in range(strategy.window(), len(candles)) if bar not in wakes)
    CountingSmaCross.calls.clear()
    assert runner.candle(candles[quiet + 1 - strategy.window():quiet + 1], touched=True) == []
    assert CountingSmaCross.calls == []  # a pod skips it too
