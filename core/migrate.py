"""Apply migrations/*.sql in order, each exactly once, recorded in schema_migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed number works; it only has to be the same for every process of ours.
_LOCK_KEY = 7_246_001


async def apply_migrations(pool: asyncpg.Pool, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now (empty when up to date)."""
    files = await asyncio.to_thread(_read_migrations, directory)
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        # The advisory lock keeps two processes starting together from racing.
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, sql in files:
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now


def _read_migrations(directory: Path) -> list[tuple[str, str]]:
    """The migration files as (name, SQL), in name order."""
    files = sorted(directory.glob("*.sql"))
    if not files:
        raise FileNotFoundError(f"no migrations found in {directory}")
    return [(path.name, path.read_text(encoding="utf-8")) for path in files]
