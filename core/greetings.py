"""Texts the bot writes itself, not taken from the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass

from core import texts
from core.language import Language

EN = Language.EN


@dataclass(frozen=True, slots=True)
class Greetings:
    """Texts the bot writes itself, not taken from the knowledge base, in four languages."""

    business_name: str

    def greeting(self, name: str | None, returning: bool, language: Language = EN) -> str:
        """Hello, with the name when known."""
        return texts.greeting(self.business_name, name, returning, language)

    def thanks(self, language: Language = EN) -> str:
        """The reply to a thank-you."""
        return texts.text("thanks", language)

    def rephrase(self, language: Language = EN) -> str:
        """The first time the knowledge base has no answer: ask again before calling a person."""
        return texts.text("rephrase", language)

    def held_note(self) -> str:
        """Told to staff (in English) when their reply must wait for the customer."""
        return (
            "Your reply has not been sent yet: WhatsApp allows free-form messages only within "
            "24 hours of the customer's last message. The customer was sent our approved "
            "template inviting them to write back; your reply goes out as soon as they do."
        )

    def sorry(self, reason: str | None, language: Language = EN) -> str:
        """What comes before the handoff notice, by why the conversation is handed over."""
        if reason in ("complaint", "angry_tone"):
            return texts.text("sorry.complaint", language)
        if reason == "no_answer_twice":
            return texts.text("sorry.no_answer_twice", language)
        return ""
