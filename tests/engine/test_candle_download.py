"""Downloading candles through ccxt's real binance client against the local Binance server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from engine.candles import Candles, DownloadProgress, SeriesKey, SqliteCandleStore, WriteReport, download_candles
from engine.clock import ManualClock
from engine.errors import ExchangeNotAvailable, InvalidSymbol, InvalidTimeframe
from tests.engine.candle_support import HOUR, START, walk

KEY = SeriesKey("binance", "BTC/USDT", "1h")


@pytest.fixture
def store(tmp_path: Path) -> SqliteCandleStore:
    made = SqliteCandleStore(tmp_path / "candles.db")
    yield made
    made.close()


@pytest.fixture
async def exchange(fake_binance) -> AsyncIterator:
    """ccxt's binance client on the local server; a 1 ms rate limit keeps tests quick (the limiter stays on)."""
    client = fake_binance.client(rateLimit=1)
    yield client
    await client.close()


def klines_asked(fake) -> list[dict[str, str]]:
    return [params for method, path, params in fake.requests if path == "/api/v3/klines"]


def still_forming(candles: Candles) -> ManualClock:
    """A clock in the middle of the last candle: that one is still forming."""
    return ManualClock(int(candles.timestamp[-1]) + HOUR // 2)


async def test_history_is_downloaded_page_by_page_without_the_forming_candle(fake_binance, exchange, store) -> None:
    series = walk(2500, frame="1h")
    fake_binance.add_klines("BTC/USDT", "1h", series)
    progress: list[DownloadProgress] = []
    report = await download_candles(exchange, store, KEY, since=START, clock=still_forming(series),
                                    on_page=progress.append)
    closed = series[:-1]
    assert (report.pages, report.candles, report.written) == (3, 2499, WriteReport(inserted=2499))
    assert (report.first, report.last, report.gaps, report.resumed) == (START, int(closed.timestamp[-1]), [], False)
    asked = klines_asked(fake_binance)
    assert [int(params["startTime"]) for params in asked] == [START, START + 1000 * HOUR, START + 2000 * HOUR]
    assert {params["limit"] for params in asked} == {"1000"}  # the page size ccxt states for binance spot
    stored = store.read(KEY)
    np.testing.assert_array_equal(stored.timestamp, closed.timestamp)
    np.testing.assert_allclose(stored.close, closed.close, rtol=1e-8)  # prices travelled as 8-decimal strings
    assert [step.candles for step in progress] == [1000, 2000, 2499]
    assert all(step.expected == 2499 and step.since == START for step in progress)


async def test_an_interrupted_download_resumes_after_the_last_stored_candle(fake_binance, exchange, store) -> None:
    series = walk(1500, frame="1h")
    fake_binance.add_klines("BTC/USDT", "1h", series)
    clock = still_forming(series)
    first = await download_candles(exchange, store, KEY, since=START, until=START + 600 * HOUR, clock=clock, limit=250)
    assert (first.candles, first.pages) == (600, 3)
    fake_binance.requests.clear()
    again = await download_candles(exchange, store, KEY, since=START, clock=clock, limit=500)
    assert again.resumed and again.since == START + 600 * HOUR
    assert [int(params["startTime"]) for params in klines_asked(fake_binance)] == [START + 600 * HOUR, START + 1100 * HOUR]
    assert again.written == WriteReport(inserted=899) and store.info(KEY).count == 1499


async def test_downloading_again_changes_nothing(fake_binance, exchange, store) -> None:
    series = walk(300, frame="1h")
    fake_binance.add_klines("BTC/USDT", "1h", series)
    clock = still_forming(series)
    await download_candles(exchange, store, KEY, since=START, clock=clock)
    report = await download_candles(exchange, store, KEY, since=START, clock=clock, resume=False)
    assert report.written == WriteReport(unchanged=299) and not report.resumed


async def test_the_exchanges_own_gaps_are_reported_not_filled(fake_binance, exchange, store) -> None:
    series = walk(100, frame="1h")
    keep = np.ones(100, dtype=bool)
    keep[40:45] = False
    fake_binance.add_klines("BTC/USDT", "1h", series[keep])
    report = await download_candles(exchange, store, KEY, since=START, clock=ManualClock(START + 200 * HOUR))
    assert [(gap.start, gap.end, gap.missing) for gap in report.gaps] == [(START + 40 * HOUR, START + 45 * HOUR, 5)]
    assert report.candles == 95 and store.info(KEY).count == 95


async def test_other_timeframes_come_from_the_exchange_itself(
        fake_binance, exchange, store) -> None:
    """Binance serves 4h klines itself (here built by the fake from its 1h series)."""
    fake_binance.add_klines("BTC/USDT", "1h", walk(48, frame="1h"))
    key = KEY.with_timeframe("4h")
    report = await download_candles(exchange, store, key, since=START, clock=ManualClock(START + 100 * HOUR))
    assert report.candles == 12 and store.read(key).timestamp[1] == START + 4 * HOUR


async def test_bad_requests_are_refused_with_engine_errors(fake_binance, exchange, store) -> None:
    clock = ManualClock(START + 10 * HOUR)
    with pytest.raises(InvalidSymbol) as unknown:
        await download_candles(exchange, store, SeriesKey("binance", "BTC/USDC", "1h"), since=START, clock=clock)
    assert "BTC/USDT" in unknown.value.details["suggestions"]
    with pytest.raises(InvalidTimeframe) as unsupported:
        await download_candles(exchange, store, KEY.with_timeframe("2m"), since=START, clock=clock)
    assert "1m" in unsupported.value.details["supported"]
    unthrottled = fake_binance.client(enableRateLimit=False)
    with pytest.raises(ValueError, match="rate limiter"):
        await download_candles(unthrottled, store, KEY, since=START, clock=clock)
    await unthrottled.close()
    assert klines_asked(fake_binance) == []


async def test_an_outage_mid_download_keeps_what_was_fetched(fake_binance, exchange, store) -> None:
    series = walk(600, frame="1h")
    fake_binance.add_klines("BTC/USDT", "1h", series)

    def outage(step: DownloadProgress) -> None:
        fake_binance.unavailable = True

    with pytest.raises(ExchangeNotAvailable):
        await download_candles(exchange, store, KEY, since=START, clock=still_forming(series), limit=200,
                               on_page=outage)
    assert store.info(KEY).count == 200
    fake_binance.unavailable = False
    resumed = await download_candles(exchange, store, KEY, since=START, clock=still_forming(series), limit=200)
    assert resumed.resumed and store.info(KEY).count == 599
