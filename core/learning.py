"""The learning loop as the core sees it: staff answers to handoffs, owner replies to reports."""

from __future__ import annotations

from typing import Protocol

from core.messages import InboundMessage

REPORT_THREAD = "report:"
"""Prefix of a staff message's `thread_ref` when it answers an owner report, not a handoff."""


class StaffAnswers(Protocol):
    """Keeps staff answers to handed-over questions as suggested knowledge entries."""

    async def learn(self, token: str, answer: str, staff_name: str | None = None) -> None:
        """Staff answered the handoff `token` with `answer` (already relayed to the customer);
        `staff_name` is the name their mail came from (never part of a suggestion)."""
        ...


class OwnerReplies(Protocol):
    """Applies the owner's reply to a report (approve, edit, reject suggestions)."""

    async def handle(self, message: InboundMessage) -> None:
        """One reply; `message.thread_ref` is REPORT_THREAD followed by the report's token."""
        ...
