"""`MongoCandleStore`: candle chunks as MongoDB documents (production deployments on MongoDB).

Two collections (`<prefix>_series`, `<prefix>_chunks`, prefix `candle`):

* a series document `{_id: "binance|BTC/USDT|1h", exchange, symbol, timeframe, version,
  chunks: {"<number>": "<generation>"}}` names the current generation of each chunk;
* a chunk document `{_id: "<series>|<number>|<generation>", series, number, first, last,
  count, gaps: [[start, end, missing], ...], data: <binary>}` holds the columns
  (`chunks.py`), about 96 KiB, far below MongoDB's 16 MiB document limit.

Why not MongoDB time-series collections (a document per candle, bucketed by the server):
reading a million candles would decode a million BSON documents into Python dicts, seconds
where a chunk decodes at memory speed; and the stand-in server of the tests has no such
collections. Chunks work on any MongoDB, replica set or standalone.

Atomic writes without transactions (which need a replica set): a write inserts the new
chunk documents under a fresh generation, then switches the series document to them with
one compare-and-set on `version` (a single-document update is atomic), then deletes the
chunks it superseded. A reader reads the series document, then the chunks it names; if a
writer switched and deleted them in between, the read starts again. A writer that loses the
compare-and-set to another removes its own new chunks and merges again. A process killed
between the two steps leaves unreferenced chunk documents behind: invisible, and removed
with the series by `delete`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from bson import Binary
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from .chunks import ChunkMeta
from .gaps import Gap
from .store import CandleStore, SeriesKey, StoreConflict
from .timeframes import timeframe

__all__ = ["MongoCandleStore"]


def _series_id(key: SeriesKey) -> str:
    return f"{key.exchange}|{key.symbol}|{key.timeframe}"


class _Chunks:
    """One series' chunks as of the series document read at construction."""

    def __init__(self, store: MongoCandleStore, key: SeriesKey) -> None:
        self.store = store
        self.key = key
        self.id = _series_id(key)
        document = store.series_collection.find_one({"_id": self.id})
        self.version: int = 0 if document is None else int(document["version"])
        self.generations: dict[int, str] = {} if document is None else {
            int(number): generation for number, generation in document["chunks"].items()}

    def _chunk_id(self, number: int, generation: str) -> str:
        return f"{self.id}|{number}|{generation}"

    def _documents(self, numbers: Sequence[int], projection: Mapping[str, Any]) -> list[dict[str, Any]]:
        ids = [self._chunk_id(number, self.generations[number]) for number in numbers]
        documents = list(self.store.chunk_collection.find({"_id": {"$in": ids}}, projection)) if ids else []
        if len(documents) != len(ids):
            raise StoreConflict(self.id)
        return documents

    def directory(self) -> list[ChunkMeta]:
        documents = self._documents(list(self.generations), {"data": False})
        return sorted((ChunkMeta(doc["number"], doc["first"], doc["last"], doc["count"],
                                 tuple(Gap(*gap) for gap in doc["gaps"])) for doc in documents),
                      key=lambda meta: meta.number)

    def load(self, numbers: Sequence[int]) -> dict[int, bytes]:
        return {doc["number"]: bytes(doc["data"]) for doc in self._documents(numbers, {"number": True, "data": True})}

    def commit(self, chunks: list[tuple[ChunkMeta, bytes]]) -> None:
        generation = uuid.uuid4().hex[:16]
        documents = [{"_id": self._chunk_id(meta.number, generation), "series": self.id, "number": meta.number,
                      "first": meta.first, "last": meta.last, "count": meta.count,
                      "gaps": [[gap.start, gap.end, gap.missing] for gap in meta.gaps], "data": Binary(blob)}
                     for meta, blob in chunks]
        self.store.chunk_collection.insert_many(documents)
        superseded = [self._chunk_id(meta.number, self.generations[meta.number])
                      for meta, _ in chunks if meta.number in self.generations]
        current = {**self.generations, **{meta.number: generation for meta, _ in chunks}}
        if not self._switch(current):
            self.store.chunk_collection.delete_many({"_id": {"$in": [doc["_id"] for doc in documents]}})
            raise StoreConflict(self.id)
        self.version += 1
        self.generations = current
        if superseded:
            self.store.chunk_collection.delete_many({"_id": {"$in": superseded}})

    def _switch(self, generations: dict[int, str]) -> bool:
        """Point the series at `generations` if nobody else did since we read it."""
        chunks = {str(number): generation for number, generation in generations.items()}
        series = self.store.series_collection
        if self.version == 0:
            try:
                series.insert_one({"_id": self.id, "exchange": self.key.exchange, "symbol": self.key.symbol,
                                   "timeframe": self.key.timeframe, "version": 1, "chunks": chunks})
            except DuplicateKeyError:
                return False
            return True
        result = series.update_one({"_id": self.id, "version": self.version},
                                   {"$set": {"version": self.version + 1, "chunks": chunks}})
        return result.matched_count == 1


class MongoCandleStore(CandleStore):
    """Candle series in `database` at `url` (a MongoDB URL; replica sets work too)."""

    def __init__(self, url: str, database: str = "cryptorobot", *, prefix: str = "candle",
                 client_options: Mapping[str, Any] | None = None) -> None:
        self.client: MongoClient[dict[str, Any]] = MongoClient(url, **dict(client_options or {}))
        self.database = database
        db = self.client[database]
        self.series_collection: Collection[dict[str, Any]] = db[f"{prefix}_series"]
        self.chunk_collection: Collection[dict[str, Any]] = db[f"{prefix}_chunks"]
        self._indexed = False

    def _ensure_indexes(self) -> None:
        if not self._indexed:
            self.chunk_collection.create_index([("series", ASCENDING), ("number", ASCENDING)])
            self._indexed = True

    @contextmanager
    def _reading(self, key: SeriesKey) -> Iterator[_Chunks]:
        yield _Chunks(self, key)

    @contextmanager
    def _writing(self, key: SeriesKey) -> Iterator[_Chunks]:
        self._ensure_indexes()
        yield _Chunks(self, key)

    def keys(self, exchange: str | None = None, symbol: str | None = None) -> list[SeriesKey]:
        query = {name: value for name, value in (("exchange", exchange), ("symbol", symbol)) if value is not None}
        found = (SeriesKey(doc["exchange"], doc["symbol"], doc["timeframe"])
                 for doc in self.series_collection.find(query, {"exchange": True, "symbol": True, "timeframe": True}))
        return sorted(found, key=lambda key: (key.exchange, key.symbol, timeframe(key.timeframe).ms, key.timeframe))

    def delete(self, key: SeriesKey) -> bool:
        series = _series_id(key)
        existed = self.series_collection.delete_one({"_id": series}).deleted_count == 1
        self.chunk_collection.delete_many({"series": series})
        return existed

    def close(self) -> None:
        self.client.close()
