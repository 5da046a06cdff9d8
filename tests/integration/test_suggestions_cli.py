"""`bot kb suggestions` on the real database: list, approve (the learned FAQ is written and
indexed), edit, reject."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config import Settings
from core.migrate import apply_migrations

QUESTIONS = [
    ("Can I bring my own candles for the cake?", "Yes, bring your own candles any time."),
    ("Do you sell durian mooncakes?", "Not this year: only snowskin pandan ones."),
]


async def _sql(settings: Settings, query: str, *args: object) -> list[asyncpg.Record]:
    assert settings.database_url is not None
    pool = await asyncpg.create_pool(
        settings.database_url.get_secret_value(), min_size=1, max_size=1
    )
    try:
        await apply_migrations(pool)  # when this module runs alone
        return list(await pool.fetch(query, *args))
    finally:
        await pool.close()


def sql(settings: Settings, query: str, *args: object) -> list[asyncpg.Record]:
    return asyncio.run(_sql(settings, query, *args))


@pytest.fixture
def suggestion_ids(settings: Settings) -> Iterator[list[int]]:
    rows = sql(
        settings,
        "INSERT INTO suggestions (question, answer, times)"
        " SELECT q, a, 2 FROM unnest($1::text[], $2::text[]) AS t(q, a) RETURNING id",
        [q for q, _ in QUESTIONS],
        [a for _, a in QUESTIONS],
    )
    ids = [int(r["id"]) for r in rows]
    yield ids
    sql(settings, "DELETE FROM suggestions WHERE id = ANY($1::bigint[])", ids)


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The session's database and Valkey; a vector index and learned FAQ of this test's own.

    The command configures logging onto the runner's streams, closed after it: the logging
    setup of the session comes back afterwards.
    """
    assert settings.database_url is not None and settings.redis_url is not None
    faq = tmp_path / "learned-faq.yaml"
    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("REDIS_URL", settings.redis_url.get_secret_value())
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEARNED_FAQ_PATH", str(faq))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved, handlers, level = structlog.get_config(), logging.root.handlers[:], logging.root.level
    yield faq
    structlog.configure(**saved)
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


def test_list_approve_edit_reject(
    cli_env: Path, settings: Settings, suggestion_ids: list[int]
) -> None:
    runner = CliRunner()
    first, second = suggestion_ids
    listed = runner.invoke(app, ["kb", "suggestions"])
    assert listed.exit_code == 0, listed.output
    assert f"#{first} (asked 2 times)" in listed.output
    assert f"Q: {QUESTIONS[0][0]}" in listed.output and f"A: {QUESTIONS[1][1]}" in listed.output

    approved = runner.invoke(app, ["kb", "suggestions", "approve", str(first)])
    assert approved.exit_code == 0, approved.output
    assert f"#{first} approved: {QUESTIONS[0][0]}" in approved.output
    assert "bring your own candles" in cli_env.read_text(encoding="utf-8")
    indexed = sql(
        settings,
        "SELECT state, chunk_count FROM knowledge_documents WHERE path = $1",
        str(cli_env),
    )
    assert [(r["state"], r["chunk_count"] > 0) for r in indexed] == [("ready", True)]

    edited = runner.invoke(
        app, ["kb", "suggestions", "edit", str(first), "Yes, and we light them for you."]
    )
    assert edited.exit_code == 0, edited.output
    assert "we light them for you" in cli_env.read_text(encoding="utf-8")

    rejected = runner.invoke(app, ["kb", "suggestions", "reject", str(second), "999999999"])
    assert rejected.exit_code == 1
    assert f"#{second} rejected" in rejected.output
    assert "#999999999 not rejected: no such suggestion" in rejected.output
    statuses = sql(
        settings,
        "SELECT id, status FROM suggestions WHERE id = ANY($1::bigint[]) ORDER BY id",
        suggestion_ids,
    )
    assert [r["status"] for r in statuses] == ["approved", "rejected"]
    assert "mooncakes" not in cli_env.read_text(encoding="utf-8")

    sql(settings, "DELETE FROM knowledge_documents WHERE path = $1", str(cli_env))
