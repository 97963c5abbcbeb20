"""Market history: OHLCV series as arrays."""

from .series import Candles

__all__ = ["Candles"]
