"""Ingestion: load files, skip unchanged ones, embed and index the rest, remember what was done."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from core.embedding import Embedder
from core.knowledge import Document
from core.sparse import document_vector
from core.store import KnowledgeCatalog
from core.vector_index import IndexedChunk, VectorIndex
from knowledge_base.loaders import SUPPORTED_SUFFIXES, DocumentError, load_document

log = structlog.get_logger(__name__)
EMBED_BATCH = 256


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

    async def ingest(
        self, paths: Sequence[Path], progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Ingest files and folders; a file that fails is reported and the rest go on."""
        report = IngestReport()
        await self._index.ensure_collection(self._embedder.dimension)
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
            unchanged = known is not None and known.content_hash == document.content_hash
            if unchanged and known is not None and known.state == "ready":
                report.unchanged.append(key)
                continue
            changed.append(document)
            (report.updated if known is not None else report.added).append(key)
        await self._replace(changed, progress)
        report.chunks = sum(len(d.chunks) for d in changed)
        return report

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
            vectors = await self._embedder.embed([c.text for c in batch])
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
