"""Reclaimed entries on real Valkey: an older one is not held up by a newer one, none runs twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.config import Settings
from bot.metrics import Metrics
from bot.queue.inbound import InboundQueue
from bot.queue.worker import Worker
from core.messages import InboundMessage, Reply
from tests.integration.bot_harness import wait_for
from tests.integration.test_queue import message


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[InboundQueue]:
    assert settings.redis_url is not None
    redis = Redis.from_url(settings.redis_url.get_secret_value())
    stream = f"test-reclaim-{uuid.uuid4().hex[:8]}"
    q = InboundQueue(redis, stream=stream, group="g")
    await q.ensure_group()
    yield q
    await redis.delete(stream)
    await redis.aclose()


class Sent:
    """Stands in for Delivery: every reply is sent at once."""

    async def deliver(self, message: InboundMessage) -> bool:
        return True


async def test_an_older_reclaimed_entry_runs_before_the_newer_one_waiting_for_it(
    queue: InboundQueue,
) -> None:
    customer = uuid.uuid4().hex[:8]
    await queue.enqueue(message(customer, "first"))
    await queue.enqueue(message(customer, "second"))
    # A worker took the first and lost it (died, or gave it back during an outage).
    [lost] = await queue.read("gone", count=1, block_ms=100)
    handled: list[str] = []

    async def handle(inbound: InboundMessage) -> Reply | None:
        handled.append(inbound.text)
        return None

    worker = Worker(
        queue,
        handle,
        Sent(),  # type: ignore[arg-type]  # stands in for Delivery
        Metrics(),
        name="live",
        reclaim_after_seconds=0.2,
        order_wait_seconds=30,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        # The second waits for its turn here while the first is reclaimed: the first must not
        # be queued behind it (both would wait for the 30 s order wait), and the second, idle
        # while it waits, is reclaimed by this worker too but must not run twice.
        await wait_for(lambda: len(handled) >= 2, within=10)
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await running
    assert handled == ["first", "second"]
    assert lost.message is not None and await queue.depth() == 0
