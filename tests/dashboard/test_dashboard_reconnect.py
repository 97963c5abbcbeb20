"""The page after its server restarts: it says it lost the connection, comes back logged in,
and receives events again, without reloading."""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import expect

from tests.dashboard.dashboard_page import DashboardPage
from tests.server_process import ServerProcess


def test_the_page_comes_back_after_a_server_restart(dashboard: DashboardPage, server: ServerProcess) -> None:
    page = dashboard.open().page
    dashboard.sign_up("gus@example.com")
    dashboard.create_paper_account("before", 1000)
    connection = page.locator("#connection")
    expect(connection).to_have_text("connected")

    server.stop()
    expect(connection).to_have_text(re.compile("disconnected|reconnecting"))
    dashboard.screenshot("down")
    server.start()
    expect(connection).to_have_text("connected")

    # Logged in again: an account made elsewhere (over REST) reaches this page as an event.
    token = page.evaluate("window.localStorage.getItem('feathers-jwt')")
    request = urllib.request.Request(server.url + "/exchanges", method="POST", data=json.dumps(
        {"exchange": "sim", "label": "elsewhere", "paperBalances": {"USDT": 3000}}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    expect(page.locator(".account").filter(has_text="elsewhere").locator(".amount")).to_have_text("3,000 USDT")
    expect(page.locator(".account").filter(has_text="before").locator(".amount")).to_have_text("1,000 USDT")
    dashboard.screenshot("back")
    # What the browser said while the server was away is expected; nothing else.
    assert [error for error in dashboard.errors if "ERR_CONNECTION_REFUSED" not in error and "WebSocket" not in error] == []
