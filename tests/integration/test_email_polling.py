"""IMAP reading against a real Dovecot: only new mail, in order, watermark kept, errors isolated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from redis.asyncio import Redis

from bot.services import Services
from channels.email.imap import ImapAccount, WatermarkStore
from channels.email.oauth2 import OAuth2Error
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


@pytest.fixture
def mailbox(dovecot: Dovecot) -> str:
    address = f"shop-{uuid.uuid4().hex[:8]}@example.test"
    dovecot.add_user(address, PASSWORD)
    return address


def mail(subject: str, body: str = "hello") -> bytes:
    return (
        f"From: Customer <c@example.test>\r\nTo: shop@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.test>\r\n\r\n{body}\r\n"
    ).encode()


class Poller:
    """A poller in the background collecting what it hands over."""

    def __init__(self, dovecot: Dovecot, address: str, pool: asyncpg.Pool, redis: Redis) -> None:
        self.seen: list[bytes] = []
        account = ImapAccount("127.0.0.1", dovecot.port, address, PASSWORD, use_tls=False)
        self.poller = EmailPoller(
            account, self.handle, WatermarkStore(pool, account), redis, poll_seconds=0.2
        )
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.fail_on = b"\x00"

    async def handle(self, uid: int, raw: bytes) -> None:
        if self.fail_on in raw:
            raise ValueError("cannot handle this one")
        self.seen.append(raw)

    async def __aenter__(self) -> Poller:
        self.task = asyncio.create_task(self.poller.run(self.stop))
        await asyncio.wait_for(self.poller.ready.wait(), timeout=20)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=10)


@pytest.fixture
async def poller_factory(
    dovecot: Dovecot, mailbox: str, services: Services
) -> AsyncIterator[object]:
    yield lambda: Poller(dovecot, mailbox, services.storage.pool, services.storage.redis)


async def test_only_mail_after_the_first_start_is_read_and_in_order(
    dovecot: Dovecot, mailbox: str, poller_factory: object
) -> None:
    await dovecot.append(mailbox, PASSWORD, mail("old news"))
    async with poller_factory() as p:  # type: ignore[operator]
        for n in range(3):
            await dovecot.append(mailbox, PASSWORD, mail(f"question {n}"))
        await wait_for(lambda: len(p.seen) == 3, within=10)
    subjects = [raw.split(b"Subject: ")[1].split(b"\r\n")[0] for raw in p.seen]
    assert subjects == [b"question 0", b"question 1", b"question 2"]


async def test_a_dropped_connection_is_reopened_and_no_mail_is_missed_or_read_twice(
    dovecot: Dovecot, mailbox: str, poller_factory: object
) -> None:
    async with poller_factory() as p:  # type: ignore[operator]
        await dovecot.append(mailbox, PASSWORD, mail("before the drop"))
        await wait_for(lambda: len(p.seen) == 1, within=10)
        await asyncio.to_thread(dovecot.kick, mailbox)  # the server drops the connection
        await dovecot.append(mailbox, PASSWORD, mail("during the reconnect"))
        await wait_for(lambda: len(p.seen) == 2, within=20)
        await asyncio.sleep(0.5)
    subjects = [raw.split(b"Subject: ")[1].split(b"\r\n")[0] for raw in p.seen]
    assert subjects == [b"before the drop", b"during the reconnect"]
    log = (dovecot.root / "dovecot.log").read_text()
    # The poller logged in twice (before and after the drop); each append once.
    assert log.count(f"Login: user=<{mailbox}>") == 4


async def test_the_watermark_survives_a_restart(
    dovecot: Dovecot, mailbox: str, poller_factory: object
) -> None:
    async with poller_factory() as p:  # type: ignore[operator]
        await dovecot.append(mailbox, PASSWORD, mail("first"))
        await wait_for(lambda: len(p.seen) == 1, within=10)
    await dovecot.append(mailbox, PASSWORD, mail("while we were down"))
    async with poller_factory() as p2:  # type: ignore[operator]
        await wait_for(lambda: len(p2.seen) == 1, within=10)
        await asyncio.sleep(0.5)
    assert b"while we were down" in p2.seen[0] and len(p2.seen) == 1


async def test_a_mail_that_fails_is_flagged_and_the_rest_go_on(
    dovecot: Dovecot, mailbox: str, poller_factory: object
) -> None:
    async with poller_factory() as p:  # type: ignore[operator]
        p.fail_on = b"poison"
        await dovecot.append(mailbox, PASSWORD, mail("bad", body="poison"))
        await dovecot.append(mailbox, PASSWORD, mail("good"))
        await wait_for(lambda: len(p.seen) == 1, within=10)
    assert b"good" in p.seen[0]
    flagged = await asyncio.to_thread(_flagged, dovecot, mailbox)
    assert flagged == [b"1"]


def _flagged(dovecot: Dovecot, address: str) -> list[bytes]:
    import imaplib

    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    imap.login(address, PASSWORD)
    imap.select("INBOX")
    _, data = imap.uid("search", None, "KEYWORD", "$BotFailed")
    imap.logout()
    return data[0].split()


async def test_a_failing_token_endpoint_is_retried_and_never_stops_the_reader(
    dovecot: Dovecot, mailbox: str, services: Services
) -> None:
    calls = 0

    async def refused() -> str:
        nonlocal calls
        calls += 1
        raise OAuth2Error("token endpoint answered 400: Token has been revoked.")

    async def never(uid: int, raw: bytes) -> None:
        raise AssertionError("no mail can be read without a login")

    account = ImapAccount("127.0.0.1", dovecot.port, mailbox, None, use_tls=False, oauth2=refused)
    storage = services.storage
    poller = EmailPoller(account, never, WatermarkStore(storage.pool, account), storage.redis)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    await wait_for(lambda: calls >= 2, within=10)  # tried again after the first refusal
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=5)  # ends cleanly when stopped, no exception
    assert not poller.ready.is_set()
