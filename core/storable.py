"""Text every store can hold: Unicode NFC, no NUL, no lone surrogates, no invisible controls."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields, replace

from core.messages import Attachment, InboundMessage

# NUL: PostgreSQL's text type refuses it. Lone surrogates: not encodable as UTF-8, so neither
# Redis nor PostgreSQL can take them (JSON and Telegram's "\ud83d" escapes can carry them).
# Other C0/C1 controls but tab, newline and carriage return: invisible, and they break headers
# of the staff handoff email. Each is removed, except surrogates, which become U+FFFD so the
# reader sees something was there.
_DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """The text in NFC with what PostgreSQL, Redis or an email header cannot hold taken out."""
    cleaned = _SURROGATE.sub("\ufffd", _DROPPED.sub("", text))
    return unicodedata.normalize("NFC", cleaned)


def storable_message(message: InboundMessage) -> InboundMessage:
    """The message with every text field made storable (the same object when nothing changes)."""
    changes: dict[str, object] = {}
    for field in fields(message):
        value = getattr(message, field.name)
        if isinstance(value, str):
            cleaned = storable_text(value)
            if cleaned != value:
                changes[field.name] = cleaned
    attachments = tuple(_storable_attachment(a) for a in message.attachments)
    if attachments != message.attachments:
        changes["attachments"] = attachments
    return replace(message, **changes) if changes else message  # type: ignore[arg-type]


def _storable_attachment(attachment: Attachment) -> Attachment:
    """An attachment's name and type made storable."""
    name = storable_text(attachment.name) if attachment.name is not None else None
    mime = storable_text(attachment.mime_type) if attachment.mime_type is not None else None
    return replace(attachment, kind=storable_text(attachment.kind), name=name, mime_type=mime)
