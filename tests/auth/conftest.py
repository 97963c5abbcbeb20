"""A small app with users, api-keys and the authentication service, without any transport."""

from __future__ import annotations

import pytest

from auth_support import SECRET, AuthApp
from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.auth import ApiKeyStrategy, AuthenticationService, JwtStrategy, LocalStrategy, TokenIssuer


@pytest.fixture
async def auth() -> AuthApp:
    app = App()
    app.use("users", MemoryService(id="_id"))
    app.use("api-keys", MemoryService(id="_id"))
    service = AuthenticationService(TokenIssuer(SECRET, audience="tests", issuer="tests"),
                                    auth_strategies=("jwt", "local", "api-key"), password_rounds=4)
    service.register(JwtStrategy()).register(LocalStrategy(normalize=lambda s: s.strip().lower())).register(ApiKeyStrategy())
    app.use("authentication", service, {"methods": ["create", "remove"]})
    await app.setup()
    yield AuthApp(app, service)
    await app.teardown()
