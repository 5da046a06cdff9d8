"""A message no store can hold never holds back the same customer's next messages."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace

import asyncpg
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.queue.inbound import DEAD_LETTERS, InboundQueue
from bot.services import Services
from core.messages import InboundMessage
from core.store import InboundRecord
from tests.integration.bot_harness import running_bot, telegram_message, wait_for
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

RECLAIM_SECONDS = 30.0


async def _dead_letters_of(redis: Redis, chat: int) -> list[dict[bytes, bytes]]:
    entries = await redis.xrange(DEAD_LETTERS)
    return [f for _, f in entries if json.loads(f[b"m"])["external_user_id"] == str(chat)]


@pytest.fixture
def refusing_store(services: Services, monkeypatch: pytest.MonkeyPatch) -> str:
    """PostgreSQL refusing one message's data, as it refused NUL characters before the edge
    cleaned them: the message id it refuses (its stand-in, with no text, it takes)."""
    store = services.core._store
    record_inbound = store.record_inbound
    refused = f"poison:{uuid.uuid4().hex}"

    async def refuse(message: InboundMessage) -> InboundRecord | None:
        if message.provider_message_id == refused and not message.unreadable:
            raise asyncpg.CharacterNotInRepertoireError(
                'invalid byte sequence for encoding "UTF8": 0x00'
            )
        return await record_inbound(message)

    monkeypatch.setattr(store, "record_inbound", refuse)
    return refused


async def test_a_poison_message_is_set_aside_and_the_next_ones_are_answered_at_once(
    services: Services, telegram_api: FakeTelegramAPI, refusing_store: str
) -> None:
    chat = 870_000_000 + uuid.uuid4().int % 1_000_000
    queue = InboundQueue(services.storage.redis)
    poison = replace(
        telegram_message(chat, 1, "a message the store refuses"), provider_message_id=refusing_store
    )
    async with running_bot(
        services,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=telegram_api.base_url,
        # Reclaiming would hide a stall behind a retry: make it far later than the answers.
        reclaim_after_seconds=RECLAIM_SECONDS,
    ):
        started = time.monotonic()
        await queue.enqueue(poison)
        await queue.enqueue(telegram_message(chat, 2, "What time do you open on Saturday?"))
        await queue.enqueue(telegram_message(chat, 3, "Do you deliver?"))
        await wait_for(lambda: len(_texts(telegram_api, chat)) == 3, within=RECLAIM_SECONDS / 2)
        elapsed = time.monotonic() - started
        await queue.enqueue(poison)  # the provider sends it again: not answered twice
        await queue.enqueue(telegram_message(chat, 4, "Thank you"))
        await wait_for(lambda: len(_texts(telegram_api, chat)) == 4, within=RECLAIM_SECONDS / 2)

    unreadable, saturday, delivery, _thanks = _texts(telegram_api, chat)
    assert "couldn't read your last message" in unreadable
    assert "8:00 am" in saturday and "deliver" in delivery.lower()
    assert elapsed < RECLAIM_SECONDS / 2  # answered before any reclaim could have helped
    # Set aside once, kept for a person to look at; the repeat was a known duplicate.
    [aside] = await _dead_letters_of(services.storage.redis, chat)
    assert b"a message the store refuses" in aside[b"m"]
    assert aside[b"reason"].startswith(b"CharacterNotInRepertoireError: invalid byte")
    assert await _inbound_bodies(services, chat) == [
        "",  # the stand-in: none of what the store refused
        "What time do you open on Saturday?",
        "Do you deliver?",
        "Thank you",
    ]


async def test_an_old_entry_with_nul_characters_is_cleaned_and_answered(
    services: Services, telegram_api: FakeTelegramAPI
) -> None:
    """Queued before the edge cleaned text: the core cleans it too, so it is simply answered."""
    chat = 870_000_000 + uuid.uuid4().int % 1_000_000
    async with running_bot(
        services, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=telegram_api.base_url
    ):
        await InboundQueue(services.storage.redis).enqueue(
            telegram_message(chat, 1, "What time do you open\x00 on Saturday?")
        )
        await wait_for(lambda: len(_texts(telegram_api, chat)) == 1)
    assert "8:00 am" in _texts(telegram_api, chat)[0]
    assert await _inbound_bodies(services, chat) == ["What time do you open on Saturday?"]


def _texts(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [
        str(c.params["text"]) for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat
    ]


async def _inbound_bodies(services: Services, chat: int) -> list[str]:
    rows = await services.storage.pool.fetch(
        "SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " JOIN channel_identities ci ON ci.contact_id = c.contact_id"
        " WHERE ci.channel = 'telegram' AND ci.external_id = $1 AND m.direction = 'inbound'"
        " ORDER BY m.id",
        str(chat),
    )
    return [str(r["body"]) for r in rows]
