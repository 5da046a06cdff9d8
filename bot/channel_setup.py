"""Open the registered channels this process's settings configure, and the staff handoffs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from bot.config import Settings
from bot.handoffs import (
    HandoffDispatcher,
    HandoffMails,
    HandoffStore,
    MailIdentity,
    StaffMailSender,
)
from channels.base import ChannelSender
from channels.email.mailbox import smtp_mailer
from channels.plug import AudioSource, Intake, PlugContext, Poller
from channels.registry import plugs
from core.messages import ChannelName


@dataclass
class Channels:
    """What the configured channels contribute to a process."""

    senders: dict[ChannelName, ChannelSender] = field(default_factory=dict)
    routes: list[web.RouteDef] = field(default_factory=list)
    pollers: list[Poller] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    handoffs: HandoffDispatcher | None = None
    on_shutdown: list[Callable[[web.Application], Awaitable[None]]] = field(default_factory=list)
    """Run when the web server stops, before it waits for open requests (web chat sockets)."""
    audio: dict[ChannelName, AudioSource] = field(default_factory=dict)
    """Where each channel's voice notes are fetched from."""


async def open_channels(
    settings: Settings,
    stack: AsyncExitStack,
    intake: Intake,
    pool: asyncpg.Pool,
    redis: Redis,
    listen: bool,
) -> Channels:
    """Senders for every configured channel; with `listen`, also how messages come in."""
    channels = Channels()
    context = PlugContext(settings, stack, intake, pool, redis, listen)
    messaging = False
    for plug in plugs():
        if not plug.enabled(settings):
            continue
        opened = await plug.open(context)
        messaging = messaging or plug.messaging
        if opened.sender is not None:
            channels.senders[plug.name] = opened.sender
        if opened.audio is not None:
            channels.audio[plug.name] = opened.audio
        channels.routes += opened.routes
        channels.pollers += opened.pollers
        channels.report += opened.report
        channels.on_shutdown += opened.on_shutdown
    _open_handoffs(settings, pool, channels)
    if listen and (unsent := handoff_mail_notice(settings)):
        channels.report.append(unsent)
    if not messaging:
        channels.report.append(
            f"No messaging channel configured: set {messaging_setup()} (see .env.example). "
            "Web chat and `bot chat` work without any."
        )
    return channels


def messaging_setup() -> str:
    """What turns on each messaging channel, as one phrase: "A, B or C"."""
    setups = [plug.setup for plug in plugs() if plug.messaging]
    return " or ".join([", ".join(setups[:-1]), setups[-1]] if len(setups) > 1 else setups)


def _open_handoffs(settings: Settings, pool: asyncpg.Pool, channels: Channels) -> None:
    """Handoffs by mail to STAFF_EMAIL, and the sender of staff replies' confirmations."""
    s = settings
    mailer = smtp_mailer(s)
    if not s.staff_email or mailer is None or s.email_address is None:
        return
    identity = MailIdentity(s.email_address, s.email_name or s.business_name)
    mails = HandoffMails(identity, s.staff_email, s.zone)
    channels.senders[ChannelName.STAFF] = StaffMailSender(mailer, mails)
    channels.handoffs = HandoffDispatcher(HandoffStore(pool), mails, mailer)


def handoff_mail_notice(settings: Settings) -> str | None:
    """The start line saying handoffs stay unsent, when no staff address is set."""
    if settings.staff_email:
        return None
    return (
        "Handoffs are recorded but not emailed: set STAFF_EMAIL, EMAIL_ADDRESS, SMTP_* and "
        "IMAP_* (see .env.example)"
    )
