"""Telegram failures at start become one line naming what failed, why, and the fix."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TimedOut

from bot.config import Settings, load_settings
from channels.telegram.errors import telegram_problem, telegram_start_error

TOKEN = "123456:secret-token-from-botfather"
LOCAL_API = "http://127.0.0.1:9/bot"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Settings:
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    return load_settings(telegram_bot_token=TOKEN)


def test_a_rejected_token_names_botfather_and_never_shows_the_token(settings: Settings) -> None:
    # PTB's own message for a refused getMe carries the token.
    error = InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    line = str(telegram_start_error(error, settings))
    assert line == (
        "Telegram: the token was rejected. "
        "Fix: copy TELEGRAM_BOT_TOKEN again from @BotFather (/token)."
    )
    own_server = settings.model_copy(update={"telegram_api_url": LOCAL_API})
    assert f"check TELEGRAM_API_URL ({LOCAL_API})" in telegram_problem(error, own_server)[1]


@pytest.mark.parametrize(
    "error",
    [NetworkError("httpx.ConnectError: All connection attempts failed"), TimedOut("Timed out")],
)
def test_an_unreachable_bot_api_names_the_address_and_the_setting(
    settings: Settings, error: NetworkError
) -> None:
    unreachable = settings.model_copy(update={"telegram_api_url": LOCAL_API})
    line = str(telegram_start_error(error, unreachable))
    assert line.startswith(f"Telegram: cannot reach the Bot API at {LOCAL_API} (")
    assert str(error) in line and line.endswith("and TELEGRAM_API_URL.")
    assert "\n" not in line


def test_a_refused_webhook_names_the_url_and_both_ways_out(settings: Settings) -> None:
    url = "https://shop.example.sg/webhooks/telegram"
    error = BadRequest(f"Bad webhook: failed to resolve host for bot{TOKEN}")
    line = str(telegram_start_error(error, settings, webhook=url))
    assert line.startswith(f"Telegram: the Bot API refused the webhook {url} (Bad webhook")
    assert "PUBLIC_BASE_URL" in line and "TELEGRAM_MODE=polling" in line
    assert TOKEN not in line and "<TELEGRAM_BOT_TOKEN>" in line


def test_other_refusals_quote_the_bot_api(settings: Settings) -> None:
    why, fix = telegram_problem(Forbidden("Forbidden: bot was blocked"), settings)
    assert why == "Bot API error: Forbidden: bot was blocked"
    assert "TELEGRAM_API_URL" in fix
