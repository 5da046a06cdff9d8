"""Route each new mail: staff replies to their handoff, customers to the queue, robots nowhere."""

from __future__ import annotations

import re
from collections.abc import Collection

import structlog
from redis.asyncio import Redis

from bot.ingress import Ingress
from channels.base import Ignored
from channels.email import to_inbound
from channels.email_parsing import ParsedEmail, parse_email
from core.messages import ChannelName, InboundMessage

log = structlog.get_logger(__name__)
_PLUS_TOKEN = re.compile(r"\+h([0-9a-f]{32})@", re.IGNORECASE)
_HANDOFF_ID = re.compile(r"<handoff-([0-9a-f]{32})@", re.IGNORECASE)


def handoff_token(parsed: ParsedEmail) -> str | None:
    """The handoff a mail answers: from the plus address it was sent to, or its thread headers."""
    for recipient in parsed.recipients:
        if match := _PLUS_TOKEN.search(recipient):
            return match.group(1).lower()
    for reference in (parsed.in_reply_to or "", *parsed.references):
        if match := _HANDOFF_ID.search(reference):
            return match.group(1).lower()
    return None


class EmailIngress:
    """The IMAP reader's handler: parse, classify, rate-limit, hand over."""

    def __init__(
        self,
        ingress: Ingress,
        redis: Redis,
        own_addresses: Collection[str],
        staff_addresses: Collection[str],
        max_per_sender_per_hour: int = 10,
    ) -> None:
        self._ingress = ingress
        self._redis = redis
        self._own = [a.lower() for a in own_addresses]
        self._staff = {a.lower() for a in staff_addresses}
        self._max = max_per_sender_per_hour

    async def handle(self, uid: int, raw: bytes) -> None:
        """Handle one raw mail; errors propagate, and the reader sets the mail aside."""
        parsed = parse_email(raw, own_addresses=self._own)
        token = handoff_token(parsed)
        if parsed.sender in self._staff and parsed.skip_reason is None:
            await self._staff_reply(parsed, token, raw)
            return
        if token is not None and parsed.skip_reason is None:
            # Only configured staff may answer customers through a handoff.
            await self._ingress.accept(
                ChannelName.EMAIL, Ignored("handoff_reply_not_from_staff", parsed.sender)
            )
            return
        outcome = to_inbound(parsed, raw)
        if isinstance(outcome, InboundMessage) and await self._flooding(parsed.sender):
            outcome = Ignored("rate_limited", parsed.sender)
        await self._ingress.accept(ChannelName.EMAIL, outcome)

    async def _staff_reply(self, parsed: ParsedEmail, token: str | None, raw: bytes) -> None:
        """A staff member's mail: relay it when it answers a handoff."""
        if token is None:
            await self._ingress.accept(
                ChannelName.STAFF, Ignored("staff_mail_without_handoff", parsed.subject[:80])
            )
            return
        inbound = to_inbound(parsed, raw)
        if not isinstance(inbound, InboundMessage):
            await self._ingress.accept(ChannelName.STAFF, inbound)
            return
        message = InboundMessage(
            channel=ChannelName.STAFF,
            external_user_id=parsed.sender,
            provider_message_id=inbound.provider_message_id,
            # The subject is no answer to the customer: only the body is relayed.
            text=parsed.text.strip(),
            received_at=inbound.received_at,
            display_name=parsed.sender_name,
            thread_ref=token,
        )
        await self._ingress.accept(ChannelName.STAFF, message)

    async def _flooding(self, sender: str) -> bool:
        """More mail from one sender this hour than a person writes: stop answering (loops)."""
        key = f"email:rate:{sender}"
        count = int(await self._redis.incr(key))
        if count == 1:
            await self._redis.expire(key, 3600)
        return count > self._max
