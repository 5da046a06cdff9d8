"""What every channel shares: parse outcomes, the sender protocol and typed send errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.messages import ChannelName, Choice, InboundMessage


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid provider payload the bot deliberately does not answer, and why."""

    reason: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A provider's report on a message we sent (queued, sent, delivered, read, failed ...)."""

    channel: ChannelName
    provider_message_id: str
    status: str
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderAlert:
    """A provider telling us something went wrong on its side (e.g. Twilio's debugger)."""

    channel: ChannelName
    level: str
    code: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A valid provider payload our parser cannot read: answered OK, kept aside for a person.

    Refusing it would make the provider retry, and slow or stop a webhook that keeps failing.
    """

    kind: str
    reason: str
    raw: str


Parsed = InboundMessage | DeliveryStatus | ProviderAlert | Ignored | Unreadable


class PayloadError(ValueError):
    """A provider payload that cannot be understood at all (answered 400, logged)."""


class SendError(Exception):
    """Sending failed; `retryable` says whether trying again later can help.

    `parts_sent` counts the parts of a split reply the provider had already accepted; such a
    reply is never retried, since the customer would get those parts twice.
    """

    def __init__(
        self,
        reason: str,
        retryable: bool,
        retry_after: float | None = None,
        *,
        parts_sent: int = 0,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable and parts_sent == 0
        self.retry_after = retry_after
        self.parts_sent = parts_sent


class ChannelSender(Protocol):
    """Sends the bot's replies on one channel."""

    channel: ChannelName

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Send one reply (split into parts if needed); return the provider's id of each part.

        `language` is the customer's (an ISO 639-1 code): the words a channel adds around the
        choices, such as "Reply with a number:", are written in it.

        Raises SendError on failure. A reply split into parts may fail after some parts went
        out; the error then says so in its reason, and callers do not resend it.
        """
        ...

    async def acknowledge(self, message: InboundMessage) -> None:
        """Tell the provider an inbound event was handled (e.g. stop a button's spinner)."""
        ...


class TemplateSender(Protocol):
    """A channel that can send its approved opener when free text is not allowed."""

    async def send_template(self, address: str) -> list[str]:
        """Send the configured template; return the provider's id."""
        ...


def reply_address(message: InboundMessage) -> str:
    """Where the reply to a message goes: the channel's explicit route, else the sender."""
    return message.reply_to or message.external_user_id
