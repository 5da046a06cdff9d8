"""Conversation storage: the ConversationStore protocol and its PostgreSQL implementation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from core.messages import InboundMessage, Reply
from core.store_records import (
    ContactProfile,
    InboundRecord,
    KnowledgeDocumentRow,
    RecordedReply,
    StaffRelay,
)


class ConversationStore(Protocol):
    """What the conversation core needs from durable storage."""

    async def record_inbound(self, message: InboundMessage) -> InboundRecord | None:
        """Store an inbound message; None when its provider id was already stored."""
        ...

    async def record_reply(
        self,
        record: InboundRecord,
        reply: Reply,
        address: str,
        confidence: float,
        detail: str,
        handoff_due: datetime | None = None,
    ) -> RecordedReply:
        """Store the reply as a pending outbound message to `address`, with conversation state.

        An escalating reply opens a handoff due at `handoff_due`, unless one is already open.
        """
        ...

    async def record_staff_reply(
        self, token: str, message: InboundMessage, text: str, back_to_bot: bool
    ) -> StaffRelay | None:
        """Store a staff reply to a handoff and queue it to the customer; None if unknown/seen."""
        ...

    async def record_forward(self, record: InboundRecord, text: str) -> int | None:
        """Queue a customer's message to staff in the handoff thread; None without a handoff."""
        ...

    async def hold_outside_window(self, outbound_id: int, note: str, token: str) -> bool:
        """Hold a staff reply the channel may not send now (WhatsApp after 24 hours)."""
        ...

    async def remember_language(self, contact_id: int, language: str) -> None:
        """Keep the language a customer writes in."""
        ...

    async def record_consent(
        self, contact_id: int, channel: str, granted: bool, notice: str
    ) -> None:
        """Record a customer's answer to the privacy notice, with the notice they saw."""
        ...

    async def release_held(self, record: InboundRecord) -> int:
        """The customer wrote: held replies go out as answers to this message."""
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
        row = await self._pool.fetchrow(
            "SELECT * FROM record_inbound($1, $2, $3, $4, $5, $6, $7)",
            message.channel.value,
            message.external_user_id,
            message.provider_message_id,
            message.text,
            message.received_at,
            message.display_name,
            self._idle_gap,
        )
        if row is None:
            return None
        return InboundRecord(
            message_id=row["message_id"],
            conversation_id=row["conversation_id"],
            conversation_status=row["status"],
            misses_in_a_row=row["misses"],
            profile=ContactProfile(
                contact_id=row["contact_id"],
                display_name=row["display_name"],
                language=row["language"],
                returning=row["is_returning"],
                earlier_summaries=tuple(row["summaries"]),
                consent=row["consent"],
            ),
            closed_conversation=(
                (row["closed_conversation_id"], row["closed_summary"])
                if row["closed_conversation_id"] is not None
                else None
            ),
        )

    async def record_reply(
        self,
        record: InboundRecord,
        reply: Reply,
        address: str,
        confidence: float,
        detail: str,
        handoff_due: datetime | None = None,
    ) -> RecordedReply:
        """Store the reply as a pending outbound message to `address`, with conversation state."""
        choices = [{"label": c.label, "entry_id": c.entry_id} for c in reply.choices]
        row = await self._pool.fetchrow(
            "SELECT * FROM record_reply($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11)",
            record.conversation_id,
            record.message_id,
            address,
            reply.text,
            json.dumps(choices),
            confidence,
            reply.escalate,
            list(reply.source_entry_ids),
            reply.reason,
            detail,
            handoff_due,
        )
        assert row is not None  # the function always returns one row
        return RecordedReply(row["message_id"], row["escalation_id"])

    async def record_staff_reply(
        self, token: str, message: InboundMessage, text: str, back_to_bot: bool
    ) -> StaffRelay | None:
        """Store a staff reply to a handoff and queue it to the customer; None if unknown/seen."""
        row = await self._pool.fetchrow(
            "SELECT * FROM record_staff_reply($1, $2, $3, $4, $5)",
            token,
            message.provider_message_id,
            text,
            message.external_user_id,
            back_to_bot,
        )
        if row is None:
            return None
        return StaffRelay(row["conversation_id"], row["staff_message_id"], row["outbound_id"])

    async def record_forward(self, record: InboundRecord, text: str) -> int | None:
        """Queue a customer's message to staff in the handoff thread; None without a handoff."""
        value = await self._pool.fetchval(
            "SELECT record_forward($1, $2, $3)", record.conversation_id, record.message_id, text
        )
        return int(value) if value is not None else None

    async def hold_outside_window(self, outbound_id: int, note: str, token: str) -> bool:
        """Hold a staff reply the channel may not send now (WhatsApp after 24 hours)."""
        held = await self._pool.fetchval(
            "SELECT hold_outside_whatsapp_window($1, $2, $3)", outbound_id, note, token
        )
        return bool(held)

    async def record_consent(
        self, contact_id: int, channel: str, granted: bool, notice: str
    ) -> None:
        """Record a customer's answer to the privacy notice, with the notice they saw."""
        await self._pool.execute(
            "INSERT INTO consent_records (contact_id, channel, granted, notice_text)"
            " VALUES ($1, $2, $3, $4)",
            contact_id,
            channel,
            granted,
            notice,
        )

    async def remember_language(self, contact_id: int, language: str) -> None:
        """Keep the language a customer writes in."""
        await self._pool.execute(
            "UPDATE contacts SET language = $2, updated_at = now()"
            " WHERE id = $1 AND language IS DISTINCT FROM $2",
            contact_id,
            language,
        )

    async def release_held(self, record: InboundRecord) -> int:
        """The customer wrote: held replies go out as answers to this message."""
        count = await self._pool.fetchval(
            "SELECT release_held($1, $2)", record.conversation_id, record.message_id
        )
        return int(count or 0)

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
