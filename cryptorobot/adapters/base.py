"""`AdapterService`: the public layer every storage adapter shares (feathers-wire 2.2, 2.8).

Public methods (`find` ... `remove`) sanitise the query, enforce the multi rules and then
call the hook-less `_find` ... `_remove` that each adapter implements. Public methods never
call each other, so hooks wrapped around them never run twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import BadRequest, Conflict, MethodNotAllowed
from ..query import Filters, page_limit, sanitize_query, split_query

__all__ = ["AdapterService", "Index", "duplicate_id", "page", "query_of"]


@dataclass(frozen=True, init=False)
class Index:
    """An index over one or more (dotted) fields; `unique` makes duplicates a `Conflict`.

    A record lacking any of the fields, or holding null there, is not indexed, so unique
    indexes allow many such records (as SQL does). `fields` may be given as one name.
    """

    fields: tuple[str, ...]
    unique: bool = False

    def __init__(self, fields: str | Sequence[str], unique: bool = False) -> None:
        names = (fields,) if isinstance(fields, str) else tuple(fields)
        if not names:
            raise ValueError("an index needs at least one field")
        object.__setattr__(self, "fields", names)
        object.__setattr__(self, "unique", unique)

    def conflict(self) -> Conflict:
        """The error a duplicate answers, the same in every adapter."""
        names = ", ".join(self.fields)
        return Conflict(f"Duplicate value for unique index ({names})", {"fields": list(self.fields)})


def duplicate_id(id_field: str) -> Conflict:
    """The error for creating a record whose id exists, the same in every adapter.

    Feathers' memory adapter silently overwrites; a database refuses, so every adapter here
    refuses too (a create never destroys a record).
    """
    return Conflict(f"A record with this {id_field} already exists", {"fields": [id_field]})


def query_of(params: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The query of a call's params, `{}` when there is none (hook-less methods take raw params)."""
    return (params or {}).get("query") or {}


def page(total: int, limit: int | None, skip: int, data: list[dict[str, Any]]) -> dict[str, Any]:
    """A page as Feathers sends it; `limit` is omitted when there is none (JS undefined)."""
    result: dict[str, Any] = {"total": total}
    if limit is not None:
        result["limit"] = limit
    result.update(skip=skip, data=data)
    return result


class AdapterService:
    """Base of the memory, SQLite and MongoDB adapters.

    `options` is read on every call, so changing `service.options["multi"]` or
    `["paginate"]` at run time takes effect at once (the adapter test suite does this).
    """

    def __init__(
        self,
        *,
        id: str = "id",
        paginate: Mapping[str, Any] | bool | None = False,
        multi: bool | Sequence[str] = False,
        events: Sequence[str] = (),
        operators: Sequence[str] = (),
        filters: Mapping[str, Any] | None = None,
        indexes: Sequence[str | Index] = (),
        **options: Any,
    ) -> None:
        self.options: dict[str, Any] = {
            "id": id,
            "paginate": paginate,
            "multi": multi if isinstance(multi, bool) else list(multi),
            "events": list(events),
            "operators": list(operators),
            "filters": dict(filters or {}),
            "indexes": tuple(index if isinstance(index, Index) else Index(index) for index in indexes),
            **options,
        }

    @property
    def id(self) -> str:
        return self.options["id"]

    @property
    def events(self) -> list[str]:
        return self.options["events"]

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The options for one call: `params["paginate"]` and `params["adapter"]` override."""
        params = params or {}
        paginate = params["paginate"] if "paginate" in params else self.options["paginate"]
        return {**self.options, "paginate": paginate, **(params.get("adapter") or {})}

    def allows_multi(self, method: str, params: Mapping[str, Any] | None = None) -> bool:
        """Whether `method` may touch several records: find always, get and update never."""
        if method == "find":
            return True
        if method in ("get", "update"):
            return False
        multi = self.get_options(params)["multi"]
        return multi is True or (isinstance(multi, (list, tuple)) and method in multi)

    def sanitize(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """A copy of `params` whose query is sanitised with this call's operators and filters."""
        params = dict(params or {})
        query = params.get("query")
        if query is None or (type(query) is dict and not query):  # most gets: nothing to check
            params["query"] = {}
            return params
        options = self.get_options(params)
        params["query"] = sanitize_query(query, operators=options["operators"], filters=options["filters"])
        return params

    def find_plan(self, params: Mapping[str, Any] | None) -> tuple[Filters, dict[str, Any], bool]:
        """What a `_find` needs: the filters with the page limit applied, the record-level
        query, and whether to answer a page (`paginate` is a dict, even empty, or True)."""
        params = params or {}
        paginate = self.get_options(params)["paginate"]
        paged = paginate is True or isinstance(paginate, Mapping)
        filters, query = split_query(params.get("query") or {})
        limit = page_limit(filters.limit, paginate if isinstance(paginate, Mapping) else None)
        return replace(filters, limit=limit), query, paged

    async def setup(self, app: Any, path: str) -> None:
        """Open files, create tables; called once when the app starts."""

    async def teardown(self) -> None:
        """Release what `setup` acquired."""

    async def find(self, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]] | dict[str, Any]:
        return await self._find(self.sanitize(params))

    async def get(self, id: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return await self._get(id, self.sanitize(params))

    async def create(
        self, data: Mapping[str, Any] | list[Mapping[str, Any]], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(data, list):
            if not self.allows_multi("create", params):
                raise MethodNotAllowed("Can not create multiple entries")
            for item in data:
                _require_object(item)
        else:
            _require_object(data)
        # create ignores the query except `$select` (feathers-wire 2.1).
        query = (params or {}).get("query")
        select = {"$select": query["$select"]} if isinstance(query, Mapping) and "$select" in query else {}
        return await self._create(data, self.sanitize({**(params or {}), "query": select}))

    async def update(
        self, id: Any, data: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        if id is None or isinstance(data, list):
            raise BadRequest("You can not replace multiple instances. Did you mean 'patch'?")
        _require_object(data)
        return await self._update(id, data, self.sanitize(params))

    async def patch(
        self, id: Any, data: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        if id is None and not self.allows_multi("patch", params):
            raise MethodNotAllowed("Can not patch multiple entries")
        _require_object(data)
        return await self._patch(id, data, self.sanitize(params))

    async def remove(self, id: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        if id is None and not self.allows_multi("remove", params):
            raise MethodNotAllowed("Can not remove multiple entries")
        return await self._remove(id, self.sanitize(params))

    # Hook-less methods: no sanitising, no events, no multi checks for `_create`.

    async def _find(self, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]] | dict[str, Any]:
        """A page when the call's `paginate` is a dict, a plain list otherwise."""
        raise NotImplementedError

    async def _get(self, id: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    async def _create(
        self, data: Mapping[str, Any] | list[Mapping[str, Any]], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        raise NotImplementedError

    async def _update(
        self, id: Any, data: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def _patch(
        self, id: Any, data: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """With id None: every match (pagination, `$limit`, `$skip`, `$sort` ignored) as a list."""
        raise NotImplementedError

    async def _remove(
        self, id: Any, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | list[dict[str, Any]]:
        """With id None: every match (as for `_patch`) as a list."""
        raise NotImplementedError


def _require_object(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise BadRequest("Data must be an object")
