"""The per-message pipeline: dedupe, record, remember, retrieve, compose, persist, reply."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

import structlog

from core import texts
from core.compose import Composer, ComposeRequest, Composition
from core.consent import ERASE_NO, ERASE_YES, PrivacyNotice, consent_answer, describe_data
from core.data_rights import Confirmation, DataRights
from core.escalation import EscalationPolicy, HandoffNotices
from core.glossary import english_glosses
from core.intents import Intent, classify
from core.language import Language, LanguageDetector, choose_language
from core.learning import REPORT_THREAD, OwnerReplies, StaffAnswers
from core.memory import Memory, Turn
from core.messages import ChannelName, Choice, InboundMessage, Reply
from core.question_parts import answer_parts, question_parts
from core.ranking import Ranking
from core.ratings import COMMENT_REASON, RatingStore, chosen_score, typed_score
from core.redaction import hide_ids
from core.storable import storable_message
from core.store import ConversationStore, InboundRecord
from core.summaries import SummaryStore
from core.voice import Transcriber, transcribed

log = structlog.get_logger(__name__)
EN = Language.EN
MAX_TEXT_CHARS = 4000


class Retrieval(Protocol):
    """Ranks knowledge entries for a question."""

    async def retrieve(self, text: str) -> Ranking:
        """Rank knowledge entries for one question."""
        ...


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


class ConversationCore:
    """Turns one inbound message into at most one reply."""

    def __init__(
        self,
        store: ConversationStore,
        memory: Memory,
        retrieval: Retrieval,
        composer: Composer,
        greetings: Greetings,
        summaries: SummaryStore | None = None,
        policy: EscalationPolicy | None = None,
        notices: HandoffNotices | None = None,
        detector: LanguageDetector | None = None,
        privacy: PrivacyNotice | None = None,
        rights: DataRights | None = None,
        staff_answers: StaffAnswers | None = None,
        owner_replies: OwnerReplies | None = None,
        ratings: RatingStore | None = None,
    ) -> None:
        self._ratings = ratings
        self._staff_answers = staff_answers
        self._owner_replies = owner_replies
        self._rights = rights
        self._detector = detector
        self._privacy = privacy
        self._policy = policy or EscalationPolicy()
        self._notices = notices or HandoffNotices()
        self._store = store
        self._memory = memory
        self._retrieval = retrieval
        self._composer = composer
        self._greetings = greetings
        self._summaries = summaries

    async def handle(
        self, message: InboundMessage, voice: Transcriber | None = None
    ) -> Reply | None:
        """Answer a message; None for a duplicate or a conversation a person has taken over.

        With `voice`, a voice note is transcribed and its words stored and answered as its text.
        """
        channel = message.channel.value
        # Channels that skip the queue (the terminal chat) get the same cleaning as the others.
        message = storable_message(message)
        too_long = len(message.text.strip()) > MAX_TEXT_CHARS
        message = hide_ids(replace(message, text=message.text.strip()[:MAX_TEXT_CHARS]))
        if message.channel == ChannelName.STAFF:
            return await self._relay_staff_reply(message)
        claim_of = self._memory.claim(
            channel, message.external_user_id, message.provider_message_id
        )
        async with claim_of as claim:
            if claim is None:
                return None
            # Inside the claim, so a message already handled is not transcribed again; before
            # storing, so its words are kept in place of the audio.
            message = await transcribed(message, voice, MAX_TEXT_CHARS)
            record = await self._store.record_inbound(message)
            if record is None:
                log.info("duplicate_dropped", channel=channel, id=message.provider_message_id)
                await claim.finish(0, [])
                return None
            history = tuple(claim.history(record.conversation_id))
            picked = _numbered_choice(message, history)
            data_request = _data_request(picked, history) if self._rights else None
            if record.conversation_status == "human" and data_request is None:
                # A person has this conversation: pass the message on to them, say nothing.
                await self._store.record_forward(record, _forwarded_text(message))
                await self._store.release_held(record)
                await claim.finish(record.conversation_id, [Turn("customer", message.text)])
                return None
            # Before numbered choices: a number just after "How did we do?" is its answer.
            rating = await self._rating(message, record) if data_request is None else None
            message = picked
            language = await self._language(message, record)
            if data_request == ERASE_YES:
                # Everything about the customer goes, this message included: nothing to finish.
                reply = await self._erase(message, record, language)
                await claim.finish(record.conversation_id, [])
                return reply
            if data_request is not None:
                composition, confidence = await self._data_reply(
                    data_request, message, record, language
                )
            elif rating is not None:
                score, recorded = rating
                reason = f"rating:{score}" if recorded else None
                composition, confidence = (
                    Composition(texts.text("rating.thanks", language), reason=reason),
                    1.0,
                )
            elif (gate := await self._consent_gate(message, record, language)) is not None:
                composition, confidence = gate, 1.0
            else:
                composition, confidence = await self._answer(message, record, history, language)
                if (
                    self._privacy is not None
                    and record.profile.consent is None
                    and message.channel != ChannelName.CLI
                ):
                    # Not required: the notice comes with the first answer, and going on agrees.
                    notice = self._privacy.notice(language)
                    composition = replace(composition, text=paragraphs(notice, composition.text))
            if message.ids_masked:
                warning = texts.text("nric_warning", language)
                composition = replace(composition, text=paragraphs(warning, composition.text))
            if too_long:
                # Only the start was read; say so instead of pretending to answer it all.
                limit = texts.text("too_long", language, limit=str(MAX_TEXT_CHARS))
                composition = replace(composition, text=paragraphs(limit, composition.text))
            if message.attachments_dropped:
                kept = len(message.attachments)
                note = texts.text(
                    "email.attachments_dropped",
                    language,
                    count=str(kept + message.attachments_dropped),
                    limit=str(kept),
                    dropped=str(message.attachments_dropped),
                )
                composition = replace(composition, text=paragraphs(composition.text, note))
            due_at = None
            if composition.escalate:
                timing = self._notices.timing(message.received_at, language)
                due_at = timing.due_at
                lead = self._greetings.sorry(composition.reason, language)
                notice = " ".join(t for t in (lead, timing.notice) if t)
                composition = replace(composition, text=paragraphs(composition.text, notice))
            reply = Reply(
                conversation_id=record.conversation_id,
                text=composition.text,
                escalate=composition.escalate,
                reason=composition.reason,
                choices=composition.choices,
                source_entry_ids=composition.source_entry_ids,
            )
            address = message.reply_to or message.external_user_id
            await self._store.record_reply(
                record, reply, address, confidence, message.text[:500], due_at
            )
            turns = [Turn("customer", message.text), Turn("bot", reply.text, reply.choices)]
            await claim.finish(record.conversation_id, turns)
        if record.closed_conversation is not None and self._summaries is not None:
            # Once per conversation, after the customer's lock is released.
            closed_id, summary = record.closed_conversation
            await self._summaries.remember(record.profile.contact_id, closed_id, summary)
        return reply

    async def _relay_staff_reply(self, message: InboundMessage) -> Reply | None:
        """A staff member answered a handoff: queue their words to the customer."""
        if message.thread_ref is None:
            return None
        if message.thread_ref.startswith(REPORT_THREAD):
            if self._owner_replies is not None:
                await self._owner_replies.handle(message)
            return None
        back_to_bot = bool(_BACK_TO_BOT.search(message.text))
        text = _BACK_TO_BOT.sub("", message.text).strip()
        relay = await self._store.record_staff_reply(message.thread_ref, message, text, back_to_bot)
        if relay is None:
            log.info("staff_reply_dropped", id=message.provider_message_id)
            return None
        if relay.outbound_id is not None and await self._store.hold_outside_window(
            relay.outbound_id, self._greetings.held_note(), message.thread_ref
        ):
            log.info("staff_reply_held", conversation=relay.conversation_id)
        log.info("staff_reply_relayed", conversation=relay.conversation_id, back_to_bot=back_to_bot)
        if text and self._staff_answers is not None:
            try:
                await self._staff_answers.learn(message.thread_ref, text, message.display_name)
            except Exception:
                # The customer has the answer already; a suggestion lost is only a suggestion.
                log.exception("staff_answer_not_kept", conversation=relay.conversation_id)
        return Reply(conversation_id=relay.conversation_id, text=text)

    async def _data_reply(
        self,
        request: Intent | str,
        message: InboundMessage,
        record: InboundRecord,
        language: Language,
    ) -> tuple[Composition, float]:
        """What we hold about the customer, or the question before erasing it."""
        assert self._rights is not None
        if request is Intent.MY_DATA:
            summary = await self._rights.summary(record.profile.contact_id, message.channel.value)
            if summary is None:
                return Composition(texts.text("privacy.erased", language)), 1.0
            return Composition(describe_data(summary, language, self._rights.zone)), 1.0
        if request is Intent.ERASE_DATA:
            choices = (
                Choice(texts.text("privacy.erase_yes", language), ERASE_YES),
                Choice(texts.text("privacy.erase_no", language), ERASE_NO),
            )
            return Composition(texts.text("privacy.erase_confirm", language), choices=choices), 1.0
        return Composition(texts.text("privacy.erase_cancelled", language)), 1.0

    async def _erase(
        self, message: InboundMessage, record: InboundRecord, language: Language
    ) -> Reply:
        """Erase the customer everywhere and queue the confirmation as the last word."""
        assert self._rights is not None
        text = texts.text("privacy.erased", language)
        address = message.reply_to or message.external_user_id
        await self._rights.erase(
            record.profile.contact_id,
            "customer",
            message.channel.value,
            Confirmation(record.message_id, address, text),
        )
        return Reply(conversation_id=record.conversation_id, text=text)

    async def _rating(
        self, message: InboundMessage, record: InboundRecord
    ) -> tuple[int, bool] | None:
        """A score answering "How did we do?" (kept), with whether it was kept; None otherwise.

        A tapped button is always thanked for, even when its question is too old to keep it; a
        typed number is a score only while a question waits for one.
        """
        if self._ratings is None:
            return None
        keep = partial(
            self._ratings.record_score,
            record.profile.contact_id,
            record.conversation_id,
            message.channel.value,
        )
        if (score := chosen_score(message)) is not None:
            return score, await keep(score, message.received_at, False)
        score = typed_score(message.text) if message.choice_entry_id is None else None
        if score is not None and await keep(score, message.received_at, True):
            return score, True
        return None

    async def _consent_gate(
        self, message: InboundMessage, record: InboundRecord, language: Language
    ) -> Composition | None:
        """Show the privacy notice once; with consent required, answer only after a yes."""
        privacy, profile, channel = self._privacy, record.profile, message.channel.value
        if privacy is None or profile.consent is True or message.channel == ChannelName.CLI:
            return None  # the terminal chat is the owner trying the bot, not a customer
        notice = privacy.notice(language)
        if not privacy.required:
            if profile.consent is None:
                await self._store.record_consent(profile.contact_id, channel, True, notice)
            return None
        answer = consent_answer(message.text)
        if answer is not None:
            await self._store.record_consent(profile.contact_id, channel, answer, notice)
            key = "consent.granted" if answer else "consent.declined"
            return Composition(texts.text(key, language))
        if profile.consent is False:
            return Composition(texts.text("consent.declined", language))
        return Composition(f"{notice}\n\n{texts.text('consent.ask', language)}")

    async def _language(self, message: InboundMessage, record: InboundRecord) -> Language:
        """The language to answer in: this message's, else the one remembered for the person."""
        detected = self._detector.detect(message.text) if self._detector else None
        remembered = record.profile.language
        if detected is not None and detected.value != remembered:
            await self._store.remember_language(record.profile.contact_id, detected.value)
        return choose_language(detected, remembered)

    def _keyword(self, text: str, language: Language) -> str | None:
        """A configured keyword in the message, or in the English of its glossary words."""
        return self._policy.keyword(text) or self._policy.keyword(_glossed(text, language))

    async def _answer(
        self,
        message: InboundMessage,
        record: InboundRecord,
        history: tuple[Turn, ...],
        language: Language,
    ) -> tuple[Composition, float]:
        """Small talk and requests for a person first; everything else from the knowledge base."""
        if message.flooding:
            return Composition(texts.text("rate_limited", language)), 1.0
        if message.unreadable:
            return Composition(texts.text("unreadable", language)), 1.0
        intent = classify(message.text) if message.choice_entry_id is None else None
        profile = record.profile
        if intent is Intent.GREETING:
            text = self._greetings.greeting(profile.display_name, profile.returning, language)
            return Composition(text=text), 1.0
        if intent is Intent.THANKS:
            return Composition(text=self._greetings.thanks(language)), 1.0
        if intent is Intent.HUMAN:
            return Composition("", escalate=True, reason="asked_for_human"), 1.0
        if not message.text:
            return Composition(text=_text_only(message, language)), 1.0
        picked = message.choice_entry_id is not None
        urgent = None if picked else self._policy.urgent(message.text)
        if urgent is not None:
            return Composition("", escalate=True, reason=urgent), 1.0
        keyword = None if picked else self._keyword(message.text, language)
        ranking = await self._retrieval.retrieve(message.text)
        ranking = _prefer_choice(ranking, message.choice_entry_id)
        request = ComposeRequest(message.text, ranking, history, profile, language)
        composition = await self._composer.compose(request)
        parts = question_parts(message.text) if not picked else [message.text]
        if len(parts) > 1:
            both = await answer_parts(
                parts, self._retrieval, self._composer, history, profile, language
            )
            composition = both or composition
        if keyword is not None:
            # The answer, when the knowledge base has one, comes before the handoff notice.
            answered = composition.source_entry_ids and not composition.escalate
            text = composition.text if answered else ""
            return replace(composition, text=text, escalate=True, reason=keyword, choices=()), (
                ranking.confidence
            )
        if composition.reason == "no_answer" and not picked and self._ratings is not None:
            # Words the knowledge base cannot answer, just after a score, comment on it.
            kept = await self._ratings.record_comment(
                profile.contact_id, message.channel.value, message.text, message.received_at
            )
            if kept:
                thanks = texts.text("rating.comment_thanks", language)
                return Composition(thanks, reason=COMMENT_REASON), ranking.confidence
        if composition.reason == "no_answer":
            # Ask once more before calling a person; the second miss in a row hands over.
            if record.misses_in_a_row == 0:
                return Composition(
                    self._greetings.rephrase(language), reason="no_answer"
                ), ranking.confidence
            return Composition("", escalate=True, reason="no_answer_twice"), ranking.confidence
        return composition, ranking.confidence


def _glossed(text: str, language: Language) -> str:
    """The English glossary words of a message in another language (keywords are English)."""
    return " ".join(english_glosses(text, language)) if language is not EN else ""


def _data_request(message: InboundMessage, history: tuple[Turn, ...]) -> Intent | str | None:
    """A request about the customer's own data, or their answer to "delete everything?"."""
    if message.choice_entry_id in (ERASE_YES, ERASE_NO):
        return message.choice_entry_id
    last = history[-1] if history else None
    if (
        last is not None
        and last.role == "bot"
        and any(c.entry_id == ERASE_YES for c in last.choices)
    ):
        answer = consent_answer(message.text)
        if answer is not None:
            return ERASE_YES if answer else ERASE_NO
    if message.choice_entry_id is None:
        intent = classify(message.text)
        if intent in (Intent.MY_DATA, Intent.ERASE_DATA):
            return intent
    return None


_BACK_TO_BOT = re.compile(r"(?<!\w)#(resolve|resolved|bot)\b", re.IGNORECASE)


def resolves(staff_text: str) -> bool:
    """Whether a staff reply hands the conversation back to the bot (#resolve, #bot)."""
    return bool(_BACK_TO_BOT.search(staff_text))


def _forwarded_text(message: InboundMessage) -> str:
    """The customer's message as staff see it, attachments named."""
    kinds = ", ".join(a.kind for a in message.attachments)
    return f"{message.text}\n[sent: {kinds}]".strip() if kinds else message.text


def _text_only(message: InboundMessage, language: Language) -> str:
    """The polite reply to a message with nothing to read, naming what was sent."""
    kinds = {a.kind for a in message.attachments}
    what = next(iter(kinds)) if len(kinds) == 1 else "other"
    return texts.text("text_only", language, things=texts.attachment_name(what, language))


def _numbered_choice(message: InboundMessage, history: tuple[Turn, ...]) -> InboundMessage:
    """A bare number answering the bot's numbered options picks that option."""
    text = message.text.strip().rstrip(".")
    if message.choice_entry_id is not None or not text.isdigit() or not history:
        return message
    last = history[-1]
    number = int(text)
    if last.role != "bot" or not 1 <= number <= len(last.choices):
        return message
    picked = last.choices[number - 1]
    return replace(message, text=picked.label, choice_entry_id=picked.entry_id)


def _prefer_choice(ranking: Ranking, entry_id: str | None) -> Ranking:
    """A customer who picked a quick-reply option gets that entry, fully confident."""
    if entry_id is None:
        return ranking
    chosen = [e for e in ranking.entries if e.entry_id == entry_id]
    if not chosen:
        return ranking
    rest = tuple(e for e in ranking.entries if e.entry_id != entry_id)
    return Ranking((chosen[0], *rest), confidence=1.0, language=ranking.language)


def paragraphs(*parts: str) -> str:
    """The non-empty parts of a reply, a blank line between them (none left dangling)."""
    return "\n\n".join(part for part in parts if part)
