"""`spot_dollar_cost_averaging`: the safety ladder, exact fills on hand-built candles, the
restart after a take-profit, BTCUSD in every driving, and a paper pod equal to the backtest."""

from __future__ import annotations

from typing import Any

import pytest
from backtesting.test import BTCUSD

from engine.backtest import run_backtest
from engine.errors import InvalidSettings
from engine.strategies import validate_settings
from engine.strategies.types.spot_dollar_cost_averaging import safety_ladder
from tests.engine.strategy_support import from_frame, trade_list, walk
from tests.engine.test_spot_grid import bars, fills
from tests.engine.test_strategy_runner import paper_pod

DCA = {"orderSize": 100, "safetyOrderSize": 100, "safetyOrders": 2, "priceDeviation": 10, "volumeScale": 2,
       "stepScale": 1, "takeProfit": 5, "restart": False}


def test_the_ladder_steps_and_scales_from_the_base_entry() -> None:
    ladder = safety_ladder(validate_settings("spot_dollar_cost_averaging",
                                             {"safetyOrders": 3, "priceDeviation": 2, "stepScale": 1.5,
                                              "volumeScale": 2, "safetyOrderSize": 10}))
    assert ladder == [(2.0, 10.0), (5.0, 20.0), (pytest.approx(9.5), 40.0)]


@pytest.mark.parametrize(("given", "field"), [({"safetyOrders": 10, "priceDeviation": 15}, "priceDeviation"),
                                              ({"orderSize": 0}, "orderSize"), ({"direction": "Sell"}, "direction")])
def test_settings_are_refused_per_field(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSettings) as refused:
        validate_settings("spot_dollar_cost_averaging", given)
    assert field in refused.value.errors


CANDLES = bars(
    (100, 100, 100, 100),  # 0: the base order fills at the open (100): 1 BTC; safety at 90 and 80, tp at 105
    (100, 100, 89, 92),    # 1: safety 1 fills at 90 (100 USDT: 1.11111111); the tp moves to the new average
    (92, 100, 92, 99),     # 2: the tp fills at avg * 1.05; safety 2 is cancelled
    (99, 99, 70, 75),      # 3: nothing: the cycle is over
)
SAFETY = 1.11111111
AVERAGE = (100 + SAFETY * 90) / (1 + SAFETY)
TP = round(AVERAGE * 1.05, 8)


@pytest.mark.parametrize("mode", ["declared", "every_bar", "live"])
def test_hand_built_candles_make_exactly_the_expected_fills(mode: str) -> None:
    result = run_backtest(CANDLES, "spot_dollar_cost_averaging", DCA, cash=10_000, commission=0.0, fractional=True,
                          mode=mode)
    assert fills(result) == [(0, "buy", 100, 1.0), (1, "buy", 90, SAFETY), (2, "sell", TP, 1 + SAFETY)]
    orders = result.orders
    by_tag = {tag: (side, status, price) for tag, side, status, price in
              zip(orders.tag, orders.side, orders.status, orders.price.tolist(), strict=True) if tag != "tp"}
    assert by_tag == {"base": ("buy", "closed", pytest.approx(float("nan"), nan_ok=True)),
                      "safety1": ("buy", "closed", 90), "safety2": ("buy", "canceled", 80)}
    tps = [(status, price) for tag, status, price in zip(orders.tag, orders.status, orders.price.tolist(), strict=True)
           if tag == "tp"]
    assert tps == [("canceled", 105), ("closed", TP)]
    assert result.fills.taker.tolist() == [True, False, False]  # only the base order is a market order


def test_after_a_take_profit_a_new_cycle_starts_at_the_next_price() -> None:
    result = run_backtest(CANDLES, "spot_dollar_cost_averaging", {**DCA, "restart": True}, cash=10_000,
                          commission=0.0, fractional=True)
    assert fills(result)[:3] == [(0, "buy", 100, 1.0), (1, "buy", 90, SAFETY), (2, "sell", TP, 1 + SAFETY)]
    assert fills(result)[3] == (2, "buy", 99, round(100 / 99 - 5e-9, 8))  # bar 2's close, the point after the tp
    assert fills(result)[4:] == [(3, "buy", 89.1, round(100 / (89.1) - 5e-9, 8)),
                                 (3, "buy", 79.2, round(200 / 79.2 - 5e-9, 8))]


def test_on_btcusd_every_driving_makes_the_same_trades() -> None:
    candles = from_frame(BTCUSD, "1M")
    settings = {"orderSize": 500, "safetyOrderSize": 500, "safetyOrders": 4, "priceDeviation": 8, "takeProfit": 10}
    runs = {mode: run_backtest(candles, "spot_dollar_cost_averaging", settings, cash=20_000, commission=0.001,
                               fractional=True, mode=mode) for mode in ("declared", "every_bar", "live")}
    for mode in ("every_bar", "live"):
        assert trade_list(runs[mode]) == trade_list(runs["declared"]), mode
    result = runs["declared"]
    cycles = sum(1 for line in result.strategy_logs if "cycle closed" in line.message)
    assert cycles > 10 and result.summary["realizedProfit"] > 0


async def test_a_paper_pod_makes_the_trades_of_the_backtest() -> None:
    settings = {"orderSize": 2_000, "safetyOrderSize": 1_000, "safetyOrders": 3, "priceDeviation": 3,
                "takeProfit": 2}
    candles = walk(600, 8, volatility=0.02)
    pod = await paper_pod(candles, "spot_dollar_cost_averaging", settings, 50_000)
    result = run_backtest(candles, "spot_dollar_cost_averaging", settings, cash=50_000, commission=0.001)
    f = result.fills
    backtest = list(zip(f.timestamp.tolist(), ["buy" if buy else "sell" for buy in f.buy.tolist()], f.price.tolist(),
                        f.amount.tolist(), f.fee.tolist(), strict=True))
    assert len(pod) > 10 and pod == backtest
