"""Telegram as a plug: webhook when there is a public URL, long polling otherwise."""

from __future__ import annotations

import os
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from channels.plug import Check, OpenChannel, PlugContext
from channels.settings import ChannelSettings
from channels.telegram import NAME
from channels.telegram.audio import TelegramAudio, telegram_file_url
from channels.telegram.compat import update_kind
from channels.telegram.doctor import check_telegram
from channels.telegram.errors import telegram_start_error
from channels.telegram.polling import OffsetStore, TelegramPoller
from channels.telegram.sending import TelegramSender
from channels.telegram.settings import TelegramSettings, telegram_problems
from channels.telegram.updates import ALLOWED_UPDATES, webhook_secret
from channels.telegram.webhook import TELEGRAM_PATH, TelegramWebhook, telegram_routes

# PTB reports retry_after as a timedelta with this on, and warns about plain seconds without it.
os.environ.setdefault("PTB_TIMEDELTA", "1")


class TelegramPlug:
    """The Telegram channel."""

    name = NAME
    settings = TelegramSettings
    messaging = True
    asks_ratings = True
    setup = "TELEGRAM_BOT_TOKEN"

    def enabled(self, settings: ChannelSettings) -> bool:
        """Whether TELEGRAM_BOT_TOKEN is set."""
        return isinstance(settings, TelegramSettings) and settings.telegram_enabled

    def problems(self, settings: ChannelSettings) -> list[str]:
        """Telegram settings that contradict each other."""
        assert isinstance(settings, TelegramSettings)
        return telegram_problems(settings)

    async def open(self, context: PlugContext) -> OpenChannel:
        """Check the token (getMe), then the sender; when listening, the webhook or poller."""
        s = context.settings
        assert isinstance(s, TelegramSettings) and s.telegram_bot_token is not None
        token = s.telegram_bot_token.get_secret_value()
        bot = Bot(
            token,
            base_url=s.telegram_api_url,
            base_file_url=telegram_file_url(s.telegram_api_url),
        )
        try:
            await bot.initialize()  # getMe: checks the token and tells us the bot's username
        except TelegramError as error:
            raise telegram_start_error(error, s) from error
        context.stack.push_async_callback(bot.shutdown)
        opened = OpenChannel(
            sender=TelegramSender(bot, global_rate=s.telegram_rate_per_second),
            audio=TelegramAudio(bot),
        )
        if context.listen:
            await self._listen(context, s, bot, opened)
        return opened

    async def _listen(
        self, context: PlugContext, s: TelegramSettings, bot: Bot, opened: OpenChannel
    ) -> None:
        """Register the webhook, or poll when there is no public URL."""
        if not s.telegram_uses_webhook:
            opened.pollers.append(
                TelegramPoller(bot, context.intake, OffsetStore(context.pool), context.redis)
            )
            opened.report.append(
                f"Telegram @{bot.username}: long polling (no PUBLIC_BASE_URL; set one for webhooks)"
            )
            return
        assert s.public_base_url is not None
        url = s.public_base_url.rstrip("/") + TELEGRAM_PATH
        secret = webhook_secret(bot.token)
        try:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as error:
            raise telegram_start_error(error, s, webhook=url) from error
        config = TelegramWebhook(secret=secret, bot_username=bot.username, bot_id=bot.id)
        opened.routes += telegram_routes(config, context.intake)
        opened.report.append(f"Telegram @{bot.username}: webhook at {url}")

    def checks(self, settings: ChannelSettings) -> list[tuple[str, Awaitable[Check]]]:
        """The Bot API accepts the token; the webhook is set where it should be."""
        assert isinstance(settings, TelegramSettings)
        return [("Telegram", check_telegram(settings))]

    def own_contacts(self, settings: ChannelSettings) -> list[str]:
        """None: customers find the bot by its username."""
        return []

    def contact_ids(self, value: str) -> list[str]:
        """A Telegram user id is all digits."""
        return [value] if value.isdigit() else []

    def may_write_first(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Telegram lets a bot write to anyone who has written to it once."""
        return True

    def raw_sender(self, raw: dict[str, Any]) -> str | None:
        """The `from` of an update kept aside as Telegram sent it."""
        if type(raw.get("update_id")) is not int:
            return None
        body = raw.get(update_kind(raw) or "")
        sender = body.get("from") if isinstance(body, dict) else None
        user_id = sender.get("id") if isinstance(sender, dict) else None
        return str(user_id) if type(user_id) is int else None


PLUG = TelegramPlug()
