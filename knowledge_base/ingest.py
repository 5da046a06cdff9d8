"""Ingestion: load files, skip unchanged ones, embed and index the rest, remember what was done."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import structlog

from core.dual_embedding import WeightedEmbedder
from core.embedding import Embedder, Vectors
from core.index_points import EmbeddingModelChanged, IndexedChunk
from core.knowledge import Chunk, ChunkKind, Document
from core.sparse import document_vector
from core.store import KnowledgeCatalog
from core.store_records import KnowledgeDocumentRow
from core.vector_index import VectorIndex
from knowledge_base.loaders import SUPPORTED_SUFFIXES, DocumentError, load_document

log = structlog.get_logger(__name__)
EMBED_BATCH = 256
QUESTION_KINDS: frozenset[ChunkKind] = frozenset()
"""Chunk kinds embedded as questions (E5's "query: "); every other chunk is a document.

Checked on CLINC150 val, where the knowledge is FAQ phrasings: see bench/RESULTS.md."""


@dataclass
class IngestReport:
    """What one ingestion run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0


def document_key(path: Path) -> str:
    """The name a file is stored under: relative to the working folder when inside it."""
    relative = os.path.relpath(path.resolve())
    return relative if not relative.startswith("..") else str(path.resolve())


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the supported files below them, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            found.append(path)
    return found


class Ingestor:
    """Keeps the vector index and the catalog in step with the knowledge files."""

    def __init__(self, catalog: KnowledgeCatalog, index: VectorIndex, embedder: Embedder) -> None:
        self._catalog = catalog
        self._index = index
        self._embedder = embedder

    async def open(self) -> IngestReport | None:
        """Open the index for this model; re-embed every known file if another model built it.

        Vectors of two models must never be compared, so when EMBEDDING_MODEL changed the
        collection starts empty and every file in the catalog is ingested again (the report of
        that run is returned; None when nothing had to be done).
        """
        return await self._open(())

    async def ingest(
        self, paths: Sequence[Path], progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Ingest files and folders; a file that fails is reported and the rest go on."""
        await self._open(paths)
        return await self._ingest(paths, progress)

    async def _open(self, paths: Sequence[Path]) -> IngestReport | None:
        """open(), leaving the files of paths to the ingestion that follows."""
        model, dim = self._embedder.name, self._embedder.dimension
        try:
            await self._index.ensure_collection(dim, model)
        except EmbeddingModelChanged as change:
            given = {document_key(p) for p in find_files(paths)}
            rows = [r for r in await self._catalog.list_documents() if r.path not in given]
            found = [r for r in rows if await asyncio.to_thread(Path(r.path).exists)]
            if rows and not found:  # most likely started from another folder: keep everything
                raise EmbeddingModelChanged(
                    change.collection,
                    change.found,
                    change.expected,
                    f"and none of its files can be read from here to embed them again "
                    f"(such as {rows[0].path}); start the bot in the folder they were ingested "
                    f"from, or set EMBEDDING_MODEL={change.found}",
                ) from None
            log.warning("knowledge_reembedding", built_with=change.found, model=model)
            await self._index.reset_collection(dim, model)
            for row in rows:
                if row not in found:
                    reason = f"file not found when embedding again for {model}"
                    log.warning("document_skipped", path=row.path, reason=reason)
                    await self._catalog.save_document(
                        row.path, row.content_hash, 0, "failed", reason
                    )
            # The empty index makes every file stale.
            return await self._ingest([Path(r.path) for r in found], None)
        return None

    async def _ingest(
        self, paths: Sequence[Path], progress: Callable[[int], None] | None
    ) -> IngestReport:
        """Ingest into an open index."""
        report = IngestReport()
        changed: list[Document] = []
        for path in find_files(paths):
            key = document_key(path)
            try:
                document = await asyncio.to_thread(load_document, Path(key))
            except DocumentError as error:
                report.failed.append((key, error.reason))
                log.warning("document_skipped", path=key, reason=error.reason)
                continue
            known = await self._catalog.get_document(key)
            if known is not None and await self._is_indexed(document, known):
                report.unchanged.append(key)
                continue
            changed.append(document)
            (report.updated if known is not None else report.added).append(key)
        await self._replace(changed, progress)
        report.chunks = sum(len(d.chunks) for d in changed)
        return report

    async def _is_indexed(self, document: Document, known: KnowledgeDocumentRow) -> bool:
        """The catalog lists this very content as ready and the index holds all its chunks.

        The catalog (PostgreSQL) and the index (Qdrant) are stored apart: a fresh or deleted
        vector folder, or a process with a folder of its own, has a full catalog and no chunks.
        """
        if known.content_hash != document.content_hash or known.state != "ready":
            return False
        return await self._index.count(document.path) == len(document.chunks)

    async def _replace(
        self, documents: Sequence[Document], progress: Callable[[int], None] | None
    ) -> None:
        """Swap documents' points for new ones, embedding across documents in large batches.

        Each document is marked ready only once all its points are in; an interrupted run
        leaves it 'ingesting', and the next run does it again.
        """
        for document in documents:
            await self._catalog.save_document(
                document.path, document.content_hash, len(document.chunks), "ingesting", None
            )
            await self._index.delete_document(document.path)
        chunks = [chunk for document in documents for chunk in document.chunks]
        for start in range(0, len(chunks), EMBED_BATCH):
            batch = chunks[start : start + EMBED_BATCH]
            vectors = await embed_chunks(self._embedder, batch)
            await self._index.upsert(
                [
                    IndexedChunk(chunk=c, dense=v, sparse=document_vector(c.text))
                    for c, v in zip(batch, vectors, strict=True)
                ]
            )
            if progress is not None:
                progress(len(batch))
        for document in documents:
            await self._catalog.save_document(
                document.path, document.content_hash, len(document.chunks), "ready", None
            )

    async def remove(self, path: str) -> bool:
        """Forget a document and its points; True when it was known."""
        exists = await asyncio.to_thread(Path(path).exists)
        key = document_key(Path(path)) if exists else path
        await self._index.delete_document(key)
        return await self._catalog.delete_document(key)


def question_kinds(embedder: Embedder) -> frozenset[ChunkKind]:
    """Chunk kinds this embedder embeds as questions.

    With both models, E5 reads a question in Chinese, Malay or Tamil closer to the English FAQ
    phrasings when those are embedded as questions too ("query: " on both sides), and MiniLM
    embeds both sides alike (bench/QUALITY.md).
    """
    if isinstance(embedder, WeightedEmbedder):
        return frozenset({ChunkKind.FAQ_QUESTION})
    return QUESTION_KINDS


async def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk]) -> Vectors:
    """Embed chunks in order: question_kinds as questions, the rest as documents."""
    kinds = question_kinds(embedder)
    questions = [n for n, c in enumerate(chunks) if c.kind in kinds]
    documents = [n for n, c in enumerate(chunks) if c.kind not in kinds]
    vectors: Vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
    if questions:
        vectors[questions] = await embedder.embed_queries([chunks[n].text for n in questions])
    if documents:
        vectors[documents] = await embedder.embed_documents([chunks[n].text for n in documents])
    return vectors
