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

from .builder import CandleBuilder, OhlcvCloser
from .cleaning import CleanReport, clean_candles
from .download import DownloadProgress, DownloadReport, download_candles
from .files import ImportReport, read_candle_file
from .gaps import Gap, find_gaps
from .mongo_store import MongoCandleStore
from .resample import can_resample, resample
from .series import Candle, Candles
from .sqlite_store import SqliteCandleStore
from .store import CandleStore, Page, SeriesInfo, SeriesKey, WriteReport
from .timeframes import Timeframe, timeframe

__all__ = [
    "Candle", "CandleBuilder", "CandleStore", "Candles", "CleanReport", "DownloadProgress", "DownloadReport", "Gap",
    "ImportReport", "MongoCandleStore", "OhlcvCloser", "Page", "SeriesInfo", "SeriesKey", "SqliteCandleStore",
    "Timeframe", "WriteReport", "can_resample", "clean_candles", "download_candles", "find_gaps", "read_candle_file",
    "resample", "timeframe",
]
