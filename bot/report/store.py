"""Pending suggestions to list in a report, and the owner_reports row that numbers them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from bot.report.period import Period
from core.knowledge_masking import mask_personal

MAX_SUGGESTIONS = 20


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested knowledge entry waiting for the owner: question, staff answer, times asked."""

    id: int
    question: str
    answer: str
    times: int


async def pending_suggestions(pool: asyncpg.Pool, limit: int = MAX_SUGGESTIONS) -> list[Suggestion]:
    """The pending suggestions, most asked first (oldest first among equals)."""
    rows = await pool.fetch(
        "SELECT id, question, answer, times FROM suggestions WHERE status = 'pending'"
        " ORDER BY times DESC, id LIMIT $1",
        limit,
    )
    # Stored masked already; masked again so nothing unmasked can reach a mail by this path.
    return [
        Suggestion(r["id"], mask_personal(r["question"]), r["answer"], r["times"]) for r in rows
    ]


async def record_report(
    pool: asyncpg.Pool,
    token: str,
    period: Period,
    sent_to: str,
    suggestions: Sequence[Suggestion],
    message_id: str,
) -> None:
    """Keep the report before it is sent: number n in it is suggestion_ids[n]."""
    await pool.execute(
        "INSERT INTO owner_reports (token, period_start, period_end, sent_to, suggestion_ids,"
        " message_id) VALUES ($1, $2, $3, $4, $5, $6)",
        token,
        period.start,
        period.end,
        sent_to,
        [s.id for s in suggestions],
        message_id,
    )


async def mark_sent(pool: asyncpg.Pool, token: str) -> None:
    """The report's mail was accepted by the SMTP server."""
    await pool.execute("UPDATE owner_reports SET sent_at = now() WHERE token = $1", token)
