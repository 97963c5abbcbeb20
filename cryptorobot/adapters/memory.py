"""`MemoryService`: records in a dict, with Feathers' memory-adapter semantics (feathers-wire 2.4-2.9).

The store maps `str(id)` to the record, so `get(1)` and `get("1")` find the same record and
results keep the stored id type. Stored records are never mutated in place: every write
stores a new dict, and every result is a copy. No method awaits between reading and
writing the store, so concurrent calls on one event loop cannot lose updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from ..errors import NotFound
from ..query import split_query
from .base import AdapterService, Index, duplicate_id, page, query_of
from .matching import canonical, compile_query, compile_scan
from .records import MISSING, copy_json, field_getter, project, supplied_id
from .sorting import sort_records

__all__ = ["MemoryService"]

Record = dict[str, Any]
Params = Mapping[str, Any] | None


class MemoryService(AdapterService):
    """An adapter over a plain dict.

    `store` may be shared by several services (it is used, not copied) and may be seeded
    with JSON-like records keyed by `str(id)`. Auto ids are integers counting up from
    `start_id`, skipping keys already taken. Unique indexes are enforced for writes made
    through this service; non-unique indexes are accepted and ignored.
    """

    def __init__(self, *, store: dict[str, Record] | None = None, start_id: int = 0, **options: Any) -> None:
        store = {} if store is None else store
        super().__init__(store=store, start_id=start_id, **options)
        self.store = store
        self._next_id = start_id
        self._unique = [_UniqueIndex(index, store) for index in self.options["indexes"] if index.unique]

    async def _find(self, params: Params = None) -> list[Record] | Record:
        filters, query, paged = self.find_plan(params)
        matches: Any = compile_scan(query)(self.store.values()) if query else self.store.values()
        if filters.sort:
            matches = list(matches)
            sort_records(matches, filters.sort)
        stop = None if filters.limit is None else filters.skip + filters.limit
        data = [project(record, filters.select, self.id) for record in islice(matches, filters.skip, stop)]
        return page(len(matches), filters.limit, filters.skip, data) if paged else data

    async def _get(self, id: Any, params: Params = None) -> Record:
        filters, query = split_query(query_of(params))
        return project(self._existing(id, query), filters.select, self.id)

    async def _create(
        self, data: Mapping[str, Any] | list[Mapping[str, Any]], params: Params = None
    ) -> Record | list[Record]:
        filters, _ = split_query(query_of(params))
        records = [self._new_record(item) for item in (data if isinstance(data, list) else [data])]
        keys = [str(record[self.id]) for record in records]
        if len(set(keys)) < len(keys) or any(key in self.store for key in keys):
            raise duplicate_id(self.id)
        self._write(list(zip(keys, records, strict=True)))
        results = [project(record, filters.select, self.id) for record in records]
        return results if isinstance(data, list) else results[0]

    async def _update(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record:
        filters, query = split_query(query_of(params))
        current = self._existing(id, query)  # checked before replacing, unlike Feathers
        record = copy_json(data)
        record[self.id] = current[self.id]
        self._write([(str(id), record)])
        return project(record, filters.select, self.id)

    async def _patch(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        changes = {key: value for key, value in data.items() if key != self.id}
        patched = [(key, {**record, **copy_json(changes)}) for key, record in self._targets(id, query)]
        self._write(patched)
        results = [project(record, filters.select, self.id) for _, record in patched]
        return results if id is None else results[0]

    async def _remove(self, id: Any, params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        targets = self._targets(id, query)
        self._write([(key, None) for key, _ in targets])
        results = [project(record, filters.select, self.id) for _, record in targets]
        return results if id is None else results[0]

    def _existing(self, id: Any, query: Mapping[str, Any]) -> Record:
        """The stored record with this id that also matches `query`, else `NotFound`."""
        record = self.store.get(str(id))
        if record is None or (query and not compile_query(query)(record)):
            raise NotFound(f"No record found for id '{id}'")
        return record

    def _targets(self, id: Any, query: Mapping[str, Any]) -> list[tuple[str, Record]]:
        """(key, record) pairs a patch or remove works on: one by id, or every match."""
        if id is not None:
            return [(str(id), self._existing(id, query))]
        match = compile_query(query)
        return [(key, record) for key, record in self.store.items() if match(record)]

    def _new_record(self, data: Mapping[str, Any]) -> Record:
        record = copy_json(data)
        if supplied_id(record, self.id) is None:
            while str(self._next_id) in self.store:
                self._next_id += 1
            record[self.id] = self._next_id
            self._next_id += 1
        return record

    def _write(self, changes: Sequence[tuple[str, Record | None]]) -> None:
        """Store new records (None deletes) after checking unique indexes for the whole batch."""
        for index in self._unique:
            index.check(changes, self.store)
        for key, record in changes:
            for index in self._unique:
                index.move(key, self.store.get(key), record)
            if record is None:
                del self.store[key]
            else:
                self.store[key] = record


class _UniqueIndex:
    """A map from the indexed values to the key of the record holding them.

    Entries are verified against the store on every hit, so records changed behind this
    service's back (through another service sharing the store) never cause a false conflict.
    """

    def __init__(self, index: Index, store: Mapping[str, Record]) -> None:
        self.index = index
        self._getters = [field_getter(field) for field in index.fields]
        self._owners: dict[tuple[Any, ...], str] = {}
        for key, record in store.items():
            self.move(key, None, record)

    def key(self, record: Record | None) -> tuple[Any, ...] | None:
        if record is None:
            return None
        values = [get(record) for get in self._getters]
        if any(value is None or value is MISSING for value in values):
            return None
        return tuple(map(canonical, values))

    def check(self, changes: Sequence[tuple[str, Record | None]], store: Mapping[str, Record]) -> None:
        changing = {key for key, _ in changes}
        batch: dict[tuple[Any, ...], str] = {}
        for key, record in changes:
            value = self.key(record)
            if value is None:
                continue
            if batch.setdefault(value, key) != key:
                raise self.index.conflict()
            owner = self._owners.get(value)
            if owner is not None and owner not in changing and self.key(store.get(owner)) == value:
                raise self.index.conflict()

    def move(self, key: str, old: Record | None, new: Record | None) -> None:
        old_value, new_value = self.key(old), self.key(new)
        if old_value is not None and self._owners.get(old_value) == key:
            del self._owners[old_value]
        if new_value is not None:
            self._owners[new_value] = key

