"""VectorIndex on qdrant-edge: an embedded Qdrant shard in this process, stored in a directory."""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import qdrant_edge as qe

from core.index_points import (
    DENSE,
    MODEL_KEY,
    PAYLOAD_KEYWORDS,
    SPARSE,
    Hit,
    IndexedChunk,
    IndexInUseError,
    IndexQuery,
    SearchResult,
    VectorIndexError,
    chunk_from_payload,
    chunk_payload,
    dense_list,
    point_id,
)
from core.knowledge import Chunk
from core.sparse import SparseVec
from core.vector_index import model_to_record

_T = TypeVar("_T")
_CONFIG_FILE = "edge_config.json"
_MODEL_FILE = "embedding_model.json"
"""Beside the shard's own files: which embedding model's vectors the shard holds."""
_LOCKED = "WouldBlock"
"""qdrant-edge raises a bare Exception; when another process holds a shard's WAL lock (a
non-blocking flock) its message ends in the Rust error kind: "failed to open WAL ...: Can't init
WAL: Kind(WouldBlock)"."""
FULL_SCAN_KB = 20_000
"""Below this much dense vector data per segment (~13k vectors of 384 floats) search is exact:
at 10k points exact search is as fast as HNSW (bench/VECTOR_STORE.md) and has full recall."""


class EdgeIndex:
    """VectorIndex on a qdrant-edge EdgeShard at path/collection (HNSW dense, IDF sparse).

    Every shard call runs on one private worker thread, so the event loop never blocks and
    the shard is never used from two threads at once. Upserts run the optimizer (which builds
    the HNSW graph once a segment is large enough) and flush before they return.
    """

    def __init__(
        self,
        path: str | Path,
        collection: str,
        *,
        hnsw_m: int = 16,
        hnsw_ef_construct: int = 100,
        cache_limit: int = 200_000,
    ) -> None:
        self._dir = Path(path) / collection
        self._hnsw = qe.HnswIndexConfig(
            m=hnsw_m, ef_construct=hnsw_ef_construct, full_scan_threshold=FULL_SCAN_KB
        )
        self._shard: qe.EdgeShard | None = None
        self._closed = False
        # Turning payloads into Python objects cost more than the search itself, so searches
        # return ids only and chunks come from here (ids are content-addressed: never stale).
        # Only the worker thread touches it.
        self._chunks: dict[str, Chunk] = {}
        self._cache_limit = cache_limit
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")

    def _config(self, dim: int) -> qe.EdgeConfig:
        """Shard configuration for dense vectors of size dim."""
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            hnsw_config=self._hnsw,
        )

    def _get_shard(self) -> qe.EdgeShard:
        """The open shard, loading an existing one from disk on first use."""
        if self._shard is None:
            if not (self._dir / _CONFIG_FILE).exists():
                raise VectorIndexError(f"no shard at {self._dir}: call ensure_collection first")
            self._shard = self._load(None)
        return self._shard

    async def _run(self, fn: Callable[[], _T]) -> _T:
        """Run fn on the worker thread."""
        if self._closed:
            raise VectorIndexError("index is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def ensure_collection(self, dim: int, model: str | None = None) -> None:
        """Create the shard (with keyword indexes), or load it and check its size and model."""
        await self._run(functools.partial(self._ensure_sync, dim, model))

    async def reset_collection(self, dim: int, model: str | None = None) -> None:
        """Delete the shard's folder and create the shard empty."""
        await self._run(self._remove_sync)
        await self.ensure_collection(dim, model)

    def _ensure_sync(self, dim: int, model: str | None) -> None:
        """Blocking part of ensure_collection."""
        config = self._config(dim)
        self._close_shard()
        if (self._dir / _CONFIG_FILE).exists():
            self._shard = self._load(config)
            has_points = self._shard.count(qe.CountRequest(exact=True)) > 0
            record = model_to_record(self._dir.name, self._recorded_model(), has_points, model)
            if record is not None:
                self._record_model(record)
            return
        shard = qe.EdgeShard.create(str(self._dir), config)
        for name in PAYLOAD_KEYWORDS:
            shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))
        shard.flush()
        self._shard = shard
        if model is not None:
            self._record_model(model)

    def _recorded_model(self) -> str | None:
        """The model named in the shard's folder, if any."""
        try:
            recorded = json.loads((self._dir / _MODEL_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise VectorIndexError(f"cannot read {self._dir / _MODEL_FILE}: {error}") from error
        name = recorded.get(MODEL_KEY) if isinstance(recorded, dict) else None
        return str(name) if name else None

    def _record_model(self, model: str) -> None:
        """Name the model in the shard's folder (replaced whole, never half written)."""
        target = self._dir / _MODEL_FILE
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps({MODEL_KEY: model}), encoding="utf-8")
        partial.replace(target)

    def _remove_sync(self) -> None:
        """Close the shard and delete its folder."""
        self._close_shard()
        self._chunks.clear()
        if self._dir.exists():
            shutil.rmtree(self._dir)

    def _close_shard(self) -> None:
        """Close the open shard, if any."""
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def _load(self, config: qe.EdgeConfig | None) -> qe.EdgeShard:
        """Open the shard on disk; IndexInUseError when another process has it open."""
        try:
            return qe.EdgeShard.load(str(self._dir), config)
        except Exception as error:  # qdrant-edge raises a bare Exception
            if _LOCKED in str(error):
                raise IndexInUseError(str(self._dir)) from error
            raise VectorIndexError(f"cannot open shard at {self._dir}: {error}") from error

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        """Insert or replace chunks, optimize (build HNSW when due) and flush to disk."""
        edge_points = [
            qe.Point(
                point_id(p.chunk),
                {DENSE: dense_list(p.dense), SPARSE: _sparse(p.sparse)},
                chunk_payload(p.chunk),
            )
            for p in points
        ]
        chunks = {point_id(p.chunk): p.chunk for p in points}
        await self._run(functools.partial(self._upsert_sync, edge_points, chunks))

    def _upsert_sync(self, points: list[qe.Point], chunks: dict[str, Chunk]) -> None:
        """Blocking part of upsert."""
        for key, chunk in chunks.items():
            self._remember(key, chunk)
        shard = self._get_shard()
        if points:
            shard.update(qe.UpdateOperation.upsert_points(points))
        shard.optimize()
        shard.flush()

    async def delete_document(self, document: str) -> None:
        """Remove every chunk whose payload document equals document, then flush."""
        operation = qe.UpdateOperation.delete_points_by_filter(_document_filter(document))
        await self._run(functools.partial(self._update_and_flush, operation))

    def _update_and_flush(self, operation: qe.UpdateOperation) -> None:
        """Apply one update operation and flush."""
        shard = self._get_shard()
        shard.update(operation)
        shard.flush()

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        """Dense and sparse search for every query in one query_batch call."""
        requests: list[qe.QueryRequest] = []
        slots: list[tuple[int, bool]] = []  # (query number, is_sparse) of each request
        for number, query in enumerate(queries):
            kind_filter = _query_filter(query)
            nearest = qe.Query.Nearest(dense_list(query.dense), using=DENSE)
            requests.append(_request(nearest, limit, kind_filter))
            slots.append((number, False))
            if query.sparse.indices:
                nearest = qe.Query.Nearest(_sparse(query.sparse), using=SPARSE)
                requests.append(_request(nearest, limit, kind_filter))
                slots.append((number, True))
        results = [SearchResult() for _ in queries]
        if not requests:
            return results
        batch = qe.QueryBatchRequest(requests)
        responses = await self._run(functools.partial(self._query_sync, batch))
        for (number, is_sparse), hits in zip(slots, responses, strict=True):
            target = results[number].sparse_hits if is_sparse else results[number].dense_hits
            target.extend(hits)
        return results

    def _query_sync(self, batch: qe.QueryBatchRequest) -> list[list[Hit]]:
        """Run the batch without payloads, taking chunks from the cache (worker thread only)."""
        shard = self._get_shard()
        responses = [[(str(p.id), p.score) for p in points] for points in shard.query_batch(batch)]
        missing = {key for points in responses for key, _ in points} - self._chunks.keys()
        if missing:
            for record in shard.retrieve(list(missing), with_payload=True, with_vector=False):
                self._remember(str(record.id), chunk_from_payload(record.payload))
        return [[Hit(self._chunks[key], score) for key, score in points] for points in responses]

    def _remember(self, key: str, chunk: Chunk) -> None:
        """Cache a chunk, starting over when the cache is full (a rare, cheap refill)."""
        if len(self._chunks) >= self._cache_limit:
            self._chunks.clear()
        self._chunks[key] = chunk

    async def count(self, document: str | None = None) -> int:
        """Exact number of points in the shard, or of one document's."""
        where = None if document is None else _document_filter(document)
        request = qe.CountRequest(exact=True, filter=where)
        return await self._run(lambda: self._get_shard().count(request))

    async def close(self) -> None:
        """Flush and close the shard and stop the worker thread; idempotent."""
        if self._closed:
            return
        await self._run(self._close_sync)
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    def _close_sync(self) -> None:
        """Blocking part of close."""
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None


def _sparse(vector: SparseVec) -> qe.SparseVector:
    """Our sparse vector as a qdrant-edge one."""
    return qe.SparseVector(list(vector.indices), list(vector.values))


def _document_filter(document: str) -> qe.Filter:
    """Filter: the chunk belongs to document."""
    return qe.Filter(must=[qe.FieldCondition("document", match=qe.MatchValue(document))])


def _request(query: qe.Query, limit: int, where: qe.Filter | None) -> qe.QueryRequest:
    """A query request for ids and scores only."""
    return qe.QueryRequest(limit=limit, query=query, filter=where, with_payload=False)


def _query_filter(query: IndexQuery) -> qe.Filter | None:
    """Filter on chunk kind and document, or None for everything."""
    conditions: list[qe.ConditionType] = []
    if query.kinds:
        match_kinds = qe.MatchAny([k.value for k in query.kinds])
        conditions.append(qe.FieldCondition("kind", match=match_kinds))
    if query.document is not None:
        conditions.append(qe.FieldCondition("document", match=qe.MatchValue(query.document)))
    return qe.Filter(must=conditions) if conditions else None
