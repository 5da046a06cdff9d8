"""The `bot` command: chat in the terminal, manage the knowledge base, migrate."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, TypeVar

import structlog
import typer

from bot import sample_business
from bot.cli.chat import converse
from bot.cli.doctor import render, run_checks
from bot.cli.ingesting import ingest_sample_if_empty, ingest_with_progress, print_report
from bot.cli.privacy import privacy_app
from bot.cli.suggestions import suggestions_app
from bot.cli.support import (
    MORE_WORKERS,
    STOP_BOT_FOR_KB,
    run_command,
    settings_or_exit,
)
from bot.config import Settings
from bot.knowledge_calibration import describe_thresholds
from bot.process_tuning import (
    freeze_start_up_objects,
    prefer_passive_openmp_threads,
)
from bot.report.cli import report
from bot.runtime import Runtime
from bot.services import Services
from bot.stopping import stop_on_signals
from core.embedding import load_embedder
from knowledge_base.ingest import IngestReport, find_files

app = typer.Typer(help="Customer-support bot for Singapore small businesses.", no_args_is_help=True)
kb_app = typer.Typer(help="Manage the knowledge base.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(privacy_app, name="privacy")
app.command("report")(report)
kb_app.add_typer(suggestions_app, name="suggestions")
T = TypeVar("T")
log = structlog.get_logger(__name__)


def _say_if_sample_business(settings: Settings) -> None:
    """One line, so nobody goes live greeting customers with the sample business's name."""
    if settings.uses_sample_business:
        typer.echo(sample_business.NOTICE, err=True)


@app.command()
def doctor() -> None:
    """Check the settings and reach every configured service and provider."""
    settings = settings_or_exit()
    checks = run_command(lambda: run_checks(settings))
    for check in checks:
        typer.echo(render(check))
    failed = [c for c in checks if not c.ok]
    typer.echo(f"{len(failed)} problem(s) found." if failed else "Everything configured works.")
    if failed:
        raise typer.Exit(1)


@app.command()
def prepare() -> None:
    """Export the embedding model once, so the first start is quick (make install runs it)."""
    settings = settings_or_exit()
    typer.echo(f"Preparing {settings.embedding_model} in {settings.models_dir} ...", err=True)
    load_embedder(settings.embedding_model, settings.embedding_int8, settings.models_dir).close()
    typer.echo("The embedding model is ready.", err=True)


@app.command()
def migrate() -> None:
    """Apply database migrations (also done at every start)."""
    settings = settings_or_exit()

    async def main() -> None:
        async with Services(settings, load_model=False):
            typer.echo("Database is up to date.")

    run_command(main)


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="Who you are in this conversation.")] = "",
) -> None:
    """Talk to the bot in the terminal, on the same core every channel uses."""
    settings = settings_or_exit()
    who = user or getpass.getuser()

    _say_if_sample_business(settings)

    async def main() -> None:
        stop = stop_on_signals()  # from the start: a stop while loading still ends cleanly
        async with Services(settings) as services:
            await ingest_sample_if_empty(services)
            await converse(services, who, stop)

    run_command(main)


@app.command()
def serve(
    workers: Annotated[
        int, typer.Option(min=0, help="Queue workers in this process (0: webhooks only).")
    ] = 1,
) -> None:
    """Run the web server (webhooks, /healthz, /readyz, /metrics) with queue workers."""
    settings = settings_or_exit()
    _say_if_sample_business(settings)
    prefer_passive_openmp_threads()  # before the model loads

    async def main() -> None:
        stop = stop_on_signals()  # from the start: a stop while loading still ends cleanly
        # Webhooks only: no model and no vector index in memory; the workers answer.
        async with Services(settings, load_model=workers > 0) as services:
            await ingest_sample_if_empty(services)
            async with Runtime(services, listen=True, workers=workers) as runtime:
                for line in runtime.channels.report:
                    typer.echo(line, err=True)
                typer.echo(
                    f"Listening on http://{settings.host}:{runtime.port} "
                    f"(health /healthz, readiness /readyz, metrics /metrics); "
                    f"{workers} worker(s) in this process. Ctrl-C stops.",
                    err=True,
                )
                freeze_start_up_objects()
                await runtime.run(stop)

    run_command(main)


@app.command()
def worker(
    count: Annotated[int, typer.Option(min=1, help="Queue workers in this process.")] = 1,
    port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Serve /healthz, /readyz and /metrics on this port (0: any)."
        ),
    ] = None,
) -> None:
    """Run extra queue workers against the same Redis and PostgreSQL (scale-out)."""
    settings = settings_or_exit()
    prefer_passive_openmp_threads()  # before the model loads
    health = port is not None
    own = settings.model_copy(update={"port": port}) if health else settings

    async def main() -> None:
        stop = stop_on_signals()  # from the start: a stop while loading still ends cleanly
        async with Services(settings) as services:
            await ingest_sample_if_empty(services)
            async with Runtime(
                services, listen=False, workers=count, settings=own, health=health
            ) as runtime:
                if health:
                    typer.echo(
                        f"Health and metrics on http://{own.host}:{runtime.port} "
                        "(/healthz, /readyz, /metrics).",
                        err=True,
                    )
                typer.echo(f"{count} worker(s) reading the inbound queue. Ctrl-C stops.", err=True)
                freeze_start_up_objects()
                await runtime.run(stop)

    run_command(main, in_use=MORE_WORKERS)


@kb_app.command("ingest")
def kb_ingest(paths: Annotated[list[Path], typer.Argument(help="Files or folders.")]) -> None:
    """Add or refresh knowledge files; unchanged files are skipped."""
    settings = settings_or_exit()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        typer.echo(f"No such file or folder: {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    if not find_files(paths):
        typer.echo("No supported files found (.md .txt .html .pdf .docx .csv .yaml).", err=True)
        raise typer.Exit(2)

    async def main() -> IngestReport:
        async with Services(settings) as services:
            report = await ingest_with_progress(services, paths)
            if report.added or report.updated:
                typer.echo("Calibrating the answer thresholds ...", err=True)
                await services.calibrate()
            return report

    report = run_command(main, in_use=STOP_BOT_FOR_KB)
    print_report(report)
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


@kb_app.command("list")
def kb_list() -> None:
    """Show the indexed knowledge files."""
    settings = settings_or_exit()

    async def main() -> None:
        async with Services(settings, load_model=False) as services:
            rows = await services.storage.store.list_documents()
            if not rows:
                typer.echo("The knowledge base is empty. Add files with: bot kb ingest PATH")
            for row in rows:
                when = row.updated_at.strftime("%Y-%m-%d %H:%M")
                typer.echo(f"{row.path}\t{row.chunk_count} chunks\t{row.state}\t{when}")

    run_command(main)


@kb_app.command("remove")
def kb_remove(
    paths: Annotated[list[str], typer.Argument(help="Paths as shown by kb list.")],
) -> None:
    """Remove knowledge files from the index."""
    settings = settings_or_exit()

    async def main() -> int:
        unknown = 0
        async with Services(settings) as services:
            for path in paths:
                if await services.ingestor.remove(path):
                    typer.echo(f"removed {path}")
                else:
                    typer.echo(f"not in the knowledge base: {path}", err=True)
                    unknown += 1
            if unknown < len(paths) and await services.storage.store.list_documents():
                await services.calibrate()
        return unknown

    if run_command(main, in_use=STOP_BOT_FOR_KB):
        raise typer.Exit(1)


@kb_app.command("calibrate")
def kb_calibrate() -> None:
    """Choose the answer thresholds for this knowledge base again and say why."""
    settings = settings_or_exit()

    async def main() -> None:
        async with Services(settings) as services:
            if not await services.storage.store.list_documents():
                typer.echo("The knowledge base is empty. Add files with: bot kb ingest PATH")
                raise typer.Exit(1)
            calibration = await services.calibrate(force=True)
            typer.echo(calibration.explain())
            typer.echo("")
            typer.echo(describe_thresholds(services.thresholds))
            if settings.answer_threshold is not None or settings.choice_threshold is not None:
                typer.echo(
                    "ANSWER_THRESHOLD or CHOICE_THRESHOLD is set: the settings are used, "
                    "not the calibration."
                )

    run_command(main, in_use=STOP_BOT_FOR_KB)


def main() -> None:
    """Entry point of the `bot` console script."""
    app()
