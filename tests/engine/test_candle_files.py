"""Reading OHLCV files: backtesting.py's real data, freqtrade's and ccxt's layouts, and every data problem reported."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import backtesting
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import clean_candles, read_candle_file
from engine.candles.cleaning import INCONSISTENT, MISSING_VALUE, OUT_OF_RANGE, UNREADABLE_TIME
from engine.errors import InvalidData
from tests.engine.candle_support import HOUR, START

DATA = Path(backtesting.__file__).parent / "test"
DAY = 86_400_000


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def test_backtesting_py_daily_file_with_its_weekend_gaps() -> None:
    candles, report = read_candle_file(DATA / "GOOG.csv", "1d")
    source = pd.read_csv(DATA / "GOOG.csv", index_col=0, parse_dates=True)
    assert report.layout == "backtesting.py" and report.timestamps.startswith("ISO 8601")
    assert report.count == len(source) == len(candles)
    assert report.first == ms("2004-08-19") and candles.close[0] == source["Close"].iloc[0]
    np.testing.assert_array_equal(candles.volume, source["Volume"].to_numpy(dtype=float))
    assert report.clean.dropped == 0 and report.clean.duplicates == 0 and not report.clean.unsorted
    first_weekend = report.gaps[0]  # Friday 2004-08-20, then Monday 2004-08-23
    assert (first_weekend.start, first_weekend.end, first_weekend.missing) == (ms("2004-08-21"), ms("2004-08-23"), 2)


def test_backtesting_py_hourly_file() -> None:
    _, report = read_candle_file(DATA / "EURUSD.csv", "1h")
    assert report.count == 5000 and report.first == ms("2017-04-19T09:00")
    assert all(gap.missing >= 1 for gap in report.gaps) and len(report.gaps) > 10  # weekends


def test_a_file_labelling_candles_by_a_later_instant_is_refused_unless_floored() -> None:
    with pytest.raises(InvalidData) as refused:
        read_candle_file(DATA / "BTCUSD.csv", "1M")
    assert "2012-01-31" in refused.value.message and refused.value.details["misaligned"] == 156
    candles, report = read_candle_file(DATA / "BTCUSD.csv", "1M", align="floor")
    assert report.clean.realigned == 156 and report.gaps == []
    assert candles.timestamp[:2].tolist() == [ms("2012-01-01"), ms("2012-02-01")]


def test_freqtrade_csv_and_json_files(tmp_path: Path) -> None:
    rows = [[START + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0 * i] for i in range(5)]
    csv = tmp_path / "BTC_USDT-1h.csv"
    dates = pd.to_datetime([row[0] for row in rows], unit="ms", utc=True)
    pd.DataFrame({"date": dates, **{name: [row[i + 1] for row in rows] for i, name in
                                    enumerate(("open", "high", "low", "close", "volume"))}}).to_csv(csv, index=False)
    assert "+00:00" in csv.read_text()
    from_csv, report = read_candle_file(csv, "1h")
    assert report.layout == "freqtrade" and from_csv.to_ohlcv() == rows
    jsongz = tmp_path / "BTC_USDT-1h.json.gz"
    with gzip.open(jsongz, "wt") as handle:
        json.dump(rows, handle)
    from_json, report = read_candle_file(jsongz, "1h")
    assert report.timestamps == "epoch milliseconds" and from_json.to_ohlcv() == rows


@pytest.mark.parametrize(("scale", "unit"), [(1000, "seconds"), (1, "milliseconds"), (1 / 1000, "microseconds")])
def test_ccxt_rows_without_a_header_in_any_epoch_unit(tmp_path: Path, scale: float, unit: str) -> None:
    rows = [[START + i * HOUR, 1.0, 2.0, 0.5, 1.5, 3.0] for i in range(3)]
    path = tmp_path / "rows.csv"
    path.write_text("".join(f"{int(row[0] / scale)},{row[1]},{row[2]},{row[3]},{row[4]},{row[5]}\n" for row in rows))
    candles, report = read_candle_file(path, "1h")
    assert report.layout == "ccxt rows (no header)" and report.timestamps == f"epoch {unit}"
    assert candles.to_ohlcv() == rows


def test_dates_with_offsets_are_converted_to_utc_and_a_missing_volume_stays_unknown(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("Time,Open,High,Low,Close\n2024-01-01T03:00:00+02:00,1,2,0.5,1.5\n2024-01-01T00:00:00Z,1,2,1,1\n")
    candles, report = read_candle_file(path, "1h")
    assert report.layout == "CSV with a header" and report.clean.unsorted
    assert candles.timestamp.tolist() == [START, START + HOUR]
    assert np.isnan(candles.volume).all()


def test_every_data_problem_is_found_and_reported(tmp_path: Path) -> None:
    lines = [
        "timestamp,open,high,low,close,volume",
        f"{START + 2 * HOUR},10,11,9,10.5,1",      # 1: out of order (sorted)
        f"{START},10,11,9,10.5,1",                 # 2
        f"{START + HOUR},10,11,9,10.5,1",          # 3: duplicated by 4 with the same values
        f"{START + HOUR},10,11,9,10.5,1",          # 4
        f"{START + 2 * HOUR},10,12,9,11,2",        # 5: conflicts with 1, and wins (later in the file)
        "not a date,10,11,9,10,1",                 # 6: unreadable timestamp
        f"{START + 3 * HOUR},,11,9,10,1",          # 7: missing open
        f"{START + 4 * HOUR},10,11,9,abc,1",       # 8: non-numeric close
        f"{START + 5 * HOUR},-1,11,9,10,1",        # 9: negative price
        f"{START + 6 * HOUR},10,11,9,10,-5",       # 10: negative volume
        f"{START + 7 * HOUR},10,9.5,9,10,1",       # 11: high below the open
        f"{START + 10 * HOUR},10,11,9,10,1",       # 12: after a gap of 7 hours (3..9)
    ]
    path = tmp_path / "messy.csv"
    path.write_text("\n".join(lines) + "\n")
    candles, report = read_candle_file(path, "1h")
    clean = report.clean
    assert clean.rows == 12 and clean.unsorted
    assert clean.invalid == {UNREADABLE_TIME: 1, MISSING_VALUE: 2, OUT_OF_RANGE: 2, INCONSISTENT: 1}
    assert clean.invalid_rows == [6, 7, 8, 9, 10, 11]
    assert (clean.duplicates, clean.conflicts, clean.conflict_examples) == (2, 1, [START + 2 * HOUR])
    assert candles.timestamp.tolist() == [START, START + HOUR, START + 2 * HOUR, START + 10 * HOUR]
    assert candles.high[2] == 12  # the later row won
    assert [(gap.start, gap.end, gap.missing) for gap in report.gaps] == [(START + 3 * HOUR, START + 10 * HOUR, 7)]


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty"),
    ("date,open,high,close\n2024-01-01,1,2,1\n", "no low column"),
    ("open,high,low,close\n1,2,0.5,1\n", "no timestamp"),
    ("1,2,3\n4,5,6\n", "headerless rows need"),
])
def test_unreadable_layouts_are_refused_with_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InvalidData) as refused:
        read_candle_file(path, "1h")
    assert message in refused.value.message and refused.value.code == "INVALID_DATA"


def test_a_json_file_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"candles": []}))
    with pytest.raises(InvalidData, match="JSON list"):
        read_candle_file(path, "1h")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.floats(1, 100)), min_size=1, max_size=60))
def test_duplicates_collapse_to_the_last_row_and_the_result_is_one_clean_series(rows: list[tuple[int, float]]) -> None:
    ts = np.array([START + hour * HOUR for hour, _ in rows], dtype=np.int64)
    price = np.array([value for _, value in rows])
    candles, report = clean_candles("1h", ts, price, price, price, price, np.ones(len(rows)))
    last = {START + hour * HOUR: value for hour, value in rows}
    assert candles.timestamp.tolist() == sorted(last)
    assert candles.close.tolist() == [last[t] for t in sorted(last)]
    assert report.duplicates == len(rows) - len(last)
    assert report.unsorted == (ts.tolist() != sorted(ts.tolist()))
    conflicting = {START + hour * HOUR for hour, value in rows if value != last[START + hour * HOUR]}
    assert report.conflicts == len(conflicting)
