"""The whole core on real services: embedded PostgreSQL and Valkey, Qdrant Edge, bundled model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.services import Services
from core.dual_embedding import DualEmbedder, Scale
from core.embedding import Vectors
from core.messages import ChannelName, InboundMessage

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def ask(text: str, user: str, provider_id: str | None = None, at: datetime = NOW) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=user,
        provider_message_id=provider_id or str(uuid.uuid4()),
        text=text,
        received_at=at,
        display_name="Siti",
    )


async def test_saturday_hours_are_answered_from_the_sample(services: Services) -> None:
    reply = await services.core.handle(ask("What time do you open on Saturday?", "sat-user"))
    assert reply is not None
    assert not reply.escalate
    assert "8:00 am" in reply.text and "6:00 pm" in reply.text
    assert reply.source_entry_ids == ("hours-saturday",)


async def test_singlish_paraphrase_finds_the_same_entry(services: Services) -> None:
    reply = await services.core.handle(ask("sat open until what time ah", "singlish-user"))
    assert reply is not None and "6:00 pm" in reply.text


async def test_out_of_scope_question_is_not_known_and_escalated(services: Services) -> None:
    first = await services.core.handle(ask("Can you repair my car gearbox?", "gearbox-user"))
    assert first is not None and not first.escalate and "don't know" in first.text
    reply = await services.core.handle(ask("Can you fix a car gearbox?", "gearbox-user"))
    assert reply is not None
    assert reply.escalate and reply.reason == "no_answer_twice"
    assert "member of our team" in reply.text
    rows = await services.storage.pool.fetch(
        "SELECT trigger FROM escalations WHERE conversation_id = $1", reply.conversation_id
    )
    assert [r["trigger"] for r in rows] == ["no_answer_twice"]
    status = await services.storage.pool.fetchval(
        "SELECT status FROM conversations WHERE id = $1", reply.conversation_id
    )
    assert status == "escalated"


async def test_same_provider_message_three_times_gives_one_reply(services: Services) -> None:
    message = ask("Do you deliver?", "retry-user", provider_id="tg-777")
    replies = await asyncio.gather(*(services.core.handle(message) for _ in range(3)))
    assert sum(r is not None for r in replies) == 1
    count = await services.storage.pool.fetchval(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'tg-777'"
    )
    assert count == 1


async def test_duplicate_after_redis_forgot_is_still_dropped(services: Services) -> None:
    message = ask("Do you take PayNow?", "forgetful-user", provider_id="tg-888")
    assert await services.core.handle(message) is not None
    await services.storage.redis.delete("handled:telegram:tg-888")
    assert await services.core.handle(message) is None


async def test_a_message_stored_but_never_answered_is_handled_again(services: Services) -> None:
    # What a worker that died between storing the message and its reply leaves behind.
    message = ask("Can I order a birthday cake?", "died-midway", provider_id="tg-999")
    stored = await services.storage.store.record_inbound(message)
    assert stored is not None
    reply = await services.core.handle(message)
    assert reply is not None and reply.conversation_id == stored.conversation_id
    count = await services.storage.pool.fetchval(
        "SELECT count(*) FROM messages WHERE provider_message_id = 'tg-999'"
    )
    assert count == 1
    await services.storage.redis.delete("handled:telegram:tg-999")
    assert await services.core.handle(message) is None  # answered now: a true duplicate


async def test_numbered_reply_picks_the_offered_choice(services: Services) -> None:
    first = await services.core.handle(ask("cake", "picks-a-number"))
    assert first is not None and first.choices, first
    picked = await services.core.handle(ask("2", "picks-a-number"))
    assert picked is not None
    assert picked.source_entry_ids == (first.choices[1].entry_id,)


async def test_one_customers_messages_are_stored_in_order(services: Services) -> None:
    texts = [f"question number {n} about delivery fees" for n in range(6)]
    start = NOW + timedelta(minutes=1)
    messages = [ask(t, "burst-user", at=start + timedelta(seconds=n)) for n, t in enumerate(texts)]
    replies = await asyncio.gather(*(services.core.handle(m) for m in messages))
    conversation = replies[0].conversation_id if replies[0] else 0
    rows = await services.storage.pool.fetch(
        "SELECT direction FROM messages WHERE conversation_id = $1 ORDER BY id", conversation
    )
    # Each inbound is followed by its own reply: the per-customer lock serialises handling.
    assert [r["direction"] for r in rows] == ["inbound", "outbound"] * 6


async def test_recent_turns_are_remembered_in_redis(services: Services) -> None:
    reply = await services.core.handle(ask("Where are you located?", "memory-user"))
    assert reply is not None
    turns = await services.storage.redis.lrange("turns:telegram:memory-user", 0, -1)
    assert len(turns) == 2 and b"located" in turns[0]


async def test_returning_customer_is_recognised_with_a_summary(services: Services) -> None:
    first = await services.core.handle(ask("How much is delivery?", "returning-user"))
    assert first is not None
    later = NOW + timedelta(days=3)
    record = await services.storage.store.record_inbound(
        ask("hello again", "returning-user", at=later)
    )
    assert record is not None
    assert record.conversation_id != first.conversation_id
    assert record.closed_conversation is not None
    assert record.closed_conversation[0] == first.conversation_id
    assert record.profile.returning
    assert record.profile.display_name == "Siti"
    assert any("How much is delivery?" in s for s in record.profile.earlier_summaries)


async def test_closed_conversation_summary_is_kept_in_qdrant(services: Services) -> None:
    first = await services.core.handle(ask("Do you make custom birthday cakes?", "cake-user"))
    assert first is not None
    second = await services.core.handle(ask("hi", "cake-user", at=NOW + timedelta(days=2)))
    assert second is not None and "welcome again" in second.text
    contact_id = await services.storage.pool.fetchval(
        "SELECT contact_id FROM conversations WHERE id = $1", first.conversation_id
    )
    recalled = await services.summaries.recall(contact_id, "birthday cake order")
    assert recalled and "custom birthday cakes" in recalled[0]
    # Another customer's summaries never come back for this one.
    assert await services.summaries.recall(contact_id + 10_000, "birthday cake order") == []
    await services.summaries.forget_contact(contact_id)
    assert await services.summaries.recall(contact_id, "birthday cake order") == []


async def test_concurrent_questions_share_batches(services: Services) -> None:
    questions = ["Do you have halal certification?", "Can I pay by card?", "Where can I park?"]
    rankings = await asyncio.gather(*(services.retriever.retrieve(q) for q in questions * 10))
    assert all(r.top is not None for r in rankings)
    assert rankings[0].top == rankings[3].top


async def test_lock_left_by_a_dead_worker_expires(services: Services) -> None:
    from core.memory import RedisMemory

    memory = RedisMemory(services.storage.redis, lock_seconds=0.3)
    # A worker that died mid-message leaves its lock behind; nobody releases it.
    await services.storage.redis.set("lock:telegram:crashed-user", "dead-token", px=300)
    async with memory.claim("telegram", "crashed-user", "after-crash") as claim:
        assert claim is not None
        await claim.finish(1, [])
    async with memory.claim("telegram", "crashed-user", "after-crash") as again:
        assert again is None


async def test_misses_in_a_row_are_counted_and_the_second_hands_over(
    services: Services,
) -> None:
    replies = []
    for n in range(3):
        reply = await services.core.handle(ask(f"Do you sell car tyres, size {n}?", "miss-user"))
        assert reply is not None
        replies.append(reply)
    assert [r.escalate for r in replies] == [False, True, True]
    misses = await services.storage.pool.fetchval(
        "SELECT misses_in_a_row FROM conversations WHERE id = $1", reply.conversation_id
    )
    assert misses == 1
    handoffs = await services.storage.pool.fetchval(
        "SELECT count(*) FROM escalations WHERE conversation_id = $1", reply.conversation_id
    )
    assert handoffs == 1  # one handoff in progress is enough


async def test_a_repeated_question_is_not_embedded_again(services: Services) -> None:
    calls: list[int] = []
    embedder = services.embedder
    assert isinstance(embedder, DualEmbedder)  # the default: questions are embedded weighted
    original = embedder.embed_weighted

    async def counting(
        texts: Sequence[str], weights: Sequence[float]
    ) -> tuple[Vectors, list[Scale]]:
        calls.append(len(texts))
        return await original(texts, weights)

    embedder.embed_weighted = counting  # type: ignore[method-assign]
    try:
        first = await services.retriever.retrieve("Is parking available nearby?")
        embedded = list(calls)
        again = await services.retriever.retrieve("  Is parking   available nearby? ")
    finally:
        embedder.embed_weighted = original  # type: ignore[method-assign]
    # MiniLM alone, then both models when MiniLM was unsure: one question each time.
    assert embedded in ([1], [1, 1])
    assert calls == embedded  # asked again: nothing embedded
    assert first.top == again.top


async def test_an_nric_is_hidden_before_anything_is_stored_and_the_customer_is_warned(
    services: Services,
) -> None:
    message = ask("My IC is S1234567D, what time do you open on Saturday?", "nric-user")
    reply = await services.core.handle(message)
    assert reply is not None and reply.text.startswith("For your security")
    assert "Saturday" in reply.text  # still answered (or offered), from the masked text
    pool = services.storage.pool
    stored = await pool.fetch(
        "SELECT body FROM messages WHERE conversation_id = $1", reply.conversation_id
    )
    assert stored and all("S1234567D" not in row["body"] for row in stored)
    assert any("*****567D" in row["body"] for row in stored)
    turns = await services.storage.redis.lrange("turns:telegram:nric-user", 0, -1)
    assert turns and all(b"S1234567D" not in t for t in turns)
