"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
`cryptorobot serve` of the platform (SQLite storage, the test settings).

Nothing is downloaded at test time: Playwright is pointed at the system Chromium
(`/usr/bin/chromium`, `apt-get install chromium`; `.ci/run` installs it), never at a browser
of its own. Without Chromium or Playwright these tests are skipped. Screenshots go to
`test-output/dashboard/` (gitignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.dashboard_page import SCREENSHOTS, DashboardPage
from tests.server_process import ServerProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a test dependency: pip install -e '.[test]'")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def pytest_configure(config: pytest.Config) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The platform, served by `cryptorobot serve` with SQLite storage, one per test module.
    `tickers.random_walk.interval` is short so a watched price moves within the test's wait."""
    workdir = tmp_path_factory.mktemp("dashboard")
    env = {"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "sqlite", "CRYPTOROBOT_TICKERS__RANDOM_WALK__INTERVAL": "0.25"}
    with ServerProcess("cryptorobot.platform:create_app", workdir, env=env) as process:
        yield process


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def dashboard(browser: Any, server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[DashboardPage]:
    """A fresh browser context (no stored token) on the dashboard; a screenshot is taken
    at the end of the test whatever its outcome."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = DashboardPage(context.new_page(), server.url, request.node.name)
    try:
        yield page
    finally:
        page.screenshot("end")
        context.close()
