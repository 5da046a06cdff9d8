"""Telegram's settings block: the bot token, webhook or polling, the Bot API's address."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from channels.settings import ChannelSettings, http_url

TELEGRAM_API = "https://api.telegram.org/bot"


class TelegramSettings(ChannelSettings):
    """TELEGRAM_* settings."""

    telegram_bot_token: SecretStr | None = None
    telegram_mode: Literal["auto", "webhook", "polling"] = "auto"
    telegram_api_url: str = TELEGRAM_API
    """A self-hosted Bot API server, or a local fake in tests."""
    # Telegram allows about 30 messages a second per bot; raise only for a local Bot API server.
    telegram_rate_per_second: float = Field(30.0, gt=0)

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        checked = http_url(value)
        assert checked is not None
        return checked

    @property
    def telegram_enabled(self) -> bool:
        """Whether the Telegram channel is configured."""
        return self.telegram_bot_token is not None

    @property
    def telegram_uses_webhook(self) -> bool:
        """Webhook when asked, or by default when there is a public URL; else long polling."""
        if self.telegram_mode == "auto":
            return self.public_base_url is not None
        return self.telegram_mode == "webhook"


def telegram_problems(s: TelegramSettings) -> list[str]:
    """Telegram settings that contradict each other, one line each."""
    problems = []
    if s.telegram_mode != "auto" and s.telegram_bot_token is None:
        problems.append(f"TELEGRAM_MODE={s.telegram_mode} is set but TELEGRAM_BOT_TOKEN is not")
    if s.telegram_mode == "webhook" and s.public_base_url is None:
        problems.append(
            "TELEGRAM_MODE=webhook needs PUBLIC_BASE_URL (or use TELEGRAM_MODE=polling)"
        )
    if (
        s.telegram_bot_token is not None
        and s.telegram_uses_webhook
        and s.telegram_api_url == TELEGRAM_API
        and s.public_base_url is not None
        and not s.public_base_url.startswith("https://")
    ):
        problems.append(
            "Telegram sends webhooks only to https:// URLs: set PUBLIC_BASE_URL to an https:// "
            "address or use TELEGRAM_MODE=polling"
        )
    return problems
