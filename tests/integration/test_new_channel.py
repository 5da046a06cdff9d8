"""A new channel from a test folder, registered with one line, gets the whole bot: answers,
the handoff relay by email and the customer's data export."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.cli.privacy import identities_for
from bot.runtime import Runtime
from bot.services import Services
from channels.registry import plug_for, register, unregister
from tests.integration.bot_harness import running_bot, wait_for
from tests.integration.fake_channel.plug import PATH, FakeChatPlug
from tests.integration.test_handoff_flow import staff_mails, staff_reply
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "shop@example.test"
STAFF = "owner@example.test"
PASSWORD = "mailbox-secret"
TOKEN = "fake-chat-token"


@pytest.fixture
def fakechat() -> Iterator[FakeChatPlug]:
    plug = FakeChatPlug()
    register(plug)  # the one line a new channel needs
    yield plug
    unregister(plug.name.value)


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
    services: Services, fakechat: FakeChatPlug, dovecot: Dovecot, smtp: SmtpServer
) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        fakechat_token=SecretStr(TOKEN),
        **mail_settings(dovecot, smtp, BOT_MAILBOX, PASSWORD),
        staff_email=STAFF,
        handoff_check_seconds=1.0,
    ) as runtime:
        email_poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(email_poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


async def post(runtime: Runtime, user: str, text: str, token: str = TOKEN) -> int:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{runtime.port}{PATH}",
            json={"id": uuid.uuid4().hex, "user": user, "text": text, "name": "Wei Ling"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status


async def test_a_registered_channel_is_answered_relayed_and_exported(
    bot: Runtime, fakechat: FakeChatPlug, dovecot: Dovecot, smtp: SmtpServer, services: Services
) -> None:
    assert plug_for("fakechat") is fakechat
    assert any("Fake chat: webhook at" in line for line in bot.channels.report)
    user = f"fc-{uuid.uuid4().hex[:8]}"
    sent = fakechat.sender.texts_to

    assert await post(bot, user, "hello", token="wrong") == 401
    assert await post(bot, user, "What time do you open on Saturday?") == 200
    await wait_for(lambda: len(sent(user)) == 1)
    assert "8:00" in sent(user)[0]

    # A handoff names the channel as people call it; the staff reply comes back on it.
    assert await post(bot, user, "Can I talk to a real person?") == 200
    await wait_for(lambda: len(sent(user)) == 2)
    assert "member of our team" in sent(user)[1]
    [handoff] = await staff_mails(smtp, user, 1)
    assert "Wei Ling on Fake chat" in str(handoff["Subject"])
    await dovecot.append(BOT_MAILBOX, PASSWORD, staff_reply(handoff, "Hi Wei Ling, this is Amy."))
    await wait_for(lambda: len(sent(user)) == 3)
    assert sent(user)[2] == "Hi Wei Ling, this is Amy."

    # The owner finds the customer by the channel's own ids, and exports everything.
    [person] = await services.data_rights().find_people(identities_for(user))
    assert identities_for(f"fakechat:{user}") == identities_for(user)
    exported = await services.data_rights().export(person, requested_by="staff")
    assert exported["channel_identities"][0]["channel"] == "fakechat"
    bodies = " ".join(str(m["body"]) for c in exported["conversations"] for m in c["messages"])
    assert "What time do you open on Saturday?" in bodies and "this is Amy" in bodies
