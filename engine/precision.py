"""Amounts and prices to a market's precision: ccxt's `decimal_to_precision`, on floats.

ccxt rounds through `decimal.Decimal(str(x))` (about 10 µs a call); the matching engine
does it on every order, so `Precision` gets the same answers with float arithmetic:

- `truncate(x)` equals `float(decimal_to_precision(x, TRUNCATE, precision, mode))`, what
  ccxt's `amount_to_precision` does to amounts (never rounded up, so "sell all" never
  exceeds `free`);
- `round(x)` equals `float(decimal_to_precision(x, ROUND, precision, mode))`, what
  `price_to_precision` does to prices (half away from zero).

Both modes ccxt markets use are covered: `TICK_SIZE` (precision is the step, e.g. `0.01`,
`0.5`, `25`) and `DECIMAL_PLACES` (precision is a number of decimals, i.e. the step
`10**-d`). The grid is `n * t * 10**-p` for integers `n`, `t`, `p` taken from the step's
shortest decimal form, and a grid point `g` is compared with `x` as floats: because `str(x)`
is the shortest decimal that reads back as `x`, `g <= Decimal(str(x))` holds exactly when
`float(g) <= x`, as long as grid points one decimal finer than the step are more than two
ulps of `x` apart (`x * 10**(p + 2) < 2**50`). Outside that range (huge numbers, more than
15 decimals, negative numbers, `SIGNIFICANT_DIGITS` mode) the answer comes from ccxt itself.
`tests/engine/test_precision.py` proves the equality with hypothesis.
"""

from __future__ import annotations

import math
from decimal import Decimal

# ccxt's constants (`ccxt.base.decimal_to_precision`; a test checks they are equal), here so
# that the engine does not import ccxt: only the rare numbers off the fast path need it.
TRUNCATE = 0
ROUND = 1
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4
NO_PADDING = 5

__all__ = ["DECIMAL_PLACES", "ROUND", "SIGNIFICANT_DIGITS", "TICK_SIZE", "TRUNCATE", "Precision"]

_FAST_LIMIT = float(2**50)
_MAX_FAST_PLACES = 15


class Precision:
    """One precision setting of a market (`precision.amount` or `precision.price`).

    `value` is what ccxt's market holds (a step in `TICK_SIZE` mode, a number of decimals
    in `DECIMAL_PLACES` mode, significant digits in `SIGNIFICANT_DIGITS` mode); `mode` is
    the exchange's `precisionMode`. `step` is the smallest increment as a float (`None` in
    `SIGNIFICANT_DIGITS` mode, where it depends on the number).
    """

    __slots__ = ("_limit", "_p10", "_p10_finer", "_t", "mode", "step", "value")

    def __init__(self, value: float, mode: int = TICK_SIZE) -> None:
        if mode not in (TICK_SIZE, DECIMAL_PLACES, SIGNIFICANT_DIGITS):
            raise ValueError(f"unknown precision mode {mode!r}")
        self.value = value if mode == TICK_SIZE else int(value)
        self.mode = mode
        self._t = 0  # 0: no fast path
        self._p10 = self._p10_finer = self._limit = 0.0
        self.step: float | None = None
        if mode == SIGNIFICANT_DIGITS:
            return
        if mode == TICK_SIZE:
            if not value > 0:
                raise ValueError(f"a tick size must be positive, not {value!r}")
            decimal = Decimal(repr(float(value))).normalize()
        else:
            if value != int(value):
                raise ValueError(f"DECIMAL_PLACES precision must be a whole number, not {value!r}")
            decimal = Decimal(1).scaleb(-int(value))
        self.step = float(decimal)
        exponent = decimal.as_tuple().exponent
        assert isinstance(exponent, int)
        places = max(-exponent, 0)
        t = int(decimal.scaleb(places))
        if places <= _MAX_FAST_PLACES and t < 2**30:
            self._t = t
            self._p10 = 10.0**places
            self._p10_finer = 10.0**(places + 1)
            self._limit = _FAST_LIMIT / 10.0**(places + 2)

    def truncate(self, x: float) -> float:
        """The largest step multiple not above `x` (ccxt TRUNCATE; `x >= 0` on the fast path)."""
        t = self._t
        if t and 0.0 <= x < self._limit:
            p10 = self._p10
            n = math.floor(x / self.step)  # type: ignore[operator]
            if (n + 1) * t / p10 <= x:
                n += 1
            elif n * t / p10 > x:
                n -= 1
            return n * t / p10
        return self._ccxt(x, TRUNCATE)

    def round(self, x: float) -> float:
        """The nearest step multiple to `x`, halves away from zero (ccxt ROUND)."""
        t = self._t
        if t and 0.0 <= x < self._limit:
            finer = self._p10_finer
            n = math.floor(x / self.step)  # type: ignore[operator]
            if (n + 1) * t / self._p10 <= x:
                n += 1
            elif n * t / self._p10 > x:
                n -= 1
            # n * step <= x < (n + 1) * step: up when x reaches the midpoint (n + 1/2) * step
            if (2 * n + 1) * t * 5 / finer <= x:
                n += 1
            return n * t / self._p10
        return self._ccxt(x, ROUND)

    def _ccxt(self, x: float, rounding: int) -> float:
        from ccxt.base.decimal_to_precision import decimal_to_precision

        return float(decimal_to_precision(x, rounding, self.value, self.mode, NO_PADDING))

    def __repr__(self) -> str:
        return f"Precision({self.value!r}, mode={self.mode})"
