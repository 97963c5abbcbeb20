"""Strategies: one interface that a live trader (pod) and a backtest run with the same code.

* `Strategy` (`base`): the interface (indicators and the `wakes` declaration as array
  functions; synchronous `on_start`, `on_candle`, `on_fill` callbacks returning intents)
  and `Bar`; `SignalStrategy` (`signals`): long-only in/out on signal arrays.
* intents (`intents`): `buy`, `sell`, `cancel`, `ALL`; `resolve` turns them into
  `OrderRequest`/`CancelRequest`, ccxt unified calls.
* `Context` (`context`): what a strategy reads (position, funds, open orders) and its log;
  `EngineContext` over a matching-engine account; `Fill`, `OpenOrder`, `LogLine`.
* `Setting`, `SettingsSchema` (`settings`): HaasOnline-shaped settings with defaults and
  per-field validation (`engine.errors.InvalidSettings`).
* the registry (`registry`): `register` (one per type module in `engine.strategies.types`),
  `strategy_type`, `create_strategy`, `validate_settings`, `catalogue`.
* `StrategyRunner` (`runner`): how a pod drives a strategy candle by candle, with
  `order_levels`/`touches` for the wake rule.

* grids (`grid`): HaasOnline's spot grid settings (`GRID_SCHEMA`), `grid_levels`, `plan_grid`
  (`GridPlan`, `GridOrder`) and `preview_grid`, the orders a grid places at a price.

Shipped types: `momentum`, `sma_cross`, `rsi`, `spot_grid`, `spot_dollar_cost_averaging`, `webhook`,
and on perpetuals `futures_grid` and `futures_dca` (`engine.strategies.types`).
"""

from .base import Bar, Signal, Strategy, warmup_bars
from .context import SEVERITIES, Context, EngineContext, Fill, LogLine, OpenOrder
from .grid import GRID_SCHEMA, GridOrder, GridPlan, grid_levels, plan_grid, preview_grid
from .intents import (
    ALL,
    Cancel,
    CancelRequest,
    Intent,
    Intents,
    OrderRequest,
    Place,
    Request,
    buy,
    cancel,
    resolve,
    sell,
)
from .registry import (
    catalogue,
    create_strategy,
    load_types,
    register,
    strategy_type,
    strategy_types,
    unregister,
    validate_settings,
)
from .runner import StrategyRunner, order_levels, touches
from .settings import Setting, SettingsSchema
from .signals import ORDER_SETTINGS, SignalStrategy, signal_schema

load_types()

__all__ = [
    "ALL", "GRID_SCHEMA", "ORDER_SETTINGS", "SEVERITIES", "Bar", "Cancel", "CancelRequest", "Context",
    "EngineContext", "Fill", "GridOrder", "GridPlan", "Intent", "Intents", "LogLine", "OpenOrder", "OrderRequest",
    "Place", "Request", "Setting", "SettingsSchema", "Signal", "SignalStrategy", "Strategy", "StrategyRunner", "buy",
    "cancel", "catalogue", "create_strategy", "grid_levels", "load_types", "order_levels", "plan_grid",
    "preview_grid", "register", "resolve", "sell", "signal_schema", "strategy_type", "strategy_types", "touches",
    "unregister", "validate_settings", "warmup_bars",
]
