"""What a person does on the dashboard, as Playwright steps (a page object)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.server_process import REPO

SCREENSHOTS = REPO / "test-output" / "dashboard"
PASSWORD = "correct horse battery"
WAIT_MS = 15_000
"""Longest wait for anything the page should show; a passing test never waits this long."""


class DashboardPage:
    """One browser tab on the dashboard at `url`. Steps wait for what the person would see."""

    def __init__(self, page: Any, url: str, name: str) -> None:
        self.page = page
        self.url = url
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.errors: list[str] = []
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def open(self) -> DashboardPage:
        self.page.goto(self.url + "/")
        return self

    def screenshot(self, step: str) -> Path:
        path = SCREENSHOTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_up(self, email: str, password: str = PASSWORD) -> DashboardPage:
        """Sign up and log in from the login form."""
        return self.log_in(email, password, sign_up=True)

    def log_in(self, email: str, password: str = PASSWORD, *, sign_up: bool = False,
               expect_success: bool = True) -> DashboardPage:
        form = self.page.locator("#login-form")
        form.locator("input[name=email]").fill(email)
        form.locator("input[name=password]").fill(password)
        form.locator("input[name=signup]").set_checked(sign_up)
        form.locator("button[type=submit]").click()
        if expect_success:
            self.page.locator("#who").filter(has_text=email).wait_for()
        return self

    def create_paper_account(self, label: str, usdt: float = 10000) -> Any:
        """Create a paper account on `sim`; the account's card once it shows a balance."""
        form = self.page.locator("#paper-account-form")
        form.locator("input[name=label]").fill(label)
        form.locator("input[name=usdt]").fill(str(usdt))
        form.locator("button[type=submit]").click()
        card = self.page.locator(".account").filter(has_text=label)
        card.locator(".amount").first.wait_for()
        return card

    def watch(self, symbol: str, exchange: str = "sim") -> Any:
        """Add a market to the watchlist; its ticker row."""
        form = self.page.locator("#watch-form")
        form.locator("input[name=exchange]").fill(exchange)
        form.locator("input[name=symbol]").fill(symbol)
        form.locator("button[type=submit]").click()
        return self.ticker_row(symbol)

    def ticker_row(self, symbol: str) -> Any:
        return self.page.locator(f"tr.ticker[data-symbol='{symbol}']")

    def create_trader(self, name: str, strategy_type: str, account: str, symbol: str = "BTC/USDT",
                      **settings: float) -> Any:
        """Create a trader running a new strategy of `strategy_type` (its settings typed in) on the
        account labelled `account`; the trader's card."""
        form = self.page.locator("#trader-form")
        form.locator("input[name=name]").fill(name)
        form.locator("select[name=strategy]").select_option(f"type:{strategy_type}")
        for key, value in settings.items():
            form.locator(f"[name='setting.{key}']").fill(str(value))
        choice = form.locator("select[name=exchangeId] option").filter(has_text=f"{account} (")
        form.locator("select[name=exchangeId]").select_option(choice.get_attribute("value"))
        form.locator("input[name=symbol]").fill(symbol)
        form.locator("button[type=submit]").click()
        return self.page.locator(".trader").filter(has=self.page.locator("strong", has_text=name))

    def run_backtest(self, strategy_type: str, **settings: float) -> Any:
        """Run a backtest of a new strategy of `strategy_type` over the first stored series, its
        whole range; the backtest's card."""
        form = self.page.locator("#backtest-form")
        form.locator("select[name=strategy]").select_option(f"type:{strategy_type}")
        for key, value in settings.items():
            form.locator(f"[name='setting.{key}']").fill(str(value))
        before = self.page.locator(".backtest").count()
        form.locator("button[type=submit]").click()
        self.page.locator(".backtest").nth(before).wait_for()
        return self.page.locator(".backtest").first
