"""`exchanges/catalogue` (public, every ccxt exchange and sim) and `exchanges/markets` of sim, over REST and Socket.IO."""

from __future__ import annotations

import ccxt
import ccxt.pro

from engine import sim_catalog
from platform_support import Platform

CATALOGUE_FIELDS = {"id", "name", "countries", "url", "certified", "pro", "live", "has", "capabilities",
                    "requiredCredentials", "sandbox", "timeframes", "rateLimit"}


async def test_the_catalogue_is_public_and_lists_every_ccxt_exchange_and_sim(platform: Platform) -> None:
    status, page = await platform.request("GET", "/exchanges/catalogue?$limit=1000&$select[]=id")
    assert status == 200
    assert (page["total"], page["limit"]) == (len(ccxt.exchanges) + 1, 100)  # pages stop at paginate.max
    status, page = await platform.request("GET", "/exchanges/catalogue?$select[]=id&$limit=100&$skip=100")
    everything = {entry["id"] for entry in page["data"]}
    status, first = await platform.request("GET", "/exchanges/catalogue?$select[]=id&$limit=100")
    everything |= {entry["id"] for entry in first["data"]}
    assert everything == {"sim", *ccxt.exchanges}


async def test_an_entry_describes_an_exchange_as_ccxt_does(platform: Platform) -> None:
    status, binance = await platform.request("GET", "/exchanges/catalogue/binance")
    assert status == 200 and set(binance) == CATALOGUE_FIELDS
    client = ccxt.pro.binance()
    assert binance["has"] == client.has
    assert {"watchTicker", "fetchOHLCV", "createStopOrder"} <= set(binance["capabilities"])
    assert (binance["name"], binance["requiredCredentials"], binance["sandbox"], binance["pro"], binance["live"]) == (
        "Binance", ["apiKey", "secret"], True, True, True)
    assert "1h" in binance["timeframes"]
    status, sim = await platform.request("GET", "/exchanges/catalogue/sim")
    assert (sim["name"], sim["live"], sim["sandbox"], sim["requiredCredentials"]) == ("Simulated exchange", False,
                                                                                      False, [])
    assert {"createOrder", "createStopOrder", "fetchBalance"} <= set(sim["capabilities"])
    status, okx = await platform.request("GET", "/exchanges/catalogue/okx")
    assert okx["requiredCredentials"] == ["apiKey", "secret", "password"]
    assert (await platform.request("GET", "/exchanges/catalogue/binanse"))[0] == 404


async def test_the_catalogue_filters_like_every_find(platform: Platform, sockets) -> None:
    status, page = await platform.request(
        "GET", "/exchanges/catalogue?$and[0][capabilities]=watchTicker&$and[1][capabilities]=createStopOrder"
               "&sandbox=true&$sort[id]=1&$select[]=id&$limit=5")
    assert status == 200, page
    expected = sorted(exchange for exchange in ccxt.pro.exchanges
                      if getattr(ccxt.pro, exchange)().has.get("watchTicker") in (True, "emulated")
                      and getattr(ccxt.pro, exchange)().has.get("createStopOrder") in (True, "emulated")
                      and getattr(ccxt.pro, exchange)().urls.get("test"))
    assert page["total"] == len(expected) and [entry["id"] for entry in page["data"]] == expected[:5]
    status, page = await platform.request("GET", "/exchanges/catalogue?requiredCredentials=password&$select[]=id")
    assert "okx" in {entry["id"] for entry in page["data"]} and "binance" not in {e["id"] for e in page["data"]}
    status, body = await platform.request("GET", "/exchanges/catalogue?has=1")
    assert (status, body["errors"]) == (400, {"has": ["Can not filter on this field."]})
    socket = await sockets(platform.http)
    error, page = await socket.call("find", "exchanges/catalogue", {"id": {"$in": ["sim", "kraken"]}, "$sort": {"id": -1}})
    assert error is None and [entry["id"] for entry in page["data"]] == ["sim", "kraken"]


async def test_sim_markets_filtered_with_the_usual_operators(platform: Platform, sockets) -> None:
    _, token = await platform.member("ann@example.com")
    status, page = await platform.request("GET", "/exchanges/markets?exchange=sim&quote=USDT&$limit=10", token=token)
    assert status == 200, page
    catalog = sim_catalog()
    assert page["total"] == sum(1 for market in catalog if market.quote == "USDT") and len(page["data"]) == 10
    status, page = await platform.request(
        "GET", "/exchanges/markets?exchange=sim&spot=true&base[$in][]=BTC&base[$in][]=ETH&quote[$ne]=USDC"
        "&$sort[symbol]=1", token=token)
    assert [market["symbol"] for market in page["data"]] == ["BTC/USDT", "ETH/BTC", "ETH/USDT"]
    btc = page["data"][0]
    status, perpetuals = await platform.request("GET", "/exchanges/markets?exchange=sim&swap=true&$sort[symbol]=1",
                                                token=token)
    assert status == 200 and perpetuals["total"] == 10
    assert (perpetuals["data"][3]["symbol"], perpetuals["data"][3]["linear"], perpetuals["data"][3]["settle"]) == (
        "BTC/USDT:USDT", True, "USDT")
    assert btc == {"exchange": "sim", **{key: value for key, value in catalog.market("BTC/USDT").to_ccxt().items()
                                          if key in btc}, "loadedAt": btc["loadedAt"]}
    assert (btc["precision"]["price"], btc["maker"], btc["taker"], btc["feeSide"]) == (0.01, 0.001, 0.001, "quote")
    socket = await sockets(platform.http, headers={"Authorization": f"Bearer {token}"})
    error, page = await socket.call("find", "exchanges/markets", {"exchange": "sim", "symbol": "btc-usdt"})
    assert error is None and [market["symbol"] for market in page["data"]] == ["BTC/USDT"]


async def test_markets_need_a_known_exchange(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("GET", "/exchanges/markets?quote=USDT", token=token)
    assert (status, body["errors"]) == (400, {"exchange": ["Required: a ccxt exchange id or sim."]})
    status, body = await platform.request("GET", "/exchanges/markets?exchange=binanse", token=token)
    assert (status, body["data"]) == (400, {"code": "INVALID_EXCHANGE", "exchange": "binanse"})
    status, body = await platform.request("GET", "/exchanges/markets?exchange=sim&symbol[$in][]=BTC/USDT"
                                                 "&symbol[$in][]=DOGE/EUR", token=token)
    assert (status, body["data"]["code"], body["data"]["symbol"]) == (400, "INVALID_SYMBOL", "DOGE/EUR")
    assert "DOGE/USDT" in body["data"]["suggestions"]
