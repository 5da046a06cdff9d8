"""The vector index the core searches (a Protocol); backends: core.edge_index, core.qdrant_index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

# Re-exported: callers name the index's types from here whichever backend runs.
from core.index_points import (
    EmbeddingModelChanged,
    Hit,
    IndexedChunk,
    IndexInUseError,
    IndexQuery,
    SearchResult,
    VectorIndexError,
)

__all__ = [
    "LEGACY_MODEL",
    "EmbeddingModelChanged",
    "Hit",
    "IndexInUseError",
    "IndexQuery",
    "IndexedChunk",
    "SearchResult",
    "VectorIndex",
    "VectorIndexError",
    "model_to_record",
]

LEGACY_MODEL = "all-MiniLM-L6-v2"
"""Collections made before the model was recorded were built with the only bundled model."""


def model_to_record(
    collection: str, recorded: str | None, has_points: bool, model: str | None
) -> str | None:
    """The model name to record for an existing collection (None: nothing to write).

    Raises EmbeddingModelChanged when the collection's vectors come from another model. A
    collection without a record is adopted when empty and counts as LEGACY_MODEL's otherwise.
    """
    if model is None or recorded == model:
        return None
    found = recorded if recorded is not None else LEGACY_MODEL if has_points else None
    if found is not None and found != model:
        raise EmbeddingModelChanged(collection, found, model)
    return model


class VectorIndex(Protocol):
    """Where chunks are stored and searched by dense and sparse vector."""

    async def ensure_collection(self, dim: int, model: str | None = None) -> None:
        """Create the collection for dense vectors of size dim, or check the existing one.

        With a model name the collection records it at creation, and an existing collection
        built with another model raises EmbeddingModelChanged.
        """
        ...

    async def reset_collection(self, dim: int, model: str | None = None) -> None:
        """Drop every point and create the collection anew (for another embedding model)."""
        ...

    async def upsert(self, points: Sequence[IndexedChunk]) -> None:
        """Insert or replace chunks (the point id is derived from the chunk)."""
        ...

    async def delete_document(self, document: str) -> None:
        """Remove every chunk of one document."""
        ...

    async def search_batch(self, queries: Sequence[IndexQuery], limit: int) -> list[SearchResult]:
        """Search all queries in one backend call; one result per query, in order."""
        ...

    async def count(self, document: str | None = None) -> int:
        """Number of stored chunks: all of them, or those of one document."""
        ...

    async def close(self) -> None:
        """Release files, connections and threads."""
        ...
