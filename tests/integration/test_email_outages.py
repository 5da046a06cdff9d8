"""The IMAP reader through a Redis or PostgreSQL outage: it keeps running and loses no mail."""

from __future__ import annotations

import asyncio
import imaplib
import uuid
from collections.abc import Iterator

import asyncpg
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.services import Services
from channels.email.imap import ImapAccount, WatermarkStore
from channels.email.polling import EmailPoller
from tests.integration.bot_harness import wait_for
from tests.providers.dovecot import Dovecot, dovecot_available

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
PASSWORD = "mailbox-secret"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def mail(subject: str) -> bytes:
    return (
        f"From: Customer <c@example.test>\r\nTo: shop@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.test>\r\n\r\nhello\r\n"
    ).encode()


def flags(dovecot: Dovecot, address: str) -> bytes:
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login(address, PASSWORD)
        imap.select("INBOX")
        _, data = imap.uid("fetch", "1:*", "(FLAGS)")
        return b" ".join(part for part in data if isinstance(part, bytes))
    finally:
        imap.logout()


class FlakyWatermarks(WatermarkStore):
    """PostgreSQL goes away once, while the reader records how far it got."""

    failed = False

    async def save(self, validity: int, uid: int) -> None:
        if not self.failed and uid > 0:
            FlakyWatermarks.failed = True
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        await super().save(validity, uid)


async def test_a_mail_read_while_redis_and_postgresql_are_down_is_handed_over_when_back(
    dovecot: Dovecot, services: Services
) -> None:
    address = f"shop-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(address, PASSWORD)
    account = ImapAccount("127.0.0.1", dovecot.port, address, PASSWORD, use_tls=False)
    seen: list[bytes] = []
    attempts = 0

    async def handle(uid: int, raw: bytes) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:  # the queue is unreachable: Redis restarting
            raise RedisConnectionError("Error 111 connecting to redis. Connection refused.")
        seen.append(raw)

    pool, redis = services.storage.pool, services.storage.redis
    poller = EmailPoller(account, handle, FlakyWatermarks(pool, account), redis, poll_seconds=0.2)
    lease_hold = poller._lease.hold
    lease_failures = 0

    async def hold() -> bool:
        nonlocal lease_failures
        if poller.ready.is_set() and lease_failures == 0:
            lease_failures += 1
            raise RedisConnectionError("Connection reset by peer")
        return await lease_hold()

    poller._lease.hold = hold  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        await asyncio.wait_for(poller.ready.wait(), timeout=20)
        await dovecot.append(address, PASSWORD, mail("during the outage"))
        await wait_for(lambda: len(seen) == 2 or task.done(), within=30)
        assert not task.done(), task.exception()
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    # Handed over once the queue was back, and again after the watermark could not be saved:
    # the Message-ID makes that one a duplicate, which the core drops.
    assert attempts == 3 and seen[0] == seen[1] and b"during the outage" in seen[0]
    assert lease_failures == 1 and FlakyWatermarks.failed
    assert b"$BotFailed" not in await asyncio.to_thread(flags, dovecot, address)
