"""Customers by email, end to end: real Dovecot in, real SMTP out; robots are never answered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from bot.runtime import Runtime
from bot.services import Services
from tests.integration.bot_harness import running_bot, settle
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "hello@bakery.test"
STAFF = "boss@bakery.test"
PASSWORD = "mailbox-secret"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        server.add_user(BOT_MAILBOX, PASSWORD)
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(logins={BOT_MAILBOX: PASSWORD}) as server:
        yield server


@pytest.fixture
async def bot(services: Services, dovecot: Dovecot, smtp: SmtpServer) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
        staff_email=STAFF,
        email_max_per_sender_per_hour=3,
    ) as runtime:
        poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


def customer_mail(
    sender: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Customer <{sender}>"
    mail["To"] = BOT_MAILBOX
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail


def to_customer(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if address in str(m["To"])]


async def test_a_customer_email_gets_a_threaded_automatic_reply(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    question = customer_mail(
        "mei@customer.test", "Saturday hours", "Hi, what time do you open on Saturday?\n\nMei"
    )
    await dovecot.append(BOT_MAILBOX, PASSWORD, question.as_bytes())
    await smtp.wait_for(1)
    [reply] = to_customer(smtp, "mei@customer.test")
    assert reply["Subject"] == "Re: Saturday hours"
    assert reply["In-Reply-To"] == question["Message-ID"]
    assert question["Message-ID"] in str(reply["References"])
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "8:00 am" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert reply.get_body(("html",)) is not None


async def test_a_gb2312_email_with_quoted_history_is_answered_from_what_is_new(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    raw = (
        "From: =?gb2312?b?zfXQocXz?= <wang@customer.test>\r\n"
        f"To: {BOT_MAILBOX}\r\nSubject: =?gb2312?b?0a+5ug==?=\r\n"
        f"Message-ID: {make_msgid(domain='customer.test')}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + (
        "What time do you open on Saturday?\r\n\r\n"
        "On Mon, Bakery <hello@bakery.test> wrote:\r\n> 你好，欢迎光临\r\n"
    ).encode("gb2312")
    await dovecot.append(BOT_MAILBOX, PASSWORD, raw)
    await smtp.wait_for(1)
    [reply] = to_customer(smtp, "wang@customer.test")
    assert "8:00 am" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "away@customer.test"),
        ({"X-Autoreply": "yes"}, "away2@customer.test"),
        ({"Precedence": "bulk"}, "news@shop.test"),
        ({"List-Id": "<deals.shop.test>"}, "list@shop.test"),
        ({}, "MAILER-DAEMON@mx.customer.test"),
        ({}, BOT_MAILBOX),
    ],
    ids=["auto-submitted", "x-autoreply", "bulk", "list", "mailer-daemon", "own-address"],
)
async def test_robots_lists_bounces_and_our_own_mail_are_never_answered(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer, headers: dict[str, str], sender: str
) -> None:
    mail = customer_mail(sender, "Question", "What time do you open on Saturday?", headers)
    await dovecot.append(BOT_MAILBOX, PASSWORD, mail.as_bytes())
    # A real question after it proves the robot's mail was read (and skipped) first.
    person = f"after-{uuid.uuid4().hex[:8]}@customer.test"
    marker = customer_mail(person, "Hours", "What time do you open on Saturday?")
    await dovecot.append(BOT_MAILBOX, PASSWORD, marker.as_bytes())
    await smtp.wait_for(1)
    await settle(0.5)
    assert [str(m["To"]) for m in smtp.messages] == [f"Customer <{person}>"]


async def test_replies_to_one_sender_are_rate_limited(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    for n in range(5):
        mail = customer_mail("loop@customer.test", f"Ping {n}", f"Are you open on day {n}?")
        await dovecot.append(BOT_MAILBOX, PASSWORD, mail.as_bytes())
    await smtp.wait_for(3)
    await settle(1.5)
    assert len(to_customer(smtp, "loop@customer.test")) == 3


async def test_an_email_customer_gets_the_staff_answer_by_email_in_their_thread(
    bot: Runtime, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    question = customer_mail("tan@customer.test", "Wedding cake", "Can I speak to a real person?")
    await dovecot.append(BOT_MAILBOX, PASSWORD, question.as_bytes())
    await smtp.wait_for(2)  # the notice to the customer and the handoff to staff
    [handoff] = [m for m in smtp.messages if str(m["To"]) == STAFF]
    answer = EmailMessage()
    answer["From"] = STAFF
    answer["To"] = str(handoff["Reply-To"])
    answer["Subject"] = f"Re: {handoff['Subject']}"
    answer["Message-ID"] = make_msgid(domain="bakery.test")
    answer["In-Reply-To"] = str(handoff["Message-ID"])
    answer.set_content("Hello Mr Tan, yes we do 3-tier cakes. Shall I call you?")
    await dovecot.append(BOT_MAILBOX, PASSWORD, answer.as_bytes())
    await smtp.wait_for(3)
    replies = to_customer(smtp, "tan@customer.test")
    assert len(replies) == 2
    assert "3-tier cakes" in replies[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert replies[1]["In-Reply-To"] == question["Message-ID"]
