"""A claim cut short by a Redis restart still releases the customer for their next message."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.services import Services
from core.memory import RedisMemory


async def test_a_claim_failing_while_redis_restarts_releases_the_customer(
    services: Services,
) -> None:
    redis = services.storage.redis
    memory = RedisMemory(redis, lock_seconds=60)
    release = memory._release
    refused = 0

    async def release_after_restart(**kwargs: Any) -> Any:
        nonlocal refused
        if refused < 2:  # Redis is still restarting for the first tries
            refused += 1
            raise RedisConnectionError("Error 111 connecting to redis. Connection refused.")
        return await release(**kwargs)

    memory._release = release_after_restart  # type: ignore[assignment]
    user = uuid.uuid4().hex[:8]
    with pytest.raises(RedisConnectionError):
        async with memory.claim("telegram", user, f"{user}:1") as claim:
            assert claim is not None
            raise RedisConnectionError("Connection reset by peer")  # finishing failed
    assert refused == 2
    assert not await redis.exists(f"lock:telegram:{user}")
    started = time.monotonic()
    async with memory.claim("telegram", user, f"{user}:2") as claim:
        assert claim is not None
        await claim.finish(1, [])
    assert time.monotonic() - started < 1  # not the minute the lock would have held it
