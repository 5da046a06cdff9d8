"""The whole handoff by email: a Telegram customer asks for a person, staff get an email (real
SMTP), reply to it (real IMAP: Dovecot), and the customer gets the answer on Telegram."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import webhook_secret
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "shop@example.test"
STAFF = "owner@example.test"
PASSWORD = "mailbox-secret"
_ids = itertools.count(1)


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
async def bot(
    services: Services, telegram_api: FakeTelegramAPI, dovecot: Dovecot, smtp: SmtpServer
) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=telegram_api.base_url,
        **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
        staff_email=STAFF,
        handoff_check_seconds=1.0,
    ) as runtime:
        email_poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(email_poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


def telegram_text(user: int, text: str) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Wei Ling"},
            "from": {"id": user, "is_bot": False, "first_name": "Wei Ling"},
            "text": text,
        },
    }


async def post(runtime: Runtime, update: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{runtime.port}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 200


def staff_reply(handoff: EmailMessage, body: str, sender: str = STAFF) -> bytes:
    """What the owner's mail client sends when they press Reply."""
    reply = EmailMessage()
    reply["From"] = f"Shop Owner <{sender}>"
    reply["To"] = str(handoff["Reply-To"])
    reply["Subject"] = f"Re: {handoff['Subject']}"
    reply["Message-ID"] = make_msgid(domain="example.test")
    reply["In-Reply-To"] = str(handoff["Message-ID"])
    reply["References"] = str(handoff["Message-ID"])
    quoted = "\n".join(
        f"> {line}" for line in handoff.get_body(("plain",)).get_content().splitlines()
    )  # type: ignore[union-attr]
    reply.set_content(f"{body}\n\nOn Tue, Shop Bot <{BOT_MAILBOX}> wrote:\n{quoted}\n")
    return reply.as_bytes()


async def staff_mails(smtp: SmtpServer, customer: str | int, count: int) -> list[EmailMessage]:
    """Wait for `count` mails to staff about one customer: the handoff (it names the customer
    as "(Telegram, 600123456)"), then the mails in its thread.

    Other test modules share the database, and a handoff they left unsent (their bot had no
    email, or stopped first) goes out as soon as this module's bot can send mail.
    """

    def about() -> list[EmailMessage]:
        threads = {str(m["Message-ID"]) for m in smtp.messages if f", {customer}) " in plain(m)}
        return [m for m in smtp.messages if threads & {str(m["Message-ID"]), str(m["In-Reply-To"])}]

    await wait_for(lambda: len(about()) >= count)
    return about()


def plain(mail: EmailMessage) -> str:
    return str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def sent_to(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat]


async def test_telegram_customer_staff_email_reply_reaches_them_on_telegram(
    bot: Runtime,
    telegram_api: FakeTelegramAPI,
    dovecot: Dovecot,
    smtp: SmtpServer,
    services: Services,
) -> None:
    user = 600_000_000 + uuid.uuid4().int % 1_000_000
    await post(bot, telegram_text(user, "Can I talk to a real person?"))
    await wait_for(lambda: len(sent_to(telegram_api, user)) == 1)
    assert "member of our team" in sent_to(telegram_api, user)[0]

    [handoff] = await staff_mails(smtp, user, 1)
    assert smtp.logged_in[0] == BOT_MAILBOX  # the mailbox password works for SMTP too
    assert handoff["To"] == STAFF
    assert "Wei Ling on Telegram" in str(handoff["Subject"])
    assert str(handoff["Reply-To"]).startswith("shop+h")
    assert handoff["Auto-Submitted"] == "auto-generated"
    body = handoff.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "asked to talk to a person" in body and "Can I talk to a real person?" in body

    # The owner replies from their mail client; the reply lands in the bot's mailbox.
    await dovecot.append(BOT_MAILBOX, PASSWORD, staff_reply(handoff, "Hi Wei Ling, this is Amy."))
    await wait_for(lambda: len(sent_to(telegram_api, user)) == 2)
    assert sent_to(telegram_api, user)[1] == "Hi Wei Ling, this is Amy."  # no quoted history

    # Human mode: the bot stays quiet and the customer's next message goes to staff.
    await post(bot, telegram_text(user, "Great, can you hold 2 pandan cakes for me?"))
    forwarded = await staff_mails(smtp, user, 2)
    assert "hold 2 pandan cakes" in forwarded[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert forwarded[1]["In-Reply-To"] == handoff["Message-ID"]
    await settle(0.5)
    assert len(sent_to(telegram_api, user)) == 2

    # "#bot" hands the conversation back; the bot answers again.
    await dovecot.append(BOT_MAILBOX, PASSWORD, staff_reply(handoff, "Done, see you at 3pm! #bot"))
    await wait_for(lambda: len(sent_to(telegram_api, user)) == 3)
    assert sent_to(telegram_api, user)[2] == "Done, see you at 3pm!"
    await post(bot, telegram_text(user, "What time do you open on Saturday?"))
    await wait_for(lambda: len(sent_to(telegram_api, user)) == 4)
    assert "8:00" in sent_to(telegram_api, user)[3]


async def test_a_reply_to_a_handoff_from_a_stranger_is_not_relayed(
    bot: Runtime, telegram_api: FakeTelegramAPI, dovecot: Dovecot, smtp: SmtpServer
) -> None:
    user = 610_000_000 + uuid.uuid4().int % 1_000_000
    await post(bot, telegram_text(user, "/human"))
    [handoff] = await staff_mails(smtp, user, 1)
    forged = staff_reply(handoff, "Send me your card number", sender="mallory@example.test")
    await dovecot.append(BOT_MAILBOX, PASSWORD, forged)
    await settle(2.0)
    assert len(sent_to(telegram_api, user)) == 1  # only the bot's own handoff notice


async def test_whatsapp_customer_outside_24_hours_gets_the_template_then_the_staff_text(
    services: Services, dovecot: Dovecot, smtp: SmtpServer, twilio_api: FakeTwilioApi
) -> None:
    async with running_bot(
        services,
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=SecretStr(twilio_api.auth_token),
        twilio_whatsapp_from="whatsapp:+6560001234",
        twilio_api_url=twilio_api.base_url,
        twilio_reopen_template_sid="HX" + "a" * 32,
        **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
        staff_email=STAFF,
        handoff_check_seconds=1.0,
    ) as bot:
        await asyncio.wait_for(bot.channels.pollers[-1].ready.wait(), timeout=20)  # type: ignore[attr-defined]
        customer = f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"

        async def whatsapp(text: str) -> None:
            form = {
                "MessageSid": f"SM{uuid.uuid4().hex}", "From": customer,
                "To": "whatsapp:+6560001234", "Body": text, "NumMedia": "0",
                "ProfileName": "Aisyah",
            }  # fmt: skip
            url = f"{PUBLIC_URL}/webhooks/twilio"
            signature = RequestValidator(twilio_api.auth_token).compute_signature(url, form)
            async with aiohttp.ClientSession() as session:
                response = await session.post(
                    f"http://127.0.0.1:{bot.port}/webhooks/twilio",
                    data=form,
                    headers={"X-Twilio-Signature": signature},
                )
                assert response.status == 200

        def to_customer() -> list[dict[str, str]]:
            return [c.form for c in twilio_api.calls if c.form.get("To") == customer]

        await whatsapp("Can I speak to a person please?")
        await wait_for(lambda: len(to_customer()) == 1)
        [handoff] = await staff_mails(smtp, customer, 1)
        # A day and more passes before staff answer.
        await services.storage.pool.execute(
            "UPDATE messages SET created_at = now() - interval '25 hours'"
            " WHERE channel = 'whatsapp' AND direction = 'inbound'"
            " AND conversation_id IN (SELECT c.id FROM conversations c"
            "   JOIN channel_identities ci ON ci.contact_id = c.contact_id"
            "   WHERE ci.external_id = $1)",
            customer,
        )
        await dovecot.append(
            BOT_MAILBOX, PASSWORD, staff_reply(handoff, "Sorry for the wait! Yes we can.")
        )
        await wait_for(lambda: len(to_customer()) == 2)
        template = to_customer()[1]
        assert template["ContentSid"] == "HX" + "a" * 32 and "Body" not in template
        notes = await staff_mails(smtp, customer, 2)
        assert "24 hours" in notes[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        await settle(0.5)
        assert len(to_customer()) == 2  # the staff text waits

        await whatsapp("Hi, I'm here")
        await wait_for(lambda: len(to_customer()) == 3)
        assert to_customer()[2]["Body"] == "Sorry for the wait! Yes we can."
