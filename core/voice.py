"""Voice notes read as text: the Transcriber collaborator and the message its words make."""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Protocol

from core.messages import Attachment, InboundMessage
from core.redaction import hide_ids
from core.storable import storable_text

VOICE_KINDS: Final = frozenset({"voice", "audio"})
"""Attachment kinds that are speech: Telegram's voice and audio, WhatsApp's audio."""


class Transcriber(Protocol):
    """Turns a voice note into words; the process's channels know where to fetch it."""

    async def transcribe(self, message: InboundMessage, note: Attachment) -> str | None:
        """The words spoken in the note; None when it cannot be read (too long, an error)."""
        ...


def voice_note(message: InboundMessage) -> Attachment | None:
    """The message's voice note or audio, when that alone is what the customer sent."""
    if message.text.strip() or message.flooding or message.unreadable:
        return None
    if len(message.attachments) != 1:
        return None
    note = message.attachments[0]
    return note if note.kind in VOICE_KINDS and note.source else None


async def transcribed(
    message: InboundMessage, transcriber: Transcriber | None, max_chars: int
) -> InboundMessage:
    """The message with its voice note's words as its text, NRIC numbers hidden; else as it was.

    The attachment stays, so staff still see a voice note was sent; the audio is never kept.
    """
    note = voice_note(message)
    if transcriber is None or note is None:
        return message
    words = storable_text(await transcriber.transcribe(message, note) or "").strip()
    if not words:
        return message
    return hide_ids(replace(message, text=words[:max_chars]))
