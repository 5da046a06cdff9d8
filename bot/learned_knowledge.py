"""Approved suggestions published: the learned-FAQ file written, indexed and calibrated at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

import structlog

from core.suggestion_store import Suggestion
from knowledge_base.faq import FaqEntry
from knowledge_base.ingest import IngestReport
from knowledge_base.learned_faq import write_learned_faq

log = structlog.get_logger(__name__)


class ApprovedSuggestions(Protocol):
    """Where approved suggestions are read (core.suggestion_store.PostgresSuggestions)."""

    async def approved(self) -> list[Suggestion]:
        """Approved suggestions in a stable order."""
        ...


class Ingesting(Protocol):
    """Indexes knowledge files (knowledge_base.ingest.Ingestor)."""

    async def ingest(self, paths: Sequence[Path]) -> IngestReport:
        """Add or refresh the files; unchanged ones are skipped."""
        ...


class LearnedKnowledge:
    """Writes every approved suggestion to the learned FAQ and indexes it in this process."""

    def __init__(
        self,
        store: ApprovedSuggestions,
        path: Path,
        ingestor: Ingesting,
        calibrate: Callable[[], Awaitable[object]],
    ) -> None:
        self._store = store
        self.path = path
        self._ingestor = ingestor
        self._calibrate = calibrate
        self._lock = asyncio.Lock()  # two approvals at once must not interleave file and index

    async def publish(self) -> int:
        """Write the file from all approved suggestions, ingest it, recalibrate; the entry count.

        Nothing approved yet: nothing is written. Raises when the file cannot be indexed.
        """
        async with self._lock:
            approved = await self._store.approved()
            if not approved:
                return 0
            entries = [
                FaqEntry(s.question, s.answer, s.alternatives, s.entry_id or f"learned-{s.id}")
                for s in approved
            ]
            await asyncio.to_thread(write_learned_faq, self.path, entries)
            report = await self._ingestor.ingest([self.path])
            if report.failed:
                raise RuntimeError(f"learned FAQ not indexed: {report.failed[0][1]}")
            if report.added or report.updated:
                await self._calibrate()
            log.info("learned_faq_published", entries=len(entries), chunks=report.chunks)
            return len(entries)
