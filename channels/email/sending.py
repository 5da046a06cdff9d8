"""Email as a channel: parsed mail to inbound messages, and threaded replies out over SMTP."""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import aiosmtplib

from channels.base import Ignored, Parsed, SendError
from channels.email import NAME
from channels.email.parsing import ParsedEmail
from channels.numbered_choices import render_choices
from core.messages import Choice, InboundMessage
from core.redaction import mask_nric

TokenSource = Callable[[], Awaitable[str]]
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class SmtpAccount:
    """How to reach the outgoing mail server: STARTTLS, implicit TLS or (locally) plain."""

    host: str
    port: int
    username: str | None
    password: str | None
    security: str = "starttls"  # "starttls", "tls" or "none"
    oauth2: TokenSource | None = None


class SmtpMailer:
    """Sends one email per call through aiosmtplib, mapping failures to SendError."""

    def __init__(self, account: SmtpAccount, timeout: float = 30.0) -> None:
        self._account = account
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Hand a message to the SMTP server; SendError says whether a retry can help."""
        a = self._account
        try:
            await aiosmtplib.send(
                message,
                hostname=a.host,
                port=a.port,
                username=a.username,
                password=a.password if a.oauth2 is None else None,
                oauth_token_generator=a.oauth2,
                use_tls=a.security == "tls",
                start_tls=a.security == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPResponseException as error:
            # 4xx: try later (greylisting, throttling); 5xx: the server will never take it.
            permanent = 500 <= error.code < 600
            raise SendError(
                f"SMTP {error.code}: {error.message}", retryable=not permanent
            ) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendError(f"SMTP server unreachable: {error!r}", retryable=True) from error


def reply_route(parsed: ParsedEmail) -> str:
    """Where and how a reply to this mail goes, in the email channel's address notation.

    The route is stored with the reply; an NRIC/FIN in the subject or name is masked in it.
    """
    references = [*parsed.references, *([parsed.message_id] if parsed.message_id else [])]
    name = mask_nric(parsed.sender_name)[0] if parsed.sender_name else parsed.sender_name
    return json.dumps(
        {
            "to": parsed.sender,
            "name": name,
            "subject": mask_nric(parsed.subject)[0],
            "in_reply_to": parsed.message_id,
            "references": references[-MAX_REFERENCES:],
        },
        ensure_ascii=False,
    )


def to_inbound(parsed: ParsedEmail, raw: bytes, max_attachments: int | None = None) -> Parsed:
    """A customer's mail as an inbound message, or why it is not answered.

    With `max_attachments`, only the first that many attachments are recorded; the mail is
    answered all the same, and the reply says how many were left out.
    """
    if parsed.skip_reason is not None:
        return Ignored(parsed.skip_reason, parsed.skip_detail)
    text = parsed.text.strip() or parsed.subject.strip()
    if not text and not parsed.attachments:
        return Ignored("empty", f"no text from {parsed.sender}")
    attachments = parsed.attachments[:max_attachments]
    # Mail without a Message-ID still needs a stable id, so a re-read is seen as a duplicate.
    message_id = parsed.message_id or f"<sha256-{hashlib.sha256(raw).hexdigest()}@local>"
    return InboundMessage(
        channel=NAME,
        external_user_id=parsed.sender,
        provider_message_id=message_id,
        text=text,
        received_at=datetime.now(UTC),
        display_name=parsed.sender_name,
        thread_ref=message_id,
        reply_to=reply_route(parsed),
        attachments=attachments,
        attachments_dropped=len(parsed.attachments) - len(attachments),
    )


def dropped_attachments(parsed: ParsedEmail, max_attachments: int) -> int:
    """How many of a mail's attachments `to_inbound` leaves out under the limit."""
    return max(0, len(parsed.attachments) - max_attachments)


def reply_subject(subject: str) -> str:
    """'Re: ' once, whatever the original had."""
    subject = subject.strip() or "Your message"
    return (
        subject
        if subject.lower().startswith(("re:", "aw:", "回复:", "答复:"))
        else f"Re: {subject}"
    )


def text_and_html(message: EmailMessage, text: str) -> None:
    """Set a plain-text body with an HTML alternative (paragraphs, escaped)."""
    message.set_content(text)
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p.strip()
    )
    message.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")


class EmailSender:
    """Replies to customers by email, threaded under their message, marked as automatic."""

    channel = NAME

    def __init__(self, mailer: SmtpMailer, from_address: str, from_name: str) -> None:
        self._mailer = mailer
        self._from = formataddr((from_name, from_address))
        self._domain = from_address.rpartition("@")[2] or "localhost"

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Send one threaded reply; return its Message-ID."""
        try:
            route = json.loads(address)
            to = formataddr((route.get("name") or "", route["to"]))
        except (ValueError, KeyError, TypeError) as error:
            raise SendError(f"unusable email route {address[:80]!r}", retryable=False) from error
        text = render_choices(text, choices, language)
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        message["Subject"] = reply_subject(str(route.get("subject") or ""))
        message_id = make_msgid(domain=self._domain)
        message["Message-ID"] = message_id
        if route.get("in_reply_to"):
            message["In-Reply-To"] = route["in_reply_to"]
        if route.get("references"):
            message["References"] = " ".join(route["references"])
        # RFC 3834: automatic replies say so, so other robots do not answer them.
        message["Auto-Submitted"] = "auto-replied"
        text_and_html(message, text)
        await self._mailer.send(message)
        return [message_id]

    async def acknowledge(self, message: InboundMessage) -> None:
        """Email needs no acknowledgement."""
