"""The soak test's customers and providers: who writes what, when, and what they expect back.

The test plays Telegram, Twilio and the customers' mail servers: it posts updates and signed
forms to the running server and appends mails to the IMAP mailbox, posts some of them twice (as a
provider does when an acknowledgement is lost), posts again whatever was refused with a 5xx (as
Telegram and Twilio do), and writes down in a `Ledger` what must be answered and what must not.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from functools import partial
from typing import Any

import aiohttp
import asyncpg
from twilio.request_validator import RequestValidator

from channels.telegram.updates import webhook_secret
from tests.integration.bot_harness import PUBLIC_URL
from tests.integration.test_email_flow import BOT_MAILBOX, PASSWORD, customer_mail
from tests.integration.test_telegram_flow import text_update
from tests.integration.test_whatsapp_flow import inbound
from tests.providers.dovecot import Dovecot
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import BOT_USER, TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

TELEGRAM_PATH = "/webhooks/telegram"
TWILIO_PATH = "/webhooks/twilio"
STATUS_PATH = "/webhooks/twilio/status"
# Questions the sample knowledge base answers, small talk, and one it may not: none of them asks
# for a person, complains or names an escalation keyword, so every one is answered by the bot.
QUESTIONS = (
    "What time do you open on Saturday?",
    "Do you deliver?",
    "How much is the delivery fee?",
    "Where are you located?",
    "Is there parking nearby?",
    "What payment methods do you accept?",
    "Is your food halal?",
    "Can I reserve a table?",
    "Are you open on Monday?",
    "How do I order a custom birthday cake?",
    "Do you have eggless, vegan or gluten-free options?",
    "Which buses stop near the shop?",
    "hi",
    "thank you!",
    "Do you sell durian mochi in the shape of a lantern?",
)
_update_ids = itertools.count(900_000_001)
ACCOUNT = "AC" + "0" * 32


@dataclass
class Ledger:
    """What the customers sent, keyed the way the bot and the providers key it."""

    answered: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"telegram": {}, "whatsapp": {}, "email": {}}
    )
    """channel -> provider message id -> the recipient its one reply must reach."""
    ignored: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(channel, reason) -> events that must get no reply, recorded as ignored."""
    duplicates: Counter[str] = field(default_factory=Counter)
    reposts: Counter[str] = field(default_factory=Counter)
    """Webhooks refused (5xx) and posted again, as the provider retries."""
    conversations: Counter[str] = field(default_factory=Counter)
    reported: list[str] = field(default_factory=list)
    """Twilio SIDs of replies we posted a "delivered" status callback for."""

    def expected_per_recipient(self, channel: str) -> Counter[str]:
        """How many replies each recipient must have received on a channel."""
        return Counter(self.answered[channel].values())


@dataclass
class Traffic:
    """Posts as the providers do, on one HTTP session, into the running server(s)."""

    session: aiohttp.ClientSession
    port: int
    twilio_token: str
    dovecot: Dovecot
    ledger: Ledger
    seed: int
    more_ports: tuple[int, ...] = ()
    """Other servers behind the same public URL; each request goes to one of them at random."""
    started: float = field(default_factory=time.monotonic)
    extra: set[asyncio.Task[None]] = field(default_factory=set)
    rng: random.Random = field(init=False)
    """For what happens to messages on the way (duplicates, reports), not what customers write."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    async def at(self, offset: float) -> None:
        """Sleep until `offset` seconds after the start."""
        await asyncio.sleep(max(0.0, self.started + offset - time.monotonic()))

    async def telegram(self, update: dict[str, Any]) -> None:
        """Deliver one update to the webhook until it is taken (Telegram retries non-2xx)."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)}
        await self._until_taken(
            "telegram",
            lambda: self.session.post(self._url(TELEGRAM_PATH), json=update, headers=headers),
        )

    async def twilio(self, path: str, form: dict[str, str]) -> None:
        """POST a signed form until it is taken (Twilio retries on 5xx and timeouts)."""
        signature = RequestValidator(self.twilio_token).compute_signature(PUBLIC_URL + path, form)
        headers = {"X-Twilio-Signature": signature}
        await self._until_taken(
            "whatsapp", lambda: self.session.post(self._url(path), data=form, headers=headers)
        )

    async def mail(self, mail: EmailMessage) -> None:
        """Deliver a mail into the bot's mailbox, as the customer's mail server does."""
        await self.dovecot.append(BOT_MAILBOX, PASSWORD, mail.as_bytes())

    def rng_for(self, customer: object) -> random.Random:
        """A customer's own random choices, the same in every run with the same seed."""
        return random.Random(f"{self.seed}:{customer}")

    def again_later(self, deliver: Callable[[], Awaitable[None]], channel: str) -> None:
        """The provider delivers the same thing once more, a moment later."""
        self.ledger.duplicates[channel] += 1

        async def later() -> None:
            await asyncio.sleep(self.rng.uniform(0.0, 3.0))
            await deliver()

        task = asyncio.create_task(later())
        self.extra.add(task)
        task.add_done_callback(self.extra.discard)

    def _url(self, path: str) -> str:
        port = self.rng.choice((self.port, *self.more_ports)) if self.more_ports else self.port
        return f"http://127.0.0.1:{port}{path}"

    async def _until_taken(
        self, channel: str, request: Callable[[], Any], within: float = 120.0
    ) -> None:
        deadline = time.monotonic() + within
        delay = 0.2
        while True:
            try:
                async with request() as response:
                    body = await response.text()
                    if response.status < 300:
                        return
                    if response.status < 500 and response.status != 429:
                        raise AssertionError(f"{channel} webhook refused: {response.status} {body}")
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{channel} webhook not taken within {within}s")
            self.ledger.reposts[channel] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


def times(rng: random.Random, count: int, window: float) -> list[float]:
    """When a customer writes: `count` moments spread over the window, in order."""
    return sorted(rng.uniform(0.0, window) for _ in range(count))


async def telegram_customer(
    traffic: Traffic, chat: int, count: int, window: float, duplicate_rate: float
) -> None:
    """A private chat: questions, some delivered twice, an edit, sometimes a block and unblock."""
    rng, ledger = traffic.rng_for(chat), traffic.ledger
    ledger.conversations["telegram"] += 1
    sent: list[dict[str, Any]] = []
    for offset in times(rng, count, window):
        await traffic.at(offset)
        update = text_update(rng.choice(QUESTIONS), user=chat)
        message = update["message"]
        ledger.answered["telegram"][f"{chat}:{message['message_id']}"] = str(chat)
        await traffic.telegram(update)
        sent.append(update)
        if rng.random() < duplicate_rate:
            traffic.again_later(partial(traffic.telegram, update), "telegram")
    if rng.random() < 0.3:
        edited = {
            **sent[-1]["message"],
            "text": "sorry, I meant Sunday",
            "edit_date": int(time.time()),
        }
        ledger.ignored[("telegram", "edited")] += 1
        await traffic.telegram({"update_id": next(_update_ids), "edited_message": edited})
    if rng.random() < 0.1:
        ledger.ignored[("telegram", "my_chat_member")] += 1
        await traffic.telegram(_membership(chat, "member", "kicked"))


def _membership(chat: int, old: str, new: str) -> dict[str, Any]:
    """The customer blocked (or unblocked) the bot: Telegram says so, nobody is to answer it."""
    person = {"id": chat, "is_bot": False, "first_name": "Wei"}
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": {"id": chat, "type": "private", "first_name": "Wei"},
            "from": person,
            "date": int(time.time()),
            "old_chat_member": {"user": BOT_USER, "status": old},
            "new_chat_member": {"user": BOT_USER, "status": new, "until_date": 0},
        },
    }


async def whatsapp_customer(
    traffic: Traffic, number: str, count: int, window: float, duplicate_rate: float
) -> None:
    """A WhatsApp conversation through Twilio's signed webhooks, some delivered twice."""
    rng, ledger = traffic.rng_for(number), traffic.ledger
    ledger.conversations["whatsapp"] += 1
    for offset in times(rng, count, window):
        await traffic.at(offset)
        form = inbound(rng.choice(QUESTIONS), number)
        ledger.answered["whatsapp"][form["MessageSid"]] = number
        await traffic.twilio(TWILIO_PATH, form)
        if rng.random() < duplicate_rate:
            traffic.again_later(partial(traffic.twilio, TWILIO_PATH, form), "whatsapp")


async def email_customer(
    traffic: Traffic, address: str, count: int, window: float, duplicate_rate: float
) -> None:
    """Separate mails from one customer; a mail server sometimes delivers one twice."""
    rng, ledger = traffic.rng_for(address), traffic.ledger
    ledger.conversations["email"] += 1
    for offset in times(rng, count, window):
        await traffic.at(offset)
        question = rng.choice(QUESTIONS)
        mail = customer_mail(address, question[:40], f"Hello,\n\n{question}\n\nThanks")
        ledger.answered["email"][str(mail["Message-ID"])] = address
        await traffic.mail(mail)
        if rng.random() < duplicate_rate:
            traffic.again_later(partial(traffic.mail, mail), "email")


async def email_robot(traffic: Traffic, number: int, window: float) -> None:
    """An out-of-office reply or a newsletter: recorded as ignored, never answered."""
    await traffic.at(traffic.rng_for(number).uniform(0.0, window))
    if number % 2:
        sender, subject, body = f"away-{number}@customer.test", "Re: Hours", "Away until Monday."
        headers, reason = {"Auto-Submitted": "auto-replied"}, "auto_reply"
    else:
        sender, subject, body = f"news-{number}@shop.test", "This week's deals", "Flour is 20% off."
        headers, reason = {"Precedence": "bulk"}, "bulk"
    traffic.ledger.ignored[("email", reason)] += 1
    await traffic.mail(customer_mail(sender, subject, body, headers))


async def status_reporter(
    traffic: Traffic, accepted: Callable[[], list[str]], stop: asyncio.Event
) -> None:
    """Twilio reports the delivery of some replies; the reports change statuses, never reply."""
    seen: set[str] = set()
    while not stop.is_set():
        for sid in accepted():
            if sid in seen:
                continue
            seen.add(sid)
            if traffic.rng.random() < 0.2:
                traffic.ledger.reported.append(sid)
                form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT}
                await traffic.twilio(STATUS_PATH, form)
        await asyncio.sleep(0.5)


Accepted = dict[str, list[tuple[str, str]]]
"""channel -> (recipient, provider id) of every reply a provider accepted."""
Recorded = dict[tuple[str, str], list[tuple[str, list[str]]]]
"""(channel, inbound provider id) -> (delivery status, provider ids of its parts) per reply."""


def accepted_replies(
    telegram: tuple[FakeTelegramAPI, ...], twilio: tuple[FakeTwilioApi, ...], smtp: SmtpServer
) -> Accepted:
    """What the fake providers and the SMTP server took, per channel."""
    return {
        "telegram": [
            (str(m["chat"]["id"]), f"{m['chat']['id']}:{m['message_id']}")
            for api in telegram
            for m in api.accepted
        ],
        "whatsapp": [(str(m["to"]), str(m["sid"])) for api in twilio for m in api.accepted],
        "email": [(parseaddr(str(m["To"]))[1], str(m["Message-ID"])) for m in smtp.messages],
    }


async def recorded_replies(pool: asyncpg.Pool) -> Recorded:
    """Every inbound message in the database with its replies and their delivered parts."""
    rows = await pool.fetch(
        "SELECT i.channel, i.provider_message_id AS inbound, o.id AS reply,"
        " o.delivery_status AS status,"
        " array_remove(array_agg(d.provider_message_id), NULL) AS parts"
        " FROM messages i LEFT JOIN messages o ON o.in_reply_to = i.id"
        " LEFT JOIN deliveries d ON d.message_id = o.id"
        " WHERE i.direction = 'inbound' GROUP BY 1, 2, 3, 4"
    )
    recorded: Recorded = {}
    for row in rows:
        replies = recorded.setdefault((row["channel"], row["inbound"]), [])
        if row["reply"] is not None:
            replies.append((row["status"], list(row["parts"])))
    return recorded
