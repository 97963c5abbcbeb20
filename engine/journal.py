"""Saving an account and rebuilding it: a snapshot, or the journal of its changes.

The engine writes no files. The platform keeps one of two things for a paper account and
gets identical balances (bit for bit) and open orders back after a restart:

- `snapshot(engine)`: a JSON-able dict of the whole state, for `restore(...)`::

      {"version": 1,
       "balances": {currency: total},              # used/free follow from the open orders
       "orders": [<ccxt order>, ...],              # every order, placement order, info as in engine.orders
       "trades": [<ccxt trade>, ...],              # every fill, in order
       "positions": [{owner, symbol, base, amount, cost, averageCost, realizedPnl, fees, reserved}, ...],
       "prices": {symbol: {"timestamp", "bid", "ask", "last"}},
       "futures": {"positions": [...], "leverage": [[owner, symbol, x]], "nextFunding": {symbol: ms}}}
                                                   # engine.futures (optional: older snapshots have none)

- the journal: the records the engine passed to its `journal` callback, in order, for
  `replay(...)`::

      {"event": "deposit", "currency": str, "amount": float, "timestamp": int}
      {"event": "order", "action": "created" | "triggered" | "filled" | "canceled", "order": <ccxt order>}
      {"event": "trade", "trade": <ccxt trade>}
      {"event": "leverage", "owner", "symbol", "leverage", "timestamp"}      # perpetuals
      {"event": "funding", "symbol", "owner", "timestamp", "rate", "markPrice", "amount"}

  Deposits and trades are applied in order with the engine's own arithmetic; the last
  record of each order is its state, and open orders are booked again with the
  reservations they recorded. An order whose trade was written but not its `filled`
  record (a crash between the two) is closed by that trade, never filled twice. Prices
  are not journaled: they come back with the feed.

Both take the exchange's `MarketCatalog`, a clock, and the engine's options (`journal`,
`maker`, `taker`, `slippage_bps`, `amount_step`); the journal callback is attached after
the rebuild, so rebuilding writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .clock import Clock
from .markets import MarketCatalog
from .matching import Journal, MatchingEngine
from .orders import Order, Trade
from .positions import Position

__all__ = ["replay", "restore", "snapshot"]

VERSION = 1


def _none_if_nan(value: float) -> float | None:
    return None if value != value else value


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else value


def snapshot(engine: MatchingEngine) -> dict[str, Any]:
    """The engine's whole state, JSON-able (see the module docstring)."""
    prices = {symbol: {"timestamp": timestamp, "bid": _none_if_nan(bid), "ask": _none_if_nan(ask),
                       "last": _none_if_nan(last)}
              for symbol, (timestamp, bid, ask, last) in engine.points().items()}
    return {
        "version": VERSION,
        "balances": {str(key): total for key, total in engine.ledger.totals().items()},
        "orders": [order.to_ccxt() for order in engine.orders.values()],
        "trades": [trade.to_ccxt() for trade in engine.trades],
        "positions": [position.to_dict() for position in engine.positions.values()],
        "prices": prices,
        "futures": engine.futures.to_dict(),
    }


def restore(state: dict[str, Any], markets: MarketCatalog, clock: Clock, *, journal: Journal | None = None,
            **options: Any) -> MatchingEngine:
    """An engine from `snapshot(...)`'s dict."""
    if state.get("version") != VERSION:
        raise ValueError(f"unknown snapshot version {state.get('version')!r}")
    engine = MatchingEngine(markets, clock, **options)
    for currency, total in state["balances"].items():
        engine.ledger.credit(currency, total)
    for record in state["positions"]:
        position = Position.from_dict(record)
        engine.positions[(position.owner, position.symbol)] = position
    if "futures" in state:
        engine.adopt_futures(state["futures"])
    trades = [Trade.from_ccxt(record) for record in state["trades"]]
    engine.adopt_trades(trades)
    _adopt_orders(engine, state["orders"], trades)
    for symbol, point in state["prices"].items():
        engine.set_point(symbol, point["timestamp"], _nan_if_none(point["bid"]), _nan_if_none(point["ask"]),
                         _nan_if_none(point["last"]))
    engine.journal = journal
    return engine


def replay(records: Iterable[dict[str, Any]], markets: MarketCatalog, clock: Clock, *, journal: Journal | None = None,
           **options: Any) -> MatchingEngine:
    """An engine rebuilt from its journal's records (see the module docstring)."""
    engine = MatchingEngine(markets, clock, **options)
    orders: dict[str, dict[str, Any]] = {}
    for record in records:
        event = record["event"]
        if event == "deposit":
            engine.ledger.credit(record["currency"], record["amount"])
        elif event == "trade":
            engine.settle_recorded(Trade.from_ccxt(record["trade"]))
        elif event == "order":
            orders[record["order"]["id"]] = record["order"]
        elif event in ("leverage", "funding"):
            engine.apply_recorded(record)
        else:
            raise ValueError(f"unknown journal event {event!r}")
    _adopt_orders(engine, sorted(orders.values(), key=lambda order: order["info"]["sequence"]), engine.trades)
    engine.journal = journal
    return engine


def _adopt_orders(engine: MatchingEngine, records: Iterable[dict[str, Any]], trades: Iterable[Trade]) -> None:
    by_order: defaultdict[str, list[Trade]] = defaultdict(list)
    for trade in trades:
        by_order[trade.order_id].append(trade)
    for record in records:
        order = Order.from_ccxt(record, engine.markets.market(record["symbol"]))
        trades = by_order.get(order.id, [])
        if order.status == "open" and trades:  # its trade was written, its filled record was not
            order.fill_with(trades[-1])
        engine.adopt(order, trades)
