"""Route each new mail: staff replies to their handoff or report, customers to the queue."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection

import structlog
from redis.asyncio import Redis

from channels.base import Ignored, Parsed, PayloadError
from channels.email import NAME
from channels.email.notices import EmailNotices, size_text
from channels.email.parsing import ParsedEmail, parse_email
from channels.email.polling import HEADER_BYTES
from channels.email.sending import reply_route, to_inbound
from channels.plug import Intake
from core.learning import REPORT_THREAD
from core.messages import ChannelName, InboundMessage

log = structlog.get_logger(__name__)
_PLUS_TOKEN = re.compile(r"\+h([0-9a-f]{32})@", re.IGNORECASE)
_HANDOFF_ID = re.compile(r"<handoff-([0-9a-f]{32})@", re.IGNORECASE)
_REPORT_PLUS = re.compile(r"\+r([A-Za-z0-9_-]{8,64})@")
_REPORT_ID = re.compile(r"<report-([A-Za-z0-9_-]{8,64})@")


def handoff_token(parsed: ParsedEmail) -> str | None:
    """The handoff a mail answers: from the plus address it was sent to, or its thread headers."""
    for recipient in parsed.recipients:
        if match := _PLUS_TOKEN.search(recipient):
            return match.group(1).lower()
    for reference in (parsed.in_reply_to or "", *parsed.references):
        if match := _HANDOFF_ID.search(reference):
            return match.group(1).lower()
    return None


def report_token(parsed: ParsedEmail) -> str | None:
    """The owner report a mail answers: from the plus address or its thread headers."""
    for recipient in parsed.recipients:
        if match := _REPORT_PLUS.search(recipient):
            return match.group(1)
    for reference in (parsed.in_reply_to or "", *parsed.references):
        if match := _REPORT_ID.search(reference):
            return match.group(1)
    return None


class EmailIngress:
    """The IMAP reader's handler: parse, classify, rate-limit, hand over."""

    def __init__(
        self,
        ingress: Intake,
        redis: Redis,
        own_addresses: Collection[str],
        staff_addresses: Collection[str],
        max_per_sender_per_hour: int = 10,
        *,
        notices: EmailNotices | None = None,
        max_bytes: int | None = None,
        max_attachments: int | None = None,
    ) -> None:
        self._ingress = ingress
        self._redis = redis
        self._own = [a.lower() for a in own_addresses]
        self._staff = {a.lower() for a in staff_addresses}
        self._max = max_per_sender_per_hour
        self._notices = notices
        self._max_bytes = max_bytes
        self._max_attachments = max_attachments

    async def handle(self, uid: int, raw: bytes) -> None:
        """Handle one raw mail; errors propagate, and the reader sets the mail aside."""
        if self._max_bytes is not None and len(raw) > self._max_bytes:
            # The server did not say the size before sending it all: read only the headers.
            await self.too_large(uid, header_section(raw), len(raw))
            return
        parsed = parse_email(raw, own_addresses=self._own)
        report = report_token(parsed) if parsed.skip_reason is None else None
        if report is not None:
            await self._report_reply(parsed, report, raw)
            return
        token = handoff_token(parsed)
        if parsed.sender in self._staff and parsed.skip_reason is None:
            await self._staff_reply(parsed, token, raw)
            return
        if token is not None and parsed.skip_reason is None:
            # Only configured staff may answer customers through a handoff.
            await self._ingress.accept(NAME, Ignored("handoff_reply_not_from_staff", parsed.sender))
            return
        outcome = to_inbound(parsed, raw, self._max_attachments)
        if isinstance(outcome, InboundMessage) and await self._flooding(parsed.sender):
            outcome = Ignored("rate_limited", parsed.sender)
        if isinstance(outcome, InboundMessage) and outcome.attachments_dropped:
            log.warning(
                "email_attachments_dropped",
                mail=outcome.provider_message_id,
                dropped=outcome.attachments_dropped,
                kept=len(outcome.attachments),
            )
        await self._ingress.accept(NAME, outcome)

    async def too_large(self, uid: int, headers: bytes, size: int) -> None:
        """A mail over the size limit, read no further than its headers: tell the sender once.

        Robots (auto-replies, bounces, lists) are not told. A refused notice raises SendError,
        so the reader flags the mail as failed as well.
        """
        try:
            parsed = parse_email(headers, own_addresses=self._own)
        except PayloadError as error:
            outcome = f"not told: {error}"
        else:
            outcome = await self._tell_too_large(parsed, headers, size)
        await self._ingress.accept(NAME, Ignored("too_large", f"{size} B; {outcome}"))

    async def _tell_too_large(self, parsed: ParsedEmail, headers: bytes, size: int) -> str:
        """Send the too-large notice unless a robot or a flood sent the mail; say what was done."""
        if parsed.skip_reason is not None:
            return f"not told: {parsed.skip_reason} from {parsed.sender}"
        if await self._flooding(parsed.sender):
            return f"not told: rate limited, {parsed.sender}"
        if self._notices is None:
            return f"not told: no sender configured, {parsed.sender}"
        mail_id = parsed.message_id or f"<sha256-{hashlib.sha256(headers).hexdigest()}@local>"
        limit = size_text(self._max_bytes or size)
        await self._notices.send(
            parsed, mail_id, "email.too_large", size=size_text(size), limit=limit
        )
        return f"told {parsed.sender}"

    async def _staff_reply(self, parsed: ParsedEmail, token: str | None, raw: bytes) -> None:
        """A staff member's mail: relay it when it answers a handoff."""
        if token is None:
            await self._ingress.accept(
                ChannelName.STAFF, Ignored("staff_mail_without_handoff", parsed.subject[:80])
            )
            return
        await self._ingress.accept(ChannelName.STAFF, staff_message(parsed, raw, token))

    async def _report_reply(self, parsed: ParsedEmail, token: str, raw: bytes) -> None:
        """A reply to an owner report: only staff may approve; the core checks the token."""
        if parsed.sender not in self._staff:
            await self._ingress.accept(NAME, Ignored("report_reply_not_from_staff", parsed.sender))
            return
        # The confirmation goes back in the same thread.
        message = staff_message(parsed, raw, REPORT_THREAD + token, reply_route(parsed))
        await self._ingress.accept(ChannelName.STAFF, message)

    async def _flooding(self, sender: str) -> bool:
        """More mail from one sender this hour than a person writes: stop answering (loops)."""
        key = f"email:rate:{sender}"
        count = int(await self._redis.incr(key))
        if count == 1:
            await self._redis.expire(key, 3600)
        return count > self._max


def staff_message(
    parsed: ParsedEmail, raw: bytes, thread_ref: str, reply_to: str | None = None
) -> Parsed:
    """A staff member's mail as the core reads it: the body only (the subject is no answer to
    a customer), tied to the handoff or report named by `thread_ref`."""
    inbound = to_inbound(parsed, raw)
    if not isinstance(inbound, InboundMessage):
        return inbound
    return InboundMessage(
        channel=ChannelName.STAFF,
        external_user_id=parsed.sender,
        provider_message_id=inbound.provider_message_id,
        text=parsed.text.strip(),
        received_at=inbound.received_at,
        display_name=parsed.sender_name,
        thread_ref=thread_ref,
        reply_to=reply_to,
    )


def header_section(raw: bytes) -> bytes:
    """A raw mail's header section, at most as much as the reader fetches of a large mail."""
    ends = [end + len(blank) for blank in (b"\r\n\r\n", b"\n\n") if (end := raw.find(blank)) >= 0]
    return raw[: min([*ends, HEADER_BYTES])]
