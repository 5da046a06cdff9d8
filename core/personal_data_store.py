"""Customers' personal data in PostgreSQL: finding, describing, exporting, erasing, retention."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from core.data_rights import Confirmation, DataSummary, Identity, Person, RetentionResult

_EXPORT_CONTACT = (
    "SELECT id, display_name, language, created_at, updated_at FROM contacts WHERE id = $1"
)
_EXPORT_ROWS = {
    "channel_identities": (
        "SELECT channel, external_id, created_at FROM channel_identities"
        " WHERE contact_id = $1 ORDER BY id"
    ),
    "conversations": (
        "SELECT id, channel, status, started_at, last_message_at, closed_at, summary"
        " FROM conversations WHERE contact_id = $1 ORDER BY id"
    ),
    "messages": (
        "SELECT m.conversation_id, m.direction, m.channel, m.body, m.created_at,"
        " m.delivery_status FROM messages m JOIN conversations c"
        " ON c.id = m.conversation_id WHERE c.contact_id = $1 ORDER BY m.id"
    ),
    "handoffs": (
        "SELECT e.conversation_id, e.trigger, e.status, e.created_at, e.sent_at,"
        " e.answered_at FROM escalations e JOIN conversations c"
        " ON c.id = e.conversation_id WHERE c.contact_id = $1 ORDER BY e.id"
    ),
    "ratings": (
        "SELECT conversation_id, channel, asked_at, score, rated_at, comment,"
        " commented_at FROM ratings WHERE contact_id = $1"
        " AND (asked_at IS NOT NULL OR score IS NOT NULL) ORDER BY id"
    ),
    "consent_records": (
        "SELECT channel, granted, notice_text, recorded_at FROM consent_records"
        " WHERE contact_id = $1 ORDER BY id"
    ),
}
"""What an export reads about one contact, section by section, in one read-only transaction."""


class PostgresPersonalData:
    """PersonalDataStore on the bot's tables (functions in migrations/008_data_rights.sql)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def person(self, contact_id: int) -> Person | None:
        """The contact with its identities; None when it does not exist."""
        rows = await self._pool.fetch(
            "SELECT k.id, ci.channel, ci.external_id FROM contacts k"
            " LEFT JOIN channel_identities ci ON ci.contact_id = k.id"
            " WHERE k.id = $1 ORDER BY ci.id",
            contact_id,
        )
        if not rows:
            return None
        identities = tuple(
            Identity(r["channel"], r["external_id"]) for r in rows if r["channel"] is not None
        )
        return Person(contact_id, identities)

    async def find(self, identities: Sequence[Identity]) -> list[Person]:
        """The distinct contacts holding any of these identities."""
        ids = await self._pool.fetch(
            "SELECT DISTINCT ci.contact_id FROM channel_identities ci"
            " JOIN unnest($1::text[], $2::text[]) AS q(channel, external_id)"
            " ON ci.channel = q.channel AND ci.external_id = q.external_id"
            " ORDER BY ci.contact_id",
            [i.channel for i in identities],
            [i.external_id for i in identities],
        )
        people = [await self.person(r["contact_id"]) for r in ids]
        return [p for p in people if p is not None]

    async def summary(self, contact_id: int) -> DataSummary | None:
        """The short account of a contact's data shown to the customer."""
        row = await self._pool.fetchrow(
            """
            SELECT k.display_name, k.language, k.created_at,
                   ARRAY(SELECT DISTINCT ci.channel FROM channel_identities ci
                          WHERE ci.contact_id = k.id ORDER BY 1) AS channels,
                   (SELECT count(*) FROM conversations c
                     WHERE c.contact_id = k.id) AS conversations,
                   (SELECT count(*) FROM messages m JOIN conversations c
                       ON c.id = m.conversation_id WHERE c.contact_id = k.id) AS messages,
                   r.granted, r.recorded_at,
                   ARRAY(SELECT g.score FROM ratings g WHERE g.contact_id = k.id
                            AND g.score IS NOT NULL ORDER BY g.rated_at, g.id) AS scores,
                   ARRAY(SELECT g.rated_at FROM ratings g WHERE g.contact_id = k.id
                            AND g.score IS NOT NULL ORDER BY g.rated_at, g.id) AS rated
              FROM contacts k
              LEFT JOIN LATERAL (SELECT granted, recorded_at FROM consent_records
                                  WHERE contact_id = k.id ORDER BY id DESC LIMIT 1) r ON true
             WHERE k.id = $1
            """,
            contact_id,
        )
        if row is None:
            return None
        return DataSummary(
            display_name=row["display_name"],
            language=row["language"],
            channels=tuple(row["channels"]),
            conversations=row["conversations"],
            messages=row["messages"],
            first_contact=row["created_at"],
            consent=row["granted"],
            consent_at=row["recorded_at"],
            ratings=tuple(zip(row["scores"], row["rated"], strict=True)),
        )

    async def export(self, contact_id: int) -> dict[str, Any]:
        """Everything stored about a contact, as JSON-ready data."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True):
            contact = await conn.fetchrow(_EXPORT_CONTACT, contact_id)
            if contact is None:
                return {}
            rows = {name: await conn.fetch(sql, contact_id) for name, sql in _EXPORT_ROWS.items()}
        return {
            "contact": _plain(contact),
            "channel_identities": [_plain(r) for r in rows["channel_identities"]],
            "conversations": _conversations(
                rows["conversations"], rows["messages"], rows["handoffs"]
            ),
            "consent_records": [_plain(r) for r in rows["consent_records"]],
            "ratings": [_plain(r) for r in rows["ratings"]],
        }

    async def erase(
        self,
        contact_id: int,
        requested_by: str,
        channel: str | None,
        confirmation: Confirmation | None,
    ) -> dict[str, int] | None:
        """Erase a contact at once, audit it, queue the confirmation; None when unknown."""
        counts = await self._pool.fetchval(
            "SELECT erase_contact($1, $2, $3, $4, $5, $6)",
            contact_id,
            requested_by,
            channel,
            confirmation.message_id if confirmation else None,
            confirmation.address if confirmation else None,
            confirmation.text if confirmation else None,
        )
        return None if counts is None else dict(json.loads(counts))

    async def pending_erasures(self) -> list[Person]:
        """Erased contacts whose copies elsewhere are not removed yet."""
        rows = await self._pool.fetch(
            "SELECT contact_id, identities FROM erasures_pending ORDER BY created_at"
        )
        return [
            Person(
                r["contact_id"],
                tuple(
                    Identity(i["channel"], i["external_id"]) for i in json.loads(r["identities"])
                ),
            )
            for r in rows
        ]

    async def finish_erasure(self, contact_id: int) -> None:
        """Note that an erasure's copies elsewhere are gone."""
        await self._pool.execute("DELETE FROM erasures_pending WHERE contact_id = $1", contact_id)

    async def audit(self, action: str, requested_by: str, channel: str | None) -> None:
        """Record an export (no personal data in the record)."""
        await self._pool.execute(
            "INSERT INTO privacy_audit (action, requested_by, channel) VALUES ($1, $2, $3)",
            action,
            requested_by,
            channel,
        )

    async def apply_retention(
        self, cutoff: datetime, tombstone_cutoff: datetime
    ) -> RetentionResult:
        """Remove what is older than the cutoff and audit it; idempotent."""
        row = await self._pool.fetchrow(
            "SELECT * FROM apply_retention($1, $2)", cutoff, tombstone_cutoff
        )
        assert row is not None  # the function always returns one row
        return RetentionResult(
            counts=dict(json.loads(row["counts"])),
            erased_contacts=tuple(row["erased_contacts"]),
            trimmed_contacts=tuple(row["trimmed_contacts"]),
        )

    async def summaries_of(self, contact_id: int) -> list[tuple[int, str]]:
        """The contact's remaining conversation summaries, by conversation id."""
        rows = await self._pool.fetch(
            "SELECT id, summary FROM conversations WHERE contact_id = $1"
            " AND summary IS NOT NULL ORDER BY id",
            contact_id,
        )
        return [(r["id"], r["summary"]) for r in rows]


def _plain(row: asyncpg.Record, drop: str | None = None) -> dict[str, Any]:
    """A row as JSON-ready values: times in ISO 8601."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
        if key != drop
    }


def _conversations(
    conversations: Sequence[asyncpg.Record],
    messages: Sequence[asyncpg.Record],
    handoffs: Sequence[asyncpg.Record],
) -> list[dict[str, Any]]:
    """Each conversation with its own messages and handoffs inside it."""
    return [
        {
            **_plain(c),
            "messages": [
                _plain(m, drop="conversation_id")
                for m in messages
                if m["conversation_id"] == c["id"]
            ],
            "handoffs": [
                _plain(h, drop="conversation_id")
                for h in handoffs
                if h["conversation_id"] == c["id"]
            ],
        }
        for c in conversations
    ]
