"""Redis and PostgreSQL restarted under a running bot: nothing lost, nothing answered twice."""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AbstractAsyncContextManager

import pytest
from pydantic import SecretStr

from bot.embedded.servers import EmbeddedServices
from bot.runtime import Runtime
from bot.services import Services
from tests.integration.bot_harness import running_bot, settle, wait_for
from tests.integration.test_telegram_flow import post, sent, text_update
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

pytestmark = pytest.mark.integration
_chats = itertools.count(990_000_001)


def bot(
    services: Services, api: FakeTelegramAPI, workers: int = 1
) -> AbstractAsyncContextManager[Runtime]:
    return running_bot(
        services,
        workers=workers,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=api.base_url,
    )


async def restart(service: EmbeddedServices, down_for: float = 0.5) -> None:
    await asyncio.to_thread(service.stop)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(service.start)


async def test_queued_messages_survive_a_redis_restart(
    own_services: Services, own_valkey: EmbeddedServices, telegram_api: FakeTelegramAPI
) -> None:
    chats = [next(_chats) for _ in range(5)]
    async with bot(own_services, telegram_api, workers=0) as runtime:
        for chat in chats:
            response = await post(runtime, text_update("Do you deliver?", user=chat))
            assert response.status == 200
        await restart(own_valkey)
        # Queued before the restart, still there after it (the append-only file).
        assert await runtime.queue.depth() == 5
    async with bot(own_services, telegram_api) as runtime:
        await wait_for(lambda: all(len(sent(telegram_api, c)) == 1 for c in chats), within=30)
        await settle()
    assert [len(sent(telegram_api, c)) for c in chats] == [1] * 5


async def test_webhooks_while_redis_is_down_are_refused_then_taken(
    own_services: Services, own_valkey: EmbeddedServices, telegram_api: FakeTelegramAPI
) -> None:
    chat = next(_chats)
    update = text_update("What time do you open on Saturday?", user=chat)
    async with bot(own_services, telegram_api) as runtime:
        await asyncio.to_thread(own_valkey.stop)
        try:
            # Telegram retries anything but a 2xx, so refusing loses nothing.
            refused = await post(runtime, update)
            assert refused.status == 503
        finally:
            await asyncio.to_thread(own_valkey.start)
        retried = await post(runtime, update)
        assert retried.status == 200
        await wait_for(lambda: len(sent(telegram_api, chat)) == 1, within=30)
        # The worker kept running through the outage: a new message is answered too.
        later = next(_chats)
        await post(runtime, text_update("Do you deliver?", user=later))
        await wait_for(lambda: len(sent(telegram_api, later)) == 1, within=30)
        await settle()
    assert len(sent(telegram_api, chat)) == 1


async def test_a_postgresql_restart_loses_no_message(
    own_services: Services, own_postgres: EmbeddedServices, telegram_api: FakeTelegramAPI
) -> None:
    before, during, after = next(_chats), next(_chats), next(_chats)
    async with bot(own_services, telegram_api) as runtime:
        await post(runtime, text_update("Do you deliver?", user=before))
        await wait_for(lambda: len(sent(telegram_api, before)) == 1, within=30)
        await asyncio.to_thread(own_postgres.stop)
        try:
            # Accepted while the database is down: it waits in the queue.
            assert (await post(runtime, text_update("Do you deliver?", user=during))).status == 200
            # Longer than five reclaim rounds: an outage is not the message's fault, so it is
            # not dead-lettered after five failed attempts.
            await asyncio.sleep(7)
        finally:
            await asyncio.to_thread(own_postgres.start)
        await wait_for(lambda: len(sent(telegram_api, during)) == 1, within=60)
        await post(runtime, text_update("Do you deliver?", user=after))
        await wait_for(lambda: len(sent(telegram_api, after)) == 1, within=30)
        await settle()
        assert await runtime.queue.depth() == 0
    assert [len(sent(telegram_api, c)) for c in (before, during, after)] == [1, 1, 1]
    dead = await own_services.storage.redis.xlen("inbound:dead")
    assert dead == 0
