"""The whole learning loop on the real parts: a question the bot cannot answer is handed over,
staff answer it by mail (Dovecot), the weekly report (SMTP) suggests it, the owner approves it by
replying, and a new customer asking the same thing is answered by the bot; a forged approval
from another address changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from bot.report.period import since
from bot.report.weekly import weekly_report
from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import webhook_secret
from tests.integration.bot_harness import running_bot, settle, wait_for
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "shop@example.test"
OWNER = "owner@example.test"
PASSWORD = "mailbox-secret"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        server.add_user(BOT_MAILBOX, PASSWORD)
        yield server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(logins={BOT_MAILBOX: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
async def shop(
    settings: Settings,
    own_postgres: EmbeddedServices,
    own_valkey: EmbeddedServices,
    dovecot: Dovecot,
    smtp: SmtpServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Services]:
    """A shop of its own (database, Valkey, index), its mailbox and owner configured, so no
    other test's suggestions or handoffs appear in its report."""
    changed = settings.model_copy(
        update={
            "database_url": SecretStr(own_postgres.database_url),
            "redis_url": SecretStr(own_valkey.redis_url),
            "data_dir": tmp_path_factory.mktemp("learning-data"),
            **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
            "staff_email": OWNER,
            "handoff_check_seconds": 1.0,
            "rating_after_minutes": 0,  # no "How did we do?" in between
        }
    )
    async with Services(changed) as running:
        report = await running.ingestor.ingest([changed.knowledge_path])
        assert not report.failed, report.failed
        await running.calibrate()
        yield running


@pytest.fixture
async def bot(shop: Services, telegram_api: FakeTelegramAPI) -> AsyncIterator[Runtime]:
    async with running_bot(
        shop, telegram_bot_token=SecretStr(TOKEN), telegram_api_url=telegram_api.base_url
    ) as runtime:
        email_poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(email_poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


async def say(runtime: Runtime, user: int, text: str) -> None:
    """A Telegram customer writes (the webhook, as Telegram calls it)."""
    update: dict[str, Any] = {
        "update_id": uuid.uuid4().int % 2**31,
        "message": {
            "message_id": uuid.uuid4().int % 2**31,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Wei Ling"},
            "from": {"id": user, "is_bot": False, "first_name": "Wei Ling"},
            "text": text,
        },
    }
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{runtime.port}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 200


def sent_to(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat]


def plain(mail: EmailMessage) -> str:
    return str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def reply_to(mail: EmailMessage, body: str, sender: str = OWNER) -> bytes:
    """What a mail client sends when its user presses Reply: the quoted original below."""
    reply = EmailMessage()
    reply["From"] = f"Shop Owner <{sender}>"
    reply["To"] = str(mail["Reply-To"])
    reply["Subject"] = f"Re: {mail['Subject']}"
    reply["Message-ID"] = make_msgid(domain="example.test")
    reply["In-Reply-To"] = str(mail["Message-ID"])
    reply["References"] = str(mail["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in plain(mail).splitlines())
    reply.set_content(f"{body}\n\nOn Mon, Shop Bot <{BOT_MAILBOX}> wrote:\n{quoted}\n")
    return reply.as_bytes()


def mails_with(smtp: SmtpServer, words: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if words in str(m["Subject"])]


async def test_a_staff_answer_approved_by_reply_answers_the_next_customer(
    bot: Runtime, shop: Services, telegram_api: FakeTelegramAPI, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    pool = shop.storage.pool
    customer = 620_000_000 + uuid.uuid4().int % 1_000_000
    # Not in the sample knowledge base: asked, asked again, handed over.
    await say(bot, customer, "Do you sell gift vouchers?")
    await wait_for(lambda: len(sent_to(telegram_api, customer)) == 1)
    await say(bot, customer, "Can I buy a gift card for my friend from you?")
    await wait_for(lambda: len(sent_to(telegram_api, customer)) == 2)
    await say(bot, customer, "Can I talk to a person please?")
    await wait_for(lambda: len(sent_to(telegram_api, customer)) == 3)
    assert "member of our team" in sent_to(telegram_api, customer)[2]
    await wait_for(lambda: len(mails_with(smtp, "[Handoff")) == 1)
    [handoff] = mails_with(smtp, "[Handoff")

    # Staff answer by mail; the customer gets it on Telegram, and it becomes a suggestion.
    answer = (
        "Hi Wei Ling, yes: gift vouchers of $20 and $50, sold at the counter and valid for "
        "12 months.\n\nRegards,\nAmy"
    )
    await dovecot.append(BOT_MAILBOX, PASSWORD, reply_to(handoff, answer))
    await wait_for(lambda: len(sent_to(telegram_api, customer)) == 4)
    assert "valid for 12 months" in sent_to(telegram_api, customer)[3]
    await wait_for_rows(pool, "SELECT count(*) FROM suggestions WHERE status = 'pending'", 1)
    suggestion = await pool.fetchrow("SELECT question, answer FROM suggestions")
    assert suggestion is not None
    assert "gift" in suggestion["question"] and "12 months" in suggestion["answer"]
    assert "Wei Ling" not in suggestion["answer"] and "Amy" not in suggestion["answer"]

    # The weekly report, as the Monday job sends it (here: the last seven days).
    job = weekly_report(shop.settings, pool, shop.embedder, "test-runner")
    assert job is not None
    period = since("7d", datetime.now(UTC) + timedelta(minutes=1), shop.settings.zone)
    await job.send(period)
    await wait_for(lambda: len(mails_with(smtp, "Weekly report")) == 1)
    [report] = mails_with(smtp, "Weekly report")
    assert report["To"] == OWNER and report["Auto-Submitted"] == "auto-generated"
    assert report.get_content_type() == "multipart/alternative"
    text = plain(report)
    assert "12 months" in text and "approve 1" in text
    html = report.get_body(("html",))
    assert html is not None
    [chart] = [p for p in report.walk() if p.get_content_type() == "image/png"]
    assert chart.get_payload(decode=True).startswith(PNG_MAGIC)  # type: ignore[union-attr]
    cid = str(chart["Content-ID"]).strip("<>")
    assert f"cid:{cid}" in str(html.get_content())
    assert "1" in _figure(text, "Conversations")
    assert "could not answer" in text or "no_answer_twice" in text

    # A forged approval from another address, with the right token, changes nothing.
    forged = reply_to(report, "approve 1", sender="mallory@example.test")
    await dovecot.append(BOT_MAILBOX, PASSWORD, forged)
    await settle(2.0)
    assert await pool.fetchval("SELECT status FROM suggestions") == "pending"

    # The owner approves by replying; a confirmation lists what changed.
    await dovecot.append(BOT_MAILBOX, PASSWORD, reply_to(report, "approve 1\n\nThanks"))
    await wait_for(lambda: len(smtp.messages) == 3)  # the handoff, the report, the confirmation
    confirmation = smtp.messages[-1]
    assert confirmation["To"] is not None and OWNER in str(confirmation["To"])
    assert "approved" in plain(confirmation)
    assert "mallory" not in str([m["To"] for m in smtp.messages])
    assert await pool.fetchval("SELECT status FROM suggestions") == "approved"
    learned = await asyncio.to_thread(Path(shop.settings.learned_faq).read_text, encoding="utf-8")
    assert "12 months" in learned

    # A new customer asking the same thing in other words: the bot answers it now.
    newcomer = customer + 1
    await say(bot, newcomer, "Can I get a gift voucher at your shop?")
    await wait_for(lambda: len(sent_to(telegram_api, newcomer)) == 1)
    reply = sent_to(telegram_api, newcomer)[0]
    assert "12 months" in reply and "member of our team" not in reply


async def wait_for_rows(pool: Any, query: str, count: int, within: float = 20.0) -> None:
    """Poll a count query until it reaches `count`."""
    deadline = time.monotonic() + within
    while await pool.fetchval(query) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{query} never reached {count}")
        await asyncio.sleep(0.1)


def _figure(text: str, name: str) -> str:
    """The line of the report's summary table that starts with `name`."""
    return next(line for line in text.splitlines() if line.startswith(name))
