"""`bot doctor` against real local services: what works is confirmed, what does not is explained."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from pydantic import SecretStr

from bot.cli.doctor import render, run_checks
from bot.config import Settings
from channels.plug import Check
from core.migrate import apply_migrations
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]
PASSWORD = "mailbox-secret"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture(scope="module")
def address(dovecot: Dovecot) -> str:
    mailbox = f"shop-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(mailbox, PASSWORD)
    return mailbox


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def configured(
    settings: Settings,
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioApi,
    smtp: SmtpServer,
    dovecot: Dovecot,
    address: str,
    **changes: object,
) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": SecretStr(telegram.token),
        "telegram_api_url": telegram.base_url,
        "public_base_url": "https://shop.example.sg",
        "twilio_account_sid": twilio.account_sid,
        "twilio_auth_token": SecretStr(twilio.auth_token),
        "twilio_whatsapp_from": "whatsapp:+6560000000",
        "twilio_api_url": twilio.base_url,
        **mail_settings(dovecot, smtp, address, PASSWORD, smtp_password=SecretStr(PASSWORD)),
    }
    values.update(changes)
    return settings.model_copy(update=values)


async def test_everything_configured_is_reached(
    settings: Settings,
    telegram_api: FakeTelegramAPI,
    twilio_api: FakeTwilioApi,
    dovecot: Dovecot,
    address: str,
) -> None:
    assert settings.database_url is not None
    pool = await asyncpg.create_pool(settings.database_url.get_secret_value())
    await apply_migrations(pool)
    await pool.close()
    with SmtpServer(logins={address: PASSWORD}) as smtp:
        checks = by_name(
            await run_checks(configured(settings, telegram_api, twilio_api, smtp, dovecot, address))
        )
    assert all(c.ok for c in checks.values()), [render(c) for c in checks.values()]
    assert "migrations up to date" in checks["PostgreSQL"].detail
    assert checks["Telegram"].detail.startswith("@")
    assert checks["Telegram"].warning  # the webhook is set by `bot serve`, not yet
    assert "account active" in checks["WhatsApp (Twilio)"].detail
    assert f"logged in as {address}" in checks["SMTP"].detail
    assert "folder INBOX" in checks["IMAP"].detail
    assert smtp.logged_in == [address]


async def test_each_problem_is_named_with_its_fix(
    settings: Settings,
    telegram_api: FakeTelegramAPI,
    twilio_api: FakeTwilioApi,
    dovecot: Dovecot,
    address: str,
) -> None:
    telegram_api.webhook_url = "https://shop.example.sg/webhooks/telegram"
    telegram_api.webhook_error = (
        "SSL error {error:0A000086:SSL routines::certificate verify failed}"
    )
    with SmtpServer(logins={address: "another password"}) as smtp:
        bad = configured(
            settings,
            telegram_api,
            twilio_api,
            smtp,
            dovecot,
            address,
            twilio_auth_token=SecretStr("wrong"),
            imap_folder="Support",
            redis_url=SecretStr("redis://127.0.0.1:1/0"),
            openai_api_key=SecretStr("sk-test"),
            openai_base_url="http://127.0.0.1:1/v1",
        )
        checks = by_name(await run_checks(bad))
    failed = {name for name, c in checks.items() if not c.ok}
    assert failed == {"Telegram", "WhatsApp (Twilio)", "SMTP", "IMAP", "Redis", "LLM"}
    assert "certificate verify failed" in checks["Telegram"].detail
    assert "HTTPS" in checks["Telegram"].fix
    assert "TWILIO_AUTH_TOKEN" in checks["WhatsApp (Twilio)"].fix
    assert "refused the login" in checks["SMTP"].detail
    assert "IMAP_FOLDER" in checks["IMAP"].fix
    assert "REDIS_URL" in checks["Redis"].fix
    assert "OPENAI_API_KEY" in checks["LLM"].fix
    assert checks["PostgreSQL"].ok


async def test_a_wrong_telegram_token_is_reported(
    settings: Settings, telegram_api: FakeTelegramAPI
) -> None:
    changed = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr("123456789:AAWrongToken_abcdefghijklmnopqrstu"),
            "telegram_api_url": telegram_api.base_url,
        }
    )
    checks = by_name(await run_checks(changed))
    assert not checks["Telegram"].ok
    assert "@BotFather" in checks["Telegram"].fix


async def test_a_refused_imap_login_is_told_apart_from_an_unreachable_server(
    settings: Settings, dovecot: Dovecot, address: str
) -> None:
    with SmtpServer(logins={address: PASSWORD}) as smtp:
        email = mail_settings(dovecot, smtp, address, PASSWORD)
        refused = settings.model_copy(update={**email, "imap_password": SecretStr("wrong")})
        unreachable = settings.model_copy(update={**email, "imap_port": 1})
        imap = [by_name(await run_checks(s))["IMAP"] for s in (refused, unreachable)]
    assert not imap[0].ok and "refused the login" in imap[0].detail
    assert "IMAP_PASSWORD" in imap[0].fix
    assert not imap[1].ok and "cannot reach" in imap[1].detail
    assert "IMAP_PORT" in imap[1].fix
