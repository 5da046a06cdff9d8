"""Handoffs to staff by email: claim the due ones, write the email, send it, record the outcome.

Several bot processes run this job; each due handoff is claimed with a row lock and a lease, so
only one of them sends it. A handoff queued outside business hours becomes due at the opening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from channels.base import SendError
from channels.email.sending import SmtpMailer, text_and_html
from core.messages import ChannelName, Choice, InboundMessage

log = structlog.get_logger(__name__)
_REASONS = {
    "asked_for_human": "asked to talk to a person",
    "no_answer_twice": "asked something the bot could not answer, twice in a row",
    "complaint": "is complaining",
    "angry_tone": "sounds upset",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One message of the conversation, as staff read it."""

    author: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HandoffCase:
    """Everything a handoff email says."""

    escalation_id: int
    token: str
    trigger: str
    channel: str
    customer: str
    customer_id: str
    transcript: tuple[Line, ...]
    sources: tuple[str, ...]


class MailIdentity:
    """The bot's mailbox, and the per-handoff addresses and ids derived from it."""

    def __init__(self, address: str, name: str) -> None:
        self.address = address
        self.name = name
        self.local, _, self.domain = address.partition("@")

    def reply_address(self, token: str) -> str:
        """Plus-addressed, so a staff reply names its handoff even if headers are lost."""
        return f"{self.local}+h{token}@{self.domain}"

    def handoff_id(self, token: str) -> str:
        """The handoff email's Message-ID; replies cite it in In-Reply-To and References."""
        return f"<handoff-{token}@{self.domain}>"

    def report_reply_address(self, token: str) -> str:
        """Where the owner's reply to a report goes: plus-addressed with the report's token."""
        return f"{self.local}+r{token}@{self.domain}"

    def report_id(self, token: str) -> str:
        """An owner report's Message-ID; replies cite it in In-Reply-To and References."""
        return f"<report-{token}@{self.domain}>"


class HandoffStore:
    """Handoff rows in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim_due(self, limit: int, lease: timedelta, now: datetime) -> list[HandoffCase]:
        """Lease up to `limit` handoffs due by `now` that nobody else holds, with transcripts."""
        rows = await self._pool.fetch(
            """
            UPDATE escalations e SET claimed_until = now() + $2::interval, attempts = e.attempts + 1
             WHERE e.id IN (
                SELECT id FROM escalations
                 WHERE status IN ('open', 'queued') AND due_at <= $3
                   AND (claimed_until IS NULL OR claimed_until < now())
                 ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING e.id, e.token, e.trigger, e.conversation_id
            """,
            limit,
            lease,
            now,
        )
        return [await self._case(row) for row in rows]

    async def _case(self, row: asyncpg.Record) -> HandoffCase:
        """Load the conversation and customer behind one handoff."""
        conv = await self._pool.fetchrow(
            "SELECT c.channel, k.display_name, ci.external_id FROM conversations c"
            " JOIN contacts k ON k.id = c.contact_id"
            " LEFT JOIN channel_identities ci ON ci.contact_id = k.id AND ci.channel = c.channel"
            " WHERE c.id = $1",
            row["conversation_id"],
        )
        messages = await self._pool.fetch(
            "SELECT direction, channel, body, created_at, source_entry_ids FROM messages"
            " WHERE conversation_id = $1 ORDER BY id",
            row["conversation_id"],
        )
        customer = (conv["display_name"] if conv else None) or "A customer"
        lines = tuple(
            Line(_author(m["direction"], m["channel"]), m["body"], m["created_at"])
            for m in messages
        )
        sources = tuple(sorted({s for m in messages for s in m["source_entry_ids"]}))
        return HandoffCase(
            escalation_id=row["id"],
            token=row["token"],
            trigger=row["trigger"],
            channel=conv["channel"] if conv else "unknown",
            customer=customer,
            customer_id=(conv["external_id"] if conv else None) or "",
            transcript=lines,
            sources=sources,
        )

    async def mark_sent(self, escalation_id: int, message_id: str) -> None:
        """The handoff email went out."""
        await self._pool.execute(
            "UPDATE escalations SET status = 'sent', sent_at = now(), handoff_message_id = $2,"
            " claimed_until = NULL, last_error = NULL WHERE id = $1",
            escalation_id,
            message_id,
        )

    async def mark_failed(self, escalation_id: int, error: str, retry_in: timedelta) -> None:
        """Sending failed; keep the handoff due and try again after a pause."""
        await self._pool.execute(
            "UPDATE escalations SET last_error = $2, claimed_until = now() + $3::interval"
            " WHERE id = $1",
            escalation_id,
            error[:500],
            retry_in,
        )

    async def hand_back_idle(self, idle: timedelta) -> int:
        """Return human-mode conversations nobody wrote in for `idle` to the bot."""
        result = await self._pool.execute(
            "UPDATE conversations SET status = 'bot', human_since = NULL"
            " WHERE status = 'human' AND last_message_at < now() - $1::interval",
            idle,
        )
        return int(result.split()[-1])


def _author(direction: str, channel: str) -> str:
    """Who wrote a stored message."""
    if channel == "staff":
        return "Staff" if direction == "inbound" else "Customer (forwarded)"
    return "Customer" if direction == "inbound" else "Bot"


class HandoffMails:
    """Writes handoff emails and forwards of the customer's later messages."""

    def __init__(self, identity: MailIdentity, staff_address: str, zone: ZoneInfo) -> None:
        self._identity = identity
        self._staff = staff_address
        self._zone = zone

    def handoff(self, case: HandoffCase) -> EmailMessage:
        """The first email of a handoff: who, why, the whole conversation, how to answer."""
        channel = ChannelName(case.channel).label
        why = _REASONS.get(case.trigger) or _keyword(case.trigger)
        history = "\n".join(
            f"[{line.at.astimezone(self._zone):%d %b %H:%M}] {line.author}: {line.text}"
            for line in case.transcript
        )
        tried = (
            "The bot answered from: " + ", ".join(case.sources) + "."
            if case.sources
            else "The bot found nothing in the knowledge base for this."
        )
        body = (
            f"{case.customer} ({channel}, {case.customer_id}) {why}.\n\n"
            f"How to answer: reply to this email. Your reply reaches {case.customer} on "
            f"{channel}, and the bot stays quiet while you handle the conversation. "
            "Write #bot (or #resolve) in a reply to hand the conversation back to the bot.\n\n"
            f"The conversation so far:\n{history}\n\n{tried}"
        )
        message = self._base(case.token)
        message["Subject"] = f"[Handoff #{case.escalation_id}] {case.customer} on {channel}"
        message["Message-ID"] = self._identity.handoff_id(case.token)
        text_and_html(message, body)
        return message

    def forward(self, token: str, text: str) -> EmailMessage:
        """A customer's message during human mode, in the handoff's thread."""
        message = self._base(token)
        message["Subject"] = f"Re: [Handoff] customer wrote again ({token[:6]})"
        thread = self._identity.handoff_id(token)
        message["In-Reply-To"] = thread
        message["References"] = thread
        text_and_html(message, f"The customer wrote:\n\n{text}\n\nReply to this email to answer.")
        return message

    def _base(self, token: str) -> EmailMessage:
        """Headers every staff email shares."""
        message = EmailMessage()
        message["From"] = formataddr((self._identity.name, self._identity.address))
        message["To"] = self._staff
        message["Reply-To"] = self._identity.reply_address(token)
        message["Auto-Submitted"] = "auto-generated"
        return message


def _keyword(trigger: str) -> str:
    """'keyword:refund' as a phrase."""
    if trigger.startswith("keyword:"):
        return f'wrote "{trigger.removeprefix("keyword:")}"'
    return f"needs a person ({trigger})"


class StaffMailSender:
    """Sends forwards to staff; the outbox address of a forward is its handoff's token."""

    channel = ChannelName.STAFF

    def __init__(self, mailer: SmtpMailer, mails: HandoffMails) -> None:
        self._mailer = mailer
        self._mails = mails

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Forward one customer message to staff."""
        message = self._mails.forward(address, text)
        await self._mailer.send(message)
        return [str(message["Message-ID"] or "")]

    async def acknowledge(self, message: InboundMessage) -> None:
        """Nothing to acknowledge."""


class HandoffDispatcher:
    """Sends due handoff emails; safe to run in every process at once."""

    def __init__(
        self,
        store: HandoffStore,
        mails: HandoffMails,
        mailer: SmtpMailer,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._clock = clock
        self._store = store
        self._mails = mails
        self._mailer = mailer
        self._batch = batch
        self._lease = lease

    async def dispatch_due(self) -> int:
        """Send every due handoff this process can claim; errors are logged, never raised."""
        try:
            return await self._dispatch()
        except Exception:
            log.exception("handoff_dispatch_failed")
            return 0

    async def _dispatch(self) -> int:
        """Claim and send due handoffs, batch by batch."""
        sent = 0
        while cases := await self._store.claim_due(self._batch, self._lease, self._clock()):
            for case in cases:
                sent += await self._send(case)
            if len(cases) < self._batch:
                break
        return sent

    async def _send(self, case: HandoffCase) -> int:
        """Send one handoff email; on failure keep it due and retry later."""
        message = self._mails.handoff(case)
        try:
            await self._mailer.send(message)
        except SendError as error:
            log.error("handoff_send_failed", escalation=case.escalation_id, reason=error.reason)
            await self._store.mark_failed(case.escalation_id, error.reason, timedelta(minutes=1))
            return 0
        await self._store.mark_sent(case.escalation_id, str(message["Message-ID"]))
        log.info("handoff_sent", escalation=case.escalation_id, channel=case.channel)
        return 1
