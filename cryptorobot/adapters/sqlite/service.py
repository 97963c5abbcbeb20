"""`SqliteService`: the memory adapter's behaviour, persisted in one SQLite table per service.

Reads and writes run on the database's worker threads (see ``database.py``); queries are
compiled to SQL on the loop (``sql.py``) and never filtered record by record in Python. Every
write is one transaction on the single writer, so multi-record writes are atomic and
read-modify-write (patch, update) cannot lose a concurrent update.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Mapping
from typing import Any

from ...errors import NotFound, Unavailable
from ...query import Filters, split_query
from ..base import AdapterService, page, query_of
from ..records import field_getter, project, supplied_id
from .codec import decode, encode
from .database import Database, open_database, release
from .failures import translate
from .ids import new_id
from .schema import Table, prepare, table_name
from .sql import Compiler, field_target, literal, order_by

__all__ = ["SqliteService"]

Record = dict[str, Any]
Params = Mapping[str, Any] | None
Statement = tuple[str, list[Any]]


class SqliteService(AdapterService):
    """An adapter over one table of JSON documents in a SQLite file.

    Options beyond the common ones: ``path`` (the database file, shared by every service
    given the same path; None for a private in-memory database), ``table`` (default: the
    service path, sanitised), ``readers`` (reader threads, default 2), ``busy_timeout``
    (seconds a writer waits for another process's lock, default 5) and ``synchronous``
    ("NORMAL": commits survive a process crash; "FULL": also an OS crash or power loss).
    """

    def __init__(self, *, path: str | None = None, table: str | None = None, readers: int = 2,
                 busy_timeout: float = 5.0, synchronous: str = "NORMAL", **options: Any) -> None:
        super().__init__(path=path, table=table, readers=readers, busy_timeout=busy_timeout,
                         synchronous=synchronous, **options)
        self._database: Database | None = None
        self._table: Table | None = None
        self._opening: asyncio.Future | None = None
        self._get_sql = ""

    # -- lifecycle ----------------------------------------------------------------------
    async def setup(self, app: Any, path: str) -> None:
        """Open the file and create the table and indexes (named after the service path)."""
        await self._ready(path)

    async def teardown(self) -> None:
        """Close this service's share of the database."""
        database, self._database, self._table, self._opening = self._database, None, None, None
        if database is not None:
            await release(database)

    async def _ready(self, path: str | None = None) -> Table:
        if self._table is not None:
            return self._table
        if self._opening is None or self._opening.get_loop() is not asyncio.get_running_loop():
            self._opening = asyncio.ensure_future(self._open(path))
        return await asyncio.shield(self._opening)

    async def _open(self, path: str | None) -> Table:
        options = self.options
        database = open_database(options["path"], readers=options["readers"],
                                 busy_timeout=options["busy_timeout"], synchronous=options["synchronous"])
        name = options["table"] or table_name(path or "records")
        try:
            await self._call(database.start(), None)
            table = await self._call(database.write(prepare, name, options["indexes"]), None)
        except BaseException:
            self._opening = None
            await release(database)
            raise
        self._database, self._table = database, table
        self._get_sql = f"SELECT doc FROM {table.sql} WHERE pk=?1"
        return table

    @property
    def _db(self) -> Database:
        """The database `_ready` opened (set and cleared together with `_table`)."""
        if self._database is None:
            raise RuntimeError("the SQLite service is used before its setup or after its teardown")
        return self._database

    async def _call(self, work: Awaitable[Any], table: Table | None) -> Any:
        """Await database work, turning its exceptions into Feathers errors."""
        try:
            return await work
        except sqlite3.Error as exc:
            raise translate(exc, table.index_named if table else lambda name: None, self.id) from None
        except OSError as exc:  # the file's directory can't be made
            raise Unavailable("The database file can not be opened") from exc

    # -- reads --------------------------------------------------------------------------
    async def _find(self, params: Params = None) -> list[Record] | Record:
        filters, query, paged = self.find_plan(params)
        table = await self._ready()
        count, rows = self._find_statements(table, filters, query, paged)
        if count is None and rows is None:  # $limit 0 without pagination
            return []
        total, docs = await self._call(self._db.read(_find_rows, count, rows), table)
        data = [self._result(doc, filters.select) for doc in docs]
        return page(total, filters.limit, filters.skip, data) if paged else data

    def _find_statements(self, table: Table, filters: Filters, query: Mapping[str, Any],
                         paged: bool) -> tuple[Statement | None, Statement | None]:
        """The count (when paged) and the rows query (unless $limit is 0) of a find."""
        compiler = Compiler(table.scalar_fields.__contains__)
        where = compiler.where(query)
        count = (f"SELECT count(*) FROM {table.sql} WHERE {where}", list(compiler.params)) if paged else None
        if filters.limit == 0:
            return count, None
        limit = compiler.bind(-1 if filters.limit is None else filters.limit)
        offset = compiler.bind(filters.skip)
        rows = (f"SELECT doc FROM {table.sql} WHERE {where} {order_by(filters.sort, compiler.pinned)} "
                f"LIMIT {limit} OFFSET {offset}")
        return count, (rows, compiler.params)

    async def statements(self, params: Params = None) -> tuple[Statement | None, Statement | None]:
        """The SQL a `_find` with these params runs: (count, rows), each (sql, args) or None.

        For inspection (EXPLAIN QUERY PLAN, benchmarks); the query is used as given.
        """
        filters, query, paged = self.find_plan(params)
        return self._find_statements(await self._ready(), filters, query, paged)

    async def query_plan(self, params: Params = None) -> list[str]:
        """SQLite's EXPLAIN QUERY PLAN lines for the rows query of a find (for tests, ops)."""
        _, rows = await self.statements(params)
        if rows is None:
            return []
        sql, args = rows
        plan = await self._call(self._db.read(_explain, sql, args), self._table)
        return [row[3] for row in plan]

    async def _get(self, id: Any, params: Params = None) -> Record:
        raw_query = query_of(params)
        table = self._table or await self._ready()
        if not raw_query:  # the common get by id alone: the reader also decodes the row
            try:  # `_call` inlined: one coroutine frame less on the hottest read
                record = await self._db.read(_one_record, self._get_sql, (str(id),), quick=True)
            except sqlite3.Error as exc:
                raise translate(exc, table.index_named, self.id) from None
            if record is None:
                raise NotFound(f"No record found for id '{id}'")
            return record
        filters, query = split_query(raw_query)
        if query:
            compiler = Compiler(table.scalar_fields.__contains__)
            key = compiler.bind(str(id))
            sql = f"SELECT doc FROM {table.sql} WHERE pk={key} AND {compiler.where(query)}"
            future = self._db.read(_one, sql, compiler.params)
        else:
            future = self._db.read(_one, self._get_sql, (str(id),), quick=True)
        doc = await self._call(future, table)
        if doc is None:
            raise NotFound(f"No record found for id '{id}'")
        return self._result(doc, filters.select)

    def _result(self, doc: str, select: list[str] | None) -> Record:
        record = decode(doc)
        return record if select is None else project(record, select, self.id)

    # -- writes -------------------------------------------------------------------------
    async def _create(self, data: Mapping[str, Any] | list[Mapping[str, Any]], params: Params = None) -> Record | list[Record]:
        filters, _ = split_query(query_of(params))
        table = await self._ready()
        items = data if isinstance(data, list) else [data]
        rows, records = [], []
        for item in items:
            record = dict(item)
            if supplied_id(record, self.id) is None:
                record[self.id] = new_id()
            text = encode(record)
            rows.append((str(record[self.id]), text))
            records.append(decode(text))  # exactly what is stored (dates to the millisecond)
        self._note_lists(table, items)
        sql = f"INSERT INTO {table.sql} (pk, doc) VALUES (?1, ?2)"
        await self._call(self._db.write(_insert, sql, rows), table)
        results = [record if filters.select is None else project(record, filters.select, self.id)
                   for record in records]
        return results if isinstance(data, list) else results[0]

    async def _update(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record:
        filters, query = split_query(query_of(params))
        table = await self._ready()
        compiler = Compiler(table.scalar_fields.__contains__)
        text, key = compiler.bind(encode(dict(data))), compiler.bind(str(id))
        id_path = literal(field_target(self.id).suffix)
        # The stored id keeps its type (a URL gives "1" for the number 1), as in memory.
        sql = (f"UPDATE {table.sql} SET doc=json_set({text},{id_path},json(doc->{id_path})) "
               f"WHERE pk={key} AND {compiler.where(query)} RETURNING doc")
        self._note_lists(table, [data])
        doc = await self._call(self._db.write(_one, sql, compiler.params), table)
        if doc is None:
            raise NotFound(f"No record found for id '{id}'")
        return self._result(doc, filters.select)

    async def _patch(self, id: Any, data: Mapping[str, Any], params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        table = await self._ready()
        changes = {key: value for key, value in data.items() if key != self.id}
        changes_text = encode(changes)  # refused here, before any database work
        select_sql, args = self._targets(table, id, query, "seq, doc")
        self._note_lists(table, [changes])
        update_sql = f"UPDATE {table.sql} SET doc=?1 WHERE seq=?2"
        records = await self._call(
            self._db.write(_patch_rows, select_sql, args, update_sql, changes_text), table)
        return self._written(id, records, filters.select)

    async def _remove(self, id: Any, params: Params = None) -> Record | list[Record]:
        filters, query = split_query(query_of(params))
        table = await self._ready()
        select_sql, args = self._targets(table, id, query, "seq, doc")
        delete_sql = f"DELETE FROM {table.sql} WHERE seq=?1"
        docs = await self._call(self._db.write(_remove_rows, select_sql, args, delete_sql), table)
        return self._written(id, [decode(doc) for doc in docs], filters.select)

    def _targets(self, table: Table, id: Any, query: Mapping[str, Any], columns: str) -> tuple[str, list[Any]]:
        """The SELECT of the rows a patch or remove works on: one by id, or every match."""
        compiler = Compiler(table.scalar_fields.__contains__)
        key = "" if id is None else f"pk={compiler.bind(str(id))} AND "
        sql = f"SELECT {columns} FROM {table.sql} WHERE {key}{compiler.where(query)} ORDER BY seq"
        return sql, compiler.params

    def _written(self, id: Any, records: list[Record], select: list[str] | None) -> Record | list[Record]:
        results = [record if select is None else project(record, select, self.id) for record in records]
        if id is None:
            return results
        if not results:
            raise NotFound(f"No record found for id '{id}'")
        return results[0]

    def _note_lists(self, table: Table, records: list[Mapping[str, Any]]) -> None:
        """An indexed field about to hold a list loses its list-free fast path (for good)."""
        for field in list(table.scalar_fields):
            get = field_getter(field)
            if any(isinstance(get(record), (list, tuple)) for record in records):
                table.scalar_fields.discard(field)


# -- work run on the database threads (plain functions: connection first) ---------------

def _find_rows(connection: sqlite3.Connection, count: Statement | None,
               rows: Statement | None) -> tuple[int, list[str]]:
    both = count is not None and rows is not None
    if both:
        connection.execute("BEGIN")  # the total and the page from one snapshot
    try:
        total = connection.execute(*count).fetchone()[0] if count else 0
        docs = [row[0] for row in connection.execute(*rows)] if rows else []
    finally:
        if both:
            connection.execute("COMMIT")
    return total, docs


def _explain(connection: sqlite3.Connection, sql: str, args: Any) -> list[tuple[Any, ...]]:
    # EXPLAIN never reads the schema cookie, so a connection that loaded the schema before
    # an index was made would plan without it; one real read refreshes the schema first.
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return connection.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()


def _one(connection: sqlite3.Connection, sql: str, args: Any) -> str | None:
    row = connection.execute(sql, args).fetchone()
    return None if row is None else row[0]


def _one_record(connection: sqlite3.Connection, sql: str, args: Any) -> Record | None:
    """`_one`, decoded here rather than on the event loop."""
    row = connection.execute(sql, args).fetchone()
    return None if row is None else decode(row[0])


def _insert(connection: sqlite3.Connection, sql: str, rows: list[tuple[str, str]]) -> None:
    connection.executemany(sql, rows)


def _patch_rows(connection: sqlite3.Connection, select_sql: str, args: list[Any], update_sql: str,
                changes_text: str) -> list[Record]:
    """Shallow merge, read and written in the writer's transaction: no update is lost."""
    records = []
    updates = []
    for seq, doc in connection.execute(select_sql, args).fetchall():
        record = {**decode(doc), **decode(changes_text)}  # fresh objects for every record
        records.append(record)
        updates.append((encode(record), seq))
    connection.executemany(update_sql, updates)
    return records


def _remove_rows(connection: sqlite3.Connection, select_sql: str, args: list[Any], delete_sql: str) -> list[str]:
    rows = connection.execute(select_sql, args).fetchall()
    connection.executemany(delete_sql, [(seq,) for seq, _ in rows])
    return [doc for _, doc in rows]


