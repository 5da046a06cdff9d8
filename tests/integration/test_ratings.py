"""Customer ratings end to end: real server, workers, PostgreSQL and Valkey; fake Telegram/Twilio.

The rating job is driven with a clock half an hour ahead instead of waiting for the quiet.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.rating_requests import RatingRequests, rating_requests
from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import webhook_secret
from core.data_rights import Identity
from core.messages import ChannelName, InboundMessage
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.integration.webchat_client import chat_socket
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

pytestmark = pytest.mark.integration
SENDER = "whatsapp:+6560007777"
QUIET = timedelta(minutes=31)  # past RATING_AFTER_MINUTES (30)
_ids = itertools.count(1)
_users = itertools.count(730_000_001)


@pytest.fixture
async def bot(
    services: Services, telegram_api: FakeTelegramAPI, twilio_api: FakeTwilioApi
) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=telegram_api.base_url,
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=SecretStr(twilio_api.auth_token),
        twilio_whatsapp_from=SENDER,
        twilio_api_url=twilio_api.base_url,
    ) as runtime:
        yield runtime


def job(bot: Runtime) -> RatingRequests:
    """The runtime's own rating job (its pool, metrics, senders), to run with a clock."""
    senders = {channel.value for channel in bot.channels.senders}
    return rating_requests(
        bot.settings,
        bot.services.storage.pool,
        bot.metrics,
        bot.delivery().send_deferred,
        senders,
    )


async def ask_ratings(bot: Runtime) -> int:
    """One round of the job, as if every conversation had been quiet for half an hour."""
    return await job(bot).run(now=datetime.now(UTC) + QUIET)


def counted(bot: Runtime, name: str, **labels: str) -> float:
    return bot.metrics.registry.get_sample_value(name, labels) or 0.0


async def telegram(bot: Runtime, update: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{bot.port}/webhooks/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 200


def said(user: int, text: str) -> dict[str, Any]:
    """A private Telegram message."""
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Mei"},
            "from": {"id": user, "is_bot": False, "first_name": "Mei"},
            "text": text,
        },
    }


def tapped(user: int, data: str, keyboard: dict[str, Any]) -> dict[str, Any]:
    """A press on one of the buttons under the bot's message."""
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"cbq-{next(_ids)}",
            "chat_instance": "7",
            "from": {"id": user, "is_bot": False, "first_name": "Mei"},
            "data": data,
            "message": {
                "message_id": next(_ids),
                "date": int(time.time()),
                "chat": {"id": user, "type": "private", "first_name": "Mei"},
                "text": "rating",
                "reply_markup": keyboard,
            },
        },
    }


def sent(api: FakeTelegramAPI, chat: int) -> list[dict[str, Any]]:
    return [c.params for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat]


async def whatsapp(bot: Runtime, api: FakeTwilioApi, customer: str, text: str) -> None:
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": api.account_sid,
        "From": customer,
        "To": SENDER,
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Aisyah",
        "WaId": customer.removeprefix("whatsapp:+"),
    }
    signature = RequestValidator(api.auth_token).compute_signature(
        PUBLIC_URL + "/webhooks/twilio", form
    )
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{bot.port}/webhooks/twilio",
            data=form,
            headers={"X-Twilio-Signature": signature},
        )
        assert response.status == 200


def to_customer(api: FakeTwilioApi, customer: str) -> list[str]:
    return [c.form["Body"] for c in api.calls if c.form.get("To") == customer]


async def ratings_of(pool: asyncpg.Pool, channel: str, external_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT r.* FROM ratings r JOIN channel_identities ci ON ci.contact_id = r.contact_id"
        " WHERE ci.channel = $1 AND ci.external_id = $2 ORDER BY r.id",
        channel,
        external_id,
    )


async def test_a_chinese_customer_is_asked_once_taps_4_and_comments(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    pool = bot.services.storage.pool
    user = next(_users)
    resolved_by_bot = counted(bot, "bot_resolutions_total", by="bot")
    fours = counted(bot, "bot_ratings_total", score="4")
    await telegram(bot, said(user, "你们礼拜天营业到几点？"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    assert sent(telegram_api, user)[0].get("reply_markup") is None  # an answer, no choices

    await ask_ratings(bot)
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    question = sent(telegram_api, user)[1]
    assert "我们的服务如何" in question["text"]
    keyboard = question["reply_markup"]
    buttons = [row[0] for row in keyboard["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == [f"rating:{n}" for n in range(1, 6)]
    assert buttons[4]["text"] == "⭐⭐⭐⭐⭐ 非常好"
    assert counted(bot, "bot_resolutions_total", by="bot") >= resolved_by_bot + 1

    # Never twice for one conversation, however often the job runs.
    await ask_ratings(bot)
    await settle(0.5)
    assert len(sent(telegram_api, user)) == 2

    await telegram(bot, tapped(user, "rating:4", keyboard))
    await wait_for(lambda: len(sent(telegram_api, user)) == 3)
    assert "谢谢您的评分" in sent(telegram_api, user)[2]["text"]
    [rating] = await ratings_of(pool, "telegram", str(user))
    assert (rating["score"], rating["ended_by"], rating["comment"]) == (4, "bot", None)
    assert counted(bot, "bot_ratings_total", score="4") == fours + 1

    comment = "店员态度非常亲切，蛋糕也新鲜，下次还会再来光顾"
    await telegram(bot, said(user, comment))
    await wait_for(lambda: len(sent(telegram_api, user)) == 4)
    assert "您的意见已转达" in sent(telegram_api, user)[3]["text"]
    [rating] = await ratings_of(pool, "telegram", str(user))
    assert rating["comment"] == comment

    # Later questions are answered as usual, not taken for comments.
    await telegram(bot, said(user, "你们礼拜天营业到几点？"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 5)
    again = sent(telegram_api, user)[4]["text"]
    assert "3:00 pm" in again and sent(telegram_api, user)[0]["text"].endswith(again)


async def test_a_second_conversation_within_a_week_is_not_asked(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    pool = bot.services.storage.pool
    user = next(_users)
    await telegram(bot, said(user, "Do you deliver?"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    await ask_ratings(bot)
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    assert "How did we do?" in sent(telegram_api, user)[1]["text"]
    # A day's silence ends a conversation; the next message starts another.
    await pool.execute(
        "UPDATE conversations SET closed_at = now() WHERE id = $1",
        (await ratings_of(pool, "telegram", str(user)))[0]["conversation_id"],
    )
    await telegram(bot, said(user, "What time do you open on Saturday?"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 3)
    await ask_ratings(bot)
    await settle(0.5)
    assert len(sent(telegram_api, user)) == 3
    first, second = await ratings_of(pool, "telegram", str(user))
    assert first["asked_at"] is not None and first["question_id"] is not None
    # Claimed as ended (a resolution) but not asked.
    assert second["asked_at"] is None and second["question_id"] is None
    assert second["conversation_id"] != first["conversation_id"]
    # A bare number in the new conversation is a message again, not a score.
    await telegram(bot, said(user, "3"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 4)
    assert "Thank you for your rating" not in sent(telegram_api, user)[3]["text"]
    assert [r["score"] for r in await ratings_of(pool, "telegram", str(user))] == [None, None]


async def test_whatsapp_5_as_a_number_is_kept_shown_exported_and_erased(
    bot: Runtime, twilio_api: FakeTwilioApi, services: Services
) -> None:
    pool = services.storage.pool
    customer = f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"
    fives = counted(bot, "bot_ratings_total", score="5")
    await whatsapp(bot, twilio_api, customer, "Do you deliver?")
    await wait_for(lambda: len(to_customer(twilio_api, customer)) == 1)
    await ask_ratings(bot)
    await wait_for(lambda: len(to_customer(twilio_api, customer)) == 2)
    question = to_customer(twilio_api, customer)[1]
    assert question.startswith("How did we do?")
    assert "1. ⭐ Very poor" in question and "5. ⭐⭐⭐⭐⭐ Excellent" in question

    await whatsapp(bot, twilio_api, customer, "5")
    await wait_for(lambda: len(to_customer(twilio_api, customer)) == 3)
    assert to_customer(twilio_api, customer)[2].startswith("Thank you for your rating!")
    [rating] = await ratings_of(pool, "whatsapp", customer)
    assert rating["score"] == 5
    assert counted(bot, "bot_ratings_total", score="5") == fives + 1

    await whatsapp(bot, twilio_api, customer, "/mydata")
    await wait_for(lambda: len(to_customer(twilio_api, customer)) == 4)
    day = rating["rated_at"].astimezone(services.settings.zone).date().isoformat()
    assert f"• Ratings: 5/5 on {day}" in to_customer(twilio_api, customer)[3]

    contact = rating["contact_id"]
    [person] = await services.rights.find_people([Identity("whatsapp", customer)])
    assert person.contact_id == contact
    exported = await services.rights.export(person, "staff")
    [row] = exported["ratings"]
    assert row["score"] == 5 and row["channel"] == "whatsapp" and row["asked_at"]

    await services.rights.erase(contact, "staff")
    assert await pool.fetchval("SELECT count(*) FROM ratings WHERE contact_id = $1", contact) == 0


async def test_never_during_human_mode_and_asked_once_staff_resolve_it(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    pool = bot.services.storage.pool
    user = next(_users)
    handoffs = counted(bot, "bot_handoffs_total", reason="asked_for_human")
    by_staff = counted(bot, "bot_resolutions_total", by="staff")
    await telegram(bot, said(user, "Do you deliver?"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    await telegram(bot, said(user, "I want to talk to a person"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    assert counted(bot, "bot_handoffs_total", reason="asked_for_human") == handoffs + 1
    token = await pool.fetchval(
        "SELECT e.token FROM escalations e JOIN conversations c ON c.id = e.conversation_id"
        " JOIN channel_identities ci ON ci.contact_id = c.contact_id"
        " WHERE ci.channel = 'telegram' AND ci.external_id = $1",
        str(user),
    )

    async def staff(text: str) -> None:
        await bot.queue.enqueue(
            InboundMessage(
                channel=ChannelName.STAFF,
                external_user_id="owner@example.test",
                provider_message_id=f"<{uuid.uuid4().hex}@example.test>",
                text=text,
                received_at=datetime.now(UTC),
                thread_ref=token,
            )
        )

    await ask_ratings(bot)  # handed over, waiting for staff
    await staff("Hi, Amy here. Yes we deliver islandwide.")
    await wait_for(lambda: len(sent(telegram_api, user)) == 3)
    await ask_ratings(bot)  # a person has the conversation
    await settle(0.5)
    assert len(sent(telegram_api, user)) == 3
    assert await ratings_of(pool, "telegram", str(user)) == []

    await staff("Glad to help, bye! #resolve")
    await wait_for(lambda: len(sent(telegram_api, user)) == 4)
    assert counted(bot, "bot_resolutions_total", by="staff") == by_staff + 1
    await ask_ratings(bot)
    await wait_for(lambda: len(sent(telegram_api, user)) == 5)
    assert "How did we do?" in sent(telegram_api, user)[4]["text"]
    [rating] = await ratings_of(pool, "telegram", str(user))
    assert rating["ended_by"] == "staff"


async def test_email_customers_are_never_asked(bot: Runtime, services: Services) -> None:
    pool = services.storage.pool
    address = f"ratings-{uuid.uuid4().hex[:8]}@example.test"
    reply = await services.core.handle(
        InboundMessage(
            channel=ChannelName("email"),
            external_user_id=address,
            provider_message_id=f"<{uuid.uuid4().hex}@example.test>",
            text="Do you deliver?",
            received_at=datetime.now(UTC),
        )
    )
    assert reply is not None and reply.source_entry_ids
    await ask_ratings(bot)
    [rating] = await ratings_of(pool, "email", address)
    assert rating["ended_by"] == "bot"  # resolved by the bot, and that is all
    assert rating["asked_at"] is None and rating["question_id"] is None
    questions = await pool.fetchval(
        "SELECT count(*) FROM messages WHERE conversation_id = $1 AND reason = 'rating_request'",
        rating["conversation_id"],
    )
    assert questions == 0


async def test_a_web_chat_visitor_picks_a_rating_button(bot: Runtime) -> None:
    assert bot.port is not None
    async with chat_socket(bot.port) as browser:
        await browser.hello()
        await browser.say("What time do you open on Saturday?")
        await browser.bot_says("8:00 am")
        await ask_ratings(bot)
        question = await browser.bot_says("How did we do?")
        assert [c["entry_id"] for c in question["choices"]] == [f"rating:{n}" for n in range(1, 6)]
        await browser.say(question["choices"][2]["label"], choice="rating:3")
        await browser.bot_says("Thank you for your rating!")
    score = await bot.services.storage.pool.fetchval(
        "SELECT score FROM ratings WHERE channel = 'webchat' AND asked_at IS NOT NULL"
        " ORDER BY id DESC LIMIT 1"
    )
    assert score == 3


async def test_retention_removes_ratings_older_than_the_cutoff(
    bot: Runtime, telegram_api: FakeTelegramAPI, services: Services
) -> None:
    pool = services.storage.pool
    user = next(_users)
    await telegram(bot, said(user, "Do you deliver?"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    await ask_ratings(bot)
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    await telegram(bot, said(user, "2"))
    await wait_for(lambda: len(sent(telegram_api, user)) == 3)
    [rating] = await ratings_of(pool, "telegram", str(user))
    assert rating["score"] == 2
    # The conversation stays (the customer kept writing), but its rating is past retention.
    long_ago = datetime.now(UTC) - timedelta(days=services.settings.retention_days + 1)
    await pool.execute("UPDATE ratings SET ended_at = $2 WHERE id = $1", rating["id"], long_ago)
    result = await services.rights.apply_retention(datetime.now(UTC))
    assert result.counts["ratings"] >= 1
    assert await ratings_of(pool, "telegram", str(user)) == []
    assert await pool.fetchval(
        "SELECT count(*) FROM conversations WHERE id = $1", rating["conversation_id"]
    )


async def test_every_process_runs_the_job_and_each_customer_is_asked_once(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    users = [next(_users) for _ in range(3)]
    for user in users:
        await telegram(bot, said(user, "Do you deliver?"))
    await wait_for(lambda: all(len(sent(telegram_api, user)) == 1 for user in users))
    later = datetime.now(UTC) + QUIET
    await asyncio.gather(*(job(bot).run(now=later) for _ in range(4)))
    await wait_for(lambda: all(len(sent(telegram_api, user)) == 2 for user in users))
    await asyncio.gather(*(job(bot).run(now=later) for _ in range(4)))
    await settle(0.5)
    assert [len(sent(telegram_api, user)) for user in users] == [2, 2, 2]
    for user in users:
        [rating] = await ratings_of(bot.services.storage.pool, "telegram", str(user))
        assert rating["question_id"] is not None
