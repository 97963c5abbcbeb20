"""Helpers for the authentication unit tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.auth import AuthenticationService, generate_api_key, hash_password

SECRET = "unit-test-secret-" * 4
PASSWORD = "correct horse battery"


class AuthApp:
    def __init__(self, app: App, service: AuthenticationService) -> None:
        self.app = app
        self.service = service

    async def user(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        hashed = await hash_password(password, 4)
        return await self.app.service("users").create({"email": email, "password": hashed})

    async def api_key(self, owner: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        key, hashed = generate_api_key()
        record = await self.app.service("api-keys").create({"name": "k", "hash": hashed, "userId": owner["_id"]})
        return key, record
