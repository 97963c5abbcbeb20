"""`SqliteCandleStore`: candle chunks in a SQLite file (the embedded default: nothing to install).

Two tables: `candle_series` (one row per exchange, symbol, timeframe) and `candle_chunks`
(one row per chunk: its number, first/last open, count and gaps as plain columns, the
columns of its candles as one BLOB; see `chunks.py`). The platform keeps the file apart
from the records database (`<data_dir>/candles.db` beside `cryptorobot.db`): an import of
millions of candles writes tens of megabytes in one transaction, and in a file of its own
that never holds the lock the users', keys' and orders' writes wait for.

A write is one `BEGIN IMMEDIATE` transaction (read the touched chunks, merge, replace), so
concurrent writers — threads or processes — take turns and readers see whole writes only
(WAL mode). Reads run in a transaction too, a snapshot across their queries. Each thread
gets its own connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .chunks import ChunkMeta
from .gaps import Gap
from .store import CandleStore, SeriesKey
from .timeframes import timeframe

__all__ = ["SqliteCandleStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS candle_series (
    id INTEGER PRIMARY KEY,
    exchange TEXT NOT NULL,
    symbol TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    UNIQUE (exchange, symbol, timeframe)
);
CREATE TABLE IF NOT EXISTS candle_chunks (
    series INTEGER NOT NULL REFERENCES candle_series (id),
    number INTEGER NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    count INTEGER NOT NULL,
    gaps TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (series, number)
);
"""
_BATCH = 500
"""Chunk numbers per `IN (...)` list (SQLite limits bound parameters)."""


class _Chunks:
    """The chunks of one series through one connection (inside the caller's transaction)."""

    def __init__(self, connection: sqlite3.Connection, key: SeriesKey) -> None:
        self.connection = connection
        self.key = key
        row = connection.execute("SELECT id FROM candle_series WHERE exchange = ? AND symbol = ? AND timeframe = ?",
                                 (key.exchange, key.symbol, key.timeframe)).fetchone()
        self.series: int | None = None if row is None else row[0]

    def directory(self) -> list[ChunkMeta]:
        if self.series is None:
            return []
        rows = self.connection.execute(
            "SELECT number, first, last, count, gaps FROM candle_chunks WHERE series = ? ORDER BY number", (self.series,))
        return [ChunkMeta(number, first, last, count, tuple(Gap(*gap) for gap in json.loads(gaps)))
                for number, first, last, count, gaps in rows]

    def load(self, numbers: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        if self.series is None:
            return found
        for at in range(0, len(numbers), _BATCH):
            batch = list(numbers[at:at + _BATCH])
            marks = ",".join("?" * len(batch))
            found.update(self.connection.execute(
                f"SELECT number, data FROM candle_chunks WHERE series = ? AND number IN ({marks})",
                (self.series, *batch)))
        return found

    def commit(self, chunks: list[tuple[ChunkMeta, bytes]]) -> None:
        if self.series is None:
            cursor = self.connection.execute("INSERT INTO candle_series (exchange, symbol, timeframe) VALUES (?, ?, ?)",
                                             (self.key.exchange, self.key.symbol, self.key.timeframe))
            self.series = cursor.lastrowid
        self.connection.executemany(
            "INSERT OR REPLACE INTO candle_chunks (series, number, first, last, count, gaps, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(self.series, meta.number, meta.first, meta.last, meta.count,
              json.dumps([[gap.start, gap.end, gap.missing] for gap in meta.gaps]), blob) for meta, blob in chunks])


class SqliteCandleStore(CandleStore):
    """Candle series in the SQLite file at `path` (created with its directory when missing)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        """Transactions in progress: `close` waits for them (closing a connection another thread
        is using crashes the interpreter)."""
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:
            if self._closed:
                raise RuntimeError("the candle store is closed")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.executescript(SCHEMA)
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the candle store is closed")
            self._busy += 1
        try:
            connection = self._connection()
            connection.execute(begin)
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            with self._lock:
                self._busy -= 1
                self._idle.notify_all()

    @contextmanager
    def _reading(self, key: SeriesKey) -> Iterator[_Chunks]:
        with self._transaction("BEGIN") as connection:
            yield _Chunks(connection, key)

    @contextmanager
    def _writing(self, key: SeriesKey) -> Iterator[_Chunks]:
        with self._transaction("BEGIN IMMEDIATE") as connection:
            yield _Chunks(connection, key)

    def keys(self, exchange: str | None = None, symbol: str | None = None) -> list[SeriesKey]:
        query = ("SELECT exchange, symbol, timeframe FROM candle_series AS s "
                 "WHERE EXISTS (SELECT 1 FROM candle_chunks WHERE series = s.id)")
        arguments: list[str] = []
        for column, value in (("exchange", exchange), ("symbol", symbol)):
            if value is not None:
                query += f" AND {column} = ?"
                arguments.append(value)
        rows = self._connection().execute(query, arguments).fetchall()
        return sorted((SeriesKey(*row) for row in rows),
                      key=lambda key: (key.exchange, key.symbol, timeframe(key.timeframe).ms, key.timeframe))

    def delete(self, key: SeriesKey) -> bool:
        with self._writing(key) as chunks:
            if chunks.series is None:
                return False
            chunks.connection.execute("DELETE FROM candle_chunks WHERE series = ?", (chunks.series,))
            chunks.connection.execute("DELETE FROM candle_series WHERE id = ?", (chunks.series,))
            return True

    def close(self) -> None:
        """Close every connection, once the transactions in progress (reads in other threads)
        have ended; later calls raise RuntimeError."""
        with self._lock:
            self._closed = True
            self._idle.wait_for(lambda: self._busy == 0)
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
