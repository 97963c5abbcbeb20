"""`strategies/grid-preview` over REST and real sockets, on memory and SQLite: the orders a grid
would place at a given price or the current ticker, rounded to the market's precision; refused
settings per field; another user's account is not found; nothing is created or sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cryptorobot.clock import ManualClock
from platform_support import Platform, bad_request, not_found, socket_login
from tests.conftest import settle
from ticker_support import ticker_settings

PATH = "/strategies/grid-preview"
README = Path(__file__).resolve().parents[2] / "README.md"
GRID = {"lowerLimit": 50_000, "upperLimit": 70_000, "gridCount": 4, "investmentAmount": 1_000}
AMOUNT = 0.00434  # 1000 / ((50k + 55k + 60k + 65k) * 1.001), to sim BTC/USDT's 1e-5


def buys(*rows: tuple[float, int]) -> list[dict[str, Any]]:
    return [{"side": "buy", "type": "limit", "price": price, "amount": AMOUNT, "grid": grid} for price, grid in rows]


async def started(make_platform: Any) -> Platform:
    return await make_platform(clock=ManualClock(), **ticker_settings())


async def test_a_preview_at_a_given_price_on_an_exchange(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", PATH, token=token, json={
        "settings": GRID, "exchange": "sim", "symbol": "btc-usdt", "price": 61_000})
    assert status == 201, body
    assert body == {"exchange": "sim", "symbol": "BTC/USDT", "price": 61_000, "priceSource": "given",
                    "lower": 50_000, "upper": 70_000, "levels": [50_000, 55_000, 60_000, 65_000, 70_000],
                    "amountPerGrid": AMOUNT, "orders": buys((60_000, 2), (55_000, 1), (50_000, 0)), "idleGrids": 1,
                    "waiting": None}


async def test_the_price_defaults_to_the_ticker_and_an_account_gives_the_market(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, account = await platform.request("POST", "/exchanges", token=token, json={"exchange": "sim"})
    assert status == 201, account
    status, body = await platform.request("POST", PATH, token=token, json={
        "settings": {**GRID, "tradeToFillGrid": True}, "exchangeId": account["_id"], "symbol": "BTC/USDT"})
    assert status == 201, body
    assert (body["price"], body["priceSource"]) == (60_000, "ticker")  # the sim random walk's first price
    assert [(order["side"], order["type"], order["price"]) for order in body["orders"]] == [
        ("buy", "market", None), ("buy", "limit", 55_000), ("buy", "limit", 50_000), ("sell", "limit", 65_000),
        ("sell", "limit", 70_000)]
    assert body["orders"][0]["amount"] == 2 * AMOUNT and body["idleGrids"] == 0


async def test_nothing_is_placed_outside_the_range(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", PATH, token=token, json={
        "settings": GRID, "exchange": "sim", "symbol": "BTC/USDT", "price": 80_000})
    assert status == 201 and body["orders"] == [] and "outside the range" in body["waiting"]


async def test_bad_input_is_a_400_with_per_field_errors(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", PATH, token=token, json={
        "settings": {"lowerLimit": 70_000, "upperLimit": 50_000, "gridMode": "Spiral"}, "exchange": "sim",
        "symbol": "BTC/USDT", "price": 60_000})
    assert status == 400 and body["data"]["code"] == "INVALID_SETTINGS", body
    assert set(body["errors"]) == {"gridMode"}  # types first; the range once the values are readable
    status, body = await platform.request("POST", PATH, token=token, json={
        "settings": {**GRID, "investmentAmount": 10}, "exchange": "sim", "symbol": "BTC/USDT", "price": 60_000})
    assert status == 400 and set(body["errors"]) == {"investmentAmount"}
    status, body = await platform.request("POST", PATH, token=token, json={"exchange": "sim", "symbol": "BTC/USDT",
                                                                           "price": -1})
    assert (status, body) == (400, bad_request({"price": ["Must be greater than 0."]}))
    status, body = await platform.request("POST", PATH, token=token, json={"symbol": "BTC/USDT", "price": 1})
    assert (status, body) == (400, bad_request({"exchange": ["Give exchangeId (one of your accounts) or exchange, "
                                                             "not both."]}))
    status, body = await platform.request("POST", PATH, token=token, json={
        "exchange": "sim", "symbol": "BTC/USDX", "price": 1})
    assert status == 400 and body["data"]["code"] == "INVALID_SYMBOL"
    assert (await platform.request("POST", PATH, json={"exchange": "sim", "symbol": "BTC/USDT"}))[0] == 401
    assert (await platform.request("GET", PATH, token=token))[0] == 405


async def test_over_a_socket_with_another_user_s_account_not_found_and_nothing_sent(
        make_platform: Any, sockets: Any) -> None:
    platform = await started(make_platform)
    _, ann_token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    status, account = await platform.request("POST", "/exchanges", token=ann_token, json={"exchange": "sim"})
    assert status == 201
    ann, bob = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")
    error, body = await ann.call("create", "strategies/grid-preview", {
        "settings": GRID, "exchangeId": account["_id"], "symbol": "BTC/USDT", "price": 61_000}, {})
    assert error is None and body["orders"] == buys((60_000, 2), (55_000, 1), (50_000, 0))
    refused = await bob.call("create", "strategies/grid-preview", {
        "settings": GRID, "exchangeId": account["_id"], "symbol": "BTC/USDT", "price": 61_000}, {})
    assert refused == not_found(account["_id"])
    await settle(platform.app, ann, bob)
    assert not [name for name, _ in ann.received + bob.received if name.startswith("strategies/")]


async def test_the_readme_s_preview_answers_as_written(make_platform: Any) -> None:
    text = README.read_text()
    section = text[text.index("### Grids and dollar cost averaging"):text.index("## Configuration")]
    request, answer = (json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL))
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    assert await platform.request("POST", PATH, token=token, json=request) == (201, answer)


async def test_the_openapi_document_describes_the_preview(make_platform: Any) -> None:
    platform = await started(make_platform)
    status, spec = await platform.request("GET", "/openapi.json")
    assert status == 200
    operation = spec["paths"]["/strategies/grid-preview"]["post"]
    assert "creates nothing" in json.dumps(spec) and "get" not in spec["paths"]["/strategies/grid-preview"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    create = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert {"settings", "exchangeId", "exchange", "symbol", "price"} == set(create["properties"])
    assert create["required"] == ["symbol"]
    codes = operation["responses"]["400"]["content"]["application/json"]["schema"]["allOf"][1]
    assert {"INVALID_SETTINGS", "INVALID_SYMBOL"} <= set(codes["properties"]["data"]["properties"]["code"]["enum"])
