"""The public API of `engine.candles` is what it exports; the platform picks a store by configuration."""

from pathlib import Path

import pytest

import engine.candles
from engine.candles import MongoCandleStore, SqliteCandleStore
from services.candles.store import candle_store, store_kind


def test_engine_candles_exports() -> None:
    assert sorted(engine.candles.__all__) == [
        "Candle", "CandleBuilder", "CandleStore", "Candles", "CleanReport", "DownloadProgress", "DownloadReport",
        "Gap", "ImportReport", "MongoCandleStore", "OhlcvCloser", "Page", "SeriesInfo", "SeriesKey",
        "SqliteCandleStore", "Timeframe", "WriteReport", "can_resample", "clean_candles", "download_candles",
        "find_gaps", "read_candle_file", "resample", "timeframe"]


@pytest.mark.parametrize(("settings", "kind"), [
    ({}, "sqlite"),
    ({"storage": "memory"}, "sqlite"),  # candles come from the command line: kept in the file
    ({"storage": "mongodb"}, "mongodb"),
    ({"storage": "mongodb", "candles": {"store": "sqlite"}}, "sqlite"),
    ({"storage": "sqlite", "candles": {"store": "mongodb"}}, "mongodb"),
])
def test_the_candle_store_follows_the_configuration(settings: dict, kind: str) -> None:
    assert store_kind(settings) == kind


def test_candle_stores_from_settings(tmp_path: Path) -> None:
    store = candle_store({"data_dir": str(tmp_path), "storage": "memory"})
    assert isinstance(store, SqliteCandleStore) and store.path == tmp_path / "candles.db"
    store.close()
    mongo = candle_store({"storage": "mongodb", "mongodb": {"url": "mongodb://127.0.0.1:1", "database": "x"}})
    assert isinstance(mongo, MongoCandleStore) and mongo.database == "x"
    mongo.close()
    with pytest.raises(ValueError, match=r"candles\.store"):
        store_kind({"candles": {"store": "redis"}})
