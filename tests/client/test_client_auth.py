"""Logging in and out with the client against the platform (users, authentication, api-keys,
candles), over both transports; events reach only their owner's clients."""

from __future__ import annotations

import pytest

from cryptorobot import errors

PASSWORD = "correct horse battery"


async def sign_up(client, email: str) -> dict:
    return await client.service("users").create({"email": email, "password": PASSWORD})


async def test_local_login(platform, clients, transport, inbox) -> None:
    client = clients(platform.url, transport=transport)
    logins = inbox()
    client.on("login", logins)
    ann = await sign_up(client, "ann@example.com")
    result = await client.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    assert result["user"] == ann and result["authentication"]["strategy"] == "local"
    assert client.authentication == result and client.access_token == result["accessToken"]
    assert await logins.next() == result
    assert (await client.service("users").find())["data"] == [ann]
    assert await client.service("users").get(ann["_id"]) == ann


async def test_a_refused_login_keeps_nothing(platform, clients, transport) -> None:
    client = clients(platform.url, transport=transport)
    await sign_up(client, "ann@example.com")
    with pytest.raises(errors.NotAuthenticated) as refused:
        await client.authenticate({"strategy": "local", "email": "ann@example.com", "password": "wrong password"})
    assert refused.value.message == "Invalid login"
    assert client.authentication is None and client.access_token is None
    with pytest.raises(errors.NotAuthenticated, match="Not authenticated"):
        await client.service("users").find()


async def test_a_refused_login_forgets_the_previous_one(platform, clients, transport) -> None:
    client = clients(platform.url, transport=transport)
    await sign_up(client, "ann@example.com")
    await client.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    with pytest.raises(errors.NotAuthenticated):
        await client.authenticate({"strategy": "jwt", "accessToken": "not.a.token"})
    assert client.authentication is None


async def test_jwt_login(platform, clients, transport) -> None:
    first = clients(platform.url, transport=transport)
    ann = await sign_up(first, "ann@example.com")
    token = (await first.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD}))["accessToken"]
    second = clients(platform.url, transport=transport)
    result = await second.authenticate({"strategy": "jwt", "accessToken": token})
    assert result["accessToken"] == token and result["user"] == ann
    assert (await second.service("users").find())["data"] == [ann]


async def test_api_keys(platform, clients, transport) -> None:
    owner = clients(platform.url, transport=transport)
    ann = await sign_up(owner, "ann@example.com")
    await owner.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    key = (await owner.service("api-keys").create({"name": "bot"}))["key"]
    # X-API-Key on every request (REST) or in the handshake (Socket.IO): no login call.
    with_header = clients(platform.url, transport=transport, api_key=key)
    assert (await with_header.service("users").find())["data"] == [ann]
    assert with_header.authentication is None
    # The api-key strategy: the key exchanged for a token.
    exchanged = clients(platform.url, transport=transport)
    result = await exchanged.authenticate({"strategy": "api-key", "apiKey": key})
    assert result["user"] == ann and result["authentication"]["payload"]["amr"] == ["api-key"]
    assert (await exchanged.service("users").find())["data"] == [ann]
    # Keys may not manage keys, however they are used.
    for client in (with_header, exchanged):
        with pytest.raises(errors.Forbidden):
            await client.service("api-keys").create({"name": "another"})


async def test_an_invalid_api_key(platform, clients, transport) -> None:
    client = clients(platform.url, transport=transport, api_key="crk_" + "A" * 43)
    # Over Socket.IO the handshake is refused: the call fails at once, it does not wait.
    with pytest.raises(errors.NotAuthenticated, match="Invalid API key"):
        await client.service("users").find()
    with pytest.raises(errors.NotAuthenticated, match="Invalid API key"):
        await client.service("users").find()  # tried again, refused again


async def test_logout(platform, clients, transport, inbox) -> None:
    client = clients(platform.url, transport=transport)
    logouts = inbox()
    client.on("logout", logouts)
    assert await client.logout() is None  # not logged in: nothing to do
    await sign_up(client, "ann@example.com")
    login = await client.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    result = await client.logout()
    assert result["user"] == login["user"] and result["accessToken"] == login["accessToken"]
    assert await logouts.next() == result
    assert client.authentication is None
    with pytest.raises(errors.NotAuthenticated):
        await client.service("users").find()


async def test_a_socket_that_logged_out_gets_no_more_events(platform, clients, inbox) -> None:
    socket = clients(platform.url)
    ann_rest = clients(platform.url, transport="rest")
    keys = inbox()
    socket.service("api-keys").on("created", keys)
    await sign_up(socket, "ann@example.com")
    await sign_up(socket, "bob@example.com")
    await ann_rest.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    await socket.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    before = await ann_rest.service("api-keys").create({"name": "before"})
    assert (await keys.next())["_id"] == before["_id"]
    await socket.logout()
    await ann_rest.service("api-keys").create({"name": "after logout"})
    await socket.authenticate({"strategy": "local", "email": "bob@example.com", "password": PASSWORD})
    bobs = await socket.service("api-keys").create({"name": "bob's"})
    # Events reach a socket in order: had "after logout" reached it, it would come first.
    assert (await keys.next())["_id"] == bobs["_id"]


async def test_two_users_never_see_each_others_events(platform, clients, inbox, transport) -> None:
    ann, bob = clients(platform.url), clients(platform.url)
    bob_writes = clients(platform.url, transport=transport)
    ann_keys, bob_keys = inbox(), inbox()
    ann.service("api-keys").on("created", ann_keys)
    bob.service("api-keys").on("created", bob_keys)
    for client, email in ((ann, "ann@example.com"), (bob, "bob@example.com")):
        await sign_up(client, email)
        await client.authenticate({"strategy": "local", "email": email, "password": PASSWORD})
    await bob_writes.authenticate({"strategy": "jwt", "accessToken": bob.access_token})
    bobs = await bob_writes.service("api-keys").create({"name": "bob's"})
    anns = await ann.service("api-keys").create({"name": "ann's"})
    assert (await bob_keys.next())["_id"] == bobs["_id"]
    # Ann's own event came after Bob's was published: had his reached her, it would be first.
    assert (await ann_keys.next())["_id"] == anns["_id"]
    assert "key" not in (await ann.service("api-keys").find())["data"][0]
    with pytest.raises(errors.NotFound):
        await ann.service("api-keys").get(bobs["_id"])


async def test_platform_errors_carry_their_code(platform, clients, transport) -> None:
    client = clients(platform.url, transport=transport)
    with pytest.raises(errors.BadRequest) as invalid:
        await sign_up(client, "not an email")
    assert invalid.value.message == "validation failed"
    assert set(invalid.value.errors) == {"email"}
    await sign_up(client, "ann@example.com")
    await client.authenticate({"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    with pytest.raises(errors.BadRequest) as refused:
        await client.service("candles").find(query={"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "7x"})
    assert refused.value.data == {"code": "INVALID_TIMEFRAME", "timeframe": "7x"}
