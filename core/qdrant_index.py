"""The vector index on qdrant-client: a Qdrant server (QDRANT_URL), or local mode on disk.

Imported only when one of them is configured: qdrant-client with its gRPC and models costs
about 80 MiB of memory, which the embedded default (core.edge_index) never needs.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import structlog
from qdrant_client import QdrantClient
from qdrant_client import models as qm

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
from core.qdrant_filters import match_filter, query_filter
from core.vector_index import LEGACY_MODEL, model_to_record

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


class QdrantClientIndex:
    """VectorIndex on qdrant-client: a Qdrant server (url) or local mode on disk (path).

    The sync client runs in a private thread pool so the event loop never blocks; local mode
    gets a single thread because its SQLite storage must stay on the thread that opened it.
    """

    def __init__(
        self,
        url: str | None,
        path: str | None,
        collection: str,
        *,
        api_key: str | None = None,
        upsert_batch: int = 256,
    ) -> None:
        if (url is None) == (path is None):
            raise ValueError("QdrantClientIndex needs exactly one of url and path")
        self._url = url
        self._path = path
        self._api_key = api_key
        self._collection = collection
        self._upsert_batch = upsert_batch
        self._client: QdrantClient | None = None
        self._closed = False
        self._client_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            max_workers=1 if path is not None else 4, thread_name_prefix="qdrant-client"
        )

    def _get_client(self) -> QdrantClient:
        """The client, opened on first use inside the worker thread."""
        with self._client_lock:
            if self._client is None:
                if self._path is not None:
                    self._client = _open_local(self._path)
                else:
                    self._client = QdrantClient(url=self._url, api_key=self._api_key)
            return self._client

    async def _run(self, fn: Callable[[QdrantClient], _T]) -> _T:
        """Run fn(client) on the worker pool."""
        if self._closed:
            raise VectorIndexError("index is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._get_client()))

    async def ensure_collection(self, dim: int, model: str | None = None) -> None:
        """Create the collection (dense cosine + sparse IDF, keyword indexes) or check it.

        The model is recorded in the collection's metadata (Qdrant 1.16 or later).
        """
        await self._run(functools.partial(self._ensure_sync, dim=dim, model=model))

    async def reset_collection(self, dim: int, model: str | None = None) -> None:
        """Delete the collection and create it empty."""
        await self._run(lambda c: c.delete_collection(self._collection))
        await self.ensure_collection(dim, model)

    def _ensure_sync(self, client: QdrantClient, dim: int, model: str | None) -> None:
        """Blocking part of ensure_collection."""
        if client.collection_exists(self._collection):
            config = client.get_collection(self._collection).config
            vectors = config.params.vectors
            params = vectors.get(DENSE) if isinstance(vectors, dict) else None
            if params is None or params.size != dim:
                found = None if params is None else params.size
                raise VectorIndexError(
                    f"collection {self._collection!r} has dense size {found}, expected {dim}"
                )
            recorded = (config.metadata or {}).get(MODEL_KEY)
            has_points = client.count(self._collection, exact=False).count > 0
            record = model_to_record(self._collection, recorded, has_points, model)
            if record is not None:
                client.update_collection(self._collection, metadata={MODEL_KEY: record})
                self._check_recorded(client, record)
            return
        client.create_collection(
            self._collection,
            vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
            sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            metadata=None if model is None else {MODEL_KEY: model},
        )
        if model is not None:
            self._check_recorded(client, model)
        if self._path is None:  # local mode has no payload indexes (and warns if asked)
            for name in PAYLOAD_KEYWORDS:
                client.create_payload_index(
                    self._collection, name, qm.PayloadSchemaType.KEYWORD, wait=True
                )

    def _check_recorded(self, client: QdrantClient, model: str) -> None:
        """Fail when the server dropped the model's record (Qdrant before 1.16 has no metadata).

        Without the record a collection counts as the legacy model's, so any other model
        would be taken for a change at every start.
        """
        if (client.get_collection(self._collection).config.metadata or {}).get(MODEL_KEY):
            return
        if model == LEGACY_MODEL:
            log.warning("qdrant_without_metadata", collection=self._collection, model=model)
            return
        raise VectorIndexError(
            f"Qdrant does not keep collection metadata, so collection {self._collection!r} "
            f"cannot record that {model} built it: EMBEDDING_MODEL={model} needs Qdrant 1.16 "
            "or later"
        )

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        """Insert or replace chunks, in batches, waiting until they are searchable."""
        structs = [
            qm.PointStruct(
                id=point_id(p.chunk),
                vector={
                    DENSE: dense_list(p.dense),
                    SPARSE: qm.SparseVector(
                        indices=list(p.sparse.indices), values=list(p.sparse.values)
                    ),
                },
                payload=chunk_payload(p.chunk),
            )
            for p in points
        ]
        for start in range(0, len(structs), self._upsert_batch):
            batch = structs[start : start + self._upsert_batch]
            await self._run(functools.partial(_upsert_sync, self._collection, batch))

    async def delete_document(self, document: str) -> None:
        """Remove every chunk whose payload document equals document."""
        selector = qm.FilterSelector(filter=match_filter("document", document))
        await self._run(lambda c: c.delete(self._collection, points_selector=selector, wait=True))

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        """Dense and sparse search for every query in one query_batch_points call."""
        requests: list[qm.QueryRequest] = []
        slots: list[tuple[int, bool]] = []  # (query number, is_sparse) of each request
        for number, query in enumerate(queries):
            kind_filter = query_filter(query)
            requests.append(
                qm.QueryRequest(
                    query=dense_list(query.dense),
                    using=DENSE,
                    limit=limit,
                    filter=kind_filter,
                    with_payload=True,
                )
            )
            slots.append((number, False))
            if query.sparse.indices:
                sparse = qm.SparseVector(
                    indices=list(query.sparse.indices), values=list(query.sparse.values)
                )
                requests.append(
                    qm.QueryRequest(
                        query=sparse,
                        using=SPARSE,
                        limit=limit,
                        filter=kind_filter,
                        with_payload=True,
                    )
                )
                slots.append((number, True))
        results = [SearchResult() for _ in queries]
        if not requests:
            return results
        responses = await self._run(lambda c: c.query_batch_points(self._collection, requests))
        for (number, is_sparse), response in zip(slots, responses, strict=True):
            hits = [Hit(chunk_from_payload(p.payload), p.score) for p in response.points]
            target = results[number].sparse_hits if is_sparse else results[number].dense_hits
            target.extend(hits)
        return results

    async def count(self, document: str | None = None) -> int:
        """Exact number of points in the collection, or of one document's."""
        where = None if document is None else match_filter("document", document)
        return await self._run(
            lambda c: c.count(self._collection, count_filter=where, exact=True).count
        )

    async def close(self) -> None:
        """Close the client (if it was opened) and stop the worker threads; idempotent."""
        if self._closed:
            return
        if self._client is not None:
            await self._run(lambda c: c.close())
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _open_local(path: str) -> QdrantClient:
    """qdrant-client local mode on path; IndexInUseError when another process holds it."""
    try:
        return QdrantClient(path=path)
    except RuntimeError as error:
        # Local mode takes a non-blocking portalocker lock on path/.lock and, when that fails,
        # raises a RuntimeError while handling portalocker's LockException.
        from portalocker.exceptions import LockException

        if isinstance(error.__context__, LockException):
            raise IndexInUseError(path) from error
        raise


def _upsert_sync(collection: str, points: list[qm.PointStruct], client: QdrantClient) -> None:
    """Upsert one batch and wait until it is searchable."""
    client.upsert(collection, points=points, wait=True)
