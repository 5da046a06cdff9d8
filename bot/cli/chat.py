"""`bot chat`: a conversation in the terminal, on the same core every channel uses."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

import structlog
import typer

from bot.channel_setup import handoff_mail_notice
from bot.config import Settings
from bot.services import Services
from core.language import Language
from core.messages import ChannelName, InboundMessage, Reply

T = TypeVar("T")
log = structlog.get_logger(__name__)


async def converse(services: Services, who: str, stop: asyncio.Event) -> None:
    """Answer each line typed (or piped in) until the end of input or `stop`."""
    settings = services.settings
    for note in chat_notes(settings):
        typer.echo(note, err=True)
    interactive = sys.stdin.isatty()
    if interactive:
        typer.echo(f"{settings.business_name} support bot. Type your question; Ctrl-D quits.")
    terminal = _Terminal("you> " if interactive else "")
    while not stop.is_set():
        typed = await _unless_stopped(terminal.read(), stop, 0)
        line = typed.result() if typed is not None else None
        if line is None:  # the end of input, or a stop
            break
        if not line.strip():
            continue
        handling = services.core.handle(_terminal_message(who, line))
        # A question in hand gets the grace period; unanswered, it is simply asked again.
        answered = await _unless_stopped(handling, stop, settings.stop_grace_seconds)
        if answered is not None:
            typer.echo(_render(answered.result()))


async def _unless_stopped(
    work: Awaitable[T], stop: asyncio.Event, grace: float
) -> asyncio.Future[T] | None:
    """The finished work; None when `stop` came first and the work outlasted `grace` seconds."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if stop.is_set():
        log.info("stopping", question_in_hand=grace > 0 and not task.done(), grace_seconds=grace)
        await asyncio.wait({task}, timeout=grace)
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None
    return None if stop.is_set() and grace == 0 else task


def chat_notes(settings: Settings) -> list[str]:
    """What customers would get that this chat leaves out: the privacy notice, handoff mail."""
    privacy = settings.privacy_notice
    # The core skips the notice here (the owner trying the bot is not a customer to ask).
    asked = ", and must reply YES before the bot answers" if privacy.required else ""
    notes = [
        f"Customers see this privacy notice on first contact{asked} (this chat skips it): "
        f"{privacy.notice(Language.EN)}"
    ]
    unsent = handoff_mail_notice(settings)
    return [*notes, unsent] if unsent else notes


def _render(reply: Reply | None) -> str:
    """How a reply looks in the terminal."""
    if reply is None:
        return "bot> (no reply: a person is handling this conversation)"
    lines = [f"bot> {reply.text}"]
    lines += [f"     [{n}] {c.label}" for n, c in enumerate(reply.choices, start=1)]
    if reply.escalate:
        lines.append(f"     (escalated to staff: {reply.reason})")
    return "\n".join(lines)


class _Terminal:
    """Reads stdin lines through the event loop: no thread is left blocked when Ctrl-C comes."""

    def __init__(self, prompt: str) -> None:
        self._prompt = prompt
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._pending = b""
        self._loop = asyncio.get_running_loop()
        try:
            self._loop.add_reader(sys.stdin.fileno(), self._on_readable)
        except PermissionError:
            # A regular file (`bot chat < questions.txt`) never blocks: read it at once.
            for line in sys.stdin.read().splitlines():
                self._lines.put_nowait(line)
            self._lines.put_nowait(None)

    async def read(self) -> str | None:
        """The next line, or None at end of input."""
        if self._prompt:
            sys.stdout.write(self._prompt)
            sys.stdout.flush()
        return await self._lines.get()

    def _on_readable(self) -> None:
        """Split what arrived into lines; None marks the end of input."""
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            self._loop.remove_reader(sys.stdin.fileno())
            if self._pending:
                self._lines.put_nowait(self._pending.decode("utf-8", errors="replace"))
            self._lines.put_nowait(None)
            return
        *complete, self._pending = (self._pending + data).split(b"\n")
        for raw in complete:
            self._lines.put_nowait(raw.decode("utf-8", errors="replace").rstrip("\r"))


def _terminal_message(who: str, text: str) -> InboundMessage:
    """Wrap a typed line as an inbound message on the terminal channel."""
    return InboundMessage(
        channel=ChannelName.CLI,
        external_user_id=who,
        provider_message_id=str(uuid.uuid4()),
        text=text,
        received_at=datetime.now(UTC),
        display_name=who,
    )
