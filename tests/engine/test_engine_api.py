"""The engine core's public API is what `engine` exports (pinned: changing it is a decision)."""

import engine

CORE = ["CandleSource", "Journal", "Ledger", "Market", "MarketCatalog", "MatchingEngine", "Order", "Position",
        "Precision", "SimExchange", "Trade", "next_touch", "replay", "restore", "sim_catalog", "snapshot",
        "spot_market", "BacktestResult", "Strategy", "catalogue", "create_strategy", "run_backtest", "Futures",
        "FuturesPosition", "perpetual_market"]


def test_futures_export_their_api() -> None:
    import engine.futures

    assert {"Futures", "FuturesPosition", "liquidation_price", "initial_margin", "maintenance_margin",
            "unrealized_pnl", "funding_times", "funding_bars", "MARGIN_MODES"} <= set(engine.futures.__all__)


def test_the_engine_exports_its_core() -> None:
    assert set(CORE) <= set(engine.__all__)
    for name in CORE:
        assert getattr(engine, name) is not None


def test_strategies_and_backtests_export_their_api() -> None:
    import engine.backtest
    import engine.strategies

    assert {"Strategy", "SignalStrategy", "StrategyRunner", "Context", "EngineContext", "buy", "sell", "cancel", "ALL",
            "resolve", "register", "create_strategy", "validate_settings", "catalogue", "Setting",
            "SettingsSchema"} <= set(engine.strategies.__all__)
    assert {"run_backtest", "BacktestResult", "BacktestCancelled", "FILL_MODELS", "backtest_market"} <= set(
        engine.backtest.__all__)
