"""The inbound stream on real Valkey: round trip, order per customer, reclaim, dead letters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bot.config import Settings
from bot.queue.inbound import DEAD_LETTERS, FloodLimit, InboundQueue
from core.messages import Attachment, ChannelName, InboundMessage


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[InboundQueue]:
    assert settings.redis_url is not None
    redis = Redis.from_url(settings.redis_url.get_secret_value())
    stream = f"test-inbound-{uuid.uuid4().hex[:8]}"
    q = InboundQueue(redis, stream=stream, group="g")
    await q.ensure_group()
    yield q
    await redis.delete(stream)
    await redis.aclose()


def message(user: str, text: str, **extra: object) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=user,
        provider_message_id=uuid.uuid4().hex,
        text=text,
        received_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        **extra,  # type: ignore[arg-type]
    )


async def test_a_message_survives_the_round_trip_field_for_field(queue: InboundQueue) -> None:
    sent = message(
        "42",
        "Do you deliver to Jurong? 你好",
        display_name="Mei Ling",
        reply_to="-100/7",
        attachments=(Attachment("photo", None, "image/jpeg"),),
        choice_entry_id="delivery-areas",
    )
    await queue.enqueue(sent)
    [entry] = await queue.read("a", count=10, block_ms=100)
    assert entry.message == sent
    assert await queue.depth() == 1
    await queue.done(entry)
    assert await queue.depth() == 0


async def test_a_customers_later_message_waits_for_the_earlier_one(queue: InboundQueue) -> None:
    await queue.enqueue(message("7", "first"))
    await queue.enqueue(message("7", "second"))
    await queue.enqueue(message("8", "someone else"))
    first, second, other = await queue.read("a", count=10, block_ms=100)
    assert await queue.is_next(first)
    assert not await queue.is_next(second)
    assert await queue.is_next(other)
    await queue.done(first)
    assert await queue.is_next(second)


async def test_an_entry_left_pending_by_a_dead_consumer_is_reclaimed(queue: InboundQueue) -> None:
    await queue.enqueue(message("9", "hello"))
    [taken] = await queue.read("dead-worker", count=1, block_ms=100)
    assert await queue.read("live-worker", count=1, block_ms=10) == []
    [reclaimed] = await queue.reclaim("live-worker", min_idle_ms=0, count=10)
    assert reclaimed.entry_id == taken.entry_id
    assert reclaimed.message == taken.message


async def test_dead_letters_keep_the_raw_entry_and_the_reason(queue: InboundQueue) -> None:
    redis = queue._redis
    await redis.xadd(queue.stream, {"m": "{not json"})
    [entry] = await queue.read("a", count=1, block_ms=100)
    assert entry.message is None
    before = await redis.xlen(DEAD_LETTERS)
    await queue.dead_letter(entry, "undecodable")
    assert await redis.xlen(DEAD_LETTERS) == before + 1
    [(_, fields)] = await redis.xrevrange(DEAD_LETTERS, count=1)
    assert fields[b"m"] == b"{not json" and fields[b"reason"] == b"undecodable"
    assert await queue.depth() == 0


async def test_a_flooding_sender_is_counted_and_appended_in_one_step(queue: InboundQueue) -> None:
    redis = queue._redis
    key = f"flood:test:{uuid.uuid4().hex[:8]}"
    limit = FloodLimit(key, limit=2, window_seconds=60)
    try:
        outcomes = [await queue.enqueue_within(message("11", f"m{n}"), limit) for n in range(4)]
        other = await queue.enqueue_within(message("12", "hi"), FloodLimit(key + ":12", 2, 60))
        assert all(outcomes[:3]) and outcomes[3] is None and other is not None
        entries = await queue.read("a", count=10, block_ms=100)
        assert [(e.message.text, e.message.flooding) for e in entries if e.message] == [
            ("m0", False),
            ("m1", False),
            ("m2", True),  # one past the limit: queued once, for the notice
            ("hi", False),
        ]
        assert await redis.get(key) == b"4"
        assert 0 < await redis.ttl(key) <= 60
    finally:
        await redis.delete(key, key + ":12", "order:telegram:11", "order:telegram:12")
