"""`webhook`: a trader that acts on signals posted from outside (HaasOnline's webhook bots).

It decides nothing at candles; the platform hands it `Signal`s (`signals/webhook`, by the
trader's signal token) and `on_signal` turns each into one order: `buy`/`enter_long` buy
`amount` base, `sell`/`exit_long` sell `amount` base (never more than the position: a sell
of more than is held sells what is held), at `price` as a limit, else at the market.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...candles import Candles
from ..base import Bar, Signal, Strategy
from ..context import Context
from ..intents import Intents, buy, sell
from ..registry import register

__all__ = ["BUYS", "SELLS", "Webhook"]

BUYS = ("buy", "enter_long")
SELLS = ("sell", "exit_long")


@register
class Webhook(Strategy):
    """See the module docstring."""

    type = "webhook"
    name = "Webhook"
    description = ("Trades on signals sent to signals/webhook with the trader's signal token (TradingView alerts, "
                   "other bots): buy, sell, enter_long, exit_long with an amount and an optional limit price.")
    wakes_only = True

    def window(self) -> int:
        return 1

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.zeros(len(candles), bool)

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        return None

    def on_signal(self, ctx: Context, signal: Signal) -> Intents:
        if signal.action in BUYS:
            return [buy(signal.amount, price=signal.price)]
        if signal.action in SELLS:
            amount = min(signal.amount, ctx.position)
            return [sell(amount, price=signal.price)] if amount > 0 else None
        return None
