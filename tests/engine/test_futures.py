"""Perpetuals on the simulated exchange: leverage, isolated margin, long and short positions,
liquidation at Binance's liquidation price, funding, reduce-only orders, and ccxt's
`fetch_positions`/`set_leverage`/`set_margin_mode` (issue 18)."""

from __future__ import annotations

import asyncio
import math

import pytest

from engine.clock import ManualClock
from engine.errors import InsufficientBalance, InvalidMarginSettings, InvalidOrder, ReduceOnlyRejected
from engine.futures import liquidation_price
from engine.markets import MarketCatalog
from engine.sim_exchange import SimExchange
from engine.sim_markets import perpetual_market, sim_catalog
from tests.engine.engine_support import START_MS, Account

PERP = "BTC/USDT:USDT"
HOUR = 3_600_000


@pytest.fixture
def account() -> Account:
    account = Account({"USDT": 10_000.0})
    account.point(PERP, 60_000.0)
    return account


def leverage(account: Account, value: float, owner: str | None = None) -> None:
    account.engine.futures.set_leverage(owner, account.engine.markets.market(PERP), value)


def test_sim_lists_linear_perpetuals_in_ccxt_shape() -> None:
    market = sim_catalog().market(PERP).to_ccxt()
    assert (market["type"], market["swap"], market["linear"], market["contract"], market["settle"],
            market["contractSize"], market["id"]) == ("swap", True, True, True, "USDT", 1.0, "BTCUSDT_PERP")
    assert (market["maker"], market["taker"]) == (0.0002, 0.0005)
    assert market["info"]["maxLeverage"] == 125 and market["info"]["maintenanceMarginRate"] == 0.004
    assert sim_catalog().market("BTCUSDT").symbol == "BTC/USDT"  # the spot id still names the spot market


def test_a_leveraged_long_holds_its_initial_margin_and_pays_its_fee(account: Account) -> None:
    leverage(account, 10)
    order = account.engine.place(PERP, "buy", "market", 0.1)
    # reserved: margin 0.1 * 60000 / 10 = 600 plus the taker fee 0.1 * 60000 * 0.0005 = 3
    assert (account.free("USDT"), account.used("USDT")) == (9_397.0, 603.0)
    account.point(PERP, 60_000.0)
    assert order.status == "closed" and order.fee_cost == 3.0
    assert (account.free("USDT"), account.used("USDT"), account.total("USDT")) == (9_397.0, 600.0, 9_997.0)
    position = account.engine.futures.position(None, PERP)
    assert position is not None
    assert (position.contracts, position.entry_price, position.margin) == (0.1, 60_000.0, 600.0)
    # Binance: LP = (entry * size - margin) / (size * (1 - MMR)) = 5400 / 0.0996
    assert position.liquidation_price() == liquidation_price(0.1, 60_000.0, 600.0, 0.004) == 5_400.0 / (0.1 * 0.996)
    account.point(PERP, 61_000.0)
    assert position.unrealized_pnl(61_000.0) == pytest.approx(100.0)


def test_a_short_gains_when_the_price_falls_and_closes_reduce_only(account: Account) -> None:
    leverage(account, 5)
    account.engine.place(PERP, "sell", "limit", 0.2, 60_000.0)  # marketable: fills at once, as taker
    position = account.engine.futures.position(None, PERP)
    assert position is not None and position.contracts == -0.2 and position.margin == 0.2 * 60_000.0 / 5
    # Binance: LP = (entry * size + margin) / (size * (1 + MMR))
    assert position.liquidation_price() == (60_000.0 * 0.2 + 2_400.0) / (0.2 * 1.004)
    assert account.engine.levels(PERP) == (-math.inf, position.liquidation_price())
    close = account.engine.place(PERP, "buy", "limit", 0.2, 55_000.0, reduce_only=True)
    assert close.reserved == pytest.approx(0.2 * 55_000.0 * 0.0005)  # a reduce-only order reserves its fee only
    account.bar(PERP, 60_000.0, 60_100.0, 54_000.0, 54_500.0)
    assert close.status == "closed" and close.price == 55_000.0 and close.trades[0].taker is False
    assert position.contracts == 0.0 and position.margin == 0.0
    assert position.realized_pnl == pytest.approx(0.2 * 5_000.0)
    fees = 0.2 * 60_000.0 * 0.0005 + 0.2 * 55_000.0 * 0.0002
    assert account.total("USDT") == pytest.approx(10_000.0 + 1_000.0 - fees) and account.used("USDT") == 0.0
    assert account.engine.levels(PERP) == (-math.inf, math.inf)


def test_selling_more_than_the_long_flips_to_a_short_at_the_fill_price(account: Account) -> None:
    leverage(account, 5)
    account.engine.place(PERP, "buy", "limit", 0.1, 60_000.0)
    account.point(PERP, 62_000.0)
    account.engine.place(PERP, "sell", "limit", 0.3, 62_000.0)
    position = account.engine.futures.position(None, PERP)
    assert position is not None and position.contracts == -0.2 and position.entry_price == 62_000.0
    assert position.realized_pnl == pytest.approx(200.0) and position.margin == pytest.approx(0.2 * 62_000.0 / 5)


def test_reduce_only_orders_only_reduce(account: Account) -> None:
    with pytest.raises(ReduceOnlyRejected) as caught:
        account.engine.place(PERP, "sell", "market", 0.1, reduce_only=True)
    assert caught.value.code == "REDUCE_ONLY_REJECTED" and caught.value.details["contracts"] == 0.0
    account.engine.place(PERP, "buy", "limit", 0.1, 60_000.0)
    with pytest.raises(ReduceOnlyRejected):
        account.engine.place(PERP, "buy", "market", 0.05, reduce_only=True)  # the same side
    with pytest.raises(ReduceOnlyRejected):
        account.engine.place(PERP, "sell", "market", 0.2, reduce_only=True)  # more than the position
    with pytest.raises(InvalidOrder, match="reduceOnly is for perpetual"):
        account.engine.place("BTC/USDT", "sell", "market", 0.1, reduce_only=True)
    # two reduce-only orders may wait; the second one to fill finds nothing left and is cancelled
    first = account.engine.place(PERP, "sell", "limit", 0.1, 61_000.0, reduce_only=True)
    second = account.engine.place(PERP, "sell", "limit", 0.1, 62_000.0, reduce_only=True)
    account.bar(PERP, 60_000.0, 62_500.0, 60_000.0, 62_000.0)
    assert first.status == "closed" and second.status == "canceled" and "reduceOnly" in (second.reason or "")


def test_margin_beyond_the_free_balance_is_refused(account: Account) -> None:
    with pytest.raises(InsufficientBalance):
        account.engine.place(PERP, "buy", "limit", 0.2, 60_000.0)  # 12000 at 1x
    leverage(account, 2)
    account.engine.place(PERP, "buy", "limit", 0.2, 60_000.0)
    assert account.used("USDT") == 6_000.0


def test_the_mark_price_through_the_liquidation_price_liquidates_at_it(account: Account) -> None:
    leverage(account, 10)
    account.engine.place(PERP, "buy", "limit", 0.1, 60_000.0)
    take_profit = account.engine.place(PERP, "sell", "limit", 0.1, 70_000.0, reduce_only=True)
    level = 5_400.0 / (0.1 * 0.996)
    assert account.engine.levels(PERP) == (level, 70_000.0)  # the bar-skipping loop sees it like a stop
    account.bar(PERP, 60_000.0, 60_000.0, 54_000.0, 55_000.0)
    position = account.engine.futures.position(None, PERP)
    assert position is not None and position.contracts == 0.0 and position.margin == 0.0
    liquidation = account.engine.trades[-1]
    order = account.engine.order(liquidation.order_id)
    assert order.client_order_id.startswith("liquidation-") and order.reduce_only and order.side == "sell"
    assert liquidation.price == level and liquidation.taker
    assert take_profit.status == "canceled" and take_profit.reason == "liquidation"
    # the whole isolated margin is lost: 10000 - 30 (opening fee at 1x... ) see below
    opening_fee = 0.1 * 60_000.0 * 0.0005
    assert account.total("USDT") == 10_000.0 - opening_fee - 600.0 and account.used("USDT") == 0.0
    expected_forfeit = 600.0 + 0.1 * (level - 60_000.0) - 0.1 * level * 0.0005
    assert position.forfeited == pytest.approx(expected_forfeit)
    assert account.engine.levels(PERP) == (-math.inf, math.inf)


def test_a_gap_beyond_the_liquidation_price_liquidates_at_the_gap(account: Account) -> None:
    leverage(account, 20)
    account.engine.place(PERP, "sell", "limit", 0.1, 60_000.0)
    level = account.engine.futures.position(None, PERP).liquidation_price()  # type: ignore[union-attr]
    account.bar(PERP, 66_000.0, 66_500.0, 65_000.0, 66_000.0)  # opens far beyond it
    assert account.engine.trades[-1].price == 66_000.0 > level
    assert account.total("USDT") == pytest.approx(10_000.0 - 3.0 - 300.0)  # still only the margin is lost
    assert account.engine.futures.position(None, PERP).forfeited < 0  # type: ignore[union-attr]


def test_funding_is_paid_at_each_funding_time_from_longs_to_shorts() -> None:
    market = perpetual_market(PERP, 60_000.0, funding_rate=0.001, funding_interval_hours=4)
    clock = ManualClock(START_MS - START_MS % (4 * HOUR) + HOUR)  # 1h after a funding time
    records: list[dict] = []
    exchange = SimExchange(MarketCatalog([market]), clock, balances={"USDT": 20_000.0}, journal=records.append)
    engine = exchange.engine
    exchange.on_price(PERP, clock.now_ms(), 60_000.0, 60_000.0, 60_000.0)
    engine.place(PERP, "buy", "limit", 0.1, 60_000.0, owner="long")
    engine.place(PERP, "sell", "limit", 0.1, 60_000.0, owner="short")
    total = engine.ledger.total("USDT")
    clock.advance(2 * HOUR)
    exchange.on_price(PERP, clock.now_ms(), 61_000.0, 61_000.0, 61_000.0)  # before the funding time
    assert engine.ledger.total("USDT") == total
    clock.advance(5 * HOUR)  # 8h after the last one: past two funding times, paid twice at this point's price
    exchange.on_price(PERP, clock.now_ms(), 62_000.0, 62_000.0, 62_000.0)
    long, short = engine.futures.position("long", PERP), engine.futures.position("short", PERP)
    assert long is not None and short is not None
    payment = 0.1 * 62_000.0 * 0.001
    assert long.funding == pytest.approx(-2 * payment) and short.funding == pytest.approx(2 * payment)
    assert long.margin == pytest.approx(6_000.0 - 2 * payment)  # from the isolated margin: the LP moves up
    assert engine.ledger.total("USDT") == pytest.approx(total)  # what one paid the other got
    assert [r["amount"] for r in records if r["event"] == "funding"] == pytest.approx([-payment, payment] * 2)


def test_leverage_and_margin_mode_are_checked(account: Account) -> None:
    market = account.engine.markets.market(PERP)
    for bad in (0.5, 126, "x", True, math.nan):
        with pytest.raises(InvalidMarginSettings) as caught:
            account.engine.futures.set_leverage(None, market, bad)  # type: ignore[arg-type]
        assert caught.value.code == "INVALID_MARGIN_SETTINGS"
    with pytest.raises(InvalidMarginSettings, match="not simulated"):
        account.engine.futures.set_margin_mode(None, market, "cross")


def test_orders_sized_by_cost_are_spot_only(account: Account) -> None:
    with pytest.raises(InvalidOrder, match="spot market buys"):
        account.engine.place(PERP, "buy", "market", cost=100.0)


def test_sim_exchange_speaks_ccxt_unified_futures() -> None:
    clock = ManualClock(START_MS)
    exchange = SimExchange(clock=clock, balances={"USDT": 10_000.0})

    async def scenario() -> None:
        assert exchange.has["swap"] and exchange.has["fetchPositions"] and exchange.has["setLeverage"]
        assert (await exchange.set_leverage(25, PERP))["leverage"] == 25.0
        assert (await exchange.set_margin_mode("isolated", PERP))["marginMode"] == "isolated"
        with pytest.raises(InvalidMarginSettings):
            await exchange.set_margin_mode("cross", PERP)
        with pytest.raises(InvalidOrder, match="spot market"):
            await exchange.set_leverage(5, "BTC/USDT")
        exchange.on_price(PERP, clock.now_ms(), 59_999.0, 60_001.0, 60_000.0)
        await exchange.create_order(PERP, "market", "sell", 0.5)
        clock.advance(1000)
        exchange.on_price(PERP, clock.now_ms(), 58_999.0, 59_001.0, 59_000.0)
        positions = await exchange.fetch_positions([PERP])
        assert len(positions) == 1
        position = positions[0]
        assert (position["symbol"], position["side"], position["contracts"], position["entryPrice"],
                position["markPrice"], position["leverage"], position["marginMode"]) == (
            PERP, "short", 0.5, 58_999.0, 59_000.0, 25.0, "isolated")  # a market order fills at the next bid
        assert position["unrealizedPnl"] == pytest.approx(-0.5)
        assert position["initialMargin"] == pytest.approx(0.5 * 58_999.0 / 25)
        assert position["liquidationPrice"] == pytest.approx((58_999.0 * 0.5 + position["initialMargin"]) / (0.5 * 1.004))
        close = await exchange.create_order(PERP, "market", "buy", 0.5, None, {"reduceOnly": True})
        assert close["reduceOnly"] is True
        clock.advance(1000)
        exchange.on_price(PERP, clock.now_ms(), 58_999.0, 59_001.0, 59_000.0)
        assert await exchange.fetch_positions() == []
        flat = await exchange.fetch_position(PERP)
        assert flat["contracts"] == 0.0 and flat["side"] is None and flat["leverage"] == 25.0

    asyncio.run(scenario())
