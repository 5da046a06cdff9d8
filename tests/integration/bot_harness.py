"""Run the real server and workers in the test's event loop, against fake provider APIs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bot.config import settings_class
from bot.runtime import Runtime
from bot.services import Services
from core.messages import ChannelName, InboundMessage

PUBLIC_URL = "https://bot.example.test"


@asynccontextmanager
async def running_bot(
    services: Services, workers: int = 1, **overrides: Any
) -> AsyncIterator[Runtime]:
    """`bot serve` on a free port with the given channel settings; stopped cleanly after."""
    changes = {
        "port": 0,
        "host": "127.0.0.1",
        "public_base_url": PUBLIC_URL,
        "reclaim_after_seconds": 1.0,
        "send_lease_seconds": 5.0,
        **overrides,
    }
    if type(services.settings) is settings_class():
        settings = services.settings.model_copy(update=changes)
    else:  # a channel registered since: its settings block joins the bot's
        settings = settings_class()(**(services.settings.model_dump() | changes))
    async with Runtime(services, listen=True, workers=workers, settings=settings) as runtime:
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            yield runtime
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


async def wait_for(condition: Callable[[], bool], within: float = 20.0) -> None:
    """Poll until the condition holds; fail the test with a clear message if it never does."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)


async def settle(seconds: float = 1.0) -> None:
    """Give workers time to do something they should not (a second reply, say)."""
    await asyncio.sleep(seconds)


async def close_handoffs(pool: asyncpg.Pool, channel: ChannelName) -> None:
    """Close the handoffs a test opened on `channel` without a staff mailbox to send them to,
    so a later test's dispatcher does not email them first (and staff replies go astray)."""
    await pool.execute(
        "UPDATE escalations e SET status = 'closed' FROM conversations c"
        " WHERE c.id = e.conversation_id AND c.channel = $1"
        " AND e.status IN ('open', 'queued')",
        channel.value,
    )


def telegram_message(chat: int, n: int, text: str) -> InboundMessage:
    """The `n`th message of a Telegram chat, as its webhook would queue it."""
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=str(chat),
        provider_message_id=f"{chat}:{n}",
        text=text,
        received_at=datetime.now(UTC),
    )
