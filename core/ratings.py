"""Customer ratings as the core sees them: the question, reading a score, and the store."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

from core import texts
from core.language import Language
from core.messages import Choice, InboundMessage

RATING_CHOICE = "rating:"
"""Prefix of a rating button's entry id: "rating:4" is a score of 4."""
QUESTION_REASON = "rating_request"
"""messages.reason of the question, so reports never count it as an answer."""
COMMENT_REASON = "rating_comment"
"""messages.reason of the thank-you for a comment."""
SCORES = range(1, 6)
# A bare score as people type it: "4", "4.", "4/5", "4 stars" is not bare and stays a message.
_TYPED = re.compile(r"^\s*([1-5])\s*(?:/\s*5)?\s*[.!。！]?\s*$")


class RatingStore(Protocol):
    """Where scores and comments are kept (the question itself is queued by a scheduled job)."""

    async def record_score(
        self,
        contact_id: int,
        conversation_id: int,
        channel: str,
        score: int,
        at: datetime,
        typed: bool,
    ) -> bool:
        """Keep a score for the contact's open question on this channel; False when none.

        A typed number only answers a question of this conversation not yet scored (later
        numbers are messages); a tapped button may change the score it gave.
        """
        ...

    async def record_comment(self, contact_id: int, channel: str, text: str, at: datetime) -> bool:
        """Keep `text` as the comment of a score given just before; False when there is none."""
        ...


def rating_question(language: Language) -> tuple[str, tuple[Choice, ...]]:
    """The question and its five options, 1 (very poor) first, so "5" typed picks the fifth."""
    choices = tuple(
        Choice(texts.text(f"rating.score.{n}", language), f"{RATING_CHOICE}{n}") for n in SCORES
    )
    return texts.text("rating.ask", language), choices


def chosen_score(message: InboundMessage) -> int | None:
    """The score of a tapped rating button, None for any other message."""
    entry = message.choice_entry_id or ""
    if not entry.startswith(RATING_CHOICE):
        return None
    value = entry.removeprefix(RATING_CHOICE)
    return int(value) if value.isdigit() and int(value) in SCORES else None


def typed_score(text: str) -> int | None:
    """A message that is only a number from 1 to 5 (WhatsApp's numbered choices), else None."""
    match = _TYPED.match(text)
    return int(match.group(1)) if match else None
