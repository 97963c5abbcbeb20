"""`sma_cross`: long while the fast simple moving average is above the slow one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...candles import Candles
from ...indicators import crossover, live_window, sma
from ..registry import register
from ..settings import Setting
from ..signals import SignalStrategy, signal_schema

__all__ = ["SmaCross"]


def _periods(values: dict[str, Any]) -> Mapping[str, str]:
    if values["fastPeriod"] >= values["slowPeriod"]:
        return {"fastPeriod": f"must be less than the slow period ({values['slowPeriod']})"}
    return {}


@register
class SmaCross(SignalStrategy):
    """Long only: buys when the fast SMA of the close crosses above the slow one, sells
    everything when it crosses back below (crossings as backtesting.py's `crossover`:
    strictly below at the bar before, strictly above at this one)."""

    type = "sma_cross"
    name = "SMA cross"
    description = "Buys when the fast moving average crosses above the slow one, sells when it crosses back below."
    schema = signal_schema(
        Setting.number("fastPeriod", "Fast period", 10, integer=True, min=1, max=10_000, group="Moving averages",
                       can_be_edited=False, description="Candles of the fast simple moving average of the close."),
        Setting.number("slowPeriod", "Slow period", 30, integer=True, min=2, max=10_000, group="Moving averages",
                       can_be_edited=False, description="Candles of the slow simple moving average of the close."),
        check=_periods,
    )

    def window(self) -> int:
        return live_window(sma, period=self.settings["slowPeriod"]) + 1  # the crossing looks one bar back

    def signals(self, candles: Candles) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        fast = sma(candles.close, self.settings["fastPeriod"])
        slow = sma(candles.close, self.settings["slowPeriod"])
        return {"fast": fast, "slow": slow}, crossover(fast, slow), crossover(slow, fast)
