"""`MongoService`: the memory adapter's behaviour on a MongoDB collection (PyMongo async API).

Every call is one or two driver operations: `find` (plus `count_documents`, run
concurrently, for a page), `find_one` for get, one `insert_one`/`insert_many` for create,
`find_one_and_replace` for update, `find_one_and_update` with `$set` for patch and
`find_one_and_delete` for remove (multi patch/remove: read the matches, then one
`update_many`/`delete_many` by `_id`). Queries become MongoDB filters (``filters.py``);
`$select` is a projection; `$sort` adds `_id` (ascending) as the last key, so ties come in
creation order (new ids are ObjectIds that increase within a process, see
``sqlite/ids.py``). MongoDB serves such a sort from an index only if the index ends with
`_id` in the same directions; `Index` fields are ascending, so declare e.g.
`Index(("symbol", "at", "_id"))` for ascending sorts on `at`. Other sorts are done by the
server (a top-k sort when `$limit` is given).

Ids: the id field is `_id` in MongoDB whatever the `id` option is called. New records get
ObjectIds; every ObjectId is returned as its 24-hex-digit text, and that text finds it
again (in `get`, in queries on the id field, and as a caller-supplied id). Other ids
callers supply are stored as they are (strings stay strings, ints stay ints), and like the
memory adapter a call by id finds an integer id from its decimal text (REST ids).

Values are stored as BSON: datetimes come back as aware UTC datetimes at millisecond
precision (naive ones count as UTC), and every result, create's included, is what the
database holds.

Differences from `MemoryService`, each a property of MongoDB itself:

* sort order across kinds is BSON's (null and missing equal < numbers < strings < dicts
  < lists, by their smallest element ascending and largest descending < booleans
  < dates), not missing < null < numbers < strings < booleans < dates < lists < dicts.
  Matching it would mean sorting in an aggregation on computed keys, which no index can
  serve, so the adapter keeps MongoDB's order (it only differs for fields that mix kinds);
* dotted query and sort keys also reach into lists of dicts (`"items.sku"`) and list
  positions (`"tags.0"`), where the memory adapter sees a missing field;
* a unique index skips records lacking one of its fields (as in memory), but indexes an
  explicit null: a second record holding null there is a `Conflict`. (A partial index
  that skips nulls too can't serve plain equality lookups in MongoDB's planner.)
* ints beyond 64 bits, and values BSON can't hold, are refused (`BadRequest`); patch keys
  holding "." or starting with "$" are refused (`$set` would treat them as paths);
* multi-record writes are not isolated: a create or patch of several records that hits a
  unique index undoes the part already written, so the outcome is all-or-nothing, but
  another reader may briefly see the part before it is undone.

Errors: a duplicate key is the index's `Conflict`, a server out of reach `Unavailable`
(the driver reconnects when it is back), data MongoDB can't hold `BadRequest`, a malformed
id `NotFound` (or `BadRequest` for ids of a type no record can have), see ``failures.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import bson
from bson import ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import ReturnDocument
from pymongo.errors import ConfigurationError, OperationFailure

from ...errors import BadRequest, NotFound
from ...query import split_query
from ..base import AdapterService, Index, page, query_of
from ..records import project, supplied_id
from ..sqlite.ids import new_id
from ..sqlite.schema import table_name
from .clients import acquire, release
from .failures import DRIVER_ERRORS, duplicate_key, translate
from .filters import KEY, FilterBuilder, id_condition, stored_id

__all__ = ["MongoService", "CODEC_OPTIONS", "INDEX_PREFIX", "index_name", "DEFAULT_DATABASE"]

log = logging.getLogger("cryptorobot.adapters.mongodb")

Record = dict[str, Any]
Params = Mapping[str, Any] | None

DEFAULT_DATABASE = "cryptorobot"
INDEX_PREFIX = "crx_"
_AFTER = ReturnDocument.AFTER
_ID_TYPES = (str, int, float, ObjectId)


CODEC_OPTIONS: CodecOptions = CodecOptions(tz_aware=True, tzinfo=UTC)
"""How the adapter's collections decode: aware UTC datetimes."""


def _texts(container: Any) -> Any:
    """Every ObjectId in a decoded document (or list) replaced by its hex text, in place.

    Done in Python after PyMongo's C decoding: about 1.5 us for a small document, where a
    BSON type registry (ObjectId -> str) sends PyMongo's reply decoding down a Python path
    costing about 60 us per call, and undecoded (RawBSONDocument) replies 20-40 us.
    """
    items = container.items() if type(container) is dict else enumerate(container)
    for key, value in items:
        if type(value) in _WALKED:
            if type(value) is ObjectId:
                container[key] = str(value)
            else:
                _texts(value)
    return container


_WALKED = frozenset((ObjectId, dict, list))


def index_name(index: Index) -> str:
    """`crx_<hash of the definition>`: a changed index gets a new name (see `_prepare`)."""
    digest = hashlib.sha1(repr((index.fields, index.unique)).encode()).hexdigest()[:12]
    return f"{INDEX_PREFIX}{digest}"


class MongoService(AdapterService):
    """An adapter over one MongoDB collection.

    Options beyond the common ones: ``client`` (an `AsyncMongoClient`, or a Motor
    `AsyncIOMotorClient`: used as given and never closed here) or ``url`` (a MongoDB URL,
    replica sets included; services with the same URL share one client, closed when the
    last of them is torn down), ``client_options`` (keyword options for a client made from
    ``url``; by default a server out of reach answers 503 after 5 s), ``database``
    (default: the URL's database, else "cryptorobot") and ``collection`` (default: the
    service path, sanitised as for SQLite tables). ``id`` defaults to "_id"; another name
    is only how the id field is called in records and queries.
    """

    def __init__(self, *, client: Any = None, url: str | None = None, database: str | None = None,
                 collection: str | None = None, client_options: Mapping[str, Any] | None = None,
                 id: str = KEY, **options: Any) -> None:
        if client is None and not url:
            raise ValueError("MongoService needs a client or a url")
        super().__init__(id=id, client=client, url=url, database=database, collection=collection,
                         client_options=dict(client_options or {}), **options)
        self.client: Any = None
        self.collection: Any = None
        self._owned = False
        self._opening: asyncio.Future | None = None
        self._builder = FilterBuilder(id)

    # -- lifecycle ----------------------------------------------------------------------
    async def setup(self, app: Any, path: str) -> None:
        """Connect, and create the declared indexes (named after the service path)."""
        await self._ready(path)

    async def teardown(self) -> None:
        """Give back the client made from ``url`` (a given ``client`` stays open)."""
        client, owned = self.client, self._owned
        self.client = self.collection = self._opening = None
        self._owned = False
        if owned and client is not None:
            await release(client)

    async def _ready(self, path: str | None = None) -> Any:
        if self.collection is not None:
            return self.collection
        if self._opening is None or self._opening.get_loop() is not asyncio.get_running_loop():
            self._opening = asyncio.ensure_future(self._open(path))
        return await asyncio.shield(self._opening)

    async def _open(self, path: str | None) -> Any:
        options = self.options
        owned = options["client"] is None
        client = acquire(options["url"], options["client_options"]) if owned else options["client"]
        try:
            database = client[options["database"] or _default_database(client)]
            name = options["collection"] or table_name(path or "records")
            collection = database.get_collection(name, codec_options=CODEC_OPTIONS)
            await self._prepare(collection)
        except BaseException:
            self._opening = None
            if owned:
                await release(client)
            raise
        self.client, self._owned, self.collection = client, owned, collection
        return collection

    async def _prepare(self, collection: Any) -> None:
        """Bring the collection's indexes in line with the declared ones.

        Each `Index` is a MongoDB index named `index_name(index)`; a unique one is partial
        (`$exists` on each field) so records lacking a field don't collide. Indexes we
        made that are no longer declared are dropped; indexes made by hand are left alone.
        """
        wanted = {index_name(index): index for index in self.options["indexes"]}
        existing = await self._call(collection.index_information())
        for name in existing:
            if name.startswith(INDEX_PREFIX) and name not in wanted:
                await self._call(collection.drop_index(name))
        for name, index in wanted.items():
            if name in existing:
                continue
            extra: dict[str, Any] = {}
            if index.unique:
                extra = {"unique": True,
                         "partialFilterExpression": {field: {"$exists": True} for field in index.fields}}
            try:
                await collection.create_index([(field, 1) for field in index.fields], name=name, **extra)
            except OperationFailure as exc:
                if duplicate_key(exc) is not None:
                    raise index.conflict() from None
                if exc.code in (85, 86):  # the same keys are indexed already, under another name
                    log.warning("index %s on %s not created: %s", name, collection.name, exc)
                    continue
                raise self._error(exc) from None
            except DRIVER_ERRORS as exc:
                raise self._error(exc) from None

    # -- driver calls and errors --------------------------------------------------------
    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except DRIVER_ERRORS as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> Exception:
        return translate(exc, self._unique_index, self.id)

    def _unique_index(self, fields: tuple[str, ...] | None, name: str | None) -> Index | None:
        for index in self.options["indexes"]:
            if not index.unique:
                continue
            if fields is not None and fields == index.fields:
                return index
            # Our name, or a server's own naming after the fields ("idx_<coll>_email").
            if name is not None and (name == index_name(index) or name.endswith("_" + "_".join(index.fields))):
                return index
        return None

    # -- translation --------------------------------------------------------------------
    @property
    def filters(self) -> FilterBuilder:
        if self._builder.id_field != self.id:
            self._builder = FilterBuilder(self.id)
        return self._builder

    def _by_id(self, id: Any, query: Mapping[str, Any]) -> dict[str, Any]:
        """The filter of a call by id: that record, if it also matches the query."""
        condition = id_condition(id)
        if not query:
            return {KEY: condition}
        built = self.filters.build(query)
        if KEY in built:
            return {"$and": [{KEY: condition}, built]}
        return {KEY: condition, **built}

    def _projection(self, select: list[str] | None) -> dict[str, int] | None:
        """`$select` as a projection: top-level fields only, as in memory (the id always)."""
        if select is None:
            return None
        field = self.filters.field
        fields = {field(name): 1 for name in select
                  if name and "." not in name and not name.startswith("$") and "\x00" not in name}
        return fields or {KEY: 1}

    def _sort(self, sort: Mapping[str, int] | None) -> list[tuple[str, int]] | None:
        if not sort:
            return None
        field = self.filters.field
        keys = [(field(name), direction) for name, direction in sort.items()]
        if all(name != KEY for name, _ in keys):
            keys.append((KEY, 1))  # ties in creation order, like the memory adapter's stable sort
        return keys

    def _record(self, document: Record) -> Record:
        """A stored document as a record: ObjectIds as text, `_id` under the id field's name."""
        doc = _texts(document)
        if self.id == KEY or KEY not in doc:
            return doc
        record = {self.id: doc.pop(KEY)}
        record.update(doc)
        return record

    def _records(self, documents: list[Record]) -> list[Record]:
        if self.id == KEY:
            return [_texts(document) for document in documents]
        return [self._record(document) for document in documents]

    def _check_reserved(self, data: Mapping[str, Any]) -> None:
        if self.id != KEY and KEY in data:
            raise BadRequest(f"The field '{KEY}' is reserved for the id ('{self.id}') in MongoDB")

    # -- reads --------------------------------------------------------------------------
    async def _find(self, params: Params = None) -> list[Record] | Record:
        filters, query, paged = self.find_plan(params)
        collection = await self._ready()
        condition = self.filters.build(query)
        if filters.limit == 0:
            total = await self._call(collection.count_documents(condition)) if paged else 0
            docs: list[Record] = []
        else:
            cursor = collection.find(condition, self._projection(filters.select), sort=self._sort(filters.sort),
                                     skip=filters.skip, limit=filters.limit or 0)
            if paged:
                total, docs = await asyncio.gather(self._call(collection.count_documents(condition)),
                                                   self._call(cursor.to_list(None)))
            else:
                docs = await self._call(cursor.to_list(None))
        data = self._records(docs)
        return page(total, filters.limit, filters.skip, data) if paged else data

    async def _get(self, id: Any, params: Params = None) -> Record:
        filters, query = split_query(query_of(params))
        collection = await self._ready()
        doc = await self._call(collection.find_one(self._by_id(id, query), self._projection(filters.select)))
        if doc is None:
            raise NotFound(f"No record found for id '{id}'")
        return self._record(doc)

    # -- writes -------------------------------------------------------------------------
    async def _create(self, data: Mapping[str, Any] | list[Mapping[str, Any]], params: Params = None) -> Record | list[Record]:
        filters, _ = split_query(query_of(params))
        collection = await self._ready()
        many = isinstance(data, list)
        keys, documents = [], []
        for item in (data if isinstance(data, list) else [data]):
            key, document = self._encode_new(item)
            keys.append(key)
            documents.append(document)
        if not documents:
            return []
        if many:
            try:
                await collection.insert_many(documents, ordered=True)
            except DRIVER_ERRORS as exc:
                written = (getattr(exc, "details", None) or {}).get("nInserted", 0)
                if written and duplicate_key(exc) is not None:
                    await self._undo(collection.delete_many({KEY: {"$in": keys[:written]}}))
                raise self._error(exc) from None
        else:
            await self._call(collection.insert_one(documents[0]))
        # Exactly what was stored: dates to the millisecond, ObjectIds as text.
        records = [self._record(bson.decode(document.raw, codec_options=CODEC_OPTIONS)) for document in documents]
        if filters.select is not None:
            records = [project(record, filters.select, self.id) for record in records]
        return records if many else records[0]

    def _encode_new(self, data: Mapping[str, Any]) -> tuple[Any, RawBSONDocument]:
        """The `_id` and BSON of a new document (a new ObjectId unless the data has an id)."""
        self._check_reserved(data)
        supplied = supplied_id(data, self.id)
        if supplied is None:
            key: Any = ObjectId(new_id())
        elif isinstance(supplied, _ID_TYPES) and not isinstance(supplied, bool):
            key = stored_id(supplied)
        else:
            raise BadRequest(f"Invalid id of type {type(supplied).__name__}")
        doc = {KEY: key}
        doc.update((name, value) for name, value in data.items() if name != self.id)
        try:
            return key, RawBSONDocument(bson.encode(doc, codec_options=CODEC_OPTIONS))
        except DRIVER_ERRORS as exc:
            raise self._error(exc) from None

    async def _update(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record:
        filters, query = split_query(query_of(params))
        collection = await self._ready()
        self._check_reserved(data)
        replacement = {name: value for name, value in data.items() if name != self.id}
        if any(not isinstance(name, str) or name.startswith("$") for name in replacement):
            raise BadRequest("Field names can not start with '$'")
        # The stored `_id` is kept, with its type (an int id stays an int given "1").
        doc = await self._call(collection.find_one_and_replace(
            self._by_id(id, query), replacement, projection=self._projection(filters.select), return_document=_AFTER))
        if doc is None:
            raise NotFound(f"No record found for id '{id}'")
        return self._record(doc)

    def _changes(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The `$set` of a patch: top-level fields only, so names that `$set` would read as
        paths or operators are refused."""
        self._check_reserved(data)
        changes = {}
        for name, value in data.items():
            if name == self.id:
                continue
            if not isinstance(name, str) or not name or "." in name or name.startswith("$") or "\x00" in name:
                raise BadRequest(f"Can not patch the field {name!r}: names with '.' or a leading '$' are paths in MongoDB")
            changes[name] = value
        return changes

    async def _patch(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        collection = await self._ready()
        changes = self._changes(data)
        projection = self._projection(filters.select)
        if id is not None:
            condition = self._by_id(id, query)
            if changes:
                doc = await self._call(collection.find_one_and_update(
                    condition, {"$set": changes}, projection=projection, return_document=_AFTER))
            else:
                doc = await self._call(collection.find_one(condition, projection))
            if doc is None:
                raise NotFound(f"No record found for id '{id}'")
            return self._record(doc)
        # Every match, whatever the pagination; the results even if they no longer match.
        before = await self._call(collection.find(
            self.filters.build(query), dict.fromkeys(changes, 1) or {KEY: 1}).to_list(None))
        if not before:
            return []
        selected = {KEY: {"$in": [doc[KEY] for doc in before]}}  # as stored: ObjectIds stay ObjectIds
        if changes:
            try:
                await collection.update_many(selected, {"$set": changes})
            except DRIVER_ERRORS as exc:
                if duplicate_key(exc) is not None:
                    await self._restore(collection, before, changes)
                raise self._error(exc) from None
        docs = await self._call(collection.find(selected, projection, sort=[(KEY, 1)]).to_list(None))
        return self._records(docs)

    async def _restore(self, collection: Any, before: list[Record], changes: Mapping[str, Any]) -> None:
        """Undo a multi patch that stopped at a duplicate key: each record the patch
        changed (and nobody changed since) gets its previous values back."""
        try:
            written = bson.decode(bson.encode(changes), codec_options=CODEC_OPTIONS)
        except DRIVER_ERRORS:
            return
        for doc in before:
            previous = {name: doc[name] for name in changes if name in doc}
            update: dict[str, Any] = {}
            if previous:
                update["$set"] = previous
            if len(previous) < len(changes):
                update["$unset"] = {name: "" for name in changes if name not in doc}
            guard = {KEY: doc[KEY], **{name: {"$eq": value} for name, value in written.items()}}
            await self._undo(collection.update_one(guard, update))

    async def _undo(self, awaitable: Any) -> None:
        try:
            await awaitable
        except DRIVER_ERRORS as exc:
            log.error("MongoDB: could not undo part of a failed multi-record write: %s", exc)

    async def _remove(self, id: Any, params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        collection = await self._ready()
        projection = self._projection(filters.select)
        if id is not None:
            doc = await self._call(collection.find_one_and_delete(self._by_id(id, query), projection=projection))
            if doc is None:
                raise NotFound(f"No record found for id '{id}'")
            return self._record(doc)
        docs = await self._call(collection.find(
            self.filters.build(query), projection, sort=[(KEY, 1)]).to_list(None))
        if docs:
            await self._call(collection.delete_many({KEY: {"$in": [doc[KEY] for doc in docs]}}))
        return self._records(docs)


def _default_database(client: Any) -> str:
    try:
        return client.get_default_database().name
    except (ConfigurationError, AttributeError, TypeError):
        return DEFAULT_DATABASE

