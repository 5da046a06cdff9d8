"""The per-message pipeline: dedupe, record, remember, retrieve, compose, persist, reply."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from functools import partial

import structlog

from core import texts
from core.answering import Answerer, Retrieval
from core.compose import Composer, Composition
from core.consent import ERASE_YES, PrivacyNotice
from core.data_rights import DataRights
from core.escalation import EscalationPolicy, HandoffNotices
from core.greetings import Greetings
from core.intents import Intent
from core.language import Language, LanguageDetector, choose_language
from core.learning import REPORT_THREAD, OwnerReplies, StaffAnswers
from core.memory import Claim, Memory, Turn
from core.messages import ChannelName, InboundMessage, Reply
from core.privacy_steps import PrivacySteps, data_request
from core.ratings import RatingStore, chosen_score, typed_score
from core.redaction import hide_ids
from core.reply_notes import paragraphs, with_notes
from core.storable import storable_message
from core.store import ConversationStore
from core.store_records import InboundRecord
from core.summaries import SummaryStore
from core.voice import Transcriber, transcribed

log = structlog.get_logger(__name__)
MAX_TEXT_CHARS = 4000


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
        self._privacy_steps = PrivacySteps(store, privacy, rights)
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
        message, too_long = _cleaned(message)
        if message.channel == ChannelName.STAFF:
            return await self._relay_staff_reply(message)
        claim_of = self._memory.claim(
            message.channel.value, message.external_user_id, message.provider_message_id
        )
        async with claim_of as claim:
            if claim is None:
                return None
            message, record = await self._record(message, claim, voice)
            if record is None:
                return None
            history = tuple(claim.history(record.conversation_id))
            picked = _numbered_choice(message, history)
            request = data_request(picked, history) if self._rights else None
            if record.conversation_status == "human" and request is None:
                await self._pass_to_staff(message, record, claim)
                return None
            # Before numbered choices: a number just after "How did we do?" is its answer.
            rating = await self._rating(message, record) if request is None else None
            message = picked
            language = await self._language(message, record)
            if request == ERASE_YES:
                # Everything about the customer goes, this message included: nothing to finish.
                reply = await self._privacy_steps.erase(message, record, language)
                await claim.finish(record.conversation_id, [])
                return reply
            composition, confidence = await self._composition(
                message, record, history, language, request, rating
            )
            composition = with_notes(composition, message, too_long, MAX_TEXT_CHARS, language)
            reply = await self._reply(message, record, composition, confidence, language)
            turns = [Turn("customer", message.text), Turn("bot", reply.text, reply.choices)]
            await claim.finish(record.conversation_id, turns)
        # Once per conversation, after the customer's lock is released.
        await self._remember_closed(record)
        return reply

    async def _record(
        self, message: InboundMessage, claim: Claim, voice: Transcriber | None
    ) -> tuple[InboundMessage, InboundRecord | None]:
        """The message as stored (a voice note as its words); no record for a duplicate."""
        # Inside the claim, so a message already handled is not transcribed again; before
        # storing, so its words are kept in place of the audio.
        message = await transcribed(message, voice, MAX_TEXT_CHARS)
        record = await self._store.record_inbound(message)
        if record is None:
            channel = message.channel.value
            log.info("duplicate_dropped", channel=channel, id=message.provider_message_id)
            await claim.finish(0, [])
        return message, record

    async def _pass_to_staff(
        self, message: InboundMessage, record: InboundRecord, claim: Claim
    ) -> None:
        """A person has this conversation: pass the message on to them, say nothing."""
        await self._store.record_forward(record, _forwarded_text(message))
        await self._store.release_held(record)
        await claim.finish(record.conversation_id, [Turn("customer", message.text)])

    async def _composition(
        self,
        message: InboundMessage,
        record: InboundRecord,
        history: tuple[Turn, ...],
        language: Language,
        request: Intent | str | None,
        rating: tuple[int, bool] | None,
    ) -> tuple[Composition, float]:
        """The reply's text and confidence, from the first step that takes the message."""
        if request is not None:
            return await self._privacy_steps.data_reply(request, message, record, language)
        if rating is not None:
            score, recorded = rating
            reason = f"rating:{score}" if recorded else None
            return Composition(texts.text("rating.thanks", language), reason=reason), 1.0
        gate = await self._privacy_steps.consent_gate(message, record, language)
        if gate is not None:
            return gate, 1.0
        # Built per message, so a composer swapped on the core is the one that answers.
        answerer = Answerer(
            self._retrieval, self._composer, self._policy, self._greetings, self._ratings
        )
        composition, confidence = await answerer.answer(message, record, history, language)
        composition = self._privacy_steps.with_first_notice(composition, message, record, language)
        return composition, confidence

    async def _reply(
        self,
        message: InboundMessage,
        record: InboundRecord,
        composition: Composition,
        confidence: float,
        language: Language,
    ) -> Reply:
        """Add the handoff notice when handing over, and store the reply to be sent."""
        due_at: datetime | None = None
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
        return reply

    async def _remember_closed(self, record: InboundRecord) -> None:
        """Keep the summary of the conversation this message closed, if it closed one."""
        if record.closed_conversation is not None and self._summaries is not None:
            closed_id, summary = record.closed_conversation
            await self._summaries.remember(record.profile.contact_id, closed_id, summary)

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

    async def _language(self, message: InboundMessage, record: InboundRecord) -> Language:
        """The language to answer in: this message's, else the one remembered for the person."""
        detected = self._detector.detect(message.text) if self._detector else None
        remembered = record.profile.language
        if detected is not None and detected.value != remembered:
            await self._store.remember_language(record.profile.contact_id, detected.value)
        return choose_language(detected, remembered)


def _cleaned(message: InboundMessage) -> tuple[InboundMessage, bool]:
    """The message trimmed to what is read, IDs hidden; and whether it was cut short."""
    # Channels that skip the queue (the terminal chat) get the same cleaning as the others.
    message = storable_message(message)
    too_long = len(message.text.strip()) > MAX_TEXT_CHARS
    return hide_ids(replace(message, text=message.text.strip()[:MAX_TEXT_CHARS])), too_long


_BACK_TO_BOT = re.compile(r"(?<!\w)#(resolve|resolved|bot)\b", re.IGNORECASE)


def resolves(staff_text: str) -> bool:
    """Whether a staff reply hands the conversation back to the bot (#resolve, #bot)."""
    return bool(_BACK_TO_BOT.search(staff_text))


def _forwarded_text(message: InboundMessage) -> str:
    """The customer's message as staff see it, attachments named."""
    kinds = ", ".join(a.kind for a in message.attachments)
    return f"{message.text}\n[sent: {kinds}]".strip() if kinds else message.text


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
