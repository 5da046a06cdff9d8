"""Every log line about one inbound message carries the same correlation id."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import structlog
from structlog.testing import LogCapture

from bot.metrics import Metrics
from bot.queue.delivery import Delivery
from bot.queue.inbound import Entry, InboundQueue, encode
from bot.queue.worker import Worker
from core.messages import ChannelName, InboundMessage, Reply

log = structlog.get_logger("test")


def message(provider_id: str) -> InboundMessage:
    return InboundMessage(
        ChannelName("email"), "ann@example.sg", provider_id, "hello", datetime.now(UTC)
    )


@pytest.fixture
def captured() -> Iterator[LogCapture]:
    capture = LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    yield capture
    structlog.reset_defaults()


class OneShotQueue:
    """Hands out its entries once, then nothing; remembers what was acknowledged."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries, self.done_ids = entries, list[str]()
        self.all_done = asyncio.Event()
        self._expected = len(entries)

    async def ensure_group(self) -> None: ...

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        taken, self.entries = self.entries[:count], self.entries[count:]
        await asyncio.sleep(0.01)
        return taken

    async def reclaim(self, consumer: str, idle_ms: int, count: int) -> list[Entry]:
        return []

    async def is_next(self, entry: Entry) -> bool:
        return True

    async def done(self, entry: Entry) -> None:
        self.done_ids.append(entry.entry_id)
        if len(self.done_ids) == self._expected:
            self.all_done.set()


class LoggingDelivery:
    async def deliver(self, message: InboundMessage) -> bool:
        log.info("sent_reply")
        return True


async def test_core_and_sending_lines_carry_the_messages_id(captured: LogCapture) -> None:
    first, second = message("<a1@mail.example.sg>"), message("<b2@mail.example.sg>")
    queue = OneShotQueue([Entry("1-0", first, encode(first)), Entry("2-0", second, encode(second))])

    async def handle(m: InboundMessage) -> Reply | None:
        log.info("core_ran", text=m.text)
        await asyncio.sleep(0.01)  # both entries in flight at once
        return None

    worker = Worker(
        cast(InboundQueue, queue),
        handle,
        cast(Delivery, LoggingDelivery()),
        Metrics(),
        name="w",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(queue.all_done.wait(), 10)
    stop.set()
    await task

    lines: list[dict[str, Any]] = [
        e for e in captured.entries if e["event"] in ("core_ran", "sent_reply")
    ]
    by_id: dict[str, set[str]] = {}
    for line in lines:
        by_id.setdefault(line["cid"], set()).add(line["event"])
    assert by_id == {
        first.correlation_id: {"core_ran", "sent_reply"},
        second.correlation_id: {"core_ran", "sent_reply"},
    }
    assert first.correlation_id != second.correlation_id
    assert message("<a1@mail.example.sg>").correlation_id == first.correlation_id
