"""Helpers for the `exchanges` tests: accounts over REST, and the platform pointed at a local Binance."""

from __future__ import annotations

from typing import Any

from platform_support import Platform
from tests.fakes.binance import API_KEY, SECRET

ACCOUNT_FIELDS = {"_id", "userId", "exchange", "label", "sandbox", "paper", "active", "credentials", "apiKeyHint",
                  "credentialsUpdatedAt", "createdAt", "updatedAt"}
PAPER_FIELDS = ACCOUNT_FIELDS | {"paperBalances"}
LIVE = {"exchange": "binance", "label": "main", "apiKey": API_KEY, "secret": SECRET}


def binance_settings(fake: Any) -> dict[str, Any]:
    """Settings that point every binance client (markets, accounts, sandbox) at `fake`."""
    urls = fake.api_urls()
    return {"exchanges": {"ccxt": {"binance": {"urls": {"api": urls, "test": urls}}}}}


async def new_account(platform: Platform, token: str, **data: Any) -> dict[str, Any]:
    status, body = await platform.request("POST", "/exchanges", json=data, token=token)
    assert status == 201, body
    return body
