"""The dashboard's files: the vendored builds are the ones VENDORED.md names, and the page
loads nothing from another origin."""

from __future__ import annotations

import hashlib
import re

from services.dashboard import PREFIX, STATIC

VENDOR = STATIC / "vendor"


def test_the_vendored_files_match_their_checksums_and_licences() -> None:
    table = (VENDOR / "VENDORED.md").read_text()
    rows = re.findall(r"^\| `([^`]+\.js)` \|.*\| `([0-9a-f]{64})` \|$", table, re.M)
    assert sorted(name for name, _ in rows) == sorted(path.name for path in VENDOR.glob("*.js"))
    for name, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for licence in re.findall(r"`(licenses/[^`]+)`", table):
        assert (VENDOR / licence).is_file(), licence


def test_the_page_loads_only_files_of_its_own() -> None:
    page = (STATIC / "index.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, "no script or style found"
    for source in sources:
        if source == "data:," or source.startswith("#"):  # the empty favicon, links within the page
            continue
        assert source.startswith(PREFIX + "/"), source
        assert (STATIC / source.removeprefix(PREFIX + "/")).is_file(), source
    for module in (STATIC / "js").glob("*.js"):
        text = module.read_text()
        assert "http://" not in text and "https://" not in text, module.name
        for imported in re.findall(r"from '(\.[^']+)'", text):
            assert (module.parent / imported).resolve().is_file(), f"{module.name} imports {imported}"
