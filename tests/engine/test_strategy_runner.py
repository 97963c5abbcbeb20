"""The pod's side of the strategy interface: intents resolved into ccxt calls, the wake rule's
levels, and a paper pod on `SimExchange`'s async API making the trades of a backtest."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from engine.backtest import backtest_market, run_backtest
from engine.backtest.loop import decision_times
from engine.candles import Candles
from engine.clock import ManualClock
from engine.markets import MarketCatalog
from engine.matching import ALL_IN, bar_points
from engine.sim_exchange import SimExchange
from engine.strategies import (
    ALL,
    CancelRequest,
    EngineContext,
    Fill,
    OpenOrder,
    OrderRequest,
    Request,
    StrategyRunner,
    buy,
    cancel,
    create_strategy,
    order_levels,
    register,
    resolve,
    sell,
    touches,
    unregister,
)
from tests.engine.strategy_support import Bracket, walk

SYMBOL = "BTC/USDT"


@pytest.fixture
def context() -> EngineContext:
    exchange = SimExchange(MarketCatalog([backtest_market(SYMBOL, fractional=True)]), ManualClock(0),
                           balances={"USDT": 10_000.0}, maker=0.001, taker=0.002)
    exchange.on_price(SYMBOL, 0, 100.0, 100.0, 100.0)
    return EngineContext(exchange.engine, SYMBOL, "trader-1")


def test_all_in_and_the_whole_position_resolve_against_the_context(context: EngineContext) -> None:
    (market_buy,) = resolve([buy()], context)
    assert market_buy == OrderRequest(SYMBOL, "market", "buy", None, None, 10_000.0 * ALL_IN)
    (limit_buy,) = resolve([buy(ALL, price=80.0, tag="dip")], context)
    assert limit_buy.amount == 10_000.0 * ALL_IN / (80.0 * 1.002) and limit_buy.tag == "dip"
    assert resolve([sell()], context) == [] and context.logs[-1].severity == "warning"
    assert resolve(None, context) == [] and resolve((), context) == []


def test_requests_are_ccxt_unified_calls(context: EngineContext) -> None:
    (stop,) = resolve([sell(0.5, trigger_price=90.0, kind="stopLoss")], context)
    assert stop.ccxt_args({"owner": "trader-1", "clientOrderId": "t1-1"}) == (
        SYMBOL, "market", "sell", 0.5, None, {"stopLossPrice": 90.0, "owner": "trader-1", "clientOrderId": "t1-1"})
    (take,) = resolve([sell(0.5, price=121.0, trigger_price=120.0, kind="takeProfit")], context)
    assert take.params() == {"takeProfitPrice": 120.0} and take.type == "limit"
    (trigger,) = resolve([buy(cost=50.0, trigger_price=110.0)], context)
    assert trigger.params() == {"cost": 50.0, "triggerPrice": 110.0} and trigger.amount is None


def test_bad_intents_are_refused(context: EngineContext) -> None:
    with pytest.raises(TypeError, match="order intents"):
        resolve([{"side": "buy"}], context)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="kind"):
        resolve([sell(1.0, trigger_price=90.0, kind="stop")], context)


async def test_cancels_resolve_to_the_strategy_s_own_open_orders(context: EngineContext) -> None:
    exchange = SimExchange(engine=context.engine)
    await exchange.create_order(SYMBOL, "limit", "buy", 1.0, 90.0, {"owner": "someone-else"})
    for tag, price in (("a", 91.0), ("b", 92.0), ("a", 93.0)):
        order = await exchange.create_order(SYMBOL, "limit", "buy", 1.0, price, {"owner": "trader-1"})
        context.tags[order["id"]] = tag
    mine = [order.id for order in context.open_orders]
    assert len(mine) == 3 and [order.tag for order in context.open_orders] == ["a", "b", "a"]
    assert resolve([cancel(tag="a")], context) == [CancelRequest(SYMBOL, mine[0]), CancelRequest(SYMBOL, mine[2])]
    assert resolve([cancel(mine[1])], context) == [CancelRequest(SYMBOL, mine[1])]
    assert resolve([cancel("gone")], context) == []
    assert len(resolve([cancel()], context)) == 3


def test_order_levels_are_the_matching_engine_s_levels(context: EngineContext) -> None:
    engine = context.engine
    engine.place(SYMBOL, "buy", "market", 2.0, owner="trader-1")
    engine.on_price(SYMBOL, 1, 100.0, 100.0, 100.0)
    assert context.position == 2.0 and context.average_cost == pytest.approx(100.2)
    for side, kind, price, trigger in (("buy", "limit", 95.0, None), ("buy", "limit", 97.0, None),
                                       ("sell", "market", None, 90.0), ("buy", "market", None, 110.0)):
        engine.place(SYMBOL, side, kind, 1.0, price, trigger_price=trigger, owner="trader-1",
                     trigger_kind="stopLoss" if trigger else "trigger")
    assert order_levels(context.open_orders) == engine.levels(SYMBOL) == (97.0, 110.0)
    assert touches((97.0, 110.0), 96.0, 105.0) and not touches((97.0, 110.0), 98.0, 105.0)
    assert order_levels([]) == (-math.inf, math.inf)
    waiting = OpenOrder("9", None, "buy", "market", 1.0, None, None, None, 0)
    assert order_levels([waiting]) == (math.inf, -math.inf)


# -- a paper pod, as the traders service will run one -----------------------------------------

@pytest.fixture
def bracket() -> Iterator[None]:
    register(Bracket)
    yield
    unregister(Bracket.type)


async def paper_pod(candles: Candles, name: str, settings: dict[str, float], cash: float) -> list[tuple[object, ...]]:
    """A trader on a paper account: the replay plays each bar's price points on `SimExchange`,
    the pod hands each fill it fetches to `runner.fill` and each closed candle to
    `runner.candle`, and carries out the requests through ccxt's async calls."""
    clock = ManualClock(int(candles.timestamp[0]))
    exchange = SimExchange(MarketCatalog([backtest_market(SYMBOL)]), clock, balances={"USDT": cash}, maker=0.001,
                           taker=0.001, amount_step=1.0)
    context = EngineContext(exchange.engine, SYMBOL, "trader-1")
    runner = StrategyRunner(create_strategy(name, settings), context)
    placed = 0

    async def execute(requests: list[Request]) -> None:
        nonlocal placed
        for request in requests:
            if isinstance(request, OrderRequest):
                placed += 1
                order = await exchange.create_order(*request.ccxt_args({"owner": "trader-1",
                                                                        "clientOrderId": f"trader-1-{placed}"}))
                if request.tag is not None:
                    context.tags[order["id"]] = request.tag
            else:
                await exchange.cancel_order(request.order_id, request.symbol)

    async def new_fills(seen: int) -> int:
        trades = await exchange.fetch_my_trades(SYMBOL)
        for trade in trades[seen:]:
            await execute(runner.fill(Fill(trade["order"], context.tags.get(trade["order"]), trade["side"],
                                           trade["type"], trade["amount"], trade["price"], trade["cost"],
                                           trade["fee"]["cost"], trade["fee"]["currency"], trade["timestamp"],
                                           trade["takerOrMaker"] == "taker")))
        return len(trades)

    decided = decision_times(candles)
    seen = 0
    await execute(runner.start())
    for j in range(len(candles)):
        levels = order_levels(context.open_orders)
        stamp = int(candles.timestamp[j])
        clock.set(stamp)
        points = bar_points(float(candles.open[j]), float(candles.high[j]), float(candles.low[j]),
                            float(candles.close[j]))
        for k, price in enumerate(points):
            exchange.on_price(SYMBOL, stamp, price, price, price, k > 0)
            seen = await new_fills(seen)
        clock.set(int(decided[j]))
        window = candles[max(0, j + 1 - runner.window):j + 1]
        await execute(runner.candle(window, touched=touches(levels, float(candles.low[j]), float(candles.high[j]))))
        seen = await new_fills(seen)
    return [(trade["timestamp"], trade["side"], trade["price"], trade["amount"], trade["fee"]["cost"])
            for trade in await exchange.fetch_my_trades(SYMBOL)]


@pytest.mark.parametrize(("name", "settings"), [("sma_cross", {"fastPeriod": 5.0, "slowPeriod": 15.0}),
                                                ("test_bracket", {"period": 4.0}), ("rsi", {})])
async def test_a_paper_pod_makes_the_trades_of_a_next_point_backtest(bracket: None, name: str,
                                                                     settings: dict[str, float]) -> None:
    candles = walk(800, 21, volatility=0.02)
    pod = await paper_pod(candles, name, settings, 50_000)
    result = run_backtest(candles, name, settings, cash=50_000, commission=0.001)
    fills = result.fills
    backtest = list(zip(fills.timestamp.tolist(), ["buy" if buy else "sell" for buy in fills.buy.tolist()],
                        fills.price.tolist(), fills.amount.tolist(), fills.fee.tolist(), strict=True))
    assert len(pod) > 5 and pod == backtest
    assert np.isin(fills.bar_time, candles.timestamp).all()
