"""The web dashboard: a page at `/` that uses the API over Socket.IO like any Feathers client.

Plain HTML, CSS and ES modules in `static/` (no build step), with the vendored browser builds
of the Feathers client, socket.io-client and TradingView's lightweight-charts in
`static/vendor/` (versions and licences in `static/vendor/VENDORED.md`). Served by
`cryptorobot serve`: `GET /` is the page, `GET /dashboard/<file>` its files. Nothing is
fetched from the internet at run time.

Setting `[dashboard] enabled = false` leaves both routes out (`/` then answers the API's 404).
"""

from __future__ import annotations

from pathlib import Path

from cryptorobot import App, StaticSite

__all__ = ["PREFIX", "STATIC", "register"]

STATIC = Path(__file__).resolve().parent / "static"
"""The dashboard's files."""
PREFIX = "/dashboard"
"""Where they are served; the page itself is also served at `/`."""


def register(app: App) -> None:
    """Serve the dashboard at `/` and its files under `/dashboard/` (unless disabled)."""
    if not (app.get("dashboard") or {}).get("enabled", True):
        return
    app.static_sites.append(StaticSite(folder=STATIC, prefix=PREFIX, index_path="/"))
