"""`exchanges`: a user's exchange accounts over REST and Socket.IO, on memory and SQLite storage."""

from __future__ import annotations

import pytest

from cryptorobot.schemas import SERVER_SET
from exchange_support import ACCOUNT_FIELDS, LIVE, PAPER_FIELDS, new_account
from platform_support import Platform, bad_request, not_authenticated, not_found, socket_login
from tests.fakes.binance import API_KEY


async def test_a_sim_account_is_paper_with_default_balances(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim")
    assert set(account) == PAPER_FIELDS
    assert {key: account[key] for key in ("userId", "exchange", "label", "sandbox", "paper", "active", "paperBalances",
                                          "credentials", "apiKeyHint", "credentialsUpdatedAt")} == {
        "userId": ann["_id"], "exchange": "sim", "label": "Simulated exchange", "sandbox": False, "paper": True,
        "active": True, "paperBalances": {"USDT": 10000.0}, "credentials": [], "apiKeyHint": None,
        "credentialsUpdatedAt": None}
    assert account["createdAt"] == account["updatedAt"]
    assert await platform.request("GET", f"/exchanges/{account['_id']}", token=token) == (200, account)


async def test_a_paper_account_on_a_real_exchange_needs_no_credentials(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="binance", paper=True, paperBalances={"USDT": 500, "BTC": 0.1})
    assert (account["label"], account["paper"], account["paperBalances"]) == ("Binance (paper)", True,
                                                                              {"USDT": 500.0, "BTC": 0.1})


async def test_a_live_account_shows_which_credentials_are_set_never_their_values(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, **LIVE)
    assert set(account) == ACCOUNT_FIELDS
    assert (account["paper"], account["credentials"], account["apiKeyHint"]) == (False, ["apiKey", "secret"], "fake…")
    assert account["credentialsUpdatedAt"] == account["createdAt"]
    assert LIVE["secret"] not in repr(account) and API_KEY not in repr(account)


@pytest.mark.parametrize(("data", "errors"), [
    ({}, {"exchange": ["Missing data for required field."]}),
    ({"exchange": "binanse"}, {"exchange": ["Not an exchange: use a ccxt exchange id (see exchanges/catalogue) or sim."]}),
    ({"exchange": "sim", "paper": False}, {"paper": ["sim accounts are always paper."]}),
    ({"exchange": "sim", "sandbox": True},
     {"sandbox": ["A paper account can not use a sandbox: choose one of paper and sandbox."]}),
    ({"exchange": "binance", "paper": True, "sandbox": True},
     {"sandbox": ["A paper account can not use a sandbox: choose one of paper and sandbox."]}),
    ({"exchange": "kraken", "sandbox": True, "apiKey": "k" * 20, "secret": "s" * 20},
     {"sandbox": ["kraken has no test network (ccxt urls['test'])."]}),
    ({"exchange": "binance"}, {
        "apiKey": ["Required by binance for live trading (ccxt requiredCredentials); or create a paper account."],
        "secret": ["Required by binance for live trading (ccxt requiredCredentials); or create a paper account."]}),
    ({"exchange": "okx", "apiKey": "k" * 20, "secret": "s" * 20},
     {"password": ["Required by okx for live trading (ccxt requiredCredentials); or create a paper account."]}),
    ({"exchange": "sim", "apiKey": "k" * 20}, {"apiKey": ["A paper account takes no credentials."]}),
    ({**LIVE, "paperBalances": {"USDT": 1}}, {"paperBalances": ["Only paper accounts have paperBalances."]}),
    ({"exchange": "sim", "paperBalances": {"USDT": -5}}, {"paperBalances": ["Each amount must be a positive number."]}),
    ({"exchange": "sim", "paperBalances": {"US DT": 5}},
     {"paperBalances": {"US DT": {"key": ["A currency code: up to 20 letters and digits."]}}}),
    ({"exchange": "sim", "sealedCredentials": "x"}, {"sealedCredentials": ["Unknown field."]}),
    ({"exchange": "sim", "credentials": ["apiKey"]}, {"credentials": ["Unknown field."]}),
    ({"exchange": "sim", "userId": 7}, {"userId": [SERVER_SET]}),
])
async def test_create_validation(platform: Platform, data: dict, errors: dict) -> None:
    _, token = await platform.member("ann@example.com")
    assert await platform.request("POST", "/exchanges", json=data, token=token) == (400, bad_request(errors))
    assert await platform.app.service("exchanges").find({"paginate": False}) == []


async def test_a_list_of_accounts_is_refused(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, answer = await platform.request("POST", "/exchanges", json=[{"exchange": "sim"}], token=token)
    refused = "Service 'exchanges' does not accept an array for 'create'"
    assert (status, answer["name"], answer["message"]) == (400, "BadRequest", refused)
    assert await platform.app.service("exchanges").find({"paginate": False}) == []


@pytest.mark.parametrize(("method", "path", "body", "message"), [
    ("PATCH", "/exchanges", {"label": "all"}, "Can not patch multiple entries"),
    ("DELETE", "/exchanges", None, "Can not remove multiple entries"),
    ("PUT", "/exchanges/1", {"exchange": "sim"}, "Method `update` is not supported by this endpoint."),
])
async def test_one_account_at_a_time(platform: Platform, method: str, path: str, body: object, message: str) -> None:
    _, token = await platform.member("ann@example.com")
    await new_account(platform, token, exchange="sim")
    status, answer = await platform.request(method, path, json=body, token=token)
    assert (status, answer["name"], answer["message"]) == (405, "MethodNotAllowed", message)
    assert len(await platform.app.service("exchanges").find({"paginate": False})) == 1


async def test_anonymous_callers_are_refused(platform: Platform) -> None:
    for method, path in [("GET", "/exchanges"), ("POST", "/exchanges"), ("GET", "/exchanges/1"),
                         ("PATCH", "/exchanges/1"), ("DELETE", "/exchanges/1"), ("GET", "/exchanges/1/balance"),
                         ("GET", "/exchanges/1/check"), ("GET", "/exchanges/markets?exchange=sim")]:
        body = {"exchange": "sim"} if method in ("POST", "PATCH") else None
        assert await platform.request(method, path, json=body) == (401, not_authenticated("Not authenticated")), path


async def test_the_documented_query(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    first = await new_account(platform, token, exchange="sim", label="first")
    await new_account(platform, token, exchange="sim", label="off", active=False)
    last = await new_account(platform, token, exchange="binance", paper=True, label="last")
    status, page = await platform.request("GET", "/exchanges?active=true&$sort[createdAt]=-1&$limit=10", token=token)
    assert status == 200
    assert (page["total"], page["limit"], page["skip"]) == (2, 10, 0)
    assert [account["_id"] for account in page["data"]] == [last["_id"], first["_id"]]
    status, page = await platform.request("GET", "/exchanges?exchange=binance&$select[]=label", token=token)
    assert (status, page["data"]) == (200, [{"_id": last["_id"], "label": "last"}])
    status, body = await platform.request("GET", "/exchanges?sealedCredentials=x", token=token)
    assert (status, body["errors"]) == (400, {"sealedCredentials": ["Unknown field."]})


async def test_patch_replaces_credentials_and_keeps_creation_fields(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, **LIVE)
    stored = await platform.stored("exchanges", account["_id"])
    status, patched = await platform.request("PATCH", f"/exchanges/{account['_id']}",
                                             json={"apiKey": "another-api-key-1234", "label": "renamed"}, token=token)
    assert status == 200, patched
    assert (patched["label"], patched["credentials"], patched["apiKeyHint"]) == ("renamed", ["apiKey", "secret"], "anot…")
    assert patched["credentialsUpdatedAt"] >= account["credentialsUpdatedAt"]
    again = await platform.stored("exchanges", account["_id"])
    assert again["sealedCredentials"] != stored["sealedCredentials"]
    status, body = await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"secret": None}, token=token)
    assert (status, body) == (400, bad_request({"secret": [
        "Required by binance for live trading (ccxt requiredCredentials); or create a paper account."]}))
    status, body = await platform.request("PATCH", f"/exchanges/{account['_id']}",
                                          json={"exchange": "kraken", "paper": True, "paperBalances": {"USDT": 1}},
                                          token=token)
    assert (status, body) == (400, bad_request({
        "exchange": ["Set at creation only: create another account instead."],
        "paper": ["Set at creation only: create another account instead."],
        "paperBalances": ["Set at creation only: create another account instead."]}))
    status, same = await platform.request("PATCH", f"/exchanges/{account['_id']}",
                                          json={"exchange": "binance", "paper": False}, token=token)
    assert status == 200 and same["credentialsUpdatedAt"] == patched["credentialsUpdatedAt"]  # credentials untouched


async def test_events_reach_only_the_owner(platform: Platform, sockets, settled) -> None:
    ann, ann_token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    ann_socket, bob_socket = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann_socket, "ann@example.com")
    await socket_login(bob_socket, "bob@example.com")
    error, account = await ann_socket.call("create", "exchanges", LIVE, {})
    assert error is None, error
    error, patched = await ann_socket.call("patch", "exchanges", account["_id"], {"secret": "a-new-secret-value"}, {})
    assert error is None, error
    status, _ = await platform.request("DELETE", f"/exchanges/{account['_id']}", token=ann_token)
    assert status == 200
    await settled(platform.app, ann_socket, bob_socket)
    assert [(name, payload["_id"]) for name, (payload,) in ann_socket.received] == [
        ("exchanges created", account["_id"]), ("exchanges patched", account["_id"]),
        ("exchanges removed", account["_id"])]
    assert [payload for _, (payload,) in ann_socket.received][:2] == [account, patched]
    assert bob_socket.received == []
    assert all(payload["userId"] == ann["_id"] for _, (payload,) in ann_socket.received)


async def test_another_users_account_does_not_exist(platform: Platform, sockets) -> None:
    _, ann_token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    account = await new_account(platform, ann_token, **LIVE)
    id = account["_id"]
    for method, path, body in [("GET", f"/exchanges/{id}", None), ("PATCH", f"/exchanges/{id}", {"label": "mine"}),
                               ("DELETE", f"/exchanges/{id}", None)]:
        assert await platform.request(method, path, json=body, token=bob_token) == (404, not_found(id))
    for path in (f"/exchanges/{id}/balance", f"/exchanges/{id}/check"):
        assert await platform.request("GET", path, token=bob_token) == (404, not_found(id))
    for operation in ("balance", "check"):
        status, body = await platform.request("POST", "/exchanges", json={"id": id}, token=bob_token,
                                              headers={"X-Service-Method": operation})
        assert (status, body) == (404, not_found(id))
    bob_socket = await sockets(platform.http)
    await socket_login(bob_socket, "bob@example.com")
    assert await bob_socket.call("balance", "exchanges", {"id": id}, {}) == not_found(id)
    assert await bob_socket.call("find", f"exchanges/{id}/check", {}) == not_found(id)
    status, page = await platform.request("GET", "/exchanges", token=bob_token)
    assert (status, page["total"]) == (200, 0)
    assert (await platform.request("GET", f"/exchanges/{id}", token=ann_token))[1]["label"] == "main"


async def test_a_paper_balance_over_every_path(platform: Platform, sockets) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim", paperBalances={"USDT": 2500, "BTC": 0.5})
    expected = {"free": {"USDT": 2500.0, "BTC": 0.5}, "used": {"USDT": 0.0, "BTC": 0.0},
                "total": {"USDT": 2500.0, "BTC": 0.5}, "USDT": {"free": 2500.0, "used": 0.0, "total": 2500.0},
                "BTC": {"free": 0.5, "used": 0.0, "total": 0.5}}

    def shape(balance: dict) -> dict:
        assert isinstance(balance.pop("timestamp"), int) and isinstance(balance.pop("datetime"), str)
        assert "info" not in balance
        return balance

    status, balance = await platform.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert (status, shape(balance)) == (200, expected)
    status, balance = await platform.request("POST", "/exchanges", json={"id": account["_id"]}, token=token,
                                             headers={"X-Service-Method": "balance"})
    assert (status, shape(balance)) == (200, expected)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, balance = await socket.call("balance", "exchanges", {"id": account["_id"]}, {})
    assert (error, shape(balance)) == (None, expected)
    error, balance = await socket.call("find", f"exchanges/{account['_id']}/balance", {})
    assert (error, shape(balance)) == (None, expected)
    status, check = await platform.request("GET", f"/exchanges/{account['_id']}/check", token=token)
    assert status == 200 and (check["ok"], check["paper"], check["exchange"]) == (True, True, "sim")


async def test_operations_validate_their_input(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim")
    status, body = await platform.request("POST", "/exchanges", json={}, token=token,
                                          headers={"X-Service-Method": "balance"})
    assert (status, body) == (400, bad_request({"id": ["Missing data for required field."]}))
    status, body = await platform.request("POST", "/exchanges", json=[{"id": account["_id"]}], token=token,
                                          headers={"X-Service-Method": "check"})
    assert (status, body["message"]) == (400, "Service 'exchanges' does not accept an array for 'check'")
    status, body = await platform.request("GET", f"/exchanges/{account['_id']}/balance?currency=BTC", token=token)
    assert (status, body["errors"]) == (400, {"currency": ["Unknown field."]})


async def test_a_deactivated_account_is_refused_until_active_again(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, exchange="sim")
    assert (await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"active": False}, token=token))[0] == 200
    status, body = await platform.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert (status, body["name"], body["data"]) == (409, "Conflict", {"code": "ACCOUNT_INACTIVE",
                                                                       "accountId": account["_id"]})
    assert (await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"active": True}, token=token))[0] == 200
    assert (await platform.request("GET", f"/exchanges/{account['_id']}/balance", token=token))[0] == 200


async def test_the_catalogue_and_markets_are_not_taken_for_account_ids(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, page = await platform.request("GET", "/exchanges/catalogue?id=sim")
    assert (status, [entry["id"] for entry in page["data"]]) == (200, ["sim"])
    status, page = await platform.request("GET", "/exchanges/markets?exchange=sim&symbol=BTC/USDT", token=token)
    assert (status, [market["symbol"] for market in page["data"]]) == (200, ["BTC/USDT"])
