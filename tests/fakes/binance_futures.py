"""A local server in Binance USDⓈ-M futures' wire format (`fapi`), beside the spot fake.

`FakeBinanceFutures` is `FakeBinance` (tests/fakes/binance.py: the same server, accounts,
HMAC-signed requests and tickers) that also answers what ccxt's `binance` class calls for
linear perpetuals, in the shapes of Binance's USDⓈ-M futures REST docs
(developers.binance.com/docs/derivatives/usds-margined-futures):

- `GET /fapi/v1/exchangeInfo`: `BTCUSDT` and `ETHUSDT` perpetuals (`contractType`
  PERPETUAL, `marginAsset` USDT; PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL);
- `GET /fapi/v1/leverageBracket` (one bracket: 125x, maintenance margin ratio 0.004);
- `POST /fapi/v1/leverage` (1 to 125, else -4028), `POST /fapi/v1/marginType` (`ISOLATED`
  or `CROSSED`; changing it with a position open is -4048);
- `POST /fapi/v1/order`: MARKET orders only (others -1013), filled at once at the mark
  price (the ticker's last, `set_price`), taker fee 0.05% from the wallet; `reduceOnly`
  orders that would not reduce the position are -2022 "ReduceOnly Order is rejected.";
  the margin an opening order needs beyond the available balance is -2019;
- `GET /fapi/v3/positionRisk` and `/fapi/v2/positionRisk` (v2 adds `leverage` and
  `marginType`): one-way positions with entry price, unrealized P&L at the mark price,
  isolated margin and Binance's isolated liquidation price;
- `GET /fapi/v2/account` and `/fapi/v3/account`: the USDT wallet, margin and available balance.

Each account starts with a futures wallet of 10000 USDT (`futures_wallets`), apart from its
spot balances. ccxt picks Binance's futures error codes by the request's host name
(`fapi.binance.com`), which a local server can not have: `client()` maps this server's
`/fapi/` URLs the same way, so -2022 arrives as `ccxt.InvalidOrder` as it does from Binance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.fakes.binance import ROUTES, Account, BinanceError, FakeBinance, Market, fmt

__all__ = ["FakeBinanceFutures", "Position"]

TAKER = Decimal("0.0005")
MMR = Decimal("0.004")
PERPETUALS = (Market("BTC", "USDT", tick_size="0.10", step_size="0.001", min_qty="0.001", min_notional="100"),
              Market("ETH", "USDT", tick_size="0.01", step_size="0.001", min_qty="0.001", min_notional="20"))


@dataclass
class Position:
    amount: Decimal = Decimal(0)
    entry: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)
    leverage: int = 20
    isolated: bool = False
    update_time: int = 0

    def liquidation_price(self) -> Decimal:
        """Binance's isolated-margin liquidation price (0 when flat or cross)."""
        size = abs(self.amount)
        if not size or not self.isolated:
            return Decimal(0)
        if self.amount > 0:
            return max((self.entry * size - self.margin) / (size * (1 - MMR)), Decimal(0))
        return (self.entry * size + self.margin) / (size * (1 + MMR))


def perpetual_info(market: Market) -> dict[str, Any]:
    return {
        "symbol": market.id, "pair": market.id, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": market.base, "quoteAsset": market.quote,
        "marginAsset": market.quote, "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0,
        "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": market.tick_size, "maxPrice": "4529764",
             "tickSize": market.tick_size},
            {"filterType": "LOT_SIZE", "minQty": market.min_qty, "maxQty": "1000", "stepSize": market.step_size},
            {"filterType": "MARKET_LOT_SIZE", "minQty": market.min_qty, "maxQty": "120", "stepSize": market.step_size},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": market.min_notional},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


class FakeBinanceFutures(FakeBinance):
    """The spot fake plus Binance USDⓈ-M futures (module docstring)."""

    routes: dict[tuple[str, str], tuple[Any, bool]]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.perpetuals = {market.id: market for market in PERPETUALS}
        for market in PERPETUALS:
            self.tickers.setdefault(market.id, self._ticker(Decimal(60000 if market.base == "BTC" else 3000)))
        self.futures_wallets: dict[int, Decimal] = {}
        self.positions: dict[tuple[int, str], Position] = {}

    def client(self, api_key: str | None = None, secret: str | None = None, *, pro: bool = False,
               **config: Any) -> Any:
        exchange = super().client(api_key, secret, pro=pro, **config)
        by_url = exchange.get_exceptions_by_url
        linear = exchange.exceptions["linear"]

        def exceptions(url: str | None, kind: str) -> Any:
            return linear.get(kind, {}) if url is not None and url.startswith(f"{self.url}/fapi/") else by_url(url, kind)

        exchange.get_exceptions_by_url = exceptions
        return exchange

    def wallet(self, account: Account) -> Decimal:
        return self.futures_wallets.setdefault(account.uid, Decimal(10000))

    def _perpetual(self, params: dict[str, str]) -> Market:
        market = self.perpetuals.get(params.get("symbol", ""))
        if market is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        return market

    def _position(self, account: Account, symbol: str) -> Position:
        return self.positions.setdefault((account.uid, symbol), Position())

    def _mark(self, symbol: str) -> Decimal:
        return self.tickers[symbol].last

    # -- endpoints ---------------------------------------------------------------------------

    def _futures_exchange_info(self, params: dict[str, str], _: Account | None) -> dict[str, Any]:
        return {"timezone": "UTC", "serverTime": self.clock.now_ms(), "futuresType": "U_MARGINED", "rateLimits": [],
                "exchangeFilters": [], "assets": [{"asset": "USDT", "marginAvailable": True}],
                "symbols": [perpetual_info(market) for market in self.perpetuals.values()]}

    def _leverage_brackets(self, params: dict[str, str], _: Account | None) -> list[dict[str, Any]]:
        return [{"symbol": symbol, "brackets": [{"bracket": 1, "initialLeverage": 125, "notionalCap": 50000,
                                                 "notionalFloor": 0, "maintMarginRatio": float(MMR), "cum": 0.0}]}
                for symbol in self.perpetuals]

    def _set_leverage(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        market = self._perpetual(params)
        leverage = int(params.get("leverage", "0"))
        if not 1 <= leverage <= 125:
            raise BinanceError(400, -4028, f"Leverage {leverage} is not valid")
        self._position(account, market.id).leverage = leverage
        return {"leverage": leverage, "maxNotionalValue": "50000", "symbol": market.id}

    def _set_margin_type(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        market = self._perpetual(params)
        kind = params.get("marginType", "")
        if kind not in ("ISOLATED", "CROSSED"):
            raise BinanceError(400, -1116, "Invalid marginType.")
        position = self._position(account, market.id)
        if position.amount:
            raise BinanceError(400, -4048, "Margin type cannot be changed if there exists position.")
        position.isolated = kind == "ISOLATED"
        return {"code": 200, "msg": "success"}

    def _futures_order(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        market = self._perpetual(params)
        if params.get("type") != "MARKET":
            raise BinanceError(400, -1013, "Only MARKET orders are simulated.")
        side = params.get("side")
        quantity = Decimal(params.get("quantity", "0"))
        if side not in ("BUY", "SELL") or quantity < Decimal(market.min_qty):
            raise BinanceError(400, -1013, "Invalid quantity or side.")
        position, price = self._position(account, market.id), self._mark(market.id)
        signed = quantity if side == "BUY" else -quantity
        closing = min(quantity, abs(position.amount)) if position.amount * signed < 0 else Decimal(0)
        if params.get("reduceOnly") == "true" and (closing < quantity):
            raise BinanceError(400, -2022, "ReduceOnly Order is rejected.")
        opening = quantity - closing
        wallet = self.wallet(account)
        fee = quantity * price * TAKER
        needed = opening * price / position.leverage + fee
        if needed > self._available(account) + (position.margin * closing / abs(position.amount) if closing else 0):
            raise BinanceError(400, -2019, "Margin is insufficient.")
        if closing:
            share = closing / abs(position.amount)
            pnl = closing * (price - position.entry) * (1 if position.amount > 0 else -1)
            released = position.margin * share
            position.margin -= released
            wallet += pnl
        if opening:
            size = abs(position.amount) - closing
            position.entry = (position.entry * size + price * opening) / (size + opening) if size else price
            position.margin += opening * price / position.leverage
        position.amount += signed
        if not position.amount:
            position.entry, position.margin = Decimal(0), Decimal(0)
        self.futures_wallets[account.uid] = wallet - fee
        now = self.clock.now_ms()
        position.update_time = now
        order_id = next(self._ids)
        return {"orderId": order_id, "symbol": market.id, "status": "FILLED",
                "clientOrderId": params.get("newClientOrderId", f"fake-{order_id}"), "price": "0.00",
                "avgPrice": fmt(price), "origQty": fmt(quantity), "executedQty": fmt(quantity),
                "cumQty": fmt(quantity), "cumQuote": fmt(quantity * price), "timeInForce": "GTC", "type": "MARKET",
                "reduceOnly": params.get("reduceOnly") == "true", "closePosition": False, "side": side,
                "positionSide": "BOTH", "stopPrice": "0.00", "workingType": "CONTRACT_PRICE", "priceProtect": False,
                "origType": "MARKET", "updateTime": now}

    def _available(self, account: Account) -> Decimal:
        margins = sum((p.margin for (uid, _), p in self.positions.items() if uid == account.uid), Decimal(0))
        return self.wallet(account) - margins

    def _position_risk(self, params: dict[str, str], account: Account | None, v2: bool = False) -> list[dict[str, Any]]:
        assert account is not None
        rows = []
        for (uid, symbol), position in self.positions.items():
            if uid != account.uid or ("symbol" in params and params["symbol"] != symbol):
                continue
            mark = self._mark(symbol)
            notional = position.amount * mark
            row = {"symbol": symbol, "positionSide": "BOTH", "positionAmt": fmt(position.amount),
                   "entryPrice": fmt(position.entry), "breakEvenPrice": fmt(position.entry), "markPrice": fmt(mark),
                   "unRealizedProfit": fmt(position.amount * (mark - position.entry)),
                   "liquidationPrice": fmt(position.liquidation_price()),
                   "isolatedMargin": fmt(position.margin if position.isolated else 0), "notional": fmt(notional),
                   "marginAsset": "USDT", "isolatedWallet": fmt(position.margin if position.isolated else 0),
                   "initialMargin": fmt(position.margin), "maintMargin": fmt(abs(notional) * MMR),
                   "positionInitialMargin": fmt(position.margin), "openOrderInitialMargin": "0", "adl": 0,
                   "bidNotional": "0", "askNotional": "0", "updateTime": position.update_time}
            if v2:
                row.update(leverage=str(position.leverage), marginType="isolated" if position.isolated else "cross",
                           isAutoAddMargin="false", maxNotionalValue="50000")
            rows.append(row)
        return rows

    def _futures_account(self, params: dict[str, str], account: Account | None) -> dict[str, Any]:
        assert account is not None
        wallet, available = self.wallet(account), self._available(account)
        unrealized = sum((p.amount * (self._mark(symbol) - p.entry) for (uid, symbol), p in self.positions.items()
                          if uid == account.uid), Decimal(0))
        asset = {"asset": "USDT", "walletBalance": fmt(wallet), "unrealizedProfit": fmt(unrealized),
                 "marginBalance": fmt(wallet + unrealized), "maintMargin": "0", "initialMargin": fmt(wallet - available),
                 "positionInitialMargin": fmt(wallet - available), "openOrderInitialMargin": "0",
                 "crossWalletBalance": fmt(wallet), "crossUnPnl": "0", "availableBalance": fmt(available),
                 "maxWithdrawAmount": fmt(available), "updateTime": self.clock.now_ms()}
        return {"totalWalletBalance": fmt(wallet), "totalUnrealizedProfit": fmt(unrealized),
                "totalMarginBalance": fmt(wallet + unrealized), "availableBalance": fmt(available),
                "assets": [asset], "positions": []}


FakeBinanceFutures.routes = {
    **ROUTES,
    ("GET", "fapi/v1/exchangeInfo"): (FakeBinanceFutures._futures_exchange_info, False),
    ("GET", "fapi/v1/leverageBracket"): (FakeBinanceFutures._leverage_brackets, True),
    ("POST", "fapi/v1/leverage"): (FakeBinanceFutures._set_leverage, True),
    ("POST", "fapi/v1/marginType"): (FakeBinanceFutures._set_margin_type, True),
    ("POST", "fapi/v1/order"): (FakeBinanceFutures._futures_order, True),
    ("GET", "fapi/v3/positionRisk"): (FakeBinanceFutures._position_risk, True),
    ("GET", "fapi/v2/positionRisk"): (lambda self, params, account: self._position_risk(params, account, True), True),
    ("GET", "fapi/v2/account"): (FakeBinanceFutures._futures_account, True),
    ("GET", "fapi/v3/account"): (FakeBinanceFutures._futures_account, True),
}
