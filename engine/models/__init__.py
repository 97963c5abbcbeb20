"""Signal models: machine-learning classifiers of the next bar's direction, on candles.

* `features`: what a model reads of a series (returns over several horizons, volatility,
  RSI, volume change, the bar's range) and the label it learns (the next bar's direction).
* `training.train_model`: scikit-learn (logistic regression or gradient boosting), validated
  walk-forward with honest out-of-sample accuracy and precision against a baseline.
* `model.SignalModel`: scores a series' last candle (`buy`/`sell` with a confidence), saves
  and loads its file.

Pure numpy/scikit-learn; no App, no I/O but the model file.
"""

from .features import FEATURES, LOOKBACK, feature_matrix, next_direction
from .model import SCORE_WINDOW, Score, SignalModel, Validation
from .training import ALGORITHMS, DEFAULT_FOLDS, make_estimator, train_and_save, train_model

__all__ = [
    "ALGORITHMS", "DEFAULT_FOLDS", "FEATURES", "LOOKBACK", "SCORE_WINDOW", "Score", "SignalModel", "Validation",
    "feature_matrix", "make_estimator", "next_direction", "train_and_save", "train_model",
]
