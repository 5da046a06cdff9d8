"""multilingual-e5-small end to end: Qdrant Edge, a catalog in PostgreSQL, retrieval."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import asyncpg
import pytest

from bot.embedded.servers import EmbeddedServices
from bot.thresholds import DEFAULT_THRESHOLDS
from core.compose import ComposeRequest, OfflineComposer, Thresholds
from core.edge_index import EdgeIndex
from core.embedding import E5_SMALL, E5Embedder, Vectors
from core.migrate import apply_migrations
from core.retrieval import Retriever
from core.store import PostgresStore
from core.vector_index import EmbeddingModelChanged
from knowledge_base.ingest import Ingestor

pytestmark = pytest.mark.integration

FAQ = """\
faqs:
  - id: hours-saturday
    question: What time do you open on Saturday?
    answer: "On Saturday we open at 8:00 am and close at 6:00 pm."
  - id: delivery-fee
    question: How much is the delivery fee?
    answer: "Delivery costs $6.00 to Zone A; it is free for orders of $80 or more."
  - id: halal
    question: Is your food halal?
    answer: "We are not halal-certified, but we use no pork, lard or alcohol."
"""
GUIDE = """\
# Payment

In the shop we accept cash, NETS, Visa, Mastercard and PayNow QR. We do not accept cheques.
"""


class Renamed:
    """The same vectors under another model name: stands in for a change of EMBEDDING_MODEL."""

    def __init__(self, inner: E5Embedder, name: str) -> None:
        self._inner = inner
        self.name = name
        self.dimension = inner.dimension

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return await self._inner.embed_queries(texts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await self._inner.embed_documents(texts)


@pytest.fixture(scope="module")
def e5() -> Iterator[E5Embedder]:
    embedder = E5Embedder()
    yield embedder
    embedder.close()


@pytest.fixture
async def store(embedded: EmbeddedServices) -> AsyncIterator[PostgresStore]:
    """A catalog of its own: a fresh database, as one bot's knowledge index has one catalog."""
    name = f"multilingual_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(embedded.database_url)
    await admin.execute(f"CREATE DATABASE {name}")
    url = embedded.database_url.replace("/supportbot?", f"/{name}?")
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await apply_migrations(pool)
        yield PostgresStore(pool)
    finally:
        await pool.close()
        await admin.execute(f"DROP DATABASE {name}")
        await admin.close()


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "faq.yaml").write_text(FAQ, encoding="utf-8")
    (folder / "guide.md").write_text(GUIDE, encoding="utf-8")
    return folder


async def test_a_chinese_question_is_answered_from_english_knowledge(
    e5: E5Embedder, store: PostgresStore, knowledge: Path, tmp_path: Path
) -> None:
    index = EdgeIndex(tmp_path / "vectors", "knowledge")
    retriever = Retriever(e5, index)
    try:
        report = await Ingestor(store, index, e5).ingest([knowledge])
        assert len(report.added) == 2 and not report.failed
        question = "你们星期六几点开门？"
        ranking = await retriever.retrieve(question)
        assert ranking.top is not None and ranking.top.entry_id == "hours-saturday"
        # E5's default thresholds were chosen on English questions; a question in another
        # language scores lower against English knowledge (0.83 here, bench/RESULTS.md), so
        # at the defaults the bot says it does not know. Configured lower, it answers.
        _, _, margin = DEFAULT_THRESHOLDS[(E5_SMALL, False)]
        composer = OfflineComposer(Thresholds(answer=0.8, choice=0.79, margin=margin))
        reply = composer.compose_now(ComposeRequest(question=question, ranking=ranking))
        assert reply.source_entry_ids == ("hours-saturday",), (ranking.confidence, reply)
        assert reply.text.startswith("On Saturday we open at 8:00 am")
    finally:
        await retriever.close()
        await index.close()


async def test_another_model_re_embeds_every_known_file(
    e5: E5Embedder, store: PostgresStore, knowledge: Path, tmp_path: Path
) -> None:
    index = EdgeIndex(tmp_path / "vectors", "knowledge")
    try:
        first = await Ingestor(store, index, e5).ingest([knowledge])
        chunks = await index.count()
        assert first.chunks == chunks > 0
        assert await Ingestor(store, index, e5).open() is None  # same model: nothing to do
        redone = await Ingestor(store, index, Renamed(e5, "another-model")).open()
        assert redone is not None and len(redone.updated) == 2
        assert await index.count() == chunks
        # Back to the first model: it does not trust what "another-model" left either.
        again = await Ingestor(store, index, e5).ingest([knowledge])
        assert len(again.updated) == 2 and await index.count() == chunks
    finally:
        await index.close()


async def test_a_vanished_file_is_marked_failed_and_none_left_is_an_error(
    e5: E5Embedder, store: PostgresStore, knowledge: Path, tmp_path: Path
) -> None:
    index = EdgeIndex(tmp_path / "vectors", "knowledge")
    try:
        await Ingestor(store, index, e5).ingest([knowledge])
        (knowledge / "guide.md").unlink()
        redone = await Ingestor(store, index, Renamed(e5, "model-b")).open()
        assert redone is not None and [Path(p).name for p in redone.updated] == ["faq.yaml"]
        states = {Path(r.path).name: (r.state, r.error) for r in await store.list_documents()}
        assert states["guide.md"] == ("failed", "file not found when embedding again for model-b")
        (knowledge / "faq.yaml").unlink()
        with pytest.raises(EmbeddingModelChanged, match="none of its files can be read"):
            await Ingestor(store, index, Renamed(e5, "model-c")).open()
    finally:
        await index.close()
