"""A finished run's fills, orders, trades and equity, as columns (numpy arrays).

Built once from the matching engine's `trades` and `orders` after the loop, with no
Python objects per bar; each has a `to_wire()` giving JSON-ready records (ccxt's names
for fills and orders) for the services to page through.

Closed trades follow backtesting.py's bookkeeping: every buy fill opens a trade (a lot),
every sell closes lots first in, first out, splitting one it closes in part; a trade's
`commissions` are its shares of the fees of both legs, valued in quote. On a perpetual
(`signed`) a sell beyond the long lots opens short lots (negative sizes, as backtesting.py's
short trades) that buys close the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from itertools import chain
from typing import Any

import numpy as np

from ..candles import Candles
from ..metrics import Trades
from ..metrics.wire import to_wire
from ..orders import Order, Trade

__all__ = ["Fills", "Lots", "Orders", "closed_trades", "equity_curve"]


@dataclass(frozen=True)
class Fills:
    """Fills in order, shape (k,): `timestamp` (ms, of the price point), `bar` (index of the
    bar it happened in: its price point, or the close it was decided at), `bar_time` (that
    bar's open, ms), `order_id`, `buy` (side), `taker`, `price`, `amount` (base), `cost`
    (quote), `fee` and `fee_in_quote` (else the fee is in base)."""

    timestamp: np.ndarray
    bar: np.ndarray
    bar_time: np.ndarray
    order_id: list[str]
    buy: np.ndarray
    taker: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    cost: np.ndarray
    fee: np.ndarray
    fee_in_quote: np.ndarray

    @classmethod
    def of(cls, trades: list[Trade], bars: np.ndarray, candles: Candles, quote: str) -> Fills:
        """From the engine's trades and the bar each happened in."""
        bars = np.asarray(bars, np.int64)
        return cls(np.array([trade.timestamp for trade in trades], np.int64), bars, candles.timestamp[bars],
                   [trade.order_id for trade in trades], np.array([trade.side == "buy" for trade in trades], bool),
                   np.array([trade.taker for trade in trades], bool),
                   np.array([trade.price for trade in trades], np.float64),
                   np.array([trade.amount for trade in trades], np.float64),
                   np.array([trade.cost for trade in trades], np.float64),
                   np.array([trade.fee_cost for trade in trades], np.float64),
                   np.array([trade.fee_currency == quote for trade in trades], bool))

    def __len__(self) -> int:
        return len(self.price)

    @property
    def fee_value(self) -> np.ndarray:
        """Each fee in quote (a fee in base valued at its fill price)."""
        return np.where(self.fee_in_quote, self.fee, self.fee * self.price)

    def to_wire(self, base: str, quote: str) -> list[dict[str, Any]]:
        """ccxt-shaped trades: `{order, timestamp, bar, side, takerOrMaker, price, amount, cost, fee: {cost, currency}}`."""
        rows = zip(self.order_id, self.timestamp.tolist(), self.bar.tolist(), self.buy.tolist(), self.taker.tolist(),
                   to_wire(self.price), to_wire(self.amount), to_wire(self.cost), to_wire(self.fee),
                   self.fee_in_quote.tolist(), strict=True)
        return [{"order": order, "timestamp": timestamp, "bar": bar, "side": "buy" if buy else "sell",
                 "takerOrMaker": "taker" if taker else "maker", "price": price, "amount": amount, "cost": cost,
                 "fee": {"cost": fee, "currency": quote if in_quote else base}}
                for order, timestamp, bar, buy, taker, price, amount, cost, fee, in_quote in rows]


@dataclass(frozen=True)
class Orders:
    """Every order, in placement order, shape (m,): `id`, `tag`, `timestamp` (placed, ms),
    `side`, `type`, `status` (`open`, `closed`, `canceled`), `amount` (NaN while sized by
    cost and unfilled), `price` (limit, else NaN), `trigger_price` (NaN unless a stop),
    `budget` (the quote of an order sized by cost, else NaN), `filled`, `cost`, `fee`,
    `closed_time` (filled or cancelled, ms; -1 while open), `reason` (why the engine
    cancelled it)."""

    id: list[str]
    tag: list[str | None]
    timestamp: np.ndarray
    side: list[str]
    type: list[str]
    status: list[str]
    amount: np.ndarray
    price: np.ndarray
    trigger_price: np.ndarray
    budget: np.ndarray
    filled: np.ndarray
    cost: np.ndarray
    fee: np.ndarray
    closed_time: np.ndarray
    reason: list[str | None]

    @classmethod
    def of(cls, orders: list[Order], tags: dict[str, str]) -> Orders:
        ids, status = [order.id for order in orders], [order.status for order in orders]
        closed = np.array([order.last_update_timestamp for order in orders], np.int64)
        closed[np.array([state == "open" for state in status], bool)] = -1
        return cls(ids, [tags.get(order_id) for order_id in ids] if tags else [None] * len(ids),
                   np.array([order.timestamp for order in orders], np.int64), [order.side for order in orders],
                   [order.type for order in orders], status, np.array([order.amount for order in orders], np.float64),
                   np.array([order.price for order in orders], np.float64),
                   np.array([order.trigger_price for order in orders], np.float64),
                   np.array([order.budget for order in orders], np.float64),
                   np.array([order.filled for order in orders], np.float64),
                   np.array([order.cost for order in orders], np.float64),
                   np.array([order.fee_cost for order in orders], np.float64), closed,
                   [order.reason for order in orders])

    def __len__(self) -> int:
        return len(self.id)

    def to_wire(self) -> list[dict[str, Any]]:
        """ccxt-shaped orders: `{id, tag, timestamp, side, type, status, amount, price,
        triggerPrice, cost, filled, fee, closedTimestamp, reason, budget}` (null for absent numbers)."""
        columns = [self.id, self.tag, self.timestamp.tolist(), self.side, self.type, self.status, to_wire(self.amount),
                   to_wire(self.price), to_wire(self.trigger_price), to_wire(self.budget), to_wire(self.filled),
                   to_wire(self.cost), to_wire(self.fee), self.closed_time.tolist(), self.reason]
        names = ("id", "tag", "timestamp", "side", "type", "status", "amount", "price", "triggerPrice", "budget",
                 "filled", "cost", "fee", "closedTimestamp", "reason")
        rows = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        for row in rows:
            if row["closedTimestamp"] < 0:
                row["closedTimestamp"] = None
        return rows


@dataclass(frozen=True)
class Lots:
    """Positions still open at the end (bought lots not yet sold), shape (k,): `entry_time`,
    `entry_bar`, `entry_price`, `size` (base), `commissions` (their share of the entry fees, quote)."""

    entry_time: np.ndarray
    entry_bar: np.ndarray
    entry_price: np.ndarray
    size: np.ndarray
    commissions: np.ndarray

    @classmethod
    def empty(cls) -> Lots:
        return cls(*(np.empty(0, np.int64 if field.name in ("entry_time", "entry_bar") else np.float64)
                     for field in fields(cls)))

    def __len__(self) -> int:
        return len(self.size)


def closed_trades(fills: Fills, signed: bool = False) -> tuple[Trades, Lots]:
    """The closed trades (backtesting.py's trades: FIFO lots, see the module docstring) and
    the lots still open. A buy's lot is the base it received (net of a fee in base); a sell
    closes what it gave (its amount, plus a fee in base); with `signed` (perpetuals) what a
    fill does not close opens a lot of its side."""
    base_fee = np.where(fills.fee_in_quote, 0.0, fills.fee)
    lot = np.where(fills.buy, fills.amount - base_fee, fills.amount + base_fee)
    fee = fills.fee_value
    sides = fills.buy
    pairs = len(fills) // 2
    alternating = (sides[0::2].all() and not sides[1::2].any()) if len(fills) else True
    if alternating and not signed and np.array_equal(lot[0:2 * pairs:2], lot[1:2 * pairs:2]):
        buys, sells = np.arange(0, 2 * pairs, 2), np.arange(1, 2 * pairs, 2)
        trades = _trades(fills, buys, sells, lot[buys], fee[buys] + fee[sells])
        rest = np.arange(2 * pairs, len(fills))
        return trades, Lots(fills.bar_time[rest], fills.bar[rest], fills.price[rest], lot[rest], fee[rest])
    return _fifo(fills, lot, fee, signed)


def _fifo(fills: Fills, lot: np.ndarray, fee: np.ndarray, signed: bool = False) -> tuple[Trades, Lots]:
    """The general case: lots closed in part, several lots per sell (and, `signed`, short lots)."""
    open_lots: list[list[float]] = []  # [fill index, size left, commission left]
    long = True  # the side of the open lots
    buys: list[int] = []
    sells: list[int] = []
    sizes: list[float] = []
    commissions: list[float] = []
    for index, (buy, size, commission) in enumerate(zip(fills.buy.tolist(), lot.tolist(), fee.tolist(), strict=True)):
        if buy == long or not open_lots:
            if buy or signed:
                long = buy
                open_lots.append([index, size, commission])
            continue
        left, exit_share = size, commission / size if size else 0.0
        while left > 0.0 and open_lots:
            entry = open_lots[0]
            piece = min(entry[1], left)
            entry_fee = entry[2] if piece == entry[1] else entry[2] * (piece / entry[1])
            buys.append(int(entry[0]))
            sells.append(index)
            sizes.append(piece if long else -piece)
            commissions.append(entry_fee + (commission if piece == size else exit_share * piece))
            entry[1] -= piece
            entry[2] -= entry_fee
            left -= piece
            if entry[1] <= 0.0:
                open_lots.pop(0)
        if signed and left > 1e-12 * size and not open_lots:  # the rest opens the other side
            long = buy
            open_lots.append([index, left, exit_share * left])
    trades = _trades(fills, np.asarray(buys, np.int64), np.asarray(sells, np.int64), np.asarray(sizes, np.float64),
                     np.asarray(commissions, np.float64))
    rows = np.asarray([entry[0] for entry in open_lots], np.int64)
    return trades, Lots(fills.bar_time[rows], fills.bar[rows], fills.price[rows],
                        np.asarray([entry[1] if long else -entry[1] for entry in open_lots], np.float64),
                        np.asarray([entry[2] for entry in open_lots], np.float64))


def _trades(fills: Fills, buys: np.ndarray, sells: np.ndarray, size: np.ndarray, commissions: np.ndarray) -> Trades:
    times = fills.bar_time
    return Trades.from_fills(entry_time=times[buys], exit_time=times[sells],
                             entry_price=fills.price[buys], exit_price=fills.price[sells], size=size,
                             commissions=commissions, entry_bar=fills.bar[buys], exit_bar=fills.bar[sells])


def equity_curve(candles: Candles, cash: float, balances: list[tuple[int, float, float, int]]) -> tuple[np.ndarray,
                                                                                                     np.ndarray]:
    """`(equity, fill_bars)`: the account's value at each bar's close (float64, (n,)), its
    quote total plus its base total at the close, and the bar of every fill (int64, (k,));
    from `(bar, quote total, base total, fills so far)` records taken after every step that
    filled something (bars ascending); `cash` before the first."""
    n = len(candles)
    if not balances:
        return np.full(n, float(cash)), np.empty(0, np.int64)
    table = np.fromiter(chain.from_iterable(balances), np.float64, 4 * len(balances)).reshape(-1, 4)
    bars, counts = table[:, 0].astype(np.int64), table[:, 3].astype(np.int64)
    fill_bars = np.repeat(bars, np.diff(counts, prepend=0))
    last = np.append(bars[1:] != bars[:-1], True)  # the last record of each bar
    latest = np.full(n, -1, np.int64)
    latest[bars[last]] = np.flatnonzero(last)
    latest = np.maximum.accumulate(latest)
    quote = np.append(table[:, 1], cash)[latest]  # index -1: the starting cash
    base = np.append(table[:, 2], 0.0)[latest]
    return quote + base * candles.close, fill_bars
