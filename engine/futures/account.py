"""The futures side of one matching-engine account: leverage settings, positions, margin
reservations, the settlement of perpetual fills, liquidation levels, funding.

`MatchingEngine` makes one (`engine.futures`) and calls it at four places only:

- placing an order on a `swap` market: `reservation(order, reference, rate)` is what it
  reserves of the settle currency: the initial margin of the part that opens or extends a
  position (`amount beyond the opposite position * reference price / leverage`) plus the
  fee at `rate`; a `reduceOnly` order reserves its fee only, and is refused
  (`ReduceOnlyRejected`) unless it reduces the owner's position (same owner and symbol,
  opposite side, amount at most its size);
- a fill on a swap market: `settle(trade, market, order)` (the futures twin of the
  engine's spot `_settle`): the closing part realizes `side * closed * (price - entry)`
  and releases that share of the margin, the opening part holds `opened * price /
  leverage` more, the fee is paid, all through `Ledger.rebalance` (all or nothing; a fill
  that can not be paid is cancelled with a reason, as on spot);
- levels: `levels(symbol)` gives the highest liquidation price of the longs and the lowest
  of the shorts, which the engine adds to its stop levels (`MatchingEngine.levels`), so a
  backtest that skips bars visits the bar that liquidates;
- price points: `due(symbol, timestamp)` says whether a funding time has passed, and
  `fund(...)` pays it (`engine.futures.funding`).

Liquidation (`engine.futures.margin` for the price): when the last price (the simulated
exchange's mark price) reaches a position's liquidation price, the engine cancels the
owner's open orders on that symbol and closes the position with a reduce-only market
order (`clientOrderId` `liquidation-<id>`) at the liquidation price on a continuous point
that moved through it, else at the point's price; the position's whole isolated margin is
lost (the P&L at that price and the fee, the rest to the insurance fund, as on Binance:
`forfeited`; negative when a gap went beyond the bankruptcy price and the fund covered it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidMarginSettings, ReduceOnlyRejected
from ..ledger import Ledger
from ..markets import Market
from ..orders import Order, Trade
from .funding import DEFAULT_FUNDING_INTERVAL_HOURS, DEFAULT_FUNDING_RATE, next_funding_time
from .positions import MARGIN_MODES, FuturesPosition

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFAULT_LEVERAGE", "DEFAULT_MAINTENANCE_MARGIN_RATE", "DEFAULT_MAX_LEVERAGE", "LIQUIDATION_PREFIX",
           "Futures", "funding_interval_ms", "funding_rate", "maintenance_rate", "max_leverage"]

DEFAULT_LEVERAGE = 1.0
"""Leverage of an owner's positions on a symbol until `set_leverage` (1x: margin = notional)."""
DEFAULT_MAX_LEVERAGE = 125.0
DEFAULT_MAINTENANCE_MARGIN_RATE = 0.005
LIQUIDATION_PREFIX = "liquidation-"
INF = float("inf")


def max_leverage(market: Market) -> float:
    """`info.maxLeverage` (default 125, Binance's BTCUSDT first tier)."""
    return float(market.info.get("maxLeverage", DEFAULT_MAX_LEVERAGE))


def maintenance_rate(market: Market) -> float:
    """`info.maintenanceMarginRate` (a fraction; default 0.005)."""
    return float(market.info.get("maintenanceMarginRate", DEFAULT_MAINTENANCE_MARGIN_RATE))


def funding_rate(market: Market) -> float:
    """`info.fundingRate` (a fraction per interval; default 0.0001)."""
    return float(market.info.get("fundingRate", DEFAULT_FUNDING_RATE))


def funding_interval_ms(market: Market) -> int:
    """`info.fundingIntervalHours` (default 8) in ms."""
    return int(float(market.info.get("fundingIntervalHours", DEFAULT_FUNDING_INTERVAL_HOURS)) * 3_600_000)


class Futures:
    """Perpetual positions of one account (by `(owner, symbol)`; owner None for orders without one)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.positions: dict[tuple[str | None, str], FuturesPosition] = {}
        self.leverage: dict[tuple[str | None, str], float] = {}
        self._next_funding: dict[str, int] = {}

    # -- settings ----------------------------------------------------------------------------

    def set_leverage(self, owner: str | None, market: Market, leverage: float) -> float:
        """Leverage of `owner`'s positions on `market` from now on (what new opening fills hold
        as margin; an open position keeps the margin it holds). `InvalidMarginSettings` outside
        `[1, max_leverage(market)]`."""
        top = max_leverage(market)
        try:
            value = float(leverage)
        except (TypeError, ValueError):
            value = float("nan")
        if isinstance(leverage, bool) or not 1.0 <= value <= top:
            raise InvalidMarginSettings(f"leverage must be a number from 1 to {top:g} on {market.symbol}, "
                                        f"not {leverage!r}", symbol=market.symbol, leverage=leverage, maxLeverage=top)
        self.leverage[(owner, market.symbol)] = value
        position = self.positions.get((owner, market.symbol))
        if position is not None:
            position.leverage = value
        return value

    def set_margin_mode(self, owner: str | None, market: Market, mode: str) -> str:
        """Only `isolated` is simulated: anything else is `InvalidMarginSettings`."""
        if mode not in MARGIN_MODES:
            raise InvalidMarginSettings(f"margin mode {mode!r} is not simulated (only {', '.join(MARGIN_MODES)})",
                                        symbol=market.symbol, marginMode=mode)
        return mode

    def leverage_of(self, owner: str | None, symbol: str) -> float:
        return self.leverage.get((owner, symbol), DEFAULT_LEVERAGE)

    # -- positions ---------------------------------------------------------------------------

    def position(self, owner: str | None, symbol: str) -> FuturesPosition | None:
        return self.positions.get((owner, symbol))

    def open_positions(self, symbol: str) -> Iterator[FuturesPosition]:
        return (p for (_, s), p in self.positions.items() if s == symbol and p.contracts)

    def contracts(self, owner: str | None, symbol: str) -> float:
        position = self.positions.get((owner, symbol))
        return position.contracts if position is not None else 0.0

    # -- orders and fills ----------------------------------------------------------------------

    def reservation(self, order: Order, reference: float, rate: float) -> float:
        """What `order` reserves of the settle currency at `reference` (its limit, trigger or
        the current ask/bid; NaN before any price: nothing). `ReduceOnlyRejected`."""
        held = self.contracts(order.owner, order.symbol)
        buy = order.side == "buy"
        opposite = -held if buy else held
        opposite = opposite if opposite > 0.0 else 0.0
        if order.reduce_only:
            if order.amount > opposite:
                raise ReduceOnlyRejected(
                    f"reduceOnly {order.side} of {order.amount!r} on {order.symbol}: the position to reduce is "
                    f"{held!r} contracts", symbol=order.symbol, side=order.side, amount=order.amount, contracts=held)
            opening = 0.0
        else:
            opening = order.amount - opposite if order.amount > opposite else 0.0
        if reference != reference:
            return 0.0
        leverage = self.leverage_of(order.owner, order.symbol)
        return opening * reference / leverage + order.amount * reference * rate

    def settle(self, trade: Trade, market: Market, order: Order | None) -> str | None:
        """Settle a fill of a perpetual (module docstring); None when done, else why it can not
        be (nothing changed)."""
        key = (trade.owner, market.symbol)
        position = self.positions.get(key)
        settle = market.settle or market.quote
        if position is None:
            position = FuturesPosition(trade.owner, market.symbol, settle, self.leverage_of(*key),
                                       maintenance_rate(market))
        buy = trade.side == "buy"
        held = position.contracts
        size = abs(held)
        amount, price, fee = trade.amount, trade.price, trade.fee_cost
        closing = (amount if amount < size else size) if (held < 0.0 if buy else held > 0.0) else 0.0
        if order is not None and order.reduce_only and (not closing or amount > size):
            return f"reduceOnly: the position ({held!r} contracts) is smaller than the order"
        opening = market.amount_precision.round(amount - closing) if closing else amount
        if not held:
            position.leverage = self.leverage_of(*key)
        pnl = closing * (price - position.entry_price) * (1.0 if held > 0.0 else -1.0) if closing else 0.0
        released = position.margin if closing == size else position.margin * (closing / size) if closing else 0.0
        margin = position.margin - released + (opening * price / position.leverage if opening else 0.0)
        liquidation = trade.client_order_id.startswith(LIQUIDATION_PREFIX)
        change = -released if liquidation else pnl - fee
        if not self.ledger.rebalance(settle, change, order.id if order is not None else None,
                                     {position.key: margin if margin > 0.0 else 0.0}):
            return f"insufficient {settle} margin at the fill price {price!r}"
        if liquidation:
            position.forfeited += released + pnl - fee
        position.realized_pnl += pnl
        position.fees += fee
        position.margin = margin if margin > 0.0 else 0.0
        if closing == size:
            position.contracts = (opening if buy else -opening) if opening else 0.0
            position.entry_price = price if opening else 0.0
        elif closing:
            left = market.amount_precision.round(size - closing)
            position.contracts = left if held > 0.0 else -left
        else:
            total = size + opening
            position.entry_price = (size * position.entry_price + opening * price) / total
            position.contracts = total if buy else -total
        position.timestamp = trade.timestamp
        self.positions[key] = position
        return None

    # -- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """`{positions: [FuturesPosition.to_dict()], leverage: [[owner, symbol, x]], nextFunding: {symbol: ms}}`."""
        return {"positions": [position.to_dict() for position in self.positions.values()],
                "leverage": [[owner, symbol, value] for (owner, symbol), value in self.leverage.items()],
                "nextFunding": dict(self._next_funding)}

    def adopt(self, state: Mapping[str, Any]) -> None:
        """Take in `to_dict()`'s state: positions hold their margins again (`InsufficientBalance`
        if they no longer fit), settings and the funding schedule come back."""
        for owner, symbol, value in state["leverage"]:
            self.leverage[(owner, symbol)] = value
        for record in state["positions"]:
            position = FuturesPosition.from_dict(record)
            self.positions[(position.owner, position.symbol)] = position
            if position.margin > 0.0:
                self.ledger.reserve(position.key, position.settle, position.margin)
        self._next_funding.update(state["nextFunding"])

    def apply_funding(self, record: Mapping[str, Any], market: Market) -> None:
        """Apply a journaled funding payment (`fund`'s record) again (rebuilding from a journal)."""
        position = self.positions[(record["owner"], market.symbol)]
        margin = position.margin + record["amount"]
        if not self.ledger.rebalance(market.settle or market.quote, record["amount"], None, {position.key: margin}):
            raise ValueError(f"the journal's funding of {market.symbol} at {record['timestamp']} overdraws the account")
        position.margin, position.funding = margin, position.funding + record["amount"]
        self._next_funding[market.symbol] = record["timestamp"] + funding_interval_ms(market)

    # -- liquidation -------------------------------------------------------------------------

    def levels(self, symbol: str) -> tuple[float, float]:
        """`(below, above)`: the highest liquidation price of the longs on `symbol` (-inf if
        none) and the lowest of the shorts (inf if none)."""
        below, above = -INF, INF
        for position in self.open_positions(symbol):
            level = position.liquidation_price()
            if position.contracts > 0.0:
                below = level if level > below and level > 0.0 else below
            elif level < above:
                above = level
        return below, above

    def reached(self, symbol: str, last: float) -> list[FuturesPosition]:
        """The positions on `symbol` that `last` liquidates."""
        found = []
        for position in self.open_positions(symbol):
            level = position.liquidation_price()
            if (last <= level) if position.contracts > 0.0 else (last >= level):
                found.append(position)
        return found

    # -- funding -----------------------------------------------------------------------------

    def due(self, market: Market, timestamp: int) -> bool:
        """Whether a funding time of `market` has passed since its last point (the first point
        only starts the schedule)."""
        upcoming = self._next_funding.get(market.symbol)
        if upcoming is None:
            self._next_funding[market.symbol] = next_funding_time(timestamp, funding_interval_ms(market))
            return False
        return timestamp >= upcoming

    def fund(self, market: Market, timestamp: int, mark: float,
             journal: Callable[[dict[str, object]], None] | None) -> None:
        """Pay the funding times of `market` passed by `timestamp`, at `mark`: each position
        pays `contracts * mark * rate` from its margin (receives when negative), at most the
        margin it holds (then the liquidation check closes it)."""
        interval, rate = funding_interval_ms(market), funding_rate(market)
        upcoming = self._next_funding[market.symbol]
        settle = market.settle or market.quote
        while upcoming <= timestamp:
            for position in list(self.open_positions(market.symbol)):
                payment = position.contracts * mark * rate
                if payment > position.margin:
                    payment = position.margin
                margin = position.margin - payment
                if not self.ledger.rebalance(settle, -payment, None, {position.key: margin}):
                    continue  # (a payment out of the margin always fits; a receipt always does)
                position.margin, position.funding = margin, position.funding - payment
                if journal is not None:
                    journal({"event": "funding", "symbol": market.symbol, "owner": position.owner,
                             "timestamp": upcoming, "rate": rate, "markPrice": mark, "amount": -payment})
            upcoming += interval
        self._next_funding[market.symbol] = upcoming
