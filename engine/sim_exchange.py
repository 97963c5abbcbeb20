"""`SimExchange`: the matching engine behind ccxt's unified, async exchange API.

Paper accounts use it: `sim` accounts with the built-in markets (`sim_catalog()`), and paper
accounts on a real exchange id with that exchange's markets and fees
(`MarketCatalog.from_ccxt(exchange.markets, exchange.id, exchange.precisionMode, ...)`).
Code written against a ccxt exchange runs against it unchanged: the same method names and
signatures, the same return structures (orders, trades, balances, tickers, markets, OHLCV
lists) and errors that are ccxt's error classes too (`engine.errors`).

Differences a caller should know:

- a market order fills at the next price point (the matching engine's rule 1), so
  `create_order(..., "market", ...)` answers with an `open` order that the next
  `on_price` fills; a limit through the market fills at once;
- orders fill whole (no partial fills);
- `params` takes ccxt's unified keys (`clientOrderId`, `triggerPrice`/`stopPrice`,
  `stopLossPrice`, `takeProfitPrice`, `triggerDirection`, `cost`, `timeInForce`,
  `postOnly`, `reduceOnly`) and three of the engine's own: `owner` (the trader an order
  belongs to), `amountStep` (whole units) and `slippageBps`; other keys are ignored.

Perpetuals (`BTC/USDT:USDT`, `engine.futures`): `set_leverage`, `set_margin_mode`
(isolated only), `fetch_positions`/`fetch_position` in ccxt's position structure, the
mark price being the last price; `params["owner"]` picks a trader's positions and
settings (default: the orders without owner).

`place` and `cancel` are `create_order` and `cancel_order` without the await and the
ccxt dicts (the same arguments and rules), for synchronous callers such as the backtest loop.

Prices arrive through `on_price(symbol, timestamp, bid, ask, last)`, called by the feed
(live tickers for paper accounts on real exchanges, the replay for `sim`). Nothing here
awaits between a balance check and its reservation, so concurrent calls never overdraw.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .candles import Candles
from .clock import Clock, SystemClock
from .errors import ExchangeNotAvailable, InvalidOrder, OrderNotFound
from .futures import FuturesPosition
from .futures.account import maintenance_rate
from .markets import Market, MarketCatalog
from .matching import Journal, MatchingEngine
from .orders import Order, iso8601
from .precision import TICK_SIZE
from .sim_markets import sim_catalog

__all__ = ["CandleSource", "SimExchange"]

CandleSource = Callable[[str, str, int | None, int | None], Candles | Awaitable[Candles]]
"""`source(symbol, timeframe, since, limit)` -> `Candles` (or an awaitable of them)."""


_PLAIN = frozenset({"clientOrderId", "owner"})
_DIRECTIONS = {"above": True, "up": True, "ascending": True, "below": False, "down": False, "descending": False}


def _since_limit(rows: list[dict[str, Any]], since: int | None, limit: int | None) -> list[dict[str, Any]]:
    """ccxt's `filter_by_since_limit` on rows sorted by time: from `since` the first `limit`,
    without `since` the last `limit`."""
    if since is not None:
        rows = [row for row in rows if row["timestamp"] is not None and row["timestamp"] >= since]
    if limit is not None:
        rows = rows[:limit] if since is not None else rows[-limit:] if limit else []
    return rows


class SimExchange:
    """A simulated exchange account in ccxt's unified shape.

    `SimExchange(markets=None, clock=None, *, id="sim", balances=None, journal=None,
    candles=None, engine=None, maker=None, taker=None, slippage_bps=0.0, amount_step=0.0)`:
    `markets` defaults to `sim_catalog()`, `clock` to the system clock; `balances` are the
    starting totals (`{"USDT": 10000}`); `journal` receives every change (`engine.journal`);
    `candles` serves `fetch_ohlcv`; `engine` is an existing `MatchingEngine` (restored from
    a snapshot or a journal) instead of a new one, the other engine options then unused.
    """

    precisionMode = TICK_SIZE

    def __init__(self, markets: MarketCatalog | None = None, clock: Clock | None = None, *, id: str = "sim",
                 balances: Mapping[str, float] | None = None, journal: Journal | None = None,
                 candles: CandleSource | None = None, engine: MatchingEngine | None = None,
                 maker: float | None = None, taker: float | None = None, slippage_bps: float = 0.0,
                 amount_step: float = 0.0) -> None:
        if engine is None:
            engine = MatchingEngine(markets if markets is not None else sim_catalog(), clock or SystemClock(), balances,
                                    journal=journal, maker=maker, taker=taker, slippage_bps=slippage_bps,
                                    amount_step=amount_step)
        self.engine = engine
        self.id = id
        self.name = "Simulated exchange" if id == "sim" else f"{id} (paper)"
        self.candles = candles
        self.has: dict[str, bool] = {
            "spot": True, "swap": True, "future": False, "option": False, "margin": False,
            "loadMarkets": True, "fetchMarkets": True, "fetchTicker": True, "fetchTickers": True, "fetchBalance": True,
            "createOrder": True, "createMarketOrder": True, "createLimitOrder": True,
            "createMarketBuyOrderWithCost": True, "createStopOrder": True, "createStopLossOrder": True,
            "createTakeProfitOrder": True, "createTriggerOrder": True, "createStopMarketOrder": True,
            "createStopLimitOrder": True, "createPostOnlyOrder": True, "cancelOrder": True, "cancelAllOrders": True,
            "fetchOrder": True, "fetchOrders": True, "fetchOpenOrders": True, "fetchClosedOrders": True,
            "fetchCanceledOrders": True, "fetchCanceledAndClosedOrders": True, "fetchMyTrades": True,
            "fetchOHLCV": candles is not None, "fetchTime": True, "watchTicker": False, "fetchPositions": True,
            "fetchPosition": True, "setLeverage": True, "setMarginMode": True, "sandbox": False,
        }

    # -- time and markets -------------------------------------------------------------------

    def milliseconds(self) -> int:
        """The market clock, ms."""
        return self.engine.clock.now_ms()

    async def fetch_time(self, params: Mapping[str, Any] | None = None) -> int:
        return self.milliseconds()

    @property
    def markets(self) -> dict[str, dict[str, Any]]:
        """ccxt's `exchange.markets`: market structures by symbol."""
        return self.engine.markets.to_ccxt()

    @property
    def symbols(self) -> list[str]:
        return self.engine.markets.symbols

    def market(self, symbol: str) -> dict[str, Any]:
        """One market structure, by unified symbol or exchange id (`InvalidSymbol`)."""
        return self.engine.markets.market(symbol).to_ccxt()

    async def load_markets(self, reload: bool = False, params: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        return self.markets

    async def fetch_markets(self, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.markets.values())

    # -- prices -----------------------------------------------------------------------------

    def on_price(self, symbol: str, timestamp: int, bid: float | None, ask: float | None, last: float | None,
                 continuous: bool = False) -> int:
        """A new price point from the feed (market time `timestamp`, ms): fills what it reaches
        (see `engine.matching`); returns the number of fills. A missing bid or ask is the last
        price, a missing last the mid price. `InvalidSymbol` for an unknown symbol, `ValueError`
        for prices that are not positive numbers."""
        market = self.engine.markets.market(symbol)
        if last is None and bid is not None and ask is not None:
            last = (bid + ask) / 2
        bid = last if bid is None else bid
        ask = last if ask is None else ask
        for name, value in (("bid", bid), ("ask", ask), ("last", last)):
            if value is None or not 0.0 < float(value) < float("inf"):
                raise ValueError(f"{name} of {market.symbol} must be a positive number, not {value!r}")
        assert bid is not None and ask is not None and last is not None
        return self.engine.on_price(market.symbol, int(timestamp), float(bid), float(ask), float(last), continuous)

    async def fetch_ticker(self, symbol: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """ccxt's ticker structure from the last price point (prices `None` before the first)."""
        market = self.engine.markets.market(symbol)
        timestamp, bid, ask, last = self.engine.last_point(market.symbol)
        return self._ticker(market.symbol, timestamp, bid, ask, last)

    async def fetch_tickers(self, symbols: list[str] | None = None,
                            params: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Tickers of `symbols` (default: every symbol that has had a price point)."""
        points = self.engine.points()
        wanted = points if symbols is None else [self.engine.markets.market(s).symbol for s in symbols]
        return {symbol: self._ticker(symbol, *points[symbol]) if symbol in points else self._ticker(
            symbol, None, float("nan"), float("nan"), float("nan")) for symbol in wanted}

    @staticmethod
    def _ticker(symbol: str, timestamp: int | None, bid: float, ask: float, last: float) -> dict[str, Any]:
        def number(value: float) -> float | None:
            return None if value != value else value

        return {
            "symbol": symbol, "timestamp": timestamp, "datetime": iso8601(timestamp) if timestamp is not None else None,
            "high": None, "low": None, "bid": number(bid), "bidVolume": None, "ask": number(ask), "askVolume": None,
            "vwap": None, "open": None, "close": number(last), "last": number(last), "previousClose": None,
            "change": None, "percentage": None, "average": None, "baseVolume": None, "quoteVolume": None,
            "markPrice": None, "indexPrice": None, "info": {},
        }

    async def fetch_ohlcv(self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None,
                          params: Mapping[str, Any] | None = None) -> list[list[float]]:
        """`[[timestamp, open, high, low, close, volume], ...]` from the candle source
        (`ExchangeNotAvailable` without one); from `since` the first `limit`, else the last."""
        market = self.engine.markets.market(symbol)
        if self.candles is None:
            raise ExchangeNotAvailable(f"{self.id} has no candle source", exchange=self.id)
        result = self.candles(market.symbol, timeframe, since, limit)
        candles = await result if inspect.isawaitable(result) else result
        assert isinstance(candles, Candles)
        if since is not None:
            candles = candles.slice(since, 2**62)
        rows = candles.to_ohlcv()
        if limit is not None:
            rows = rows[:limit] if since is not None else rows[-limit:] if limit else []
        return rows

    # -- balance ----------------------------------------------------------------------------

    async def fetch_balance(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """ccxt's balance structure: `free`, `used`, `total` by currency, and per currency."""
        timestamp = self.milliseconds()
        balance: dict[str, Any] = {"info": {}, "timestamp": timestamp, "datetime": iso8601(timestamp),
                                   "free": {}, "used": {}, "total": {}}
        for currency, (free, used, total) in self.engine.balance().items():
            balance[currency] = {"free": free, "used": used, "total": total}
            balance["free"][currency], balance["used"][currency], balance["total"][currency] = free, used, total
        return balance

    # -- orders -----------------------------------------------------------------------------

    async def create_order(self, symbol: str, type: str, side: str, amount: float | None, price: float | None = None,
                           params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Place an order (ccxt's `create_order`); returns ccxt's order structure. Stops via
        `params` (`triggerPrice`/`stopPrice`, `stopLossPrice`, `takeProfitPrice`); sizing by
        quote via `params["cost"]` (then `amount` is ignored)."""
        return self.place(symbol, type, side, amount, price, params or {}).to_ccxt()

    def place(self, symbol: str, type: str, side: str, amount: float | None, price: float | None,
              params: Mapping[str, Any]) -> Order:
        """`create_order` without the await and the ccxt dict: the same arguments, the same
        rules and errors, the engine's `Order` back. The backtest loop places through it, so
        a backtest's orders take the paper pods' path."""
        get = params.get
        if params.keys() <= _PLAIN:  # no stop, cost or option: most orders
            return self.engine.place(symbol, side, type, amount, price, client_order_id=get("clientOrderId"),
                                     owner=get("owner"))
        stop_loss, take_profit = get("stopLossPrice"), get("takeProfitPrice")
        kind, trigger = "trigger", get("triggerPrice")
        if trigger is None:
            trigger = get("stopPrice")
        if stop_loss is not None and take_profit is not None:
            raise InvalidOrder("an order takes stopLossPrice or takeProfitPrice, not both", symbol=symbol)
        if stop_loss is not None:
            kind, trigger = "stopLoss", stop_loss
        elif take_profit is not None:
            kind, trigger = "takeProfit", take_profit
        direction = get("triggerDirection")
        if direction is not None and direction not in _DIRECTIONS:
            raise InvalidOrder(f"triggerDirection must be one of {sorted(_DIRECTIONS)}, not {direction!r}",
                               symbol=symbol)
        cost = get("cost")
        return self.engine.place(
            symbol, side, type, None if cost is not None else amount, price, cost=cost, trigger_price=trigger,
            trigger_kind=kind, trigger_above=None if direction is None else _DIRECTIONS[direction],
            client_order_id=get("clientOrderId"), owner=get("owner"), amount_step=get("amountStep"),
            time_in_force=get("timeInForce") or "GTC", post_only=bool(get("postOnly")),
            slippage_bps=get("slippageBps"), reduce_only=bool(get("reduceOnly")))

    async def create_market_order(self, symbol: str, side: str, amount: float, price: float | None = None,
                                  params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "market", side, amount, price, params)

    async def create_limit_order(self, symbol: str, side: str, amount: float, price: float,
                                 params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "limit", side, amount, price, params)

    async def create_market_buy_order(self, symbol: str, amount: float,
                                      params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "market", "buy", amount, None, params)

    async def create_market_sell_order(self, symbol: str, amount: float,
                                       params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "market", "sell", amount, None, params)

    async def create_limit_buy_order(self, symbol: str, amount: float, price: float,
                                     params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "limit", "buy", amount, price, params)

    async def create_limit_sell_order(self, symbol: str, amount: float, price: float,
                                      params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, "limit", "sell", amount, price, params)

    async def create_market_buy_order_with_cost(self, symbol: str, cost: float,
                                                params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A market buy spending `cost` quote, fee included (ccxt's `createMarketBuyOrderWithCost`)."""
        return await self.create_order(symbol, "market", "buy", None, None, {**(params or {}), "cost": cost})

    async def create_stop_loss_order(self, symbol: str, type: str, side: str, amount: float, price: float | None = None,
                                     stopLossPrice: float | None = None,
                                     params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, type, side, amount, price, {**(params or {}), "stopLossPrice": stopLossPrice})

    async def create_take_profit_order(self, symbol: str, type: str, side: str, amount: float, price: float | None = None,
                                       takeProfitPrice: float | None = None,
                                       params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, type, side, amount, price,
                                       {**(params or {}), "takeProfitPrice": takeProfitPrice})

    async def create_trigger_order(self, symbol: str, type: str, side: str, amount: float, price: float | None = None,
                                   triggerPrice: float | None = None,
                                   params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self.create_order(symbol, type, side, amount, price, {**(params or {}), "triggerPrice": triggerPrice})

    async def cancel_order(self, id: str, symbol: str | None = None,
                           params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Cancel an open order (`OrderNotFound`; `InvalidOrder` if it is no longer open)."""
        return self.cancel(id, symbol, params or {}).to_ccxt()

    def cancel(self, id: str | None, symbol: str | None, params: Mapping[str, Any]) -> Order:
        """`cancel_order` without the await and the ccxt dict (see `place`)."""
        return self.engine.cancel(self._find(id, symbol, params).id)

    async def cancel_all_orders(self, symbol: str | None = None,
                                params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Cancel every open order (of `symbol`); returns them."""
        resolved = None if symbol is None else self.engine.markets.market(symbol).symbol
        return [self.engine.cancel(order.id).to_ccxt() for order in self.engine.open_orders(resolved)]

    async def fetch_order(self, id: str, symbol: str | None = None,
                          params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One order by id (or by `params["clientOrderId"]`); `OrderNotFound`."""
        return self._find(id, symbol, params or {}).to_ccxt()

    def _find(self, id: str | None, symbol: str | None, params: Mapping[str, Any]) -> Order:
        client_order_id = params.get("clientOrderId")
        order = (self.engine.order_by_client_id(client_order_id) if client_order_id is not None and id is None
                 else self.engine.order(str(id)))
        if symbol is not None and order.symbol != self.engine.markets.market(symbol).symbol:
            raise OrderNotFound(f"no order {id!r} on {symbol}", id=id, symbol=symbol)
        return order

    def _orders(self, symbol: str | None, since: int | None, limit: int | None,
                statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        resolved = None if symbol is None else self.engine.markets.market(symbol).symbol
        source = self.engine.open_orders(resolved) if statuses == ("open",) else self.engine.orders.values()
        rows = [order.to_ccxt() for order in source
                if order.status in statuses and (resolved is None or order.symbol == resolved)]
        return _since_limit(rows, since, limit)

    async def fetch_orders(self, symbol: str | None = None, since: int | None = None, limit: int | None = None,
                           params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._orders(symbol, since, limit, ("open", "closed", "canceled"))

    async def fetch_open_orders(self, symbol: str | None = None, since: int | None = None, limit: int | None = None,
                                params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._orders(symbol, since, limit, ("open",))

    async def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None, limit: int | None = None,
                                  params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Filled orders (ccxt's `closed`; cancelled ones are `fetch_canceled_orders`)."""
        return self._orders(symbol, since, limit, ("closed",))

    async def fetch_canceled_orders(self, symbol: str | None = None, since: int | None = None,
                                    limit: int | None = None,
                                    params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._orders(symbol, since, limit, ("canceled",))

    async def fetch_canceled_and_closed_orders(self, symbol: str | None = None, since: int | None = None,
                                               limit: int | None = None,
                                               params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._orders(symbol, since, limit, ("closed", "canceled"))

    async def fetch_my_trades(self, symbol: str | None = None, since: int | None = None, limit: int | None = None,
                              params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The account's fills (of `symbol`), oldest first."""
        resolved = None if symbol is None else self.engine.markets.market(symbol).symbol
        rows = [trade.to_ccxt() for trade in self.engine.trades if resolved is None or trade.symbol == resolved]
        return _since_limit(rows, since, limit)

    # -- perpetuals ---------------------------------------------------------------------------

    async def set_leverage(self, leverage: float, symbol: str | None = None,
                           params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Leverage of the positions on `symbol` from now on (`InvalidMarginSettings` outside
        1 to the market's `maxLeverage`; `InvalidOrder` for a spot market)."""
        market = self._swap(symbol)
        value = self.engine.set_leverage((params or {}).get("owner"), market.symbol, leverage)
        return {"info": {}, "symbol": market.symbol, "leverage": value, "longLeverage": value, "shortLeverage": value,
                "marginMode": "isolated"}

    async def set_margin_mode(self, marginMode: str, symbol: str | None = None,
                              params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """`isolated` (the only mode simulated; `cross` is `InvalidMarginSettings`)."""
        market = self._swap(symbol)
        mode = self.engine.futures.set_margin_mode((params or {}).get("owner"), market, marginMode)
        return {"info": {}, "symbol": market.symbol, "marginMode": mode}

    async def fetch_positions(self, symbols: list[str] | None = None,
                              params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The open positions (of `symbols`), ccxt's position structure at the last price;
        `params["owner"]` a trader's (default: those of orders without owner)."""
        owner = (params or {}).get("owner")
        wanted = None if symbols is None else {self.engine.markets.market(symbol).symbol for symbol in symbols}
        return [self._position(position) for (who, symbol), position in self.engine.futures.positions.items()
                if who == owner and position.contracts and (wanted is None or symbol in wanted)]

    async def fetch_position(self, symbol: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The position on `symbol` (flat: `contracts` 0 and `side` None)."""
        market = self._swap(symbol)
        owner = (params or {}).get("owner")
        position = self.engine.futures.position(owner, market.symbol)
        if position is None:
            position = FuturesPosition(owner, market.symbol, market.settle or market.quote,
                                       self.engine.futures.leverage_of(owner, market.symbol), maintenance_rate(market))
        return self._position(position)

    def _position(self, position: FuturesPosition) -> dict[str, Any]:
        _, _, _, last = self.engine.last_point(position.symbol)
        return position.to_ccxt(None if last != last else last, self.milliseconds())

    def _swap(self, symbol: str | None) -> Market:
        if symbol is None:
            raise InvalidOrder("a symbol is required")
        market = self.engine.markets.market(symbol)
        if market.spot:
            raise InvalidOrder(f"{market.symbol} is a spot market, not a perpetual", symbol=market.symbol)
        return market

    async def close(self, clean_instance_data: bool = False) -> None:
        """Nothing to close (ccxt's async exchanges need it; so code calling it runs unchanged)."""
