"""Serving the OpenAPI document at `GET /openapi.json` and a Swagger UI page at `GET /docs`.

The page's scripts and styles come from the `swagger-ui-bundle` package on this server
(nothing is fetched from the internet). App settings, all optional::

    [openapi]
    enabled = true          # false: neither route exists
    title = "cryptorobot API"
    version = "1.0.0"        # default: the package version
    description = "..."
    path = "/openapi.json"
    docs_path = "/docs"

Per service, `app.use(path, service, {"docs": {...}})` may give `description` (the tag's
text) and `security` (an OpenAPI security requirement list for its operations, e.g. `[]`
for a public service).
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .. import jsonutil
from ..errors import GeneralError
from .document import JSON, openapi_settings, openapi_spec

if TYPE_CHECKING:
    from ..app import App

__all__ = ["attach_openapi"]

log = logging.getLogger("cryptorobot.openapi")

_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
<style>body {{ margin: 0; }}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {spec_url}, dom_id: "#swagger-ui", deepLinking: true,
  validatorUrl: null, tryItOutEnabled: false
}});
</script>
</body>
</html>
"""


def attach_openapi(web_app: web.Application, app: App) -> None:
    """Add `GET /openapi.json` and `GET /docs` (unless the `openapi` setting disables them).

    Call before the REST transport attaches its catch-all route.
    """
    settings = openapi_settings(app)
    if not settings.get("enabled", True):
        return
    spec_path = str(settings.get("path") or "/openapi.json")
    docs_path = str(settings.get("docs_path") or "/docs").rstrip("/")
    cache: dict[str, Any] = {}

    def document() -> str:
        services = tuple(app.services.values())
        if cache.get("services") != services:
            cache["text"] = jsonutil.dumps(openapi_spec(app, settings))
            cache["services"] = services
        return cache["text"]

    async def spec_handler(_: web.Request) -> web.Response:
        try:
            text = document()
        except Exception:
            log.exception("building the OpenAPI document failed")
            error = app.present_error(GeneralError("Internal server error"))
            return web.Response(status=error.code, text=jsonutil.dumps(error.to_json()), content_type=JSON)
        return web.Response(text=text, content_type=JSON, headers={"Access-Control-Allow-Origin": "*"})

    web_app.router.add_get(spec_path, spec_handler)

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # the page needs the package; the JSON does not
        log.warning("swagger-ui-bundle is not installed: %s is not served", docs_path)
        return
    page = _DOCS_PAGE.format(
        title=html.escape(str(settings.get("title") or "cryptorobot API")),
        static=html.escape(f"{docs_path}/static"),
        spec_url=jsonutil.dumps(spec_path).replace("<", "\\u003c"),
    )

    async def docs_handler(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    web_app.router.add_get(docs_path, docs_handler)
    web_app.router.add_get(docs_path + "/", docs_handler)
    web_app.router.add_static(docs_path + "/static", swagger_ui_path)
