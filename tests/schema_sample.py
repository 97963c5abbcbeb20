"""A sample app with schemas, shared by the schema, OpenAPI and fuzz tests.

The same `items` service definition is registered twice: `memory-items` on the memory
adapter and `sqlite-items` on the SQLite adapter, so tests can show that one REST query
returns the same records on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import MemoryService, SqliteService
from cryptorobot.schemas import QuerySchema, Schema, fields

PATHS = ("memory-items", "sqlite-items")
TYPES = ("a", "b", "c")


class ItemCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    count = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    price = fields.Float(validate=validate.Range(min=0, max=1e9))
    active = fields.Boolean()
    type = fields.String(validate=validate.OneOf(TYPES))
    email = fields.Email(validate=validate.Length(max=254))
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=72))
    tags = fields.List(fields.String(validate=validate.Length(max=20)), validate=validate.Length(max=10))
    expiresAt = fields.DateTime()


class ItemPatch(ItemCreate):
    """Loaded with partial=True: every field optional."""


class ItemQuery(QuerySchema):
    _id = fields.String()
    name = fields.String()
    count = fields.Integer()
    price = fields.Float()
    active = fields.Boolean()
    type = fields.String(metadata={"operators": ("$ne", "$in", "$nin")})
    tags = fields.List(fields.String(), metadata={"operators": ("$in", "$nin"), "sortable": False})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    expiresAt = fields.DateTime()


class ItemResult(Schema):
    _id = fields.String()
    name = fields.String()
    count = fields.Integer()
    price = fields.Float()
    active = fields.Boolean()
    type = fields.String()
    email = fields.Email()
    tags = fields.List(fields.String())
    expiresAt = fields.DateTime()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    label = fields.Method("make_label", metadata={"type": "string"})

    def make_label(self, record: dict[str, Any]) -> str:
        return f"{record.get('name', '?')} ({record.get('type') or '-'})"


class ArchiveData(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class _Archiving:
    """A custom method, to show custom methods in the OpenAPI document."""

    async def archive(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        return {"archived": True, "reason": data["reason"]}


class MemoryItems(_Archiving, MemoryService):
    pass


class SqliteItems(_Archiving, SqliteService):
    pass


SCHEMAS = {"create": ItemCreate, "patch": ItemPatch, "query": ItemQuery, "result": ItemResult,
           "archive": ArchiveData}
METHODS = ["find", "get", "create", "update", "patch", "remove", "archive"]


def build_app(sqlite_path: str | None = None, *, paginate: Any = None) -> App:
    """Both services; `sqlite_path` None keeps the SQLite database in memory."""
    app = App({"openapi": {"title": "Sample API", "version": "1.0.0"}})
    options = {"id": "_id", "paginate": {"default": 10, "max": 50} if paginate is None else paginate,
               "multi": ["patch", "remove"]}
    app.use("memory-items", MemoryItems(**options), {"methods": METHODS, "schemas": SCHEMAS})
    app.use("sqlite-items", SqliteItems(path=sqlite_path, **options), {"methods": METHODS, "schemas": SCHEMAS})
    return app


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


SEED = [
    {"_id": "i1", "name": "apple", "count": 1, "price": 0.5, "active": True, "type": "a",
     "tags": ["fruit", "red"], "createdAt": utc(2023, 12, 31, 23, 0), "password": "hidden-1"},
    {"_id": "i2", "name": "banana", "count": 10, "price": 1.25, "active": False, "type": "b",
     "tags": ["fruit"], "createdAt": utc(2024, 1, 1), "password": "hidden-2"},
    {"_id": "i3", "name": "cherry", "count": 100, "price": 12.0, "active": True, "type": "c",
     "tags": ["red"], "createdAt": utc(2024, 1, 15, 12, 30), "password": "hidden-3"},
    {"_id": "i4", "name": "date", "count": 9, "price": 3.0, "active": True, "type": "a",
     "tags": [], "createdAt": utc(2024, 2, 1), "password": "hidden-4"},
    {"_id": "i5", "name": "elder", "count": 0, "active": False, "type": "b",
     "createdAt": utc(2025, 6, 1), "password": "hidden-5"},
]


async def seed(app: App) -> None:
    """The same five records in both services, written by server code (ids and dates kept)."""
    for path in PATHS:
        for record in SEED:
            await app.service(path).create({**record, "updatedAt": record["createdAt"]})
