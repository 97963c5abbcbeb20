"""`futures_grid` and `futures_dca` (issue 18): in the catalogue, run by `run_backtest` on a
perpetual with the same engine, exact fills on hand-built candles, `maxLoss`, a liquidation,
shorts as signed trades, and the same fills whether `on_candle` runs at wake bars, every
bar, or as a pod runs it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backtest import BacktestResult, backtest_market, run_backtest
from engine.candles import Candles
from engine.errors import InvalidSettings
from engine.markets import Market
from engine.strategies import catalogue, validate_settings
from tests.engine.strategy_support import HOUR_MS, START_MS, trade_list, walk

PERP = "BTC/USDT:USDT"


def candles(*bars: tuple[float, float, float, float]) -> Candles:
    n = len(bars)
    o, h, low, c = (np.array(column, np.float64) for column in zip(*bars, strict=True))
    return Candles("1h", START_MS + HOUR_MS * np.arange(n, dtype=np.int64), o, h, low, c, np.ones(n))


def market(*, funding_rate: float = 0.0, fractional: bool = True) -> Market:
    perpetual = backtest_market(PERP, fractional=fractional, commission=0.0)
    perpetual.info["fundingRate"] = funding_rate
    return perpetual


def fills(result: BacktestResult) -> list[tuple[int, str, float, float]]:
    f = result.fills
    return [(bar, "buy" if buy else "sell", price, amount)
            for bar, buy, price, amount in zip(f.bar.tolist(), f.buy.tolist(), f.price.tolist(), f.amount.tolist(),
                                               strict=True)]


def test_both_types_are_in_the_catalogue_with_haasonline_settings() -> None:
    types = {entry["type"]: entry for entry in catalogue()}
    grid = {setting["key"] for setting in types["futures_grid"]["settings"]}
    assert {"direction", "lowerLimit", "upperLimit", "grids", "orderSize", "leverage", "maxWin", "maxLoss"} <= grid
    dca = {setting["key"] for setting in types["futures_dca"]["settings"]}
    assert {"direction", "orderSize", "leverage", "safetyOrders", "takeProfit"} <= dca
    with pytest.raises(InvalidSettings) as caught:
        validate_settings("futures_grid", {"lowerLimit": 110, "upperLimit": 90, "leverage": 200})
    assert set(caught.value.errors) == {"leverage"}  # (bounds first; the range check once they pass)
    with pytest.raises(InvalidSettings) as caught:
        validate_settings("futures_grid", {"lowerLimit": 110, "upperLimit": 90})
    assert set(caught.value.errors) == {"upperLimit"}
    with pytest.raises(InvalidSettings) as caught:
        run_backtest(candles((100, 100, 100, 100)), "futures_dca", {}, symbol="BTC/USDT")
    assert caught.value.errors == {"symbol": "futures_dca trades perpetuals: a BASE/QUOTE:QUOTE symbol, not 'BTC/USDT'"}


def test_a_neutral_grid_buys_low_sells_high_and_goes_short_above_its_start() -> None:
    series = candles((100, 100, 100, 100), (100, 101, 94, 96), (96, 102, 96, 101), (101, 106, 100, 104),
                     (104, 104, 99, 100))
    result = run_backtest(series, "futures_grid", {"direction": "Neutral", "lowerLimit": 90, "upperLimit": 110,
                                                   "grids": 4, "orderSize": 1000, "leverage": 5},
                          symbol=PERP, market=market(fractional=False))
    # levels 90 95 100 105 110; started at 100: buys of 11 at 90 and 10 at 95, sells of 9 at 105 and 110
    assert fills(result) == [(1, "buy", 95.0, 10.0), (2, "sell", 100.0, 10.0), (3, "sell", 105.0, 9.0),
                             (4, "buy", 100.0, 9.0)]
    trades = result.trades
    assert trades.size.tolist() == [10.0, -9.0] and trades.pnl.tolist() == [50.0, 45.0]  # a long, then a short
    assert result.equity[-1] == 10_095.0 and result.statistics["# Trades"] == 2
    assert result.options["symbol"] == PERP and result.quote == "USDT"


def test_a_long_grid_stops_at_max_loss_with_a_reduce_only_stop() -> None:
    series = candles((100, 100, 100, 100), (100, 101, 94, 96), (94, 94, 91, 91.5), (91.5, 91.5, 80, 85))
    result = run_backtest(series, "futures_grid", {"direction": "Long", "lowerLimit": 90, "upperLimit": 110,
                                                   "grids": 4, "orderSize": 1000, "leverage": 2, "maxLoss": 0.3},
                          symbol=PERP, market=market(fractional=False))
    # 10 bought at 95; maxLoss = 0.3% of 10000 = 30: a stop at 95 - 30 / 10 = 92 for the whole position
    assert fills(result) == [(1, "buy", 95.0, 10.0), (2, "sell", 92.0, 10.0)]
    orders = result.orders
    stop = orders.tag.index("maxLoss")
    assert orders.trigger_price[stop] == 92.0 and orders.status[stop] == "closed"
    assert all(status != "open" for status in orders.status)  # stopped: the buy at 90 was cancelled, never filled
    assert result.equity[-1] == 9_970.0
    assert any("maxLoss" in line.message for line in result.strategy_logs)


def test_a_leveraged_dca_long_is_liquidated_at_binances_liquidation_price() -> None:
    series = candles((100, 100, 100, 100), (100, 100, 100, 100), (99, 99, 85, 86), (86, 90, 80, 88))
    result = run_backtest(series, "futures_dca", {"direction": "Long", "orderSize": 5000, "leverage": 10,
                                                  "safetyOrders": 0, "takeProfit": 5},
                          symbol=PERP, market=market(fractional=False))
    # 50 contracts at 100, margin 500, MMR 0.005: LP = (100 * 50 - 500) / (50 * (1 - 0.005))
    level = (100 * 50 - 500) / (50 * 0.995)
    assert fills(result) == [(1, "buy", 100.0, 50.0), (2, "sell", level, 50.0)]
    assert result.orders.id[-1] and result.orders.tag[-1] is None  # the engine's liquidation order
    assert result.orders.status[result.orders.tag.index("tp")] == "canceled"
    assert result.equity[-1] == 9_500.0  # the whole isolated margin is lost
    assert result.equity[1] == 10_000.0 and result.equity[2] == 9_500.0
    assert any("liquidation" in line.message for line in result.strategy_logs)


def test_a_dca_short_averages_up_and_takes_profit_below_its_entry() -> None:
    series = candles((100, 100, 100, 100), (100, 100, 100, 100), (100, 103, 100, 102), (102, 102, 97, 98))
    result = run_backtest(series, "futures_dca", {"direction": "Short", "orderSize": 1000, "leverage": 3,
                                                  "safetyOrders": 2, "safetyOrderSize": 1000, "priceDeviation": 2,
                                                  "volumeScale": 1, "takeProfit": 1, "restart": False},
                          symbol=PERP, market=market(), fractional=True)
    # 10 sold at 100; safeties at 102 (1000/102 contracts) and 104; the take-profit moves to 1% below the entry
    first, safety = 10.0, 9.80392156  # 1000 / 102 truncated to the amount precision
    entry = (first * 100 + safety * 102) / (first + safety)
    target = round(entry * 0.99, 8)
    assert fills(result) == [(1, "sell", 100.0, first), (2, "sell", 102.0, safety),
                             (3, "buy", target, first + safety)]
    assert result.trades.size.tolist() == pytest.approx([-first, -safety])
    assert result.equity[-1] == pytest.approx(10_000 + (first + safety) * (entry - target))


def test_funding_of_a_position_without_orders_is_in_the_equity_curve() -> None:
    # a 1x long can not be liquidated and has no take-profit near: nothing open at the funding bars
    series = candles(*[(100, 100, 100, 100)] * 20)
    result = run_backtest(series, "futures_dca", {"orderSize": 1000, "safetyOrders": 0, "takeProfit": 1000},
                          symbol=PERP, market=market(funding_rate=0.001, fractional=False), fractional=False)
    stamps = series.timestamp
    funded = [k for k in range(1, 20) if stamps[k] // (8 * HOUR_MS) != stamps[k - 1] // (8 * HOUR_MS)]
    expected = np.full(20, 10_000.0)
    for k in funded:
        expected[k:] -= 10 * 100 * 0.001  # 10 contracts at 100 pay 0.1% of 1000 at each funding time
    assert funded and result.equity.tolist() == pytest.approx(expected.tolist())


def test_funding_moves_the_equity_of_a_backtest() -> None:
    series = walk(60, 3, volatility=0.002)
    free = run_backtest(series, "futures_dca", {"orderSize": 1000, "safetyOrders": 0, "takeProfit": 50},
                        symbol=PERP, market=market(), fractional=True)
    funded = run_backtest(series, "futures_dca", {"orderSize": 1000, "safetyOrders": 0, "takeProfit": 50},
                          symbol=PERP, market=market(funding_rate=0.001), fractional=True)
    assert trade_list(free) == trade_list(funded)
    paid = free.equity[-1] - funded.equity[-1]
    held = funded.fills.amount[0]
    # 60 hours from an hour boundary: 7 or 8 funding times (every 8 h) while long, each ~0.1% of ~1000
    assert 6 * 0.001 * held * 90 < paid < 9 * 0.001 * held * 120


@pytest.mark.parametrize(("strategy", "settings"), [
    ("futures_grid", {"direction": "Neutral", "grids": 8, "orderSize": 500, "leverage": 3, "maxLoss": 5}),
    ("futures_grid", {"direction": "Short", "grids": 6, "orderSize": 800, "leverage": 10, "maxWin": 2, "maxLoss": 3}),
    ("futures_dca", {"direction": "Short", "orderSize": 500, "safetyOrders": 4, "safetyOrderSize": 300,
                     "leverage": 5, "takeProfit": 1}),
])
def test_the_same_fills_at_wake_bars_every_bar_and_as_a_pod(strategy: str, settings: dict) -> None:
    series = walk(400, 11, volatility=0.01)
    runs = [run_backtest(series, strategy, settings, symbol=PERP, market=market(funding_rate=0.0003),
                         fractional=True, mode=mode) for mode in ("declared", "every_bar", "live")]
    assert len(runs[0].fills) > 4
    assert trade_list(runs[0]) == trade_list(runs[1]) == trade_list(runs[2])
    assert runs[0].equity[-1] == pytest.approx(runs[1].equity[-1])
