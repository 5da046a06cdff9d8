"""Retrieval: embed questions, search the index, rank entries; concurrent calls share a batch."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.day_check import check_days
from core.dual_embedding import Scale, WeightedEmbedder
from core.embedding import Embedder, Vectors
from core.index_points import Hit, IndexQuery, SearchResult
from core.knowledge import Chunk
from core.language import Language, LanguageDetector
from core.ranking import Ranking, RankingParams, rank_entries
from core.search_question import SearchQuestion, english_alone_suffices, search_question
from core.sparse import query_vector
from core.vector_index import VectorIndex

Vector = Vectors  # one row of an embedding matrix
CROSS_LINGUAL_RANKING = RankingParams(sparse_weight=0.2, confidence_sparse_weight=0.05)
"""For questions in another language than the knowledge: their keywords are the glossary's
English words, chosen for this purpose, so they weigh more in the order (0.2 against 0.05: more
right entries on top in the dev set, bench/QUALITY.md) but not in the confidence, which keeps
the scale the thresholds were calibrated on."""
_SAME = Scale()


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
        detector: LanguageDetector | None = None,
    ) -> None:
        self._embedder = embedder
        self._detector = detector
        self._index = index
        self._params = params or RankingParams()
        self._limit = limit
        self._max_batch = max_batch
        self._vectors: OrderedDict[tuple[str, float], tuple[Vector, Scale]] = OrderedDict()
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

    async def retrieve_many(
        self, texts: Sequence[str], leave_out: Sequence[frozenset[Chunk]] = ()
    ) -> list[Ranking]:
        """Rank entries for many questions in one batch (evaluation, calibration).

        leave_out[i], when given, holds chunks the i-th question must not find: calibration
        asks an FAQ phrasing as a question and leaves the phrasing itself, or its whole entry,
        out of the knowledge.
        """
        return await self._process(list(texts), list(leave_out))

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

    async def _process(
        self, texts: list[str], leave_out: list[frozenset[Chunk]] | None = None
    ) -> list[Ranking]:
        """Embed, search and rank a batch of questions; English ones by MiniLM alone first.

        With two models, an English question whose MiniLM-only ranking is already sure keeps
        it and never waits for E5, which costs ten times as much; the rest are searched again
        with both models (bench/QUALITY.md, "MiniLM first").
        """
        questions = [search_question(text, self._detector) for text in texts]
        skips = leave_out or [frozenset()] * len(texts)
        rankings: list[Ranking | None] = [None] * len(questions)
        if isinstance(self._embedder, WeightedEmbedder):
            mixed = [i for i, q in enumerate(questions) if 0 < q.english_weight < 1]
            alone = [replace(questions[i], english_weight=1.0) for i in mixed]
            for i, ranking in zip(mixed, await self._search(alone, skips, mixed), strict=True):
                if english_alone_suffices(ranking.confidence, ranking.margin):
                    rankings[i] = ranking
        rest = [i for i, ranking in enumerate(rankings) if ranking is None]
        searched = await self._search([questions[i] for i in rest], skips, rest)
        for i, ranking in zip(rest, searched, strict=True):
            rankings[i] = ranking
        return [ranking for ranking in rankings if ranking is not None]

    async def _search(
        self, questions: list[SearchQuestion], skips: Sequence[frozenset[Chunk]], at: list[int]
    ) -> list[Ranking]:
        """Embed, search and rank questions; skips[at[i]] are chunks question i must not find."""
        if not questions:
            return []
        embedded = await self._embed(questions)
        queries = [
            IndexQuery(dense=vector, sparse=query_vector(question.text))
            for question, (vector, _) in zip(questions, embedded, strict=True)
        ]
        # hits of left-out chunks are dropped after the search: fetch enough to make up for them
        room = max(len(skips[n]) for n in at)
        results = await self._index.search_batch(queries, limit=self._limit + room)
        rankings = []
        for question, (_, scale), result, n in zip(questions, embedded, results, at, strict=True):
            dense = [h for h in _rescaled(result, scale) if h.chunk not in skips[n]]
            sparse = [h for h in result.sparse_hits if h.chunk not in skips[n]]
            english = question.language is Language.EN
            params = self._params if english else CROSS_LINGUAL_RANKING
            ranking = check_days(question.text, rank_entries(dense, sparse, params))
            rankings.append(replace(ranking, language=question.language.value))
        return rankings

    async def _embed(self, questions: list[SearchQuestion]) -> list[tuple[Vector, Scale]]:
        """Embed questions, reusing vectors of questions asked before (customers repeat a lot)."""
        keys = [(" ".join(q.text.split()), q.english_weight) for q in questions]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            for key, embedded in zip(missing, await self._embed_new(missing), strict=True):
                self._vectors[key] = embedded
        vectors = []
        for key in keys:
            self._vectors.move_to_end(key)
            vectors.append(self._vectors[key])
        while len(self._vectors) > self._cache_size:
            self._vectors.popitem(last=False)
        return vectors

    async def _embed_new(self, keys: list[tuple[str, float]]) -> list[tuple[Vector, Scale]]:
        """Embed questions not seen before, weighted between two models when there are two."""
        texts = [text for text, _ in keys]
        if isinstance(self._embedder, WeightedEmbedder):
            vectors, scales = await self._embedder.embed_weighted(texts, [w for _, w in keys])
            return list(zip(vectors, scales, strict=True))
        return [(vector, _SAME) for vector in await self._embedder.embed_queries(texts)]

    async def close(self) -> None:
        """Stop the batcher task."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker


def _rescaled(result: SearchResult, scale: Scale) -> list[Hit]:
    """Dense hits with their scores on the weighted-cosine scale."""
    if scale == _SAME:
        return result.dense_hits
    return [Hit(hit.chunk, scale.apply(hit.score)) for hit in result.dense_hits]
