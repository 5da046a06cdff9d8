"""Real `bot serve` and `bot worker` subprocesses on a test's storage and fake providers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.services import Services
from core.edge_index import EdgeIndex
from knowledge_base.ingest import Ingestor
from tests.integration.bot_harness import PUBLIC_URL
from tests.integration.conftest import SAMPLE_KB
from tests.integration.test_email_flow import BOT_MAILBOX, PASSWORD
from tests.integration.test_whatsapp_flow import SENDER
from tests.providers.dovecot import Dovecot
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

INDEX_FOLDER = "qdrant-edge"
"""Where a process's embedded vector index lives inside its DATA_DIR."""
_LISTENING = re.compile(rb"(?:Listening|Health and metrics) on http://[^:]+:(\d+)")
_READY = (b"reading the inbound queue", b"Listening on http://")
"""What `bot worker` and `bot serve` print once they are at work."""
_INHERITED = ("TWILIO_", "PUBLIC_", "TELEGRAM_", "SMTP_", "IMAP_", "EMAIL_", "STAFF_")


@dataclass
class BotProcess:
    """One bot subprocess, the file its output goes to, and its port once it listens."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    port: int | None = None

    async def ready(self, within: float = 180.0) -> None:
        """Wait for the process to say it is serving; fail with its output if it dies first."""
        deadline = time.monotonic() + within
        while True:
            output = await asyncio.to_thread(self.log.read_bytes)
            if any(line in output for line in _READY):
                if match := _LISTENING.search(output):
                    self.port = int(match.group(1))
                return
            tail = output[-3000:].decode(errors="replace")
            assert self.process.returncode is None, f"{self.name} exited:\n{tail}"
            assert time.monotonic() < deadline, f"{self.name} not ready in {within}s:\n{tail}"
            await asyncio.sleep(0.2)

    def events(self, name: str) -> list[dict[str, object]]:
        """The JSON log lines of one event, in order."""
        found = []
        for line in self.log.read_bytes().splitlines():
            if line.startswith(b"{") and f'"event": "{name}"'.encode() in line:
                found.append(json.loads(line))
        return found


async def fill_index(services: Services, folder: Path) -> None:
    """Build the sample knowledge base's vector index once, in `folder`, for copying."""
    index = EdgeIndex(str(folder / INDEX_FOLDER), services.settings.qdrant_collection)
    try:
        report = await Ingestor(services.storage.store, index, services.embedder).ingest(
            [SAMPLE_KB]
        )
        assert not report.failed, report.failed
    finally:
        await index.close()


def storage_env(services: Services, folder: Path, index_from: Path | None = None) -> dict[str, str]:
    """A process on the test's PostgreSQL and Valkey with its own data folder (and index copy).

    The embedded vector index opens in one process only, so each process gets a copy; with a
    Qdrant server they would all share it through QDRANT_URL.
    """
    s = services.settings
    assert s.database_url is not None and s.redis_url is not None
    folder.mkdir(parents=True, exist_ok=True)
    if index_from is not None:
        shutil.copytree(index_from / INDEX_FOLDER, folder / INDEX_FOLDER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
    env.update(
        DATABASE_URL=s.database_url.get_secret_value(),
        REDIS_URL=s.redis_url.get_secret_value(),
        DATA_DIR=str(folder),
        BUSINESS_NAME=s.business_name,
        BUSINESS_HOURS=s.business_hours,
        PUBLIC_HOLIDAYS="false",
        HOST="127.0.0.1",
        PORT="0",
        LOG_FORMAT="json",
    )
    return env


def provider_env(
    telegram: FakeTelegramAPI,
    twilio: FakeTwilioApi,
    smtp: SmtpServer,
    dovecot: Dovecot | None = None,
) -> dict[str, str]:
    """Every channel pointed at the fake providers and the local mail servers."""
    env = dict(
        PUBLIC_BASE_URL=PUBLIC_URL,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.base_url,
        TELEGRAM_RATE_PER_SECOND="1000",
        TWILIO_ACCOUNT_SID=twilio.account_sid,
        TWILIO_AUTH_TOKEN=twilio.auth_token,
        TWILIO_WHATSAPP_FROM=SENDER,
        TWILIO_API_URL=twilio.base_url,
        TWILIO_RATE_PER_SECOND="1000",
        EMAIL_ADDRESS=BOT_MAILBOX,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        SMTP_SECURITY="none",
        SMTP_PASSWORD=PASSWORD,
    )
    if dovecot is not None:
        env.update(
            IMAP_HOST="127.0.0.1",
            IMAP_PORT=str(dovecot.port),
            IMAP_TLS="false",
            IMAP_PASSWORD=PASSWORD,
        )
    return env


@asynccontextmanager
async def bot_process(
    name: str, args: list[str], env: dict[str, str], folder: Path
) -> AsyncIterator[BotProcess]:
    """`bot <args>` in `folder` with `env`, output to `folder/<name>.log`; killed at the end."""
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args,
            env=env, cwd=folder, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        yield BotProcess(name, process, log_path)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
