"""Conversation storage: the ConversationStore protocol and its PostgreSQL implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from core.messages import InboundMessage, Reply

# What a pool hands out and what asyncpg.connect returns behave the same for our queries.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """What the bot knows about a person when it answers them."""

    contact_id: int
    display_name: str | None
    language: str | None
    returning: bool
    earlier_summaries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A newly stored inbound message and where it belongs."""

    message_id: int
    conversation_id: int
    conversation_status: str
    misses_in_a_row: int
    profile: ContactProfile


@dataclass(frozen=True, slots=True)
class KnowledgeDocumentRow:
    """A knowledge file as the database remembers it."""

    path: str
    content_hash: str
    chunk_count: int
    state: str
    error: str | None
    updated_at: datetime


class ConversationStore(Protocol):
    """What the conversation core needs from durable storage."""

    async def record_inbound(self, message: InboundMessage) -> InboundRecord | None:
        """Store an inbound message; None when its provider id was already stored."""
        ...

    async def record_reply(self, record: InboundRecord, reply: Reply, confidence: float) -> None:
        """Store the bot's reply and the conversation state it leads to."""
        ...

    async def record_escalation(self, conversation_id: int, trigger: str, detail: str) -> int:
        """Record that a conversation needs a person; return the escalation id."""
        ...


class KnowledgeCatalog(Protocol):
    """What ingestion needs to remember which files are indexed."""

    async def get_document(self, path: str) -> KnowledgeDocumentRow | None:
        """Return the stored row for a path, if any."""
        ...

    async def save_document(
        self, path: str, content_hash: str, chunk_count: int, state: str, error: str | None
    ) -> None:
        """Insert or update a document row."""
        ...

    async def list_documents(self) -> list[KnowledgeDocumentRow]:
        """All known documents, by path."""
        ...

    async def delete_document(self, path: str) -> bool:
        """Forget a document; True when it existed."""
        ...


class PostgresStore:
    """ConversationStore and KnowledgeCatalog on PostgreSQL through asyncpg."""

    def __init__(self, pool: asyncpg.Pool, idle_gap: timedelta = timedelta(hours=24)) -> None:
        self._pool = pool
        # A message after this much silence starts a new conversation.
        self._idle_gap = idle_gap

    async def record_inbound(self, message: InboundMessage) -> InboundRecord | None:
        """Store an inbound message; None when its provider id was already stored."""
        try:
            return await self._insert_inbound(message)
        except _Duplicate:
            return None

    async def _insert_inbound(self, message: InboundMessage) -> InboundRecord:
        """Insert within one transaction; raise _Duplicate to roll back a repeat."""
        async with self._pool.acquire() as conn, conn.transaction():
            contact_id, returning = await self._contact_for(conn, message)
            conversation = await self._open_conversation(conn, contact_id, message)
            message_id = await conn.fetchval(
                "INSERT INTO messages (conversation_id, direction, channel,"
                " provider_message_id, body, created_at)"
                " VALUES ($1, 'inbound', $2, $3, $4, $5)"
                " ON CONFLICT (channel, direction, provider_message_id)"
                " WHERE provider_message_id IS NOT NULL DO NOTHING RETURNING id",
                conversation["id"],
                message.channel.value,
                message.provider_message_id,
                message.text,
                message.received_at,
            )
            if message_id is None:
                # Raising rolls back the contact/conversation touches made above.
                raise _Duplicate
            await conn.execute(
                "UPDATE conversations SET last_message_at = $2 WHERE id = $1",
                conversation["id"],
                message.received_at,
            )
            profile = await self._profile(conn, contact_id, returning, conversation["id"])
            return InboundRecord(
                message_id=message_id,
                conversation_id=conversation["id"],
                conversation_status=conversation["status"],
                misses_in_a_row=conversation["misses_in_a_row"],
                profile=profile,
            )

    async def _contact_for(self, conn: Connection, message: InboundMessage) -> tuple[int, bool]:
        """Find or create the contact behind a channel identity; True when already known."""
        row = await conn.fetchrow(
            "SELECT contact_id FROM channel_identities WHERE channel = $1 AND external_id = $2",
            message.channel.value,
            message.external_user_id,
        )
        if row is not None:
            if message.display_name:
                await conn.execute(
                    "UPDATE contacts SET display_name = $2, updated_at = now()"
                    " WHERE id = $1 AND display_name IS DISTINCT FROM $2",
                    row["contact_id"],
                    message.display_name,
                )
            return int(row["contact_id"]), True
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (display_name) VALUES ($1) RETURNING id", message.display_name
        )
        inserted = await conn.fetchval(
            "INSERT INTO channel_identities (contact_id, channel, external_id) VALUES ($1, $2, $3)"
            " ON CONFLICT (channel, external_id) DO NOTHING RETURNING contact_id",
            contact_id,
            message.channel.value,
            message.external_user_id,
        )
        if inserted is None:
            # Another worker created the identity between our SELECT and INSERT.
            await conn.execute("DELETE FROM contacts WHERE id = $1", contact_id)
            return await self._contact_for(conn, message)
        return int(contact_id), False

    async def _open_conversation(
        self, conn: Connection, contact_id: int, message: InboundMessage
    ) -> asyncpg.Record:
        """Return the contact's open conversation on this channel, closing a stale one."""
        row = await conn.fetchrow(
            "SELECT id, status, misses_in_a_row, last_message_at FROM conversations"
            " WHERE contact_id = $1 AND channel = $2 AND closed_at IS NULL FOR UPDATE",
            contact_id,
            message.channel.value,
        )
        if row is not None and message.received_at - row["last_message_at"] < self._idle_gap:
            return row
        if row is not None:
            await self._close_conversation(conn, row["id"])
        created = await conn.fetchrow(
            "INSERT INTO conversations (contact_id, channel, started_at, last_message_at)"
            " VALUES ($1, $2, $3, $3)"
            " ON CONFLICT (contact_id, channel) WHERE closed_at IS NULL DO NOTHING"
            " RETURNING id, status, misses_in_a_row, last_message_at",
            contact_id,
            message.channel.value,
            message.received_at,
        )
        if created is None:
            return await self._open_conversation(conn, contact_id, message)
        return created

    async def _close_conversation(self, conn: Connection, conversation_id: int) -> None:
        """Close a conversation and keep a short summary of it for next time."""
        topics = await conn.fetch(
            "SELECT direction, body, escalate FROM messages WHERE conversation_id = $1 ORDER BY id",
            conversation_id,
        )
        await conn.execute(
            "UPDATE conversations SET closed_at = now(), summary = $2,"
            " status = CASE WHEN status = 'bot' THEN 'resolved' ELSE status END WHERE id = $1",
            conversation_id,
            summarise_rows(topics),
        )

    async def _profile(
        self, conn: Connection, contact_id: int, returning: bool, current: int
    ) -> ContactProfile:
        """Load name, language and the summaries of earlier conversations."""
        contact = await conn.fetchrow(
            "SELECT display_name, language FROM contacts WHERE id = $1", contact_id
        )
        summaries = await conn.fetch(
            "SELECT summary FROM conversations WHERE contact_id = $1 AND id <> $2"
            " AND summary IS NOT NULL ORDER BY id DESC LIMIT 3",
            contact_id,
            current,
        )
        if contact is None:
            raise LookupError(f"contact {contact_id} vanished inside its own transaction")
        return ContactProfile(
            contact_id=contact_id,
            display_name=contact["display_name"],
            language=contact["language"],
            returning=returning,
            earlier_summaries=tuple(r["summary"] for r in summaries),
        )

    async def record_reply(self, record: InboundRecord, reply: Reply, confidence: float) -> None:
        """Store the bot's reply and the conversation state it leads to."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO messages (conversation_id, direction, channel, body, confidence,"
                " escalate, source_entry_ids)"
                " SELECT $1, 'outbound', channel, $2, $3, $4, $5 FROM conversations WHERE id = $1",
                record.conversation_id,
                reply.text,
                confidence,
                reply.escalate,
                list(reply.source_entry_ids),
            )
            await conn.execute(
                "UPDATE conversations SET misses_in_a_row = $2,"
                " status = CASE WHEN $3 THEN 'escalated' ELSE status END WHERE id = $1",
                record.conversation_id,
                0 if reply.source_entry_ids else record.misses_in_a_row + 1,
                reply.escalate,
            )

    async def record_escalation(self, conversation_id: int, trigger: str, detail: str) -> int:
        """Record that a conversation needs a person; return the escalation id."""
        escalation_id = await self._pool.fetchval(
            "INSERT INTO escalations (conversation_id, trigger, detail) VALUES ($1, $2, $3)"
            " RETURNING id",
            conversation_id,
            trigger,
            detail,
        )
        return int(escalation_id)

    async def set_language(self, contact_id: int, language: str) -> None:
        """Remember the language a contact writes in."""
        await self._pool.execute(
            "UPDATE contacts SET language = $2, updated_at = now() WHERE id = $1",
            contact_id,
            language,
        )

    async def transcript(self, conversation_id: int) -> list[tuple[str, str]]:
        """All messages of a conversation as (direction, text), oldest first."""
        rows = await self._pool.fetch(
            "SELECT direction, body FROM messages WHERE conversation_id = $1 ORDER BY id",
            conversation_id,
        )
        return [(r["direction"], r["body"]) for r in rows]

    async def get_document(self, path: str) -> KnowledgeDocumentRow | None:
        """Return the stored row for a path, if any."""
        row = await self._pool.fetchrow("SELECT * FROM knowledge_documents WHERE path = $1", path)
        return _document_row(row) if row else None

    async def save_document(
        self, path: str, content_hash: str, chunk_count: int, state: str, error: str | None
    ) -> None:
        """Insert or update a document row."""
        await self._pool.execute(
            "INSERT INTO knowledge_documents (path, content_hash, chunk_count, state, error)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (path) DO UPDATE SET"
            " content_hash = $2, chunk_count = $3, state = $4, error = $5, updated_at = now()",
            path,
            content_hash,
            chunk_count,
            state,
            error,
        )

    async def list_documents(self) -> list[KnowledgeDocumentRow]:
        """All known documents, by path."""
        rows = await self._pool.fetch("SELECT * FROM knowledge_documents ORDER BY path")
        return [_document_row(r) for r in rows]

    async def delete_document(self, path: str) -> bool:
        """Forget a document; True when it existed."""
        result = await self._pool.execute("DELETE FROM knowledge_documents WHERE path = $1", path)
        return bool(result.endswith(" 1"))


class _Duplicate(Exception):
    """Internal: the inbound message was already stored."""


def summarise_rows(rows: Sequence[asyncpg.Record]) -> str:
    """A short, extractive summary of a conversation: what was asked, whether staff took over."""
    questions = [r["body"][:120] for r in rows if r["direction"] == "inbound"][:5]
    parts = [f"Asked: {'; '.join(questions)}."] if questions else []
    if any(r["escalate"] for r in rows):
        parts.append("Handed to staff.")
    return " ".join(parts) or "Short conversation."


def _document_row(row: asyncpg.Record) -> KnowledgeDocumentRow:
    """Turn a knowledge_documents row into its dataclass."""
    return KnowledgeDocumentRow(
        path=row["path"],
        content_hash=row["content_hash"],
        chunk_count=row["chunk_count"],
        state=row["state"],
        error=row["error"],
        updated_at=row["updated_at"],
    )
