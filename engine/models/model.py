"""`SignalModel`: a trained direction model, its validation, scoring a series, its file.

    model = SignalModel.load(path)
    score = model.score(candles)   # Score(type="buy", confidence=0.63, probability=0.63, price=..., timestamp=...)

`score` reads the features of the series' last candle (`features.feature_matrix`), so the
candles given must hold at least `features.LOOKBACK + 1` bars; with fewer, None. RSI is
recursive: a window of `SCORE_WINDOW` bars gives the value of the whole history to about
1e-13 (`engine.indicators.live_window`); a shorter one (a replay's first bars) is used as it is.
The probability `p` of a rise makes a `buy` with confidence p when p >= 0.5, else a `sell`
with confidence 1 - p.

Files are pickles of the model (scikit-learn's own persistence advice for estimators) with a
format number; load only files this platform wrote (pickles can run code).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..candles import Candles
from ..indicators import live_window, rsi
from .features import LOOKBACK, feature_matrix

__all__ = ["FORMAT", "SCORE_WINDOW", "Score", "SignalModel", "Validation"]

FORMAT = 1
SCORE_WINDOW = max(live_window(rsi, period=14), LOOKBACK + 1)
"""Candles `score` wants: enough for RSI to forget its seed."""


@dataclass(frozen=True)
class Validation:
    """Out-of-sample figures of a walk-forward validation (see `training`)."""

    method: str
    folds: int
    samples: int
    accuracy: float
    precision: float | None
    baseline: str
    baseline_accuracy: float
    baseline_precision: float | None
    up_rate: float
    per_fold: list[dict[str, Any]] = field(default_factory=list)

    @property
    def beats_baseline(self) -> bool:
        return self.accuracy > self.baseline_accuracy

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "folds": self.folds, "samples": self.samples, "accuracy": self.accuracy,
                "precision": self.precision, "baseline": self.baseline, "baselineAccuracy": self.baseline_accuracy,
                "baselinePrecision": self.baseline_precision, "upRate": self.up_rate,
                "beatsBaseline": self.beats_baseline, "perFold": self.per_fold}


@dataclass(frozen=True)
class Score:
    """A model's call on a series' last candle."""

    type: str  # "buy" | "sell"
    confidence: float  # 0.5 .. 1
    probability: float  # of a rise
    price: float  # the candle's close
    timestamp: int  # the candle's open, ms


@dataclass(frozen=True)
class SignalModel:
    """A fitted estimator of P(next close > close) and what it was trained and validated on."""

    algorithm: str
    timeframe: str
    features: tuple[str, ...]
    estimator: Any
    validation: Validation
    trained_on: dict[str, dict[str, int]]

    def probability_up(self, candles: Candles) -> float | None:
        """P(rise) after the last candle, None when its features are not all defined."""
        if len(candles) <= LOOKBACK:
            return None
        row = feature_matrix(candles[-SCORE_WINDOW:])[-1:]
        if not np.isfinite(row).all():
            return None
        classes = list(self.estimator.classes_)
        return float(self.estimator.predict_proba(row)[0][classes.index(1)]) if 1 in classes else 0.0

    def score(self, candles: Candles) -> Score | None:
        probability = self.probability_up(candles)
        if probability is None:
            return None
        rising = probability >= 0.5
        return Score("buy" if rising else "sell", probability if rising else 1.0 - probability, probability,
                     float(candles.close[-1]), int(candles.timestamp[-1]))

    def save(self, path: Path) -> None:
        """Write the model to `path` (through a temporary file, so a reader never sees half of one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(pickle.dumps({"format": FORMAT, "model": self}))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> SignalModel:
        """The model saved at `path`; ValueError for a file of another format."""
        content = pickle.loads(path.read_bytes())  # our own files only (see the module docs)
        if not isinstance(content, dict) or content.get("format") != FORMAT or not isinstance(content.get("model"), cls):
            raise ValueError(f"{path} is not a signal model of format {FORMAT}")
        return content["model"]
