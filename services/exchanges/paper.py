"""Paper accounts: one `SimExchange` per account, its journal kept in storage, rebuilt after a restart.

Every change the matching engine makes to a paper account (deposits, orders, trades: see
`engine.journal`) is appended to that account's journal in storage (the `storage` setting;
records `{_id: "<account>:<seq>", accountId, seq, record}`). Appending is queued in memory
and written in order by one background writer (`run`, supervised by the app), batch by
batch, so placing an order never waits for the disk; `flush()` writes what is queued (the
app's teardown does, so a clean stop loses nothing; a crash loses at most the batch in flight).

`open(account)` gives the account's `SimExchange`: rebuilt with `engine.replay` from its
journal when it has one (balances bit for bit, open orders with their reservations), else
new with the account's `paperBalances`. Markets are the exchange's (`MarketStore`): the
built-in list for `sim`, the real exchange's for a paper account on `binance` etc.

Prices reach paper accounts through `on_price(exchange_id, symbol, timestamp, bid, ask,
last)`, which the ticker feed calls for every price point: each loaded paper account on
that exchange gets it (`SimExchange.on_price`, the matching engine's fill rules).
`watched()` names the (exchange, symbol) pairs whose open orders wait for prices.

A book unloaded (its account deactivated) or deleted stops journaling: a `SimExchange`
someone kept from before goes on in memory but is no longer saved. Ask the registry for
the exchange object at each use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from cryptorobot.adapters import AdapterService
from cryptorobot.app import App
from cryptorobot.errors import Conflict
from engine import SimExchange, replay
from engine.clock import Clock
from engine.matching import Journal

from .markets import MarketStore
from .storage import create_many, find_all

__all__ = ["BATCH", "PaperBooks"]

log = logging.getLogger("services.exchanges.paper")

BATCH = 500
"""Journal records written per storage call."""


class PaperBooks:
    """The loaded paper accounts (by account id, a string) and their journals in `journal`."""

    def __init__(self, journal: AdapterService, markets: MarketStore, clock: Clock) -> None:
        self.journal = journal
        self.markets = markets
        self.clock = clock
        self.books: dict[str, SimExchange] = {}
        self._clocks: dict[str, Clock] = {}
        self._next_seq: dict[str, int] = {}
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._opening: dict[str, asyncio.Lock] = {}

    async def setup(self, app: App, path: str) -> None:
        await self.journal.setup(app, path)

    # -- accounts ----------------------------------------------------------------------------

    async def open(self, account: Mapping[str, Any]) -> SimExchange:
        """The account's simulated exchange (restored or new, then kept loaded)."""
        key = str(account["_id"])
        book = self.books.get(key)
        if book is not None:
            return book
        async with self._opening.setdefault(key, asyncio.Lock()):
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = await self._build(key, account)
            return book

    async def _build(self, key: str, account: Mapping[str, Any]) -> SimExchange:
        exchange_id = str(account["exchange"])
        catalog = await self.markets.catalog(exchange_id)
        clock = self._clocks.get(exchange_id, self.clock)
        async with self._writing:  # no batch half-way between the queue and storage
            rows = await find_all(self.journal, {"accountId": key, "$sort": {"seq": 1}})
            rows += [row for row in self._pending if row["accountId"] == key]
        if not rows:
            self._next_seq[key] = 0
            return SimExchange(catalog, clock, id=exchange_id, balances=dict(account.get("paperBalances") or {}),
                               journal=self._journal(key))
        engine = await asyncio.to_thread(replay, [row["record"] for row in rows], catalog, clock)
        self._next_seq[key] = rows[-1]["seq"] + 1
        engine.journal = self._journal(key)
        log.info("paper account %s restored from %d journal records", key, len(rows))
        return SimExchange(id=exchange_id, engine=engine)

    async def restore(self, accounts: Iterable[Mapping[str, Any]]) -> None:
        """Open each account; one that can't be opened now (its exchange's markets unknown
        and out of reach) is logged and opened on its first use instead."""
        for account in accounts:
            try:
                await self.open(account)
            except Exception as failure:
                log.warning("paper account %s is not restored now (%s); it will be on first use", account["_id"],
                            getattr(failure, "message", type(failure).__name__))

    async def unload(self, key: str) -> None:
        """Write the account's queued journal and forget its book (its journal stays)."""
        if self._detach(key):
            await self.flush()

    async def delete(self, key: str) -> None:
        """Forget the account and delete its journal."""
        self._detach(key)
        async with self._writing:
            self._pending = [row for row in self._pending if row["accountId"] != key]
            self._next_seq.pop(key, None)
            await self.journal.remove(None, {"query": {"accountId": key, "$select": ["_id"]}})

    def _detach(self, key: str) -> bool:
        """Forget the account's book and stop its journaling: whoever still holds the old
        `SimExchange` can no longer write into the journal a new book is built from."""
        book = self.books.pop(key, None)
        if book is None:
            return False
        book.engine.journal = None
        return True

    # -- prices and market time --------------------------------------------------------------

    def on_price(self, exchange_id: str, symbol: str, timestamp: int, bid: float | None, ask: float | None,
                 last: float | None, continuous: bool = False) -> int:
        """A price point of `exchange_id`'s `symbol` (market time `timestamp`, ms; `continuous`
        as `PricePoint`'s) for every loaded paper account on that exchange; returns the number
        of fills. `InvalidSymbol` when the exchange lists no such symbol, `ValueError` for
        prices that are not positive."""
        return sum(book.on_price(symbol, timestamp, bid, ask, last, continuous)
                   for book in list(self.books.values()) if book.id == exchange_id)

    def watched(self) -> set[tuple[str, str]]:
        """(exchange id, symbol) of every open order of a loaded paper account: what a feed must price."""
        return {(book.id, order.symbol) for book in self.books.values() for order in book.engine.open_orders()}

    def set_market_clock(self, exchange_id: str, clock: Clock) -> None:
        """The clock that stamps orders of `exchange_id`'s paper accounts, loaded and future
        (default: the app's wall clock; a replay sets its own market clock for `sim`)."""
        self._clocks[exchange_id] = clock
        for book in self.books.values():
            if book.id == exchange_id:
                book.engine.clock = clock

    # -- the journal -------------------------------------------------------------------------

    def _journal(self, key: str) -> Journal:
        def append(record: dict[str, Any]) -> None:
            seq = self._next_seq[key]
            self._next_seq[key] = seq + 1
            self._pending.append({"_id": f"{key}:{seq}", "accountId": key, "seq": seq, "record": record})
            self._wake.set()

        return append

    async def run(self) -> None:
        """The writer: flushes whenever records are queued (runs until cancelled)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write every queued journal record, in order."""
        async with self._writing:
            while self._pending:
                batch = self._pending[:BATCH]
                await self._write(batch)
                del self._pending[:len(batch)]

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        try:
            await create_many(self.journal, batch)
        except Conflict:  # a batch partly written before a failure: write the rest one by one
            for row in batch:
                with contextlib.suppress(Conflict):
                    await create_many(self.journal, [row])

    async def close(self) -> None:
        """Write what is queued, then close the storage."""
        await self.flush()
        self.books.clear()
        await self.journal.teardown()
