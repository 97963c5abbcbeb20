"""`candles` and `candles/series` over REST and Socket.IO, on memory and SQLite storage (candles in <data_dir>/candles.db)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest

from engine.candles import SeriesKey, SqliteCandleStore
from platform_support import Platform, not_authenticated, socket_login
from tests.engine.candle_support import HOUR, MINUTE, START, walk

KEY = SeriesKey("binance", "BTC/USDT", "1m")
BASE = "/candles?exchange=binance&symbol=BTC/USDT"
HOLES = [30, 31, 32, 500]


@pytest.fixture
def minutes(tmp_path: Path):
    """2000 one-minute candles (four missing) stored where the platform's data directory keeps them."""
    candles = walk(2000)
    keep = np.ones(len(candles), dtype=bool)
    keep[HOLES] = False
    candles = candles[keep]
    store = SqliteCandleStore(tmp_path / "candles.db")
    store.write(KEY, candles)
    store.write(SeriesKey("sim", "ETH/USDT", "1d"), walk(10, frame="1d"))
    store.close()
    return candles


def as_records(candles) -> list[dict]:
    return [{"timestamp": c.timestamp, "open": c.open, "high": c.high, "low": c.low, "close": c.close,
             "volume": c.volume} for c in candles]


async def signed_in(platform: Platform) -> str:
    _, token = await platform.member("ann@example.com")
    return token


async def test_reading_candles_needs_a_signed_in_user(platform: Platform, minutes) -> None:
    assert await platform.request("GET", f"{BASE}&timeframe=1m") == (401, not_authenticated("Not authenticated"))
    assert (await platform.request("GET", "/candles/series"))[0] == 401


async def test_a_page_of_candles_with_its_series_and_gaps(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    status, page = await platform.request("GET", f"{BASE}&timeframe=1m", token=token)
    assert status == 200
    assert (page["total"], page["limit"], page["skip"]) == (1996, 25, 0)
    assert page["data"] == as_records(minutes[:25])
    assert (page["exchange"], page["symbol"], page["timeframe"], page["source"]) == ("binance", "BTC/USDT", "1m", "1m")
    assert page["gaps"] == []
    status, page = await platform.request("GET", f"{BASE}&timeframe=1m&$skip=20&$limit=10", token=token)
    assert page["data"][-1]["timestamp"] == START + 29 * MINUTE
    assert page["gaps"] == [{"start": START + 30 * MINUTE, "end": START + 33 * MINUTE, "missing": 3}]


async def test_ranges_in_milliseconds_or_iso_dates_and_newest_first(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    lo, hi = START + 100 * MINUTE, START + 200 * MINUTE
    status, page = await platform.request(
        "GET", f"{BASE}&timeframe=1m&timestamp[$gte]={lo}&timestamp[$lt]={hi}&$limit=1000", token=token)
    assert (status, page["total"]) == (200, 100)
    assert page["data"] == as_records(minutes.slice(lo, hi))
    iso = quote("2024-01-01T01:40:00Z")  # START + 100 minutes
    status, same = await platform.request(
        "GET", f"{BASE}&timeframe=1m&timestamp[$gte]={iso}&timestamp[$lt]={hi}&$limit=1000", token=token)
    assert (status, same["data"]) == (200, page["data"])
    status, newest = await platform.request("GET", f"{BASE}&timeframe=1m&$sort[timestamp]=-1&$limit=3", token=token)
    assert [candle["timestamp"] for candle in newest["data"]] == minutes.timestamp[::-1][:3].tolist()


async def test_pages_are_capped_at_1000_candles(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    status, page = await platform.request("GET", f"{BASE}&timeframe=1m&$limit=5000", token=token)
    assert (status, page["limit"], len(page["data"])) == (200, 1000, 1000)


async def test_a_timeframe_not_stored_is_resampled(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    status, page = await platform.request("GET", f"{BASE}&timeframe=1h&$limit=100", token=token)
    assert (status, page["source"], page["total"]) == (200, "1m", 33)  # 2000 minutes: 33 whole hours
    first = page["data"][0]
    hour = minutes.slice(START, START + HOUR)
    assert first == {"timestamp": START, "open": hour.open[0], "high": hour.high.max(), "low": hour.low.min(),
                     "close": hour.close[-1], "volume": pytest.approx(hour.volume.sum())}


@pytest.mark.parametrize("timeframe", ["7x", "30s"])
async def test_a_timeframe_neither_stored_nor_derivable_is_invalid(platform: Platform, minutes, timeframe: str) -> None:
    token = await signed_in(platform)
    status, body = await platform.request("GET", f"{BASE}&timeframe={timeframe}", token=token)
    assert (status, body["name"], body["data"]["code"]) == (400, "BadRequest", "INVALID_TIMEFRAME")
    assert timeframe in body["message"]


async def test_nothing_stored_is_an_empty_page(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    status, page = await platform.request("GET", "/candles?exchange=kraken&symbol=BTC/EUR&timeframe=1h", token=token)
    assert (status, page["total"], page["data"], page["source"]) == (200, 0, [], None)


@pytest.mark.parametrize(("query", "errors"), [
    ("timeframe=1m", {"exchange": ["Missing data for required field."], "symbol": ["Missing data for required field."]}),
    ("exchange=binance&symbol=BTC/USDT&timeframe=1m&timestamp[$gte]=yesterday",
     {"timestamp": {"$gte": ["Not a timestamp: epoch milliseconds or an ISO 8601 date."]}}),
    ("exchange=binance&symbol=BTC/USDT&timeframe=1m&close[$gt]=5", {"close": ["Unknown field."]}),
    ("exchange=binance&symbol=BTC/USDT&timeframe=1m&timestamp[$ne]=5", {"timestamp": {"$ne": ["Operator not allowed."]}}),
    ("exchange[$ne]=binance&symbol=BTC/USDT&timeframe=1m", {"exchange": {"$ne": ["Operator not allowed."]}}),
])
async def test_bad_queries_are_400_with_per_field_errors(platform: Platform, minutes, query: str, errors: dict) -> None:
    token = await signed_in(platform)
    status, body = await platform.request("GET", f"/candles?{query}", token=token)
    assert (status, body["message"], body["errors"]) == (400, "validation failed", errors)


async def test_clients_can_not_write_candles(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    candle = {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m", "timestamp": START, "open": 1}
    assert (await platform.request("POST", "/candles", json=candle, token=token))[0] == 405
    assert (await platform.request("DELETE", "/candles/1", token=token))[0] == 405


async def test_stored_series_with_range_count_and_gaps(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    status, page = await platform.request("GET", "/candles/series", token=token)
    assert status == 200 and page["total"] == 2
    assert page["data"][0] == {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m", "first": START,
                               "last": START + 1999 * MINUTE, "count": 1996, "gapCount": 2, "missing": 4}
    status, only = await platform.request("GET", "/candles/series?exchange=sim&timeframe=1d", token=token)
    assert [(series["symbol"], series["count"]) for series in only["data"]] == [("ETH/USDT", 10)]


async def test_an_api_key_reads_candles_too(platform: Platform, minutes) -> None:
    token = await signed_in(platform)
    _, key = await platform.request("POST", "/api-keys", json={"name": "charts"}, token=token)
    status, page = await platform.request("GET", f"{BASE}&timeframe=1m&$limit=1", api_key=key["key"])
    assert (status, page["total"]) == (200, 1996)


async def test_candles_over_socket_io(platform: Platform, minutes, sockets) -> None:
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    refused = await socket.call("find", "candles", {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m"})
    assert refused["name"] == "NotAuthenticated"  # an error is the ack's only argument
    await socket_login(socket, "ann@example.com")
    error, page = await socket.call("find", "candles", {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "5m",
                                                        "timestamp": {"$gte": START}, "$limit": 2})
    assert error is None and page["source"] == "1m" and len(page["data"]) == 2
    assert page["data"][0]["timestamp"] == START
    error = await socket.call("find", "candles", {"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "7x"})
    assert error["data"]["code"] == "INVALID_TIMEFRAME" and error["code"] == 400
    error, series = await socket.call("find", "candles/series", {"symbol": "BTC/USDT"})
    assert error is None and [s["timeframe"] for s in series["data"]] == ["1m"]


async def test_unknown_volume_is_null(platform: Platform, tmp_path: Path) -> None:
    candles = walk(3, frame="1h")
    candles.volume[:] = np.nan
    store = SqliteCandleStore(tmp_path / "candles.db")
    store.write(SeriesKey("sim", "BTC/USDT", "1h"), candles)
    store.close()
    token = await signed_in(platform)
    status, page = await platform.request("GET", "/candles?exchange=sim&symbol=BTC/USDT&timeframe=1h", token=token)
    assert status == 200 and [candle["volume"] for candle in page["data"]] == [None, None, None]


async def test_the_openapi_document_describes_candles(platform: Platform) -> None:
    status, spec = await platform.request("GET", "/openapi.json")
    assert status == 200
    operation = spec["paths"]["/candles"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"exchange", "symbol", "timeframe", "timestamp[$gte]", "timestamp[$lt]", "$sort[timestamp]", "$limit"} <= names
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["data"]["items"] == {"$ref": "#/components/schemas/CandlesResult"}
    assert set(spec["components"]["schemas"]["CandlesResult"]["properties"]) == {
        "timestamp", "open", "high", "low", "close", "volume"}
    assert "/candles/series" in spec["paths"]
