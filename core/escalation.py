"""When a person should take over, and what the customer is told about when they will answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core import texts
from core.business_calendar import BusinessCalendar
from core.language import Language

# Complaints and an angry tone, in English/Singlish, Mandarin, Malay and Tamil.
_COMPLAINT = re.compile(
    r"\b(complain(t|ts|ing)?|terrible|horrible|worst|disgusting|unacceptable|rude|angry|"
    r"furious|ridiculous|lousy|jialat|cheat(ed|ing)?|scam(med)?|disappointed|lodge\s+a\s+report)\b"
    r"|投诉|太差|很生气|骗子|退钱"
    r"|\b(aduan|mengadu|teruk|kecewa|marah|tipu)\b"
    r"|புகார்|மோசம்|கோபம்",
    re.IGNORECASE,
)
_SHOUTING_LETTERS = 12  # this many capital letters with no lower case reads as shouting


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """Triggers beyond an explicit request for a person: complaints, anger, chosen keywords."""

    keywords: tuple[str, ...] = ()

    @classmethod
    def from_keywords(cls, keywords: Sequence[str]) -> EscalationPolicy:
        """A policy for the configured keywords (case-insensitive, whole words)."""
        return cls(tuple(k.strip().lower() for k in keywords if k.strip()))

    def trigger(self, text: str) -> str | None:
        """The reason this message needs a person, or None (urgent reasons before keywords)."""
        return self.urgent(text) or self.keyword(text)

    def keyword(self, text: str) -> str | None:
        """'keyword:<word>' when the message names a configured keyword, else None.

        A keyword asks for a person but does not stop the bot answering first: the caller
        answers from the knowledge base when it can, then hands over.
        """
        lowered = text.lower()
        for keyword in self.keywords:
            if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", lowered):
                return f"keyword:{keyword}"
        return None

    def urgent(self, text: str) -> str | None:
        """'complaint' or 'angry_tone' when the message needs a person at once, else None."""
        if _COMPLAINT.search(text):
            return "complaint"
        letters = [c for c in text if c.isalpha() and c.isascii()]
        if len(letters) >= _SHOUTING_LETTERS and all(c.isupper() for c in letters):
            return "angry_tone"
        if "!!!" in text or "???" in text:
            return "angry_tone"
        return None


@dataclass(frozen=True, slots=True)
class HandoffTiming:
    """When staff will see the handoff, and the sentence that tells the customer."""

    due_at: datetime
    notice: str


class HandoffNotices:
    """Writes what the customer is told when a person takes over, from the business calendar."""

    def __init__(self, calendar: BusinessCalendar | None = None) -> None:
        # Without a calendar the business counts as always open.
        self._calendar = calendar

    def timing(self, at: datetime, language: Language = Language.EN) -> HandoffTiming:
        """Due at once while open; otherwise at the next opening, said with the reason."""
        if self._calendar is None or self._calendar.is_open(at):
            return HandoffTiming(at, texts.text("handoff.open", language))
        opens = self._calendar.next_open(at)
        reason = self._calendar.closed_reason(at)
        when = texts.when_phrase(opens, at, language)
        if reason is not None and reason.kind in ("holiday", "closure") and reason.name:
            name = texts.holiday_name(reason.name, language)
            notice = texts.text("handoff.closed_for", language, reason=name, when=when)
        else:
            notice = texts.text("handoff.closed", language, when=when)
        return HandoffTiming(opens, notice)
