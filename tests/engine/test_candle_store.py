"""The candle store, on SQLite and on MongoDB (nx-27017): writes, reads, pages, gaps, resampling."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import Candles, CandleStore, Gap, SeriesKey, SqliteCandleStore, WriteReport, resample
from engine.candles.chunks import CHUNK_CANDLES
from engine.candles.store import StoreConflict
from engine.errors import InvalidData, InvalidTimeframe
from tests.engine.candle_support import MINUTE, START, STORES, drop, make_store, walk

KEY = SeriesKey("sim", "BTC/USDT", "1m")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CandleStore]:
    """Each store kind in turn, empty."""
    made = make_store(request.param, tmp_path)
    yield made
    drop(made)


def assert_same(actual: Candles, expected: Candles) -> None:
    assert actual.timeframe == expected.timeframe
    for name in ("timestamp", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name), err_msg=name)


def without(candles: Candles, positions: list[int]) -> Candles:
    keep = np.ones(len(candles), dtype=bool)
    keep[positions] = False
    return candles[keep]


def test_candles_come_back_as_written_across_chunks(store) -> None:
    candles = walk(3 * CHUNK_CANDLES + 17)
    assert store.write(KEY, candles) == WriteReport(inserted=len(candles))
    assert_same(store.read(KEY), candles)
    info = store.info(KEY)
    assert (info.first, info.last, info.count, info.gaps) == (START, int(candles.timestamp[-1]), len(candles), [])
    assert store.keys() == [KEY]


def test_writing_the_same_candles_again_changes_nothing(store) -> None:
    candles = walk(2500)
    store.write(KEY, candles)
    assert store.write(KEY, candles) == WriteReport(unchanged=2500)
    assert_same(store.read(KEY), candles)


def test_overlapping_writes_merge_and_the_newer_values_win(store) -> None:
    old, new = walk(3000), walk(3000, start=START + 2000 * MINUTE, seed=2)
    store.write(KEY, old)
    # 1000 timestamps overlap; their values differ (another seed), except one made equal
    same = 2500
    new.close[same - 2000] = old.close[same]
    new.open[same - 2000], new.high[same - 2000] = old.open[same], old.high[same]
    new.low[same - 2000], new.volume[same - 2000] = old.low[same], old.volume[same]
    assert store.write(KEY, new) == WriteReport(inserted=2000, replaced=999, unchanged=1)
    assert_same(store.read(KEY), Candles.concat("1m", [old[:2000], new]))


def test_missing_candles_are_gaps_never_filled(store) -> None:
    full = walk(5000)
    # a gap inside a chunk, one across a chunk boundary, one single candle
    holes = [*range(100, 110), *range(CHUNK_CANDLES - 3, CHUNK_CANDLES + 5), 4000]
    store.write(KEY, without(full, holes))
    expected = [Gap(START + 100 * MINUTE, START + 110 * MINUTE, 10),
                Gap(START + (CHUNK_CANDLES - 3) * MINUTE, START + (CHUNK_CANDLES + 5) * MINUTE, 8),
                Gap(START + 4000 * MINUTE, START + 4001 * MINUTE, 1)]
    info = store.info(KEY)
    assert info.gaps == expected
    assert (info.count, info.missing) == (5000 - 19, 19)
    assert store.gaps(KEY, START + 200 * MINUTE, START + 4000 * MINUTE) == expected[1:2]
    assert store.gaps(KEY, START + 4000 * MINUTE) == expected[2:]
    assert len(store.read(KEY)) == 5000 - 19  # nothing invented
    # filling a gap later removes it
    store.write(KEY, full[100:110])
    assert store.info(KEY).gaps == expected[1:]


def test_reads_and_pages_cover_exactly_the_asked_range(store) -> None:
    candles = without(walk(3 * CHUNK_CANDLES), [50, 2100, 2101])
    store.write(KEY, candles)
    start, end = START + 40 * MINUTE, START + 5000 * MINUTE
    in_range = candles.slice(start, end)
    assert_same(store.read(KEY, start, end), in_range)
    for skip, limit in [(0, 25), (5, 100), (2040, 100), (len(in_range) - 3, 10), (len(in_range) + 5, 10), (0, None)]:
        page = store.page(KEY, start, end, skip=skip, limit=limit)
        assert (page.total, page.source) == (len(in_range), "1m")
        stop = None if limit is None else skip + limit
        assert_same(page.candles, in_range[skip:stop])
        newest = store.page(KEY, start, end, skip=skip, limit=limit, descending=True)
        assert newest.total == len(in_range)
        assert_same(newest.candles, in_range[::-1][skip:stop])
    # each gap is on the page holding the candle before it
    gap_50 = Gap(START + 50 * MINUTE, START + 51 * MINUTE, 1)
    gap_2100 = Gap(START + 2100 * MINUTE, START + 2102 * MINUTE, 2)
    first = store.page(KEY, start, end, limit=10)  # candles 40..49: the gap follows 49
    assert first.candles.timestamp[-1] == START + 49 * MINUTE and first.gaps == [gap_50]
    assert store.page(KEY, start, end, skip=10, limit=10).gaps == []
    assert store.page(KEY, start, end, skip=len(in_range) - 10, limit=10, descending=True).gaps == [gap_50]
    assert store.page(KEY, start, end, skip=2000, limit=100).gaps == [gap_2100]
    assert store.page(KEY, start, end, limit=3, descending=True).gaps == []


def test_unclean_candles_are_refused_and_nothing_is_written(store) -> None:
    candles = walk(10)
    shuffled = candles[np.array([1, 0, *range(2, 10)])]
    doubled = Candles.concat("1m", [candles[:5], candles[4:]])
    misaligned = Candles("1m", candles.timestamp + 1, candles.open, candles.high, candles.low, candles.close,
                         candles.volume)
    holed = walk(10)
    holed.close[3] = np.nan
    for bad in (shuffled, doubled, misaligned, holed, walk(10, frame="5m")):
        with pytest.raises(InvalidData):
            store.write(KEY, bad)
    assert store.info(KEY) is None and store.keys() == []


def test_unknown_volume_is_kept_as_unknown(store) -> None:
    candles = walk(10)
    candles.volume[:] = np.nan
    store.write(KEY, candles)
    assert np.isnan(store.read(KEY).volume).all()
    assert store.write(KEY, candles) == WriteReport(unchanged=10)


def test_series_are_listed_with_range_count_and_gaps_and_can_be_deleted(store) -> None:
    hourly = SeriesKey("binance", "ETH/USDT", "1h")
    store.write(KEY, without(walk(100), [10]))
    store.write(hourly, walk(24, frame="1h"))
    store.write(KEY.with_timeframe("5m"), walk(12, frame="5m"))
    assert [info.key for info in store.series()] == [hourly, KEY, KEY.with_timeframe("5m")]
    [minute] = store.series("sim", "BTC/USDT")[:1]
    assert (minute.count, minute.missing, minute.gaps) == (99, 1, [Gap(START + 10 * MINUTE, START + 11 * MINUTE, 1)])
    assert store.delete(hourly) is True and store.delete(hourly) is False
    assert store.keys("binance") == [] and store.read(hourly).timestamp.size == 0


def test_a_timeframe_not_stored_is_resampled_from_the_coarsest_that_builds_it(store) -> None:
    minutes = walk(24 * 60 + 30, start=START - 10 * MINUTE)  # starts and ends mid-hour
    store.write(KEY, minutes)
    hourly = KEY.with_timeframe("1h")
    assert store.source_timeframe(hourly) == "1m"
    expected = resample(minutes, "1h")
    assert len(expected) == 24  # the partial hours at both ends are left out
    assert_same(store.load(hourly), expected)
    page = store.page(hourly, START + 3_600_000, skip=2, limit=3, descending=True)
    assert (page.total, page.source) == (23, "1m")
    assert_same(page.candles, expected[1:][::-1][2:5])
    store.write(KEY.with_timeframe("5m"), resample(minutes, "5m"))
    assert store.source_timeframe(KEY.with_timeframe("15m")) == "5m"
    assert store.source_timeframe(KEY.with_timeframe("1m")) == "1m"
    with pytest.raises(InvalidTimeframe) as refused:
        store.load(SeriesKey("sim", "BTC/USDT", "30s"))
    assert refused.value.details["stored"] == ["1m", "5m"]
    nothing = SeriesKey("sim", "DOGE/USDT", "1h")
    assert store.source_timeframe(nothing) is None and len(store.load(nothing)) == 0
    assert store.page(nothing).total == 0


def test_concurrent_writers_lose_nothing(store) -> None:
    parts = [walk(600, start=START + i * 600 * MINUTE, seed=i) for i in range(6)]
    errors: list[BaseException] = []

    def write(part: Candles) -> None:
        try:
            for at in range(0, len(part), 100):
                store.write(KEY, part[at:at + 100])
        except BaseException as failure:  # reported by the assertion below
            errors.append(failure)

    threads = [threading.Thread(target=write, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_same(store.read(KEY), Candles.concat("1m", parts))


def test_a_writer_that_lost_a_race_retries_on_the_new_state(store, tmp_path: Path) -> None:
    """The MongoDB store's compare-and-set: a commit over a series changed since it was
    read fails (and leaves nothing behind); `write` then merges again."""
    store.write(KEY, walk(10))
    late = walk(10, seed=7)
    if isinstance(store, SqliteCandleStore):  # one writer at a time: the race can not happen
        assert store.write(KEY, late) == WriteReport(replaced=10)
        return
    with store._writing(KEY) as stale:
        stale.directory()
        store.write(KEY, walk(20))
        before = store.chunk_collection.count_documents({})
        from engine.candles.chunks import describe, encode

        with pytest.raises(StoreConflict):
            stale.commit([(describe(0, late, KEY.frame), encode(late))])
        assert store.chunk_collection.count_documents({}) == before
    assert_same(store.read(KEY), walk(20))


def test_the_sqlite_file_keeps_the_candles(tmp_path: Path) -> None:
    candles = walk(3000)
    first = SqliteCandleStore(tmp_path / "c.db")
    first.write(KEY, candles)
    first.close()
    again = SqliteCandleStore(tmp_path / "c.db")
    assert_same(again.read(KEY), candles)
    again.close()


def test_closing_the_sqlite_store_waits_for_reads_in_other_threads(tmp_path: Path) -> None:
    store = SqliteCandleStore(tmp_path / "c.db")
    store.write(KEY, walk(200_000))
    reading, results = threading.Event(), []
    original = store._reading

    @contextmanager
    def slow_reading(key: SeriesKey) -> Iterator[Any]:  # reads surely in progress when close() comes
        with original(key) as chunks:
            reading.set()
            yield chunks

    store._reading = slow_reading  # type: ignore[method-assign]
    reader = threading.Thread(target=lambda: results.append(len(store.read(KEY))))
    reader.start()
    assert reading.wait(5)
    store.close()  # closing the connection in use crashed the interpreter
    reader.join(10)
    assert results == [200_000]
    with pytest.raises(RuntimeError, match="closed"):
        store.read(KEY)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 700), st.integers(0, 3)), min_size=1, max_size=6))
def test_any_sequence_of_writes_equals_a_last_write_wins_model(writes: list[tuple[int, int, int]]) -> None:
    model: dict[int, tuple[float, ...]] = {}
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteCandleStore(Path(directory) / "c.db")
        for offset, count, seed in writes:
            part = walk(count, start=START + offset * MINUTE, seed=seed)
            rows = {candle.timestamp: tuple(candle[1:]) for candle in part}
            inserted = sum(t not in model for t in rows)
            unchanged = sum(model.get(t) == row for t, row in rows.items())
            assert store.write(KEY, part) == WriteReport(inserted, count - inserted - unchanged, unchanged)
            model.update(rows)
        stored = store.read(KEY)
        store.close()
    assert [candle.timestamp for candle in stored] == sorted(model)
    assert [tuple(candle[1:]) for candle in stored] == [model[t] for t in sorted(model)]
