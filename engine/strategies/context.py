"""What a strategy reads while it decides: its position, funds, open orders; and its log.

A strategy sees only its own state (the position and orders of its `owner`, the trader)
and never the clock or the network. `Context` is the interface; `EngineContext` reads an
account of the matching engine (backtests, and paper pods on `SimExchange`, whose `engine`
it is). A pod on a live account implements `Context` from the state it keeps in sync with
the exchange (its trades and open orders after reconciling).

`ctx.log(message, severity)` appends a `LogLine` at the market time of the account's
clock; severities are HaasOnline's: `info`, `trade`, `warning`, `error`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..markets import Market
from ..matching import MatchingEngine
from ..orders import Order, Trade

__all__ = ["SEVERITIES", "Context", "EngineContext", "Fill", "LogLine", "OpenOrder"]

SEVERITIES = ("info", "trade", "warning", "error")


def _number(value: float) -> float | None:
    return None if value != value else value


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """One open order of the strategy: `amount` None while sized by cost, `price` None for a
    market order, `trigger_price` None unless a stop; `trigger_above` while a stop waits for
    its trigger, whether it triggers upwards (None otherwise: a plain order, or a stop-limit
    already triggered and resting as a limit); `timestamp` placed (market ms)."""

    id: str
    tag: str | None
    side: str
    type: str
    amount: float | None
    price: float | None
    trigger_price: float | None
    trigger_above: bool | None
    timestamp: int

    @classmethod
    def of(cls, order: Order, tag: str | None) -> OpenOrder:
        waiting = order.is_stop and not order.triggered
        return cls(order.id, tag, order.side, order.type, _number(order.amount), _number(order.price),
                   _number(order.trigger_price), order.trigger_above if waiting else None, order.timestamp)


@dataclass(frozen=True, slots=True)
class Fill:
    """A fill of one of the strategy's orders: `amount` base at `price`, `cost` quote, `fee` in
    `fee_currency`; `timestamp` is the market time of the price point (ms)."""

    order_id: str
    tag: str | None
    side: str
    type: str
    amount: float
    price: float
    cost: float
    fee: float
    fee_currency: str
    timestamp: int
    taker: bool

    @classmethod
    def of(cls, trade: Trade, tag: str | None) -> Fill:
        return cls(trade.order_id, tag, trade.side, trade.type, trade.amount, trade.price, trade.cost, trade.fee_cost,
                   trade.fee_currency, trade.timestamp, trade.taker)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a strategy's log (market time `timestamp`, ms)."""

    timestamp: int
    severity: str
    message: str

    def to_wire(self, line_number: int) -> dict[str, Any]:
        """HaasOnline's log entry: `{lineNumber, timestamp, severity, message}`."""
        return {"lineNumber": line_number, "timestamp": self.timestamp, "severity": self.severity,
                "message": self.message}


class Context(ABC):
    """The strategy's view: `symbol` and its `market`, and the properties below; `logs`
    collects what it logged."""

    symbol: str
    market: Market
    logs: list[LogLine]

    @property
    @abstractmethod
    def position(self) -> float:
        """Base the strategy holds (its own position, not the account's); on a perpetual, its
        signed contracts (negative: short)."""

    @property
    @abstractmethod
    def average_cost(self) -> float | None:
        """Quote paid per base held, fees included (None when flat); on a perpetual, the
        position's entry price."""

    @property
    def position_pnl(self) -> float:
        """On a perpetual: what the strategy's position has added to the balance so far
        (realized P&L and funding, minus fees and what liquidations forfeited); 0.0 elsewhere."""
        return 0.0

    @property
    @abstractmethod
    def min_amount(self) -> float:
        """The least base amount an order of the strategy may have: the market's minimum, or
        the account's whole unit (less than this held is dust, not a position to sell)."""

    @property
    @abstractmethod
    def available(self) -> float:
        """Quote the strategy may spend now (what an all-in buy spends)."""

    @property
    @abstractmethod
    def price(self) -> float:
        """The last price known (NaN before any)."""

    @property
    @abstractmethod
    def fee_rate(self) -> float:
        """The larger of the account's maker and taker rates on the market (a fraction)."""

    @property
    @abstractmethod
    def open_orders(self) -> Sequence[OpenOrder]:
        """The strategy's open orders, in placement order."""

    @abstractmethod
    def now_ms(self) -> int:
        """The market time of the event being handled (the time a log line carries)."""

    def log(self, message: str, severity: str = "info") -> None:
        """Add a line to the strategy's log (`severity`: info, trade, warning, error)."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
        self.logs.append(LogLine(self.now_ms(), severity, str(message)))


class EngineContext(Context):
    """A strategy's view of an account of the matching engine, as `owner`, on `symbol`.

    `tags` maps order ids to the tags their intents gave (the executor records them when it
    places an order).
    """

    def __init__(self, engine: MatchingEngine, symbol: str, owner: str, clock: Clock | None = None) -> None:
        self.engine = engine
        self.market = engine.markets.market(symbol)
        self.symbol = self.market.symbol
        self.owner = owner
        self.clock = clock or engine.clock
        self.logs = []
        self.tags: dict[str, str] = {}
        self._key = (owner, self.symbol)
        self._swap = not self.market.spot
        self._min_amount = max(self.market.min_amount, engine.amount_step)
        maker = self.market.maker if engine.maker is None else engine.maker
        taker = self.market.taker if engine.taker is None else engine.taker
        self._fee_rate = max(maker, taker)

    @property
    def position(self) -> float:
        if self._swap:
            return self.engine.futures.contracts(*self._key)
        held = self.engine.positions.get(self._key)
        return 0.0 if held is None else held.amount

    @property
    def average_cost(self) -> float | None:
        if self._swap:
            contract = self.engine.futures.position(*self._key)
            return contract.entry_price if contract is not None and contract.contracts else None
        held = self.engine.positions.get(self._key)
        return None if held is None else held.average_cost

    @property
    def position_pnl(self) -> float:
        contract = self.engine.futures.position(*self._key) if self._swap else None
        if contract is None:
            return 0.0
        return contract.realized_pnl + contract.funding - contract.fees - contract.forfeited

    @property
    def min_amount(self) -> float:
        return self._min_amount

    @property
    def available(self) -> float:
        return self.engine.ledger.free(self.market.quote)

    @property
    def price(self) -> float:
        return self.engine.last_point(self.symbol)[3]

    @property
    def fee_rate(self) -> float:
        return self._fee_rate

    @property
    def open_orders(self) -> list[OpenOrder]:
        tags = self.tags
        return [OpenOrder.of(order, tags.get(order.id)) for order in self.engine.open_orders(self.symbol)
                if order.owner == self.owner]

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def fill(self, trade: Trade) -> Fill:
        """The `Fill` a strategy sees for one of its trades."""
        return Fill.of(trade, self.tags.get(trade.order_id))
