"""The answer step: small talk and requests for a person first, then the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from core import texts
from core.compose import Composer, ComposeRequest, Composition
from core.escalation import EscalationPolicy
from core.glossary import english_glosses
from core.greetings import Greetings
from core.intents import Intent, classify
from core.language import Language
from core.memory import Turn
from core.messages import InboundMessage
from core.question_parts import answer_parts, question_parts
from core.ranking import Ranking
from core.ratings import COMMENT_REASON, RatingStore
from core.store_records import InboundRecord

EN = Language.EN


class Retrieval(Protocol):
    """Ranks knowledge entries for a question."""

    async def retrieve(self, text: str) -> Ranking:
        """Rank knowledge entries for one question."""
        ...


@dataclass(frozen=True, slots=True)
class Answerer:
    """Answers one customer message that no earlier step (privacy, rating) took."""

    retrieval: Retrieval
    composer: Composer
    policy: EscalationPolicy
    greetings: Greetings
    ratings: RatingStore | None

    async def answer(
        self,
        message: InboundMessage,
        record: InboundRecord,
        history: tuple[Turn, ...],
        language: Language,
    ) -> tuple[Composition, float]:
        """Small talk and requests for a person first; everything else from the knowledge base."""
        quick = self._quick_reply(message, record, language)
        if quick is not None:
            return quick, 1.0
        picked = message.choice_entry_id is not None
        urgent = None if picked else self.policy.urgent(message.text)
        if urgent is not None:
            return Composition("", escalate=True, reason=urgent), 1.0
        keyword = None if picked else self._keyword(message.text, language)
        ranking = await self.retrieval.retrieve(message.text)
        ranking = _prefer_choice(ranking, message.choice_entry_id)
        composition = await self._compose(message, record, history, language, ranking)
        if keyword is not None:
            # The answer, when the knowledge base has one, comes before the handoff notice.
            answered = composition.source_entry_ids and not composition.escalate
            text = composition.text if answered else ""
            return replace(composition, text=text, escalate=True, reason=keyword, choices=()), (
                ranking.confidence
            )
        if composition.reason == "no_answer":
            return await self._no_answer(message, record, language), ranking.confidence
        return composition, ranking.confidence

    def _quick_reply(
        self, message: InboundMessage, record: InboundRecord, language: Language
    ) -> Composition | None:
        """The reply needing no knowledge base: floods, small talk, asking for a person."""
        if message.flooding:
            return Composition(texts.text("rate_limited", language))
        if message.unreadable:
            return Composition(texts.text("unreadable", language))
        intent = classify(message.text) if message.choice_entry_id is None else None
        profile = record.profile
        if intent is Intent.GREETING:
            text = self.greetings.greeting(profile.display_name, profile.returning, language)
            return Composition(text=text)
        if intent is Intent.THANKS:
            return Composition(text=self.greetings.thanks(language))
        if intent is Intent.HUMAN:
            return Composition("", escalate=True, reason="asked_for_human")
        if not message.text:
            return Composition(text=_text_only(message, language))
        return None

    async def _compose(
        self,
        message: InboundMessage,
        record: InboundRecord,
        history: tuple[Turn, ...],
        language: Language,
        ranking: Ranking,
    ) -> Composition:
        """The knowledge base's answer, one per part for a question in several parts."""
        profile = record.profile
        request = ComposeRequest(message.text, ranking, history, profile, language)
        composition = await self.composer.compose(request)
        picked = message.choice_entry_id is not None
        parts = question_parts(message.text) if not picked else [message.text]
        if len(parts) > 1:
            both = await answer_parts(
                parts, self.retrieval, self.composer, history, profile, language
            )
            composition = both or composition
        return composition

    async def _no_answer(
        self, message: InboundMessage, record: InboundRecord, language: Language
    ) -> Composition:
        """Nothing in the knowledge base: a comment on a score, a second try, or a person."""
        picked = message.choice_entry_id is not None
        if not picked and self.ratings is not None:
            # Words the knowledge base cannot answer, just after a score, comment on it.
            kept = await self.ratings.record_comment(
                record.profile.contact_id,
                message.channel.value,
                message.text,
                message.received_at,
            )
            if kept:
                return Composition(
                    texts.text("rating.comment_thanks", language), reason=COMMENT_REASON
                )
        # Ask once more before calling a person; the second miss in a row hands over.
        if record.misses_in_a_row == 0:
            return Composition(self.greetings.rephrase(language), reason="no_answer")
        return Composition("", escalate=True, reason="no_answer_twice")

    def _keyword(self, text: str, language: Language) -> str | None:
        """A configured keyword in the message, or in the English of its glossary words."""
        return self.policy.keyword(text) or self.policy.keyword(_glossed(text, language))


def _glossed(text: str, language: Language) -> str:
    """The English glossary words of a message in another language (keywords are English)."""
    return " ".join(english_glosses(text, language)) if language is not EN else ""


def _text_only(message: InboundMessage, language: Language) -> str:
    """The polite reply to a message with nothing to read, naming what was sent."""
    kinds = {a.kind for a in message.attachments}
    what = next(iter(kinds)) if len(kinds) == 1 else "other"
    return texts.text("text_only", language, things=texts.attachment_name(what, language))


def _prefer_choice(ranking: Ranking, entry_id: str | None) -> Ranking:
    """A customer who picked a quick-reply option gets that entry, fully confident."""
    if entry_id is None:
        return ranking
    chosen = [e for e in ranking.entries if e.entry_id == entry_id]
    if not chosen:
        return ranking
    rest = tuple(e for e in ranking.entries if e.entry_id != entry_id)
    return Ranking((chosen[0], *rest), confidence=1.0, language=ranking.language)
