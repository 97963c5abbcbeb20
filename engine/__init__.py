"""The trading engine: markets, orders, the matching engine, strategies, backtests, metrics.

A library that knows nothing of the App or of any transport: services (`services/`) are
thin facades over it, and a newcomer can run a backtest or a paper account from Python
without a server. Time comes from an injected clock, never from `time.time()`.

Markets and precision (`markets`, `precision`, `sim_markets`), an account's balances
(`ledger`) and positions (`positions`), the one matching engine that paper accounts and
backtests share (`matching`, its orders and trades in `orders`), saving and rebuilding an
account (`journal`), and the simulated exchange in ccxt's unified shape (`sim_exchange`);
linear perpetuals (leverage, isolated margin, liquidation, funding) are `engine.futures`.
Price feeds (replay markets, random walks, live ccxt.pro tickers) are `engine.feeds`.
Strategies (`strategies`: the interface pods and backtests drive, the registry of types) and
backtests (`backtest`: `run_backtest` over candles on the matching engine); market history
(`candles`), indicators (`indicators`) and statistics (`metrics`).
"""

from .backtest import BacktestResult, run_backtest
from .futures import Futures, FuturesPosition
from .journal import replay, restore, snapshot
from .ledger import Ledger
from .markets import Market, MarketCatalog
from .matching import Journal, MatchingEngine, next_touch
from .orders import Order, Trade
from .positions import Position
from .precision import Precision
from .sim_exchange import CandleSource, SimExchange
from .sim_markets import perpetual_market, sim_catalog, spot_market
from .strategies import Strategy, catalogue, create_strategy

__all__ = [
    "BacktestResult", "CandleSource", "Futures", "FuturesPosition", "Journal", "Ledger", "Market", "MarketCatalog",
    "MatchingEngine", "Order", "Position", "Precision", "SimExchange", "Strategy", "Trade", "catalogue",
    "create_strategy", "next_touch", "perpetual_market", "replay", "restore", "run_backtest", "sim_catalog", "snapshot",
    "spot_market",
]
