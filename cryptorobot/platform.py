"""Composition root of the trading platform: the only kernel module that imports the platform.

`cryptorobot serve` without `--app` serves `create_app()`; `add_platform_commands` adds the
platform's subcommands to the `cryptorobot` command (`cryptorobot candles ...`, `cryptorobot
users ...`, `cryptorobot models ...`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .app import App
from .clock import Clock
from .config import load_config

__all__ = ["add_platform_commands", "create_app"]


def create_app(settings: Mapping[str, Any] | None = None, *, clock: Clock | None = None) -> App:
    """The platform app, configured from `settings` or from the config files and environment;
    `clock` is its wall clock (default: the system clock)."""
    from channels import setup_channels
    from cryptorobot.auth import configure_authentication
    from cryptorobot.ratelimit import configure_rate_limits
    from services import (
        api_keys,
        candles,
        errors,
        events,
        exchanges,
        grid_preview,
        health,
        market,
        market_data,
        messages,
        models,
        status,
        strategies,
        tickers,
        traders,
        users,
        workers,
    )

    config = dict(settings) if settings is not None else load_config()
    logging.basicConfig(level=str(config.get("logging", {}).get("level", "INFO")).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = App(config, clock=clock)
    errors.install(app)  # every error leaves with a machine code (services/errors.py)
    configure_rate_limits(app)  # budgets per tier and address, connections per tier ([ratelimit])
    health.register(app)
    users.register(app)
    api_keys.register(app)
    candles.register(app)
    exchanges.register(app)
    workers.register(app)
    models.register(app)  # before market_data: the scorer attaches after the hub started (services/models)
    market_data.register(app)
    tickers.register(app)
    messages.register(app)
    events.register(app)
    status.register(app)
    market.register(app)
    strategies.register(app)
    traders.register(app)
    grid_preview.register(app)
    configure_authentication(app)
    setup_channels(app)
    # Imported here, apart from the services above: registering another service never touches it.
    from services.dashboard import register as register_dashboard

    register_dashboard(app)  # the web page at `/` (services/dashboard)
    return app


def add_platform_commands(commands: Any) -> None:
    """Add the platform's subcommands to the `cryptorobot` command's argparse subparsers."""
    from services.candles.commands import add_candle_commands
    from services.models.commands import add_model_commands
    from services.user_commands import add_user_commands

    add_candle_commands(commands)
    add_model_commands(commands)
    add_user_commands(commands)
