"""Static web pages served beside the API: a folder of files under a URL prefix, and its index page.

Whoever composes an app (the platform's composition root, not the framework) registers a site
before serving::

    app.static_sites.append(StaticSite(folder=Path("web"), prefix="/dashboard", index_path="/"))

`GET /dashboard/js/main.js` answers `web/js/main.js`; `GET /` answers `web/index.html`. Paths
that leave the folder (`..`, symlinks out of it), folders and missing files answer a
Feathers `NotFound` (JSON, 404) as an unknown API path does. Every answer carries `headers` (by
default a Content-Security-Policy that lets the page load and connect to this server only)
and `Cache-Control: no-cache` (browsers revalidate, so an upgrade shows at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from aiohttp import web

from . import jsonutil
from .errors import NotFound

if TYPE_CHECKING:
    from .app import App

__all__ = ["DEFAULT_HEADERS", "StaticSite", "attach_static_sites"]

DEFAULT_HEADERS: Mapping[str, str] = MappingProxyType({
    # Scripts, styles, images and connections (REST and the Socket.IO websocket) from this
    # origin only; inline styles are allowed because chart libraries set them.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
})


@dataclass(frozen=True)
class StaticSite:
    """A folder served at `prefix` (no trailing slash), its `index` file also at `index_path`
    (None: only under the prefix)."""

    folder: Path
    prefix: str
    index_path: str | None = None
    index: str = "index.html"
    headers: Mapping[str, str] = field(default_factory=lambda: DEFAULT_HEADERS)


def attach_static_sites(web_app: web.Application, app: App) -> None:
    """Add the GET (and HEAD) routes of `app.static_sites`; call before the REST transport's catch-all."""
    for site in app.static_sites:
        _attach(web_app, app, site)


def _attach(web_app: web.Application, app: App, site: StaticSite) -> None:
    root = site.folder.resolve()
    prefix = "/" + site.prefix.strip("/")
    headers = dict(site.headers)

    def answer(relative: str) -> web.StreamResponse:
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            error = app.present_error(NotFound(f"No file '{relative}'"))
            return web.Response(status=error.code, text=jsonutil.dumps(error.to_json()), content_type="application/json")
        return web.FileResponse(target, headers=headers)

    async def file_handler(request: web.Request) -> web.StreamResponse:
        return answer(request.match_info["path"])

    async def index_handler(_: web.Request) -> web.StreamResponse:
        return answer(site.index)

    web_app.router.add_get(prefix + "/{path:.+}", file_handler)
    web_app.router.add_get(prefix + "/", index_handler)
    if site.index_path is not None:
        web_app.router.add_get(site.index_path, index_handler)
