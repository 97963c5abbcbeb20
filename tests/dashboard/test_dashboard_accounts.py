"""Logging in and out, exchange accounts and live tickers, in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.dashboard.dashboard_page import DashboardPage


def test_sign_up_create_a_paper_account_and_stay_logged_in(dashboard: DashboardPage) -> None:
    page = dashboard.open().page
    expect(page.locator("#login-form")).to_be_visible()
    dashboard.screenshot("login")
    dashboard.sign_up("ann@example.com")
    expect(page.locator("#accounts")).to_contain_text("No exchange account yet")

    card = dashboard.create_paper_account("practice", 2500)
    expect(card.locator(".amount")).to_have_text("2,500 USDT")
    expect(card.locator(".tag.paper")).to_be_visible()
    dashboard.screenshot("account")

    page.reload()  # the kept token logs the page back in
    expect(page.locator("#who")).to_have_text("ann@example.com")
    expect(page.locator(".account").filter(has_text="practice").locator(".amount")).to_have_text("2,500 USDT")

    page.locator("#logout").click()
    expect(page.locator("#login-form")).to_be_visible()
    assert dashboard.errors == []


def test_a_wrong_password_says_why(dashboard: DashboardPage) -> None:
    dashboard.open().sign_up("bob@example.com")
    dashboard.page.locator("#logout").click()
    dashboard.log_in("bob@example.com", "not the password", expect_success=False)
    expect(dashboard.page.locator("#login-form .status.error")).to_contain_text("Invalid login")
    expect(dashboard.page.locator("#login-form .status.error")).to_contain_text("(UNAUTHORIZED)")
    dashboard.screenshot("refused")


def test_a_watched_ticker_moves_without_reloading(dashboard: DashboardPage) -> None:
    dashboard.open().sign_up("cat@example.com")
    row = dashboard.watch("BTC/USDT")
    time_cell = row.locator("td.time")
    expect(time_cell).not_to_have_text("—")
    first = time_cell.inner_text(), row.locator("td.last").inner_text()
    expect(time_cell).not_to_have_text(first[0])  # a later ticker arrived by itself
    row.click()  # the chart of the prices received since
    expect(dashboard.page.locator("#ticker-chart canvas").first).to_be_visible()
    dashboard.page.wait_for_function("document.querySelectorAll('#ticker-chart canvas').length > 0")
    dashboard.screenshot("ticker")
    assert dashboard.errors == []
