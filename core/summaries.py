"""Summaries of a customer's earlier conversations, as vectors in Qdrant beside the knowledge."""

from __future__ import annotations

from typing import Protocol

import structlog

from core.embedding import Embedder
from core.index_points import EmbeddingModelChanged, IndexedChunk, IndexQuery
from core.knowledge import Chunk, ChunkKind
from core.sparse import document_vector, query_vector
from core.vector_index import VectorIndex

log = structlog.get_logger(__name__)


class SummaryStore(Protocol):
    """Where closed conversations' summaries go."""

    async def remember(self, contact_id: int, conversation_id: int, summary: str) -> None:
        """Keep the summary of a closed conversation."""
        ...


def contact_document(contact_id: int) -> str:
    """All of one contact's summaries share this document name, so they erase together."""
    return f"contact:{contact_id}"


class VectorSummaries:
    """Summaries in their own Qdrant collection, one document per contact."""

    def __init__(self, index: VectorIndex, embedder: Embedder) -> None:
        self._index = index
        self._embedder = embedder

    async def open(self) -> None:
        """Open the collection; start it over when another embedding model built it.

        The summaries themselves stay in PostgreSQL; only their vectors are dropped, so
        customers' earlier conversations are recalled again from their next summary on.
        """
        model, dim = self._embedder.name, self._embedder.dimension
        try:
            await self._index.ensure_collection(dim, model)
        except EmbeddingModelChanged as change:
            log.warning("summary_vectors_dropped", built_with=change.found, model=model)
            await self._index.reset_collection(dim, model)

    async def remember(self, contact_id: int, conversation_id: int, summary: str) -> None:
        """Embed and store the summary of a closed conversation."""
        chunk = Chunk(
            document=contact_document(contact_id),
            entry_id=f"conversation:{conversation_id}",
            title="Earlier conversation",
            text=summary,
            answer=summary,
            kind=ChunkKind.PASSAGE,
            position=conversation_id,
        )
        [vector] = await self._embedder.embed_documents([summary])
        await self._index.upsert([IndexedChunk(chunk, vector, document_vector(summary))])

    async def recall(self, contact_id: int, text: str, limit: int = 3) -> list[str]:
        """The contact's summaries closest to a text, most relevant first."""
        [vector] = await self._embedder.embed_queries([text])
        query = IndexQuery(vector, query_vector(text), document=contact_document(contact_id))
        [result] = await self._index.search_batch([query], limit=limit)
        return [hit.chunk.text for hit in result.dense_hits]

    async def forget_contact(self, contact_id: int) -> None:
        """Erase every summary of one contact."""
        await self._index.delete_document(contact_document(contact_id))
