"""TelegramSender with PTB's real async Bot against the fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot
from telegram.error import Conflict

from channels.base import ChannelSender, SendError
from channels.telegram.sending import TelegramSender
from channels.telegram.updates import ALLOWED_UPDATES, parse_update
from core.messages import ChannelName, Choice, InboundMessage
from tests.providers.telegram_api import FakeTelegramAPI


@pytest.fixture
async def bot(telegram_api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(telegram_api.token, base_url=telegram_api.base_url) as running:
        yield running


@pytest.fixture
def sender(bot: Bot) -> TelegramSender:
    return TelegramSender(bot, per_chat_interval=0.01)


def paragraph(n: int) -> str:
    return (f"Paragraph {n}: cakes <b>&</b> buns. " * 100)[:2999]


async def test_is_a_channel_sender(sender: TelegramSender) -> None:
    typed: ChannelSender = sender
    assert typed.channel == ChannelName("telegram")


async def test_short_reply(telegram_api: FakeTelegramAPI, sender: TelegramSender) -> None:
    ids = await sender.send("48213377", "We open at 8am, see you!", ())
    (call,) = telegram_api.calls_to("sendMessage")
    assert call.params["chat_id"] == 48213377
    assert call.params["text"] == "We open at 8am, see you!"
    assert call.params["parse_mode"] == "HTML"
    assert "reply_markup" not in call.params
    assert "reply_parameters" not in call.params
    assert ids == ["48213377:5001"]
    assert [c.method for c in telegram_api.calls] == ["getMe", "sendMessage"]


async def test_group_reply_quotes_the_question(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    ids = await sender.send("-1001876543210/2201", "We open at 8am.", ())
    (call,) = telegram_api.calls_to("sendMessage")
    assert call.params["chat_id"] == -1001876543210
    assert call.params["reply_parameters"] == {
        "message_id": 2201,
        "allow_sending_without_reply": True,
    }
    assert ids == ["-1001876543210:5001"]


async def test_long_reply_is_split_on_paragraphs_and_escaped(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    text = "\n\n".join(paragraph(n) for n in (1, 2, 3))
    assert len(text) == 9001
    ids = await sender.send("48213377", text, ())
    calls = telegram_api.calls_to("sendMessage")
    assert len(ids) == len(calls) == 3
    for n, call in enumerate(calls, start=1):
        sent = call.params["text"]
        assert sent.startswith(f"Paragraph {n}: cakes &lt;b&gt;&amp;&lt;/b&gt; buns.")
        assert "<" not in sent and "& " not in sent
        assert sent == paragraph(n).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert len(set(ids)) == 3


async def test_choices_go_on_the_last_part_only(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    choices = (
        Choice("Delivery areas", "faq-delivery-areas"),
        Choice("A very long label " * 6, "faq-opening-hours"),
    )
    await sender.send("48213377", f"{paragraph(1)}\n\n{paragraph(2)}", choices)
    first, last = telegram_api.calls_to("sendMessage")
    assert "reply_markup" not in first.params
    assert last.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Delivery areas", "callback_data": "faq-delivery-areas"}],
            [{"text": ("A very long label " * 6)[:64], "callback_data": "faq-opening-hours"}],
        ]
    }


# PTB 22.8's RetryAfter.__init__ reads its own deprecated int `retry_after`, which warns unless
# PTB_TIMEDELTA=1 (then it is a timedelta). Both shapes must give retry_after=2.0.
INT_RETRY_AFTER = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.mark.parametrize(
    ("status", "retryable", "retry_after", "timedelta_mode"),
    [
        pytest.param(429, True, 2.0, False, marks=INT_RETRY_AFTER, id="429-int"),
        pytest.param(429, True, 2.0, True, id="429-timedelta"),
        (500, True, None, False),
        (502, True, None, False),
        (403, False, None, False),
        (400, False, None, False),
        (401, False, None, False),
    ],
)
async def test_errors_map_to_send_error(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    retryable: bool,
    retry_after: float | None,
    timedelta_mode: bool,
) -> None:
    if timedelta_mode:
        monkeypatch.setenv("PTB_TIMEDELTA", "1")
    telegram_api.fail_next("sendMessage", status=status, retry_after=2 if retry_after else None)
    with pytest.raises(SendError) as caught:
        await sender.send("48213377", "Hello", ())
    assert caught.value.retryable is retryable
    assert caught.value.retry_after == retry_after
    assert "part" not in caught.value.reason


async def test_failure_after_a_part_went_out_is_final(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    telegram_api.fail_next("sendMessage", status=500, skip=1)
    with pytest.raises(SendError) as caught:
        await sender.send("48213377", "\n\n".join(paragraph(n) for n in (1, 2, 3)), ())
    assert caught.value.retryable is False
    assert "after 1 of 3 parts were sent" in caught.value.reason
    assert len(telegram_api.calls_to("sendMessage")) == 2


async def test_empty_and_bad_addresses_are_not_retryable(sender: TelegramSender) -> None:
    with pytest.raises(SendError) as empty:
        await sender.send("48213377", "  ", ())
    with pytest.raises(SendError) as bad:
        await sender.send("not-a-chat", "Hello", ())
    assert (empty.value.retryable, bad.value.retryable) == (False, False)


def callback(provider_message_id: str) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id="48213377",
        provider_message_id=provider_message_id,
        text="Opening hours",
        received_at=datetime.now(UTC),
        choice_entry_id="faq-opening-hours",
    )


async def test_acknowledge_answers_callback_queries_only(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    await sender.acknowledge(callback("48213377:101"))
    await sender.acknowledge(callback("cb:4382bfdwdsb323b2d9"))
    (call,) = telegram_api.calls_to("answerCallbackQuery")
    assert call.params == {"callback_query_id": "4382bfdwdsb323b2d9"}


async def test_acknowledge_swallows_telegram_errors(
    telegram_api: FakeTelegramAPI,
    sender: TelegramSender,
) -> None:
    telegram_api.fail_next("answerCallbackQuery", status=400)
    await sender.acknowledge(callback("cb:4382bfdwdsb323b2d9"))
    assert len(telegram_api.calls_to("answerCallbackQuery")) == 1


async def test_fake_server_webhook_and_polling(
    telegram_api: FakeTelegramAPI,
    bot: Bot,
) -> None:
    assert await bot.set_webhook("https://bot.example.sg/telegram", secret_token="s3cret")
    assert telegram_api.calls_to("setWebhook")[0].params["secret_token"] == "s3cret"
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    first = telegram_api.push_update(UPDATE)
    second = telegram_api.push_update(UPDATE)
    updates = await bot.get_updates(timeout=0, allowed_updates=ALLOWED_UPDATES)
    assert [u.update_id for u in updates] == [first, second]
    parsed = parse_update(updates[0].to_dict(), bot.username, bot.id)
    assert isinstance(parsed, InboundMessage)
    assert parsed.text == "Do you deliver on Sundays?"
    assert await bot.get_updates(offset=second + 1, timeout=timedelta(seconds=0.2)) == ()
    polls = [call.params for call in telegram_api.calls_to("getUpdates")]
    assert polls[1]["allowed_updates"] == ALLOWED_UPDATES
    assert polls[2]["offset"] == second + 1


UPDATE = {
    "message": {
        "message_id": 101,
        "from": {"id": 48213377, "is_bot": False, "first_name": "Mei Ling"},
        "chat": {"id": 48213377, "first_name": "Mei Ling", "type": "private"},
        "date": 1735700000,
        "text": "Do you deliver on Sundays?",
    }
}


async def test_parts_to_one_chat_are_paced(bot: Bot) -> None:
    paced = TelegramSender(bot, per_chat_interval=0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await paced.send("48213377", "\n\n".join(paragraph(n) for n in (1, 2, 3)), ())
    assert loop.time() - start >= 0.35
    start = loop.time()
    await paced.send("55102938", "Another chat is not held up.", ())
    assert loop.time() - start < 0.15
