"""Knowledge ingestion on the command line: the first run's sample, and progress and reports."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from tqdm import tqdm

from bot.services import Services
from knowledge_base.ingest import IngestReport

FIRST_RUN_LOCK = 7_318_204_551
"""PostgreSQL advisory lock key: one process loads the first run's knowledge at a time."""


async def ingest_sample_if_empty(services: Services) -> None:
    """On first run, load the configured knowledge folder so the bot has something to say.

    Processes that answer (serve with workers, worker, chat) may start together on one
    database; the advisory lock lets the first load it and the others find it loaded.
    """
    if not services.answers:
        if not await services.storage.store.list_documents():
            typer.echo(
                "Webhooks only: the knowledge base is loaded by the processes that answer.",
                err=True,
            )
        return
    async with services.storage.pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", FIRST_RUN_LOCK)
        try:
            if await services.storage.store.list_documents():
                return
            path = services.settings.knowledge_path
            typer.echo(f"First run: loading the knowledge base from {path} ...", err=True)
            print_report(await ingest_with_progress(services, [path]))
            await services.calibrate()
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", FIRST_RUN_LOCK)


async def ingest_with_progress(services: Services, paths: list[Path]) -> IngestReport:
    """Ingest with a progress bar counted in chunks."""
    with tqdm(desc="chunks", unit="chunk", file=sys.stderr, disable=None) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        return await services.ingestor.ingest(paths, progress=advance)


def print_report(report: IngestReport) -> None:
    """Summarise an ingestion run, naming every file that failed."""
    typer.echo(
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, failed {len(report.failed)}; "
        f"{report.chunks} chunks indexed",
        err=True,
    )
    for path, reason in report.failed:
        typer.echo(f"  skipped {path}: {reason}", err=True)
