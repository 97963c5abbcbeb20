"""Training a direction model on candle series, validated walk-forward.

`train_model({"BTC/USDT": candles, ...}, algorithm="logistic")` learns P(next close > close)
from `features.FEATURES` and returns a `SignalModel` whose `validation` says how it did on
data it had not seen:

* Walk-forward (expanding window, scikit-learn's `TimeSeriesSplit` per series): each
  series' usable rows are cut into `folds + 1` blocks in time order; fold k trains on the
  blocks before block k and is tested on block k. Series are pooled fold by fold, so no
  fold ever trains on a bar later than one it is tested on.
* Scores over all test rows together: `accuracy`, `precision` of the `buy` calls (the
  share of predicted rises that rose; None when it never called one), and the same for a
  baseline that always predicts the majority direction of its training blocks. `beatsBaseline`
  is accuracy > the baseline's. Whatever they are, the figures are reported as they come.
* The model kept is then fitted on every usable row.

Algorithms (`ALGORITHMS`): `logistic` (standardised features, L2 logistic regression) and
`gradient_boosting` (scikit-learn's GradientBoostingClassifier, shallow trees, subsampled,
seeded). Pure numpy/scikit-learn, picklable inputs and output: the platform runs it in a
worker process.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ..candles import Candles
from ..errors import InvalidSettings
from .features import FEATURES, feature_matrix, next_direction
from .model import SignalModel, Validation

__all__ = ["ALGORITHMS", "DEFAULT_FOLDS", "make_estimator", "train_and_save", "train_model"]

ALGORITHMS = ("logistic", "gradient_boosting")
DEFAULT_FOLDS = 5


def make_estimator(algorithm: str, seed: int = 0) -> Pipeline:
    """A fresh, unfitted scikit-learn pipeline for `algorithm` (InvalidSettings if unknown)."""
    if algorithm == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    if algorithm == "gradient_boosting":
        return make_pipeline(GradientBoostingClassifier(n_estimators=100, max_depth=2, learning_rate=0.05,
                                                        subsample=0.8, random_state=seed))
    raise InvalidSettings({"algorithm": f"one of {', '.join(ALGORITHMS)}, not {algorithm!r}"})


def _usable(candles: Candles) -> tuple[np.ndarray, np.ndarray]:
    """Rows with every feature and a label: (X (m, k), y (m,))."""
    features, label = feature_matrix(candles), next_direction(candles)
    keep = np.isfinite(features).all(axis=1) & np.isfinite(label)
    return features[keep], label[keep].astype(np.int64)


def _fit_predict(algorithm: str, seed: int, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray) -> np.ndarray:
    if len(np.unique(y_train)) < 2:  # one direction only: nothing to learn but that
        return np.full(len(x_test), y_train[0])
    return make_estimator(algorithm, seed).fit(x_train, y_train).predict(x_test)


def _precision(predicted: np.ndarray, actual: np.ndarray) -> float | None:
    calls = predicted == 1
    return float((actual[calls] == 1).mean()) if calls.any() else None


def train_model(series: Mapping[str, Candles], algorithm: str = "logistic", *, folds: int = DEFAULT_FOLDS,
                seed: int = 0) -> SignalModel:
    """A model of the next bar's direction over `series` (symbol -> candles of one
    timeframe), validated walk-forward over `folds` folds (see the module documentation).
    InvalidSettings: an unknown algorithm, no series, mixed timeframes, fewer than
    `(folds + 1) * 2` usable rows in a series (a usable row needs `features.LOOKBACK` bars
    before it and one after)."""
    make_estimator(algorithm)
    if not series:
        raise InvalidSettings({"symbols": "at least one series is needed"})
    frames = {candles.timeframe for candles in series.values()}
    if len(frames) != 1:
        raise InvalidSettings({"timeframe": f"one timeframe for every series, not {sorted(frames)}"})
    if not 2 <= folds <= 20:
        raise InvalidSettings({"folds": "between 2 and 20"})
    rows = {symbol: _usable(candles) for symbol, candles in series.items()}
    for symbol, (x, _) in rows.items():
        if len(x) < (folds + 1) * 2:
            raise InvalidSettings({"symbols": f"{symbol} has {len(x)} usable bars, {(folds + 1) * 2} are needed "
                                              f"for {folds} folds"})
    splits = {symbol: list(TimeSeriesSplit(n_splits=folds).split(x)) for symbol, (x, _) in rows.items()}
    predicted: list[np.ndarray] = []
    baseline: list[np.ndarray] = []
    actual: list[np.ndarray] = []
    per_fold: list[dict[str, Any]] = []
    for fold in range(folds):
        x_train = np.concatenate([rows[s][0][splits[s][fold][0]] for s in rows])
        y_train = np.concatenate([rows[s][1][splits[s][fold][0]] for s in rows])
        x_test = np.concatenate([rows[s][0][splits[s][fold][1]] for s in rows])
        y_test = np.concatenate([rows[s][1][splits[s][fold][1]] for s in rows])
        guess = _fit_predict(algorithm, seed, x_train, y_train, x_test)
        majority = int(y_train.mean() >= 0.5)
        predicted.append(guess)
        baseline.append(np.full(len(y_test), majority))
        actual.append(y_test)
        per_fold.append({"train": len(y_train), "test": len(y_test),
                         "accuracy": float(np.mean(guess == y_test)),
                         "baselineAccuracy": float(np.mean(y_test == majority))})
    guesses, base, truth = np.concatenate(predicted), np.concatenate(baseline), np.concatenate(actual)
    validation = Validation(
        method="walk-forward", folds=folds, samples=len(truth), accuracy=float((guesses == truth).mean()),
        precision=_precision(guesses, truth), baseline="majority direction of the training data",
        baseline_accuracy=float((base == truth).mean()), baseline_precision=_precision(base, truth),
        up_rate=float(truth.mean()), per_fold=per_fold)
    x_all = np.concatenate([x for x, _ in rows.values()])
    y_all = np.concatenate([y for _, y in rows.values()])
    if len(np.unique(y_all)) < 2:
        raise InvalidSettings({"symbols": "the series only ever move one way: nothing to learn"})
    estimator = make_estimator(algorithm, seed).fit(x_all, y_all)
    trained_on = {symbol: {"start": int(candles.timestamp[0]), "end": int(candles.timestamp[-1]),
                           "candles": len(candles)} for symbol, candles in series.items()}
    return SignalModel(algorithm, frames.pop(), FEATURES, estimator, validation, trained_on)


def train_and_save(series: Mapping[str, Candles], algorithm: str, folds: int, path: str) -> SignalModel:
    """`train_model`, then `SignalModel.save(path)`: one call for a worker process."""
    model = train_model(series, algorithm, folds=folds)
    model.save(Path(path))
    return model
