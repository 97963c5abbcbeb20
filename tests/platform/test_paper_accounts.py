"""Paper accounts keep their simulated state in storage: after a restart on the same SQLite data directory
they have the same balances, open orders and trades, and go on filling; a feed's prices reach them."""

from __future__ import annotations

from typing import Any

import pytest

from engine import SimExchange
from exchange_support import new_account
from platform_support import Platform
from services.exchanges import accounts_of
from services.exchanges.storage import find_all

T0 = 1_700_000_000_000


async def trade_a_little(accounts: Any, account_id: Any) -> SimExchange:
    exchange = await accounts.exchange(account_id)
    accounts.on_price("sim", "BTC/USDT", T0, 60_000, 60_010, 60_005)
    accounts.on_price("sim", "ETH/USDT", T0, 3_000, 3_001, 3_000.5)
    await exchange.create_order("BTC/USDT", "market", "buy", 0.05, params={"clientOrderId": "entry"})
    accounts.on_price("sim", "BTC/USDT", T0 + 1000, 60_100, 60_110, 60_105)  # fills the market order
    await exchange.create_order("BTC/USDT", "limit", "sell", 0.02, 65_000, params={"clientOrderId": "target"})
    await exchange.create_order("ETH/USDT", "limit", "buy", 0.5, 2_500)
    await exchange.create_order("BTC/USDT", "market", "sell", 0.01, params={"stopLossPrice": 55_000})
    cancel = await exchange.create_order("ETH/USDT", "limit", "buy", 0.1, 2_000)
    await exchange.cancel_order(cancel["id"])
    return exchange


async def state(exchange: SimExchange) -> tuple[Any, ...]:
    balance = await exchange.fetch_balance()
    return ({key: balance[key] for key in ("free", "used", "total")}, await exchange.fetch_open_orders(),
            await exchange.fetch_closed_orders(), await exchange.fetch_canceled_orders(),
            await exchange.fetch_my_trades())


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_a_restart_gives_back_balances_open_orders_and_trades(make_platform) -> None:
    first = await make_platform()
    _, token = await first.member("ann@example.com")
    account = await new_account(first, token, exchange="sim", paperBalances={"USDT": 10_000, "BTC": 0.1})
    before = await state(await trade_a_little(accounts_of(first.app), account["_id"]))
    assert len(before[1]) == 3 and len(before[4]) == 1  # three open orders, one trade
    await first.http.close()

    again = await make_platform()
    token = (await again.login("ann@example.com"))["accessToken"]
    status, balance = await again.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert (status, {key: balance[key] for key in ("free", "used", "total")}) == (200, before[0])
    restored = await accounts_of(again.app).exchange(account["_id"])
    assert await state(restored) == before
    # It goes on: the restored resting orders fill when the feed's prices reach them.
    assert accounts_of(again.app).on_price("sim", "BTC/USDT", T0 + 2000, 65_100, 65_110, 65_105) == 1
    assert accounts_of(again.app).on_price("sim", "ETH/USDT", T0 + 2000, 2_490, 2_491, 2_490.5) == 1
    assert [order["clientOrderId"] for order in await restored.fetch_closed_orders()] == ["entry", "target",
                                                                                         before[1][1]["clientOrderId"]]
    after = await state(restored)
    await again.http.close()
    third = await make_platform()
    assert await state(await accounts_of(third.app).exchange(account["_id"])) == after


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_paper_accounts_are_restored_at_startup_for_the_feed(make_platform) -> None:
    first = await make_platform()
    _, token = await first.member("ann@example.com")
    account = await new_account(first, token, exchange="sim")
    await trade_a_little(accounts_of(first.app), account["_id"])
    watched = accounts_of(first.app).paper.watched()
    assert watched == {("sim", "BTC/USDT"), ("sim", "ETH/USDT")}
    await first.http.close()
    again = await make_platform()
    accounts = accounts_of(again.app)
    for task in again.app.supervisor.spawned():  # the restore started by the service's setup
        await task
    assert accounts.paper.watched() == watched  # loaded without anyone asking for the account


async def test_removing_a_paper_account_deletes_its_journal(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    kept = await new_account(platform, token, exchange="sim")
    gone = await new_account(platform, token, exchange="sim")
    accounts = accounts_of(platform.app)
    for account in (kept, gone):
        await trade_a_little(accounts, account["_id"])
    await accounts.paper.flush()
    journal = accounts.paper.journal
    assert {row["accountId"] for row in await find_all(journal, {})} == {str(kept["_id"]), str(gone["_id"])}
    assert (await platform.request("DELETE", f"/exchanges/{gone['_id']}", token=token))[0] == 200
    assert {row["accountId"] for row in await find_all(journal, {})} == {str(kept["_id"])}
    assert str(gone["_id"]) not in accounts.paper.books


async def test_a_deactivated_paper_account_is_unloaded_and_comes_back_whole(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim")
    accounts = accounts_of(platform.app)
    held = await trade_a_little(accounts, account["_id"])
    before = await state(held)
    await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"active": False}, token=token)
    assert str(account["_id"]) not in accounts.paper.books and accounts.paper.watched() == set()
    assert accounts.on_price("sim", "BTC/USDT", T0 + 5000, 70_000, 70_000, 70_000) == 0  # nothing loaded to fill
    await held.create_order("ETH/USDT", "limit", "buy", 0.2, 2_400)  # someone kept the old object: not saved
    await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"active": True}, token=token)
    again = await accounts.exchange(account["_id"])
    assert again is not held and await state(again) == before


async def test_journal_records_are_written_in_order_and_in_batches(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim", paperBalances={"USDT": 1_000_000})
    accounts = accounts_of(platform.app)
    exchange = await accounts.exchange(account["_id"])
    accounts.on_price("sim", "XRP/USDT", T0, 0.5, 0.5, 0.5)
    for step in range(300):  # 600+ records: more than one batch
        await exchange.create_order("XRP/USDT", "limit", "buy", 20, 0.4 - step * 0.0001)
    await accounts.paper.flush()
    rows = await find_all(accounts.paper.journal, {"accountId": str(account["_id"]), "$sort": {"seq": 1}})
    assert [row["seq"] for row in rows] == list(range(len(rows))) and len(rows) > 300
    assert rows[0]["record"]["event"] == "deposit"
