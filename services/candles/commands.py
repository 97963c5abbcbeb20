"""`cryptorobot candles import|download|list`: filling the candle store from files and exchanges.

    cryptorobot candles import FILE --exchange sim --symbol BTC/USDT --timeframe 1h [--floor]
    cryptorobot candles download --exchange binance --symbol BTC/USDT --timeframe 1h --since 2024-01-01
                                 [--until 2024-06-01] [--limit 1000] [--refetch] [--ccxt-config JSON]
                                 [--progress auto|always|never]
    cryptorobot candles list [--exchange binance] [--symbol BTC/USDT] [--gaps]

Every command takes `--data-dir DIR` (default: the configuration's `data_dir`); the store
is the one the configuration names (`[candles] store`, see `store.py`). Each prints a
summary: rows, range, duplicates, dropped rows, gaps, what the store did. Errors print one
line and exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_candle_commands"]

PROGRESS_DELAY = 1.0
"""Seconds before the progress bar appears (`--progress auto`): only long downloads show one."""


def add_candle_commands(commands: Any) -> None:
    """Add `candles` and its subcommands to the `cryptorobot` command's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (config: data_dir; default ./data)")
    series = argparse.ArgumentParser(add_help=False)
    series.add_argument("--exchange", required=True, help="a ccxt exchange id, or sim")
    series.add_argument("--symbol", required=True, help="a unified symbol, e.g. BTC/USDT")
    series.add_argument("--timeframe", required=True, help="a ccxt timeframe: 1m, 5m, 1h, 1d, 1w, 1M, ...")

    candles = commands.add_parser("candles", help="import, download and list candle history")
    actions = candles.add_subparsers(dest="candles_command", required=True)
    importing = actions.add_parser("import", parents=[common, series], help="import candles from a CSV or JSON file",
                                   description="Import OHLCV candles: backtesting.py, freqtrade or ccxt layouts.")
    importing.add_argument("file", help="a .csv or .json file (optionally .gz)")
    importing.add_argument("--floor", action="store_true",
                           help="move timestamps that are not candle opens to the open of their candle "
                                "(files that label candles by their close or last day)")
    importing.set_defaults(run=_import)
    downloading = actions.add_parser("download", parents=[common, series], help="download candles through ccxt",
                                     description="Download closed candles with ccxt fetch_ohlcv, page by page.")
    downloading.add_argument("--since", required=True, help="first candle: an ISO date or epoch milliseconds")
    downloading.add_argument("--until", help="end (exclusive): an ISO date or epoch milliseconds (default: now)")
    downloading.add_argument("--limit", type=int, help="candles per request (default: the exchange's maximum)")
    downloading.add_argument("--refetch", action="store_true",
                             help="fetch the whole range again instead of resuming after the last stored candle")
    downloading.add_argument("--ccxt-config", default="{}",
                             help="extra ccxt constructor options as JSON (proxies, API URLs, options)")
    downloading.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                             help=f"progress bar: auto shows it on downloads longer than {PROGRESS_DELAY:g} s")
    downloading.set_defaults(run=_download)
    listing = actions.add_parser("list", parents=[common], help="list stored series with range, count and gaps")
    listing.add_argument("--exchange")
    listing.add_argument("--symbol")
    listing.add_argument("--gaps", action="store_true", help="list every gap too")
    listing.set_defaults(run=_list)


def _store(args: argparse.Namespace) -> Any:
    from cryptorobot.config import load_config

    from .store import candle_store

    settings = load_config()
    if args.data_dir:
        settings["data_dir"] = args.data_dir
    return candle_store(settings)


def _key(args: argparse.Namespace) -> Any:
    import ccxt

    from engine.candles import SeriesKey

    if args.exchange != "sim" and args.exchange not in ccxt.exchanges:
        raise SystemExit(f"error: unknown exchange {args.exchange!r}: use a ccxt exchange id (ccxt.exchanges) or sim")
    if "/" not in args.symbol:
        raise SystemExit(f"error: {args.symbol!r} is not a unified symbol such as BTC/USDT")
    return SeriesKey(args.exchange, args.symbol, args.timeframe)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gaps_line(gaps: list[Any]) -> str:
    if not gaps:
        return "none"
    missing = sum(gap.missing for gap in gaps)
    first = gaps[0]
    return (f"{len(gaps)} ({missing} candles missing); first: {_when(first.start)} .. {_when(first.end)} "
            f"({first.missing} missing)")


def _print_rows(rows: list[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


def _failing(run: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """Engine errors and bad values end the command with one line on stderr and status 1."""

    def guarded(args: argparse.Namespace) -> None:
        from engine.errors import EngineError

        try:
            run(args)
        except (EngineError, ValueError) as failure:
            hint = " (--floor does that)" if isinstance(failure, EngineError) and "misaligned" in failure.details else ""
            raise SystemExit(f"error: {failure}{hint}") from None

    return guarded


@_failing
def _import(args: argparse.Namespace) -> None:
    from engine.candles import read_candle_file

    key = _key(args)
    candles, report = read_candle_file(args.file, key.timeframe, align="floor" if args.floor else "strict")
    store = _store(args)
    try:
        written = store.write(key, candles)
    finally:
        store.close()
    clean = report.clean
    print(f"Imported {report.path} into {key} ({report.layout}; timestamps: {report.timestamps})")
    dropped = ", ".join(f"{count} {reason}" for reason, count in clean.invalid.items())
    conflicts = (f"; {clean.conflicts} with different values ({', '.join(map(_when, clean.conflict_examples))}"
                 f"{', ...' if clean.conflicts > len(clean.conflict_examples) else ''})" if clean.conflicts else "")
    _print_rows([
        ("rows read", clean.rows),
        ("candles", f"{report.count}  {_when(report.first)} .. {_when(report.last)}"),
        ("order", "sorted (the file was not in time order)" if clean.unsorted else "in time order"),
        ("duplicates", f"{clean.duplicates} rows collapsed, the last in the file kept{conflicts}"),
        ("dropped", f"{clean.dropped}" + (f" ({dropped}; rows {', '.join(map(str, clean.invalid_rows))}"
                                           f"{', ...' if clean.dropped > len(clean.invalid_rows) else ''})"
                                           if clean.dropped else "")),
        ("realigned", f"{clean.realigned} (moved to the open of their {key.timeframe} candle)" if clean.realigned
         else "0"),
        ("gaps", _gaps_line(report.gaps) + (" (not filled)" if report.gaps else "")),
        ("stored", f"{written.inserted} new, {written.replaced} replaced, {written.unchanged} unchanged"),
    ])


@_failing
def _download(args: argparse.Namespace) -> None:
    from .service import instant_ms

    key = _key(args)
    if key.exchange == "sim":
        raise SystemExit("error: sim has no history to download: import a file (cryptorobot candles import)")
    try:
        since = instant_ms(args.since)
        until = None if args.until is None else instant_ms(args.until)
    except ValueError:
        raise SystemExit("error: --since and --until take an ISO date (2024-01-01) or epoch milliseconds") from None
    try:
        config = json.loads(args.ccxt_config)
    except ValueError as failure:
        raise SystemExit(f"error: --ccxt-config is not JSON ({failure})") from None
    if not isinstance(config, dict):
        raise SystemExit("error: --ccxt-config must be a JSON object")
    store = _store(args)
    try:
        report = asyncio.run(_fetch(args, key, store, since, until, config))
    finally:
        store.close()
    print(f"Downloaded {key} from {args.exchange}" + (" (resumed after the last stored candle)" if report.resumed
                                                       else ""))
    _print_rows([
        ("range", f"{_when(report.since)} .. {_when(report.end)} (end exclusive; only closed candles)"),
        ("requests", report.pages),
        ("candles", f"{report.candles}  {_when(report.first)} .. {_when(report.last)}"),
        ("duplicates", report.duplicates),
        ("dropped", report.invalid),
        ("gaps", _gaps_line(report.gaps) + (" (not filled)" if report.gaps else "")),
        ("stored", f"{report.written.inserted} new, {report.written.replaced} replaced, "
                   f"{report.written.unchanged} unchanged"),
    ])


async def _fetch(args: argparse.Namespace, key: Any, store: Any, since: int, until: int | None,
                 config: dict[str, Any]) -> Any:
    import ccxt.async_support as ccxt_async
    from tqdm import tqdm

    from engine.candles import DownloadProgress, download_candles
    from engine.clock import SystemClock

    exchange = getattr(ccxt_async, key.exchange)({"enableRateLimit": True, **config})
    bar: Any = None

    def advance(step: DownloadProgress) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=step.expected, unit="candle", desc=str(key), file=sys.stderr,
                       disable=args.progress == "never", delay=0 if args.progress == "always" else PROGRESS_DELAY)
        bar.update(step.candles - bar.n)

    try:
        return await download_candles(exchange, store, key, since=since, until=until, clock=SystemClock(),
                                      limit=args.limit, resume=not args.refetch, on_page=advance)
    finally:
        if bar is not None:
            bar.close()
        await exchange.close()


@_failing
def _list(args: argparse.Namespace) -> None:
    store = _store(args)
    try:
        found = store.series(args.exchange, args.symbol)
    finally:
        store.close()
    if not found:
        print("No candles stored.")
        return
    rows = [(str(info.key.exchange), info.key.symbol, info.key.timeframe, _when(info.first), _when(info.last),
             str(info.count), str(len(info.gaps)), str(info.missing)) for info in found]
    header = ("EXCHANGE", "SYMBOL", "TIMEFRAME", "FIRST", "LAST", "CANDLES", "GAPS", "MISSING")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if args.gaps:
        for info in found:
            for gap in info.gaps:
                print(f"gap {info.key}: {_when(gap.start)} .. {_when(gap.end)} ({gap.missing} missing)")
