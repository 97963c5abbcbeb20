"""The candle store: OHLCV series by (exchange, symbol, timeframe), kept as binary chunks.

`CandleStore` is the one interface; `SqliteCandleStore` (a file, nothing to install) and
`MongoCandleStore` (pymongo) implement a handful of chunk primitives beneath it, and all
the logic (merging, gaps, pages, resampling) is written once here. Every method blocks on
I/O: from asyncio, call it through a thread (`await asyncio.to_thread(store.read, key)`);
the stores are safe to use from several threads at once.

Rules every store keeps (tested on both):

* `write` is an upsert by timestamp: candles already stored with the same values are left
  alone, different values are replaced by the written ones (the newer import or download
  wins), new ones are added. Writing the same candles twice changes nothing the second
  time (`WriteReport.unchanged`). A write is atomic: readers see all of it or none of it.
* Written candles must be one clean series: strictly increasing open timestamps on the
  timeframe's boundaries, finite prices (`clean_candles` makes raw input so, and reports
  what it changed). Anything else is refused with `InvalidData`, nothing written.
* Nothing is ever invented: a period without candles stays a gap (`gaps`, `SeriesInfo.gaps`).
* A timeframe that is not stored is resampled from the coarsest stored timeframe that
  builds it (`load`, `page`), or refused with `InvalidTimeframe`.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

import numpy as np

from ..errors import InvalidData, InvalidTimeframe
from .chunks import ChunkMeta, chunk_number, decode, describe, encode
from .gaps import Gap, find_gaps, gaps_between, overlapping
from .resample import resample
from .series import FIELDS, Candles
from .timeframes import Timeframe, timeframe

__all__ = [
    "CandleStore",
    "ChunkReader",
    "ChunkWriter",
    "Page",
    "SeriesInfo",
    "SeriesKey",
    "StoreConflict",
    "WriteReport",
]

T = TypeVar("T")
ATTEMPTS = 100
"""Most tries of a read or write that met a concurrent writer (MongoDB store only); between
tries a writer waits a random moment, up to `BACKOFF` seconds, so racing writers spread out."""
BACKOFF = 0.05


@dataclass(frozen=True)
class SeriesKey:
    """Which series: a ccxt exchange id (or `sim`), a unified symbol, a ccxt timeframe.
    `InvalidTimeframe` for a timeframe ccxt does not write; ValueError for empty names."""

    exchange: str
    symbol: str
    timeframe: str

    def __post_init__(self) -> None:
        timeframe(self.timeframe)
        if not self.exchange or not self.symbol:
            raise ValueError("a series needs an exchange and a symbol")

    @property
    def frame(self) -> Timeframe:
        return timeframe(self.timeframe)

    def with_timeframe(self, text: str) -> SeriesKey:
        return replace(self, timeframe=text)

    def __str__(self) -> str:
        return f"{self.exchange} {self.symbol} {self.timeframe}"


@dataclass(frozen=True)
class SeriesInfo:
    """A stored series: the opens (ms) of its `first` and `last` candles, its `count`, its gaps."""

    key: SeriesKey
    first: int
    last: int
    count: int
    gaps: list[Gap] = field(default_factory=list)

    @property
    def missing(self) -> int:
        """Candles absent between `first` and `last`."""
        return sum(gap.missing for gap in self.gaps)


@dataclass(frozen=True)
class WriteReport:
    """What a write did: candles `inserted` (new timestamps), `replaced` (a stored candle
    with other values), `unchanged` (already stored as written)."""

    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0

    def __add__(self, other: WriteReport) -> WriteReport:
        return WriteReport(self.inserted + other.inserted, self.replaced + other.replaced,
                           self.unchanged + other.unchanged)


@dataclass(frozen=True)
class Page:
    """One page of a series: `total` candles in the asked range, `candles` the page itself
    (newest first when asked descending), `source` the stored timeframe they come from, and
    the `gaps` that follow one of the page's candles (so each gap of a range is on exactly
    one of its pages: the one holding the candle before it)."""

    total: int
    candles: Candles
    source: str | None
    gaps: list[Gap] = field(default_factory=list)


class StoreConflict(Exception):
    """A concurrent writer changed the series under a read or write; the store retries."""


class ChunkReader(Protocol):
    """A consistent view of one series' chunks."""

    def directory(self) -> list[ChunkMeta]:
        """Every chunk's metadata, by chunk number."""

    def load(self, numbers: Sequence[int]) -> dict[int, bytes]:
        """The bytes of the given chunks; `StoreConflict` if they changed since `directory`."""


class ChunkWriter(ChunkReader, Protocol):
    def commit(self, chunks: list[tuple[ChunkMeta, bytes]]) -> None:
        """Store these chunks (replacing those with the same numbers), all or nothing;
        `StoreConflict` when another writer committed to the series first."""


class CandleStore(ABC):
    """OHLCV series in chunks; see the module documentation for the rules."""

    # -- what a backend provides -------------------------------------------------------------

    @abstractmethod
    def _reading(self, key: SeriesKey) -> AbstractContextManager[ChunkReader]:
        """A reader of `key`'s chunks (a snapshot where the database offers one)."""

    @abstractmethod
    def _writing(self, key: SeriesKey) -> AbstractContextManager[ChunkWriter]:
        """A writer of `key`'s chunks; nothing is stored unless `commit` is called and the
        context exits cleanly."""

    @abstractmethod
    def keys(self, exchange: str | None = None, symbol: str | None = None) -> list[SeriesKey]:
        """The stored series, optionally of one exchange and symbol, sorted."""

    @abstractmethod
    def delete(self, key: SeriesKey) -> bool:
        """Remove a series; whether it existed."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is not used afterwards."""

    # -- writing ---------------------------------------------------------------------------

    def write(self, key: SeriesKey, candles: Candles) -> WriteReport:
        """Upsert `candles` (a clean series of `key.timeframe`) into the series `key`."""
        _check_clean(key, candles)
        if not len(candles):
            return WriteReport()
        frame = key.frame
        numbers = chunk_number(candles.timestamp, frame)
        cuts = np.flatnonzero(np.diff(numbers)) + 1
        bounds = zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(candles)])), strict=True)
        parts = {int(numbers[lo]): candles[lo:hi] for lo, hi in bounds}

        def attempt() -> WriteReport:
            with self._writing(key) as writer:
                stored = {meta.number for meta in writer.directory()}
                blobs = writer.load([number for number in parts if number in stored])
                report, changed = WriteReport(), []
                for number, part in parts.items():
                    old = decode(key.timeframe, [blobs[number]]) if number in blobs else None
                    merged, outcome = _merge(old, part)
                    report += outcome
                    if outcome.inserted or outcome.replaced:
                        changed.append((describe(number, merged, frame), encode(merged)))
                if changed:
                    writer.commit(changed)
                return report

        return _retry(attempt)

    # -- reading ---------------------------------------------------------------------------

    def read(self, key: SeriesKey, start: int | None = None, end: int | None = None) -> Candles:
        """The stored candles of `key` opening in `[start, end)` (ms; None: unbounded);
        empty when nothing is stored. Only the stored timeframe: see `load` for others."""

        def attempt() -> Candles:
            with self._reading(key) as reader:
                metas = [meta for meta in reader.directory() if meta.touches(start, end)]
                blobs = reader.load([meta.number for meta in metas])
            return decode(key.timeframe, [blobs[meta.number] for meta in metas]).slice(start, end)

        return _retry(attempt)

    def info(self, key: SeriesKey) -> SeriesInfo | None:
        """Range, count and gaps of a stored series; None when nothing is stored."""
        return _retry(lambda: self._info(key))

    def _info(self, key: SeriesKey) -> SeriesInfo | None:
        with self._reading(key) as reader:
            metas = reader.directory()
        if not metas:
            return None
        return SeriesInfo(key, metas[0].first, metas[-1].last, sum(meta.count for meta in metas),
                          _series_gaps(metas, key.frame))

    def series(self, exchange: str | None = None, symbol: str | None = None) -> list[SeriesInfo]:
        """Every stored series (optionally of one exchange and symbol) with range, count, gaps."""
        found = (self.info(key) for key in self.keys(exchange, symbol))
        return [info for info in found if info is not None]

    def gaps(self, key: SeriesKey, start: int | None = None, end: int | None = None) -> list[Gap]:
        """The gaps of the stored series `key` that meet `[start, end)`."""
        info = self.info(key)
        return [] if info is None else overlapping(info.gaps, start, end)

    # -- any timeframe: stored or resampled --------------------------------------------------

    def source_timeframe(self, key: SeriesKey) -> str | None:
        """The stored timeframe `key`'s candles come from: its own when stored, else the
        coarsest stored one that builds it; None when nothing is stored for the exchange
        and symbol. `InvalidTimeframe` when candles are stored but none builds it."""
        stored = [other.timeframe for other in self.keys(key.exchange, key.symbol)]
        if not stored or key.timeframe in stored:
            return key.timeframe if stored else None
        builders = [text for text in stored if timeframe(text).builds(key.frame)]
        if not builders:
            raise InvalidTimeframe(
                f"No {key.timeframe} candles for {key.exchange} {key.symbol}, and none stored that build them "
                f"(stored: {', '.join(sorted(stored, key=lambda text: timeframe(text).ms))})",
                timeframe=key.timeframe, stored=sorted(stored, key=lambda text: timeframe(text).ms))
        return max(builders, key=lambda text: timeframe(text).ms)

    def load(self, key: SeriesKey, start: int | None = None, end: int | None = None) -> Candles:
        """The candles of `key` opening in `[start, end)`: stored, or resampled from a finer
        stored timeframe (`source_timeframe`); empty when nothing is stored."""
        source = self.source_timeframe(key)
        if source is None:
            return Candles.empty(key.timeframe)
        if source == key.timeframe:
            return self.read(key, start, end)
        return self._resampled(key, key.with_timeframe(source), start, end)

    def _resampled(self, key: SeriesKey, source: SeriesKey, start: int | None, end: int | None) -> Candles:
        info = self.info(source)
        if info is None:  # removed since source_timeframe looked
            return Candles.empty(key.timeframe)
        frame = key.frame
        lo = None if start is None else frame.floor_one(start)
        hi = None if end is None else frame.next_open(end - 1)
        covered = (info.first, source.frame.next_open(info.last))
        return resample(self.read(source, lo, hi), key.timeframe, covered=covered).slice(start, end)

    def page(self, key: SeriesKey, start: int | None = None, end: int | None = None, *, skip: int = 0,
             limit: int | None = None, descending: bool = False) -> Page:
        """`limit` candles of `key` in `[start, end)` after skipping `skip`, oldest first
        (newest first with `descending`), and how many the range holds. Stored series read
        only the chunks the page needs; other timeframes are resampled (`load`)."""
        source = self.source_timeframe(key)
        if source is None:
            return Page(0, Candles.empty(key.timeframe), None)
        if source != key.timeframe:
            candles = self._resampled(key, key.with_timeframe(source), start, end)
            total = len(candles)
            lo, hi = _window(total, skip, limit, descending)
            return Page(total, _ordered(candles[lo:hi], descending), source,
                        _following(find_gaps(candles.timestamp, key.frame), candles[lo:hi], key.frame))
        total, candles, gaps = _retry(lambda: self._stored_page(key, start, end, skip, limit, descending))
        return Page(total, candles, source, gaps)

    def _stored_page(self, key: SeriesKey, start: int | None, end: int | None, skip: int, limit: int | None,
                     descending: bool) -> tuple[int, Candles, list[Gap]]:
        with self._reading(key) as reader:
            directory = reader.directory()
            metas = [meta for meta in directory if meta.touches(start, end)]
            edges = reader.load([meta.number for meta in metas if not meta.within(start, end)])
            counts = [meta.count if meta.within(start, end)
                      else len(decode(key.timeframe, [edges[meta.number]]).slice(start, end)) for meta in metas]
            total = sum(counts)
            lo, hi = _window(total, skip, limit, descending)
            offsets = np.concatenate(([0], np.cumsum(counts))).astype(int)
            needed = [i for i in range(len(metas)) if offsets[i] < hi and offsets[i + 1] > lo]
            missing = [metas[i].number for i in needed if metas[i].number not in edges]
            blobs = {**edges, **reader.load(missing)}
        if not needed:
            return total, Candles.empty(key.timeframe), []
        span = decode(key.timeframe, [blobs[metas[i].number] for i in needed]).slice(start, end)
        base = int(offsets[needed[0]])
        page = span[lo - base:hi - base]
        return total, _ordered(page, descending), _following(_series_gaps(directory, key.frame), page, key.frame)


def _following(gaps: list[Gap], page: Candles, frame: Timeframe) -> list[Gap]:
    """The gaps that start right after one of `page`'s candles (in time order)."""
    if not len(page):
        return []
    first, last = int(page.timestamp.min()), int(page.timestamp.max())
    return [gap for gap in gaps if first < gap.start <= frame.next_open(last)]


def _window(total: int, skip: int, limit: int | None, descending: bool) -> tuple[int, int]:
    """Positions `[lo, hi)` (in ascending order) of a page."""
    count = max(0, total - skip) if limit is None else max(0, min(limit, total - skip))
    return (total - skip - count, total - skip) if descending else (skip, skip + count)


def _ordered(candles: Candles, descending: bool) -> Candles:
    return candles[::-1] if descending else candles


def _retry(attempt: Callable[[], T]) -> T:
    for tries in range(ATTEMPTS - 1):
        try:
            return attempt()
        except StoreConflict:
            time.sleep(random.uniform(0, min(BACKOFF, 0.001 * 2**tries)))
    return attempt()


def _series_gaps(metas: list[ChunkMeta], frame: Timeframe) -> list[Gap]:
    gaps: list[Gap] = []
    for previous, meta in zip([None, *metas[:-1]], metas, strict=True):
        if previous is not None:
            gaps += gaps_between(previous.last, meta.first, frame)
        gaps += meta.gaps
    return gaps


def _check_clean(key: SeriesKey, candles: Candles) -> None:
    if candles.timeframe != key.timeframe:
        raise InvalidData(f"{candles.timeframe} candles can not be written to a {key.timeframe} series",
                          timeframe=candles.timeframe)
    ts = candles.timestamp
    if len(ts) > 1 and not bool(np.all(np.diff(ts) > 0)):
        raise InvalidData("Candles must be in strictly increasing time order, without duplicates")
    if len(ts) and not np.array_equal(key.frame.floor(ts), ts):
        raise InvalidData(f"Candle timestamps must be {key.timeframe} candle opens")
    prices = np.stack([candles.open, candles.high, candles.low, candles.close])
    if not bool(np.all(np.isfinite(prices))):
        raise InvalidData("Candle prices must be finite numbers")


def _merge(old: Candles | None, new: Candles) -> tuple[Candles, WriteReport]:
    """`new` over `old`: the union by timestamp, `new`'s values where both have one."""
    if old is None or not len(old):
        return new, WriteReport(inserted=len(new))
    position = np.searchsorted(old.timestamp, new.timestamp)
    clipped = np.minimum(position, len(old) - 1)
    present = old.timestamp[clipped] == new.timestamp
    same = present.copy()
    for name in FIELDS[1:]:
        before, after = getattr(old, name)[clipped], getattr(new, name)
        same &= (before == after) | (np.isnan(before) & np.isnan(after))
    kept = np.ones(len(old), dtype=bool)
    kept[clipped[present]] = False
    union = Candles.concat(new.timeframe, [old[kept], new]) if kept.any() else new
    order = np.argsort(union.timestamp, kind="stable")
    merged = Candles(new.timeframe, *(getattr(union, name)[order] for name in FIELDS))
    unchanged = int(same.sum())
    return merged, WriteReport(inserted=int((~present).sum()), replaced=int(present.sum()) - unchanged,
                               unchanged=unchanged)
