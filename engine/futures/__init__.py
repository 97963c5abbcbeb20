"""Linear perpetual futures on the matching engine (issue 18): margin formulas (`margin`),
positions (`positions`), the account's futures side (`account`: reservations, settlement,
liquidation levels) and funding (`funding`). See `engine.matching` for where it plugs in."""

from .account import DEFAULT_LEVERAGE, LIQUIDATION_PREFIX, Futures
from .funding import DEFAULT_FUNDING_INTERVAL_HOURS, DEFAULT_FUNDING_RATE, funding_bars, funding_times
from .margin import initial_margin, liquidation_price, maintenance_margin, unrealized_pnl
from .positions import MARGIN_MODES, FuturesPosition

__all__ = [
    "DEFAULT_FUNDING_INTERVAL_HOURS", "DEFAULT_FUNDING_RATE", "DEFAULT_LEVERAGE", "LIQUIDATION_PREFIX", "MARGIN_MODES",
    "Futures", "FuturesPosition", "funding_bars", "funding_times", "initial_margin", "liquidation_price",
    "maintenance_margin", "unrealized_pnl",
]
