"""Telegram end to end through the real server and workers, against a local Bot API fake."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.queue.inbound import DEAD_LETTERS
from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import ALLOWED_UPDATES, webhook_secret
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.providers.telegram_api import BOT_USER, TOKEN, FakeTelegramAPI

_ids = itertools.count(1)
_users = itertools.count(700_000_001)


@pytest.fixture
async def bot(services: Services, telegram_api: FakeTelegramAPI) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_url=telegram_api.base_url,
    ) as runtime:
        yield runtime


def text_update(text: str, user: int | None = None, **message: Any) -> dict[str, Any]:
    """A private-chat text message as Telegram sends it."""
    user = user or next(_users)
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Wei"},
            "from": {"id": user, "is_bot": False, "first_name": "Wei", "language_code": "en"},
            "text": text,
            **({"entities": entities} if entities else {}),
            **message,
        },
    }


async def post(
    runtime: Runtime, update: Any, secret: str | None = webhook_secret(TOKEN)
) -> aiohttp.ClientResponse:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = update if isinstance(update, bytes) else None
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{runtime.port}/webhooks/telegram"
        if body is not None:
            response = await session.post(url, data=body, headers=headers)
        else:
            response = await session.post(url, json=update, headers=headers)
        await response.read()
        return response


def sent(api: FakeTelegramAPI, chat: int | None = None) -> list[dict[str, Any]]:
    calls = [c.params for c in api.calls_to("sendMessage")]
    return [p for p in calls if chat is None or p["chat_id"] == chat]


async def test_start_registers_the_webhook_with_a_secret(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    [call] = telegram_api.calls_to("setWebhook")
    assert call.params["url"] == PUBLIC_URL + "/webhooks/telegram"
    assert call.params["secret_token"] == webhook_secret(TOKEN)
    assert call.params["allowed_updates"] == ALLOWED_UPDATES
    assert any("webhook" in line for line in bot.channels.report)


async def test_a_question_is_answered_once_even_when_delivered_three_times(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    update = text_update("What time do you open on Saturday?")
    chat = update["message"]["chat"]["id"]
    for _ in range(3):
        assert (await post(bot, update)).status == 200
    await wait_for(lambda: len(sent(telegram_api, chat)) == 1)
    await settle()
    [reply] = sent(telegram_api, chat)
    assert "8:00" in reply["text"] and reply["parse_mode"] == "HTML"


async def test_missing_or_wrong_secret_is_refused_and_nothing_happens(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    update = text_update("hello")
    assert (await post(bot, update, secret=None)).status == 401
    assert (await post(bot, update, secret="guess")).status == 401
    await settle(0.5)
    assert sent(telegram_api) == []


async def test_malformed_bodies_get_400(bot: Runtime) -> None:
    assert (await post(bot, b"{not json")).status == 400
    assert (await post(bot, {"no": "update_id"})).status == 400


async def test_an_update_the_library_cannot_read_is_answered_200_and_kept_aside(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    update = text_update("Forwarded: do you deliver?")
    update["message"]["forward_origin"] = {"type": "user", "date": 1500000000}  # no sender_user
    redis = bot.services.storage.redis
    before = await redis.xlen(DEAD_LETTERS)
    assert (await post(bot, update)).status == 200  # so Telegram neither retries nor slows down
    [(_, aside)] = await redis.xrevrange(DEAD_LETTERS, count=1)
    assert await redis.xlen(DEAD_LETTERS) == before + 1
    assert aside[b"reason"].startswith(b"unreadable message: TypeError")
    assert b"Forwarded: do you deliver?" in aside[b"m"]
    await settle(0.5)
    assert sent(telegram_api, update["message"]["chat"]["id"]) == []


async def test_commands_greet_help_and_hand_over_to_a_person(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    user = next(_users)
    await post(bot, text_update("/start", user))
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    await post(bot, text_update("/human", user))
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    greeting, handoff = (m["text"] for m in sent(telegram_api, user))
    assert "welcome" in greeting.lower()
    assert "team" in handoff.lower()


async def test_media_gets_a_polite_reply_and_never_an_error(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    user = next(_users)
    photo = text_update("", user)
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}
    ]
    sticker = text_update("", user)
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "CAAD",
        "file_unique_id": "AgAD",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    for update in (photo, sticker):
        assert (await post(bot, update)).status == 200
    await wait_for(lambda: len(sent(telegram_api, user)) == 2)
    assert all("text" in m["text"].lower() for m in sent(telegram_api, user))


async def test_ignored_updates_are_acknowledged_counted_and_not_answered(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    edited = text_update("changed my mind")
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = int(time.time())
    channel_post = {
        "update_id": next(_ids),
        "channel_post": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": -1001, "type": "channel", "title": "News"},
            "text": "Sale!",
        },
    }
    group = text_update("anyone here?")
    group["message"]["chat"] = {"id": -4242, "type": "group", "title": "Neighbours"}
    for update in (edited, channel_post, group):
        assert (await post(bot, update)).status == 200
    await settle(0.5)
    assert sent(telegram_api) == []
    metrics = await _get(bot, "/metrics")
    assert 'bot_updates_ignored_total{channel="telegram",reason="edited"} 1.0' in metrics
    assert 'reason="channel_post"' in metrics and 'reason="group_not_addressed"' in metrics


async def test_a_group_mention_is_answered_as_a_reply_in_the_group(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    mention = f"@{BOT_USER['username']}"
    update = text_update(f"{mention} do you sell gift cards?")
    update["message"]["chat"] = {"id": -5151, "type": "supergroup", "title": "Tiong Bahru"}
    update["message"]["entities"] = [{"type": "mention", "offset": 0, "length": len(mention)}]
    await post(bot, update)
    await wait_for(lambda: len(sent(telegram_api, -5151)) == 1)
    [reply] = sent(telegram_api, -5151)
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_a_pressed_button_answers_that_entry_and_stops_the_spinner(
    bot: Runtime, telegram_api: FakeTelegramAPI, services: Services
) -> None:
    label = "What are your Sunday opening hours?"
    ranking = await services.retriever.retrieve(label)
    assert ranking.top is not None
    entry = ranking.top.entry_id
    user = next(_users)
    update = {
        "update_id": next(_ids),
        "callback_query": {
            "id": "cbq-1",
            "chat_instance": "42",
            "from": {"id": user, "is_bot": False, "first_name": "Wei"},
            "data": entry,
            "message": {
                "message_id": 77,
                "date": int(time.time()),
                "chat": {"id": user, "type": "private", "first_name": "Wei"},
                "text": "Did you mean:",
                "reply_markup": {"inline_keyboard": [[{"text": label, "callback_data": entry}]]},
            },
        },
    }
    await post(bot, update)
    await wait_for(lambda: len(sent(telegram_api, user)) == 1)
    assert telegram_api.calls_to("answerCallbackQuery")[0].params["callback_query_id"] == "cbq-1"
    assert (
        "15:00" in sent(telegram_api, user)[0]["text"] or "3" in sent(telegram_api, user)[0]["text"]
    )


async def test_a_429_is_retried_after_the_time_telegram_asks_for(
    bot: Runtime, telegram_api: FakeTelegramAPI
) -> None:
    telegram_api.fail_next("sendMessage", status=429, retry_after=1)
    update = text_update("Do you have gluten-free bread?")
    chat = update["message"]["chat"]["id"]
    started = time.monotonic()
    await post(bot, update)
    await wait_for(lambda: len(sent(telegram_api, chat)) == 2)
    assert time.monotonic() - started >= 1.0
    await settle(0.5)
    assert len(sent(telegram_api, chat)) == 2  # one refused, one delivered; no third


async def test_health_readiness_and_metrics(bot: Runtime, telegram_api: FakeTelegramAPI) -> None:
    assert '"alive"' in await _get(bot, "/healthz")
    ready = await _get(bot, "/readyz")
    assert '"ready"' in ready and '"postgresql": "ok"' in ready and '"qdrant": "ok"' in ready
    await post(bot, text_update("Where are you?"))
    await wait_for(lambda: len(sent(telegram_api)) == 1)
    # The metrics are counted right after the provider answers: wait for that moment.
    sent_metric = bot.metrics.sent.labels("telegram")
    await wait_for(lambda: sent_metric._value.get() == 1.0)
    metrics = await _get(bot, "/metrics")
    assert "\nbot_queue_depth " in metrics, metrics
    assert 'bot_end_to_end_seconds_bucket{channel="telegram",le="+Inf"} 1.0' in metrics
    assert 'bot_messages_sent_total{channel="telegram"} 1.0' in metrics


async def _get(runtime: Runtime, path: str) -> str:
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"http://127.0.0.1:{runtime.port}{path}")
        assert response.status == 200, path
        return await response.text()


async def test_polling_answers_and_resumes_from_the_stored_offset(
    services: Services, telegram_api: FakeTelegramAPI
) -> None:
    settings = {
        "telegram_bot_token": SecretStr(TOKEN),
        "telegram_api_url": telegram_api.base_url,
        "public_base_url": None,
    }
    first, second = text_update("Do you deliver?"), text_update("Are you open on Monday?")
    telegram_api.push_update(first)
    telegram_api.push_update(second)
    async with running_bot(services, **settings) as runtime:
        assert any("long polling" in line for line in runtime.channels.report)
        await wait_for(lambda: len(sent(telegram_api)) == 2)
    third = text_update("Thanks!")
    telegram_api.push_update(third)
    before = len(telegram_api.calls_to("getUpdates"))
    async with running_bot(services, **settings):
        await wait_for(lambda: len(sent(telegram_api)) == 3)
        await settle()
    resumed = telegram_api.calls_to("getUpdates")[before]
    assert resumed.params["offset"] == second["update_id"] + 1
    assert len(sent(telegram_api)) == 3


async def test_a_send_that_finally_fails_is_recorded_logged_and_counted(
    bot: Runtime, telegram_api: FakeTelegramAPI, services: Services
) -> None:
    telegram_api.fail_next("sendMessage", status=403)  # the customer blocked the bot
    update = text_update("Do you sell kaya toast?")
    chat = update["message"]["chat"]["id"]
    await post(bot, update)
    await wait_for(lambda: len(sent(telegram_api, chat)) == 1)
    pool = services.storage.pool

    async def outcome() -> tuple[str, str] | None:
        row = await pool.fetchrow(
            "SELECT o.delivery_status, o.delivery_error FROM messages o"
            " JOIN messages i ON o.in_reply_to = i.id WHERE i.provider_message_id = $1",
            f"{chat}:{update['message']['message_id']}",
        )
        return (row["delivery_status"], row["delivery_error"]) if row else None

    for _ in range(100):
        recorded = await outcome()
        if recorded and recorded[0] == "failed":
            break
        await settle(0.05)
    assert recorded is not None and recorded[0] == "failed"
    assert "blocked" in recorded[1]
    metrics = await _get(bot, "/metrics")
    assert 'bot_send_failures_total{channel="telegram"} 1.0' in metrics
    await settle(0.5)
    assert len(sent(telegram_api, chat)) == 1  # not retried: it cannot succeed
