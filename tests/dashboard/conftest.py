"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
`cryptorobot serve` of the platform (SQLite storage, the test settings).

Nothing is downloaded at test time: Playwright is pointed at the system Chromium
(`/usr/bin/chromium`, `apt-get install chromium`; `.ci/run` installs it), never at a browser
of its own. Without Chromium or Playwright these tests are skipped. Screenshots go to
`test-output/dashboard/` (gitignored) for a person to look at.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.dashboard_page import SCREENSHOTS, WAIT_MS, DashboardPage
from tests.platform.ticker_support import store_series
from tests.server_process import REPO, ServerProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a test dependency: pip install -e '.[test]'")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def pytest_configure(config: pytest.Config) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    playwright_api.expect.set_options(timeout=WAIT_MS)


SERVER_ENV = {
    "CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "sqlite",
    # A watched random walk moves within the test's wait; the stored BTC/USDT series replays
    # 40 candles a second, so a trader on it trades within seconds.
    "CRYPTOROBOT_TICKERS__RANDOM_WALK__INTERVAL": "0.25", "CRYPTOROBOT_TICKERS__REPLAY__CANDLES_PER_SECOND": "40",
    "CRYPTOROBOT_BACKTESTS__WORKERS": "1",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The platform, served by `cryptorobot serve` with SQLite storage, one per test module,
    with 2000 one-minute `sim` BTC/USDT candles stored (a replay market, and what backtests run on)."""
    workdir = tmp_path_factory.mktemp("dashboard")
    store_series(workdir / "data", "BTC/USDT", count=2000)
    with ServerProcess("cryptorobot.platform:create_app", workdir, env=SERVER_ENV) as process:
        yield process


@pytest.fixture
def offers(server: ServerProcess) -> Callable[..., None]:
    """`offers(*paths)`: skip the test when the server has none of these services (a panel shows
    only where the server offers its services)."""

    def check(*paths: str) -> None:
        with urllib.request.urlopen(server.url + "/health", timeout=10) as response:
            services = json.load(response)["services"]
        missing = [path for path in paths if path not in services]
        if missing:
            pytest.skip(f"the platform has no {', '.join(missing)} service")

    return check


@pytest.fixture
def make_admin(server: ServerProcess) -> Callable[[str], None]:
    """`make_admin(email)`: give a signed-up user the `admin` role, as an operator does
    (`cryptorobot users set-roles`, on the running server's data directory)."""

    def promote(email: str) -> None:
        subprocess.run([sys.executable, "-m", "cryptorobot.cli", "users", "set-roles", email, "admin"], cwd=REPO,
                       env=server.env, capture_output=True, text=True, timeout=60, check=True)

    return promote


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, one per test module: Playwright's synchronous API keeps an event loop running
    in this thread while it is open, which the asyncio tests after these must not find."""
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
