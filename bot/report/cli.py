"""`bot report`: the owner report's figures for the last days, as tables in the terminal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.cli.support import run_command, settings_or_exit
from bot.config import Settings
from bot.report.build import Report, build_report
from bot.report.chart import draw_chart
from bot.report.console import print_report
from bot.report.period import Period, since
from bot.services import Services
from core.embedding import load_embedder


def report(
    span: Annotated[
        str, typer.Option("--since", help="How far back: 7d, 24h, 2w (and the span before).")
    ] = "7d",
    png: Annotated[
        Path | None, typer.Option(help="Also write the chart (per day) to this PNG file.")
    ] = None,
) -> None:
    """Print conversations, resolution rate, handoffs, ratings and unanswered questions."""
    settings = settings_or_exit()
    try:
        period = since(span, datetime.now(UTC), settings.zone)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    result = run_command(lambda: _build(settings, period))
    print_report(result, Console())
    if png is not None:
        png.write_bytes(draw_chart(result.current.days))
        typer.echo(f"Chart written to {png}", err=True)


async def _build(settings: Settings, period: Period) -> Report:
    """Open storage (no vector index needed) and the embedder, and build the report."""
    async with Services(settings, load_model=False) as services:
        embedder = await asyncio.to_thread(
            load_embedder, settings.embedding_model, quantize=settings.embedding_int8
        )
        try:
            return await build_report(
                services.storage.pool, embedder, period, settings.business_name
            )
        finally:
            embedder.close()
