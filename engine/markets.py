"""Markets in ccxt's unified shape, and the catalogue of one exchange's markets.

A `Market` is built from a ccxt market dict (`Market.from_ccxt`) and gives one back
(`to_ccxt`); the engine reads its float fields (`maker`, `taker`, `min_amount`,
`min_cost`, ...) and rounds through `amount_to_precision` (ccxt TRUNCATE) and
`price_to_precision` (ccxt ROUND), which equal ccxt's own functions (`engine.precision`).

A `MarketCatalog` finds a market by its unified symbol (`BTC/USDT`, `BTC/USDT:USDT` for a
perpetual), by the exchange's id (`BTCUSDT`) where only one market has it, or by the same
letters written differently (`btc-usdt`) where that is unambiguous; anything else raises
`InvalidSymbol` with `details={"symbol": ..., "suggestions": [near symbols]}`.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .errors import InvalidSymbol
from .precision import TICK_SIZE, Precision

__all__ = ["Market", "MarketCatalog"]

FEE_SIDES = ("get", "give", "quote", "base")


def _number(value: Any, default: float) -> float:
    return default if value is None else float(value)


class Market:
    """One market of an exchange (ccxt's market structure, spot or swap).

    Fields (ccxt's names in snake case where they differ): `id`, `symbol`, `base`, `quote`,
    `settle` (None on spot), `type` (`"spot"` or `"swap"`), `active`, `amount_precision` and
    `price_precision` (`engine.precision.Precision`; ccxt's `precision.amount`/`price` read
    in the exchange's `precisionMode`), limits as floats with absent bounds open
    (`min_amount`, `min_price`, `min_cost` 0.0; `max_amount`, `max_price`, `max_cost` inf),
    fee rates `maker` and `taker` (fractions: 0.001 is 0.1%), `fee_side` (ccxt's `feeSide`:
    `get`, `give`, `quote` or `base`), `contract_size` (1.0 on spot) and `info` (the
    exchange's raw market).
    """

    __slots__ = (
        "active", "amount_precision", "base", "contract_size", "fee_side", "id", "info", "maker", "max_amount",
        "max_cost", "max_price", "min_amount", "min_cost", "min_price", "price_precision", "quote", "settle", "spot",
        "symbol", "taker", "type",
    )

    def __init__(
        self, symbol: str, base: str, quote: str, *, id: str | None = None, type: str = "spot", settle: str | None = None,
        active: bool = True, amount_precision: Precision, price_precision: Precision,
        min_amount: float = 0.0, max_amount: float = math.inf, min_price: float = 0.0, max_price: float = math.inf,
        min_cost: float = 0.0, max_cost: float = math.inf, maker: float = 0.001, taker: float = 0.001,
        fee_side: str = "quote", contract_size: float = 1.0, info: Mapping[str, Any] | None = None,
    ) -> None:
        if type not in ("spot", "swap"):
            raise ValueError(f"market type {type!r} is not supported (spot or swap)")
        if fee_side not in FEE_SIDES:
            raise ValueError(f"feeSide {fee_side!r} is not one of {FEE_SIDES}")
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.id = id if id is not None else symbol.split(":")[0].replace("/", "")
        self.type = type
        self.spot = type == "spot"
        self.settle = settle
        self.active = active
        self.amount_precision = amount_precision
        self.price_precision = price_precision
        self.min_amount = min_amount
        self.max_amount = max_amount
        self.min_price = min_price
        self.max_price = max_price
        self.min_cost = min_cost
        self.max_cost = max_cost
        self.maker = maker
        self.taker = taker
        self.fee_side = fee_side
        self.contract_size = contract_size
        self.info: dict[str, Any] = dict(info or {})

    def amount_to_precision(self, amount: float) -> float:
        """`amount` truncated to the amount precision, as ccxt's `amount_to_precision` (a float)."""
        return self.amount_precision.truncate(amount)

    def price_to_precision(self, price: float) -> float:
        """`price` rounded to the price precision, as ccxt's `price_to_precision` (a float)."""
        return self.price_precision.round(price)

    def fee_currency(self, side: str) -> str:
        """The currency a fee is charged in for `side` by ccxt's `feeSide` rules (`calculate_fee`)."""
        if self.fee_side == "get":
            use_quote = side == "sell"
        elif self.fee_side == "give":
            use_quote = side == "buy"
        else:
            use_quote = self.fee_side == "quote"
        if not self.spot:
            return self.settle or self.quote
        return self.quote if use_quote else self.base

    @classmethod
    def from_ccxt(cls, market: Mapping[str, Any], precision_mode: int = TICK_SIZE, fee_side: str = "quote") -> Market:
        """From a ccxt market dict; `precision_mode` is the exchange's `precisionMode`, `fee_side`
        its trading `feeSide`, used when the market has none (ccxt's default is `quote`)."""
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}

        def bound(kind: str, end: str, default: float) -> float:
            return _number((limits.get(kind) or {}).get(end), default)

        if precision.get("amount") is None or precision.get("price") is None:
            raise ValueError(f"market {market.get('symbol')!r} has no amount or price precision")
        return cls(
            market["symbol"], market["base"], market["quote"], id=market.get("id"), type=market.get("type") or "spot",
            settle=market.get("settle"), active=market.get("active") is not False,
            amount_precision=Precision(precision["amount"], precision_mode),
            price_precision=Precision(precision["price"], precision_mode),
            min_amount=bound("amount", "min", 0.0), max_amount=bound("amount", "max", math.inf),
            min_price=bound("price", "min", 0.0), max_price=bound("price", "max", math.inf),
            min_cost=bound("cost", "min", 0.0), max_cost=bound("cost", "max", math.inf),
            maker=_number(market.get("maker"), 0.0), taker=_number(market.get("taker"), 0.0),
            fee_side=market.get("feeSide") or fee_side, contract_size=_number(market.get("contractSize"), 1.0),
            info=market.get("info") or {},
        )

    def to_ccxt(self) -> dict[str, Any]:
        """ccxt's market structure (the keys of `Exchange.safe_market_structure`, plus `feeSide`)."""

        def finite(value: float, default: float) -> float | None:
            return None if value == default else value

        contract = not self.spot
        return {
            "id": self.id, "lowercaseId": None, "symbol": self.symbol, "base": self.base, "quote": self.quote,
            "settle": self.settle, "baseId": self.base, "quoteId": self.quote, "settleId": self.settle,
            "type": self.type, "spot": self.spot, "margin": False, "swap": self.type == "swap", "future": False,
            "option": False, "index": None, "active": self.active, "contract": contract,
            "linear": (self.settle == self.quote) if contract else None,
            "inverse": (self.settle == self.base) if contract else None, "subType": "linear" if contract else None,
            "taker": self.taker, "maker": self.maker, "contractSize": self.contract_size if contract else None,
            "expiry": None, "expiryDatetime": None, "strike": None, "optionType": None,
            "precision": {"amount": self.amount_precision.value, "price": self.price_precision.value, "cost": None,
                          "base": None, "quote": None},
            "limits": {
                "leverage": {"min": None, "max": None},
                "amount": {"min": finite(self.min_amount, 0.0), "max": finite(self.max_amount, math.inf)},
                "price": {"min": finite(self.min_price, 0.0), "max": finite(self.max_price, math.inf)},
                "cost": {"min": finite(self.min_cost, 0.0), "max": finite(self.max_cost, math.inf)},
            },
            "marginModes": {"cross": None, "isolated": None}, "created": None, "feeSide": self.fee_side,
            "percentage": True, "tierBased": False, "info": copy.deepcopy(self.info),
        }

    def __repr__(self) -> str:
        return f"Market({self.symbol!r}, {self.type})"


def _letters(symbol: str) -> str:
    """The symbol without separators or case: `btc-usdt`, `BTC_USDT` and `BTC/USDT` all give `BTCUSDT`."""
    return re.sub(r"[^A-Z0-9]", "", symbol.upper())


class MarketCatalog:
    """The markets of one exchange, by unified symbol, with id and spelling lookups.

    `MarketCatalog(markets, exchange_id="sim")`; `add(market)` lists one more (or replaces
    the market of the same symbol); `market(symbol)` finds one or raises `InvalidSymbol`.
    """

    def __init__(self, markets: Iterable[Market] = (), exchange_id: str = "sim") -> None:
        self.exchange_id = exchange_id
        self._by_symbol: dict[str, Market] = {}
        self._by_id: dict[str, list[Market]] = {}
        self._by_letters: dict[str, list[Market]] = {}
        for market in markets:
            self.add(market)

    @classmethod
    def from_ccxt(
        cls, markets: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]], exchange_id: str,
        precision_mode: int = TICK_SIZE, fee_side: str = "quote",
    ) -> MarketCatalog:
        """From ccxt markets (`exchange.markets`, a dict by symbol, or `fetch_markets`' list).

        Markets without amount or price precision, and types the engine does not model
        (futures with expiry, options), are left out.
        """
        rows = markets.values() if isinstance(markets, Mapping) else markets
        return cls((Market.from_ccxt(row, precision_mode, fee_side) for row in rows
                    if row.get("type") in ("spot", "swap")
                    and (row.get("precision") or {}).get("amount") is not None
                    and (row.get("precision") or {}).get("price") is not None), exchange_id)

    @classmethod
    def from_exchange(cls, exchange: Any) -> MarketCatalog:
        """From a ccxt exchange whose markets are loaded (`load_markets`, or `markets` kept in
        storage and given back with `set_markets`): its id, `precisionMode` and trading
        `feeSide` (what a paper account on that exchange needs)."""
        if not exchange.markets:
            raise ValueError(f"{exchange.id} has no markets loaded")
        trading = (exchange.fees or {}).get("trading") or {}
        return cls.from_ccxt(exchange.markets, exchange.id, exchange.precisionMode, trading.get("feeSide") or "quote")

    def add(self, market: Market) -> Market:
        """List `market` (replacing any market of the same symbol); returns it."""
        old = self._by_symbol.get(market.symbol)
        if old is not None:
            self._by_id[old.id].remove(old)
            self._by_letters[_letters(old.symbol)].remove(old)
        self._by_symbol[market.symbol] = market
        self._by_id.setdefault(market.id, []).append(market)
        self._by_letters.setdefault(_letters(market.symbol), []).append(market)
        return market

    def market(self, symbol: str) -> Market:
        """The market of a unified symbol, or of an exchange id or spelling that names one market only.

        Raises `InvalidSymbol` (`details`: `symbol`, `exchange`, `suggestions`, up to five
        listed symbols near the one asked for).
        """
        found = self._by_symbol.get(symbol)
        if found is not None:
            return found
        if isinstance(symbol, str):
            by_id = self._by_id.get(symbol)
            candidates = by_id if by_id else self._by_letters.get(_letters(symbol))
            if candidates and len(candidates) == 1:
                return candidates[0]
        raise InvalidSymbol(f"{self.exchange_id} lists no market {symbol!r}", symbol=symbol,
                            exchange=self.exchange_id, suggestions=self.suggestions(str(symbol)))

    def suggestions(self, symbol: str, limit: int = 5) -> list[str]:
        """Listed symbols near `symbol`: those its letters or id name, then the closest spellings."""
        letters = _letters(symbol)
        named = [m.symbol for m in (self._by_id.get(symbol) or []) + (self._by_letters.get(letters) or [])]
        by_letters = {_letters(s): s for s in self._by_symbol}
        close = difflib.get_close_matches(letters, list(by_letters), n=limit, cutoff=0.6)
        base = letters[:3]
        same_base = [s for s in self._by_symbol if _letters(s).startswith(base)] if len(base) == 3 else []
        ordered = dict.fromkeys([*named, *(by_letters[c] for c in close), *same_base])
        return list(ordered)[:limit]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._by_symbol

    def __iter__(self) -> Iterator[Market]:
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)

    @property
    def symbols(self) -> list[str]:
        """The unified symbols, sorted."""
        return sorted(self._by_symbol)

    def to_ccxt(self) -> dict[str, dict[str, Any]]:
        """ccxt's `exchange.markets`: market structures by symbol, sorted by symbol."""
        return {symbol: self._by_symbol[symbol].to_ccxt() for symbol in self.symbols}
