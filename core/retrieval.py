"""Retrieval: embed questions, search the index, rank entries; concurrent calls share a batch."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from core.embedding import Embedder, Vectors
from core.ranking import Ranking, RankingParams, rank_entries
from core.sparse import query_vector
from core.vector_index import IndexQuery, VectorIndex

Vector = Vectors  # one row of an embedding matrix


@dataclass(slots=True)
class _Pending:
    """A question waiting for the next batch."""

    text: str
    future: asyncio.Future[Ranking]


class Retriever:
    """Answers retrieve(question) calls; questions that arrive together are embedded together."""

    def __init__(
        self,
        embedder: Embedder,
        index: VectorIndex,
        params: RankingParams | None = None,
        limit: int = 20,
        max_batch: int = 64,
        cache_size: int = 10_000,
    ) -> None:
        self._embedder = embedder
        self._index = index
        self._params = params or RankingParams()
        self._limit = limit
        self._max_batch = max_batch
        self._vectors: OrderedDict[str, Vector] = OrderedDict()
        self._cache_size = cache_size
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def retrieve(self, text: str) -> Ranking:
        """Rank knowledge entries for one question."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="retrieval-batcher")
        future: asyncio.Future[Ranking] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(text, future))
        return await future

    async def retrieve_many(self, texts: Sequence[str]) -> list[Ranking]:
        """Rank entries for many questions in one batch (evaluation, benchmarks)."""
        return await self._process(list(texts))

    async def _run(self) -> None:
        """Drain whatever is queued, answer it as one batch, repeat."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [p for p in batch if not p.future.cancelled()]
            if not live:
                continue
            try:
                rankings = await self._process([p.text for p in live])
            except Exception as error:  # one failed batch must not kill the batcher
                for pending in live:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                continue
            for pending, ranking in zip(live, rankings, strict=True):
                if not pending.future.done():
                    pending.future.set_result(ranking)

    async def _process(self, texts: list[str]) -> list[Ranking]:
        """Embed, search and rank a batch of questions."""
        vectors = await self._embed(texts)
        queries = [
            IndexQuery(dense=vector, sparse=query_vector(text))
            for text, vector in zip(texts, vectors, strict=True)
        ]
        results = await self._index.search_batch(queries, limit=self._limit)
        return [
            rank_entries(result.dense_hits, result.sparse_hits, self._params) for result in results
        ]

    async def _embed(self, texts: list[str]) -> list[Vector]:
        """Embed questions, reusing vectors of questions asked before (customers repeat a lot)."""
        keys = [" ".join(text.split()) for text in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            fresh = await self._embedder.embed_queries(missing)
            for key, vector in zip(missing, fresh, strict=True):
                self._vectors[key] = vector
        vectors = []
        for key in keys:
            self._vectors.move_to_end(key)
            vectors.append(self._vectors[key])
        while len(self._vectors) > self._cache_size:
            self._vectors.popitem(last=False)
        return vectors

    async def close(self) -> None:
        """Stop the batcher task."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
