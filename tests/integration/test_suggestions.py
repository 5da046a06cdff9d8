"""Staff answers become suggestions; the owner approves one by replying to the report mail, and a
new customer's paraphrase is then answered by the bot (real PostgreSQL, Valkey, index, SMTP)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from bot.learned_knowledge import LearnedKnowledge
from bot.metrics import Metrics
from bot.owner_replies import OwnerReplies
from bot.queue.ingress import Ingress
from bot.services import Services
from channels.email.ingress import EmailIngress
from channels.email.mailbox import mail_sender
from core.compose import Composer, ComposeRequest, Composition, OfflineComposer
from core.conversation import ConversationCore, Greetings
from core.learning import REPORT_THREAD
from core.memory import RedisMemory
from core.messages import ChannelName, InboundMessage, Reply
from core.suggestion_store import PostgresSuggestions
from core.suggestions import ConfidentAnswer, SuggestedKnowledge
from tests.providers.smtp_server import SmtpServer
from tests.unit.recording_queue import AcceptingOutbox, RecordingQueue

BOT = "shop@example.test"
OWNER = "owner@example.test"
QUESTION = (
    "Do you make corporate gift boxes for our company's year-end event? "
    "I'm Amy Tan (S1234567D), call me at 9123 4567"
)
PARAPHRASE = "Do you make corporate gift boxes for a company year-end event?"
NEW_CUSTOMER = "Can you make corporate gift boxes for a company event?"
STAFF_ANSWER = (
    "Hi Amy, yes! We make corporate gift boxes from 20 boxes, tied with your company's logo "
    "ribbon; please order 5 working days ahead. Call me at 9876 5432.\n\nRegards,\nWei Ming"
)


class CurrentThresholds:
    """The offline composer with the services' thresholds of the moment (they recalibrate)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def compose(self, request: ComposeRequest) -> Composition:
        return OfflineComposer(self._services.thresholds).compose_now(request)


@dataclass
class Learning:
    core: ConversationCore
    store: PostgresSuggestions
    services: Services
    ingress: EmailIngress
    queue: RecordingQueue
    smtp: SmtpServer
    faq: Path
    before: set[int]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def learning(services: Services, smtp: SmtpServer, tmp_path: Path) -> AsyncIterator[Learning]:
    pool = services.storage.pool
    before = {int(r["id"]) for r in await pool.fetch("SELECT id FROM suggestions")}
    # Suggestions other tests left pending must not take this test's merges: set them aside.
    aside = await pool.fetchval(
        "WITH a AS (UPDATE suggestions SET status = 'rejected' WHERE status = 'pending'"
        " RETURNING id) SELECT coalesce(array_agg(id), '{}') FROM a"
    )
    store = PostgresSuggestions(pool)
    faq = tmp_path / "learned-faq.yaml"
    learned = LearnedKnowledge(store, faq, services.ingestor, services.calibrate)
    mail_settings = services.settings.model_copy(
        update={
            "email_address": BOT,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
        }
    )
    composer: Composer = CurrentThresholds(services)
    core = ConversationCore(
        services.storage.store,
        RedisMemory(services.storage.redis),
        services.retriever,
        composer,
        Greetings("Test Bakery"),
        staff_answers=SuggestedKnowledge(
            store,
            services.embedder,
            ConfidentAnswer(services.retriever, lambda: services.thresholds),
        ),
        owner_replies=OwnerReplies(store, learned, {OWNER}, mail_sender(mail_settings)),
    )
    queue = RecordingQueue()
    ingress = EmailIngress(
        Ingress(queue, AcceptingOutbox(), Metrics()),  # type: ignore[arg-type]
        services.storage.redis,
        own_addresses=[BOT],
        staff_addresses=[OWNER],
    )
    learning = Learning(core, store, services, ingress, queue, smtp, faq, before)
    try:
        yield learning
    finally:
        await pool.execute("DELETE FROM suggestions WHERE NOT (id = ANY($1::bigint[]))", before)
        await pool.execute("UPDATE suggestions SET status = 'pending' WHERE id = ANY($1)", aside)
        if faq.exists() and await services.ingestor.remove(str(faq)):
            await services.calibrate()


async def customer_says(learning: Learning, chat: int, n: int, text: str) -> Reply | None:
    return await learning.core.handle(
        InboundMessage(
            channel=ChannelName("telegram"),
            external_user_id=str(chat),
            provider_message_id=f"{chat}:{n}",
            text=text,
            received_at=datetime.now(UTC),
            display_name="Amy Tan" if n else None,
        )
    )


async def hand_over(learning: Learning, question: str) -> str:
    """A new customer asks, then asks for a person: the handoff's token."""
    chat = 700_000_000 + secrets.randbelow(99_999_999)
    await customer_says(learning, chat, 1, question)
    reply = await customer_says(learning, chat, 2, "Can I talk to a real person please")
    assert reply is not None and reply.escalate
    token = await learning.services.storage.pool.fetchval(
        "SELECT token FROM escalations WHERE conversation_id = $1", reply.conversation_id
    )
    assert token
    return str(token)


async def staff_answers(learning: Learning, token: str, text: str = STAFF_ANSWER) -> None:
    relayed = await learning.core.handle(
        InboundMessage(
            channel=ChannelName.STAFF,
            external_user_id=OWNER,
            provider_message_id=make_msgid(domain="example.test"),
            text=text,
            received_at=datetime.now(UTC),
            display_name="Wei Ming",
            thread_ref=token,
        )
    )
    assert relayed is not None and relayed.text == text  # the customer gets it unmasked


async def new_suggestions(learning: Learning) -> list[dict[str, object]]:
    """The suggestions this test made, oldest first."""
    rows = await learning.services.storage.pool.fetch(
        "SELECT * FROM suggestions WHERE NOT (id = ANY($1::bigint[])) ORDER BY id",
        list(learning.before),
    )
    return [dict(r) for r in rows]


async def make_report(learning: Learning, suggestion_ids: list[int]) -> str:
    token = secrets.token_hex(16)
    now = datetime.now(UTC)
    await learning.services.storage.pool.execute(
        "INSERT INTO owner_reports (token, period_start, period_end, sent_to, suggestion_ids)"
        " VALUES ($1, $2, $3, $4, $5)",
        token,
        now - timedelta(days=7),
        now,
        OWNER,
        suggestion_ids,
    )
    return token


def report_reply(token: str, body: str, sender: str = OWNER, plus: bool = True) -> bytes:
    """What the owner's mail client sends when they press Reply on the report."""
    reply = EmailMessage()
    reply["From"] = f"Shop Owner <{sender}>"
    reply["To"] = f"shop+r{token}@example.test" if plus else BOT
    reply["Subject"] = "Re: Your weekly report"
    reply["Message-ID"] = make_msgid(domain="example.test")
    reply["In-Reply-To"] = f"<report-{token}@example.test>"
    reply["References"] = f"<report-{token}@example.test>"
    reply.set_content(
        f"{body}\n\nOn Mon, Test Bakery <{BOT}> wrote:\n> 1. Corporate gift boxes?\n"
        "> Reply approve 1 3 to approve\n"
    )
    return reply.as_bytes()


async def mail_in(learning: Learning, raw: bytes) -> InboundMessage | None:
    """The mail through the IMAP handler; the message it queued (None: ignored)."""
    queued = len(learning.queue.messages)
    await learning.ingress.handle(1, raw)
    if len(learning.queue.messages) == queued:
        return None
    return learning.queue.messages[-1]


async def status_of(learning: Learning, suggestion_id: int) -> str:
    return str(
        await learning.services.storage.pool.fetchval(
            "SELECT status FROM suggestions WHERE id = $1", suggestion_id
        )
    )


async def test_staff_answer_becomes_a_masked_suggestion_and_paraphrases_merge(
    learning: Learning,
) -> None:
    token = await hand_over(learning, QUESTION)
    await staff_answers(learning, token)
    [row] = await new_suggestions(learning)
    assert row["question"] == (
        "Do you make corporate gift boxes for our company's year-end event? "
        "I'm [name] ([NRIC]), call me at [phone]"
    )
    # Masked, and without the greeting and signature written for that one customer.
    assert row["answer"] == (
        "Yes! We make corporate gift boxes from 20 boxes, tied with your company's "
        "logo ribbon; please order 5 working days ahead. Call me at [phone]."
    )
    assert row["times"] == 1
    # The same handoff answered again counts once.
    await staff_answers(learning, token, "Also: we can add a greeting card to every box.")
    [row] = await new_suggestions(learning)
    assert row["times"] == 1

    other = await hand_over(learning, PARAPHRASE)
    await staff_answers(learning, other, "Yes, from 20 boxes; order 5 working days ahead.")
    [row] = await new_suggestions(learning)
    assert row["times"] == 2
    assert row["alternatives"] == [PARAPHRASE]
    assert len(row["escalation_ids"]) == 2  # type: ignore[arg-type]


async def test_a_question_the_knowledge_base_answers_is_not_suggested(learning: Learning) -> None:
    token = await hand_over(learning, "Is there parking nearby?")
    await staff_answers(learning, token, "Yes, at the HDB car park at Blk 30 next door.")
    assert await new_suggestions(learning) == []


async def test_owner_approves_by_reply_and_a_new_customer_is_answered(learning: Learning) -> None:
    token = await hand_over(learning, QUESTION)
    await staff_answers(learning, token)
    [row] = await new_suggestions(learning)
    suggestion_id = int(row["id"])  # type: ignore[call-overload]
    report = await make_report(learning, [suggestion_id])

    # Before: the bot cannot answer a new customer's paraphrase.
    chat = 800_000_000 + secrets.randbelow(99_999_999)
    before = await customer_says(learning, chat, 0, NEW_CUSTOMER)
    assert before is not None and "logo ribbon" not in before.text

    # A forged approval: another address, even with the right token, changes nothing.
    assert await mail_in(learning, report_reply(report, "approve 1", "mallory@x.test")) is None
    forged = InboundMessage(
        channel=ChannelName.STAFF,
        external_user_id="mallory@x.test",
        provider_message_id=make_msgid(domain="x.test"),
        text="approve 1",
        received_at=datetime.now(UTC),
        thread_ref=REPORT_THREAD + report,
    )
    assert await learning.core.handle(forged) is None
    assert await status_of(learning, suggestion_id) == "pending"

    # A reply naming a report that does not exist changes nothing either.
    unknown = await mail_in(learning, report_reply(secrets.token_hex(16), "approve 1"))
    assert unknown is not None and unknown.thread_ref is not None
    await learning.core.handle(unknown)
    assert await status_of(learning, suggestion_id) == "pending"
    assert not learning.faq.exists()
    assert learning.smtp.messages == []

    # The owner's reply (plus address lost: the thread headers name the report).
    raw = report_reply(report, "Hi!\napprove 1 3", plus=False)
    reply = await mail_in(learning, raw)
    assert reply is not None
    assert reply.channel == ChannelName.STAFF and reply.thread_ref == REPORT_THREAD + report
    assert await learning.core.handle(reply) is None
    assert await status_of(learning, suggestion_id) == "approved"
    assert "logo ribbon" in learning.faq.read_text(encoding="utf-8")

    [confirmation] = await learning.smtp.wait_for(1)
    assert confirmation["To"] == f"Shop Owner <{OWNER}>"
    assert confirmation["In-Reply-To"] == reply.provider_message_id
    body = confirmation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. approved: Do you make corporate gift boxes" in body
    assert "approve 3: there is no 3 in the report (1-1)" in body

    # Read twice (the reader restarted): applied once, confirmed once.
    await learning.core.handle(reply)
    assert len(learning.smtp.messages) == 1

    after = await customer_says(learning, chat + 1, 0, NEW_CUSTOMER)
    assert after is not None and not after.escalate
    assert after.source_entry_ids == (f"learned-{suggestion_id}",)
    assert "logo ribbon" in after.text and "[phone]" in after.text


async def test_owner_edits_and_rejects(learning: Learning) -> None:
    first = await hand_over(learning, QUESTION)
    await staff_answers(learning, first)
    second = await hand_over(learning, "Do you sell durian mooncakes during the festival?")
    await staff_answers(learning, second, "Not this year, sorry: only snowskin pandan ones.")
    rows = await new_suggestions(learning)
    assert len(rows) == 2
    ids = [int(r["id"]) for r in rows]  # type: ignore[call-overload]
    report = await make_report(learning, ids)
    text = "edit 1: Yes, from 20 boxes with your logo; call 6123 4567 to order.\nreject 2"
    reply = await mail_in(learning, report_reply(report, text))
    assert reply is not None
    await learning.core.handle(reply)
    assert await status_of(learning, ids[0]) == "approved"
    assert await status_of(learning, ids[1]) == "rejected"
    # The owner's own words are kept as written: the shop's number is meant to be there.
    assert "call 6123 4567 to order" in learning.faq.read_text(encoding="utf-8")
    assert "mooncake" not in learning.faq.read_text(encoding="utf-8")
    [confirmation] = await learning.smtp.wait_for(1)
    body = confirmation.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. approved with your answer" in body and "2. rejected" in body
