"""Logging in and out over REST and Socket.IO; rejected credentials; connection state and channels."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import jwt
import pytest
import socketio

from cryptorobot import Connection, ManualClock
from cryptorobot.auth import authenticate
from platform_support import PASSWORD, Platform, as_json, b64, not_authenticated, socket_login
from tests.conftest import WAIT

INVALID_LOGIN = not_authenticated("Invalid login")


def secret_of(platform: Platform) -> str:
    return platform.app.service("authentication").raw.tokens._secret


def forge(platform: Platform, claims: dict[str, Any], secret: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret or secret_of(platform), algorithm=algorithm, headers={"typ": "access"})


class WhoAmI:
    """A protected probe: what a call's params say about the caller."""

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user") or {}
        return {"userId": user.get("_id"), "email": user.get("email"), "provider": params.get("provider"),
                "strategy": (params.get("authentication") or {}).get("strategy"),
                "authenticated": params.get("authenticated", False)}


def add_whoami(platform: Platform) -> None:
    platform.app.use("whoami", WhoAmI())
    platform.app.service("whoami").hooks({"before": {"find": [authenticate("jwt", "api-key")]}})


# -- REST ------------------------------------------------------------------------------------------

async def test_rest_local_login(platform: Platform) -> None:
    user = await platform.sign_up("ann@example.com")
    before = int(time.time())
    status, body = await platform.request("POST", "/authentication", json={
        "strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    assert status == 201
    assert set(body) == {"accessToken", "authentication", "user"}
    payload = jwt.decode(body["accessToken"], secret_of(platform), algorithms=["HS256"], audience="cryptorobot",
                         issuer="cryptorobot")
    assert body["authentication"] == {"strategy": "local", "payload": payload}
    assert body["user"] == user
    assert set(payload) == {"sub", "iat", "exp", "aud", "iss", "jti", "amr"}
    assert payload["sub"] == str(user["_id"])
    assert payload["amr"] == ["local"]
    assert before <= payload["iat"] <= int(time.time())
    assert payload["exp"] - payload["iat"] == 86400
    assert (payload["aud"], payload["iss"]) == ("cryptorobot", "cryptorobot")
    assert uuid.UUID(payload["jti"]).version == 7  # issue time in ms (RFC 9562), for revocation
    assert jwt.get_unverified_header(body["accessToken"]) == {"alg": "HS256", "typ": "access"}


async def test_rest_jwt_login_returns_the_same_token(platform: Platform) -> None:
    user, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/authentication", json={"strategy": "jwt", "accessToken": token})
    assert status == 201
    payload = jwt.decode(token, options={"verify_signature": False})
    assert body == {"accessToken": token, "authentication": {"strategy": "jwt", "accessToken": token, "payload": payload},
                    "user": user}


async def test_rest_protected_call_with_and_without_token(platform: Platform) -> None:
    add_whoami(platform)
    user, token = await platform.member("ann@example.com")
    assert await platform.request("GET", "/whoami") == (401, not_authenticated("Not authenticated"))
    assert await platform.request("GET", "/whoami", token=token) == (200, {
        "userId": user["_id"], "email": user["email"], "provider": "rest", "strategy": "jwt", "authenticated": True})
    assert (await platform.request("GET", "/whoami", headers={"Authorization": f"JWT {token}"}))[0] == 200
    assert (await platform.request("GET", "/whoami", headers={"Authorization": token}))[0] == 200
    assert await platform.request("GET", "/whoami", headers={"Authorization": f"Basic {token}"}) == (
        401, not_authenticated("Not authenticated"))


async def test_a_bad_token_is_ignored_where_no_authentication_is_needed(platform: Platform) -> None:
    status, _ = await platform.request("POST", "/users", json={"email": "ann@example.com", "password": PASSWORD},
                                       token="not-a-token")
    assert status == 201


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "ann@example.com", "password": PASSWORD}, "Invalid authentication information (no `strategy` set)"),
    ({"strategy": "oauth"}, "Invalid authentication information (strategy not allowed in authStrategies)"),
    ({"strategy": "jwt"}, "No access token"),
])
async def test_rest_strategy_errors(platform: Platform, data: dict, message: str) -> None:
    await platform.sign_up("ann@example.com")
    assert await platform.request("POST", "/authentication", json=data) == (401, not_authenticated(message))


async def test_wrong_password_and_unknown_email_look_the_same(platform: Platform) -> None:
    await platform.sign_up("ann@example.com")
    wrong = await platform.request("POST", "/authentication", json={
        "strategy": "local", "email": "ann@example.com", "password": "not the password"})
    unknown = await platform.request("POST", "/authentication", json={
        "strategy": "local", "email": "nobody@example.com", "password": PASSWORD})
    assert wrong == unknown == (401, INVALID_LOGIN)


# -- rejected tokens -------------------------------------------------------------------------------

async def rejected(platform: Platform, token: str) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """The answers to a protected call and to a jwt login with `token`; they must agree."""
    call = await platform.request("GET", "/users", token=token)
    login = await platform.request("POST", "/authentication", json={"strategy": "jwt", "accessToken": token})
    assert call == login
    return call


async def test_token_with_alg_none(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert await rejected(platform, unsigned) == (401, not_authenticated(
        "jwt signature is required", data={"name": "JsonWebTokenError"}))
    _header, payload, signature = token.split(".")
    relabelled = f"{b64({'alg': 'none', 'typ': 'access'})}.{payload}.{signature}"
    assert await rejected(platform, relabelled) == (401, not_authenticated(
        "invalid algorithm", data={"name": "JsonWebTokenError"}))


async def test_token_signed_with_another_secret(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert await rejected(platform, forge(platform, claims, secret="another secret " * 4)) == (
        401, not_authenticated("invalid signature", data={"name": "JsonWebTokenError"}))


async def test_expired_token(platform: Platform) -> None:
    user, _ = await platform.member("ann@example.com")
    exp = int(time.time()) - 5
    token = forge(platform, {"sub": str(user["_id"]), "iat": exp - 86400, "exp": exp, "aud": "cryptorobot",
                             "iss": "cryptorobot", "jti": str(uuid.uuid4())})
    expired_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(exp))
    assert await rejected(platform, token) == (401, not_authenticated(
        "jwt expired", "TOKEN_EXPIRED", {"name": "TokenExpiredError", "expiredAt": expired_at}))


async def test_token_of_a_deleted_user(platform: Platform) -> None:
    user, token = await platform.member("ann@example.com")
    await platform.app.service("users").remove(user["_id"])
    assert await rejected(platform, token) == (401, not_authenticated("Not authenticated"))


async def test_token_with_a_tampered_payload(platform: Platform) -> None:
    _, ann_token = await platform.member("ann@example.com")
    bob, _ = await platform.member("bob@example.com")
    header, _payload, signature = ann_token.split(".")
    claims = {**jwt.decode(ann_token, options={"verify_signature": False}), "sub": str(bob["_id"])}
    assert await rejected(platform, f"{header}.{b64(claims)}.{signature}") == (
        401, not_authenticated("invalid signature", data={"name": "JsonWebTokenError"}))


async def test_token_for_another_audience(platform: Platform) -> None:
    _user, token = await platform.member("ann@example.com")
    claims = {**jwt.decode(token, options={"verify_signature": False}), "aud": "someone-else"}
    assert await rejected(platform, forge(platform, claims)) == (401, not_authenticated(
        "jwt audience invalid. expected: cryptorobot", data={"name": "JsonWebTokenError"}))


async def test_garbage_token(platform: Platform) -> None:
    assert await rejected(platform, "garbage") == (401, not_authenticated(
        "jwt malformed", data={"name": "JsonWebTokenError"}))


# -- NoSQL operator injection in login ----------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(("path", "kwargs"), [
    ("/authentication", {"json": {"strategy": "local", "email": {"$ne": "x"}, "password": {"$gt": ""}}}),
    ("/authentication", {"json": {"strategy": "local", "email": "ann@example.com", "password": {"$ne": "x"}}}),
    ("/authentication", {"json": {"strategy": "local", "email": {"$regex": ".*"}, "password": PASSWORD}}),
    ("/authentication", {"json": {"strategy": "local", "email": {"$in": ["ann@example.com"]}, "password": {"$gt": ""}}}),
    ("/authentication", {"json": {"strategy": "local", "email": ["ann@example.com"], "password": [PASSWORD, "x"]}}),
    ("/authentication", {"data": "strategy=local&email[$ne]=x&password[$gt]=", "headers": FORM}),
    ("/authentication", {"data": "strategy=local&email=ann%40example.com&password[$ne]=x", "headers": FORM}),
    ("/authentication", {"data": "strategy=local&email[]=ann%40example.com&password[]=x", "headers": FORM}),
    ("/authentication?email[$ne]=x&password[$gt]=", {"json": {"strategy": "local"}}),
    ("/authentication?email=ann%40example.com&password[$ne]=x", {"json": {"strategy": "local",
                                                                          "email": "ann@example.com"}}),
])
async def test_operator_injection_in_login(platform: Platform, path: str, kwargs: dict) -> None:
    await platform.sign_up("ann@example.com")
    status, body = await platform.request("POST", path, **kwargs)
    assert (status, body) == (401, INVALID_LOGIN)


async def test_form_login_works_with_plain_values(platform: Platform) -> None:
    """The injection tests above fail for the right reason: a form body does log in."""
    await platform.sign_up("ann@example.com")
    status, body = await platform.request(
        "POST", "/authentication", data=f"strategy=local&email=ann%40example.com&password={PASSWORD.replace(' ', '+')}",
        headers=FORM)
    assert status == 201 and body["user"]["email"] == "ann@example.com"


# -- REST logout ---------------------------------------------------------------------------------

async def test_rest_logout(platform: Platform) -> None:
    user, token = await platform.member("ann@example.com")
    logouts: list = []
    platform.app.on("logout", lambda result, params, context=None: logouts.append((result, params)))
    status, body = await platform.request("DELETE", "/authentication", token=token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert (status, body) == (200, {"accessToken": token, "user": user,
                                    "authentication": {"strategy": "jwt", "accessToken": token, "payload": payload}})
    assert len(logouts) == 1 and "connection" not in logouts[0][1]
    assert await platform.request("DELETE", "/authentication") == (
        401, not_authenticated("Invalid authentication information (no `strategy` set)"))
    assert await platform.request("DELETE", "/authentication/another-token", token=token) == (
        401, not_authenticated("Invalid access token"))


# -- Socket.IO -----------------------------------------------------------------------------------

async def test_socket_login_and_protected_calls(platform: Platform, sockets) -> None:
    add_whoami(platform)
    user = await platform.sign_up("ann@example.com")
    socket = await sockets(platform.http)
    assert await socket.call("find", "whoami", {}) == not_authenticated("Not authenticated")
    error, result = await socket.call("create", "authentication",
                                      {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}, {})
    assert error is None
    assert set(result) == {"accessToken", "authentication", "user"}
    assert result["user"] == user and result["authentication"]["strategy"] == "local"
    assert result["authentication"]["payload"]["sub"] == str(user["_id"])
    # Later calls carry no token: the connection is authenticated.
    assert await socket.call("find", "whoami", {}) == (None, {
        "userId": user["_id"], "email": user["email"], "provider": "socketio", "strategy": "jwt", "authenticated": True})
    error, page = await socket.call("find", "users", {})
    assert error is None and page["data"] == [user]
    connection = platform.connection(socket)
    assert as_json(connection["user"]) == user and "password" not in connection["user"]
    assert connection["authentication"] == {"strategy": "jwt", "accessToken": result["accessToken"]}


async def test_socket_jwt_login(platform: Platform, sockets) -> None:
    user, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    error, result = await socket.call("create", "authentication", {"strategy": "jwt", "accessToken": token}, {})
    assert error is None and result["accessToken"] == token and result["user"] == user
    assert (await socket.call("find", "users", {}))[1]["data"] == [user]


async def test_socket_failed_login_leaves_the_connection_anonymous(platform: Platform, sockets) -> None:
    await platform.sign_up("ann@example.com")
    socket = await sockets(platform.http)
    for data in ({"strategy": "local", "email": "ann@example.com", "password": "wrong password"},
                 {"strategy": "local", "email": "nobody@example.com", "password": PASSWORD},
                 {"strategy": "local", "email": {"$ne": "x"}, "password": {"$ne": "x"}}):
        assert await socket.call("create", "authentication", data, {}) == INVALID_LOGIN
    assert await socket.call("find", "users", {}) == not_authenticated("Not authenticated")
    connection = platform.connection(socket)
    assert "user" not in connection and "authentication" not in connection
    assert platform.rooms_of(connection) == ["anonymous"]


async def test_socket_logout(platform: Platform, sockets) -> None:
    user = await platform.sign_up("ann@example.com")
    socket = await sockets(platform.http)
    result = await socket_login(socket, "ann@example.com")
    error, body = await socket.call("remove", "authentication", None, {})
    assert error is None
    assert body == {"accessToken": result["accessToken"], "user": user, "authentication": {
        "strategy": "jwt", "accessToken": result["accessToken"], "payload": result["authentication"]["payload"]}}
    assert await socket.call("find", "users", {}) == not_authenticated("Not authenticated")
    assert await socket.call("remove", "authentication", None, {}) == not_authenticated(
        "Invalid authentication information (no `strategy` set)")
    connection = platform.connection(socket)
    assert "user" not in connection and "authentication" not in connection
    assert platform.rooms_of(connection) == ["anonymous"]


async def test_login_and_logout_events_carry_the_connection(platform: Platform, sockets) -> None:
    user = await platform.sign_up("ann@example.com")
    events: list[tuple[str, Any, Any]] = []
    platform.app.on("login", lambda result, params, context=None: events.append(("login", result, params)))
    platform.app.on("logout", lambda result, params, context=None: events.append(("logout", result, params)))
    await platform.login("ann@example.com")  # REST: an event without a connection
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await socket.call("remove", "authentication", None, {})
    connection = platform.connection(socket)
    assert [name for name, *_ in events] == ["login", "login", "logout"]
    assert "connection" not in events[0][2]
    assert events[1][2]["connection"] is connection and events[2][2]["connection"] is connection
    assert isinstance(connection, Connection)
    for _, result, _params in events:
        assert as_json(result["user"]) == user  # the external form: no password hash
        assert "password" not in result["user"]


async def test_channels_follow_the_connection(platform: Platform, sockets) -> None:
    user = await platform.sign_up("ann@example.com")
    socket = await sockets(platform.http)
    connection = platform.connection(socket)
    assert platform.rooms_of(connection) == ["anonymous"]
    await socket_login(socket, "ann@example.com")
    assert platform.rooms_of(connection) == ["authenticated", f"users/{user['_id']}"]
    await socket.call("remove", "authentication", None, {})
    assert platform.rooms_of(connection) == ["anonymous"]
    await socket_login(socket, "ann@example.com")
    gone = asyncio.Event()
    platform.app.on("disconnect", lambda closed: gone.set())  # after the channels let it go
    await socket.close()
    await asyncio.wait_for(gone.wait(), 5)
    assert platform.rooms_of(connection) == []


async def test_handshake_login_with_an_authorization_header(platform: Platform, sockets) -> None:
    user, token = await platform.member("ann@example.com")
    logins: list = []
    platform.app.on("login", lambda result, params, context=None: logins.append(params.get("connection")))
    socket = await sockets(platform.http, headers={"Authorization": f"Bearer {token}"})
    connection = platform.connection(socket)
    assert logins == [connection]
    assert platform.rooms_of(connection) == ["authenticated", f"users/{user['_id']}"]
    assert (await socket.call("find", "users", {}))[1]["data"] == [user]


async def test_handshake_with_a_bad_token_is_refused(platform: Platform) -> None:
    client = socketio.AsyncClient(reconnection=False)
    refusals: list = []
    client.on("connect_error", refusals.append)
    url = str(platform.http.make_url("")).rstrip("/")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, headers={"Authorization": "Bearer garbage"}, transports=["websocket"], wait_timeout=5)
    assert refusals == [{"message": "jwt malformed", "data": {"code": "UNAUTHORIZED", "name": "JsonWebTokenError"}}]
    assert not client.connected


async def test_logging_in_as_someone_else_leaves_the_previous_users_room(platform: Platform, sockets, settled) -> None:
    ann = await platform.sign_up("ann@example.com")
    bob = await platform.sign_up("bob@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await socket_login(socket, "bob@example.com")
    connection = platform.connection(socket)
    assert platform.rooms_of(connection) == ["authenticated", f"users/{bob['_id']}"]
    assert as_json(connection["user"]) == bob
    await platform.app.service("users").patch(ann["_id"], {"name": "Ann"})
    await platform.app.service("users").patch(bob["_id"], {"name": "Bob"})
    await settled(platform.app, socket)
    assert [(name, args[0]["_id"]) for name, args in socket.received] == [("users patched", bob["_id"])]


# -- token expiry ----------------------------------------------------------------------------------

async def test_an_expiring_token_disconnects_the_socket(make_platform, sockets) -> None:
    clock = ManualClock(1_800_000_000.25)
    platform = await make_platform(clock=clock, authentication={"jwt_options": {"expires_in": "2h"}})
    await platform.sign_up("ann@example.com")
    await platform.sign_up("bob@example.com")
    disconnects: list[Connection] = []
    platform.app.on("disconnect", disconnects.append)
    staying, leaving = await sockets(platform.http), await sockets(platform.http)
    result = await socket_login(staying, "ann@example.com")
    await socket_login(leaving, "bob@example.com")
    payload = result["authentication"]["payload"]
    assert (payload["iat"], payload["exp"]) == (1_800_000_000, 1_800_007_200)
    connection = platform.connection(staying)
    assert clock.waiters == [payload["exp"], payload["exp"]]  # one logout timer per socket
    await leaving.call("remove", "authentication", None, {})  # logging out cancels the timer
    assert clock.waiters == [payload["exp"]]
    clock.set(payload["exp"] - 0.001)
    assert (await staying.call("find", "users", {}))[0] is None  # still logged in
    assert not staying.disconnected.is_set() and disconnects == []
    clock.set(payload["exp"])
    await asyncio.wait_for(staying.disconnected.wait(), WAIT)
    assert disconnects == [connection]
    assert platform.rooms_of(connection) == []
    assert "user" not in connection and "authentication" not in connection
    status, body = await platform.request("GET", "/users", token=result["accessToken"])
    assert (status, body["message"]) == (401, "jwt expired")
    clock.advance(86400)  # far past the logged-out token's expiry: nothing was left to fire
    assert clock.waiters == []
    assert (await leaving.call("find", "health", {}))[0] is None  # a round trip: the socket still answers
    assert leaving.sio.connected and not leaving.disconnected.is_set()
