"""One SQLite database file, worked off the event loop by threads that own a connection each.

* one writer: every write of every service on the file (SQLite has one write lock per
  file). Writes waiting together are committed as one transaction, each in a savepoint
  (group commit): one failing write fails alone, and no caller hears back before COMMIT;
* one lookup reader for point reads (get by id), which drains its queue in batches and
  hands every result of a batch back with a single ``call_soon_threadsafe``;
* a pool of readers for everything else, one query at a time each, so a slow count or
  scan holds up neither the lookups nor the other readers (WAL: readers never wait for
  the writer and each reads its own snapshot).

Why not aiosqlite: it gives each connection a thread but no shared writer across services,
no batching, and two thread hops per query (execute, then fetch); here a query is one hop.

Durability: WAL with ``synchronous`` NORMAL by default keeps every acknowledged (committed)
write through a crash of the process (kill -9); an OS crash or power loss can drop the last
commits. FULL also covers those, at an fsync per commit (per group commit here). A busy
timeout makes the writer wait for another process's lock instead of failing at once.
Needs SQLite 3.38+ (the ``->`` operator; RETURNING since 3.35).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ...files import private_database

__all__ = ["Database", "open_database", "release"]

T = TypeVar("T")
Work = Callable[..., Any]
_BATCH = 64
_running_loop = asyncio.get_running_loop
_STOP = None


# A job is a plain tuple (cheaper to make than an object, and one is made per call):
# (work, args, loop, future, write).
_Job = tuple[Any, ...]
_WORK, _ARGS, _LOOP, _FUTURE, _WRITE = range(5)
Done = list[tuple[_Job, bool, Any]]
"""Each job with whether it succeeded and its result or exception."""


def _settle(done: Done) -> None:
    """On the caller's loop: resolve the futures of finished jobs."""
    for job, ok, value in done:
        future = job[_FUTURE]
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _deliver(done: Done) -> None:
    """Hand finished jobs back: one ``call_soon_threadsafe`` per event loop waiting on them."""
    loops = {job[_LOOP] for job, _, _ in done}
    for loop in loops:
        results = done if len(loops) == 1 else [item for item in done if item[0][_LOOP] is loop]
        with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, results)


class _Worker(threading.Thread):
    """Owns one connection and runs jobs from a queue it may share with other workers.

    A ``greedy`` worker takes every job waiting (up to a batch) and hands all the results
    back at once; the writer also commits such a batch as one transaction (group commit).
    A non-greedy worker takes one job at a time, so a slow query holds up nothing else.
    """

    def __init__(self, name: str, jobs: queue.SimpleQueue, connect: Callable[[], sqlite3.Connection],
                 *, greedy: bool, writer: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self._jobs = jobs
        self._connect = connect
        self._greedy = greedy
        self._writer = writer
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            connection = self._connect()
        except BaseException as exc:  # reported by Database.start
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        try:
            self._serve(connection)
        finally:
            # No ANALYZE / PRAGMA optimize: statistics taken while a table is small would
            # steer the planner to scans later; without them it trusts the indexes.
            connection.close()

    def _serve(self, connection: sqlite3.Connection) -> None:
        get, get_nowait, greedy = self._jobs.get, self._jobs.get_nowait, self._greedy
        while True:
            job = get()
            if job is _STOP:
                return
            batch = [job]
            stop = False
            while greedy and len(batch) < _BATCH:
                try:
                    job = get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                batch.append(job)
            _deliver(_commit_group(connection, batch) if self._writer else _run_all(connection, batch))
            if stop:
                return


def _run(connection: sqlite3.Connection, job: _Job) -> tuple[_Job, bool, Any]:
    try:
        return job, True, job[_WORK](connection, *job[_ARGS])
    except BaseException as exc:
        return job, False, exc


def _run_all(connection: sqlite3.Connection, batch: list[_Job]) -> Done:
    """`_run` over a batch (inlined: this loop runs for every point lookup)."""
    done: Done = []
    append = done.append
    for job in batch:
        try:
            append((job, True, job[_WORK](connection, *job[_ARGS])))
        except BaseException as exc:
            append((job, False, exc))
    return done


def _commit_group(connection: sqlite3.Connection, batch: list[_Job]) -> Done:
    """Run a batch of jobs in one transaction, each write inside its own savepoint.

    A failing job rolls back to its savepoint and fails alone; the others commit together.
    No result is handed back before COMMIT succeeded, so an acknowledged write is durable.
    If the transaction itself fails (COMMIT, or an I/O error after which SQLite rolled the
    whole transaction back), every write of the batch fails.
    """
    if len(batch) == 1 and not batch[0][_WRITE]:
        return [_run(connection, batch[0])]
    done: Done = []
    try:
        connection.execute("BEGIN IMMEDIATE")
        for job in batch:
            if not job[_WRITE]:
                done.append(_run(connection, job))
                continue
            connection.execute("SAVEPOINT job")
            outcome = _run(connection, job)
            if not outcome[1]:
                if not connection.in_transaction:  # SQLite already rolled everything back
                    raise outcome[2]
                connection.execute("ROLLBACK TO job")
            connection.execute("RELEASE job")
            done.append(outcome)
        connection.execute("COMMIT")
    except BaseException as exc:
        if connection.in_transaction:
            _quietly(connection, "ROLLBACK")
        reads = {id(job): (job, ok, value) for job, ok, value in done if not job[_WRITE]}
        return [reads.get(id(job), (job, False, exc)) for job in batch]
    return done


def _quietly(connection: sqlite3.Connection, sql: str) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.execute(sql)


class Database:
    """A file (or private in-memory database) with a serialised writer and parallel readers.

    ``write(work)`` runs ``work(connection, *args)`` on the writer inside a transaction
    (batched with other waiting writes, each in its own savepoint), so each call is atomic
    and writes never interleave. ``read(work)`` runs on a reader: point lookups
    (``quick=True``) on one batching reader, everything else on a pool of ``readers``
    threads, so a slow count or scan never delays the lookups. With ``:memory:``, whose
    connections can't share a database, everything runs on the writer.
    """

    def __init__(self, path: str, *, readers: int = 2, busy_timeout: float = 5.0,
                 synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = path
        self.memory = path == ":memory:"
        self._busy_timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._write_jobs: queue.SimpleQueue = queue.SimpleQueue()
        shared = self.memory or readers < 1
        self._quick_jobs = self._write_jobs if shared else queue.SimpleQueue()
        self._read_jobs = self._write_jobs if shared else queue.SimpleQueue()
        self._readers = 0 if shared else readers
        self._workers: list[tuple[_Worker, queue.SimpleQueue]] = []
        self._lock = threading.Lock()
        self._started = False
        self.users = 0

    # -- lifecycle ----------------------------------------------------------------------
    def _connection(self, *, writer: bool) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < (3, 38):
            raise RuntimeError(f"SQLite 3.38 or newer is needed, this is {sqlite3.sqlite_version}")
        connection = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None,
                                     check_same_thread=False, cached_statements=512)
        if writer and not self.memory:
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={self._synchronous}")
        if not writer:
            connection.execute("PRAGMA query_only=ON")
        return connection

    def _start_workers(self) -> None:
        if not self.memory:  # the database and its journals: the server's user only
            private_database(self.path)
        writer = _Worker(f"sqlite-writer:{self.path}", self._write_jobs,
                         lambda: self._connection(writer=True), greedy=True, writer=True)
        self._workers = [(writer, self._write_jobs)]
        writer.start()
        writer.ready.wait()  # the writer first: it switches the file to WAL
        if self._readers and writer.error is None:
            read = lambda: self._connection(writer=False)  # noqa: E731
            self._workers.append((_Worker(f"sqlite-lookups:{self.path}", self._quick_jobs, read,
                                          greedy=True), self._quick_jobs))
            self._workers += [(_Worker(f"sqlite-reader{n}:{self.path}", self._read_jobs, read,
                                       greedy=False), self._read_jobs) for n in range(self._readers)]
            for worker, _ in self._workers[1:]:
                worker.start()
        for worker, _ in self._workers:
            worker.ready.wait()
        errors = [worker.error for worker, _ in self._workers if worker.error]
        if errors:
            self._stop_workers()
            raise errors[0]

    async def start(self) -> None:
        """Open the connections (idempotent); errors opening the file are raised here."""
        if not self._started:
            await asyncio.to_thread(self._start_once)

    def _start_once(self) -> None:
        with self._lock:
            if not self._started:
                self._start_workers()
                self._started = True

    def _stop_workers(self) -> None:
        for worker, jobs in self._workers:
            if worker.is_alive():
                jobs.put(_STOP)
        for worker, _ in self._workers:
            worker.join()
        self._workers = []

    async def close(self) -> None:
        """Finish queued work, then close every connection."""
        def stop() -> None:
            with self._lock:
                if self._started:
                    self._stop_workers()
                    self._started = False
        await asyncio.to_thread(stop)

    # -- work ---------------------------------------------------------------------------
    def _submit(self, jobs: queue.SimpleQueue, work: Work, args: tuple, write: bool) -> asyncio.Future:
        if not self._started:
            raise RuntimeError("the database is closed")
        loop = _running_loop()
        future = loop.create_future()
        jobs.put((work, args, loop, future, write))
        return future

    def read(self, work: Callable[..., T], *args: Any, quick: bool = False) -> asyncio.Future:
        """Run ``work(connection, *args)`` on a reader; ``quick`` marks point lookups."""
        return self._submit(self._quick_jobs if quick else self._read_jobs, work, args, False)

    def write(self, work: Callable[..., T], *args: Any) -> asyncio.Future:
        """Run ``work(connection, *args)`` atomically on the writer."""
        return self._submit(self._write_jobs, work, args, True)


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def open_database(path: str | os.PathLike | None, **settings: Any) -> Database:
    """The shared Database for a file (one writer per file per process); counted per user.

    ``None`` or ``":memory:"`` gives a private in-memory database. Call ``release`` when done.
    """
    if path is None or str(path) == ":memory:":
        private = Database(":memory:", **settings)
        private.users = 1
        return private
    key = os.path.realpath(os.fspath(path))
    with _open_lock:
        database = _open.get(key)
        if database is None:
            database = _open[key] = Database(key, **settings)
        database.users += 1
        return database


async def release(database: Database) -> None:
    """Drop one user; the last one closes the connections."""
    with _open_lock:
        database.users -= 1
        last = database.users <= 0
        if last and _open.get(database.path) is database:
            del _open[database.path]
    if last:
        await database.close()
