"""Telegram failures at start and in `bot doctor`, said in one line: what, why, the fix."""

from __future__ import annotations

from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from channels.plug import StartupError
from channels.telegram.settings import TELEGRAM_API, TelegramSettings

TELEGRAM_NETWORK_FIX = "check the network to api.telegram.org and TELEGRAM_API_URL"


def telegram_problem(error: TelegramError, settings: TelegramSettings) -> tuple[str, str]:
    """Why a Bot API call failed, and the fix (for `bot doctor` and for the start)."""
    if isinstance(error, InvalidToken):
        fix = "copy TELEGRAM_BOT_TOKEN again from @BotFather (/token)"
        if settings.telegram_api_url != TELEGRAM_API:
            # A wrong path on a self-hosted Bot API server answers 404, which PTB reports the same.
            fix += f", and check TELEGRAM_API_URL ({settings.telegram_api_url})"
        return "the token was rejected", fix
    said = _without_token(error, settings)
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return f"cannot reach the Bot API at {settings.telegram_api_url} ({said})", (
            TELEGRAM_NETWORK_FIX
        )
    return f"Bot API error: {said}", TELEGRAM_NETWORK_FIX


def telegram_start_error(
    error: TelegramError, settings: TelegramSettings, webhook: str | None = None
) -> StartupError:
    """The one line for a Telegram failure at start; `webhook` when registering it failed."""
    if webhook is not None and isinstance(error, BadRequest):
        return StartupError(
            "Telegram",
            f"the Bot API refused the webhook {webhook} ({_without_token(error, settings)})",
            "set PUBLIC_BASE_URL to the public https:// address that reaches this server, "
            "or set TELEGRAM_MODE=polling",
        )
    why, fix = telegram_problem(error, settings)
    return StartupError("Telegram", why, fix)


def _without_token(error: TelegramError, settings: TelegramSettings) -> str:
    """The error's text; PTB puts the token into some messages, and it is a secret."""
    said = str(error)
    if settings.telegram_bot_token is not None:
        said = said.replace(settings.telegram_bot_token.get_secret_value(), "<TELEGRAM_BOT_TOKEN>")
    return said
