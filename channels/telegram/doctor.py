"""`bot doctor` for Telegram: the token works, and the webhook is where it should be."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from channels.plug import Check
from channels.telegram.errors import telegram_problem
from channels.telegram.settings import TelegramSettings
from channels.telegram.webhook import TELEGRAM_PATH


async def check_telegram(s: TelegramSettings) -> Check:
    """Ask the Bot API who the bot is and where its webhook points."""
    assert s.telegram_bot_token is not None
    bot = Bot(s.telegram_bot_token.get_secret_value(), base_url=s.telegram_api_url)
    try:
        me = await bot.get_me()
        webhook = await bot.get_webhook_info()
    except TelegramError as error:
        return Check("Telegram", False, *telegram_problem(error, s))
    detail = f"@{me.username}"
    if s.telegram_uses_webhook:
        assert s.public_base_url is not None
        wanted = s.public_base_url.rstrip("/") + TELEGRAM_PATH
        if webhook.last_error_message:
            return Check(
                "Telegram",
                False,
                f"{detail}; Telegram cannot deliver: {webhook.last_error_message}",
                f"make {wanted} reachable over HTTPS with a valid certificate",
            )
        if webhook.url != wanted:
            return Check(
                "Telegram",
                True,
                f"{detail}; webhook not set to {wanted} yet",
                "none needed: `bot serve` sets it at start",
                warning=True,
            )
        return Check("Telegram", True, f"{detail}; webhook {wanted}")
    return Check("Telegram", True, f"{detail}; long polling (no PUBLIC_BASE_URL)")
