"""NRIC and FIN numbers in what customers (and staff) write are nowhere in what the bot wrote.

The real bot runs with Telegram, WhatsApp and email at once (fake Bot API and Twilio servers, a
real Dovecot and SMTP server, a local chat-completion server in place of the LLM). Customers type
valid NRIC/FIN numbers in every channel, in upper and lower case, in an email's subject as well;
one conversation is handed to staff, whose reply quotes a number too; one conversation is closed
so its summary goes to the vector index; a question the bot cannot answer carries one, and the
weekly owner report (its unanswered groups and suggestions) is mailed and printed as
`bot report`. Then everything the bot wrote is searched for each
number's digits: see tests/integration/nric_search.py. A second test plants a number in every
one of those places and checks that the search finds each, so a search that went blind fails.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import pytest
from aiohttp import web
from openai import AsyncOpenAI
from pydantic import SecretStr
from rich.console import Console
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from bot.report.build import build_report
from bot.report.console import print_report
from bot.report.period import Period
from bot.report.weekly import weekly_report
from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import webhook_secret
from core.compose import OfflineComposer
from core.llm_compose import LlmComposer
from tests.integration import nric_search as search
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.mail_settings import mail_settings
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = pytest.mark.skipif(
    not dovecot_available(), reason="Dovecot is not installed (apt-get install dovecot-imapd)"
)
BOT_MAILBOX = "shop@nric.test"
STAFF = "owner@nric.test"
PASSWORD = "mailbox-secret"
WHATSAPP_FROM = "whatsapp:+6560009999"
# Digits no other test uses, so nothing else in the shared database and Redis can match them.
TELEGRAM_ID = search.nric("S", "7302618")
WHATSAPP_ID = search.nric("T", "6159274")
STAFF_ID = search.nric("F", "5071946")
EMAIL_ID = search.nric("G", "4826093")
LATER_ID = search.nric("M", "3918402")
UNANSWERED_ID = search.nric("S", "6285031")
SPOKEN = [TELEGRAM_ID, WHATSAPP_ID, STAFF_ID, EMAIL_ID, LATER_ID, UNANSWERED_ID]
CANARY = search.nric("S", "9047135")  # only ever planted, by the second test
_ids = itertools.count(int(time.time()))


@dataclass
class FakeChatModel:
    """POST /v1/chat/completions, recording each request."""

    requests: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.text())
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "We open at 8:00 am."},
                }
            ],
        }
        return web.json_response(body)


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
async def chat_model(services: Services) -> AsyncIterator[tuple[FakeChatModel, str]]:
    """A local chat-completion server, wired into the bot's core for the test."""
    fake = FakeChatModel()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"  # type: ignore[union-attr]
    client = AsyncOpenAI(api_key="test-key", base_url=url, max_retries=0, timeout=5)
    core: Any = services.core
    offline = core._composer
    assert isinstance(offline, OfflineComposer), "the test expects the offline composer"
    core._composer = LlmComposer(client, "test-model", "Test Bakery", offline)
    try:
        yield fake, url
    finally:
        core._composer = offline
        await client.close()
        await runner.cleanup()


@dataclass
class World:
    """Everything the bot writes to, for one test."""

    services: Services
    settings: Settings
    embedded: EmbeddedServices
    telegram: FakeTelegramAPI
    twilio: FakeTwilioApi
    smtp: SmtpServer
    chat: FakeChatModel
    chat_url: str
    logs: search.LogCapture
    embedded_texts: list[str]

    async def everything(self) -> search.Blobs:
        storage = self.services.storage
        summaries: Any = self.services.summaries
        blobs: search.Blobs = {
            **await search.postgres_rows(storage.pool),
            **await search.redis_values(storage.redis),
            **await search.vector_payloads(
                {"knowledge": self.services.index, "summaries": summaries._index}
            ),
            **self.logs.blobs(),
            "smtp": search.mails(self.smtp.messages),
            "telegram_api": [json.dumps(c.params, ensure_ascii=False) for c in self.telegram.calls],
            "twilio_api": [json.dumps(c.form, ensure_ascii=False) for c in self.twilio.calls],
            "chat_model": self.chat.requests,
            "embedding_model": self.embedded_texts,
        }
        return blobs | search.storage_files(self.embedded.data_dir, Path(self.settings.data_dir))


@pytest.fixture
async def world(
    services: Services,
    settings: Settings,
    embedded: EmbeddedServices,
    telegram_api: FakeTelegramAPI,
    twilio_api: FakeTwilioApi,
    smtp: SmtpServer,
    chat_model: tuple[FakeChatModel, str],
) -> AsyncIterator[World]:
    with (
        search.captured_logs() as logs,
        search.recorded_embeddings(services.embedder) as texts,
    ):
        fake, url = chat_model
        yield World(
            services, settings, embedded, telegram_api, twilio_api, smtp, fake, url, logs, texts
        )


@pytest.fixture
async def bot(world: World, dovecot: Dovecot) -> AsyncIterator[Runtime]:
    async with running_bot(
        world.services,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=world.telegram.base_url,
        twilio_account_sid=world.twilio.account_sid,
        twilio_auth_token=SecretStr(world.twilio.auth_token),
        twilio_whatsapp_from=WHATSAPP_FROM,
        twilio_api_url=world.twilio.base_url,
        **mail_settings(dovecot, world.smtp, BOT_MAILBOX, PASSWORD),
        staff_email=STAFF,
        handoff_check_seconds=1.0,
    ) as runtime:
        poller = runtime.channels.pollers[-1]
        await asyncio.wait_for(poller.ready.wait(), timeout=20)  # type: ignore[attr-defined]
        yield runtime


async def telegram(runtime: Runtime, user: int, text: str) -> None:
    update = {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Wei"},
            "from": {"id": user, "is_bot": False, "first_name": "Wei", "language_code": "en"},
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


async def whatsapp(runtime: Runtime, token: str, customer: str, text: str) -> None:
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": customer,
        "To": WHATSAPP_FROM,
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Aisyah",
        "WaId": customer.removeprefix("whatsapp:+"),
    }
    signature = RequestValidator(token).compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{runtime.port}/webhooks/twilio",
            data=form,
            headers={"X-Twilio-Signature": signature},
        )
        assert response.status == 200


def mail(sender: str, to: str, subject: str, body: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def mails_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [m for m in smtp.messages if address in str(m["To"])]


def telegram_texts(api: FakeTelegramAPI, chat: int) -> list[str]:
    return [c.params["text"] for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat]


async def test_nric_numbers_are_nowhere_the_bot_writes(
    bot: Runtime, world: World, dovecot: Dovecot
) -> None:
    # The report covers this test's messages only: the session's database holds every other
    # test's unanswered questions too, which would crowd this one out of the groups shown.
    started = datetime.now(UTC)
    # Telegram: a question with an NRIC; the answer warns (and the chat model is asked).
    user = 800_000_000 + next(_ids) % 1_000_000
    await telegram(bot, user, f"Hi, my NRIC is {TELEGRAM_ID}. What time do you open on Saturday?")
    await wait_for(lambda: len(telegram_texts(world.telegram, user)) == 1)

    # WhatsApp: a refund (handed to staff) with a lower-case NRIC; staff answer by email, quoting
    # another number; the customer writes again while staff have the conversation.
    customer = f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"
    token = world.twilio.auth_token
    await whatsapp(bot, token, customer, f"I want a refund, my IC is {WHATSAPP_ID.lower()}")
    handoff = (await _mail_to(world.smtp, STAFF, 1))[0]
    reply = mail(
        f"Owner <{STAFF}>",
        str(handoff["Reply-To"]),
        f"Re: {handoff['Subject']}",
        f"Refund done. I checked FIN {STAFF_ID} on our records.",
        In_Reply_To=str(handoff["Message-ID"]),
    )
    await dovecot.append(BOT_MAILBOX, PASSWORD, reply.as_bytes())
    await wait_for(lambda: any("Refund done" in c.form["Body"] for c in world.twilio.calls))
    await whatsapp(bot, token, customer, f"Thanks! In case you need it, my FIN: {LATER_ID}")
    await _mail_to(world.smtp, STAFF, 2)  # forwarded to staff, in the handoff's thread

    # Email: the number in the subject and in the body.
    question = mail(
        "Mei <mei@customer.test>",
        BOT_MAILBOX,
        f"Delivery - NRIC {EMAIL_ID}",
        f"Hello, my NRIC is {EMAIL_ID}. Do you deliver to Punggol?\n\nMei",
    )
    await dovecot.append(BOT_MAILBOX, PASSWORD, question.as_bytes())
    await _mail_to(world.smtp, "mei@customer.test", 1)

    # Telegram again, a day later: the first conversation closes and its summary is indexed.
    summaries: Any = world.services.summaries
    before = await summaries._index.count()
    await world.services.storage.pool.execute(
        "UPDATE conversations c SET last_message_at = now() - interval '3 days'"
        " FROM channel_identities ci WHERE ci.contact_id = c.contact_id"
        " AND ci.channel = 'telegram' AND ci.external_id = $1 AND c.closed_at IS NULL",
        str(user),
    )
    await telegram(bot, user, "Do you sell durian cake?")
    await wait_for(lambda: len(telegram_texts(world.telegram, user)) == 2)
    await wait_for_async(lambda: _grew(summaries._index, before))
    # A question the bot cannot answer, for the owner report's unanswered groups.
    await telegram(bot, user, f"Can you repair my car gearbox? NRIC {UNANSWERED_ID}")
    await wait_for(lambda: len(telegram_texts(world.telegram, user)) == 3)
    await settle(1.0)

    # The weekly owner report (figures, unanswered groups, suggestions) mailed to staff, and
    # the same report as `bot report` prints it.
    report_job = weekly_report(
        bot.settings, world.services.storage.pool, world.services.embedder, "nric-test"
    )
    assert report_job is not None
    period = Period(started, datetime.now(UTC), bot.settings.zone)
    await report_job.send(period)
    [report_mail] = [m for m in mails_to(world.smtp, STAFF) if "Weekly report" in m["Subject"]]
    unanswered = report_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert any(
        line.startswith("- ") and "Can you repair my car gearbox?" in line
        for line in unanswered.split("grouped by meaning:")[1].splitlines()
    )
    report = await build_report(
        world.services.storage.pool, world.services.embedder, period, "Test Bakery"
    )
    console = Console(record=True, file=io.StringIO(), width=200)
    print_report(report, console)

    blobs = await world.everything()
    blobs["metrics"] = [bot.metrics.render().decode()]
    blobs["bot_report"] = [console.export_text(), repr(report)]
    assert blobs["vectors:summaries"] and blobs["smtp"] and blobs["logs:structlog"]
    assert world.chat.requests and world.embedded_texts  # the model and the LLM were used
    leaks = search.find(blobs, SPOKEN)
    assert not leaks, "NRIC/FIN digits found in:\n" + "\n".join(leaks[:20])
    # Masked, not dropped: the customer is warned and staff see where the number was.
    assert "don't send your NRIC" in telegram_texts(world.telegram, user)[0]
    assert "*****" in handoff.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def _mail_to(smtp: SmtpServer, address: str, count: int) -> list[EmailMessage]:
    await wait_for(lambda: len(mails_to(smtp, address)) >= count)
    return mails_to(smtp, address)


async def _grew(index: Any, before: int) -> bool:
    return int(await index.count()) > before


async def wait_for_async(condition: Any, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def test_the_search_finds_a_number_planted_in_every_place(
    world: World, twilio_client: Client
) -> None:
    upper, lower, bare = CANARY, CANARY.lower(), search.digits_of(CANARY) + CANARY[-1]
    storage = world.services.storage
    summaries: Any = world.services.summaries
    async with AsyncExitStack() as cleanup:
        await storage.pool.execute("CREATE TABLE nric_canary (note text, data bytea)")
        cleanup.push_async_callback(storage.pool.execute, "DROP TABLE nric_canary")
        await storage.pool.execute("INSERT INTO nric_canary VALUES ($1, $2)", lower, bare.encode())
        keys = [f"nric-canary:{kind}" for kind in ("s", "l", "h", "z", "x", "t")]
        cleanup.push_async_callback(storage.redis.delete, *keys)
        await storage.redis.set(keys[0], lower)
        await storage.redis.rpush(keys[1], "x", bare)
        await storage.redis.hset(keys[2], mapping={"note": upper})
        await storage.redis.zadd(keys[3], {bare: 1.0})
        await storage.redis.xadd(keys[4], {"payload": json.dumps({"text": lower})})
        await storage.redis.sadd(keys[5], upper)
        await summaries.remember(-1, -1, f"Asked: {lower}.")  # embedded, and indexed
        cleanup.push_async_callback(summaries.forget_contact, -1)
        search.structlog_event("nric_canary", note=search.digits_of(CANARY))
        search.standard_warning(f"canary {bare}")
        await _plant_mail(world.smtp, bare)
        await _plant_telegram(world.telegram, lower)
        await twilio_client.messages.create_async(
            to="whatsapp:+6560000001", from_=WHATSAPP_FROM, body=upper
        )
        async with aiohttp.ClientSession() as session:
            url = world.chat_url + "/chat/completions"
            await session.post(url, json={"messages": [{"role": "user", "content": bare}]})
        found = search.find(await world.everything(), [CANARY])
    places = {line.split(": ", 1)[0] for line in found}
    expected = {
        "postgres:nric_canary", "redis:string", "redis:list", "redis:hash", "redis:zset",
        "redis:stream", "redis:set", "vectors:summaries", "logs:structlog", "smtp",
        "telegram_api", "twilio_api", "chat_model", "embedding_model",
    }  # fmt: skip
    assert expected <= places, f"not found in {sorted(expected - places)}"
    assert any(place.startswith("file:") for place in places), places


async def _plant_mail(smtp: SmtpServer, text: str) -> None:
    """A mail whose body is base64, so only a decoding search finds it."""
    message = mail(BOT_MAILBOX, "someone@nric.test", "Canary", f"Number: {text} ✓")
    message.set_content(f"Number: {text} ✓", cte="base64")
    await aiosmtplib.send(
        message,
        hostname="127.0.0.1",
        port=smtp.port,
        username=BOT_MAILBOX,
        password=PASSWORD,
        start_tls=False,
    )


async def _plant_telegram(api: FakeTelegramAPI, text: str) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{api.base_url}{TOKEN}/sendMessage", data={"chat_id": "42", "text": text}
        )
        assert response.status == 200
