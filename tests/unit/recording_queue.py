"""Stand-ins for the inbound stream and the outbox at the webhook edge, recording what arrives."""

from __future__ import annotations

from core.messages import InboundMessage


class RecordingQueue:
    """What Ingress calls on the queue, recorded in memory."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.aside: list[tuple[str, str]] = []

    async def enqueue(self, message: InboundMessage) -> str:
        """Keep the message; answer a stream-like id."""
        self.messages.append(message)
        return f"{len(self.messages)}-0"

    async def set_aside(self, raw: str, reason: str) -> None:
        """Keep a payload that never became a message, with why."""
        self.aside.append((raw, reason))


class AcceptingOutbox:
    """What Ingress calls on the outbox: every delivery report is accepted."""

    async def record_status(self, *args: object) -> bool:
        """Accept the report."""
        return True
