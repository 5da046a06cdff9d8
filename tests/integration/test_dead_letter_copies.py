"""Raw updates kept aside are a person's data like dead-lettered messages: exported and erased."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bot.embedded.servers import EmbeddedServices
from bot.queue.dead_letters import DeadLetterCopies
from bot.queue.inbound import DEAD_LETTERS, InboundQueue, encode
from core.data_rights import Identity, Person
from core.messages import ChannelName, InboundMessage

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(own_valkey: EmbeddedServices) -> AsyncIterator[Redis]:
    client = Redis.from_url(own_valkey.redis_url)
    await client.delete(DEAD_LETTERS)
    yield client
    await client.aclose()


def unreadable(update_id: int, sender: int, text: object) -> str:
    chat = {"id": sender, "type": "private", "first_name": "Mei"}
    body = {"message_id": 3, "date": 1500000000, "chat": chat, "from": chat, "text": text}
    return json.dumps({"update_id": update_id, "message": body})


async def test_a_persons_raw_updates_are_exported_and_erased_with_their_messages(
    redis: Redis,
) -> None:
    queue = InboundQueue(redis)
    await queue.set_aside(unreadable(1, 48213377, 5), "unreadable message: TypeError(...)")
    await queue.set_aside(unreadable(2, 55102938, 6), "unreadable message: TypeError(...)")
    message = InboundMessage(
        ChannelName("telegram"), "48213377", "48213377:9", "Hi", datetime(2026, 1, 5, tzinfo=UTC)
    )
    await redis.xadd(DEAD_LETTERS, {"m": encode(message), "reason": "poison", "id": "1-0"})
    copies = DeadLetterCopies(redis)
    mei = Person(1, (Identity("telegram", "48213377"),))

    exported = await copies.export(mei)

    assert [e["reason"] for e in exported] == ["unreadable message: TypeError(...)", "poison"]
    assert exported[0]["message"]["update_id"] == 1
    assert await copies.erase(mei) == 2
    [(_, left)] = await redis.xrange(DEAD_LETTERS)
    assert json.loads(left[b"m"])["update_id"] == 2  # someone else's stays
