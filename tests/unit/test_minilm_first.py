"""English questions are searched by MiniLM alone first; E5 is asked only when that is unsure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.dual_embedding import DualEmbedder
from core.embedding import Vectors
from core.index_points import Hit, IndexedChunk, IndexQuery, SearchResult
from core.knowledge import Chunk, ChunkKind
from core.retrieval import Retriever
from core.search_question import english_alone_suffices
from core.sparse import document_vector

# Passages: one chunk stands for its entry, so a score is that chunk's cosine.
HOURS = Chunk("faq.md", "hours", "Hours", "when are you open", "9 to 6", ChunkKind.PASSAGE, 0)
PARKING = Chunk("faq.md", "parking", "Parking", "where to park", "Level B2", ChunkKind.PASSAGE, 1)


class RecordingModel:
    """A stand-in model with fixed unit vectors that notes every text it is asked to embed."""

    def __init__(self, name: str, vectors: dict[str, list[float]]) -> None:
        self.name = name
        self.vectors = vectors
        self.dimension = 3
        self.asked: list[str] = []

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.asked.extend(texts)
        rows = np.asarray([self.vectors[t] for t in texts], dtype=np.float32)
        unit: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return unit

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await self.embed_queries(texts)

    def close(self) -> None: ...


class CosineIndex:
    """An exact in-memory dense index (cosine, as Qdrant's collections are configured)."""

    def __init__(self) -> None:
        self.points: list[IndexedChunk] = []
        self.searches = 0

    async def ensure_collection(self, dim: int, model: str | None = None) -> None: ...

    async def reset_collection(self, dim: int, model: str | None = None) -> None: ...

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        self.points.extend(points)

    async def delete_document(self, document: str) -> None: ...

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        self.searches += len(queries)
        results = []
        for query in queries:
            q = np.asarray(query.dense, dtype=np.float32)
            hits = [
                Hit(p.chunk, float(q @ np.asarray(p.dense) / np.linalg.norm(q)))
                for p in self.points
            ]
            results.append(SearchResult(sorted(hits, key=lambda h: -h.score)[:limit]))
        return results

    async def count(self, document: str | None = None) -> int:
        return len(self.points)

    async def close(self) -> None: ...


async def _retriever() -> tuple[Retriever, RecordingModel, CosineIndex]:
    english = RecordingModel(
        "en",
        {
            "when are you open": [1, 0, 0],
            "where to park": [0, 1, 0],
            "what are your opening hours": [0.97, 0.24, 0],
            "hmm the place to leave my car": [0.68, 0.67, 0],
        },
    )
    multilingual = RecordingModel(
        "e5",
        {
            "when are you open": [1, 0, 0],
            "where to park": [0, 1, 0],
            "hmm the place to leave my car": [0.05, 1, 0],
        },
    )
    dual = DualEmbedder(english, multilingual)
    index = CosineIndex()
    vectors = await dual.embed_queries([HOURS.text, PARKING.text])
    await index.upsert(
        [
            IndexedChunk(c, v, document_vector(c.text))
            for c, v in zip((HOURS, PARKING), vectors, strict=True)
        ]
    )
    multilingual.asked.clear()
    return Retriever(dual, index), multilingual, index


async def test_a_question_minilm_is_sure_of_never_waits_for_e5() -> None:
    retriever, multilingual, index = await _retriever()
    ranking = await retriever.retrieve("what are your opening hours")
    assert ranking.top is not None and ranking.top.entry_id == "hours"
    assert english_alone_suffices(ranking.confidence, ranking.margin)
    assert multilingual.asked == [] and index.searches == 1
    await retriever.close()


async def test_an_unsure_question_is_searched_again_with_both_models() -> None:
    retriever, multilingual, index = await _retriever()
    ranking = await retriever.retrieve("hmm the place to leave my car")
    # MiniLM alone leans to "hours" by a hair; with E5 the question finds "parking".
    assert ranking.top is not None and ranking.top.entry_id == "parking"
    assert multilingual.asked == ["hmm the place to leave my car"] and index.searches == 2
    await retriever.close()


async def test_a_mixed_batch_keeps_each_question_in_its_place() -> None:
    retriever, multilingual, _ = await _retriever()
    questions = ["hmm the place to leave my car", "what are your opening hours"]
    rankings = await retriever.retrieve_many(questions)
    assert [r.top.entry_id for r in rankings if r.top] == ["parking", "hours"]
    assert multilingual.asked == ["hmm the place to leave my car"]
    await retriever.close()
