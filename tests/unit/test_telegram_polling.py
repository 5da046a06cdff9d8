"""Long polling reads getUpdates as leniently as the webhook, against a local fake Bot API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from telegram import Bot

from bot.metrics import Metrics
from bot.queue.ingress import Ingress
from channels.telegram.polling import TelegramPoller
from channels.telegram.updates import ALLOWED_UPDATES
from core.messages import InboundMessage
from tests.providers.fixtures import telegram_api
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.unit.recording_queue import RecordingQueue

__all__ = ["telegram_api"]  # the fixture, shared with the integration tests

MEI = {"id": 48213377, "first_name": "Mei"}  # no is_bot: Bot API 2.x
CHAT = {"id": 48213377, "first_name": "Mei"}  # no type either


class _Offsets:
    def __init__(self) -> None:
        self.saved: list[int] = []

    async def load(self) -> int | None:
        return self.saved[-1] if self.saved else None

    async def save(self, offset: int) -> None:
        self.saved.append(offset)


class _NoLease:
    """poll_once never takes the lease; the poller only registers its scripts."""

    def register_script(self, script: str) -> object:
        return object()


@pytest.fixture
async def bot(telegram_api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=telegram_api.base_url) as started:
        yield started


def message(message_id: int, **content: Any) -> dict[str, Any]:
    body = {"message_id": message_id, "date": 1500000000, "chat": CHAT, "from": MEI}
    return {"message": body | content}


async def test_a_batch_ptb_cannot_build_is_read_update_by_update(
    telegram_api: FakeTelegramAPI, bot: Bot
) -> None:
    sticker = {"file_id": "CAADBQADold", "width": 512, "height": 512, "emoji": "\U0001f370"}
    first = telegram_api.push_update(message(40, sticker=sticker))
    unreadable = telegram_api.push_update(
        message(41, text="Fwd", forward_origin={"type": "user", "date": 1499999999})
    )
    last = telegram_api.push_update(message(42, text="Do you deliver to Bedok?"))
    with pytest.raises(TypeError):
        await bot.get_updates(timeout=0)  # PTB builds the batch at once and gives up on it
    queue, offsets = RecordingQueue(), _Offsets()
    poller = TelegramPoller(
        bot,
        Ingress(queue, object(), Metrics()),  # type: ignore[arg-type]
        offsets,  # type: ignore[arg-type]
        _NoLease(),  # type: ignore[arg-type]
        poll_timeout=0,
    )

    assert await poller.poll_once() == 3

    assert [m.provider_message_id for m in queue.messages] == ["48213377:40", "48213377:42"]
    assert [a.kind for a in queue.messages[0].attachments] == ["sticker"]
    [(raw, reason)] = queue.aside
    assert json.loads(raw)["update_id"] == unreadable
    assert reason.startswith("unreadable message: TypeError")
    assert offsets.saved == [first + 1, unreadable + 1, last + 1]
    call = telegram_api.calls_to("getUpdates")[-1].params
    assert call["allowed_updates"] == ALLOWED_UPDATES and call["timeout"] == 0
    assert await poller.poll_once() == 0  # the stored offset confirmed all three
    assert telegram_api.calls_to("getUpdates")[-1].params["offset"] == last + 1


class _HeldLease:
    """This process holds the poller lease throughout."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        raise RedisConnectionError("Valkey is still down at the stop")


class _QueueDownOnce(RecordingQueue):
    """Redis refuses the first message (restarting), then takes them."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def enqueue(self, message: InboundMessage) -> str:
        if not self.refused:
            self.refused += 1
            raise RedisConnectionError("Connection refused")
        return await super().enqueue(message)


async def test_a_storage_outage_while_polling_is_waited_out_and_nothing_is_lost(
    telegram_api: FakeTelegramAPI, bot: Bot
) -> None:
    telegram_api.push_update(message(50, text="Still open today?"))
    queue, offsets = _QueueDownOnce(), _Offsets()
    poller = TelegramPoller(
        bot,
        Ingress(queue, object(), Metrics()),  # type: ignore[arg-type]
        offsets,  # type: ignore[arg-type]
        _NoLease(),  # type: ignore[arg-type]
        poll_timeout=0,
    )
    poller._lease = _HeldLease()  # type: ignore[assignment]
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    for _ in range(100):  # the poller waits 1 s after the outage, then fetches again
        if queue.messages:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)  # the release failing at the stop is no crash

    assert queue.refused == 1
    assert [m.text for m in queue.messages] == ["Still open today?"]
    assert len(offsets.saved) == 1  # the offset moved only once the update was queued
