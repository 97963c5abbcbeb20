"""One service's table: created, and its indexes brought in line with the declared ones.

Layout: ``seq INTEGER PRIMARY KEY`` (insertion order, the memory adapter's store order),
``pk TEXT UNIQUE`` (``str(id)``, so ``get(1)`` and ``get("1")`` find the same record) and
``doc TEXT`` (the JSON document, which holds the id with the caller's type).

Each declared `Index` becomes an expression index named ``crx_<table>_<hash>`` over the
same ``rank``/``val`` expressions queries use (see ``sql.py``). The hash covers the whole
definition, so a changed index gets a new name: at start-up the indexes we made that are
no longer declared are dropped and the missing ones built, in one transaction, keeping
every row. Indexes without our prefix (made by hand) are left alone.

Lists in indexed fields: a condition normally also matches any element of a list field,
an OR that keeps SQLite from reading rows in index order. While no record holds a list in
an indexed field, its conditions leave that branch out (`Table.scalar_fields`). That is
read from the data at start-up and updated by this process's own writes, so a list written
into an indexed field by another process is seen after a restart: one process writing a
file is the supported set-up (others may read it).

Table names come from service paths with every other character made ``_``, so
``a/b`` and ``a_b`` share a table unless one is given the ``table`` option.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass, field

from ..base import Index
from .sql import LIST, field_target, index_columns

__all__ = ["Table", "table_name", "prepare"]

PREFIX = "crx_"


def table_name(path: str) -> str:
    """A table name for a service path: letters, digits and _ only (others become _)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", path.strip("/")) or "records"
    return f"t_{name}" if name.lower().startswith("sqlite_") or name[0].isdigit() else name


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Table:
    """What queries need to know about a prepared table."""

    name: str
    indexes: dict[str, Index]
    scalar_fields: set[str] = field(default_factory=set)
    """Indexed fields no stored record holds a list in (their queries stay index-friendly)."""

    @property
    def sql(self) -> str:
        return quote_identifier(self.name)

    def index_named(self, name: str) -> Index | None:
        return self.indexes.get(name)


def _index_sql(table: str, index: Index) -> tuple[str, str]:
    columns = ", ".join(index_columns(index.fields))
    unique = "UNIQUE " if index.unique else ""
    digest = hashlib.sha1(f"{unique}{columns}".encode()).hexdigest()[:12]
    name = f"{PREFIX}{table}_{digest}"
    return name, f"CREATE {unique}INDEX {quote_identifier(name)} ON {quote_identifier(table)} ({columns})"


def prepare(connection: sqlite3.Connection, name: str, indexes: tuple[Index, ...]) -> Table:
    """Create the table and reconcile its indexes; run inside the writer's transaction."""
    table = quote_identifier(name)
    connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ("
                       "seq INTEGER PRIMARY KEY, pk TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)")
    wanted = dict(_index_sql(name, index) for index in indexes)
    by_name = {index_name: index for index, index_name in
               ((index, _index_sql(name, index)[0]) for index in indexes)}
    existing = {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=? AND substr(name,1,?)=?",
        (name, len(PREFIX), PREFIX))}
    for stale in existing - wanted.keys():
        connection.execute(f"DROP INDEX {quote_identifier(stale)}")
    for index_name, statement in wanted.items():
        if index_name not in existing:
            try:
                connection.execute(statement)
            except sqlite3.IntegrityError:
                raise by_name[index_name].conflict() from None
    fields = {field_name for index in indexes for field_name in index.fields}
    scalar = {field_name for field_name in fields if not connection.execute(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {field_target(field_name).rank}={LIST})").fetchone()[0]}
    return Table(name, by_name, scalar)

