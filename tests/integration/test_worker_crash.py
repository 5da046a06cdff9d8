"""A worker killed with SIGKILL mid-message: another worker still sends exactly one reply."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings
from bot.queue.inbound import InboundQueue
from bot.services import Services
from core.messages import ChannelName, InboundMessage
from tests.integration.bot_harness import running_bot, settle, wait_for
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI


def _worker_env(settings: Settings, api: FakeTelegramAPI, data_dir: Path) -> dict[str, str]:
    assert settings.database_url is not None and settings.redis_url is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "PUBLIC_"))}
    env.update(
        DATABASE_URL=settings.database_url.get_secret_value(),
        REDIS_URL=settings.redis_url.get_secret_value(),
        DATA_DIR=str(data_dir),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api.base_url,
        RECLAIM_AFTER_SECONDS="1",
        SEND_LEASE_SECONDS="5",
        LOG_FORMAT="json",
    )
    return env


async def test_sigkill_mid_send_still_gives_exactly_one_reply(
    services: Services, settings: Settings, telegram_api: FakeTelegramAPI, tmp_path: Path
) -> None:
    chat = 880_000_000 + uuid.uuid4().int % 1_000_000
    message = InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=str(chat),
        provider_message_id=f"{chat}:1",
        text="What time do you open on Saturday?",
        received_at=datetime.now(UTC),
    )
    gate = telegram_api.hold_next("sendMessage")
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "worker",
        env=_worker_env(settings, telegram_api, tmp_path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await InboundQueue(services.storage.redis).enqueue(message)
        # The worker has answered, stored the reply and is now stuck sending it.
        await asyncio.wait_for(telegram_api.held.wait(), timeout=120)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    gate.set()  # the stalled request fails: the customer has received nothing yet
    assert worker.returncode == -signal.SIGKILL

    started = time.monotonic()
    async with running_bot(
        services, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=telegram_api.base_url
    ):

        def delivered() -> list[dict[str, object]]:
            calls = telegram_api.calls_to("sendMessage")
            return [c.params for c in calls if c.params["chat_id"] == chat]

        await wait_for(lambda: len(delivered()) == 2, within=60)
        await settle(1.5)
    # One stalled attempt by the dead worker, one real reply by the live one; nothing more.
    assert len(delivered()) == 2
    assert delivered()[0]["text"] == delivered()[1]["text"]
    assert time.monotonic() - started < 60
    pool = services.storage.pool
    status = await pool.fetchval(
        "SELECT o.delivery_status FROM messages o JOIN messages i ON o.in_reply_to = i.id"
        " WHERE i.provider_message_id = $1",
        message.provider_message_id,
    )
    assert status == "sent"
