"""Ingestion on real services: "unchanged" needs the catalog and the vector index to agree."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services import Services
from core.edge_index import EdgeIndex
from core.retrieval import Retriever
from knowledge_base.ingest import Ingestor, document_key

pytestmark = pytest.mark.integration

FAQ = """\
faqs:
  - id: durian-mochi
    question: Do you sell durian mochi?
    answer: Yes, durian mochi is sold on weekends only, while stocks last.
    alternatives:
      - Got durian mochi or not?
  - id: corporate-orders
    question: Do you take corporate orders for events?
    answer: Yes, corporate orders of 50 boxes or more need one week's notice.
"""


@pytest.fixture
async def faq_file(services: Services, tmp_path: Path) -> AsyncIterator[Path]:
    """A small FAQ file, forgotten by the shared catalog afterwards."""
    path = tmp_path / "faq" / "extra-faq.yaml"
    path.parent.mkdir()
    path.write_text(FAQ)
    yield path
    await services.storage.store.delete_document(document_key(path))


async def test_a_wiped_index_is_filled_again_although_the_catalog_knows_the_file(
    services: Services, faq_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "vectors"
    index = EdgeIndex(folder, "kb")
    ingestor = Ingestor(services.storage.store, index, services.embedder)
    try:
        first = await ingestor.ingest([faq_file])
        assert first.added == [document_key(faq_file)] and first.chunks > 0
        again = await ingestor.ingest([faq_file])
        assert again.unchanged == [document_key(faq_file)] and again.chunks == 0
    finally:
        await index.close()

    shutil.rmtree(folder)  # the vector store's folder is lost; PostgreSQL still lists the file
    index = EdgeIndex(folder, "kb")
    ingestor = Ingestor(services.storage.store, index, services.embedder)
    retriever = Retriever(services.embedder, index)
    try:
        report = await ingestor.ingest([faq_file])
        assert report.unchanged == []
        assert report.updated == [document_key(faq_file)]
        assert report.chunks == first.chunks
        assert await index.count(document_key(faq_file)) == first.chunks
        ranking = await retriever.retrieve("Do you have durian mochi?")
        assert ranking.top is not None and ranking.top.entry_id == "durian-mochi"
        assert "weekends" in ranking.top.best.answer
        # Now both agree again, so the file is skipped.
        assert (await ingestor.ingest([faq_file])).unchanged == [document_key(faq_file)]
    finally:
        await retriever.close()
        await index.close()


async def test_a_document_whose_chunks_left_the_index_is_indexed_again(
    services: Services, faq_file: Path, tmp_path: Path
) -> None:
    index = EdgeIndex(tmp_path / "vectors", "kb")
    ingestor = Ingestor(services.storage.store, index, services.embedder)
    try:
        first = await ingestor.ingest([faq_file])
        await index.delete_document(document_key(faq_file))
        report = await ingestor.ingest([faq_file])
        assert report.updated == [document_key(faq_file)]
        assert await index.count(document_key(faq_file)) == first.chunks
        assert await index.count() == first.chunks  # replaced, not duplicated
    finally:
        await index.close()
