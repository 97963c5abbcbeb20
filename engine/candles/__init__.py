"""Market history: OHLCV series as arrays, their store, import, download, resampling and live building.

* `Candles` (numpy columns) is the unit everything exchanges; `Candle` one row of it.
* `timeframe("1h")` parses ccxt's timeframe strings and knows candle boundaries.
* `CandleStore` keeps series by `SeriesKey(exchange, symbol, timeframe)` as binary chunks:
  `SqliteCandleStore` (a file) or `MongoCandleStore` (pymongo), one interface.
* `read_candle_file` reads backtesting.py/freqtrade/ccxt files; `clean_candles` turns raw
  rows into a clean series and reports what it found; `find_gaps` lists missing candles.
* `download_candles` pages through ccxt's `fetch_ohlcv` into a store.
* `resample` builds a coarser timeframe from a finer one.
* `CandleBuilder` (trades, tickers) and `OhlcvCloser` (`watch_ohlcv`) hand on closed
  candles of a live stream.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .builder import CandleBuilder, OhlcvCloser
from .cleaning import CleanReport, clean_candles
from .gaps import Gap, find_gaps
from .resample import can_resample, resample
from .series import Candle, Candles
from .sqlite_store import SqliteCandleStore
from .store import CandleStore, Page, SeriesInfo, SeriesKey, WriteReport
from .timeframes import Timeframe, timeframe

if TYPE_CHECKING:
    from .download import DownloadProgress, DownloadReport, download_candles
    from .files import ImportReport, read_candle_file
    from .mongo_store import MongoCandleStore

__all__ = [
    "Candle", "CandleBuilder", "CandleStore", "Candles", "CleanReport", "DownloadProgress", "DownloadReport", "Gap",
    "ImportReport", "MongoCandleStore", "OhlcvCloser", "Page", "SeriesInfo", "SeriesKey", "SqliteCandleStore",
    "Timeframe", "WriteReport", "can_resample", "clean_candles", "download_candles", "find_gaps", "read_candle_file",
    "resample", "timeframe",
]

_LAZY = {"DownloadProgress": "download", "DownloadReport": "download", "download_candles": "download",
         "ImportReport": "files", "read_candle_file": "files", "MongoCandleStore": "mongo_store"}
"""Exports whose modules import big libraries (ccxt, pandas, pymongo): imported at first use,
so that a backtest worker, which needs `Candles` only, starts without them."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
