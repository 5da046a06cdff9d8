"""Mail over the size limit is never downloaded and its sender is told once; against real Dovecot.

The poller asks the server for RFC822.SIZE first; an oversized mail is flagged $BotTooLarge and
left in the mailbox, only its headers are read, and the sender gets a threaded notice over SMTP.
Dovecot's own byte count for the session shows the body never crossed the wire.
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from bot.runtime import Runtime
from bot.services import Services
from channels.email.imap import ImapAccount, WatermarkStore
from channels.email.polling import EmailPoller
from tests.integration.bot_harness import running_bot, settle, wait_for
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "hello@limits.test"
PASSWORD = "mailbox-secret"
LIMIT = 100 * 1024


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        server.add_user(BOT_MAILBOX, PASSWORD)
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(logins={BOT_MAILBOX: PASSWORD}) as server:
        yield server


def customer_mail(
    sender: str,
    subject: str,
    body: str = "What time do you open on Saturday?",
    photos: int = 0,
    photo_bytes: int = 100,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Customer <{sender}>"
    mail["To"] = BOT_MAILBOX
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    for n in range(photos):
        mail.add_attachment(os.urandom(photo_bytes), "image", "jpeg", filename=f"cake{n}.jpg")
    return mail


def plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def mailbox_state(dovecot: Dovecot, address: str) -> dict[bytes, bytes]:
    """Subject line -> FLAGS of every mail in the INBOX."""
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    try:
        imap.login(address, PASSWORD)
        imap.select("INBOX", readonly=True)
        _, data = imap.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    finally:
        imap.logout()
    state = {}
    for item in data:
        if isinstance(item, tuple):
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
            state[item[1].strip()] = flags.group(1) if flags else b""
    return state


def bytes_sent_to(dovecot: Dovecot, address: str) -> list[int]:
    """Dovecot's count of bytes it sent in each finished IMAP session of one user."""
    log = (dovecot.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
    pattern = rf"imap\({re.escape(address)}\).*?Logged out in=\d+ out=(\d+)"
    return [int(found) for found in re.findall(pattern, log)]


async def test_the_poller_never_downloads_a_mail_over_the_limit(
    dovecot: Dovecot, services: Services
) -> None:
    address = f"shop-{uuid.uuid4().hex[:8]}@limits.test"
    dovecot.add_user(address, PASSWORD)
    seen: list[bytes] = []
    told: list[tuple[int, bytes, int]] = []

    async def handle(uid: int, raw: bytes) -> None:
        seen.append(raw)

    async def too_large(uid: int, headers: bytes, size: int) -> None:
        told.append((uid, headers, size))

    account = ImapAccount("127.0.0.1", dovecot.port, address, PASSWORD, use_tls=False)
    storage = services.storage
    poller = EmailPoller(
        account,
        handle,
        WatermarkStore(storage.pool, account),
        storage.redis,
        poll_seconds=0.2,
        max_bytes=LIMIT,
        too_large=too_large,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    await asyncio.wait_for(poller.ready.wait(), timeout=20)
    big = customer_mail("kim@customer.test", "Big photos", photos=3, photo_bytes=300_000)
    raw = big.as_bytes()
    await dovecot.append(address, PASSWORD, raw)
    await dovecot.append(address, PASSWORD, customer_mail("lee@customer.test", "Small").as_bytes())
    await wait_for(lambda: len(seen) == 1 and len(told) == 1, within=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)

    [(uid, headers, size)] = told
    assert uid == 1 and size >= len(raw) > 3 * LIMIT
    assert headers.startswith(b"From: Customer <kim@customer.test>") and len(headers) < 1000
    assert b"Subject: Small" in seen[0]  # the rest of the batch goes on
    # Two deliveries and the poller's own session, as Dovecot counted what it sent in each.
    await wait_for(lambda: len(bytes_sent_to(dovecot, address)) == 3, within=10)
    sent = bytes_sent_to(dovecot, address)
    assert max(sent) < 20_000, f"the server sent {sent} bytes: the big mail was downloaded"
    state = mailbox_state(dovecot, address)
    assert state[b"Subject: Big photos"] == b"$BotTooLarge"  # still there, unread, flagged
    assert state[b"Subject: Small"] == b""


@pytest.fixture
async def bot(services: Services, dovecot: Dovecot, smtp: SmtpServer) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
        max_email_bytes=LIMIT,
        max_email_attachments=2,
    ) as runtime:
        poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


def to_customer(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if address in str(m["To"])]


async def test_the_sender_of_a_mail_over_the_limit_gets_one_threaded_notice(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    big = customer_mail("tan@customer.test", "Cake design", photos=2, photo_bytes=200_000)
    await dovecot.append(BOT_MAILBOX, PASSWORD, big.as_bytes())
    robot = customer_mail(
        "away@customer.test", "Out", photos=1, photo_bytes=200_000, headers={"Precedence": "bulk"}
    )
    await dovecot.append(BOT_MAILBOX, PASSWORD, robot.as_bytes())
    marker = customer_mail("ong@customer.test", "Hours")
    await dovecot.append(BOT_MAILBOX, PASSWORD, marker.as_bytes())
    await smtp.wait_for(2)
    await settle(0.5)
    [notice] = to_customer(smtp, "tan@customer.test")
    assert notice["Subject"] == "Re: Cake design"
    assert notice["In-Reply-To"] == big["Message-ID"]
    assert notice["Auto-Submitted"] == "auto-replied"
    text = plain(notice)
    assert "too large" in text and "we accept up to 100 KB" in text
    assert "without attachments" in text
    assert to_customer(smtp, "away@customer.test") == []  # robots are not told
    [answer] = to_customer(smtp, "ong@customer.test")
    assert "8:00 am" in plain(answer)
    state = mailbox_state(dovecot, BOT_MAILBOX)
    assert state[b"Subject: Cake design"] == b"$BotTooLarge"
    assert state[b"Subject: Out"] == b"$BotTooLarge"
    metric = bot.metrics.ignored.labels("email", "too_large")._value.get()
    assert metric == 2


async def test_attachments_over_the_limit_are_named_and_the_question_answered(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    question = customer_mail("lim@customer.test", "Saturday", photos=5)
    await dovecot.append(BOT_MAILBOX, PASSWORD, question.as_bytes())
    await smtp.wait_for(1)
    await settle(0.5)
    # One reply: the answer, then what happened to the attachments.
    [reply] = to_customer(smtp, "lim@customer.test")
    assert reply["In-Reply-To"] == question["Message-ID"]
    text = plain(reply)
    assert "8:00 am" in text
    assert "had 5 attachments" in text and "the last 3 were not kept" in text
    assert text.index("8:00 am") < text.index("had 5 attachments")
