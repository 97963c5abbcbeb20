"""`momentum`: the rate of change over a lookback; in above a threshold, out below its negative."""

from __future__ import annotations

import numpy as np

from ...candles import Candles
from ...indicators import live_window, roc
from ..registry import register
from ..settings import Setting
from ..signals import SignalStrategy, signal_schema

__all__ = ["Momentum"]


@register
class Momentum(SignalStrategy):
    """Long only: buys when the rate of change of the close over `lookback` candles (percent,
    `engine.indicators.roc`) is above `threshold`, sells everything when it is below
    `-threshold`."""

    type = "momentum"
    name = "Momentum"
    description = ("Rate of change of the close over a lookback: buys when it rises above the threshold, "
                   "sells when it falls below its negative.")
    schema = signal_schema(
        Setting.number("lookback", "Lookback", 12, integer=True, min=1, max=10_000, group="Signal", can_be_edited=False,
                       description="Candles the rate of change is measured over."),
        Setting.number("threshold", "Threshold %", 1.0, min=0.0, max=1_000.0, group="Signal",
                       description="Enter when the rate of change is above this percentage; "
                                   "exit when it is below its negative."),
    )

    def window(self) -> int:
        return live_window(roc, period=self.settings["lookback"])

    def signals(self, candles: Candles) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        change = roc(candles.close, self.settings["lookback"])
        threshold = self.settings["threshold"]
        return {"roc": change}, change > threshold, change < -threshold
