"""Email channel, inbound and pure: raw RFC 5322 bytes to a ParsedEmail, automatic mail flagged.

Broken mail is read as far as it goes: unknown or wrong charsets, missing boundaries and malformed
headers never raise. Mail never to be answered gets a `skip_reason` and the header behind it.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Final

import structlog

from channels.base import PayloadError
from channels.email.auto_mail import automatic_reason
from channels.email.decoding import (
    decode_bytes,
    decode_header,
    one_line,
    unescape_header,
)
from channels.email.quotes import extract_reply, html_to_text, normalise_whitespace
from channels.email.residue import readable, without_mime_lines
from core.messages import Attachment

log = structlog.get_logger(__name__)

MAX_PARTS: Final = 200  # MIME parts read per mail; the rest is ignored (enclosed-endless has 3000)
MAX_DEPTH: Final = 20  # multipart nesting read per mail
_DETAIL_CHARS: Final = 200
_NOT_FILES: Final = frozenset({  # signatures and encryption envelopes, not files
    "application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature",
    "application/pgp-encrypted",
})  # fmt: skip
_MIME_TYPE: Final = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_FORWARD: Final = re.compile(r"^\s*(fwd?|wg|tr|rv|转发|轉寄|轉發|転送)\s*[:\uff1a]", re.I)
_HTML_TAG: Final = re.compile(r"<(html|body|div|p|br|table)\b", re.I)
_ANGLE_ID: Final = re.compile(r"<[^<>\s\x00-\x1f\x7f]+>")
_ADDRESS: Final = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """One inbound email, decoded and classified; `skip_reason` set means never answer it."""

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str
    sender_name: str | None
    recipients: tuple[str, ...]
    subject: str
    text: str
    full_text: str
    attachments: tuple[Attachment, ...]
    date: datetime | None
    skip_reason: str | None
    skip_detail: str | None


def parse_email(raw: bytes, own_addresses: Collection[str] = ()) -> ParsedEmail:
    """Parse one raw email; raise PayloadError only when it is not an email at all."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise PayloadError("empty email")
    own = frozenset(address.strip().lower() for address in own_addresses)
    try:
        return _parse(email.message_from_bytes(bytes(raw), policy=email.policy.default), own)
    except PayloadError:
        raise
    except Exception as exc:  # policy.default raises on some malformed headers; compat32 does not
        log.info("email.reparsed_compat32", error=repr(exc))
        return _parse(email.message_from_bytes(bytes(raw), policy=email.policy.compat32), own)


@dataclass(slots=True)
class _Walk:
    """What a walk over the MIME tree found besides text."""

    parts: int = 0
    attachments: list[Attachment] = field(default_factory=list)
    types: set[str] = field(default_factory=set)


def _parse(msg: Message, own: frozenset[str]) -> ParsedEmail:
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), []).append(re.sub(r"\r?\n", "", str(value)))
    charset = msg.get_content_charset()  # for raw 8-bit headers, the body's is the best guess
    first = {name: decode_header(values[0], charset) for name, values in headers.items()}
    senders = _addresses(headers.get("from", [])[:1], charset)
    sender, sender_name = senders[0] if senders else ("", None)
    recipients = _addresses(
        headers.get("to", []) + headers.get("cc", []) + headers.get("delivered-to", []), charset
    )
    walk = _Walk()
    full_text = normalise_whitespace(_text_of(msg, 0, walk))
    skip = automatic_reason(msg, first, walk.types, sender, own)
    # What complaint loops (JMRP and the like) send: the original alone. A person forwarding a
    # mail as an attachment says so in the subject.
    only_enclosed = not full_text.strip() and _only_enclosed_mail(walk.attachments)
    if skip is None and only_enclosed and not _FORWARD.match(first.get("subject", "")):
        skip = "complaint", "no text, only an enclosed email"
    if not sender and skip is None:
        raise PayloadError("not an email: no sender address" if headers else "not an email")
    references = _ANGLE_ID.findall(decode_header(" ".join(headers.get("references", []))))
    return ParsedEmail(
        message_id=_first_id(first.get("message-id", "")),
        in_reply_to=_first_id(first.get("in-reply-to", "")),
        references=tuple(dict.fromkeys(references)),
        sender=sender,
        sender_name=sender_name,
        recipients=tuple(dict.fromkeys(address for address, _ in recipients)),
        subject=first.get("subject", ""),
        text=extract_reply(full_text),
        full_text=full_text,
        attachments=tuple(walk.attachments),
        date=_date(first.get("date", "")),
        skip_reason=skip[0] if skip else None,
        skip_detail=skip[1][:_DETAIL_CHARS] if skip else None,
    )


def _text_of(part: Message, depth: int, walk: _Walk) -> str:
    """The text of a MIME part; files go to walk.attachments; bounded in parts and depth."""
    walk.parts += 1
    if walk.parts > MAX_PARTS or depth > MAX_DEPTH:
        return ""
    ctype = part.get_content_type()
    walk.types.add(ctype)
    if ctype.startswith("message/"):  # an enclosed email is a file; reports are not
        if ctype in ("message/rfc822", "message/global"):
            walk.attachments.append(Attachment("email", _filename(part), _mime_type(ctype)))
        return ""
    # Only a multipart's payload is read undecoded: for a single part that would decode 8-bit
    # text in the declared charset, which raises for labels such as "idna" or a NUL in the name.
    payload = part.get_payload() if part.is_multipart() else None
    if isinstance(payload, list):
        children = [child for child in payload if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            return _alternative(children, depth, walk)
        texts = (_text_of(child, depth + 1, walk) for child in children)
        return "\n\n".join(text for text in texts if text.strip())
    filename = _filename(part)
    body = ctype in ("text/plain", "text/html") or ctype.startswith("multipart/")  # no boundary
    if body and filename is None and part.get_content_disposition() != "attachment":
        data = part.get_payload(decode=True)
        text = decode_bytes(data if isinstance(data, bytes) else b"", part.get_content_charset())
        html = ctype == "text/html"
        if ctype.startswith("multipart/"):  # its boundary was never found: drop the MIME lines
            text = without_mime_lines(text)
            html = _HTML_TAG.search(text) is not None  # the lost part may be the HTML version
        text = readable(text)  # before HTML rendering, which joins the residue's lines
        return readable(html_to_text(text)) if html else text
    if ctype not in _NOT_FILES:
        main = ctype.partition("/")[0]
        kind = main if main in ("image", "audio", "video") else "document"
        walk.attachments.append(Attachment(kind, filename, _mime_type(ctype)))
    return ""


def _only_enclosed_mail(attachments: list[Attachment]) -> bool:
    """Whether everything besides text is enclosed email (and there is some)."""
    return bool(attachments) and all(a.kind == "email" for a in attachments)


def _alternative(children: list[Message], depth: int, walk: _Walk) -> str:
    """Plain text if it says anything, else the richest version that does (HTML as text)."""
    versions: list[tuple[bool, str, list[Attachment]]] = []
    for child in children:
        mark = len(walk.attachments)
        text = _text_of(child, depth + 1, walk)
        versions.append((child.get_content_type() == "text/plain", text, walk.attachments[mark:]))
        del walk.attachments[mark:]
    useful = [version for version in versions if version[1].strip()]
    plain = [version for version in useful if version[0]]
    chosen = plain[0] if plain else useful[-1] if useful else None
    if chosen is None:
        return ""
    walk.attachments.extend(chosen[2])
    return chosen[1]


def _mime_type(ctype: str) -> str:
    """The content type as recorded: a well-formed type, else the generic one for a file."""
    return ctype if _MIME_TYPE.fullmatch(ctype) else "application/octet-stream"


def _filename(part: Message) -> str | None:
    name = part.get_filename() or part.get_param("name")
    if isinstance(name, tuple):  # RFC 2231: (charset, language, value)
        name = email.utils.collapse_rfc2231_value(name)
    return (decode_header(name) or None) if isinstance(name, str) else None


def _addresses(values: list[str], charset: str | None) -> list[tuple[str, str | None]]:
    """(lower-cased address, decoded display name) pairs; unparseable values are searched."""
    found: list[tuple[str, str | None]] = []
    for value in values:
        text = unescape_header(
            value, charset
        )  # RFC 2047 words are decoded after the split on commas
        pairs = [(a, n) for n, a in email.utils.getaddresses([text]) if "@" in a]
        for address, name in pairs or [(a, "") for a in _ADDRESS.findall(decode_header(text))]:
            address = one_line(address).replace(" ", "").lower()  # no NUL or control codes
            found.append((address, decode_header(name, charset) or None))
    return found


def _first_id(value: str) -> str | None:
    match = _ANGLE_ID.search(value)
    return match.group(0) if match else (value.split()[0] if value.split() else None)


def _date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is not None and parsed.tzinfo is None:  # "-0000": the zone is unknown, the time UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
