"""Properties of `spot_grid` and `spot_dollar_cost_averaging` over random series and settings:
the account never goes negative, no order crosses the market when placed (every limit fill
rests first: a limit through the market would fill at once as a taker, rule 3 of the
matching engine), and the three drivings (declared wakes, every bar, a pod's runner) agree."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.backtest import Simulation, backtest_market, run_backtest
from engine.clock import SystemClock
from engine.strategies import create_strategy
from tests.engine.strategy_support import trade_list, walk

CASH = 10_000.0


@st.composite
def grid_settings(draw: st.DrawFn) -> dict[str, Any]:
    chosen: dict[str, Any] = {"gridCount": draw(st.integers(1, 30)),
                              "gridMode": draw(st.sampled_from(["Arithmetic", "Geometric"])),
                              "investmentAsset": draw(st.sampled_from(["Quote", "Base"])),
                              "tradeToFillGrid": draw(st.booleans()), "rangePercent": draw(st.floats(1, 60))}
    chosen["investmentAmount"] = draw(st.floats(100, 20_000)) if chosen["investmentAsset"] == "Quote" else draw(
        st.floats(1, 200))
    if draw(st.booleans()):
        lower = draw(st.floats(50, 120))
        chosen.update(lowerLimit=lower, upperLimit=lower * draw(st.floats(1.05, 2)))
    if draw(st.booleans()):
        chosen.update(startCondition=draw(st.sampled_from(["Price", "RSI"])), startType=draw(
            st.sampled_from(["Above value", "Below value"])), startValue=draw(st.floats(20, 99)))
    if draw(st.booleans()):
        chosen.update(stopCondition=draw(st.sampled_from(["Price", "RSI"])), stopType=draw(
            st.sampled_from(["Above value", "Below value"])), stopValue=draw(st.floats(20, 99)),
            stopExit=draw(st.booleans()))
    if draw(st.booleans()):
        chosen.update(stopLossPrice=draw(st.floats(0, 95)), takeProfitPrice=draw(st.floats(105, 300)),
                      stopExit=draw(st.booleans()))
    return chosen


@st.composite
def dca_settings(draw: st.DrawFn) -> dict[str, Any]:
    return {"orderSize": draw(st.floats(50, 3_000)), "safetyOrderSize": draw(st.floats(50, 3_000)),
            "safetyOrders": draw(st.integers(0, 8)), "priceDeviation": draw(st.floats(0.5, 5)),
            "volumeScale": draw(st.floats(0.5, 2)), "stepScale": draw(st.floats(0.5, 1.2)),
            "takeProfit": draw(st.floats(0.2, 10)), "restart": draw(st.booleans())}


TYPES = st.one_of(st.tuples(st.just("spot_grid"), grid_settings()),
                  st.tuples(st.just("spot_dollar_cost_averaging"), dca_settings()))


def simulate(candles: Any, name: str, values: dict[str, Any], fill_model: str, fractional: bool) -> Simulation:
    market = backtest_market("BTC/USDT", fractional=fractional, commission=0.001)
    simulation = Simulation(candles, create_strategy(name, values), market, cash=CASH, commission=None,
                            fill_model=fill_model, fractional=fractional, finalize_trades=False, mode="declared",
                            progress=None, cancelled=None, wall_clock=SystemClock())
    simulation.run()
    return simulation


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TYPES, st.integers(20, 300), st.integers(0, 2**31), st.sampled_from(["next_point", "close"]), st.booleans(),
       st.sampled_from([0.005, 0.02, 0.05]))
def test_the_account_never_goes_negative_and_no_order_crosses_the_market(
        chosen: tuple[str, dict[str, Any]], bars: int, seed: int, fill_model: str, fractional: bool,
        volatility: float) -> None:
    name, values = chosen
    candles = walk(bars, seed, volatility=volatility)
    simulation = simulate(candles, name, values, fill_model, fractional)
    engine = simulation.engine
    assert all(quote >= 0 and base >= 0 for _, quote, base, _ in simulation.balances)
    for currency, (free, used, total) in engine.balance().items():
        assert free >= 0 and used >= 0 and total >= 0, currency
    assert all(position.amount >= 0 for position in engine.positions.values())
    for order in engine.orders.values():
        if order.type == "limit":
            assert not any(trade.taker for trade in order.trades), order.to_ccxt()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TYPES, st.integers(20, 200), st.integers(0, 2**31), st.sampled_from(["next_point", "close"]), st.booleans())
def test_declared_every_bar_and_live_driving_make_the_same_trades(
        chosen: tuple[str, dict[str, Any]], bars: int, seed: int, fill_model: str, fractional: bool) -> None:
    name, values = chosen
    candles = walk(bars, seed, volatility=0.02)
    runs = {mode: run_backtest(candles, name, values, cash=CASH, commission=0.001, fill_model=fill_model,
                               fractional=fractional, mode=mode) for mode in ("declared", "every_bar", "live")}
    for mode in ("every_bar", "live"):
        assert trade_list(runs[mode]) == trade_list(runs["declared"]), mode
        assert runs[mode].strategy_logs == runs["declared"].strategy_logs, mode
