"""`cryptorobot models train|list` on a data directory holding backtesting.py's GOOG candles."""

from __future__ import annotations

from pathlib import Path

import pytest
from backtesting.test import GOOG

from cryptorobot.cli import main
from engine.candles import SeriesKey, SqliteCandleStore
from engine.models import SignalModel
from tests.engine.strategy_support import from_frame


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CRYPTOROBOT_ENV", raising=False)  # development: SQLite storage, kept between commands
    store = SqliteCandleStore(tmp_path / "candles.db")
    store.write(SeriesKey("sim", "GOOG/USD", "1d"), from_frame(GOOG, "1d"))
    store.close()
    return tmp_path


def test_train_prints_the_validation_and_keeps_the_model(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["models", "train", "goog-daily", "--data-dir", str(data_dir), "--exchange", "sim", "--symbol", "goog-usd",
          "--timeframe", "1d", "--folds", "3"])
    out = capsys.readouterr().out
    assert out.startswith("goog-daily (logistic, sim GOOG/USD 1d): ready; walk-forward over 3 folds")
    assert "accuracy" in out and "baseline (majority direction of the training data)" in out
    files = list((data_dir / "models").glob("*.model"))
    assert len(files) == 1 and SignalModel.load(files[0]).timeframe == "1d"
    main(["models", "train", "goog-daily", "--data-dir", str(data_dir), "--exchange", "sim", "--symbol", "GOOG/USD",
          "--timeframe", "1d", "--algorithm", "gradient_boosting", "--folds", "3"])
    capsys.readouterr()
    main(["models", "list", "--data-dir", str(data_dir)])
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith("goog-daily (gradient_boosting, sim GOOG/USD 1d): ready")
    assert len(list((data_dir / "models").glob("*.model"))) == 1  # trained again: the old file went with its record


def test_train_refuses_what_it_can_not_train(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["models", "train", "nothing", "--data-dir", str(data_dir), "--exchange", "sim", "--symbol", "BTC/USDT",
              "--timeframe", "1d"])
    assert exit_.value.code == 1
    assert "No stored sim BTC/USDT 1d candles" in capsys.readouterr().err
