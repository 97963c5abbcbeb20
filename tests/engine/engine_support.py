"""Helpers shared by the engine tests: an account on `sim` with a manual clock and a journal."""

from __future__ import annotations

from typing import Any

from engine.clock import ManualClock
from engine.markets import MarketCatalog
from engine.matching import MatchingEngine
from engine.sim_markets import sim_catalog

START_MS = 1_700_000_000_000


class Account:
    """A `MatchingEngine` on the built-in `sim` markets, its clock and its journal records."""

    def __init__(self, balances: dict[str, float] | None = None, markets: MarketCatalog | None = None,
                 **options: Any) -> None:
        self.clock = ManualClock(START_MS)
        self.records: list[dict[str, Any]] = []
        self.markets = markets if markets is not None else sim_catalog()
        self.engine = MatchingEngine(self.markets, self.clock, {"USDT": 10_000.0} if balances is None else balances,
                                     journal=self.records.append, **options)

    def point(self, symbol: str, price: float, bid: float | None = None, ask: float | None = None,
              continuous: bool = False) -> int:
        """Advance the clock a second and play a point (bid = ask = last = price unless given)."""
        self.clock.advance(1000)
        return self.engine.on_price(symbol, self.clock.now_ms(), price if bid is None else bid,
                                    price if ask is None else ask, price, continuous)

    def bar(self, symbol: str, open: float, high: float, low: float, close: float) -> int:
        self.clock.advance(60_000)
        return self.engine.play_bar(symbol, self.clock.now_ms(), open, high, low, close)

    def free(self, currency: str) -> float:
        return self.engine.ledger.free(currency)

    def used(self, currency: str) -> float:
        return self.engine.ledger.used(currency)

    def total(self, currency: str) -> float:
        return self.engine.ledger.total(currency)
