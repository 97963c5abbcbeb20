"""`rsi`: Wilder's relative strength index; in when oversold, out when overbought."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...candles import Candles
from ...indicators import live_window, rsi
from ..registry import register
from ..settings import Setting
from ..signals import SignalStrategy, signal_schema

__all__ = ["Rsi"]


def _levels(values: dict[str, Any]) -> Mapping[str, str]:
    if values["oversold"] >= values["overbought"]:
        return {"oversold": f"must be below the overbought level ({values['overbought']})"}
    return {}


@register
class Rsi(SignalStrategy):
    """Long only: buys when the RSI of the close (`engine.indicators.rsi`, Wilder's) is below
    `oversold`, sells everything when it is above `overbought`."""

    type = "rsi"
    name = "RSI"
    description = "Buys when the relative strength index falls below the oversold level, sells when it rises above " \
                  "the overbought level."
    schema = signal_schema(
        Setting.number("period", "Period", 14, integer=True, min=1, max=10_000, group="RSI", can_be_edited=False,
                       description="Candles of Wilder's smoothing."),
        Setting.number("oversold", "Oversold", 30.0, min=0.0, max=100.0, group="RSI",
                       description="Enter when the RSI is below this level."),
        Setting.number("overbought", "Overbought", 70.0, min=0.0, max=100.0, group="RSI",
                       description="Exit when the RSI is above this level."),
        check=_levels,
    )

    def window(self) -> int:
        return live_window(rsi, period=self.settings["period"])

    def signals(self, candles: Candles) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        values = rsi(candles.close, self.settings["period"])
        return {"rsi": values}, values < self.settings["oversold"], values > self.settings["overbought"]
