"""After-hours handoffs wait for the opening (injected clock); racing schedulers send once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.handoffs import HandoffDispatcher, HandoffMails, HandoffStore, MailIdentity
from bot.services import Services
from channels.email.sending import SmtpAccount, SmtpMailer
from core.business_calendar import BusinessCalendar, parse_closures
from core.compose import OfflineComposer, Thresholds
from core.conversation import ConversationCore, Greetings
from core.escalation import HandoffNotices
from core.hours import parse_schedule
from core.memory import RedisMemory
from core.messages import ChannelName, InboundMessage
from tests.providers.smtp_server import SmtpServer

SGT = ZoneInfo("Asia/Singapore")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def dispatcher(services: Services, smtp: SmtpServer, now: datetime) -> HandoffDispatcher:
    mailer = SmtpMailer(SmtpAccount("127.0.0.1", smtp.port, None, None, security="none"))
    mails = HandoffMails(MailIdentity("shop@example.test", "Shop"), "staff@example.test", SGT)
    return HandoffDispatcher(HandoffStore(services.storage.pool), mails, mailer, clock=lambda: now)


def core_with_calendar(services: Services, calendar: BusinessCalendar) -> ConversationCore:
    return ConversationCore(
        services.storage.store,
        RedisMemory(services.storage.redis),
        services.retriever,
        OfflineComposer(Thresholds()),
        Greetings("Test Bakery"),
        notices=HandoffNotices(calendar),
    )


async def test_a_handoff_after_hours_is_sent_at_the_next_opening(
    services: Services, smtp: SmtpServer
) -> None:
    # Closed today and tomorrow (a configured closure), whatever day the test runs.
    today = datetime.now(SGT).date()
    closure = parse_closures(f"{today}..{today + timedelta(days=1)} Staff retreat")
    calendar = BusinessCalendar(parse_schedule("mon-sun 09:00-18:00"), SGT, closure)
    core = core_with_calendar(services, calendar)
    now = datetime.now(UTC)
    message = InboundMessage(
        channel=ChannelName("whatsapp"),
        external_user_id=f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}",
        provider_message_id=f"SM{uuid.uuid4().hex}",
        text="I want to speak to the manager",
        received_at=now,
        display_name="Aisyah",
    )
    reply = await core.handle(message)
    assert reply is not None and reply.escalate
    assert reply.text.startswith("We are closed for Staff retreat;")
    opening = datetime.combine(today + timedelta(days=2), datetime.min.time(), SGT).replace(hour=9)
    due = await services.storage.pool.fetchval(
        "SELECT due_at FROM escalations WHERE conversation_id = $1", reply.conversation_id
    )
    assert due == opening

    assert await dispatcher(services, smtp, now).dispatch_due() == 0  # still closed
    assert await dispatcher(services, smtp, opening - timedelta(minutes=1)).dispatch_due() == 0
    sent = await dispatcher(services, smtp, opening).dispatch_due()
    assert sent >= 1
    mails = [m for m in smtp.messages if "Aisyah" in str(m["Subject"])]
    assert len(mails) == 1 and "on WhatsApp" in str(mails[0]["Subject"])
    status = await services.storage.pool.fetchval(
        "SELECT status FROM escalations WHERE conversation_id = $1", reply.conversation_id
    )
    assert status == "sent"


async def test_two_schedulers_racing_for_one_due_handoff_send_it_once(
    services: Services, smtp: SmtpServer
) -> None:
    pool = services.storage.pool
    contact = await pool.fetchval(
        "INSERT INTO contacts (display_name) VALUES ('Racer') RETURNING id"
    )
    conversation = await pool.fetchval(
        "INSERT INTO conversations (contact_id, channel) VALUES ($1, 'telegram') RETURNING id",
        contact,
    )
    await pool.execute(
        "INSERT INTO escalations (conversation_id, trigger, status, due_at, token)"
        " VALUES ($1, 'asked_for_human', 'queued', now() - interval '1 minute', $2)",
        conversation,
        uuid.uuid4().hex,
    )
    now = datetime.now(UTC)
    results = await asyncio.gather(
        *(dispatcher(services, smtp, now).dispatch_due() for _ in range(4))
    )
    racer = [m for m in smtp.messages if "Racer" in str(m["Subject"])]
    assert len(racer) == 1
    assert sum(results) == len([m for m in smtp.messages])


async def test_a_handoff_the_smtp_server_refuses_is_kept_and_sent_later(
    services: Services, smtp: SmtpServer
) -> None:
    pool = services.storage.pool
    contact = await pool.fetchval(
        "INSERT INTO contacts (display_name) VALUES ('Patient') RETURNING id"
    )
    conversation = await pool.fetchval(
        "INSERT INTO conversations (contact_id, channel) VALUES ($1, 'email') RETURNING id", contact
    )
    escalation = await pool.fetchval(
        "INSERT INTO escalations (conversation_id, trigger, status, due_at, token)"
        " VALUES ($1, 'complaint', 'open', now(), $2) RETURNING id",
        conversation,
        uuid.uuid4().hex,
    )
    smtp.refuse("451 4.3.0 Try again later")
    now = datetime.now(UTC)
    await dispatcher(services, smtp, now).dispatch_due()
    row = await pool.fetchrow(
        "SELECT status, last_error FROM escalations WHERE id = $1", escalation
    )
    assert row is not None and row["status"] == "open" and "451" in row["last_error"]
    smtp.refuse(None)
    # Retried after its pause (a minute), here by letting the pause end at once.
    await pool.execute("UPDATE escalations SET claimed_until = now() WHERE id = $1", escalation)
    await dispatcher(services, smtp, now).dispatch_due()
    status = await pool.fetchval("SELECT status FROM escalations WHERE id = $1", escalation)
    assert status == "sent"
    assert any("Patient" in str(m["Subject"]) for m in smtp.messages)


async def test_a_quiet_human_conversation_goes_back_to_the_bot(services: Services) -> None:
    pool = services.storage.pool
    contact = await pool.fetchval(
        "INSERT INTO contacts (display_name) VALUES ('Idle') RETURNING id"
    )
    quiet, busy = [
        await pool.fetchval(
            "INSERT INTO conversations (contact_id, channel, status, last_message_at)"
            " VALUES ($1, $2, 'human', now() - $3::interval) RETURNING id",
            contact,
            channel,
            timedelta(hours=hours),
        )
        for channel, hours in (("telegram", 5), ("whatsapp", 1))
    ]
    handed_back = await HandoffStore(pool).hand_back_idle(timedelta(hours=4))
    assert handed_back >= 1
    statuses = dict(
        await pool.fetch("SELECT id, status FROM conversations WHERE id = ANY($1)", [quiet, busy])
    )
    assert statuses == {quiet: "bot", busy: "human"}
