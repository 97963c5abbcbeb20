"""Downloading candle history through ccxt's `fetch_ohlcv`, page by page, into a store.

Paging follows ccxt's manual: ask for candles `since` a cursor, `limit` per page (the
exchange's maximum from ccxt's `features` when it states one), then move the cursor past
the last candle received, until the range is done or the exchange has nothing newer. Every
request goes through ccxt's own rate limiter (`enableRateLimit`, on by default; a client
with it off is refused), one request at a time.

Each page is cleaned (`clean_candles`) and written as soon as it arrives, so an
interrupted download keeps what it fetched; running it again resumes after the last
stored candle when the stored series already covers `since` (`resume`), and re-fetching
overlapping candles changes nothing (writes are upserts). Only closed candles are stored:
the range ends at the open of the candle current at `clock.now_ms()`.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ccxt.async_support as ccxt_async
import numpy as np

from ..clock import Clock
from ..errors import ExchangeNotAvailable, InvalidSymbol, InvalidTimeframe
from .cleaning import clean_candles
from .gaps import Gap
from .store import CandleStore, SeriesKey, WriteReport

__all__ = ["DownloadProgress", "DownloadReport", "download_candles"]


@dataclass(frozen=True)
class DownloadProgress:
    """After each page: requests made, candles received so far, and where the cursor is in
    `[since, end)` (ms); `expected` is the number of candles the range can hold."""

    pages: int
    candles: int
    cursor: int
    since: int
    end: int
    expected: int


@dataclass
class DownloadReport:
    """A finished download: the range `[since, end)` asked of the exchange (after resuming,
    `since` is where fetching started), what came back and was written, the stored series'
    gaps in the range. Rows the exchange sent twice or unusable are counted, not stored."""

    key: SeriesKey
    since: int
    end: int
    resumed: bool = False
    pages: int = 0
    candles: int = 0
    first: int | None = None
    last: int | None = None
    written: WriteReport = field(default_factory=WriteReport)
    duplicates: int = 0
    invalid: int = 0
    gaps: list[Gap] = field(default_factory=list)


async def download_candles(exchange: ccxt_async.Exchange, store: CandleStore, key: SeriesKey, *, since: int,
                           clock: Clock, until: int | None = None, limit: int | None = None, resume: bool = True,
                           on_page: Callable[[DownloadProgress], None] | None = None) -> DownloadReport:
    """Download `key`'s candles opening in `[since, until)` (ms; `until` default: now) from
    `exchange` (a ccxt async client whose id need not equal `key.exchange`) into `store`.

    Errors: `InvalidSymbol` (the exchange lists no such market; `suggestions` holds near
    symbols), `InvalidTimeframe` (not among the exchange's `timeframes`),
    `ExchangeNotAvailable` (no `fetchOHLCV`, or the exchange failed; what was fetched
    before stays stored), ValueError when the client's rate limiter is off.
    """
    if not exchange.enableRateLimit:
        raise ValueError("downloads go through ccxt's rate limiter: create the client with enableRateLimit=True")
    if not exchange.has.get("fetchOHLCV"):
        raise ExchangeNotAvailable(f"{exchange.id} offers no candle history (fetchOHLCV)", exchange=exchange.id)
    if exchange.timeframes and key.timeframe not in exchange.timeframes:
        raise InvalidTimeframe(f"{exchange.id} has no {key.timeframe} candles", timeframe=key.timeframe,
                               supported=list(exchange.timeframes))
    market = await _market(exchange, key.symbol)
    frame = key.frame
    now_open = frame.floor_one(clock.now_ms())
    end = now_open if until is None else min(until, now_open)
    cursor = since
    info = await asyncio.to_thread(store.info, key) if resume else None
    if info is not None and info.first <= since <= frame.next_open(info.last):
        cursor = max(since, frame.next_open(info.last))
    report = DownloadReport(key, cursor, end, resumed=cursor != since)
    expected = max(0, int(frame.bucket(np.array([end]))[0] - frame.bucket(np.array([cursor]))[0]))
    page_limit = limit if limit is not None else _page_limit(exchange, market)
    while cursor < end:
        rows = await _fetch(exchange, key, cursor, page_limit)
        report.pages += 1
        fresh = [row for row in rows if row and row[0] is not None and cursor <= row[0] < end]
        if not fresh:
            break
        table = np.array([row[:6] for row in fresh], dtype=np.float64)
        candles, cleaning = clean_candles(key.timeframe, table[:, 0].astype(np.int64), *table[:, 1:6].T)
        report.duplicates += cleaning.duplicates
        report.invalid += cleaning.dropped
        if not len(candles):
            break
        report.written += await asyncio.to_thread(store.write, key, candles)
        report.candles += len(candles)
        report.first = int(candles.timestamp[0]) if report.first is None else report.first
        report.last = int(candles.timestamp[-1])
        cursor = frame.next_open(report.last)
        if on_page is not None:
            on_page(DownloadProgress(report.pages, report.candles, cursor, report.since, end, expected))
    report.gaps = await asyncio.to_thread(store.gaps, key, report.since, end)
    return report


async def _market(exchange: ccxt_async.Exchange, symbol: str) -> dict[str, Any]:
    try:
        markets = await exchange.load_markets()
    except ccxt_async.BaseError as failure:
        raise ExchangeNotAvailable(f"{exchange.id}: markets could not be loaded ({failure})", exchange=exchange.id) from None
    if symbol not in markets:
        suggestions = difflib.get_close_matches(symbol, list(markets), n=5, cutoff=0.6)
        raise InvalidSymbol(f"{exchange.id} lists no market {symbol}", symbol=symbol, suggestions=suggestions)
    market: dict[str, Any] = markets[symbol]
    return market


async def _fetch(exchange: ccxt_async.Exchange, key: SeriesKey, since: int, limit: int | None) -> list[list[Any]]:
    try:
        rows: list[list[Any]] = await exchange.fetch_ohlcv(key.symbol, key.timeframe, since=since, limit=limit)
    except ccxt_async.BadSymbol:
        raise InvalidSymbol(f"{exchange.id} lists no market {key.symbol}", symbol=key.symbol, suggestions=[]) from None
    except ccxt_async.BaseError as failure:
        raise ExchangeNotAvailable(f"{exchange.id}: fetch_ohlcv failed ({failure})", exchange=exchange.id) from None
    return rows


def _page_limit(exchange: ccxt_async.Exchange, market: dict[str, Any]) -> int | None:
    """The most candles per request ccxt's `features` states for this market type."""
    features = getattr(exchange, "features", None) or {}
    kind = features.get(market.get("type") or "spot") or {}
    if isinstance(kind, dict) and "fetchOHLCV" not in kind:  # swap/future features are split by linear/inverse
        kind = kind.get("linear" if market.get("linear") else "inverse") or {}
    limit = (kind.get("fetchOHLCV") or {}).get("limit") if isinstance(kind, dict) else None
    return int(limit) if isinstance(limit, int) and limit > 0 else None
