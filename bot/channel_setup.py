"""Build the configured channels: their senders, webhook routes, pollers, and a start report."""

from __future__ import annotations

import os
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web
from redis.asyncio import Redis
from telegram import Bot
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.config import Settings
from bot.ingress import Ingress
from bot.metrics import Metrics
from bot.telegram_polling import OffsetStore, TelegramPoller
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
from channels.telegram import ALLOWED_UPDATES, TelegramSender, webhook_secret
from channels.whatsapp import WhatsAppSender
from core.messages import ChannelName

# PTB reports retry_after as a timedelta with this on, and warns about plain seconds without it.
os.environ.setdefault("PTB_TIMEDELTA", "1")


@dataclass
class Channels:
    """What the configured channels contribute to a process."""

    senders: dict[ChannelName, ChannelSender] = field(default_factory=dict)
    routes: list[web.RouteDef] = field(default_factory=list)
    pollers: list[TelegramPoller] = field(default_factory=list)
    report: list[str] = field(default_factory=list)


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
    if not channels.senders:
        channels.report.append(
            "No channel configured: set TELEGRAM_BOT_TOKEN and/or the TWILIO_* settings "
            "(see .env.example). `bot chat` works without any."
        )
    return channels


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
    await bot.initialize()  # getMe: checks the token and tells us the bot's username
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
        await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
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
    )
    if listen:
        channels.routes += twilio_routes(TwilioWebhook(token, base), ingress, metrics)
        channels.report.append(
            f"WhatsApp {settings.twilio_whatsapp_from}: set the Twilio sender's webhook to "
            f"{base}{TWILIO_PATH} (status callbacks go to {base}{TWILIO_STATUS_PATH}; "
            f"optionally point the Twilio debugger webhook at {base}{TWILIO_DEBUGGER_PATH})"
        )


async def _close_twilio(http_client: AsyncTwilioHttpClient) -> None:
    """Close the aiohttp session the Twilio client opened lazily, if it did."""
    await http_client.close()
