"""Both VectorIndex backends (qdrant-client local mode, qdrant-edge) on real storage on disk."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from core.edge_index import EdgeIndex
from core.index_points import point_id
from core.knowledge import Chunk, ChunkKind
from core.qdrant_index import QdrantClientIndex
from core.sparse import document_vector, query_vector
from core.vector_index import (
    LEGACY_MODEL,
    EmbeddingModelChanged,
    IndexedChunk,
    IndexInUseError,
    IndexQuery,
    VectorIndex,
    VectorIndexError,
)

pytestmark = pytest.mark.integration

DIM = 32
COLLECTION = "kb"
TOPICS = ["delivery", "refund", "opening hours", "payment", "membership"]
PLACES = ["Tampines", "Jurong", "Bishan", "Orchard", "Bedok"]
RARE_TEXT = "Do you sell durian mochi?"

Factory = Callable[[Path], VectorIndex]


def _qdrant_local(path: Path) -> VectorIndex:
    return QdrantClientIndex(url=None, path=str(path), collection=COLLECTION)


def _edge(path: Path) -> VectorIndex:
    return EdgeIndex(path, COLLECTION)


@pytest.fixture(params=[_qdrant_local, _edge], ids=["qdrant-local", "edge"])
def factory(request: pytest.FixtureRequest) -> Factory:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def opened(factory: Factory) -> AsyncIterator[list[VectorIndex]]:
    """Indexes the test opened; all closed at teardown."""
    indexes: list[VectorIndex] = []
    yield indexes
    for index in indexes:
        await index.close()


@pytest.fixture
def open_index(factory: Factory, opened: list[VectorIndex]) -> Callable[[Path], VectorIndex]:
    def _open(path: Path) -> VectorIndex:
        index = factory(path)
        opened.append(index)
        return index

    return _open


def _corpus() -> list[IndexedChunk]:
    """50 chunks in 5 documents; seeded random unit dense vectors, real BM25 sparse vectors."""
    rng = np.random.default_rng(42)
    points: list[IndexedChunk] = []
    for d in range(5):
        for n in range(10):
            kind = ChunkKind.FAQ_QUESTION if n % 2 == 0 else ChunkKind.FAQ_ANSWER
            topic, place = TOPICS[(d + n) % 5], PLACES[n % 5]
            text = f"How does {topic} work at our {place} outlet? Question {d}-{n}."
            if (d, n) == (3, 4):
                text = RARE_TEXT
            chunk = Chunk(
                document=f"doc{d}.md",
                entry_id=f"doc{d}#{n // 2}",
                title=f"{topic.title()} FAQ",
                text=text,
                answer=f"Answer about {topic} in {place}.",
                kind=kind,
                position=n,
            )
            vector = rng.normal(size=DIM).astype(np.float32)
            vector /= np.linalg.norm(vector)
            points.append(IndexedChunk(chunk, vector, document_vector(text)))
    return points


CORPUS = _corpus()


async def _filled(open_index: Callable[[Path], VectorIndex], path: Path) -> VectorIndex:
    index = open_index(path)
    await index.ensure_collection(DIM)
    await index.upsert(CORPUS)
    return index


async def test_own_vector_ranks_own_chunk_first(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    queries = [IndexQuery(p.dense, query_vector(p.chunk.text)) for p in CORPUS]
    results = await index.search_batch(queries, limit=5)
    assert len(results) == len(CORPUS)
    for point, result in zip(CORPUS, results, strict=True):
        assert result.dense_hits[0].chunk == point.chunk
        assert result.dense_hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert len(result.dense_hits) == 5
        assert [h.score for h in result.dense_hits] == sorted(
            (h.score for h in result.dense_hits), reverse=True
        )


async def test_sparse_search_finds_rare_word(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    dense = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    [result] = await index.search_batch([IndexQuery(dense, query_vector("durians?"))], limit=10)
    assert [h.chunk.text for h in result.sparse_hits] == [RARE_TEXT]
    assert result.sparse_hits[0].score > 0
    assert len(result.dense_hits) == 10  # dense and sparse hits come back separately


async def test_query_of_stopwords_has_no_sparse_hits(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    [result] = await index.search_batch([IndexQuery(CORPUS[0].dense, query_vector("the"))], 3)
    assert result.sparse_hits == []
    assert result.dense_hits[0].chunk == CORPUS[0].chunk


async def test_kind_filter_applies_to_both_searches(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    question = CORPUS[0]
    query = IndexQuery(question.dense, query_vector("delivery"), kinds=(ChunkKind.FAQ_ANSWER,))
    [result] = await index.search_batch([query], limit=50)
    assert len(result.dense_hits) == 25
    assert result.sparse_hits
    hits = result.dense_hits + result.sparse_hits
    assert {h.chunk.kind for h in hits} == {ChunkKind.FAQ_ANSWER}


async def test_delete_document_removes_only_that_document(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    await index.delete_document("doc2.md")
    assert await index.count() == 40
    assert await index.count("doc2.md") == 0
    assert await index.count("doc3.md") == 10
    queries = [IndexQuery(p.dense, query_vector(p.chunk.text)) for p in CORPUS]
    results = await index.search_batch(queries, limit=50)
    for point, result in zip(CORPUS, results, strict=True):
        found = {h.chunk.document for h in result.dense_hits + result.sparse_hits}
        assert "doc2.md" not in found
        assert len(result.dense_hits) == 40
        if point.chunk.document != "doc2.md":
            assert result.dense_hits[0].chunk == point.chunk


async def test_data_survives_close_and_reopen(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    await index.delete_document("doc0.md")
    await index.close()
    reopened = open_index(tmp_path)
    assert await reopened.count() == 40  # opens the stored collection without ensure_collection
    await reopened.ensure_collection(DIM)
    [result] = await reopened.search_batch(
        [IndexQuery(CORPUS[34].dense, query_vector(RARE_TEXT))], limit=3
    )
    assert result.dense_hits[0].chunk == CORPUS[34].chunk
    assert result.sparse_hits[0].chunk == CORPUS[34].chunk


async def test_upserting_the_same_chunks_twice_does_not_duplicate(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    await index.upsert(CORPUS)
    assert await index.count() == 50
    # Ids are content-addressed: an edited chunk is a new point, and replacing a document's
    # content is delete_document + upsert (what ingestion does), never a stale cached chunk.
    old = CORPUS[7]
    edited = dataclasses.replace(old.chunk, answer="New answer.")
    await index.delete_document(old.chunk.document)
    survivors = [p for p in CORPUS if p.chunk.document != old.chunk.document]
    await index.upsert([IndexedChunk(edited, old.dense, old.sparse)])
    assert await index.count() == len(survivors) + 1
    [result] = await index.search_batch([IndexQuery(old.dense, query_vector(""))], limit=1)
    assert result.dense_hits[0].chunk.answer == "New answer."


async def test_wrong_dimension_is_refused(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    await index.close()
    with pytest.raises(VectorIndexError):
        await open_index(tmp_path).ensure_collection(DIM + 1)


async def test_an_index_another_process_has_open_is_reported_as_in_use(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    # The folder lock is per open file, so a second opening in this process stands in for a
    # second bot process (`bot worker` beside `bot serve`, `bot kb ingest` beside `bot chat`).
    await _filled(open_index, tmp_path)
    with pytest.raises(IndexInUseError, match="is in use by another bot process") as caught:
        await open_index(tmp_path).ensure_collection(DIM)
    assert str(tmp_path) in str(caught.value)


async def test_closed_index_refuses_calls(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)
    await index.close()
    await index.close()  # idempotent
    with pytest.raises(VectorIndexError):
        await index.count()


async def test_the_index_remembers_which_model_built_it(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = open_index(tmp_path)
    await index.ensure_collection(DIM, "model-a")
    await index.upsert(CORPUS)
    await index.close()
    reopened = open_index(tmp_path)
    await reopened.ensure_collection(DIM, "model-a")
    await reopened.ensure_collection(DIM)  # a caller that does not name the model checks nothing
    with pytest.raises(EmbeddingModelChanged, match=r"'kb' was built with .* model-a") as caught:
        await reopened.ensure_collection(DIM, "model-b")
    assert (caught.value.found, caught.value.expected) == ("model-a", "model-b")
    await reopened.reset_collection(DIM, "model-b")
    assert await reopened.count() == 0
    await reopened.upsert(CORPUS[:5])
    await reopened.close()
    again = open_index(tmp_path)
    await again.ensure_collection(DIM, "model-b")
    assert await again.count() == 5


async def test_an_index_filled_before_models_were_recorded_belongs_to_the_old_default(
    open_index: Callable[[Path], VectorIndex], tmp_path: Path
) -> None:
    index = await _filled(open_index, tmp_path)  # no model named, nothing recorded
    with pytest.raises(EmbeddingModelChanged, match=LEGACY_MODEL):
        await index.ensure_collection(DIM, "multilingual-e5-small")
    await index.ensure_collection(DIM, LEGACY_MODEL)  # adopted, and now recorded
    await index.close()
    with pytest.raises(EmbeddingModelChanged, match=LEGACY_MODEL):
        await open_index(tmp_path).ensure_collection(DIM, "model-c")


def test_point_ids_are_stable_and_distinct() -> None:
    ids = {point_id(p.chunk) for p in CORPUS}
    assert len(ids) == len(CORPUS)
    chunk = Chunk("doc0.md", "doc0#0", "Delivery FAQ", "x", "y", ChunkKind.FAQ_QUESTION, 0)
    assert point_id(chunk) == "94f6832c-63c9-594c-b4f8-9483f2f23f54"
    # Content-addressed: any change to the text gives another id.
    assert point_id(dataclasses.replace(chunk, text="z")) != point_id(chunk)
