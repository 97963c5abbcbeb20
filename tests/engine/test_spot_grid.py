"""`spot_grid`: levels, sizing, the preview, and exact fills on hand-built candles and on
backtesting.py's BTCUSD, in the backtest loop and in a paper pod."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backtesting.test import BTCUSD

from engine.backtest import backtest_market, run_backtest
from engine.candles import Candles
from engine.errors import InvalidSettings
from engine.markets import Market
from engine.precision import TICK_SIZE, Precision
from engine.strategies import GRID_SCHEMA, catalogue, create_strategy, grid_levels, plan_grid, preview_grid
from tests.engine.strategy_support import HOUR_MS, START_MS, from_frame, trade_list
from tests.engine.test_strategy_runner import paper_pod

MARKET = backtest_market("BTC/USDT", fractional=True, commission=0.0)


def bars(*rows: tuple[float, float, float, float]) -> Candles:
    """Hourly candles from `(open, high, low, close)` rows."""
    values = np.array(rows, dtype=np.float64)
    n = len(rows)
    return Candles("1h", START_MS + HOUR_MS * np.arange(n, dtype=np.int64), values[:, 0], values[:, 1], values[:, 2],
                   values[:, 3], np.ones(n))


def fills(result: Any) -> list[tuple[int, str, float, float]]:
    f = result.fills
    return [(bar, "buy" if buy else "sell", price, amount)
            for bar, buy, price, amount in zip(f.bar.tolist(), f.buy.tolist(), f.price.tolist(), f.amount.tolist(),
                                               strict=True)]


GRID = {"lowerLimit": 90, "upperLimit": 110, "gridCount": 4, "investmentAmount": 1000}
AMOUNT = 2.56410256  # 1000 / (90 + 95 + 100 + 105), truncated to 1e-8


def test_levels_are_arithmetic_or_geometric_and_end_exactly_at_the_limits() -> None:
    assert grid_levels(90, 110, 4) == [90, 95, 100, 105, 110]
    geometric = grid_levels(100, 400, 2, "Geometric")
    assert geometric == [100, pytest.approx(200), 400] and geometric[-1] == 400


def test_the_catalogue_lists_both_types_with_haasonline_s_keys_and_working_defaults() -> None:
    types = {entry["type"]: entry for entry in catalogue()}
    keys = [setting["key"] for setting in types["spot_grid"]["settings"]]
    assert {"lowerLimit", "upperLimit", "gridMode", "gridCount", "investmentAsset", "investmentAmount",
            "tradeToFillGrid", "startCondition", "startType", "startValue", "stopCondition", "stopType", "stopValue",
            "stopExit"} <= set(keys)
    dca = {setting["key"]: setting for setting in types["spot_dollar_cost_averaging"]["settings"]}
    assert dca["direction"]["options"] == ["Buy"] and dca["priceDeviation"]["name"] == "Price Deviation %"
    for name in ("spot_grid", "spot_dollar_cost_averaging"):
        assert create_strategy(name).window() >= 1


@pytest.mark.parametrize(("given", "field"), [
    ({"lowerLimit": 110, "upperLimit": 90}, "lowerLimit"), ({"investmentAmount": 0}, "investmentAmount"),
    ({"gridCount": 0}, "gridCount"), ({"gridMode": "Spiral"}, "gridMode"),
    ({"startCondition": "Price"}, "startValue"),
    ({"stopLossPrice": 100, "takeProfitPrice": 90}, "stopLossPrice"), ({"stopCondition": "RSI", "stopValue": 120}, "stopValue"),
])
def test_settings_are_refused_per_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSettings) as refused:
        GRID_SCHEMA.validate(given)
    assert field in refused.value.errors


def test_the_preview_places_buys_below_the_price_and_nothing_that_crosses_it() -> None:
    preview = preview_grid(GRID, 101.0, MARKET)
    assert preview["levels"] == [90, 95, 100, 105, 110] and preview["amountPerGrid"] == AMOUNT
    assert preview["orders"] == [{"side": "buy", "type": "limit", "price": price, "amount": AMOUNT, "grid": grid}
                                 for price, grid in ((100, 2), (95, 1), (90, 0))]
    assert preview["idleGrids"] == 1 and preview["waiting"] is None and preview["symbol"] == "BTC/USDT"


def test_trade_to_fill_buys_the_sell_grids_base_and_sells_above_the_price() -> None:
    preview = preview_grid({**GRID, "tradeToFillGrid": True}, 100.0, MARKET)
    amount = preview["amountPerGrid"]
    assert [(o["side"], o["type"], o["price"]) for o in preview["orders"]] == [
        ("buy", "market", None), ("buy", "limit", 95), ("buy", "limit", 90), ("sell", "limit", 105),
        ("sell", "limit", 110)]
    assert preview["orders"][0]["amount"] == pytest.approx(2 * amount) and preview["idleGrids"] == 0


def test_the_preview_rounds_to_the_market_s_precision_and_refuses_what_it_can_not_place() -> None:
    coarse = Market("ETH/USDT", "ETH", "USDT", amount_precision=Precision(0.001, TICK_SIZE),
                    price_precision=Precision(0.01, TICK_SIZE), min_amount=0.001, min_cost=5.0)
    preview = preview_grid({"lowerLimit": 1000, "upperLimit": 1001, "gridCount": 3, "investmentAmount": 100},
                           1000.5, coarse)
    assert preview["levels"] == [1000, 1000.33, 1000.67, 1001] and preview["amountPerGrid"] == 0.033
    with pytest.raises(InvalidSettings, match="closer than the price precision"):
        preview_grid({"lowerLimit": 1000, "upperLimit": 1000.02, "gridCount": 5}, 1000.01, coarse)
    with pytest.raises(InvalidSettings) as small:
        preview_grid({"lowerLimit": 1000, "upperLimit": 1100, "gridCount": 10, "investmentAmount": 20}, 1050, coarse)
    assert "investmentAmount" in small.value.errors
    with pytest.raises(InvalidSettings) as price:
        preview_grid({}, -1.0, coarse)
    assert price.value.errors == {"price": "must be a positive number up to 1e+15"}


def test_outside_the_range_the_preview_places_nothing_and_says_why() -> None:
    preview = preview_grid(GRID, 120.0, MARKET)
    assert preview["orders"] == [] and "outside the range" in preview["waiting"]


def test_default_limits_follow_the_price() -> None:
    preview = preview_grid({}, 200.0, MARKET)
    assert preview["lower"] == 180.0 and preview["upper"] == pytest.approx(220.0) and len(preview["levels"]) == 11


CANDLES = bars(
    (100, 101, 99, 101),     # 0: starts at 101: buys at 100, 95, 90 (105 would be a sell: idle)
    (101, 101, 99.5, 100.5),  # 1: the buy at 100 fills -> sell at 105
    (100.5, 106, 100, 104),  # 2: the sell at 105 fills -> buy at 100 again
    (104, 104, 94, 96),      # 3: 100 then 95 fill -> sells at 105 and 100
    (96, 97, 91, 91.5),      # 4: nothing reached; the close is below the stop value
    (93, 94, 92, 93),        # 5: the stop's market sell fills at the open
)


@pytest.mark.parametrize("mode", ["declared", "every_bar", "live"])
@pytest.mark.parametrize("stop", [{"stopCondition": "Price", "stopType": "Below value", "stopValue": 92},
                                  {"stopLossPrice": 92, "takeProfitPrice": 120}])
def test_hand_built_candles_make_exactly_the_expected_fills(mode: str, stop: dict[str, Any]) -> None:
    settings = {**GRID, **stop, "stopExit": True}
    result = run_backtest(CANDLES, "spot_grid", settings, cash=10_000, commission=0.0, fractional=True, mode=mode)
    assert fills(result) == [(1, "buy", 100, AMOUNT), (2, "sell", 105, AMOUNT), (3, "buy", 100, AMOUNT),
                             (3, "buy", 95, AMOUNT), (5, "sell", 93, 2 * AMOUNT)]
    orders = result.orders
    assert all(status != "open" for status in orders.status)  # the stop cancelled the rest
    assert result.fills.taker.tolist() == [False] * 4 + [True]  # every limit rested: none crossed the market
    assert any("stop condition met" in line.message for line in result.strategy_logs)


def test_a_price_start_condition_and_a_price_outside_the_range_wait_for_their_close() -> None:
    candles = bars((120, 121, 119, 120), (120, 120, 104, 105), (105, 106, 99, 101), (101, 101, 98, 99))
    outside = run_backtest(candles, "spot_grid", GRID, cash=10_000, commission=0.0, fractional=True)
    assert fills(outside) == [(2, "buy", 100, AMOUNT)]  # started at bar 1's close (105): buys at 100, 95, 90
    assert outside.orders.timestamp[0] == candles.timestamp[2]  # placed at bar 1's close
    above = run_backtest(candles, "spot_grid", {**GRID, "startCondition": "Price", "startType": "Below value",
                                                "startValue": 102}, cash=10_000, commission=0.0, fractional=True)
    assert fills(above) == [(3, "buy", 100, AMOUNT)]  # started at 101 (bar 2), below 102


def test_a_grid_too_small_for_the_market_logs_why_and_places_nothing() -> None:
    whole = run_backtest(CANDLES, "spot_grid", GRID, cash=10_000, commission=0.0)  # whole units: 2.56 a grid
    assert set(whole.orders.amount.tolist()) == {2.0}  # is placed as 2
    tiny = run_backtest(CANDLES, "spot_grid", {**GRID, "investmentAmount": 100}, cash=10_000, commission=0.0)
    assert len(tiny.orders) == 0
    assert [line.severity for line in tiny.strategy_logs] == ["error"]
    assert "can not start" in tiny.strategy_logs[0].message


@pytest.mark.parametrize("settings", [
    {"lowerLimit": 20_000, "upperLimit": 70_000, "gridCount": 10, "investmentAmount": 5_000},
    {"lowerLimit": 20_000, "upperLimit": 70_000, "gridCount": 12, "gridMode": "Geometric", "investmentAmount": 5_000,
     "tradeToFillGrid": True, "stopCondition": "RSI", "stopType": "Above value", "stopValue": 85, "stopExit": True},
])
def test_on_btcusd_every_driving_makes_the_same_trades_and_its_limits_fill_at_their_levels(
        settings: dict[str, Any]) -> None:
    candles = from_frame(BTCUSD, "1M")
    runs = {mode: run_backtest(candles, "spot_grid", settings, cash=10_000, commission=0.001, fractional=True,
                               mode=mode) for mode in ("declared", "every_bar", "live")}
    declared = runs["declared"]
    for mode in ("every_bar", "live"):
        assert trade_list(runs[mode]) == trade_list(declared), mode
    f = declared.fills
    limit = np.array(_fill_types(declared)) == "limit"
    assert limit.sum() > 8 and not f.taker[limit].any()  # every limit rested: none crossed the market
    levels = set(plan_grid(declared.settings, 28_920.98, MARKET, fee_rate=0.001).levels)
    assert set(f.price[limit].tolist()) <= levels  # at its own level (no bar of BTCUSD opens through one)
    assert len(declared.trades) > 4 and (declared.trades.pnl[declared.trades.exit_price > 0] > 0).mean() > 0.5


def _fill_types(result: Any) -> list[str]:
    kinds = dict(zip(result.orders.id, result.orders.type, strict=True))
    return [kinds[order_id] for order_id in result.fills.order_id]


@pytest.mark.parametrize("settings", [{"gridCount": 8, "investmentAmount": 20_000, "rangePercent": 15},
                                      {"gridCount": 6, "investmentAmount": 20_000, "tradeToFillGrid": True,
                                       "gridMode": "Geometric"}])
async def test_a_paper_pod_makes_the_trades_of_the_backtest(settings: dict[str, Any]) -> None:
    from tests.engine.strategy_support import walk

    candles = walk(600, 5, volatility=0.02)
    pod = await paper_pod(candles, "spot_grid", settings, 50_000)
    result = run_backtest(candles, "spot_grid", settings, cash=50_000, commission=0.001)
    f = result.fills
    backtest = list(zip(f.timestamp.tolist(), ["buy" if buy else "sell" for buy in f.buy.tolist()], f.price.tolist(),
                        f.amount.tolist(), f.fee.tolist(), strict=True))
    assert len(pod) > 10 and pod == backtest


def test_with_fees_charged_in_base_a_grid_sells_what_its_buy_brought_in() -> None:
    market = Market("BTC/USDT", "BTC", "USDT", amount_precision=Precision(1e-8, TICK_SIZE),
                    price_precision=Precision(1e-8, TICK_SIZE), min_amount=1e-8, maker=0.001, taker=0.001,
                    fee_side="get")
    result = run_backtest(CANDLES, "spot_grid", GRID, cash=10_000, fractional=True, market=market)
    bought, sold = fills(result)[0], fills(result)[1]
    assert bought[:3] == (1, "buy", 100) and sold[:3] == (2, "sell", 105)
    assert sold[3] == round(bought[3] * 0.999 - 5e-9, 8)  # the fee came out of the base bought
    assert all(amount >= 0 for amount in result.fills.amount)
