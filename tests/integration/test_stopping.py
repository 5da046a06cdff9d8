"""SIGTERM stops a bot process in bounded time, whatever it holds; the next one answers the rest."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.queue.inbound import InboundQueue
from bot.services import Services
from tests.integration.bot_harness import running_bot, settle, telegram_message, wait_for
from tests.integration.bot_processes import BotProcess, bot_process, fill_index, storage_env
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

pytestmark = pytest.mark.integration
GRACE_SECONDS = 2.0
BOUND_SECONDS = GRACE_SECONDS + 2.0
"""The issue's bound: the grace period plus 2 s from the signal to the exit."""
EITHER_SIGNAL = pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"]
)


@pytest.fixture(scope="module")
async def index_copy(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stopping-index")
    await fill_index(services, folder)
    return folder


@pytest.fixture
async def ghost(services: Services) -> AsyncIterator[InboundQueue]:
    """The queue, with a consumer that takes entries and never finishes them (a stuck worker)."""
    queue = InboundQueue(services.storage.redis)
    await queue.ensure_group()
    yield queue


def _env(
    services: Services, telegram: FakeTelegramAPI, folder: Path, index: Path
) -> dict[str, str]:
    env = storage_env(services, folder, index_from=index)
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.base_url,
        TELEGRAM_MODE="webhook",
        PUBLIC_BASE_URL="https://bot.example.test",
        STOP_GRACE_SECONDS=str(GRACE_SECONDS),
        # Nothing is taken over while the process runs: what it holds is what the stop meets.
        RECLAIM_AFTER_SECONDS="600",
    )
    return env


def _answers(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [str(m["text"]) for m in api.accepted if m["chat"]["id"] == chat]


async def _stop(bot: BotProcess, signum: signal.Signals = signal.SIGTERM) -> float:
    """Send the signal; seconds until the process exited (asserting it exited 0)."""
    started = time.monotonic()
    bot.process.send_signal(signum)
    await asyncio.wait_for(bot.process.wait(), timeout=60)
    elapsed = time.monotonic() - started
    assert bot.process.returncode == 0, bot.log.read_text()[-3000:]
    return elapsed


@pytest.mark.parametrize("args", [["worker"], ["serve", "--workers", "1"]], ids=["worker", "serve"])
async def test_a_stop_leaves_waiting_retrying_and_odd_entries_for_the_next_process(
    services: Services,
    telegram_api: FakeTelegramAPI,
    ghost: InboundQueue,
    index_copy: Path,
    tmp_path: Path,
    args: list[str],
) -> None:
    base = 860_000_000 + uuid.uuid4().int % 1_000_000
    waiting, failing, odd = base, base + 1, base + 2
    # (a) The customer's first message is held by a stuck consumer: the second waits its turn.
    await ghost.enqueue(telegram_message(waiting, 1, "What time do you open on Saturday?"))
    [held] = await ghost.read("ghost", count=1, block_ms=1000)
    # (b) Every reply to this customer gets 502 from Telegram: the reply is being retried.
    telegram_api.failing_chats[failing] = 502
    env = _env(services, telegram_api, tmp_path, index_copy)
    async with bot_process(args[0], args, env, tmp_path) as bot:
        await bot.ready()
        await ghost.enqueue(telegram_message(waiting, 2, "Do you deliver?"))
        await ghost.enqueue(telegram_message(failing, 1, "What are your Sunday opening hours?"))
        # (c) What stalled a customer for minutes before: NUL characters in the text.
        await ghost.enqueue(telegram_message(odd, 1, "Can I pay\x00 by PayNow?"))

        def retried() -> bool:
            calls = telegram_api.calls_to("sendMessage")
            return sum(1 for c in calls if c.params["chat_id"] == failing) >= 2

        await wait_for(lambda: retried() and len(_answers(telegram_api, odd)) == 1, within=120)
        await settle(0.5)  # the waiting entry is surely in hand by now
        elapsed = await _stop(bot)
        [stopping] = bot.events("stopping")
        # The waiting entry for sure; the retried reply too unless it was mid-request.
        assert stopping["entries_in_hand"] == 2 and stopping["waits_cancelled"] in (1, 2)
    assert elapsed < BOUND_SECONDS, f"stopped after {elapsed:.1f}s"
    assert _answers(telegram_api, waiting) == [] and _answers(telegram_api, failing) == []

    # The next process takes up what was left: each message answered exactly once, in order.
    del telegram_api.failing_chats[failing]
    async with running_bot(
        services, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=telegram_api.base_url
    ):
        await wait_for(
            lambda: (
                len(_answers(telegram_api, waiting)) == 2
                and len(_answers(telegram_api, failing)) == 1
            ),
            within=60,
        )
        await settle(2.0)  # time for a double to show up
    saturday, delivery = _answers(telegram_api, waiting)
    assert "8:00 am" in saturday and "deliver" in delivery.lower()
    assert len(_answers(telegram_api, failing)) == 1 and len(_answers(telegram_api, odd)) == 1
    assert "PayNow" in _answers(telegram_api, odd)[0]
    assert held.entry_id  # the stuck consumer's entry was reclaimed, not lost


@EITHER_SIGNAL
async def test_a_webhooks_only_process_stops_at_once(
    services: Services, telegram_api: FakeTelegramAPI, index_copy: Path, tmp_path: Path,
    signum: signal.Signals,
) -> None:  # fmt: skip
    env = _env(services, telegram_api, tmp_path, index_copy)
    async with bot_process("serve", ["serve", "--workers", "0"], env, tmp_path) as bot:
        await bot.ready()
        elapsed = await _stop(bot, signum)
        assert bot.events("stopping")
    assert elapsed < BOUND_SECONDS, f"stopped after {elapsed:.1f}s"


@EITHER_SIGNAL
async def test_a_terminal_chat_stops_at_once_while_waiting_for_a_question(
    services: Services, index_copy: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    env = storage_env(services, tmp_path, index_from=index_copy)
    env["STOP_GRACE_SECONDS"] = str(GRACE_SECONDS)
    chat = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat",
        env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write(b"What time do you open on Saturday?\n")
        await chat.stdin.drain()
        answer = await asyncio.wait_for(chat.stdout.readline(), timeout=180)
        assert b"8:00 am" in answer
        started = time.monotonic()
        chat.send_signal(signum)  # the input stays open: the chat is waiting for the next line
        _, stderr = await asyncio.wait_for(chat.communicate(), timeout=60)
        elapsed = time.monotonic() - started
    finally:
        if chat.returncode is None:
            chat.kill()
            await chat.wait()
    assert chat.returncode == 0, stderr.decode()[-3000:]
    assert b"stopping" in stderr
    assert elapsed < BOUND_SECONDS, f"stopped after {elapsed:.1f}s"
