"""Static sites: a folder served beside the API, its index at a path of its own, nothing outside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cryptorobot import App, StaticSite
from cryptorobot.adapters import MemoryService


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "js").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>home</title>")
    (folder / "js" / "main.js").write_text("export const x = 1\n")
    (tmp_path / "secret.txt").write_text("not for the web")
    (folder / "escape.txt").symlink_to(tmp_path / "secret.txt")
    return folder


@pytest.fixture
async def http(site: Path, serve: Any) -> Any:
    app = App()
    app.use("messages", MemoryService())
    app.static_sites.append(StaticSite(folder=site, prefix="/web", index_path="/"))
    return await serve(app)


async def test_the_index_and_files_are_served_with_their_headers(http: Any) -> None:
    for path in ("/", "/web/"):
        response = await http.get(path)
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "<title>home</title>" in await response.text()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    script = await http.get("/web/js/main.js")
    assert script.status == 200
    assert script.content_type in {"application/javascript", "text/javascript"}
    assert await script.text() == "export const x = 1\n"
    head = await http.head("/web/js/main.js")
    assert head.status == 200


@pytest.mark.parametrize("path", ["/web/nope.js", "/web/js", "/web/../secret.txt", "/web/%2e%2e/secret.txt",
                                  "/web/..%2fsecret.txt", "/web/escape.txt", "/web/js/..%2f..%2fsecret.txt"])
async def test_nothing_outside_the_folder_nor_missing_files(http: Any, path: str) -> None:
    response = await http.get(path)
    assert response.status == 404
    body = await response.json()
    assert (body["name"], body["code"]) == ("NotFound", 404)
    assert "not for the web" not in str(body)


async def test_the_api_is_still_served_beside_the_site(http: Any) -> None:
    created = await http.post("/messages", json={"text": "hi"})
    assert created.status == 201
    listed = await http.get("/messages")
    assert (await listed.json())[0]["text"] == "hi"
