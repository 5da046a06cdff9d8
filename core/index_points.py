"""What the vector index stores and answers: points and their payloads, queries, hits, errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from core.knowledge import Chunk, ChunkKind
from core.sparse import SparseVec

DENSE = "dense"
SPARSE = "sparse"
PAYLOAD_KEYWORDS = ("document", "kind")
"""Payload fields with a keyword index: deletion filters on document, searches on kind."""

MODEL_KEY = "embedding_model"
"""Collection metadata key naming the embedding model whose vectors the collection holds."""

_ID_NAMESPACE = uuid.UUID("5b0e7c84-3f8e-4c6a-9d2b-6f1e0a7d4c19")

DenseVector = Sequence[float] | npt.NDArray[np.floating[Any]]


class VectorIndexError(Exception):
    """The index cannot serve the request (wrong dimension, not created yet, closed)."""


class IndexInUseError(VectorIndexError):
    """Another process has this embedded index open.

    Embedded Qdrant (Edge, or qdrant-client local mode) locks its folder: one process at a time.
    """

    def __init__(self, path: str) -> None:
        super().__init__(f"the embedded vector index in {path} is in use by another bot process")
        self.path = path


class EmbeddingModelChanged(VectorIndexError):
    """The collection holds vectors of another embedding model than the configured one."""

    def __init__(self, collection: str, found: str, expected: str, remedy: str = "") -> None:
        message = (
            f"the vector collection {collection!r} was built with the embedding model {found}, "
            f"but EMBEDDING_MODEL is {expected}"
        )
        super().__init__(f"{message} {remedy}".rstrip())
        self.collection = collection
        self.found = found
        self.expected = expected


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    """A chunk with its dense embedding and its BM25 document vector, ready to upsert."""

    chunk: Chunk
    dense: DenseVector
    sparse: SparseVec


@dataclass(frozen=True, slots=True)
class IndexQuery:
    """One question: its dense embedding, its BM25 query vector and an optional kind filter."""

    dense: DenseVector
    sparse: SparseVec
    kinds: tuple[ChunkKind, ...] = ()
    """Only chunks of these kinds; empty means all kinds."""
    document: str | None = None
    """Only chunks of this document; None means every document."""


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk found by one search and that search's score."""

    chunk: Chunk
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Dense and sparse hits for one query, best first and not fused (the caller fuses)."""

    dense_hits: list[Hit] = field(default_factory=list)
    sparse_hits: list[Hit] = field(default_factory=list)


def point_id(chunk: Chunk) -> str:
    """Stable, content-addressed point id: uuid5 of the whole chunk.

    Changed text gives a new id, so a chunk cached by id can never be stale.
    """
    key = json.dumps(
        [
            chunk.document,
            chunk.entry_id,
            chunk.position,
            chunk.kind.value,
            chunk.title,
            chunk.text,
            chunk.answer,
        ]
    )
    return str(uuid.uuid5(_ID_NAMESPACE, key))


def chunk_payload(chunk: Chunk) -> dict[str, Any]:
    """The payload stored with a chunk's point (everything needed to rebuild the chunk)."""
    return {
        "document": chunk.document,
        "entry_id": chunk.entry_id,
        "title": chunk.title,
        "text": chunk.text,
        "answer": chunk.answer,
        "kind": chunk.kind.value,
        "position": chunk.position,
    }


def chunk_from_payload(payload: Mapping[str, Any] | None) -> Chunk:
    """Rebuild a chunk from its stored payload."""
    if payload is None:
        raise VectorIndexError("point has no payload")
    return Chunk(
        document=str(payload["document"]),
        entry_id=str(payload["entry_id"]),
        title=str(payload["title"]),
        text=str(payload["text"]),
        answer=str(payload["answer"]),
        kind=ChunkKind(payload["kind"]),
        position=int(payload["position"]),
    )


def dense_list(vector: DenseVector) -> list[float]:
    """A dense vector as a list of Python floats."""
    values: list[float] = np.asarray(vector, dtype=np.float32).ravel().tolist()
    return values
