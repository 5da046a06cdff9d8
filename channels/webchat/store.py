"""Web chat state: the token secret every process shares, history, and the visitors' streams."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis

from channels.webchat import NAME
from channels.webchat.events import Event, message_event, recent_events, stream_key
from core.data_rights import Person
from core.messages import Choice

SECRET_KEY = "webchat:secret"
HISTORY_LIMIT = 100
_WEBCHAT = NAME.value


class WebChatStore:
    """What web chat keeps in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def secret(self) -> str:
        """The signing secret: made once, by whichever process asks first, then shared."""
        await self._pool.execute(
            "INSERT INTO channel_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            SECRET_KEY,
            secrets.token_urlsafe(32),
        )
        value: str = await self._pool.fetchval(
            "SELECT value FROM channel_state WHERE key = $1", SECRET_KEY
        )
        return value

    async def history(self, visitor: str, limit: int = HISTORY_LIMIT) -> list[Event]:
        """The visitor's last messages, oldest first, as the browser shows them.

        Replies appear once sent (stored for the visitor), with the id their event carried, so
        the browser can tell a message it already has from a new one.
        """
        rows = await self._pool.fetch(
            """
            SELECT m.direction, m.provider_message_id, m.body, m.choices, m.created_at,
                   (SELECT d.provider_message_id FROM deliveries d WHERE d.message_id = m.id
                     ORDER BY d.id LIMIT 1) AS delivered_as, m.id
              FROM channel_identities ci
              JOIN conversations c ON c.contact_id = ci.contact_id AND c.channel = $1
              JOIN messages m ON m.conversation_id = c.id AND m.channel = $1
             WHERE ci.channel = $1 AND ci.external_id = $2
               AND (m.direction = 'inbound' OR m.delivery_status = 'sent')
             ORDER BY m.id DESC
             LIMIT $3
            """,
            _WEBCHAT,
            visitor,
            limit,
        )
        return [_event(row) for row in reversed(rows)]


def _event(row: asyncpg.Record) -> Event:
    """One stored message as a browser event."""
    at: datetime = row["created_at"]
    if row["direction"] == "inbound":
        client_id = str(row["provider_message_id"] or f"m{row['id']}").partition(":")[2]
        return message_event("customer", client_id or f"m{row['id']}", row["body"], at=at)
    choices = tuple(Choice(c["label"], c["entry_id"]) for c in json.loads(row["choices"]))
    event_id = row["delivered_as"] or f"m{row['id']}"
    return message_event("bot", event_id, row["body"], choices, at=at)


class WebChatCopies:
    """The visitors' recent-event streams in Redis, as personal data: exported and erased."""

    name = "webchat_streams"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def export(self, person: Person) -> list[Any]:
        """What was recently stored for the person's web chat visitors."""
        found: list[Any] = []
        for visitor in _visitors(person):
            found += await recent_events(self._redis, visitor)
        return found

    async def erase(self, person: Person) -> int:
        """Drop the person's streams."""
        keys = [stream_key(v) for v in _visitors(person)]
        return int(await self._redis.delete(*keys)) if keys else 0

    async def expire(self, cutoff: datetime) -> int:
        """Nothing to do: the streams expire an hour after their last event."""
        return 0


def _visitors(person: Person) -> list[str]:
    """The person's web chat visitor ids."""
    return [i.external_id for i in person.identities if i.channel == _WEBCHAT]
