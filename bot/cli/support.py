"""What every `bot` command shares: settings or a one-line error, and running a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
import typer

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from channels.plug import StartupError
from core.index_points import IndexInUseError

T = TypeVar("T")
log = structlog.get_logger(__name__)

# What to do when the embedded vector index is open in another process (it allows only one).
SHARE_INDEX = "or set QDRANT_URL to a Qdrant server, which several processes can share"
STOP_OTHER_BOT = f"Stop the other bot process first, {SHARE_INDEX}."
STOP_BOT_FOR_KB = f"Stop the bot (bot serve, bot chat, bot worker) first, {SHARE_INDEX}."
MORE_WORKERS = f"For more workers on this machine use `bot serve --workers N`, {SHARE_INDEX}."


def settings_or_exit() -> Settings:
    """Load settings or stop with one line per bad setting."""
    try:
        settings = load_settings()
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def run_command(main: Callable[[], Awaitable[T]], in_use: str = STOP_OTHER_BOT) -> T:
    """Run a coroutine; Ctrl-C stops cleanly (services close in their finally blocks).

    An embedded vector index held by another process stops with one line and advice (in_use),
    and so does a provider failing at start (StartupError).
    """
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except KeyboardInterrupt:
        typer.echo("\nStopped.", err=True)
        raise typer.Exit(130) from None
    except IndexInUseError as error:
        typer.echo(f"{error}. {in_use}", err=True)
        raise typer.Exit(1) from None
    except StartupError as error:
        log.debug("start_failed", exc_info=error)  # the provider's own traceback, when asked for
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
