"""Exchange credentials stay secret: sealed at rest (the SQLite file's bytes), never in a response, an
event, an error or a log line (ccxt's DEBUG request logs included), under a key that production must be given."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from exchange_support import LIVE, binance_settings, new_account
from platform_support import Platform, merged, socket_login
from services.exchanges.credentials import KEY_FILE
from services.exchanges.redaction import REDACTED, Redactor
from tests.fakes.binance import API_KEY, SECRET

NEW_SECRET = "a-replacement-secret-for-ann"
WRONG_SECRET = "definitely-not-the-right-one"
SECRETS = (API_KEY, SECRET, NEW_SECRET, WRONG_SECRET)


def database_bytes(data_dir: Path) -> bytes:
    """The SQLite file and its WAL, as they are on disk."""
    return b"".join(path.read_bytes() for path in sorted(data_dir.glob("cryptorobot.db*")))


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_the_database_file_holds_only_ciphertext(make_platform, fake_binance, tmp_path: Path) -> None:
    platform = await make_platform(**binance_settings(fake_binance))
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, **LIVE)
    status, _ = await platform.request("PATCH", f"/exchanges/{account['_id']}", json={"secret": NEW_SECRET}, token=token)
    assert status == 200
    sealed = (await platform.stored("exchanges", account["_id"]))["sealedCredentials"]
    await platform.http.close()  # the database is closed, the WAL checkpointed
    content = database_bytes(tmp_path)
    assert sealed.encode() in content  # this is the file the account lives in
    for secret in SECRETS:
        assert secret.encode() not in content, secret


async def test_no_secret_in_responses_events_errors_or_logs(live_platform, sockets, settled, caplog,
                                                            fake_binance) -> None:
    platform = live_platform
    caplog.set_level(logging.DEBUG)
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    bodies: list[Any] = []

    async def call(method: str, path: str, **options: Any) -> Any:
        status, body = await platform.request(method, path, token=token, **options)
        bodies.append(body)
        return status, body

    status, account = await call("POST", "/exchanges", json=LIVE)
    assert status == 201
    id = account["_id"]
    error, by_socket = await socket.call("create", "exchanges", {**LIVE, "secret": WRONG_SECRET}, {})
    assert error is None
    bodies.append(by_socket)
    assert (await call("GET", f"/exchanges/{id}/balance"))[0] == 200
    assert (await call("GET", f"/exchanges/{id}/check"))[0] == 200
    assert (await call("GET", f"/exchanges/{by_socket['_id']}/check"))[0] == 422
    assert (await call("POST", "/exchanges", json={**LIVE, "label": ""}))[0] == 400
    assert (await call("POST", "/exchanges", json={**LIVE, "secret": SECRET * 500}))[0] == 400
    assert (await call("PATCH", f"/exchanges/{id}", json={"secret": NEW_SECRET}))[0] == 200
    assert (await call("GET", f"/exchanges/{id}/check"))[0] == 422  # the server knows no such secret
    assert (await call("GET", "/exchanges?$select[]=label"))[0] == 200
    assert (await call("GET", f"/exchanges/{id}"))[0] == 200
    fake_binance.unavailable = True
    assert (await call("GET", f"/exchanges/{id}/balance"))[0] == 503
    assert (await call("DELETE", f"/exchanges/{id}"))[0] == 200
    await settled(platform.app, socket)

    assert leaked(json.dumps(bodies)) == []
    assert len(socket.received) == 4 and leaked(json.dumps([args for _, args in socket.received])) == []
    logs = log_text(caplog.records)
    assert leaked(logs) == []
    ccxt_lines = [record.getMessage() for record in caplog.records if record.name == "services.exchanges.ccxt"]
    assert any("/api/v3/account" in line and REDACTED in line for line in ccxt_lines)  # its request log, redacted
    assert not any("signature=" in line for line in ccxt_lines)


@pytest.fixture
async def live_platform(make_platform, fake_binance) -> Platform:
    return await make_platform(**binance_settings(fake_binance))


def test_the_generated_key_is_kept_private_in_the_data_dir(tmp_path: Path) -> None:
    create_app({**load_config("test", environ={}), "data_dir": str(tmp_path)})
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    Fernet(path.read_text().encode())  # a valid Fernet key
    create_app({**load_config("test", environ={}), "data_dir": str(tmp_path)})
    assert Fernet(path.read_text().encode())  # kept, not replaced


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    environ = {"CRYPTOROBOT_AUTHENTICATION__SECRET": "s" * 64}
    with pytest.raises(RuntimeError, match="CRYPTOROBOT_EXCHANGES__CREDENTIALS_KEY"):
        create_app({**load_config("production", environ=environ), "data_dir": str(tmp_path)})
    assert not (tmp_path / KEY_FILE).exists()
    key = Fernet.generate_key().decode()
    app = create_app({**load_config("production", environ={**environ, "CRYPTOROBOT_EXCHANGES__CREDENTIALS_KEY": key}),
                      "data_dir": str(tmp_path)})
    assert app.service("exchanges") and not (tmp_path / KEY_FILE).exists()


def test_a_key_that_is_not_a_fernet_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Fernet keys"):
        create_app(merged({**load_config("test", environ={}), "data_dir": str(tmp_path)},
                          {"exchanges": {"credentials_key": "too-short"}}))


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_keys_rotate_and_an_unknown_key_is_a_clear_error(make_platform, fake_binance) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def keyed(keys: str) -> dict[str, Any]:
        return merged(binance_settings(fake_binance), {"exchanges": {"credentials_key": keys}})

    first = await make_platform(**keyed(old))
    _, token = await first.member("ann@example.com")
    account = await new_account(first, token, **LIVE)
    await first.http.close()

    rotated = await make_platform(**keyed(f"{new},{old}"))  # the new key seals, the old one still opens
    token = (await rotated.login("ann@example.com"))["accessToken"]
    assert (await rotated.request("GET", f"/exchanges/{account['_id']}/check", token=token))[0] == 200
    status, _ = await rotated.request("PATCH", f"/exchanges/{account['_id']}", json={"secret": SECRET}, token=token)
    assert status == 200  # re-sealed under the new key
    await rotated.http.close()

    only_new = await make_platform(**keyed(new))
    token = (await only_new.login("ann@example.com"))["accessToken"]
    assert (await only_new.request("GET", f"/exchanges/{account['_id']}/check", token=token))[0] == 200
    await only_new.http.close()

    lost = await make_platform(**keyed(Fernet.generate_key().decode()))
    token = (await lost.login("ann@example.com"))["accessToken"]
    status, body = await lost.request("GET", f"/exchanges/{account['_id']}/balance", token=token)
    assert (status, body["data"]) == (422, {"code": "CREDENTIALS_UNREADABLE", "accountId": account["_id"]})
    status, body = await lost.request("PATCH", f"/exchanges/{account['_id']}", json={"secret": SECRET}, token=token)
    assert (status, body["data"]["code"]) == (422, "CREDENTIALS_UNREADABLE")  # the key is needed too
    status, _ = await lost.request("PATCH", f"/exchanges/{account['_id']}", json={"apiKey": API_KEY, "secret": SECRET},
                                   token=token)
    assert status == 200
    assert (await lost.request("GET", f"/exchanges/{account['_id']}/check", token=token))[0] == 200


def test_the_redactor_takes_out_secrets_and_query_strings() -> None:
    redactor = Redactor()
    redactor.add(["key-of-ann-123", "sec", "secret-of-ann-456"])
    redactor.add(["key-of-ann-123"])
    line = ("GET https://api.binance.com/api/v3/account?timestamp=1&signature=ab12, Request: "
            "{'X-MBX-APIKEY': 'key-of-ann-123'} body secret-of-ann-456 sec")
    assert redactor.scrub(line) == (f"GET https://api.binance.com/api/v3/account?… Request: "
                                    f"{{'X-MBX-APIKEY': '{REDACTED}'}} body {REDACTED} sec")
    redactor.discard(["key-of-ann-123", "secret-of-ann-456"])
    assert redactor.scrub("key-of-ann-123 secret-of-ann-456") == f"{REDACTED} secret-of-ann-456"  # still in use once
