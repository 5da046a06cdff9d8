"""The scheduled job that finds conversations that ended and asks their customers for a rating.

A conversation ended when the bot answered it and the customer went quiet for
RATING_AFTER_MINUTES, or when staff handed it back with #resolve. Each is claimed once (a row in
`ratings`), counted as a resolution by the bot, and its customer asked "How did we do?" unless
they write by email or were asked in the last RATING_EVERY_DAYS. Every process runs the job; a
transaction-scoped advisory lock lets one claim at a time, the others skip that round.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from bot.config import Settings
from bot.metrics import Metrics
from channels.registry import plug_for, plugs
from core.language import choose_language
from core.ratings import QUESTION_REASON, rating_question

log = structlog.get_logger(__name__)
LOOKBACK = timedelta(hours=12)
"""Conversations quiet for longer than this are left alone: not asked a day later, nor about
everything that ended before the bot was upgraded (and WhatsApp allows 24 hours)."""
DEFAULT_QUIET = timedelta(minutes=30)
"""How quiet a conversation must be to count as ended when ratings are off (RATING_AFTER_MINUTES=0):
resolutions are still counted."""
BATCH = 200

# Quiet conversations still with the bot, not claimed yet, and how each ended: 'staff' when the
# latest handoff was closed by a staff reply (#resolve/#bot), 'bot' when there was no handoff,
# the bot answered from the knowledge base and its last reply was an answer (not a "please
# rephrase"). Anything else (handed back after staff went quiet, never answered) has not ended.
_ENDED = """
WITH quiet AS (
    SELECT c.id, c.contact_id, c.channel, c.last_message_at FROM conversations c
     WHERE c.last_message_at < $1 AND c.last_message_at >= $1::timestamptz - $2::interval
       AND c.status = 'bot' AND c.channel = ANY($5::text[])
       AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.conversation_id = c.id)
), ended AS (
    SELECT q.*, CASE
        WHEN (SELECT e.status = 'closed' AND e.answered_at IS NOT NULL FROM escalations e
               WHERE e.conversation_id = q.id ORDER BY e.id DESC LIMIT 1) THEN 'staff'
        WHEN NOT EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = q.id)
         AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = q.id
                       AND m.direction = 'outbound' AND cardinality(m.source_entry_ids) > 0)
         AND (SELECT m.reason IS NULL AND NOT m.escalate FROM messages m
               WHERE m.conversation_id = q.id AND m.direction = 'outbound'
                 AND m.channel = q.channel ORDER BY m.id DESC LIMIT 1) THEN 'bot'
        END AS ended_by
      FROM quiet q
)
SELECT e.id, e.contact_id, e.channel, e.ended_by, e.last_message_at, k.language,
       coalesce(
           (SELECT m.address FROM messages m
             WHERE m.conversation_id = e.id AND m.direction = 'outbound'
               AND m.channel = e.channel AND m.address IS NOT NULL
             ORDER BY m.id DESC LIMIT 1),
           (SELECT ci.external_id FROM channel_identities ci
             WHERE ci.contact_id = e.contact_id AND ci.channel = e.channel LIMIT 1)) AS address,
       EXISTS (SELECT 1 FROM ratings r
                WHERE r.contact_id = e.contact_id AND r.asked_at > $3) AS asked_lately,
       (SELECT max(m.created_at) FROM messages m
         WHERE m.conversation_id = e.id AND m.direction = 'inbound'
           AND m.channel = e.channel) AS last_inbound
  FROM ended e JOIN contacts k ON k.id = e.contact_id
 WHERE e.ended_by IS NOT NULL
 ORDER BY e.last_message_at
 LIMIT $4
"""


class RatingRequests:
    """Claims conversations that ended and queues the rating question where it may be asked."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        metrics: Metrics,
        quiet: timedelta,
        every: timedelta,
        ask: bool = True,
        send: Callable[[], Awaitable[int]] | None = None,
        channels: Collection[str] | None = None,
    ) -> None:
        # Only conversations this process can send to are claimed (and those of channels never
        # asked, e.g. email): a process without, say, WhatsApp leaves those to one that has it.
        asked = asked_channels()
        sendable = asked if channels is None else asked & set(channels)
        self._channels = sorted(sendable | never_asked_channels())
        self._asked = asked
        self._pool = pool
        self._metrics = metrics
        self._quiet = quiet
        self._every = every
        self._ask = ask
        # Sends the queued questions now rather than at the next deferred-reply round.
        self._send = send

    async def run(self, now: datetime | None = None) -> int:
        """One round: claim what ended by `now` and queue questions; how many were asked.

        Errors are logged, never raised: the next round tries again.
        """
        try:
            asked = await self._claim(now or datetime.now(UTC))
            if asked and self._send is not None:
                await self._send()
            return asked
        except Exception:
            log.exception("rating_requests_failed")
            return 0

    async def _claim(self, now: datetime) -> int:
        """Claim ended conversations in one transaction; queue the questions with them."""
        asked_now: set[int] = set()
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtext('rating_requests'))"
            ):
                return 0  # another process is claiming this round
            rows = await conn.fetch(
                _ENDED, now - self._quiet, LOOKBACK, now - self._every, BATCH, self._channels
            )
            for row in rows:
                ask = (
                    self._ask
                    and row["channel"] in self._asked
                    and row["address"] is not None
                    and not row["asked_lately"]
                    and row["contact_id"] not in asked_now
                    and may_write(row["channel"], row["last_inbound"], now)
                )
                question_id = await self._queue_question(conn, row) if ask else None
                await conn.execute(
                    "INSERT INTO ratings (contact_id, conversation_id, channel, ended_by,"
                    " ended_at, question_id, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    row["contact_id"],
                    row["id"],
                    row["channel"],
                    row["ended_by"],
                    row["last_message_at"],
                    question_id,
                    now if ask else None,
                )
                if ask:
                    asked_now.add(row["contact_id"])
        for row in rows:
            # Staff resolutions are counted when their #resolve reply is relayed.
            if row["ended_by"] == "bot":
                self._metrics.resolutions.labels("bot").inc()
        if rows:
            log.info("conversations_ended", ended=len(rows), asked=len(asked_now))
        return len(asked_now)

    async def _queue_question(
        self, conn: PoolConnectionProxy[asyncpg.Record], row: asyncpg.Record
    ) -> int:
        """Queue "How did we do?" in the customer's language, due now for the deferred sender.

        It answers no inbound message, so it goes out the way a deferred reply does.
        """
        text, choices = rating_question(choose_language(None, row["language"]))
        labels = [{"label": c.label, "entry_id": c.entry_id} for c in choices]
        question_id = await conn.fetchval(
            "INSERT INTO messages (conversation_id, direction, channel, body, address, choices,"
            " delivery_status, next_attempt_at, reason)"
            " VALUES ($1, 'outbound', $2, $3, $4, $5::jsonb, 'retry', now(), $6) RETURNING id",
            row["id"],
            row["channel"],
            text,
            row["address"],
            json.dumps(labels),
            QUESTION_REASON,
        )
        return int(question_id)


def may_write(channel: str, last_inbound: datetime | None, now: datetime) -> bool:
    """Whether the channel lets us write first (WhatsApp: only soon after the customer wrote)."""
    plug = plug_for(channel)
    return plug is None or plug.may_write_first(last_inbound, now)


def asked_channels() -> frozenset[str]:
    """Channels whose customers are asked to rate a conversation."""
    return frozenset(p.name.value for p in plugs() if p.asks_ratings)


def never_asked_channels() -> frozenset[str]:
    """Messaging channels never asked (email: stars after every answer read as spam)."""
    return frozenset(p.name.value for p in plugs() if p.messaging and not p.asks_ratings)


def rating_requests(
    settings: Settings,
    pool: asyncpg.Pool,
    metrics: Metrics,
    send: Callable[[], Awaitable[int]] | None,
    channels: Collection[str],
) -> RatingRequests:
    """The job as the settings say: RATING_AFTER_MINUTES=0 counts resolutions but asks nobody."""
    minutes = settings.rating_after_minutes
    return RatingRequests(
        pool,
        metrics,
        quiet=timedelta(minutes=minutes) if minutes else DEFAULT_QUIET,
        every=timedelta(days=settings.rating_every_days),
        ask=minutes > 0,
        send=send,
        channels=channels,
    )
