"""What the stores hand back: the contact, the stored inbound message, relays, document rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """What the bot knows about a person when it answers them."""

    contact_id: int
    display_name: str | None
    language: str | None
    returning: bool
    earlier_summaries: tuple[str, ...]
    consent: bool | None = None
    """The customer's latest answer to the privacy notice; None when never recorded."""


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A newly stored inbound message and where it belongs."""

    message_id: int
    conversation_id: int
    conversation_status: str
    misses_in_a_row: int
    profile: ContactProfile
    closed_conversation: tuple[int, str] | None = None
    """The contact's previous conversation and its summary, when this message closed it."""


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """Ids of a stored reply and of the escalation it opened, if any."""

    message_id: int
    escalation_id: int | None


@dataclass(frozen=True, slots=True)
class StaffRelay:
    """A staff reply stored and queued to the customer (no outbound id when it had no text)."""

    conversation_id: int
    staff_message_id: int
    outbound_id: int | None


@dataclass(frozen=True, slots=True)
class KnowledgeDocumentRow:
    """A knowledge file as the database remembers it."""

    path: str
    content_hash: str
    chunk_count: int
    state: str
    error: str | None
    updated_at: datetime
