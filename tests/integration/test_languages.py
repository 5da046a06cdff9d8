"""Customers in Chinese, Malay, Tamil and Singlish through the real core and both bundled models.

The sample knowledge base is English only; the replies quote it. Each language: a question it
answers, an off-topic question declined in that language, and a question naming an escalation
keyword ("refund", in English or in the customer's words) answered first and then handed over.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.services import Services
from core import texts
from core.language import Language
from core.messages import ChannelName, InboundMessage, Reply
from core.outbox import PostgresOutbox
from tests.integration.bot_harness import close_handoffs

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SUNDAY_HOURS = "8:00 am to 3:00 pm"
REFUND_TIMING = "within 3 working days"
LEASE = timedelta(seconds=30)

ANSWERED = [
    pytest.param("你们礼拜天营业到几点？", SUNDAY_HOURS, id="zh"),
    pytest.param("Hari Ahad kedai tutup pukul berapa?", SUNDAY_HOURS, id="ms"),
    pytest.param("ஞாயிற்றுக்கிழமை கடை எத்தனை மணிக்கு மூடுவீர்கள்?", SUNDAY_HOURS, id="ta"),
    pytest.param("sun u all open till what time ah", SUNDAY_HOURS, id="singlish"),
    pytest.param("可以用PayNow付钱吗", "PayNow", id="zh-paynow"),
    pytest.param("boleh bayar guna paynow x", "PayNow", id="ms-paynow"),
]
OFF_TOPIC = [
    pytest.param("帮我写一篇关于月亮的作文", Language.ZH, id="zh"),
    pytest.param("Siapa yang menang perlawanan bola sepak semalam?", Language.MS, id="ms"),
    pytest.param("நாளைக்கு சென்னையில் மழை பெய்யுமா?", Language.TA, id="ta"),
    pytest.param("can help me fix my aircon or not", Language.EN, id="singlish"),
]
KEYWORD = [
    pytest.param("退款一般要多久才到？", Language.ZH, id="zh"),
    pytest.param("berapa lama refund masuk akaun?", Language.MS, id="ms"),
    pytest.param("refund எத்தனை நாளில் கிடைக்கும்?", Language.TA, id="ta"),
    pytest.param("refund how long take ah", Language.EN, id="singlish"),
]


@pytest.fixture(autouse=True)
async def no_handoffs_left_behind(services: Services) -> AsyncIterator[None]:
    yield
    await close_handoffs(services.storage.pool, ChannelName("whatsapp"))


def ask(text: str) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("whatsapp"),
        external_user_id=f"whatsapp:+65{uuid.uuid4().int % 10**8:08d}",
        provider_message_id=str(uuid.uuid4()),
        text=text,
        received_at=NOW,
    )


async def reply_to(services: Services, text: str) -> Reply:
    reply = await services.core.handle(ask(text))
    assert reply is not None
    return reply


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
async def test_a_question_in_the_customers_words_is_answered(
    services: Services, question: str, expected: str
) -> None:
    reply = await reply_to(services, question)
    assert expected in reply.text, reply.text
    assert not reply.escalate and reply.source_entry_ids


@pytest.mark.parametrize(("question", "language"), OFF_TOPIC)
async def test_an_off_topic_question_is_declined_in_the_customers_language(
    services: Services, question: str, language: Language
) -> None:
    reply = await reply_to(services, question)
    assert reply.source_entry_ids == () and reply.choices == ()
    assert texts.text("rephrase", language) in reply.text


@pytest.mark.parametrize(("question", "language"), KEYWORD)
async def test_a_keyword_question_is_answered_then_handed_over(
    services: Services, question: str, language: Language
) -> None:
    reply = await reply_to(services, question)
    assert reply.escalate and reply.reason == "keyword:refund"
    assert REFUND_TIMING in reply.text, reply.text
    # The answer first, then the handoff notice (the test business is always open).
    assert reply.text.endswith(
        f"{REFUND_TIMING}; card refunds can take 5 to 10 working days "
        f"to appear on your statement.\n\n{texts.text('handoff.open', language)}"
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param(
            "What time do you open on Saturday? Is there parking nearby?",
            ("6:00 pm", "car park"),
            id="en",
        ),
        pytest.param("你们星期一开吗？可以用PayNow吗？", ("Monday", "PayNow"), id="zh"),
    ],
)
async def test_a_two_part_question_gets_both_answers(
    services: Services, question: str, expected: tuple[str, str]
) -> None:
    reply = await reply_to(services, question)
    assert len(reply.source_entry_ids) == 2, reply.text
    assert all(fact in reply.text for fact in expected), reply.text


async def test_a_stored_reply_carries_the_customers_language_to_the_channel(
    services: Services,
) -> None:
    # The channel writes its own words around choices ("Reply with a number:") in it.
    outbox = PostgresOutbox(services.storage.pool)
    for question, language in (("你们礼拜天营业到几点？", "zh"), ("sun open till when", "en")):
        message = ask(question)
        assert await services.core.handle(message) is not None
        claimed = await outbox.claim_replies("whatsapp", message.provider_message_id, LEASE)
        assert [item.language for item in claimed.items] == [language]
        for item in claimed.items:
            await outbox.mark_sent(item.message_id, [f"SM{uuid.uuid4().hex}"])
