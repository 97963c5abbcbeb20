"""The trading engine: markets, orders, the matching engine, strategies, backtests, metrics.

A library that knows nothing of the App or of any transport: services (`services/`) are
thin facades over it, and a newcomer can run a backtest or a paper account from Python
without a server. Time comes from an injected clock, never from `time.time()`.
"""
