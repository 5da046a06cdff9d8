"""Scale-out: two `bot serve` and two `bot worker` processes share one PostgreSQL and Valkey.

Customers write on Telegram and WhatsApp to either server at random (as behind a load balancer;
a provider's repeated delivery may reach the other one), by email, which both servers' IMAP
pollers watch, and on web chat, reloading the page onto the other server afterwards. The
business is closed when the run starts and opens a minute or so later; some customers ask for a
person before then, so their handoffs fall due at the opening, when every process's scheduler
looks for due handoffs; the daily retention job is set for the same minute and there is old
data for it to remove.

At the end every message has exactly one reply (web chat visitors see theirs on their socket and
the whole conversation on the other server), every process did part of the work, each handoff
email went to staff once and not before the opening, and retention ran in one process only.
SCALE_MESSAGES (default 400) sets the number of questions.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import aiohttp
import pytest

from bot.queue.inbound import DEAD_LETTERS, InboundQueue
from bot.services import Services
from core.messages import ChannelName, InboundMessage
from tests.integration.bot_harness import settle, wait_for
from tests.integration.bot_processes import (
    BotProcess,
    bot_process,
    fill_index,
    provider_env,
    storage_env,
)
from tests.integration.soak_traffic import (
    BOT_MAILBOX,
    PASSWORD,
    QUESTIONS,
    Ledger,
    Traffic,
    accepted_replies,
    email_customer,
    recorded_replies,
    telegram_customer,
    whatsapp_customer,
)
from tests.integration.test_telegram_flow import text_update
from tests.integration.test_whatsapp_flow import inbound
from tests.integration.webchat_client import chat_socket
from tests.providers.dovecot import Dovecot, dovecot_available
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]
MESSAGES = int(os.environ.get("SCALE_MESSAGES", "400"))
SEED = 20261124
RATE = 20.0
"""Messages per second: four processes loading the model share two cores."""
STAFF = "owner@bakery.test"
ESCALATIONS = 12
VISITORS = 10
PROCESSES = (
    ("serve-a", ["serve"]),
    ("serve-b", ["serve"]),
    ("worker-c", ["worker", "--port", "0"]),
    ("worker-d", ["worker", "--count", "2"]),
)
START_UP = timedelta(seconds=150)
"""Room for four processes to load the model and for the questions, before the opening."""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        server.add_user(BOT_MAILBOX, PASSWORD)
        yield server


def opening_soon(zone_now: datetime) -> datetime:
    """The first whole minute after start-up, kept inside one day so one range describes it."""
    opening = (zone_now + START_UP).replace(second=0, microsecond=0) + timedelta(minutes=1)
    if opening.strftime("%H:%M") >= "23:58":
        opening = (opening + timedelta(days=1)).replace(hour=0, minute=0)
    return opening


async def old_customer(services: Services) -> str:
    """A customer last heard of before the retention period: the daily job must remove them."""
    user = f"old-{uuid.uuid4().hex[:8]}"
    message = InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=user,
        provider_message_id=f"old-{user}",
        text="Do you deliver?",
        received_at=datetime.now(UTC),
    )
    assert await services.core.handle(message) is not None
    pool = services.storage.pool
    long_ago = datetime.now(UTC) - timedelta(days=services.settings.retention_days + 3)
    await pool.execute("UPDATE messages SET delivery_status = 'sent', created_at = $1", long_ago)
    await pool.execute("UPDATE conversations SET last_message_at = $1", long_ago)
    await pool.execute("UPDATE contacts SET created_at = $1", long_ago)
    return user


async def asks_for_a_person(traffic: Traffic, n: int, window: float) -> None:
    """A customer who asks for staff before the opening: one reply now, one handoff later."""
    await traffic.at(traffic.rng_for(f"human-{n}").uniform(0.0, window / 2))
    if n % 2:
        update = text_update("/human", user=620_000_001 + n)
        chat = update["message"]["chat"]["id"]
        traffic.ledger.answered["telegram"][f"{chat}:{update['message']['message_id']}"] = str(chat)
        await traffic.telegram(update)
    else:
        number = f"whatsapp:+6592{n:06d}"
        form = inbound("Can I talk to a real person please?", number)
        traffic.ledger.answered["whatsapp"][form["MessageSid"]] = number
        await traffic.twilio("/webhooks/twilio", form)


@dataclass
class Visitor:
    """What one web chat visitor saw: on the server it chatted on, then on the other one."""

    asked: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    history_elsewhere: list[tuple[str, str]] = field(default_factory=list)


async def web_visitor(
    servers: list[int], n: int, window: float, started: float, visitors: list[Visitor]
) -> None:
    """A visitor chats on one server, then reloads the page and lands on the other."""
    rng = random.Random(f"{SEED}:web-{n}")
    here, there = rng.sample(servers, 2)
    await asyncio.sleep(max(0.0, started + rng.uniform(0.0, window / 2) - time.monotonic()))
    visitor = Visitor()
    visitors.append(visitor)
    async with chat_socket(here) as browser:
        await browser.hello()
        for question in rng.sample(QUESTIONS[:12], 3):
            asked = await browser.say(question)
            await browser.next(lambda f, asked=asked: f == {"type": "handled", "id": asked}, 120)
            visitor.asked.append(asked)
        # The reply may come from a worker in any process, through Redis to this socket.
        await browser.next(lambda f: len(browser.bot_messages()) >= 3, 120)
        await settle(1.0)
        visitor.answers = browser.bot_messages()
        token = browser.token
    async with chat_socket(there) as reloaded:
        ready = await reloaded.hello(token)
        visitor.history_elsewhere = [(m["from"], m["id"]) for m in ready["history"]]


async def worker_endpoints(
    session: aiohttp.ClientSession, worker: BotProcess
) -> dict[str, tuple[int, str]]:
    """Status and body of what a `bot worker --port` serves (and a webhook path it must not)."""
    assert worker.port is not None, "the worker printed no health port"
    answers = {}
    for path in ("/healthz", "/readyz", "/metrics", "/webhooks/telegram"):
        method = session.post if path.startswith("/webhooks") else session.get
        async with method(f"http://127.0.0.1:{worker.port}{path}") as response:
            answers[path] = (response.status, await response.text())
    return answers


def sent_total(metrics: str) -> float:
    """bot_messages_sent_total summed over channels, from Prometheus text."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("bot_messages_sent_total{")
    )


def customers(traffic: Traffic, window: float) -> list[asyncio.Task[None]]:
    """Conversations of four messages on each channel, spread over the window."""
    mails = max(12, MESSAGES // 10)
    chats = (MESSAGES - mails) // 2
    work = [
        *(telegram_customer(traffic, 630_000_001 + n, 4, window, 0.1) for n in range(chats // 4)),
        *(
            whatsapp_customer(traffic, f"whatsapp:+6593{n:06d}", 4, window, 0.1)
            for n in range(chats // 4)
        ),
        *(
            email_customer(traffic, f"scale-{n}@customer.test", 3, window, 0.1)
            for n in range(mails // 3)
        ),
        *(asks_for_a_person(traffic, n, window) for n in range(ESCALATIONS)),
    ]
    return [asyncio.create_task(w) for w in work]


async def test_two_servers_and_two_workers_share_the_work(
    own_services: Services, dovecot: Dovecot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, pool = own_services, own_services.storage.pool
    zone = services.settings.zone
    opening = opening_soon(datetime.now(zone))
    await old_customer(services)
    await fill_index(services, tmp_path / "index")
    ledger = Ledger()
    async with (
        FakeTelegramAPI() as telegram,
        FakeTwilioApi() as twilio,
        aiohttp.ClientSession() as session,
    ):
        with SmtpServer(logins={BOT_MAILBOX: PASSWORD}) as smtp:
            shared = provider_env(telegram, twilio, smtp, dovecot) | dict(
                # Closed now; open from `opening` to the end of that day.
                BUSINESS_HOURS=f"{opening:%a}".lower() + f" {opening:%H:%M}-23:59",
                RETENTION_AT=f"{opening:%H:%M}",
                STAFF_EMAIL=STAFF,
                HANDOFF_CHECK_SECONDS="0.5",
                EMAIL_POLL_SECONDS="0.5",
                RECLAIM_AFTER_SECONDS="5",
                SEND_LEASE_SECONDS="30",
            )
            async with AsyncExitStack() as stack:
                processes: list[BotProcess] = []
                for name, args in PROCESSES:
                    folder = tmp_path / name
                    env = storage_env(services, folder, index_from=tmp_path / "index") | shared
                    processes.append(
                        await stack.enter_async_context(bot_process(name, args, env, folder))
                    )
                await asyncio.gather(*(p.ready() for p in processes))
                # Mail already in the box when the bot first opens it is not answered; the
                # customers write once one of the servers has noted where the box starts.
                await wait_for(
                    lambda: any(p.events("imap_watermark_set") for p in processes), within=60
                )
                servers = [p.port for p in processes if p.name.startswith("serve") and p.port]
                assert len(servers) == 2
                began = time.monotonic()
                window = MESSAGES / RATE
                traffic = Traffic(
                    session, servers[0], twilio.auth_token, dovecot, ledger, SEED, (servers[1],)
                )
                visitors: list[Visitor] = []
                await asyncio.gather(
                    *customers(traffic, window),
                    *(
                        web_visitor(servers, n, window, traffic.started, visitors)
                        for n in range(VISITORS)
                    ),
                )
                while traffic.extra:
                    await asyncio.gather(*list(traffic.extra))
                assert datetime.now(zone) < opening, "the questions outlasted the closed hours"
                expected = sum(len(ids) for ids in ledger.answered.values())

                def replies() -> int:
                    sent = accepted_replies((telegram,), (twilio,), smtp)
                    return sum(len(pairs) for pairs in sent.values())

                def handoffs() -> list[str]:
                    return [
                        str(m["Message-ID"])
                        for m in smtp.messages
                        if parseaddr(str(m["To"]))[1] == STAFF
                    ]

                with suppress(AssertionError):  # the checks below say what is missing
                    await wait_for(lambda: replies() >= expected, within=120)
                early = handoffs()
                # Those who asked for a person, and any the bot could not answer twice running.
                due = await pool.fetchval("SELECT count(*) FROM escalations")
                wait = (opening - datetime.now(zone)).total_seconds()
                with suppress(AssertionError):
                    await wait_for(lambda: len(handoffs()) >= due, within=wait + 60)
                # Longer than a reclaim and several handoff checks: a second copy would be out.
                await settle(6.0)
                answered = time.monotonic() - began
                queue = InboundQueue(services.storage.redis)
                depth = await queue.depth()
                pending = (await services.storage.redis.xpending(queue.stream, queue.group))[
                    "pending"
                ]
                dead = await services.storage.redis.xlen(DEAD_LETTERS)
                worker_http = await worker_endpoints(session, processes[2])
                for process in processes:
                    process.process.send_signal(signal.SIGTERM)
                codes = [await asyncio.wait_for(p.process.wait(), 60) for p in processes]
            sent = accepted_replies((telegram,), (twilio,), smtp)
            staff_mails = handoffs()

    recorded = await recorded_replies(pool)
    escalations = await pool.fetch(
        "SELECT due_at, sent_at, handoff_message_id FROM escalations ORDER BY id"
    )
    retention = await pool.fetch("SELECT runner, finished_at FROM scheduled_runs")
    audits = await pool.fetch(
        "SELECT counts FROM privacy_audit WHERE action = 'retention' ORDER BY id"
    )
    handled = {p.name: len(p.events("reply_sent")) for p in processes}
    handoffs_by = {p.name: len(p.events("handoff_sent")) for p in processes}
    retention_by = [p.name for p in processes if p.events("retention_applied")]
    with capsys.disabled():
        print(
            f"\nscale-out: {expected} messages answered in {answered:.0f}s by"
            f" {', '.join(f'{n} {c}' for n, c in handled.items())};"
            f" {len(staff_mails)} handoffs at the opening by"
            f" {', '.join(f'{n} {c}' for n, c in handoffs_by.items())};"
            f" retention by {retention_by}"
        )

    # Every message exactly one reply, recorded, and nothing else sent to customers.
    wanted = {(c, i) for c, ids in ledger.answered.items() for i in ids}
    web = {key for key in recorded if key[0] == "webchat"}
    assert set(recorded) - web == wanted
    assert len(web) == sum(len(v.asked) for v in visitors) == 3 * VISITORS
    wrong = {k: v for k, v in recorded.items() if len(v) != 1}
    assert not wrong, f"{len(wrong)} messages without exactly one reply: {list(wrong.items())[:5]}"
    for channel in ("telegram", "whatsapp", "email"):
        got = Counter(r for r, _ in sent[channel] if r != STAFF)
        owed = ledger.expected_per_recipient(channel)
        assert got == owed, f"{channel}: {dict(got - owed)} too many, {dict(owed - got)} missing"
    # Web chat: one answer per question on the socket, and the history on the other server.
    for visitor in visitors:
        assert len(visitor.answers) == 3, visitor
        assert [who for who, _ in visitor.history_elsewhere] == ["customer", "bot"] * 3, visitor
        assert [i for who, i in visitor.history_elsewhere if who == "customer"] == visitor.asked
    # The work was shared: every process sent replies.
    assert all(handled.values()), handled
    # Each handoff once, none before the opening, all due at the opening.
    assert early == []
    assert len(escalations) == due >= ESCALATIONS
    assert Counter(staff_mails) == Counter(e["handoff_message_id"] for e in escalations)
    assert all(e["due_at"] == opening and e["sent_at"] >= opening for e in escalations)
    assert sum(handoffs_by.values()) == due
    # Retention ran once, in one process, and removed the old customer.
    assert len(retention) == 1 and retention[0]["finished_at"] is not None
    assert len(retention_by) == 1 and len(audits) == 1
    assert audits[0]["counts"] and '"contacts": 1' in audits[0]["counts"]
    # A worker started with --port answers health checks and counts its own replies.
    assert worker_http["/healthz"][0] == 200 and worker_http["/readyz"][0] == 200
    assert worker_http["/webhooks/telegram"][0] == 404, "a worker takes no webhooks"
    assert sent_total(worker_http["/metrics"][1]) == handled["worker-c"] > 0
    assert (depth, pending, dead) == (0, 0, 0)
    assert codes == [0, 0, 0, 0], "a process did not stop cleanly on SIGTERM"
