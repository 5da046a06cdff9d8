"""Build the configured channels: their senders, webhook routes, pollers, and a start report."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
from aiohttp import web
from redis.asyncio import Redis
from telegram import Bot
from telegram.error import TelegramError
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.config import Settings
from bot.email_ingress import EmailIngress
from bot.email_notices import EmailNotices
from bot.email_polling import EmailPoller, ImapAccount, WatermarkStore
from bot.handoffs import (
    HandoffDispatcher,
    HandoffMails,
    HandoffStore,
    MailIdentity,
    StaffMailSender,
)
from bot.ingress import Ingress
from bot.mail_sender import smtp_mailer, token_source
from bot.metrics import Metrics
from bot.startup_errors import telegram_start_error
from bot.telegram_polling import OffsetStore, TelegramPoller
from bot.webchat import TRY_PATH, WebChatConfig, webchat_routes
from bot.webchat_live import LiveHub
from bot.webchat_store import WebChatStore
from bot.webhooks import (
    TELEGRAM_PATH,
    TWILIO_DEBUGGER_PATH,
    TWILIO_PATH,
    TWILIO_STATUS_PATH,
    TelegramWebhook,
    TwilioWebhook,
    telegram_routes,
    twilio_routes,
)
from channels.base import ChannelSender
from channels.email import EmailSender
from channels.telegram import ALLOWED_UPDATES, TelegramSender, webhook_secret
from channels.webchat import VisitorTokens, WebChatSender
from channels.whatsapp import WhatsAppSender
from core.messages import ChannelName

# PTB reports retry_after as a timedelta with this on, and warns about plain seconds without it.
os.environ.setdefault("PTB_TIMEDELTA", "1")


class Poller(Protocol):
    """A loop that fetches inbound messages (Telegram long polling, IMAP)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch until `stop` is set."""
        ...


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


async def open_channels(
    settings: Settings,
    stack: AsyncExitStack,
    ingress: Ingress,
    metrics: Metrics,
    pool: asyncpg.Pool,
    redis: Redis,
    listen: bool,
) -> Channels:
    """Senders for every configured channel; with `listen`, also how messages come in."""
    channels = Channels()
    if settings.telegram_enabled:
        await _open_telegram(settings, stack, ingress, metrics, pool, redis, listen, channels)
    if settings.whatsapp_enabled:
        _open_whatsapp(settings, stack, ingress, metrics, listen, channels)
    if settings.webchat_enabled:
        await _open_webchat(settings, stack, ingress, pool, redis, listen, channels)
    if settings.smtp_enabled:
        _open_email(settings, ingress, pool, redis, listen, channels)
    if listen and (unsent := handoff_mail_notice(settings)):
        channels.report.append(unsent)
    if set(channels.senders) <= {ChannelName.WEBCHAT}:
        channels.report.append(
            "No messaging channel configured: set TELEGRAM_BOT_TOKEN and/or the TWILIO_* "
            "settings (see .env.example). Web chat and `bot chat` work without any."
        )
    return channels


def handoff_mail_notice(settings: Settings) -> str | None:
    """The start line saying handoffs stay unsent, when no staff address is set."""
    if settings.staff_email:
        return None
    return (
        "Handoffs are recorded but not emailed: set STAFF_EMAIL, EMAIL_ADDRESS, SMTP_* and "
        "IMAP_* (see .env.example)"
    )


async def _open_telegram(
    settings: Settings,
    stack: AsyncExitStack,
    ingress: Ingress,
    metrics: Metrics,
    pool: asyncpg.Pool,
    redis: Redis,
    listen: bool,
    channels: Channels,
) -> None:
    """Telegram: webhook when there is a public URL, long polling otherwise."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    bot = Bot(token, base_url=settings.telegram_api_url)
    try:
        await bot.initialize()  # getMe: checks the token and tells us the bot's username
    except TelegramError as error:
        raise telegram_start_error(error, settings) from error
    stack.push_async_callback(bot.shutdown)
    channels.senders[ChannelName.TELEGRAM] = TelegramSender(
        bot, global_rate=settings.telegram_rate_per_second
    )
    if not listen:
        return
    if settings.telegram_uses_webhook:
        assert settings.public_base_url is not None
        url = settings.public_base_url.rstrip("/") + TELEGRAM_PATH
        secret = webhook_secret(token)
        try:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as error:
            raise telegram_start_error(error, settings, webhook=url) from error
        config = TelegramWebhook(secret=secret, bot_username=bot.username, bot_id=bot.id)
        channels.routes += telegram_routes(config, ingress, metrics)
        channels.report.append(f"Telegram @{bot.username}: webhook at {url}")
    else:
        channels.pollers.append(TelegramPoller(bot, ingress, OffsetStore(pool), redis))
        channels.report.append(
            f"Telegram @{bot.username}: long polling (no PUBLIC_BASE_URL; set one for webhooks)"
        )


def _open_whatsapp(
    settings: Settings,
    stack: AsyncExitStack,
    ingress: Ingress,
    metrics: Metrics,
    listen: bool,
    channels: Channels,
) -> None:
    """WhatsApp through Twilio: webhooks in, the async REST client out."""
    assert settings.twilio_account_sid and settings.twilio_auth_token
    assert settings.twilio_whatsapp_from and settings.public_base_url
    token = settings.twilio_auth_token.get_secret_value()
    http_client = AsyncTwilioHttpClient()
    stack.push_async_callback(_close_twilio, http_client)
    client = Client(settings.twilio_account_sid, token, http_client=http_client)
    if settings.twilio_api_url:
        client.api.base_url = settings.twilio_api_url
    base = settings.public_base_url.rstrip("/")
    channels.senders[ChannelName.WHATSAPP] = WhatsAppSender(
        client,
        settings.twilio_whatsapp_from,
        status_callback_url=base + TWILIO_STATUS_PATH,
        rate_per_second=settings.twilio_rate_per_second,
        template_sid=settings.twilio_reopen_template_sid,
    )
    if listen:
        channels.routes += twilio_routes(TwilioWebhook(token, base), ingress, metrics)
        channels.report.append(
            f"WhatsApp {settings.twilio_whatsapp_from}: set the Twilio sender's webhook to "
            f"{base}{TWILIO_PATH} (status callbacks go to {base}{TWILIO_STATUS_PATH}; "
            f"optionally point the Twilio debugger webhook at {base}{TWILIO_DEBUGGER_PATH})"
        )


def _open_email(
    settings: Settings,
    ingress: Ingress,
    pool: asyncpg.Pool,
    redis: Redis,
    listen: bool,
    channels: Channels,
) -> None:
    """Email in (IMAP) and out (SMTP); handoffs to staff and their replies."""
    s = settings
    assert s.email_address is not None
    oauth2 = token_source(s)
    mailer = smtp_mailer(s, oauth2)
    assert mailer is not None  # email is opened only with SMTP configured
    name = s.email_name or s.business_name
    identity = MailIdentity(s.email_address, name)
    email_sender = EmailSender(mailer, s.email_address, name)
    channels.senders[ChannelName.EMAIL] = email_sender
    if s.staff_email:
        mails = HandoffMails(identity, s.staff_email, s.zone)
        channels.senders[ChannelName.STAFF] = StaffMailSender(mailer, mails)
        channels.handoffs = HandoffDispatcher(HandoffStore(pool), mails, mailer)
    if not (listen and s.email_enabled):
        return
    assert s.imap_host is not None
    account = ImapAccount(
        host=s.imap_host,
        port=s.imap_port,
        username=s.imap_username or s.email_address,
        password=s.imap_password.get_secret_value() if s.imap_password else None,
        use_tls=s.imap_tls,
        folder=s.imap_folder,
        oauth2=oauth2,
    )
    handler = EmailIngress(
        ingress,
        redis,
        own_addresses=[s.email_address],
        staff_addresses=s.staff_senders,
        max_per_sender_per_hour=s.email_max_per_sender_per_hour,
        notices=EmailNotices(email_sender, redis),
        max_bytes=s.max_email_bytes,
        max_attachments=s.max_email_attachments,
    )
    channels.pollers.append(
        EmailPoller(
            account,
            handler.handle,
            WatermarkStore(pool, account),
            redis,
            poll_seconds=s.email_poll_seconds,
            max_bytes=s.max_email_bytes,
            too_large=handler.too_large,
        )
    )
    staff = f"; handoffs go to {s.staff_email}" if s.staff_email else ""
    channels.report.append(
        f"Email {s.email_address}: reading {s.imap_folder} on {s.imap_host}{staff}"
    )


async def _open_webchat(
    settings: Settings,
    stack: AsyncExitStack,
    ingress: Ingress,
    pool: asyncpg.Pool,
    redis: Redis,
    listen: bool,
    channels: Channels,
) -> None:
    """Web chat: replies are stored for the browser; listening processes hold its sockets."""
    channels.senders[ChannelName.WEBCHAT] = WebChatSender(redis)
    if not listen:
        return
    store = WebChatStore(pool)
    secret = settings.webchat_secret
    tokens = VisitorTokens(secret.get_secret_value() if secret else await store.secret())
    hub = LiveHub(redis)
    hub.start()
    stack.push_async_callback(hub.close)
    channels.on_shutdown.append(hub.close_sockets)
    config = WebChatConfig(
        tokens=tokens,
        allowed_origins=settings.webchat_origins,
        business_name=settings.business_name,
        public_base_url=settings.public_base_url,
        privacy_url=settings.privacy_url,
        consent_text=settings.consent_text,
    )
    channels.routes += webchat_routes(config, ingress, redis, store, hub)
    base = settings.public_base_url or f"http://localhost:{settings.port}"
    others = ", ".join(sorted(settings.webchat_origins)) or "none yet (WEBCHAT_ALLOWED_ORIGINS)"
    channels.report.append(
        f"Web chat: try it at {base.rstrip('/')}{TRY_PATH}; other sites allowed to embed it: "
        f"{others}"
    )


async def _close_twilio(http_client: AsyncTwilioHttpClient) -> None:
    """Close the aiohttp session the Twilio client opened lazily, if it did."""
    await http_client.close()
