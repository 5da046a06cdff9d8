"""Ratings in PostgreSQL (migrations/015_ratings.sql): customers' scores and comments."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

ANSWER_WINDOW = timedelta(hours=24)
"""How long a rating question stays open: a bare number later than this is just a message."""
MAX_COMMENT_CHARS = 1000


class PostgresRatings:
    """RatingStore on the ratings table."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        comment_window: timedelta = timedelta(minutes=10),
        answer_window: timedelta = ANSWER_WINDOW,
    ) -> None:
        self._pool = pool
        self._comment_window = comment_window
        self._answer_window = answer_window

    async def record_score(
        self,
        contact_id: int,
        conversation_id: int,
        channel: str,
        score: int,
        at: datetime,
        typed: bool,
    ) -> bool:
        """Keep a score for the contact's open question on this channel; False when none."""
        rating_id = await self._pool.fetchval(
            """
            UPDATE ratings SET score = $3, rated_at = $4
             WHERE id = (
                SELECT id FROM ratings
                 WHERE contact_id = $1 AND channel = $2 AND asked_at IS NOT NULL
                   AND asked_at > $4::timestamptz - $5::interval
                   AND (NOT $6 OR (score IS NULL AND conversation_id = $7))
                 ORDER BY asked_at DESC LIMIT 1)
            RETURNING id
            """,
            contact_id,
            channel,
            score,
            at,
            self._answer_window,
            typed,
            conversation_id,
        )
        return rating_id is not None

    async def record_comment(self, contact_id: int, channel: str, text: str, at: datetime) -> bool:
        """Keep `text` as the comment of a score given just before; False when there is none."""
        rating_id = await self._pool.fetchval(
            """
            UPDATE ratings SET comment = $3, commented_at = $4
             WHERE id = (
                SELECT id FROM ratings
                 WHERE contact_id = $1 AND channel = $2 AND score IS NOT NULL
                   AND comment IS NULL AND rated_at >= $4::timestamptz - $5::interval
                 ORDER BY rated_at DESC LIMIT 1)
            RETURNING id
            """,
            contact_id,
            channel,
            text[:MAX_COMMENT_CHARS],
            at,
            self._comment_window,
        )
        return rating_id is not None
