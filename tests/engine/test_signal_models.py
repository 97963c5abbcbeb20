"""Signal models (engine.models) on backtesting.py's real BTCUSD and GOOG data: features use
nothing after their bar, walk-forward validation reports out-of-sample figures against its
baseline, the model file round-trips, and bad requests are refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from backtesting.test import BTCUSD, GOOG

from engine.errors import InvalidSettings
from engine.indicators import rsi
from engine.models import FEATURES, LOOKBACK, SignalModel, feature_matrix, next_direction, train_model
from tests.engine.strategy_support import from_frame

BTC = from_frame(BTCUSD, "1M")
GOOGLE = from_frame(GOOG, "1d")


def test_features_are_what_the_docstring_says_and_never_look_ahead() -> None:
    features = feature_matrix(GOOGLE)
    assert features.shape == (len(GOOGLE), len(FEATURES))
    assert np.isnan(features[:LOOKBACK]).any(axis=1).all() and np.isfinite(features[LOOKBACK:]).all()
    close = GOOGLE.close
    column = dict(zip(FEATURES, features.T, strict=True))
    assert column["ret_3"][100] == pytest.approx(np.log(close[100] / close[97]))
    assert column["volatility_12"][100] == pytest.approx(np.std(np.diff(np.log(close[88:101]))))
    assert column["rsi_14"][100] == pytest.approx(rsi(close, 14)[100] / 100)
    assert column["volume_change"][100] == pytest.approx(np.log(GOOGLE.volume[100] / GOOGLE.volume[88:100].mean()))
    # the features of bar 500 are the same whether or not later bars exist
    assert np.array_equal(feature_matrix(GOOGLE[:501])[500], features[500])
    assert next_direction(GOOGLE)[500] == float(close[501] > close[500]) and np.isnan(next_direction(GOOGLE)[-1])


@pytest.mark.parametrize("algorithm", ["logistic", "gradient_boosting"])
def test_walk_forward_validation_is_out_of_sample_and_reported_as_it_comes(algorithm: str) -> None:
    model = train_model({"BTC/USD": BTC}, algorithm, folds=5)
    validation = model.validation
    usable = len(BTC) - LOOKBACK - 1
    folds = validation.per_fold
    assert [fold["train"] + fold["test"] for fold in folds] == sorted({fold["train"] + fold["test"] for fold in folds})
    assert folds[-1]["train"] + folds[-1]["test"] == usable  # the last fold tests on the last bars
    assert all(later["train"] == earlier["train"] + earlier["test"] for earlier, later in itertools.pairwise(folds))
    assert validation.samples == sum(fold["test"] for fold in folds)
    test_labels = next_direction(BTC)[LOOKBACK:-1][folds[0]["train"]:]
    assert validation.up_rate == pytest.approx(test_labels.mean())
    assert 0 <= validation.accuracy <= 1 and validation.beats_baseline == (validation.accuracy >
                                                                           validation.baseline_accuracy)
    assert validation.to_json()["beatsBaseline"] is validation.beats_baseline
    assert model.trained_on == {"BTC/USD": {"start": int(BTC.timestamp[0]), "end": int(BTC.timestamp[-1]),
                                            "candles": len(BTC)}}
    again = train_model({"BTC/USD": BTC}, algorithm, folds=5)
    assert again.validation == validation  # seeded: the same figures every time


def test_a_score_is_a_buy_or_a_sell_with_its_confidence_and_the_file_round_trips(tmp_path: Path) -> None:
    model = train_model({"GOOG/USD": GOOGLE}, "logistic")
    score = model.score(GOOGLE)
    assert score is not None and score.type in ("buy", "sell") and 0.5 <= score.confidence <= 1
    assert score.confidence == pytest.approx(max(score.probability, 1 - score.probability))
    assert (score.price, score.timestamp) == (GOOGLE.close[-1], GOOGLE.timestamp[-1])
    assert model.score(GOOGLE[:LOOKBACK]) is None
    model.save(tmp_path / "models" / "goog.model")
    loaded = SignalModel.load(tmp_path / "models" / "goog.model")
    assert loaded.score(GOOGLE) == score and loaded.validation == model.validation
    (tmp_path / "other.model").write_bytes(b"\x80\x04N.")  # a pickled None
    with pytest.raises(ValueError, match="not a signal model"):
        SignalModel.load(tmp_path / "other.model")


def test_bad_training_requests_are_refused() -> None:
    with pytest.raises(InvalidSettings, match="algorithm"):
        train_model({"BTC/USD": BTC}, "deep_learning")
    with pytest.raises(InvalidSettings, match="usable bars"):
        train_model({"BTC/USD": BTC[:20]}, "logistic")
    with pytest.raises(InvalidSettings, match="one timeframe"):
        train_model({"BTC/USD": BTC, "GOOG/USD": GOOGLE}, "logistic")
    with pytest.raises(InvalidSettings, match="at least one"):
        train_model({}, "logistic")
