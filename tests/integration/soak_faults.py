"""The soak test's faults: failing providers, restarted servers, a worker killed with SIGKILL."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.embedded.servers import EmbeddedServices
from bot.services import Services
from tests.integration.bot_processes import bot_process, fill_index, provider_env, storage_env
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

READY_LINE = b"reading the inbound queue"


class Faults:
    """Injects faults one after another and writes down what was done when."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.log: list[str] = []

    async def at(self, offset: float, name: str, inject: Callable[[], Awaitable[str]]) -> None:
        await asyncio.sleep(max(0.0, self.started + offset - time.monotonic()))
        began = time.monotonic() - self.started
        detail = await inject()
        self.log.append(f"{began:6.1f}s {name}: {detail}")


async def restart(service: EmbeddedServices, down_for: float) -> str:
    began = time.monotonic()
    await asyncio.to_thread(service.stop)
    await asyncio.sleep(down_for)
    await asyncio.to_thread(service.start)
    return f"down and back in {time.monotonic() - began:.1f}s"


async def refuse_mail(smtp: SmtpServer, seconds: float) -> str:
    smtp.refuse("451 4.3.0 Mail server temporarily rejected message")
    await asyncio.sleep(seconds)
    smtp.refuse(None)
    return f"451 on every DATA for {seconds:.0f}s"


@asynccontextmanager
async def worker_process(
    services: Services,
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioApi,
    smtp: SmtpServer,
    folder: Path,
    reclaim_seconds: float,
    lease_seconds: float,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`bot worker` on its own vector index (the embedded one is one process's), all channels."""
    await fill_index(services, folder)
    env = storage_env(services, folder) | provider_env(telegram, twilio, smtp)
    env.update(
        # One entry at a time: when its one send hangs, nothing else of it is in flight, so
        # the SIGKILL cannot land between a provider accepting a reply and our recording it.
        WORKER_CONCURRENCY="1",
        RECLAIM_AFTER_SECONDS=str(reclaim_seconds),
        SEND_LEASE_SECONDS=str(lease_seconds),
    )
    async with bot_process("worker", ["worker"], env, folder) as worker:
        yield worker.process


async def kill_mid_send(
    process: asyncio.subprocess.Process, telegram: FakeTelegramAPI, log: Path
) -> str:
    """SIGKILL the worker while its Telegram send hangs on the network."""
    deadline = time.monotonic() + 120
    while READY_LINE not in (output := await asyncio.to_thread(log.read_bytes)):
        assert process.returncode is None, output[-2000:].decode(errors="replace")
        assert time.monotonic() < deadline, "the worker subprocess never became ready"
        await asyncio.sleep(0.2)
    gate = telegram.hold_next("sendMessage")
    try:
        await asyncio.wait_for(telegram.held.wait(), timeout=20)
        when = "while a reply was on its way to Telegram"
    except TimeoutError:
        when = "while idle (it sent nothing to Telegram for 20s)"
    process.send_signal(signal.SIGKILL)
    await process.wait()
    gate.set()  # the hung request fails: that reply never reached the customer
    return f"worker subprocess SIGKILLed {when}"
