"""`cryptorobot candles import|download|list`, run as a user runs them (the console script in a subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import backtesting
import pytest

from cryptorobot.config import load_config
from engine.candles import SeriesKey, SqliteCandleStore
from tests.engine.candle_support import HOUR, START, walk

DATA = Path(backtesting.__file__).parent / "test"
SCRIPT = Path(sys.executable).with_name("cryptorobot")


async def cryptorobot(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the `cryptorobot` command; (exit status, stdout, stderr)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRYPTOROBOT_")}
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "cryptorobot.cli"]
    process = await asyncio.create_subprocess_exec(*command, *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def line(output: str, label: str) -> str:
    """The summary line starting with `label`, without it."""
    return next(row.strip()[len(label):].strip() for row in output.splitlines() if row.strip().startswith(label))


async def test_importing_a_file_twice_stores_it_once(tmp_path: Path) -> None:
    args = ("candles", "import", str(DATA / "GOOG.csv"), "--exchange", "sim", "--symbol", "GOOG/USD",
            "--timeframe", "1d", "--data-dir", str(tmp_path / "data"))
    status, out, err = await cryptorobot(*args, cwd=tmp_path)
    assert (status, err) == (0, "")
    assert "backtesting.py" in out and line(out, "rows read") == "2148"
    assert line(out, "candles") == "2148  2004-08-19T00:00:00Z .. 2013-03-01T00:00:00Z"
    assert line(out, "gaps").startswith("463 (969 candles missing); first: 2004-08-21T00:00:00Z .. 2004-08-23T00:00:00Z")
    assert line(out, "stored") == "2148 new, 0 replaced, 0 unchanged"
    status, again, _ = await cryptorobot(*args, cwd=tmp_path)
    assert status == 0 and line(again, "stored") == "0 new, 0 replaced, 2148 unchanged"
    status, listing, _ = await cryptorobot("candles", "list", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert listing.splitlines()[1].split() == ["sim", "GOOG/USD", "1d", "2004-08-19T00:00:00Z", "2013-03-01T00:00:00Z",
                                               "2148", "463", "969"]


async def test_the_import_summary_names_every_problem(tmp_path: Path) -> None:
    messy = tmp_path / "messy.csv"
    messy.write_text("\n".join([
        "timestamp,open,high,low,close,volume",
        f"{START + HOUR},1,2,0.5,1.5,1", f"{START},1,2,0.5,1.5,1", f"{START + HOUR},1,3,0.5,1.5,1",
        f"{START + 2 * HOUR},,2,0.5,1.5,1", f"{START + 5 * HOUR},1,2,0.5,1.5,1"]) + "\n")
    status, out, _ = await cryptorobot("candles", "import", str(messy), "--exchange", "binance", "--symbol",
                                       "BTC/USDT", "--timeframe", "1h", "--data-dir", "data", cwd=tmp_path)
    assert status == 0
    assert line(out, "order") == "sorted (the file was not in time order)"
    assert line(out, "duplicates") == ("1 rows collapsed, the last in the file kept; 1 with different values "
                                       "(2024-01-01T01:00:00Z)")
    assert line(out, "dropped") == "1 (1 missing or non-numeric value; rows 4)"
    assert line(out, "gaps") == ("1 (3 candles missing); first: 2024-01-01T02:00:00Z .. 2024-01-01T05:00:00Z "
                                 "(3 missing) (not filled)")
    store = SqliteCandleStore(tmp_path / "data" / "candles.db")
    assert store.read(SeriesKey("binance", "BTC/USDT", "1h")).high.tolist() == [2, 3, 2]
    store.close()


async def test_a_file_dated_by_its_last_day_needs_floor(tmp_path: Path) -> None:
    args = ("candles", "import", str(DATA / "BTCUSD.csv"), "--exchange", "sim", "--symbol", "BTC/USD",
            "--timeframe", "1M", "--data-dir", "data")
    status, out, err = await cryptorobot(*args, cwd=tmp_path)
    assert (status, out) == (1, "")
    assert err.startswith("error: 156 of 156 timestamps are not 1M candle opens") and "--floor" in err
    status, out, _ = await cryptorobot(*args, "--floor", cwd=tmp_path)
    assert status == 0 and line(out, "realigned") == "156 (moved to the open of their 1M candle)"


@pytest.mark.parametrize(("args", "message"), [
    (("--exchange", "nowhere", "--symbol", "BTC/USDT", "--timeframe", "1h"), "unknown exchange 'nowhere'"),
    (("--exchange", "sim", "--symbol", "BTCUSDT", "--timeframe", "1h"), "not a unified symbol"),
    (("--exchange", "sim", "--symbol", "BTC/USDT", "--timeframe", "1x"), "Invalid timeframe '1x'"),
])
async def test_bad_arguments_are_one_line_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    status, _, err = await cryptorobot("candles", "import", str(DATA / "GOOG.csv"), *args, "--data-dir", "data",
                                       cwd=tmp_path)
    assert status == 1 and message in err and err.count("\n") == 1


async def test_download_through_ccxt_with_a_progress_bar(tmp_path: Path, fake_binance) -> None:
    series = walk(1500, frame="1h")
    fake_binance.add_klines("BTC/USDT", "1h", series)
    config = json.dumps(fake_binance.ccxt_config(rateLimit=1))
    args = ("candles", "download", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h",
            "--since", "2024-01-01", "--until", "2024-02-01", "--ccxt-config", config, "--data-dir", "data")
    status, out, err = await cryptorobot(*args, "--progress", "always", cwd=tmp_path)
    assert status == 0, err
    assert line(out, "candles") == "744  2024-01-01T00:00:00Z .. 2024-01-31T23:00:00Z"
    assert line(out, "requests") == "1" and line(out, "stored") == "744 new, 0 replaced, 0 unchanged"
    assert "binance BTC/USDT 1h" in err and "744/744" in err  # tqdm's bar, on stderr
    status, out, _ = await cryptorobot(*args[:-8], "--since", "2024-01-01", "--ccxt-config", config,
                                       "--data-dir", "data", cwd=tmp_path)
    assert status == 0 and "resumed after the last stored candle" in out
    assert line(out, "candles") == "756  2024-02-01T00:00:00Z .. 2024-03-03T11:00:00Z"
    assert [params["startTime"] for _, path, params in fake_binance.requests if path == "/api/v3/klines"] == [
        str(START), str(START + 744 * HOUR), str(START + 1500 * HOUR)]


async def test_candles_imported_by_the_command_are_served(tmp_path: Path, serve) -> None:
    from cryptorobot.platform import create_app

    status, _, _ = await cryptorobot("candles", "import", str(DATA / "EURUSD.csv"), "--exchange", "sim", "--symbol",
                                     "EUR/USD", "--timeframe", "1h", "--data-dir", "data", cwd=tmp_path)
    assert status == 0
    app = create_app({**load_config("test", environ={}), "data_dir": str(tmp_path / "data"), "storage": "memory"})
    http = await serve(app)
    await http.post("/users", json={"email": "ann@example.com", "password": "correct horse battery"})
    login = await (await http.post("/authentication", json={"strategy": "local", "email": "ann@example.com",
                                                             "password": "correct horse battery"})).json()
    response = await http.get("/candles?exchange=sim&symbol=EUR/USD&timeframe=4h&$limit=2",
                              headers={"Authorization": f"Bearer {login['accessToken']}"})
    page = await response.json()
    assert response.status == 200 and page["source"] == "1h" and len(page["data"]) == 2
