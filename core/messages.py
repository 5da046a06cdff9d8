"""Channel-neutral message types shared by every channel and the conversation core."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar


class ChannelName(str):
    """Where a customer wrote from; replies go back the same way.

    Each channel names itself (its plug in channels/); the core knows only its own two names.
    """

    CLI: ClassVar[ChannelName]
    STAFF: ClassVar[ChannelName]
    """Staff answering a handoff by email; `thread_ref` holds the handoff's token."""
    _labels: ClassVar[dict[str, str]] = {}

    __slots__ = ()

    @classmethod
    def define(cls, name: str, label: str) -> ChannelName:
        """A channel's name, and how people call it ("WhatsApp", "web chat")."""
        cls._labels[name] = label
        return cls(name)

    @property
    def value(self) -> str:
        """The name as stored and logged."""
        return str.__str__(self)

    @property
    def label(self) -> str:
        """How customers and staff call the channel."""
        return self._labels.get(self.value, self.value)

    def __repr__(self) -> str:
        return f"ChannelName({self.value!r})"


ChannelName.CLI = ChannelName.define("cli", "chat")
ChannelName.STAFF = ChannelName.define("staff", "staff")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A non-text part of an inbound message: recorded, never read."""

    kind: str
    name: str | None = None
    mime_type: str | None = None
    # Where and how long, not what was sent: equal attachments may come from different places.
    source: str | None = field(default=None, compare=False)
    """The provider's reference for fetching it (a Telegram file_id, a Twilio MediaUrl)."""
    seconds: int | None = field(default=None, compare=False)
    """How long a voice note or audio lasts, when the provider says (Telegram does)."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message a customer sent, normalised by its channel."""

    channel: ChannelName
    external_user_id: str
    provider_message_id: str
    text: str
    received_at: datetime
    display_name: str | None = None
    thread_ref: str | None = None
    reply_to: str | None = None
    """Where the reply goes when not to the sender's own id, in the channel's own notation."""
    attachments: tuple[Attachment, ...] = ()
    choice_entry_id: str | None = None
    ids_masked: int = 0
    """How many NRIC/FIN numbers were hidden from `text` before it was stored anywhere."""
    flooding: bool = False
    """The sender just went over the message rate: answer with a notice, not from knowledge."""
    attachments_dropped: int = 0
    """Attachments over the channel's limit that were not recorded; the reply says so."""
    unreadable: bool = False
    """What was sent could not be stored or read (kept aside for staff): say so, nothing else."""

    @property
    def correlation_id(self) -> str:
        """A short id every log line about this message carries, the same in every process.

        Hashed rather than the provider's id itself: email Message-IDs look like addresses, which
        the log masking would hide.
        """
        key = f"{self.channel.value}:{self.provider_message_id}".encode()
        return hashlib.blake2b(key, digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class Choice:
    """A quick-reply option: a label to show and the knowledge entry it stands for."""

    label: str
    entry_id: str


@dataclass(frozen=True, slots=True)
class Reply:
    """The core's answer to one inbound message."""

    conversation_id: int
    text: str
    escalate: bool = False
    reason: str | None = None
    choices: tuple[Choice, ...] = field(default_factory=tuple)
    source_entry_ids: tuple[str, ...] = field(default_factory=tuple)
