"""The bot's Redis client on real Valkey: a burst bigger than the pool waits instead of failing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.config import Settings
from bot.queue.inbound import InboundQueue
from bot.services import REDIS_MAX_CONNECTIONS, Services, redis_client
from core.messages import ChannelName, InboundMessage

pytestmark = pytest.mark.integration
BURST = 300


@pytest.fixture
def redis_url(settings: Settings) -> str:
    assert settings.redis_url is not None
    return settings.redis_url.get_secret_value()


@pytest.fixture
async def small_pool(redis_url: str) -> AsyncIterator[Redis]:
    client = redis_client(redis_url, max_connections=4, wait_seconds=5)
    yield client
    await client.aclose()


def message(n: int) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=f"burst-{n % 50}",
        provider_message_id=uuid.uuid4().hex,
        text=f"question {n}",
        received_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )


async def test_a_burst_of_enqueues_over_a_small_pool_all_succeed(small_pool: Redis) -> None:
    queue = InboundQueue(small_pool, stream=f"test-burst-{uuid.uuid4().hex[:8]}", group="g")
    try:
        ids = await asyncio.gather(*(queue.enqueue(message(n)) for n in range(BURST)))
        assert len(set(ids)) == BURST
        assert await queue.depth() == BURST
        pool = small_pool.connection_pool
        assert isinstance(pool, BlockingConnectionPool) and pool.max_connections == 4
    finally:
        await small_pool.delete(queue.stream, *{f"order:telegram:burst-{n}" for n in range(50)})


async def test_the_default_pool_would_have_failed_the_same_burst(redis_url: str) -> None:
    # Why the bot does not use it: a full pool raises at once instead of waiting.
    client = Redis.from_url(redis_url, max_connections=4)
    try:
        with pytest.raises(RedisConnectionError, match="Too many connections"):
            await asyncio.gather(*(client.ping() for _ in range(BURST)))
    finally:
        await client.aclose()


async def test_a_command_gives_up_when_no_connection_frees_up_in_time(redis_url: str) -> None:
    client = redis_client(redis_url, max_connections=1, wait_seconds=0.2)
    try:
        holder = asyncio.create_task(client.blpop([f"never-{uuid.uuid4().hex}"], timeout=2))
        await asyncio.sleep(0.1)  # the blocking pop holds the only connection
        began = time.monotonic()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await client.ping()
        assert time.monotonic() - began < 1.5
        assert await holder is None  # the pop ends normally and its connection goes back
        assert await client.ping()
    finally:
        await client.aclose()


async def test_the_bot_builds_its_client_on_a_blocking_pool(settings: Settings) -> None:
    async with Services(settings, load_model=False) as services:
        pool = services.storage.redis.connection_pool
        assert isinstance(pool, BlockingConnectionPool)
        assert pool.max_connections == REDIS_MAX_CONNECTIONS
        assert await services.storage.redis.ping()
