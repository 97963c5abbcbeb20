"""`SignalStrategy`: long-only strategies that enter and exit on signal arrays.

A type says, with array functions over the candles, at which bars it wants to be in the
market (`enter`) and out of it (`exit`); this base class does the rest: `wakes` is
`enter | exit`, and `on_candle` buys when `enter` holds at the bar and the strategy holds
nothing, and sells the whole position when `exit` holds and it holds something. Both
arrays are kept among the indicators, so a live window and the whole series decide alike.

Every signal type shares the order-size settings (group "Order size"):

- `sizing`: `All-in` (default: every quote available, in whole units when the account
  trades whole units, as backtesting.py's `buy()`), `Base amount` or `Quote amount`;
- `orderSize`: the base or quote amount of each entry (unused when all-in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..candles import Candles
from .base import Bar, Strategy
from .context import Context
from .intents import Intents, Place, buy, sell
from .settings import Check, Setting, SettingsSchema

__all__ = ["ORDER_SETTINGS", "SignalStrategy", "signal_schema"]

_SELL_ALL = (sell(),)

ORDER_SETTINGS = (
    Setting.option("sizing", "Sizing", "All-in", ("All-in", "Base amount", "Quote amount"), group="Order size",
                   description="How much each entry buys: everything available (All-in), a fixed amount of the "
                               "base currency, or a fixed amount of the quote currency (fees included)."),
    Setting.number("orderSize", "Order size", 1.0, min=0.0, group="Order size",
                   description="The base or quote amount of each entry (Base amount, Quote amount sizing)."),
)


def signal_schema(*settings: Setting, check: Check | None = None) -> SettingsSchema:
    """A signal type's schema: its own `settings`, then `ORDER_SETTINGS`; `check` relates its own."""

    def checked(values: dict[str, Any]) -> Mapping[str, str]:
        errors = dict(check(values)) if check else {}
        if values["sizing"] != "All-in" and not values["orderSize"] > 0:
            errors["orderSize"] = f"must be more than 0 with {values['sizing']} sizing"
        return errors

    return SettingsSchema((*settings, *ORDER_SETTINGS), checked)


class SignalStrategy(Strategy):
    """Long only, in or out on `signals` (see the module docstring)."""

    wakes_only = True  # on_candle reads the enter/exit arrays only, which are its wakes

    def signals(self, candles: Candles) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """`(indicators, enter, exit)`: float arrays by name, and two bool arrays (n,)."""
        raise NotImplementedError

    def indicators(self, candles: Candles) -> dict[str, np.ndarray]:
        values, enter, exit_ = self.signals(candles)
        return {**values, "enter": enter, "exit": exit_}

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        return indicators["enter"] | indicators["exit"]

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self._enter = (self.entry(),)

    def entry(self) -> Place:
        """The buy of an entry, by the order-size settings."""
        sizing, size = self.settings["sizing"], self.settings["orderSize"]
        if sizing == "Base amount":
            return buy(size)
        if sizing == "Quote amount":
            return buy(cost=size)
        return buy()

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        values, index = bar.indicators, bar.index
        held = ctx.position
        holds = held > 0.0 and held >= ctx.min_amount
        if values["enter"][index] and not holds:
            return self._enter
        if values["exit"][index] and holds:
            return _SELL_ALL
        return None
