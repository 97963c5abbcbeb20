"""Traders, backtests and notifications on the dashboard, in Chromium, without reloading."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable

from playwright.sync_api import expect

from tests.dashboard.dashboard_page import DashboardPage


def test_a_paper_trader_starts_trades_and_stops_live(dashboard: DashboardPage, offers: Callable[..., None]) -> None:
    offers("traders", "traders/pods/events", "trades", "strategies")
    page = dashboard.open().page
    dashboard.sign_up("dan@example.com")
    account = dashboard.create_paper_account("paper", 10000)
    trader = dashboard.create_trader("crosser", "sma_cross", "paper", fastPeriod=2, slowPeriod=4)
    status = trader.locator(".tag.status")
    expect(status).to_have_text("stopped")
    expect(page.locator("#traders tr.trade")).to_have_count(0)
    dashboard.screenshot("created")

    trader.locator("button.start").click()
    expect(status).to_have_text("running")  # the traders patched events
    expect(page.locator("#traders tr.trade").first).to_be_visible()  # a trades created event
    expect(trader.locator("li.event.trade_executed").first).to_be_visible()  # traders/pods/events created
    expect(trader.locator(".pnl")).not_to_have_text(re.compile(r"^P&L 0 "))  # the profit patched in
    expect(account.locator(".amount").first).not_to_have_text("10,000 USDT")  # the balance after a fill
    dashboard.screenshot("trading")

    trader.locator("button.stop").click()
    expect(status).to_have_text("stopped")
    expect(trader.locator("li.event.stopped")).to_have_count(1)
    dashboard.screenshot("stopped")
    assert dashboard.errors == []


def test_a_backtest_runs_and_its_chart_shows(dashboard: DashboardPage, offers: Callable[..., None]) -> None:
    offers("backtests", "strategies")
    page = dashboard.open().page
    dashboard.sign_up("eve@example.com")
    card = dashboard.run_backtest("sma_cross", fastPeriod=5, slowPeriod=20)
    expect(card.locator(".tag.state")).to_have_text("completed", timeout=60_000)  # backtests patched
    expect(page.locator("#backtest-chart canvas").first).to_be_visible()  # charted once completed
    expect(page.locator("#backtest-stats [data-statistic='Return [%]']")).to_be_visible()
    expect(page.locator("#backtest-stats [data-statistic='# Trades']")).not_to_contain_text(re.compile(r"\\b0$"))
    expect(page.locator("#backtest-chart-title")).to_contain_text("sma_cross on sim BTC/USDT 1m")
    dashboard.screenshot("chart")
    assert dashboard.errors == []


def test_a_maintenance_notice_reaches_the_page(dashboard: DashboardPage, make_admin: Callable[[str], None],
                                               offers: Callable[..., None]) -> None:
    offers("messages", "events")
    page = dashboard.open().page
    dashboard.sign_up("fay@example.com")
    expect(page.locator("#notifications")).to_contain_text("No notification yet.")
    make_admin("fay@example.com")
    token = page.evaluate("window.localStorage.getItem('feathers-jwt')")
    request = urllib.request.Request(dashboard.url + "/events", method="POST", data=json.dumps(
        {"message": "Exchange maintenance 02:00-03:00 UTC"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    expect(page.locator("#notifications .notice.system").first).to_contain_text("Exchange maintenance 02:00-03:00 UTC")
    dashboard.screenshot("notice")
    assert dashboard.errors == []
