"""Live accounts through ccxt's real binance client, against the local Binance server (tests/fakes/binance.py).

The platform is configured as an operator would point it at a proxy or another endpoint
(`[exchanges.ccxt.binance] urls`), so markets, balances and credential checks run ccxt's
own request building, HMAC signing (verified by the server) and parsing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine import SimExchange
from exchange_support import LIVE, binance_settings, new_account
from platform_support import Platform
from services.exchanges import accounts_of
from tests.fakes.binance import API_KEY, SECRET, FakeBinance


@pytest.fixture
async def live(make_platform, fake_binance: FakeBinance) -> Platform:
    return await make_platform(**binance_settings(fake_binance))


def calls(fake: FakeBinance, path: str) -> list[dict[str, str]]:
    return [params for _, called, params in fake.requests if called == path]


async def closed_in_background(app: Any) -> None:
    """Wait for the clients the registry retired (closed by spawned work)."""
    await asyncio.wait_for(asyncio.gather(*app.supervisor.spawned()), 5)


async def test_markets_load_once_through_ccxt_and_answer_in_ccxts_shape(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    status, page = await live.request("GET", "/exchanges/markets?exchange=binance&quote=USDT&$sort[symbol]=1", token=token)
    assert status == 200, page
    assert [market["symbol"] for market in page["data"]] == ["BTC/USDT", "ETH/USDT"]
    btc = page["data"][0]
    assert {key: btc[key] for key in ("exchange", "symbol", "id", "base", "quote", "type", "spot", "active")} == {
        "exchange": "binance", "symbol": "BTC/USDT", "id": "BTCUSDT", "base": "BTC", "quote": "USDT", "type": "spot",
        "spot": True, "active": True}
    assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.00001, 0.01)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00001, 5.0)
    assert "info" not in btc and "_id" not in btc
    status, page = await live.request("GET", "/exchanges/markets?exchange=binance&symbol=ETHBTC", token=token)
    assert [market["symbol"] for market in page["data"]] == ["ETH/BTC"]  # the exchange's own id, mapped
    assert len(calls(fake_binance, "/api/v3/exchangeInfo")) == 1


async def test_an_unknown_symbol_is_refused_with_the_nearest_ones(live: Platform) -> None:
    _, token = await live.member("ann@example.com")
    status, body = await live.request("GET", "/exchanges/markets?exchange=binance&symbol=BTC/USDX", token=token)
    assert (status, body["name"], body["message"]) == (400, "BadRequest", "binance lists no market 'BTC/USDX'")
    assert body["data"] == {"code": "INVALID_SYMBOL", "symbol": "BTC/USDX", "exchange": "binance",
                            "suggestions": ["BTC/USDT"]}


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_a_restart_without_network_still_knows_the_markets(make_platform, fake_binance: FakeBinance) -> None:
    first = await make_platform(**binance_settings(fake_binance))
    _, token = await first.member("ann@example.com")
    assert (await first.request("GET", "/exchanges/markets?exchange=binance", token=token))[1]["total"] == 3
    await first.http.close()
    fake_binance.unavailable = True
    again = await make_platform(**binance_settings(fake_binance))
    token = (await again.login("ann@example.com"))["accessToken"]
    status, page = await again.request("GET", "/exchanges/markets?exchange=binance&base=ETH&$sort[symbol]=1",
                                       token=token)
    assert (status, [market["symbol"] for market in page["data"]]) == (200, ["ETH/BTC", "ETH/USDT"])
    market = await accounts_of(again.app).markets.market("binance", "BTCUSDT")
    assert (market.symbol, market.price_precision.value) == ("BTC/USDT", 0.01)


async def test_markets_out_of_reach_and_never_stored(make_platform) -> None:
    nowhere = FakeBinance()  # never started: nothing listens on its URLs
    nowhere.port = 9
    platform = await make_platform(**binance_settings(nowhere))
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("GET", "/exchanges/markets?exchange=binance", token=token)
    assert (status, body["name"], body["data"]["code"]) == (503, "Unavailable", "EXCHANGE_NOT_AVAILABLE")
    assert body["data"]["exchange"] == "binance"


async def test_a_live_balance_goes_through_ccxts_signed_request(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    account = await new_account(live, token, **LIVE)
    status, balance = await live.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert status == 200, balance
    assert balance["total"] == {"BTC": 1.0, "ETH": 10.0, "USDT": 10000.0}
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0}
    assert "info" not in balance
    signed = calls(fake_binance, "/api/v3/account")
    assert len(signed) == 1 and len(signed[0]["signature"]) == 64  # the server verified this HMAC


async def test_a_credential_check_with_the_right_and_a_wrong_secret(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    right = await new_account(live, token, **LIVE)
    wrong = await new_account(live, token, **{**LIVE, "secret": "not-the-secret-at-all"})
    status, check = await live.request("GET", f"/exchanges/{right['_id']}/check", token=token)
    assert status == 200, check
    assert {key: check[key] for key in ("ok", "accountId", "exchange", "paper", "sandbox", "message")} == {
        "ok": True, "accountId": right["_id"], "exchange": "binance", "paper": False, "sandbox": False,
        "message": "binance accepted the credentials"}
    status, body = await live.request("POST", "/exchanges", json={"id": wrong["_id"]}, token=token,
                                      headers={"X-Service-Method": "check"})
    assert (status, body) == (422, {"name": "Unprocessable", "message": "binance refused the account's credentials",
                                    "code": 422, "className": "unprocessable",
                                    "data": {"code": "CREDENTIALS_REFUSED", "exchange": "binance",
                                             "reason": "AuthenticationError"}})
    fake_binance.add_account("a-key-the-server-has", SECRET, {"USDT": 1})
    unknown = await new_account(live, token, **{**LIVE, "apiKey": "a-key-nobody-issued"})
    status, body = await live.request("GET", f"/exchanges/{unknown['_id']}/check", token=token)
    assert (status, body["data"]["code"]) == (422, "CREDENTIALS_REFUSED")


async def test_an_exchange_outage_is_not_a_server_error(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    account = await new_account(live, token, **LIVE)
    assert (await live.request("GET", f"/exchanges/{account['_id']}/balance", token=token))[0] == 200
    fake_binance.unavailable = True
    for path in (f"/exchanges/{account['_id']}/balance", f"/exchanges/{account['_id']}/check"):
        status, body = await live.request("GET", path, token=token)
        assert (status, body["name"], body["data"]["code"]) == (503, "Unavailable", "EXCHANGE_NOT_AVAILABLE"), body
        # Binance's -1001 ("Internal error; unable to process your request"), ccxt's OperationFailed
        assert (body["data"]["exchange"], body["data"]["reason"]) == ("binance", "OperationFailed")


async def test_one_client_per_account_rebuilt_when_its_credentials_change(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    account = await new_account(live, token, **LIVE)
    other = await new_account(live, token, **LIVE)
    accounts = accounts_of(live.app)
    first = await accounts.exchange(account["_id"])
    assert await accounts.exchange(account["_id"]) is first
    assert await accounts.exchange(other["_id"]) is not first
    assert (type(first).__module__, first.apiKey, first.secret) == ("ccxt.pro.binance", API_KEY, SECRET)
    assert set(first.markets) == {"BTC/USDT", "ETH/USDT", "ETH/BTC"}  # from the store: it loads none itself
    await first.fetch_balance()
    fake_binance.add_account("second-key-of-ann", "second-secret-of-ann", {"USDT": 42})
    status, _ = await live.request("PATCH", f"/exchanges/{account['_id']}", token=token,
                                   json={"apiKey": "second-key-of-ann", "secret": "second-secret-of-ann"})
    assert status == 200
    await closed_in_background(live.app)
    assert first.session is None and first.closed_by_user
    second = await accounts.exchange(account["_id"])
    assert second is not first and second.apiKey == "second-key-of-ann"
    assert (await live.request("GET", f"/exchanges/{account['_id']}/balance", token=token))[1]["total"] == {"USDT": 42.0}
    status, _ = await live.request("DELETE", f"/exchanges/{account['_id']}", token=token)
    assert status == 200
    await closed_in_background(live.app)
    assert second.session is None and second.closed_by_user
    kept = await accounts.exchange(other["_id"])
    await kept.fetch_balance()
    await live.http.close()  # shutdown closes the rest
    assert kept.session is None and kept.closed_by_user


async def test_a_sandbox_account_uses_the_test_network(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    account = await new_account(live, token, **LIVE, sandbox=True)
    client = await accounts_of(live.app).exchange(account["_id"])
    assert client.isSandboxModeEnabled and client.urls["api"] == fake_binance.api_urls()
    status, balance = await live.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert (status, balance["total"]["USDT"]) == (200, 10000.0)
    market = await accounts_of(live.app).market(account["_id"], "ETHUSDT")
    assert market.symbol == "ETH/USDT"


async def test_a_paper_account_on_binance_trades_binances_markets(live: Platform, fake_binance) -> None:
    _, token = await live.member("ann@example.com")
    account = await new_account(live, token, exchange="binance", paper=True, paperBalances={"BTC": 1})
    exchange = await accounts_of(live.app).exchange(account["_id"])
    assert isinstance(exchange, SimExchange) and exchange.id == "binance"
    assert exchange.market("ETHBTC")["precision"] == {"amount": 0.0001, "price": 0.00001, "cost": None, "base": None,
                                                      "quote": None}
    accounts_of(live.app).on_price("binance", "ETH/BTC", 1, 0.05, 0.05001, 0.05)
    order = await exchange.create_order("ETH/BTC", "limit", "buy", 1.23456, 0.049999)
    assert (order["amount"], order["price"], order["status"]) == (1.2345, 0.05, "open")
    assert accounts_of(live.app).on_price("binance", "ETH/BTC", 2, 0.0499, 0.0499, 0.0499) == 1
    status, balance = await live.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    # The point gapped through the limit: filled there (the engine's rule); binance's feeSide is
    # "get", so the 0.1% maker fee is paid in the ETH received.
    assert (status, balance["total"]) == (200, {"BTC": pytest.approx(1 - 1.2345 * 0.0499),
                                                "ETH": pytest.approx(1.2345 * 0.999)})
    assert calls(fake_binance, "/api/v3/account") == []  # a paper account never signs anything
