"""The one small interface every channel implements (its "plug"), and what bot/ hands it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from channels.base import ChannelSender, Parsed
from channels.settings import ChannelSettings
from core.messages import Attachment, ChannelName


class Intake(Protocol):
    """Where a channel hands what it received; the bot's ingress queues it."""

    async def accept(self, channel: ChannelName, parsed: Parsed) -> str:
        """Queue a message, apply a delivery report, or record why an event is ignored."""
        ...

    def reject(self, channel: ChannelName, reason: str) -> None:
        """Count and log a call refused before parsing (bad signature, bad payload)."""
        ...

    def acked(self, channel: ChannelName, seconds: float) -> None:
        """Record how long a webhook took to answer the provider."""
        ...


class Poller(Protocol):
    """A loop that fetches inbound messages (Telegram long polling, IMAP)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch until `stop` is set."""
        ...


class VoiceNoteRefused(Exception):
    """A voice note over a limit, or without a place to fetch it from: never transcribed."""


class AudioFetchFailed(Exception):
    """The provider failed to hand over a voice note's audio (its own error is the cause)."""


class AudioSource(Protocol):
    """Where one channel keeps its customers' voice notes."""

    async def fetch(self, note: Attachment, max_bytes: int) -> bytes:
        """The note's audio; VoiceNoteRefused when it is larger than max_bytes.

        A provider's own failure is raised as AudioFetchFailed (or an aiohttp/OS error).
        """
        ...


class StartupError(Exception):
    """A provider refused the bot or could not be reached at start; str() is the one line."""

    def __init__(self, what: str, why: str, fix: str) -> None:
        super().__init__(f"{what}: {why}. Fix: {fix}.")
        self.what = what
        self.why = why
        self.fix = fix


@dataclass(frozen=True, slots=True)
class Check:
    """One thing `bot doctor` checked: whether it works, what was found, the fix if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    """Works, but something should change (the check still counts as passed)."""


@dataclass(frozen=True, slots=True)
class PlugContext:
    """What bot/ hands a channel when it opens it."""

    settings: ChannelSettings
    """The bot's settings; a channel reads its own block (isinstance of its settings class)."""
    stack: AsyncExitStack
    """Closes what the channel opened, when the process stops."""
    intake: Intake
    pool: asyncpg.Pool
    redis: Redis
    listen: bool
    """Whether this process takes messages in (routes, pollers) or only sends."""


@dataclass
class OpenChannel:
    """What an opened channel contributes to a process."""

    sender: ChannelSender | None = None
    routes: list[web.RouteDef] = field(default_factory=list)
    pollers: list[Poller] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    """Lines for the start report: where the channel listens and what to set up."""
    on_shutdown: list[Callable[[web.Application], Awaitable[None]]] = field(default_factory=list)
    """Run when the web server stops, before it waits for open requests (sockets)."""
    audio: AudioSource | None = None
    """Where its voice notes are fetched from, when it has any."""


class ChannelPlug(Protocol):
    """One channel: its name, settings block, how it opens, and what the rest asks of it."""

    name: ChannelName
    settings: type[ChannelSettings]
    """Its settings block; the bot's settings class includes it."""
    messaging: bool
    """Whether it is a messaging app (web chat alone does not count as a configured channel)."""
    asks_ratings: bool
    """Whether customers on it are asked to rate a conversation."""
    setup: str
    """What turns it on, for people ("TELEGRAM_BOT_TOKEN", "the TWILIO_* settings")."""

    def enabled(self, settings: ChannelSettings) -> bool:
        """Whether the settings configure this channel."""
        ...

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Its settings that are incomplete or contradict each other, one line each."""
        ...

    async def open(self, context: PlugContext) -> OpenChannel:
        """Its sender; when listening, also its routes and pollers. Raises StartupError."""
        ...

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """What `bot doctor` checks for it, by name."""
        ...

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """The business's own contacts on it (kept readable where personal data is masked)."""
        ...

    def contact_ids(self, value: str) -> list[str]:
        """The ids it may have stored for a contact an owner typed (phone, address, id)."""
        ...

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Whether the bot may write to a customer who has not just written (rating asks)."""
        ...

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """Who sent a raw payload kept aside unread, when it is one of this channel's."""
        ...


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
