"""`cryptorobot models train|list`: signal models from the command line.

    cryptorobot models train NAME --exchange sim --symbol BTC/USD [--symbol ETH/USD] --timeframe 1M
                             [--algorithm logistic|gradient_boosting] [--folds 5] [--description TEXT]
    cryptorobot models list

`train` trains on the stored candles (`cryptorobot candles import|download` first) in a
worker process, as an administrator's `POST /models` does, waits for it and prints the
walk-forward validation; a model of that name is trained again (its record and file
replaced; a running server picks it up at its next start). Both act on the configured
storage (`--data-dir` as for every command); with `storage = "memory"` nothing would be
kept: an error. Errors print one line and exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

__all__ = ["add_model_commands", "train_from_command_line"]


def add_model_commands(commands: Any) -> None:
    """Add `models` and its subcommands to the `cryptorobot` command's subparsers."""
    from engine.models import ALGORITHMS, DEFAULT_FOLDS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (config: data_dir; default ./data)")
    models = commands.add_parser("models", help="train and list signal models")
    actions = models.add_subparsers(dest="models_command", required=True)
    train = actions.add_parser("train", parents=[common], help="train a signal model on stored candles")
    train.add_argument("name", help="the model's name: lower-case letters, digits, - and _")
    train.add_argument("--exchange", required=True, help="a ccxt exchange id, or sim")
    train.add_argument("--symbol", action="append", required=True, help="a pair it covers (repeat for more)")
    train.add_argument("--timeframe", required=True, help="the candles' timeframe, e.g. 1h, 1d, 1M")
    train.add_argument("--algorithm", choices=ALGORITHMS, default="logistic")
    train.add_argument("--folds", type=int, default=DEFAULT_FOLDS, help="walk-forward folds (2..20)")
    train.add_argument("--description", default="")
    train.set_defaults(run=_train)
    listing = actions.add_parser("list", parents=[common], help="list the models and their validation")
    listing.set_defaults(run=_list)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from cryptorobot.config import load_config

    settings = load_config()
    if args.data_dir:
        settings["data_dir"] = args.data_dir
    if settings.get("storage") == "memory":
        print("error: storage = \"memory\" keeps no models", file=sys.stderr)
        raise SystemExit(1)
    return settings


def _summary(model: dict[str, Any]) -> str:
    head = f"{model['name']} ({model['algorithm']}, {model['exchange']} {', '.join(model['pairs'])} {model['timeframe']})"
    validation = model.get("validation")
    if model["status"] != "ready" or not validation:
        return f"{head}: {model['status']} {model.get('error') or ''}".rstrip()
    precision = "n/a" if validation["precision"] is None else f"{validation['precision']:.3f}"
    verdict = "beats" if validation["beatsBaseline"] else "does not beat"
    return (f"{head}: ready; walk-forward over {validation['folds']} folds, {validation['samples']} bars out of "
            f"sample: accuracy {validation['accuracy']:.3f}, precision of buys {precision}; baseline "
            f"({validation['baseline']}) accuracy {validation['baselineAccuracy']:.3f}: {verdict} it")


async def _command_app(settings: dict[str, Any]) -> Any:
    """The platform app set up for a command: no replay plays on its own."""
    from cryptorobot.platform import create_app

    tickers = settings.get("tickers") or {}
    app = create_app({**settings, "tickers": {**tickers, "replay": {**(tickers.get("replay") or {}), "autostart": False}}})
    await app.setup()
    return app


async def train_from_command_line(settings: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Train (or train again) the model `spec` describes (the fields of `POST /models`) and
    wait for it; the record. Errors as the service raises them (BadRequest, engine errors)."""
    from services.models import MODELS_PATH, model_trainer

    app = await _command_app(settings)
    try:
        service = app.service(MODELS_PATH)
        found = await service.find({"query": {"name": spec["name"]}, "paginate": False})
        for old in found:
            await service.remove(old["_id"])
        record = await service.create(spec, {"train": False})
        return await model_trainer(app).train(record)
    finally:
        await app.teardown()


def _train(args: argparse.Namespace) -> None:
    from cryptorobot.errors import FeathersError
    from engine.errors import EngineError

    spec = {"name": args.name, "exchange": args.exchange, "pairs": args.symbol, "timeframe": args.timeframe,
            "algorithm": args.algorithm, "folds": args.folds, "description": args.description}
    try:
        model = asyncio.run(train_from_command_line(_settings(args), spec))
    except (FeathersError, EngineError) as refused:
        errors = getattr(refused, "errors", None) or (refused.details.get("errors") if isinstance(refused, EngineError)
                                                     else None)
        print(f"error: {refused.message}{f' {errors}' if errors else ''}", file=sys.stderr)
        raise SystemExit(1) from None
    print(_summary(model))
    if model["status"] != "ready":
        raise SystemExit(1)


async def _models(settings: dict[str, Any]) -> list[dict[str, Any]]:
    from services.models import MODELS_PATH

    app = await _command_app(settings)
    try:
        return await app.service(MODELS_PATH).find({"query": {"$sort": {"name": 1}}, "paginate": False})
    finally:
        await app.teardown()


def _list(args: argparse.Namespace) -> None:
    for model in asyncio.run(_models(_settings(args))):
        print(_summary(model))
