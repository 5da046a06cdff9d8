"""The privacy steps of a conversation: consent, "what do you hold about me", and erasure."""

from __future__ import annotations

from dataclasses import replace

from core import texts
from core.compose import Composition
from core.consent import ERASE_NO, ERASE_YES, PrivacyNotice, consent_answer, describe_data
from core.data_rights import Confirmation, DataRights
from core.intents import Intent, classify
from core.language import Language
from core.memory import Turn
from core.messages import ChannelName, Choice, InboundMessage, Reply
from core.reply_notes import paragraphs
from core.store import ConversationStore
from core.store_records import InboundRecord


def data_request(message: InboundMessage, history: tuple[Turn, ...]) -> Intent | str | None:
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


class PrivacySteps:
    """Asks for consent, shows the privacy notice, and answers requests about personal data."""

    def __init__(
        self,
        store: ConversationStore,
        privacy: PrivacyNotice | None,
        rights: DataRights | None,
    ) -> None:
        self._store = store
        self._privacy = privacy
        self._rights = rights

    async def data_reply(
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

    async def erase(
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

    async def consent_gate(
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

    def with_first_notice(
        self,
        composition: Composition,
        message: InboundMessage,
        record: InboundRecord,
        language: Language,
    ) -> Composition:
        """The answer, led by the privacy notice until the customer has seen it."""
        if (
            self._privacy is not None
            and record.profile.consent is None
            and message.channel != ChannelName.CLI
        ):
            # Not required: the notice comes with the first answer, and going on agrees.
            notice = self._privacy.notice(language)
            composition = replace(composition, text=paragraphs(notice, composition.text))
        return composition
