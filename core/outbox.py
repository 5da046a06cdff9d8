"""Replies waiting to be sent: leased to one sender at a time, so each goes out exactly once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import asyncpg

from core.messages import Choice

_RETURNED = """m.id, m.channel, m.address, m.body, m.choices, m.attempts, m.kind,
    (SELECT k.language FROM conversations cv JOIN contacts k ON k.id = cv.contact_id
      WHERE cv.id = m.conversation_id) AS language"""
"""The columns of a claimed reply; the language is the customer's, as the core last saw it."""

# Providers report progress out of order; a status never moves back to an earlier rank.
_STATUS_RANK_SQL = """
CASE {col} WHEN 'accepted' THEN 0 WHEN 'queued' THEN 1 WHEN 'sending' THEN 2 WHEN 'sent' THEN 3
    WHEN 'delivered' THEN 4 WHEN 'read' THEN 5 WHEN 'undelivered' THEN 6 WHEN 'failed' THEN 6
    ELSE 0 END
"""


@dataclass(frozen=True, slots=True)
class OutboundItem:
    """One stored reply to send."""

    message_id: int
    channel: str
    address: str
    text: str
    choices: tuple[Choice, ...]
    attempts: int
    kind: str = "text"
    """"text", or "template": the channel's approved opener (WhatsApp outside 24 hours)."""
    language: str = "en"
    """The customer's language (ISO 639-1), for what the channel writes around choices."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """Replies this caller now holds; `busy` when another sender holds one for the same message."""

    items: tuple[OutboundItem, ...]
    busy: bool


class Outbox(Protocol):
    """Durable record of replies and their delivery."""

    async def claim_replies(
        self, channel: str, provider_message_id: str, lease: timedelta
    ) -> Claimed:
        """Lease the unsent replies to one inbound message."""
        ...

    async def mark_sent(self, message_id: int, provider_ids: list[str]) -> None:
        """Record that the provider accepted every part of a reply."""
        ...

    async def mark_failed(self, message_id: int, reason: str, partial: bool) -> None:
        """Record that a reply could not be sent (or only some parts went out)."""
        ...

    async def release(self, message_id: int) -> None:
        """Give a leased reply back unsent, so a later attempt can take it."""
        ...

    async def defer(self, message_id: int, reason: str, delay: timedelta) -> None:
        """Keep a reply the provider would not take now, to be sent again after `delay`."""
        ...

    async def claim_deferred(self, limit: int, lease: timedelta) -> tuple[OutboundItem, ...]:
        """Lease deferred replies whose time has come (and ones whose sender died holding them)."""
        ...

    async def record_status(
        self,
        channel: str,
        provider_message_id: str,
        status: str,
        error_code: str | None,
        error_message: str | None,
    ) -> bool:
        """Apply a provider's delivery report; False when it regresses or repeats nothing new."""
        ...


class PostgresOutbox:
    """Outbox on the messages and deliveries tables."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_replies(
        self, channel: str, provider_message_id: str, lease: timedelta
    ) -> Claimed:
        """Lease the unsent replies to one inbound message."""
        rows = await self._pool.fetch(
            f"""
            WITH inbound AS (
                SELECT id FROM messages
                 WHERE channel = $1 AND direction = 'inbound' AND provider_message_id = $2),
            candidates AS (
                SELECT m.id, m.delivery_status, m.lease_until FROM messages m, inbound
                 WHERE m.in_reply_to = inbound.id AND m.delivery_status IN ('pending', 'sending')
                   FOR UPDATE OF m),
            taken AS (
                UPDATE messages m
                   SET delivery_status = 'sending', lease_until = now() + $3::interval,
                       attempts = m.attempts + 1
                  FROM candidates c
                 WHERE m.id = c.id
                   AND (c.delivery_status = 'pending' OR c.lease_until < now())
                RETURNING {_RETURNED})
            SELECT t.*, false AS busy FROM taken t
            UNION ALL
            SELECT c.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true FROM candidates c
             WHERE c.delivery_status = 'sending' AND c.lease_until >= now()
            """,
            channel,
            provider_message_id,
            lease,
        )
        items = tuple(_item(r) for r in rows if not r["busy"])
        return Claimed(items=items, busy=any(r["busy"] for r in rows))

    async def mark_sent(self, message_id: int, provider_ids: list[str]) -> None:
        """Record that the provider accepted every part of a reply."""
        async with self._pool.acquire() as conn, conn.transaction():
            channel = await conn.fetchval(
                "UPDATE messages SET delivery_status = 'sent', sent_at = now(),"
                " lease_until = NULL, delivery_error = NULL, next_attempt_at = NULL,"
                # An erased customer's confirmation: once sent, their address is not kept.
                " address = CASE WHEN conversation_id IS NULL THEN NULL ELSE address END"
                " WHERE id = $1 RETURNING channel",
                message_id,
            )
            # A status callback can arrive before we get here; its status is newer, so keep it.
            await conn.executemany(
                "INSERT INTO deliveries (message_id, channel, provider_message_id, status)"
                " VALUES ($1, $2, $3, 'accepted') ON CONFLICT (channel, provider_message_id)"
                " DO UPDATE SET message_id = EXCLUDED.message_id",
                [(message_id, channel, pid) for pid in provider_ids],
            )

    async def mark_failed(self, message_id: int, reason: str, partial: bool) -> None:
        """Record that a reply could not be sent (or only some parts went out)."""
        await self._pool.execute(
            "UPDATE messages SET delivery_status = $2, delivery_error = $3, lease_until = NULL,"
            " next_attempt_at = NULL WHERE id = $1",
            message_id,
            "partial" if partial else "failed",
            reason[:1000],
        )

    async def release(self, message_id: int) -> None:
        """Give a leased reply back unsent, so a later attempt can take it."""
        await self._pool.execute(
            "UPDATE messages SET lease_until = NULL, delivery_status ="
            " CASE WHEN next_attempt_at IS NULL THEN 'pending' ELSE 'retry' END"
            " WHERE id = $1 AND delivery_status = 'sending'",
            message_id,
        )

    async def defer(self, message_id: int, reason: str, delay: timedelta) -> None:
        """Keep a reply the provider would not take now, to be sent again after `delay`."""
        await self._pool.execute(
            "UPDATE messages SET delivery_status = 'retry', delivery_error = $2,"
            " lease_until = NULL, next_attempt_at = now() + $3::interval WHERE id = $1",
            message_id,
            reason[:1000],
            delay,
        )

    async def claim_deferred(self, limit: int, lease: timedelta) -> tuple[OutboundItem, ...]:
        """Lease deferred replies whose time has come (and ones whose sender died holding them)."""
        rows = await self._pool.fetch(
            f"""
            UPDATE messages m
               SET delivery_status = 'sending', lease_until = now() + $2::interval,
                   attempts = m.attempts + 1
             WHERE m.id IN (
                SELECT id FROM messages
                 WHERE next_attempt_at IS NOT NULL
                   AND ((delivery_status = 'retry' AND next_attempt_at <= now())
                        OR (delivery_status = 'sending' AND lease_until < now()))
                 ORDER BY next_attempt_at
                 LIMIT $1
                   FOR UPDATE SKIP LOCKED)
            RETURNING {_RETURNED}
            """,
            limit,
            lease,
        )
        return tuple(_item(r) for r in rows)

    async def record_status(
        self,
        channel: str,
        provider_message_id: str,
        status: str,
        error_code: str | None,
        error_message: str | None,
    ) -> bool:
        """Apply a provider's delivery report; False when it regresses or repeats nothing new."""
        new_rank = _STATUS_RANK_SQL.format(col="EXCLUDED.status")
        old_rank = _STATUS_RANK_SQL.format(col="deliveries.status")
        result = await self._pool.execute(
            "INSERT INTO deliveries (message_id, channel, provider_message_id, status,"
            " error_code, error_message)"
            " VALUES (NULL, $1, $2, $3, $4, $5)"
            " ON CONFLICT (channel, provider_message_id) DO UPDATE SET status = EXCLUDED.status,"
            " error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,"
            f" updated_at = now() WHERE {new_rank} > {old_rank}",
            channel,
            provider_message_id,
            status,
            error_code,
            error_message,
        )
        return bool(result.endswith(" 1"))


def _item(row: asyncpg.Record) -> OutboundItem:
    """An outbound row as the item a sender works on."""
    return OutboundItem(
        message_id=row["id"],
        channel=row["channel"],
        address=row["address"],
        text=row["body"],
        choices=tuple(Choice(c["label"], c["entry_id"]) for c in json.loads(row["choices"])),
        attempts=row["attempts"],
        kind=row["kind"],
        language=row["language"] or "en",
    )
