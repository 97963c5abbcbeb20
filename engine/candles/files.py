"""Reading OHLCV files: backtesting.py's, freqtrade's and ccxt's layouts, CSV or JSON.

Layouts recognised (`.csv`, `.json`, each optionally `.gz`):

* **backtesting.py** (`backtesting/test/BTCUSD.csv`, `GOOG.csv`, `EURUSD.csv`): a header
  whose first column is the unnamed date index, then `Open,High,Low,Close,Volume`;
* **freqtrade**: CSV with `date,open,high,low,close,volume` (its dataframe columns), or its
  `json`/`jsongz` data files, `[[timestamp_ms, open, high, low, close, volume], ...]`;
* **ccxt**: `fetch_ohlcv` rows, `[timestamp, open, high, low, close, volume]`, as headerless
  CSV or as a JSON list;
* any other CSV with a header naming a time column (`timestamp`, `date`, `datetime`,
  `time`, `open_time`, or the first column) and `open`, `high`, `low`, `close` and
  optionally `volume` columns, in any letter case.

Timestamps become UTC milliseconds at the candle's open. Numbers are read by magnitude:
below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds
(1e11 s is the year 5138, 1e11 ms is 1973). Text is read as ISO 8601 dates; one without
an offset is UTC. The rows are then cleaned (`cleaning.clean_candles`) and the gaps of the
result found (`ImportReport.gaps`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InvalidData
from .cleaning import CleanReport, clean_candles
from .gaps import Gap, find_gaps
from .series import Candles
from .timeframes import timeframe

__all__ = ["ImportReport", "read_candle_file", "timestamps_ms"]

PRICES = ("open", "high", "low", "close")
TIME_COLUMNS = ("timestamp", "date", "datetime", "time", "open_time", "opentime", "open time", "unnamed: 0", "")
SAMPLE_ROWS = 100
"""Values looked at to tell a column of numbers from a column of dates."""
UNITS = ((1e11, "seconds", 1000.0), (1e14, "milliseconds", 1.0), (1e17, "microseconds", 1e-3),
         (float("inf"), "nanoseconds", 1e-6))


@dataclass
class ImportReport:
    """What reading a file found: its `layout`, how its `timestamps` were read, the
    cleaning report, the resulting range (`first`, `last` opens in ms), `count`, `gaps`."""

    path: str
    layout: str
    timestamps: str
    clean: CleanReport
    count: int = 0
    first: int | None = None
    last: int | None = None
    gaps: list[Gap] = field(default_factory=list)


def timestamps_ms(column: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Epoch numbers (unit by magnitude) or ISO 8601 text as UTC ms: `(int64 ms, readable
    mask, how they were read)`. A column whose first values are mostly numbers is numbers;
    the rest of its values that are not are unreadable."""
    series = pd.Series(column)
    if not pd.api.types.is_numeric_dtype(series):
        sample = series.dropna().head(SAMPLE_ROWS)
        if pd.to_numeric(sample, errors="coerce").notna().sum() * 2 > len(sample):
            series = pd.to_numeric(series, errors="coerce")
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        readable = np.isfinite(values)
        magnitude = float(np.abs(values[readable]).max()) if readable.any() else 0.0
        _, unit, factor = next(unit for unit in UNITS if magnitude < unit[0])
        ms = np.zeros(len(values), dtype=np.int64)
        ms[readable] = np.rint(values[readable] * factor).astype(np.int64)
        return ms, readable, f"epoch {unit}"
    dates = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    if dates.isna().any():  # a second chance for values padded with spaces
        dates = dates.fillna(pd.to_datetime(series[dates.isna()].astype(str).str.strip(), utc=True, errors="coerce",
                                            format="ISO8601"))
    instants = dates.dt.tz_convert(None).to_numpy(dtype="datetime64[ms]")
    readable = ~np.isnat(instants)
    return np.where(readable, instants.astype(np.int64), 0), readable, "ISO 8601 dates (UTC unless an offset is given)"


def read_candle_file(path: str | Path, timeframe_text: str, *, align: str = "strict") -> tuple[Candles, ImportReport]:
    """The clean candles of the file at `path` for `timeframe_text`, and what was found.

    `InvalidData` for a file whose layout is not one of the above, and for timestamps
    that are not candle opens when `align` is "strict" (see `clean_candles`).
    """
    timeframe(timeframe_text)
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    table: Mapping[str, pd.Series | np.ndarray]  # columns by name: arrays from JSON, Series from CSV
    try:
        if name.endswith(".json"):
            layout, table = _json_rows(path)
        else:
            layout, table = _csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as failure:
        if isinstance(failure, InvalidData):
            raise
        reason = "the file is empty" if isinstance(failure, pd.errors.EmptyDataError) else str(failure)
        raise InvalidData(f"Can not read {path.name}: {reason}", path=str(path)) from None
    ms, readable, how = timestamps_ms(table["timestamp"])
    volume_known = "volume" in table
    volume = table["volume"] if volume_known else np.full(len(ms), np.nan)
    open_, high, low, close = (_floats(table[name]) for name in PRICES)
    candles, cleaning = clean_candles(timeframe_text, ms, open_, high, low, close, _floats(volume), readable=readable,
                                      volume_known=volume_known, align=align)
    report = ImportReport(str(path), layout, how, cleaning, len(candles))
    if len(candles):
        report.first, report.last = int(candles.timestamp[0]), int(candles.timestamp[-1])
        report.gaps = find_gaps(candles.timestamp, timeframe(timeframe_text))
    return candles, report


def _floats(column: pd.Series | np.ndarray) -> np.ndarray:
    return pd.to_numeric(pd.Series(column), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _json_rows(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        rows = json.load(handle)
    if not isinstance(rows, list) or not all(isinstance(row, list) and len(row) >= 6 for row in rows):
        raise InvalidData(f"{path.name}: expected a JSON list of [timestamp, open, high, low, close, volume] rows",
                          path=str(path))
    table = np.array([row[:6] for row in rows], dtype=np.float64).reshape(-1, 6)
    return "ccxt/freqtrade JSON rows", {name: table[:, i] for i, name in enumerate(("timestamp", *PRICES, "volume"))}


def _csv(path: Path) -> tuple[str, dict[str, pd.Series]]:
    first = pd.read_csv(path, nrows=1, header=None, dtype=str, skip_blank_lines=True)
    cells = [str(cell).strip() for cell in first.iloc[0].tolist()] if len(first) else []
    if not cells:
        raise InvalidData(f"{path.name} is empty", path=str(path))
    if len(cells) > 1 and all(_is_number(cell) for cell in cells[1:]):  # the first may be a date
        if len(cells) < 5:
            raise InvalidData(f"{path.name}: headerless rows need timestamp, open, high, low, close[, volume]",
                              path=str(path))
        frame = pd.read_csv(path, header=None)
        names = ("timestamp", *PRICES, "volume")[:min(6, len(frame.columns))]
        return "ccxt rows (no header)", {name: frame[i] for i, name in enumerate(names)}
    frame = pd.read_csv(path)
    lowered = {str(column).strip().lower(): column for column in frame.columns}
    missing = [name for name in PRICES if name not in lowered]
    if missing:
        raise InvalidData(f"{path.name}: no {', '.join(missing)} column (columns: {', '.join(map(str, frame.columns))})",
                          path=str(path))
    time_name = next((name for name in TIME_COLUMNS if name in lowered), None)
    time_column = lowered[time_name] if time_name is not None else frame.columns[0]
    if str(time_column).strip().lower() in (*PRICES, "volume"):
        raise InvalidData(f"{path.name}: no timestamp or date column", path=str(path))
    table = {"timestamp": frame[time_column], **{name: frame[lowered[name]] for name in PRICES}}
    if "volume" in lowered:
        table["volume"] = frame[lowered["volume"]]
    first_header = str(frame.columns[0]).strip().lower()
    if first_header.startswith("unnamed") and "Open" in frame.columns:
        layout = "backtesting.py"
    elif time_name == "date" and "open" in frame.columns:
        layout = "freqtrade"
    else:
        layout = "CSV with a header"
    return layout, table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
