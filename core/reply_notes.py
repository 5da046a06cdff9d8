"""Notes put around an answer: the ID warning, the too-long note, attachments left out."""

from __future__ import annotations

from dataclasses import replace

from core import texts
from core.compose import Composition
from core.language import Language
from core.messages import InboundMessage


def paragraphs(*parts: str) -> str:
    """The non-empty parts of a reply, a blank line between them (none left dangling)."""
    return "\n\n".join(part for part in parts if part)


def with_notes(
    composition: Composition,
    message: InboundMessage,
    too_long: bool,
    max_chars: int,
    language: Language,
) -> Composition:
    """The reply with what the customer should know about how their message was read."""
    if message.ids_masked:
        warning = texts.text("nric_warning", language)
        composition = replace(composition, text=paragraphs(warning, composition.text))
    if too_long:
        # Only the start was read; say so instead of pretending to answer it all.
        limit = texts.text("too_long", language, limit=str(max_chars))
        composition = replace(composition, text=paragraphs(limit, composition.text))
    if message.attachments_dropped:
        kept = len(message.attachments)
        note = texts.text(
            "email.attachments_dropped",
            language,
            count=str(kept + message.attachments_dropped),
            limit=str(kept),
            dropped=str(message.attachments_dropped),
        )
        composition = replace(composition, text=paragraphs(composition.text, note))
    return composition
