"""The strategy interface: one class that a live trader (pod) and a backtest run unchanged.

A strategy type is a subclass of `Strategy` with a `type` name, a `name` and `description`
for the catalogue, and a settings `schema` (`engine.strategies.settings`). An instance is
made with settings (validated, defaults filled in) and then driven by events:

- `indicators(candles)` -> `{name: array}`: array functions over OHLCV arrays
  (`engine.indicators`; backtesting.py's `I()` idea). A backtest calls it once over the
  whole series; a pod calls it at each closed candle over the latest `window()` candles
  (`engine.indicators.live_window`), so both see the same values at the same bar. Float
  arrays are indicators, NaN during their warm-up (the warm-up a backtest's Buy & Hold
  starts after, as backtesting.py's); bool arrays may carry signals.
- `wakes(candles, indicators)` -> bool array: the bars at whose close `on_candle` can act.
  The backtest loop never calls Python at other bars, and a pod applies the same rule to
  each closed candle (`StrategyRunner`), so both call the strategy at the same bars. It
  must be faithful: `on_candle` returns no intent at a bar the array leaves out (a test
  runs every shipped type with `on_candle` called at every bar and compares).
- `on_start(ctx)`: once, before the first candle (a grid places its ladder here or at its
  start condition).
- `on_candle(ctx, bar)`: a closed candle; called where `wakes` is true, and also where the
  candle reached a level of the strategy's open orders (a fill, a trigger: see
  `StrategyRunner`) unless the type says `wakes_only`. `bar` is the candle with the indicator values at it (`bar["fast"]`,
  `bar.ago("fast", 1)`).
- `on_fill(ctx, fill)`: each fill of the strategy's own orders, as it happens (in a
  backtest, at the price point that filled it, before the rest of the bar is played).

Callbacks are synchronous, never await, and return order intents (`buy`, `sell`,
`cancel`: `engine.strategies.intents`) that the pod or the backtest loop carries out
through the exchange, in order. They read their state from `ctx` (position, funds, open
orders) and log through it; they never read a clock or the network. A strategy may keep
its own state on `self` between calls, but whatever a restarted pod must know again
should come from `ctx` (its position and open orders survive a restart, its attributes
do not).

How the types that come next use this interface:

- `spot_grid`: `on_start` (or `on_candle` at its start condition: `wakes` = the bars where
  the close crosses the trigger) places the ladder of limit buys below the price and limit
  sells above it (none that would cross the market); `on_fill` places the opposite order
  one level away (a buy filled at level k becomes a sell at k + 1), so the grid lives in
  the matching engine between candles and costs no Python per bar; stop conditions are
  `wakes` (the close beyond the range, a take-profit of the whole grid) and
  `on_candle` returns `cancel()` and a `sell()` of what is held.
- `spot_dollar_cost_averaging`: the base order at a start condition (`wakes`), then in
  `on_fill` of the base order the safety orders (limit buys at the price deviations from
  the base entry, sizes scaled) and one take-profit for the whole position, tagged `tp`;
  each safety fill answers `cancel(tag="tp")` and a new `sell(ctx.position, price=...)`
  at the new average cost (`ctx.average_cost`); the take-profit's fill ends the cycle.
- `webhook`: external signals are an input series like the candles: a backtest is given
  the stored signals bucketed per bar, a pod the signals that arrived during the candle;
  `wakes` = the bars with a signal, `on_candle` maps the signal to intents.
- futures (later): the same intents plus a reduce-only flag and a short side; the position
  in `ctx` becomes signed and the matching engine's futures settlement does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..candles import Candles
from .context import Context, Fill
from .intents import Intents
from .settings import SettingsSchema

__all__ = ["Bar", "Strategy", "warmup_bars"]


class Bar:
    """The closed candle a callback handles, with the indicator values at it.

    `index` is its position in the candles the indicators were computed over (the whole
    series in a backtest, the latest window live: never compare indices across the two).
    A `Bar` is only valid during the call it is given to.
    """

    __slots__ = ("candles", "index", "indicators")

    def __init__(self, candles: Candles, indicators: Mapping[str, np.ndarray], index: int) -> None:
        self.candles = candles
        self.indicators = indicators
        self.index = index

    @property
    def timestamp(self) -> int:
        """Open time of the candle, UTC ms."""
        return int(self.candles.timestamp[self.index])

    @property
    def open(self) -> float:
        return float(self.candles.open[self.index])

    @property
    def high(self) -> float:
        return float(self.candles.high[self.index])

    @property
    def low(self) -> float:
        return float(self.candles.low[self.index])

    @property
    def close(self) -> float:
        return float(self.candles.close[self.index])

    @property
    def volume(self) -> float:
        return float(self.candles.volume[self.index])

    def __getitem__(self, name: str) -> Any:
        """The value of indicator `name` at this bar."""
        return self.indicators[name][self.index]

    def ago(self, name: str, bars: int) -> Any:
        """The value of indicator `name` `bars` bars before this one (NaN before the first)."""
        index = self.index - bars
        return self.indicators[name][index] if index >= 0 else np.nan


class Signal(NamedTuple):
    """A trading signal from outside (a webhook): `action` (`buy`, `sell`, `enter_long`,
    `exit_long`), `amount` in base currency, `price` a limit price (None: market),
    `timestamp` in ms (when the sender made it)."""

    action: str
    amount: float
    price: float | None
    timestamp: int


class Strategy:
    """Base of every strategy type (see the module docstring).

    Class attributes: `type` (the registry name, `momentum`), `name`, `description`,
    `schema`. Instance: `settings`, the complete validated settings (`InvalidSettings`
    otherwise).
    """

    type: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    schema: ClassVar[SettingsSchema] = SettingsSchema(())
    wakes_only: ClassVar[bool] = False
    """True when `on_candle` looks at nothing but what `wakes` marks (it returns no intent at
    a bar `wakes` leaves out, even when the bar reached one of its orders): the loops then
    skip the call at such bars (`StrategyRunner`, the backtest loop)."""
    perpetual: ClassVar[bool] = False
    """True for types that trade perpetuals only (short positions, leverage, reduce-only orders)."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = self.schema.validate(settings)

    def window(self) -> int:
        """How many latest closed candles a pod passes to `indicators` so that the values at
        the last one (and `wakes` there) are the full series' (`live_window` of its
        indicators, plus the bars its rule looks back)."""
        raise NotImplementedError

    def indicators(self, candles: Candles) -> dict[str, np.ndarray]:
        """Arrays aligned with `candles` (shape (n,)), by name."""
        return {}

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        """Bool array (n,): the bars at whose close `on_candle` may return intents."""
        raise NotImplementedError

    def on_start(self, ctx: Context) -> Intents:
        return None

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        raise NotImplementedError

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        return None

    def on_signal(self, ctx: Context, signal: Signal) -> Intents:
        """A signal from outside reached the trader (types that take signals: `webhook`)."""
        return None

    @classmethod
    def to_wire(cls) -> dict[str, Any]:
        """The catalogue entry, HaasOnline's script shape: `{type, name, description, settings}`."""
        return {"type": cls.type, "name": cls.name, "description": cls.description, "settings": cls.schema.to_wire()}

    @classmethod
    def handles_fills(cls) -> bool:
        """Whether the type reacts to fills (overrides `on_fill`): loops skip the call otherwise."""
        return cls.on_fill is not Strategy.on_fill


def warmup_bars(indicators: Mapping[str, np.ndarray]) -> int:
    """The first bar at which every float indicator has a value (backtesting.py's
    `_indicator_warmup_nbars`: the largest count of leading NaNs, where an indicator with no
    value at all counts 0 as there; 0 without indicators)."""
    return max((int(np.isnan(values).argmin()) for values in indicators.values()
                if values.dtype.kind == "f" and len(values)), default=0)
