"""In-memory fakes for the core's collaborators, so pure tests need no services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from core.knowledge import Chunk, ChunkKind
from core.memory import Turn
from core.messages import InboundMessage, Reply
from core.ranking import RankedEntry, Ranking
from core.store import ContactProfile, InboundRecord, RecordedReply, StaffRelay


def chunk(
    entry_id: str, answer: str, title: str = "", kind: ChunkKind = ChunkKind.FAQ_QUESTION
) -> Chunk:
    return Chunk(
        document="faq.yaml",
        entry_id=entry_id,
        title=title or entry_id.replace("-", " "),
        text=title or entry_id,
        answer=answer,
        kind=kind,
        position=0,
    )


def ranking(confidence: float, *entries: tuple[str, str]) -> Ranking:
    ranked = tuple(
        RankedEntry(entry_id=e, score=1.0 - n * 0.1, best=chunk(e, a))
        for n, (e, a) in enumerate(entries)
    )
    return Ranking(ranked, confidence)


class FakeStore:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.contacts: dict[tuple[str, str], int] = {}
        self.replies: list[Reply] = []
        self.addresses: list[str] = []
        self.due: list[datetime | None] = []
        self.staff_replies: list[tuple[str, str, bool]] = []
        self.forwards: list[str] = []
        self.languages: dict[int, str] = {}
        self.consents: dict[int, bool] = {}
        self.misses: dict[int, int] = {}
        self.escalations: list[tuple[int, str]] = []
        self.status = "bot"

    async def record_inbound(self, message: InboundMessage) -> InboundRecord | None:
        key = (message.channel.value, message.provider_message_id)
        if key in self.seen:
            return None
        self.seen.add(key)
        who = (message.channel.value, message.external_user_id)
        returning = who in self.contacts
        contact_id = self.contacts.setdefault(who, len(self.contacts) + 1)
        profile = ContactProfile(
            contact_id, message.display_name, None, returning, (), self.consents.get(contact_id)
        )
        misses = self.misses.get(contact_id, 0)
        return InboundRecord(len(self.seen), contact_id, self.status, misses, profile)

    async def record_reply(
        self,
        record: InboundRecord,
        reply: Reply,
        address: str,
        confidence: float,
        detail: str,
        handoff_due: datetime | None = None,
    ) -> RecordedReply:
        self.replies.append(reply)
        self.addresses.append(address)
        self.due.append(handoff_due)
        if reply.source_entry_ids:
            self.misses[record.conversation_id] = 0
        elif reply.reason == "no_answer":
            self.misses[record.conversation_id] = record.misses_in_a_row + 1
        if not reply.escalate:
            return RecordedReply(len(self.replies), None)
        self.escalations.append((record.conversation_id, reply.reason or "unknown"))
        return RecordedReply(len(self.replies), len(self.escalations))

    async def record_staff_reply(
        self, token: str, message: InboundMessage, text: str, back_to_bot: bool
    ) -> StaffRelay | None:
        self.staff_replies.append((token, text, back_to_bot))
        return StaffRelay(1, len(self.staff_replies), len(self.staff_replies) if text else None)

    async def record_forward(self, record: InboundRecord, text: str) -> int | None:
        self.forwards.append(text)
        return len(self.forwards)

    async def hold_outside_window(self, outbound_id: int, note: str, token: str) -> bool:
        return False

    async def release_held(self, record: InboundRecord) -> int:
        return 0

    async def remember_language(self, contact_id: int, language: str) -> None:
        self.languages[contact_id] = language

    async def record_consent(
        self, contact_id: int, channel: str, granted: bool, notice: str
    ) -> None:
        self.consents[contact_id] = granted


class FakeClaim:
    def __init__(self, memory: FakeMemory, key: tuple[str, str]) -> None:
        self.memory = memory
        self.key = key

    def history(self, conversation_id: int) -> list[Turn]:
        return list(self.memory.turns.get(conversation_id, []))

    async def finish(self, conversation_id: int, turns: list[Turn]) -> None:
        self.memory.turns.setdefault(conversation_id, []).extend(turns)
        self.memory.handled.add(self.key)


class FakeMemory:
    def __init__(self) -> None:
        self.turns: dict[int, list[Turn]] = {}
        self.handled: set[tuple[str, str]] = set()

    @asynccontextmanager
    async def claim(
        self, channel: str, user: str, provider_message_id: str
    ) -> AsyncIterator[FakeClaim | None]:
        key = (channel, provider_message_id)
        yield None if key in self.handled else FakeClaim(self, key)


class FakeRetrieval:
    def __init__(self, result: Ranking) -> None:
        self.result = result
        self.questions: list[str] = []

    async def retrieve(self, text: str) -> Ranking:
        self.questions.append(text)
        return self.result
