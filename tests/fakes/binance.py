"""A local exchange server in Binance spot's wire format, for offline tests of ccxt's real code path.

`FakeBinance` is an aiohttp app on 127.0.0.1 (a free port) that answers the REST endpoints
ccxt's `binance` class calls for markets, prices, candles, balances and orders, in the
shapes Binance documents (`rest-api.md` of binance-spot-api-docs), and a websocket in its
stream format (`web-socket-streams.md`) for `ccxt.pro.binance().watch_ticker` and
`watch_ohlcv`. Point a ccxt client at it with `fake.client(...)` (its `urls['api']`
entries replaced by the fake's), or pass `fake.ccxt_config()` to a client you build.

Use the `fake_binance` fixture (tests/conftest.py): a started server with three markets
(BTC/USDT at 60000, ETH/USDT at 3000, ETH/BTC at 0.05) and one account (`API_KEY`,
`SECRET`: 10000 USDT, 1 BTC, 10 ETH). Then::

    fake_binance.add_klines("BTC/USDT", "1h", candles)         # engine Candles served by /klines
    fake_binance.add_account("key-2", "secret-2", {"USDT": 50})
    exchange = fake_binance.client(api_key=API_KEY, secret=SECRET)   # ccxt.async_support.binance
    await exchange.fetch_balance(); await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 59000)
    await fake_binance.set_price("BTC/USDT", 58000)   # fills resting orders it crosses, pushes tickers
    fake_binance.requests                              # every REST call: (method, path, params)

Endpoints (`/api/v3/...`): `ping`, `time`, `exchangeInfo` (PRICE_FILTER, LOT_SIZE, NOTIONAL,
MARKET_LOT_SIZE, MAX_NUM_ORDERS filters, from which ccxt derives precision and limits),
`ticker/24hr`, `ticker/price`, `ticker/bookTicker`, `klines` (startTime/endTime/limit as
documented: default 500, at most 1000), `account`, `order` (POST create, GET query, DELETE
cancel), `openOrders`, `allOrders`, `myTrades`; plus what `load_markets` asks for with
default options: `/fapi/v1/exchangeInfo` and `/dapi/v1/exchangeInfo` (no symbols), and with
credentials `/sapi/v1/margin/allPairs`, `/sapi/v1/margin/isolated/allPairs` (empty) and
`/sapi/v1/capital/config/getall` (the assets). Websocket: any path under `/ws`, methods
`SUBSCRIBE`/`UNSUBSCRIBE`/`LIST_SUBSCRIPTIONS` (each subscription logged in
`subscriptions`; `drop_streams()` closes every connection from the server's side, and
`streams_down = True` refuses new ones),
streams `<symbol>@ticker` (`24hrTicker`
events, with bid and ask) and `<symbol>@miniTicker` (`24hrMiniTicker`, what ccxt's
`watch_ticker` asks for by default), each sent at once on subscribing and on every price
change, and `<symbol>@kline_<interval>` (`push_kline`).

Signed endpoints verify Binance's HMAC-SHA256 exactly as documented: the hex HMAC of
`totalParams` (the query string concatenated with the request body, `signature` left out)
keyed by the secret, the key in `X-MBX-APIKEY`, `timestamp` within `recvWindow` (default
5000 ms, at most 60000) of the server's time. Failures answer Binance's error JSON:
`-2015` (unknown key, 401), `-1022` (bad signature, 400), `-1021` (timestamp outside the
window), `-1102` (a mandatory parameter missing).

Orders: MARKET (fills at once at the ask for a buy, the bid for a sell), LIMIT (GTC; a
limit already through the book fills at once at the book's price as taker, otherwise it
rests, its funds locked, and fills at its own price when `set_price` crosses it, as maker)
and LIMIT_MAKER (refused with -2010 when it would take). Commission 0.1% of what is
received, in that asset. Filter failures answer -1013, missing funds -2010, unknown orders
-2013 (query) and -2011 (cancel). Stop orders are not simulated (-1013).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
from aiohttp import WSMsgType, web

from engine.candles import Candles, resample, timeframe
from engine.clock import Clock, SystemClock

__all__ = ["API_KEY", "SECRET", "BinanceError", "FakeBinance", "Market"]

API_KEY = "fake-binance-key"
SECRET = "fake-binance-secret"
INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")
FEE = Decimal("0.001")
EIGHT = Decimal("0.00000001")
TICKER_CHANNELS = ("ticker", "miniTicker")
"""`watch_ticker` subscribes to `miniTicker` by default (ccxt's `options['watchTicker']`), to
`ticker` (with bid and ask) when called with `params={"name": "ticker"}`."""


def fmt(value: Decimal | float | int) -> str:
    """Binance's number strings: 8 decimals."""
    return f"{Decimal(str(value)).quantize(EIGHT):f}"


@dataclass
class Market:
    """A spot market as exchangeInfo lists it (filters as Binance's decimal strings)."""

    base: str
    quote: str
    tick_size: str = "0.01"
    step_size: str = "0.00001"
    min_qty: str = "0.00001"
    min_notional: str = "5"

    @property
    def id(self) -> str:
        return f"{self.base}{self.quote}"

    @property
    def symbol(self) -> str:
        return f"{self.base}/{self.quote}"

    def info(self) -> dict[str, Any]:
        return {
            "symbol": self.id, "status": "TRADING", "baseAsset": self.base, "baseAssetPrecision": 8,
            "quoteAsset": self.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                           "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": fmt(Decimal(self.tick_size)), "maxPrice": "1000000.00000000",
                 "tickSize": fmt(Decimal(self.tick_size))},
                {"filterType": "LOT_SIZE", "minQty": fmt(Decimal(self.min_qty)), "maxQty": "9000.00000000",
                 "stepSize": fmt(Decimal(self.step_size))},
                {"filterType": "NOTIONAL", "minNotional": fmt(Decimal(self.min_notional)), "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000",
                 "stepSize": "0.00000000"},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            ],
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }


DEFAULT_MARKETS = (
    Market("BTC", "USDT"),
    Market("ETH", "USDT", step_size="0.0001", min_qty="0.0001"),
    Market("ETH", "BTC", tick_size="0.00001", step_size="0.0001", min_qty="0.0001", min_notional="0.0001"),
)
DEFAULT_PRICES = {"BTCUSDT": Decimal("60000"), "ETHUSDT": Decimal("3000"), "ETHBTC": Decimal("0.05")}


class BinanceError(Exception):
    """An error answer: HTTP `status` and Binance's `{"code", "msg"}`."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class Ticker:
    open: Decimal
    last: Decimal
    bid: Decimal
    ask: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0


@dataclass
class Account:
    secret: str
    free: dict[str, Decimal] = field(default_factory=dict)
    locked: dict[str, Decimal] = field(default_factory=dict)
    uid: int = 0


@dataclass
class Order:
    account: str
    market: Market
    order_id: int
    client_order_id: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal
    time: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    update_time: int = 0
    fills: list[dict[str, Any]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {
            "symbol": self.market.id, "orderId": self.order_id, "orderListId": -1,
            "clientOrderId": self.client_order_id, "price": fmt(self.price), "origQty": fmt(self.quantity),
            "executedQty": fmt(self.executed), "cummulativeQuoteQty": fmt(self.quote), "status": self.status,
            "timeInForce": "GTC", "type": self.type, "side": self.side, "stopPrice": "0.00000000",
            "icebergQty": "0.00000000", "time": self.time, "updateTime": self.update_time or self.time,
            "isWorking": True, "workingTime": self.time, "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "NONE",
        }


class FakeBinance:
    """See the module documentation. `clock` stamps orders, trades and events (default: the
    wall clock); request timestamps are always checked against the wall clock, as ccxt
    signs with it."""

    routes: dict[tuple[str, str], tuple[Any, bool]]

    def __init__(self, *, markets: tuple[Market, ...] = DEFAULT_MARKETS, clock: Clock | None = None) -> None:
        self.markets = {market.id: market for market in markets}
        self.clock = clock or SystemClock()
        started = self.clock.now_ms()
        self.tickers = {market.id: self._ticker(DEFAULT_PRICES.get(market.id, Decimal(1))) for market in markets}
        self.klines: dict[tuple[str, str], Candles] = {}
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, Order] = {}
        self.trades: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sockets: dict[web.WebSocketResponse, set[str]] = {}
        self.subscriptions: list[str] = []
        """Every stream a websocket client subscribed to, in order (repeats included)."""
        self.connections = 0
        """Websocket connections accepted so far."""
        self._subscribed = asyncio.Condition()
        self.unavailable = False
        """True: every REST call answers 503 (an outage), as Binance does under maintenance."""
        self.streams_down = False
        """True: websocket connections are refused (503 before the upgrade)."""
        self._ids = count(started % 1_000_000 * 1000 + 1)
        self.add_account(API_KEY, SECRET, {"USDT": 10000, "BTC": 1, "ETH": 10})
        self.app = web.Application()
        self.app.router.add_route("*", "/ws{tail:.*}", self._websocket)
        self.app.router.add_route("*", "/{api:api|sapi|fapi|dapi}/{version}/{path:.*}", self._rest)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle and clients --------------------------------------------------------------

    async def start(self) -> FakeBinance:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def until_subscribed(self, stream: str) -> None:
        """Return once a websocket client listens to `stream` (`btcusdt@kline_1m`); wrap it in a timeout."""
        async with self._subscribed:
            await self._subscribed.wait_for(lambda: any(stream in streams for streams in self.sockets.values()))

    async def drop_streams(self) -> int:
        """Close every websocket connection from the server's side, as an exchange restarting
        its stream servers does; how many were closed. Clients reconnect on their own."""
        sockets = list(self.sockets)
        for socket in sockets:
            await socket.close(code=1001, message=b"going away")
        return len(sockets)

    async def close(self) -> None:
        for socket in list(self.sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api_urls(self) -> dict[str, Any]:
        """ccxt's `urls['api']` for binance with every host replaced by this server."""

        def local(value: Any) -> Any:
            if isinstance(value, dict):
                return {key: local(item) for key, item in value.items()}
            parts = urlsplit(value)
            scheme = "ws" if parts.scheme.startswith("ws") else "http"
            return urlunsplit((scheme, f"127.0.0.1:{self.port}", parts.path, parts.query, ""))

        return local(ccxt_pro.binance().urls["api"])

    def ccxt_config(self, api_key: str | None = None, secret: str | None = None, **config: Any) -> dict[str, Any]:
        """Constructor options for a ccxt binance client talking to this server."""
        options: dict[str, Any] = {"urls": {"api": self.api_urls()}, "enableRateLimit": True, **config}
        if api_key is not None:
            options.update(apiKey=api_key, secret=secret)
        return options

    def client(self, api_key: str | None = None, secret: str | None = None, *, pro: bool = False,
               **config: Any) -> ccxt_async.binance:
        """A ccxt async (or ccxt.pro with `pro=True`) binance client pointed at this server."""
        cls = ccxt_pro.binance if pro else ccxt_async.binance
        return cls(self.ccxt_config(api_key, secret, **config))

    # -- state -----------------------------------------------------------------------------

    def add_account(self, api_key: str, secret: str, balances: Mapping[str, float | str]) -> None:
        self.accounts[api_key] = Account(secret, {asset: Decimal(str(amount)) for asset, amount in balances.items()},
                                         uid=len(self.accounts) + 1)

    def add_klines(self, symbol: str, interval: str, candles: Candles) -> None:
        """Serve `candles` as `symbol`'s (`BTC/USDT` or `BTCUSDT`) klines of `interval`;
        coarser intervals not added are resampled from them."""
        self.klines[(self._market(symbol).id, interval)] = candles

    def _ticker(self, price: Decimal) -> Ticker:
        return Ticker(open=price, last=price, bid=price, ask=price, high=price, low=price)

    def _market(self, symbol: str) -> Market:
        market = self.markets.get(symbol.replace("/", ""))
        if market is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return market

    async def set_price(self, symbol: str, price: float | str, *, bid: float | str | None = None,
                        ask: float | str | None = None) -> None:
        """Move `symbol`'s last price (bid and ask too unless given), fill the resting
        limit orders it crosses, and push the ticker to its websocket subscribers."""
        market = self._market(symbol)
        ticker = self.tickers[market.id]
        ticker.last = Decimal(str(price))
        ticker.bid = Decimal(str(bid if bid is not None else price))
        ticker.ask = Decimal(str(ask if ask is not None else price))
        ticker.high, ticker.low = max(ticker.high, ticker.last), min(ticker.low, ticker.last)
        for order in [order for order in self.orders.values() if order.market is market and order.status == "NEW"]:
            crossed = ticker.ask <= order.price if order.side == "BUY" else ticker.bid >= order.price
            if crossed:
                self._fill(order, order.price, maker=True)
        for channel in TICKER_CHANNELS:
            await self._push(f"{market.id.lower()}@{channel}", self._ticker_event(market, channel))

    async def push_kline(self, symbol: str, interval: str, candle: tuple[float, ...], *, closed: bool) -> None:
        """Send a kline event (`candle`: open time ms, open, high, low, close, volume) to the
        subscribers of `<symbol>@kline_<interval>`; `closed` is Binance's `x` flag."""
        market = self._market(symbol)
        opens = int(candle[0])
        event = {"e": "kline", "E": self.clock.now_ms(), "s": market.id, "k": {
            "t": opens, "T": timeframe(interval).next_open(opens) - 1, "s": market.id, "i": interval, "f": 1, "L": 2,
            "o": fmt(candle[1]), "c": fmt(candle[4]), "h": fmt(candle[2]), "l": fmt(candle[3]), "v": fmt(candle[5]),
            "n": 2, "x": closed, "q": fmt(Decimal(str(candle[4])) * Decimal(str(candle[5]))), "V": "0", "Q": "0",
            "B": "0"}}
        await self._push(f"{market.id.lower()}@kline_{interval}", event)

    # -- REST --------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        body = await request.text()
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        route = f"{request.match_info['api']}/{request.match_info['version']}/{request.match_info['path']}"
        self.requests.append((request.method, "/" + route, params))
        handler = self.routes.get((request.method, route))
        try:
            if self.unavailable:
                raise BinanceError(503, -1001, "Internal error; unable to process your request. Please try again.")
            if handler is None:
                raise BinanceError(404, -1000, f"Unknown endpoint {request.method} /{route}.")
            account = self._verify(request, body) if handler[1] else None
            result = handler[0](self, params, account)
        except BinanceError as failure:
            return web.json_response({"code": failure.code, "msg": failure.msg}, status=failure.status)
        return web.json_response(result)

    def _verify(self, request: web.Request, body: str) -> Account:
        """Binance's SIGNED endpoint security (HMAC SHA256 keys)."""
        account = self.accounts.get(request.headers.get("X-MBX-APIKEY", ""))
        if account is None:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        parts = [request.query_string, body]
        signatures = [value for part in parts for key, value in parse_qsl(part) if key == "signature"]
        if len(signatures) != 1 or not signatures[0]:
            raise BinanceError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        total = "".join("&".join(item for item in part.split("&") if not item.startswith("signature=")) for part in parts)
        expected = hmac.new(account.secret.encode(), total.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signatures[0].lower()):
            raise BinanceError(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(request.query_string))
        params.update(parse_qsl(body))
        stamp, window = params.get("timestamp"), params.get("recvWindow", "5000")
        if not stamp or not stamp.isdigit():
            raise BinanceError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        if not window.isdigit() or int(window) > 60000:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000")
        now = time.time_ns() // 1_000_000
        if not (int(stamp) < now + 1000 and now - int(stamp) <= int(window)):
            raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return account

    def _exchange_info(self, params: dict[str, str], _: Account | None) -> dict[str, Any]:
        markets = list(self.markets.values())
        if "symbol" in params:
            markets = [self._market(params["symbol"])]
        return {"timezone": "UTC", "serverTime": self.clock.now_ms(),
                "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                                "limit": 6000}],
                "exchangeFilters": [], "symbols": [market.info() for market in markets]}

    def _no_symbols(self, params: dict[str, str], _: Account | None) -> dict[str, Any]:
        return {"timezone": "UTC", "serverTime": self.clock.now_ms(), "rateLimits": [], "exchangeFilters": [],
                "assets": [], "symbols": []}

    def _selected(self, params: dict[str, str]) -> list[Market] | None:
        """Markets named by `symbol` or `symbols` (a JSON list); None: all of them."""
        if "symbol" in params:
            return [self._market(params["symbol"])]
        if "symbols" in params:
            try:
                names = json.loads(params["symbols"])
            except ValueError:
                raise BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.") from None
            return [self._market(name) for name in names]
        return None

    def _listing(self, params: dict[str, str], shape: Any) -> Any:
        selected = self._selected(params)
        if "symbol" in params and selected:
            return shape(selected[0])
        return [shape(market) for market in (selected or self.markets.values())]

    def _ticker_24hr(self, params: dict[str, str], _: Account | None) -> Any:
        return self._listing(params, self._ticker_info)

    def _ticker_info(self, market: Market) -> dict[str, Any]:
        ticker, now = self.tickers[market.id], self.clock.now_ms()
        change = ticker.last - ticker.open
        return {"symbol": market.id, "priceChange": fmt(change), "priceChangePercent": f"{change / ticker.open * 100:.3f}",
                "weightedAvgPrice": fmt(ticker.last), "prevClosePrice": fmt(ticker.open), "lastPrice": fmt(ticker.last),
                "lastQty": "0.00000000", "bidPrice": fmt(ticker.bid), "bidQty": "1.00000000", "askPrice": fmt(ticker.ask),
                "askQty": "1.00000000", "openPrice": fmt(ticker.open), "highPrice": fmt(ticker.high),
                "lowPrice": fmt(ticker.low), "volume": fmt(ticker.volume), "quoteVolume": fmt(ticker.quote_volume),
                "openTime": now - 86_400_000, "closeTime": now, "firstId": 0, "lastId": ticker.trades,
                "count": ticker.trades}

    def _ticker_price(self, params: dict[str, str], _: Account | None) -> Any:
        return self._listing(params, lambda market: {"symbol": market.id, "price": fmt(self.tickers[market.id].last)})

    def _book_ticker(self, params: dict[str, str], _: Account | None) -> Any:
        def shape(market: Market) -> dict[str, Any]:
            ticker = self.tickers[market.id]
            return {"symbol": market.id, "bidPrice": fmt(ticker.bid), "bidQty": "1.00000000",
                    "askPrice": fmt(ticker.ask), "askQty": "1.00000000"}

        return self._listing(params, shape)

    def _klines(self, params: dict[str, str], _: Account | None) -> list[list[Any]]:
        market = self._market(_required(params, "symbol"))
        interval = _required(params, "interval")
        if interval not in INTERVALS:
            raise BinanceError(400, -1120, "Invalid interval.")
        limit = int(params.get("limit", "500"))
        if not 1 <= limit <= 1000:
            raise BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        candles = self._series(market, interval)
        start, end = params.get("startTime"), params.get("endTime")
        candles = candles.slice(None if start is None else int(start), None if end is None else int(end) + 1)
        candles = candles[-limit:] if start is None else candles[:limit]  # no startTime: the most recent
        frame = timeframe(interval)
        return [[candle.timestamp, fmt(candle.open), fmt(candle.high), fmt(candle.low), fmt(candle.close),
                 fmt(candle.volume), frame.next_open(candle.timestamp) - 1, fmt(candle.close * candle.volume), 1,
                 "0.00000000", "0.00000000", "0"] for candle in candles]

    def _series(self, market: Market, interval: str) -> Candles:
        if (market.id, interval) in self.klines:
            return self.klines[(market.id, interval)]
        for (market_id, stored), candles in sorted(self.klines.items(), key=lambda item: -timeframe(item[0][1]).ms):
            if market_id == market.id and timeframe(stored).builds(timeframe(interval)):
                return resample(candles, interval)
        return Candles.empty(interval)

    def _account(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        assets = sorted(set(account.free) | set(account.locked))
        return {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": fmt(FEE), "taker": fmt(FEE), "buyer": "0.00000000", "seller": "0.00000000"},
                "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self.clock.now_ms(),
                "accountType": "SPOT", "permissions": ["SPOT"], "uid": account.uid,
                "balances": [{"asset": asset, "free": fmt(account.free.get(asset, Decimal(0))),
                              "locked": fmt(account.locked.get(asset, Decimal(0)))} for asset in assets]}

    def _assets(self, params: dict[str, str], account: Account | None) -> list[dict[str, Any]]:
        assert account is not None
        coins = sorted({market.base for market in self.markets.values()} | {m.quote for m in self.markets.values()})
        return [{"coin": coin, "name": coin, "depositAllEnable": True, "withdrawAllEnable": True,
                 "free": fmt(account.free.get(coin, Decimal(0))), "locked": fmt(account.locked.get(coin, Decimal(0))),
                 "freeze": "0", "withdrawing": "0", "ipoing": "0", "ipoable": "0", "storage": "0",
                 "isLegalMoney": False, "trading": True, "networkList": []} for coin in coins]

    # -- orders ------------------------------------------------------------------------------

    def _new_order(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        market = self._market(_required(params, "symbol"))
        side, kind = _required(params, "side").upper(), _required(params, "type").upper()
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'side'.")
        if kind not in ("MARKET", "LIMIT", "LIMIT_MAKER"):
            raise BinanceError(400, -1013, "Unsupported order combination.")
        quantity = _decimal(params, "quantity")
        ticker = self.tickers[market.id]
        book = ticker.ask if side == "BUY" else ticker.bid
        price = book if kind == "MARKET" else _decimal(params, "price")
        _check_filters(market, quantity, price, kind)
        client_id = params.get("newClientOrderId") or f"fake{next(self._ids)}"
        if any(order.client_order_id == client_id and order.status == "NEW" for order in self.orders.values()):
            raise BinanceError(400, -2010, "Duplicate order sent.")
        takes = kind == "MARKET" or (book <= price if side == "BUY" else book >= price)
        if kind == "LIMIT_MAKER" and takes:
            raise BinanceError(400, -2010, "Order would immediately match and take.")
        owner = next(key for key, value in self.accounts.items() if value is account)
        now = self.clock.now_ms()
        order = Order(owner, market, next(self._ids), client_id, side, kind, quantity, price if kind != "MARKET" else
                      Decimal(0), now)
        spend_asset, spend = (market.quote, quantity * (book if takes else price)) if side == "BUY" else (
            market.base, quantity)
        if account.free.get(spend_asset, Decimal(0)) < spend:
            raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")
        self.orders[order.order_id] = order
        if takes:
            self._fill(order, book, maker=False)
        else:
            account.free[spend_asset] -= spend
            account.locked[spend_asset] = account.locked.get(spend_asset, Decimal(0)) + spend
        return {**order.info(), "transactTime": now, "fills": order.fills}

    def _fill(self, order: Order, price: Decimal, *, maker: bool) -> None:
        """Fill `order` whole at `price`: move funds (releasing what a resting order locked), charge the fee."""
        account, market = self.accounts[order.account], order.market
        cost = order.quantity * price
        if maker:  # a resting order: release what it locked
            locked_asset, locked = (market.quote, order.quantity * order.price) if order.side == "BUY" else (
                market.base, order.quantity)
            account.locked[locked_asset] -= locked
            account.free[locked_asset] = account.free.get(locked_asset, Decimal(0)) + locked
        paid_asset, paid, got_asset, got = ((market.quote, cost, market.base, order.quantity) if order.side == "BUY"
                                            else (market.base, order.quantity, market.quote, cost))
        commission = (got * FEE).quantize(EIGHT, rounding=ROUND_DOWN)
        account.free[paid_asset] -= paid
        account.free[got_asset] = account.free.get(got_asset, Decimal(0)) + got - commission
        trade_id = next(self._ids)
        now = self.clock.now_ms()
        order.executed, order.quote, order.status, order.update_time = order.quantity, cost, "FILLED", now
        order.fills.append({"price": fmt(price), "qty": fmt(order.quantity), "commission": fmt(commission),
                            "commissionAsset": got_asset, "tradeId": trade_id})
        ticker = self.tickers[market.id]
        ticker.volume += order.quantity
        ticker.quote_volume += cost
        ticker.trades += 1
        self.trades.append({"account": order.account, "symbol": market.id, "id": trade_id, "orderId": order.order_id,
                            "orderListId": -1, "price": fmt(price), "qty": fmt(order.quantity), "quoteQty": fmt(cost),
                            "commission": fmt(commission), "commissionAsset": got_asset, "time": now,
                            "isBuyer": order.side == "BUY", "isMaker": maker, "isBestMatch": True})

    def _find_order(self, params: dict[str, str], account: Account | None, code: int, message: str) -> Order:
        market = self._market(_required(params, "symbol"))
        owner = next(key for key, value in self.accounts.items() if value is account)
        for order in self.orders.values():
            if order.account != owner or order.market is not market:
                continue
            if params.get("orderId") == str(order.order_id) or params.get("origClientOrderId") == order.client_order_id:
                return order
        if "orderId" not in params and "origClientOrderId" not in params:
            raise BinanceError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        raise BinanceError(400, code, message)

    def _query_order(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        return self._find_order(params, account, -2013, "Order does not exist.").info()

    def _cancel_order(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        order = self._find_order(params, account, -2011, "Unknown order sent.")
        if order.status != "NEW":
            raise BinanceError(400, -2011, "Unknown order sent.")
        assert account is not None
        asset, amount = (order.market.quote, order.quantity * order.price) if order.side == "BUY" else (
            order.market.base, order.quantity)
        account.locked[asset] -= amount
        account.free[asset] = account.free.get(asset, Decimal(0)) + amount
        order.status, order.update_time = "CANCELED", self.clock.now_ms()
        return {**order.info(), "origClientOrderId": order.client_order_id, "transactTime": order.update_time}

    def _own_orders(self, params: dict[str, str], account: Account | None) -> list[Order]:
        owner = next(key for key, value in self.accounts.items() if value is account)
        market = self._market(params["symbol"]) if "symbol" in params else None
        return [order for order in self.orders.values()
                if order.account == owner and (market is None or order.market is market)]

    def _open_orders(self, params: dict[str, str], account: Account | None) -> list[dict[str, Any]]:
        return [order.info() for order in self._own_orders(params, account) if order.status == "NEW"]

    def _all_orders(self, params: dict[str, str], account: Account | None) -> list[dict[str, Any]]:
        _required(params, "symbol")
        return [order.info() for order in self._own_orders(params, account)]

    def _my_trades(self, params: dict[str, str], account: Account | None) -> list[dict[str, Any]]:
        market = self._market(_required(params, "symbol"))
        owner = next(key for key, value in self.accounts.items() if value is account)
        since = int(params.get("startTime", "0"))
        found = [{key: value for key, value in trade.items() if key != "account"} for trade in self.trades
                 if trade["account"] == owner and trade["symbol"] == market.id and trade["time"] >= since
                 and params.get("orderId") in (None, str(trade["orderId"]))]
        return found[:int(params.get("limit", "500"))]

    # -- websocket streams -----------------------------------------------------------------

    def _ticker_event(self, market: Market, channel: str) -> dict[str, Any]:
        info = self._ticker_info(market)
        if channel == "miniTicker":
            return {"e": "24hrMiniTicker", "E": self.clock.now_ms(), "s": market.id, "c": info["lastPrice"],
                    "o": info["openPrice"], "h": info["highPrice"], "l": info["lowPrice"], "v": info["volume"],
                    "q": info["quoteVolume"]}
        return {"e": "24hrTicker", "E": self.clock.now_ms(), "s": market.id, "p": info["priceChange"],
                "P": info["priceChangePercent"], "w": info["weightedAvgPrice"], "x": info["prevClosePrice"],
                "c": info["lastPrice"], "Q": "0", "b": info["bidPrice"], "B": "1", "a": info["askPrice"], "A": "1",
                "o": info["openPrice"], "h": info["highPrice"], "l": info["lowPrice"], "v": info["volume"],
                "q": info["quoteVolume"], "O": info["openTime"], "C": info["closeTime"], "F": 0,
                "L": info["lastId"], "n": info["count"]}

    async def _push(self, stream: str, event: dict[str, Any]) -> None:
        sockets = [socket for socket, streams in self.sockets.items() if stream in streams]
        await asyncio.gather(*(socket.send_json(event) for socket in sockets), return_exceptions=True)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if self.streams_down:
            return web.Response(status=503, text="streams are down")
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        streams: set[str] = set()
        self.sockets[socket] = streams
        self.connections += 1
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    command = json.loads(message.data)
                    method, names, ident = command["method"], command.get("params", []), command.get("id")
                except (ValueError, KeyError, TypeError):
                    await socket.send_json({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
                    continue
                if method == "SUBSCRIBE":
                    streams.update(names)
                    self.subscriptions.extend(names)
                    async with self._subscribed:
                        self._subscribed.notify_all()
                    await socket.send_json({"result": None, "id": ident})
                    for name in names:
                        symbol, _, channel = name.partition("@")
                        market = self.markets.get(symbol.upper())
                        if market is not None and channel in TICKER_CHANNELS:
                            await socket.send_json(self._ticker_event(market, channel))
                elif method == "UNSUBSCRIBE":
                    streams.difference_update(names)
                    await socket.send_json({"result": None, "id": ident})
                elif method == "LIST_SUBSCRIPTIONS":
                    await socket.send_json({"result": sorted(streams), "id": ident})
                else:
                    await socket.send_json({"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"},
                                            "id": ident})
        finally:
            self.sockets.pop(socket, None)
        return socket


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise BinanceError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def _decimal(params: dict[str, str], name: str) -> Decimal:
    try:
        value = Decimal(_required(params, name))
    except ArithmeticError:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None
    if not value.is_finite() or value <= 0:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return value


def _check_filters(market: Market, quantity: Decimal, price: Decimal, kind: str) -> None:
    if quantity < Decimal(market.min_qty) or quantity % Decimal(market.step_size):
        raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
    if kind != "MARKET" and price % Decimal(market.tick_size):
        raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
    if quantity * price < Decimal(market.min_notional):
        raise BinanceError(400, -1013, "Filter failure: NOTIONAL")


ROUTES: dict[tuple[str, str], tuple[Any, bool]] = {
    ("GET", "api/v3/ping"): (lambda self, params, account: {}, False),
    ("GET", "api/v3/time"): (lambda self, params, account: {"serverTime": self.clock.now_ms()}, False),
    ("GET", "api/v3/exchangeInfo"): (FakeBinance._exchange_info, False),
    ("GET", "fapi/v1/exchangeInfo"): (FakeBinance._no_symbols, False),
    ("GET", "dapi/v1/exchangeInfo"): (FakeBinance._no_symbols, False),
    ("GET", "api/v3/ticker/24hr"): (FakeBinance._ticker_24hr, False),
    ("GET", "api/v3/ticker/price"): (FakeBinance._ticker_price, False),
    ("GET", "api/v3/ticker/bookTicker"): (FakeBinance._book_ticker, False),
    ("GET", "api/v3/klines"): (FakeBinance._klines, False),
    ("GET", "api/v3/account"): (FakeBinance._account, True),
    ("POST", "api/v3/order"): (FakeBinance._new_order, True),
    ("GET", "api/v3/order"): (FakeBinance._query_order, True),
    ("DELETE", "api/v3/order"): (FakeBinance._cancel_order, True),
    ("GET", "api/v3/openOrders"): (FakeBinance._open_orders, True),
    ("GET", "api/v3/allOrders"): (FakeBinance._all_orders, True),
    ("GET", "api/v3/myTrades"): (FakeBinance._my_trades, True),
    ("GET", "sapi/v1/capital/config/getall"): (FakeBinance._assets, True),
    ("GET", "sapi/v1/margin/allPairs"): (lambda self, params, account: [], True),
    ("GET", "sapi/v1/margin/isolated/allPairs"): (lambda self, params, account: [], True),
}
"""(HTTP method, path) -> (handler(fake, params, account), signed)."""
FakeBinance.routes = ROUTES  # (a subclass serving more endpoints extends it: tests/fakes/binance_futures.py)
