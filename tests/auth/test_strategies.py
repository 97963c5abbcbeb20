"""Strategies and the authentication service without transports (feathers-wire 7.2-7.7, 7.11)."""

from __future__ import annotations

import hashlib
import re

import pytest

from auth_support import PASSWORD, AuthApp
from cryptorobot.auth import ApiKeyStrategy, JwtStrategy, generate_api_key, hash_api_key, strategies
from cryptorobot.errors import NotAuthenticated


def message(error: pytest.ExceptionInfo) -> str:
    assert isinstance(error.value, NotAuthenticated) and error.value.code == 401
    return error.value.message


# -- parsing headers (7.5) -------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "token"), [
    ("Bearer abc.def.ghi", "abc.def.ghi"),
    ("bearer abc", "abc"),
    ("JWT abc", "abc"),
    ("Bearer: abc", "abc"),
    ("abc", "abc"),
    ("  Bearer   abc  ", "abc"),
    ("Basic dXNlcjpwdw==", None),
    ("Bearer a b", None),
    ("", None),
])
def test_jwt_parses_the_authorization_header(value: str, token: str | None) -> None:
    parsed = JwtStrategy().parse({"authorization": value})
    assert parsed == (None if token is None else {"strategy": "jwt", "accessToken": token})


def test_api_key_parses_its_header() -> None:
    assert ApiKeyStrategy().parse({"x-api-key": "crk_abc"}) == {"strategy": "api-key", "apiKey": "crk_abc"}
    assert ApiKeyStrategy().parse({"x-api-key": ""}) is None
    assert ApiKeyStrategy().parse({"authorization": "Bearer x"}) is None


def test_service_parse_asks_strategies_in_order(auth: AuthApp) -> None:
    both = {"authorization": "Bearer tok", "x-api-key": "crk_key"}
    assert auth.service.parse(both) == {"strategy": "jwt", "accessToken": "tok"}
    assert auth.service.parse({"x-api-key": "crk_key"}) == {"strategy": "api-key", "apiKey": "crk_key"}
    assert auth.service.parse({"cookie": "a=b"}) is None
    assert auth.app.parse_authentication({"x-api-key": "crk_key"}) == {"strategy": "api-key", "apiKey": "crk_key"}


# -- choosing the strategy (7.11) ---------------------------------------------------------------------

@pytest.mark.parametrize(("data", "allowed", "expected"), [
    ({"email": "a@b.c"}, ("local",), "Invalid authentication information (no `strategy` set)"),
    ("local", ("local",), "Invalid authentication information (no `strategy` set)"),
    ({"strategy": "local"}, ("jwt",), "Invalid authentication information (strategy not allowed in authStrategies)"),
    ({"strategy": ["local"]}, ("local",), "Invalid authentication information (strategy not allowed in authStrategies)"),
    ({"strategy": "oauth"}, ("oauth",), "Invalid authentication information"),
    ({"strategy": "local"}, (), "No authentication strategies allowed for creating a JWT (`authStrategies`)"),
])
async def test_strategy_selection_errors(auth: AuthApp, data: object, allowed: tuple, expected: str) -> None:
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate(data, {}, *allowed)
    assert message(error) == expected


# -- local -----------------------------------------------------------------------------------------

async def test_local_returns_the_complete_entity(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    result = await auth.service.authenticate({"strategy": "local", "email": " ANN@example.com ", "password": PASSWORD},
                                             {}, "local")
    assert result == {"authentication": {"strategy": "local"}, "user": user}
    assert result["user"]["password"].startswith("$2b$04$")  # internal callers see the hash


@pytest.mark.parametrize("data", [
    {"email": "ann@example.com", "password": "wrong password"},
    {"email": "nobody@example.com", "password": PASSWORD},
    {"email": "ann@example.com"},
    {"password": PASSWORD},
    {"email": "", "password": PASSWORD},
    {"email": "ann@example.com", "password": ""},
])
async def test_local_failures_all_say_invalid_login(auth: AuthApp, data: dict) -> None:
    await auth.user("ann@example.com")
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "local", **data}, {}, "local")
    assert message(error) == "Invalid login"
    assert error.value.to_json() == {"name": "NotAuthenticated", "message": "Invalid login", "code": 401,
                                     "className": "not-authenticated"}


async def test_unknown_email_costs_a_bcrypt_check_too(auth: AuthApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong password and unknown email take the same path: one bcrypt comparison each."""
    await auth.user("ann@example.com")
    checked: list[str] = []
    real = strategies.verify_password

    async def spy(password: str, hashed: str) -> bool:
        checked.append(hashed)
        return await real(password, hashed)

    monkeypatch.setattr(strategies, "verify_password", spy)
    for email in ("ann@example.com", "nobody@example.com"):
        with pytest.raises(NotAuthenticated):
            await auth.service.authenticate({"strategy": "local", "email": email, "password": "wrong!"}, {}, "local")
    assert len(checked) == 2
    assert all(re.fullmatch(r"\$2b\$04\$.{53}", hashed) for hashed in checked)


@pytest.mark.parametrize("data", [
    {"email": {"$ne": "x"}, "password": PASSWORD},
    {"email": "ann@example.com", "password": {"$gt": ""}},
    {"email": {"$ne": None}, "password": {"$ne": None}},
    {"email": ["ann@example.com"], "password": [PASSWORD]},
    {"email": {"$in": ["ann@example.com"]}, "password": PASSWORD},
    {"email": 1, "password": 1},
])
async def test_local_never_queries_with_operators(auth: AuthApp, data: dict) -> None:
    await auth.user("ann@example.com")
    queries: list = []
    auth.app.service("users").hooks({"before": {"find": [lambda context: queries.append(context.params["query"])]}})
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "local", **data}, {}, "local")
    assert message(error) == "Invalid login"
    assert queries == []


# -- jwt -------------------------------------------------------------------------------------------

async def test_jwt_verifies_and_loads_the_subject(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    result = await auth.service.authenticate({"strategy": "jwt", "accessToken": token}, {}, "jwt")
    assert result == {
        "accessToken": token,
        "authentication": {"strategy": "jwt", "accessToken": token, "payload": auth.service.tokens.verify(token)},
        "user": user,
    }


async def test_jwt_subject_that_no_longer_exists(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    await auth.app.service("users").remove(user["_id"])
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "jwt", "accessToken": token}, {}, "jwt")
    assert message(error) == "Not authenticated"


async def test_jwt_without_token(auth: AuthApp) -> None:
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "jwt"}, {}, "jwt")
    assert message(error) == "No access token"


# -- api keys --------------------------------------------------------------------------------------

def test_generated_keys() -> None:
    key, hashed = generate_api_key()
    assert re.fullmatch(r"crk_[A-Za-z0-9_-]{43}", key)
    assert hashed == hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert generate_api_key()[0] != key


async def test_api_key_authenticates_as_its_owner(auth: AuthApp) -> None:
    owner = await auth.user("ann@example.com")
    key, record = await auth.api_key(owner)
    result = await auth.service.authenticate({"strategy": "api-key", "apiKey": key}, {}, "api-key")
    assert result == {"authentication": {"strategy": "api-key", "keyId": record["_id"]}, "user": owner}


@pytest.mark.parametrize("key", ["crk_not-a-key", "", None, {"$ne": ""}, ["x"]])
async def test_unknown_api_keys(auth: AuthApp, key: object) -> None:
    await auth.api_key(await auth.user("ann@example.com"))
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "api-key", "apiKey": key}, {}, "api-key")
    assert message(error) == "Invalid API key"


async def test_revoked_api_key(auth: AuthApp) -> None:
    key, record = await auth.api_key(await auth.user("ann@example.com"))
    await auth.app.service("api-keys").remove(record["_id"])
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "api-key", "apiKey": key}, {}, "api-key")
    assert message(error) == "Invalid API key"


async def test_api_key_of_a_deleted_user(auth: AuthApp) -> None:
    owner = await auth.user("ann@example.com")
    key, _ = await auth.api_key(owner)
    await auth.app.service("users").remove(owner["_id"])
    with pytest.raises(NotAuthenticated) as error:
        await auth.service.authenticate({"strategy": "api-key", "apiKey": key}, {}, "api-key")
    assert message(error) == "Not authenticated"


# -- create and remove (7.2, 7.4) ------------------------------------------------------------------

async def test_create_with_local_mints_a_token_for_the_user(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    result = await auth.app.service("authentication").create(
        {"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    payload = auth.service.tokens.verify(result["accessToken"])
    assert payload["sub"] == str(user["_id"])
    assert result == {"accessToken": result["accessToken"],
                      "authentication": {"strategy": "local", "payload": payload}, "user": user}


async def test_create_with_jwt_returns_the_same_token(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    result = await auth.app.service("authentication").create({"strategy": "jwt", "accessToken": token})
    assert result["accessToken"] == token
    assert result["authentication"] == {"strategy": "jwt", "accessToken": token, "payload": auth.service.tokens.verify(token)}


async def test_create_respects_params_auth_strategies(auth: AuthApp) -> None:
    await auth.user("ann@example.com")
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("authentication").create(
            {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}, {"auth_strategies": ["jwt"]})
    assert message(error) == "Invalid authentication information (strategy not allowed in authStrategies)"


async def test_remove_needs_authentication(auth: AuthApp) -> None:
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("authentication").remove(None)
    assert message(error) == "Invalid authentication information (no `strategy` set)"


async def test_remove_with_another_token_as_id(auth: AuthApp) -> None:
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("authentication").remove(
            "another-token", {"authentication": {"strategy": "jwt", "accessToken": token}})
    assert message(error) == "Invalid access token"
    result = await auth.app.service("authentication").remove(
        token, {"authentication": {"strategy": "jwt", "accessToken": token}})
    assert result["accessToken"] == token and result["user"] == user
