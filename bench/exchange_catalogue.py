"""Exchange catalogue benchmark: building `exchanges/catalogue` from ccxt's classes, cold, in a fresh process.

    .venv/bin/python bench/exchange_catalogue.py [--rounds 5]

Each round starts two fresh Python processes with ccxt, ccxt.async_support and ccxt.pro
already imported (as in a running server, where the platform imported them at start):

* `build_catalogue()`: one unconfigured client per exchange (ccxt.pro's class where there
  is one), read into entries (has, capabilities, credentials, sandbox, timeframes), plus
  `sim`; then the same call again (the clients are cached: what a rebuild would cost);
* reference: instantiating every exchange's plain synchronous class (`ccxt.<id>()`), the
  least any reading of ccxt's descriptions costs.

It also measures, in the first process, the longest event-loop stall while the catalogue
is built in a worker thread (`asyncio.to_thread`, what the service does) against building
it inline on the loop. Medians over `--rounds`; the ratio is the figure to compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CATALOGUE = """
import asyncio, json, time
import ccxt, ccxt.async_support, ccxt.pro
from services.exchanges.catalogue import build_catalogue

async def stall(work):
    worst, last, done = 0.0, time.perf_counter(), False
    async def tick():
        nonlocal worst, last
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last), now
    ticker = asyncio.ensure_future(tick())
    await asyncio.sleep(0.01)
    await work()
    done = True
    await ticker
    return worst

async def main():
    started = time.perf_counter()
    entries = build_catalogue()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    build_catalogue()
    warm = time.perf_counter() - started
    from services.exchanges import clients
    clients.describe.cache_clear()
    threaded = await stall(lambda: asyncio.to_thread(build_catalogue))
    clients.describe.cache_clear()
    async def inline():
        build_catalogue()
    blocked = await stall(inline)
    print(json.dumps({"cold": cold, "warm": warm, "entries": len(entries), "threaded_stall": threaded,
                      "inline_stall": blocked, "bytes": len(json.dumps(entries))}))

asyncio.run(main())
"""

REFERENCE = """
import json, time
import ccxt, ccxt.async_support, ccxt.pro
started = time.perf_counter()
for exchange_id in ccxt.exchanges:
    getattr(ccxt, exchange_id)()
print(json.dumps({"sync": time.perf_counter() - started}))
"""


def run(code: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds = [{**run(CATALOGUE), **run(REFERENCE)} for _ in range(args.rounds)]

    def median(key: str) -> float:
        return statistics.median(round_[key] for round_ in rounds)

    print(f"{int(median('entries'))} entries, {median('bytes') / 1e6:.2f} MB of JSON, medians of {args.rounds} rounds")
    print(f"{'build_catalogue() cold':<32}{median('cold') * 1000:8.0f} ms")
    print(f"{'build_catalogue() again':<32}{median('warm') * 1000:8.0f} ms")
    print(f"{'reference: ccxt.<id>() for all':<32}{median('sync') * 1000:8.0f} ms")
    print(f"{'ratio cold / reference':<32}{median('cold') / median('sync'):8.1f}x")
    print(f"{'longest loop stall, to_thread':<32}{median('threaded_stall') * 1000:8.1f} ms")
    print(f"{'longest loop stall, inline':<32}{median('inline_stall') * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
