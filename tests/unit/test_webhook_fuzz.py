"""No input makes a webhook answer 5xx or raise: fuzzed Telegram updates and Twilio forms."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.metrics import Metrics
from bot.queue.ingress import Ingress
from channels.telegram.updates import webhook_secret
from channels.telegram.webhook import TELEGRAM_PATH, TelegramWebhook, telegram_routes
from channels.whatsapp.webhook import (
    TWILIO_PATH,
    TWILIO_STATUS_PATH,
    TwilioWebhook,
    twilio_routes,
)
from tests.unit.recording_queue import AcceptingOutbox, RecordingQueue

TOKEN = "1:fuzz"
AUTH = "fuzz-auth"
PUBLIC = "https://bot.example.test"


def _app(queue: RecordingQueue | None = None) -> web.Application:
    metrics = Metrics()
    ingress = Ingress(queue or RecordingQueue(), AcceptingOutbox(), metrics)  # type: ignore[arg-type]
    app = web.Application()
    app.add_routes(telegram_routes(TelegramWebhook(webhook_secret(TOKEN), "Bot", 1), ingress))
    app.add_routes(twilio_routes(TwilioWebhook(AUTH, PUBLIC), ingress))
    return app


_scalars = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.floats(allow_nan=False)
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    ["message", "edited_message", "callback_query", "channel_post", "my_chat_member", "chat",
     "from", "text", "date", "message_id", "id", "photo", "entities", "data", "reply_to_message"]
)  # fmt: skip
_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=0, max_value=2**31)},
    optional={"message": st.dictionaries(_keys, _json, max_size=8)},
) | st.dictionaries(_keys, _json, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(update=_updates)
async def test_any_telegram_body_gets_a_clear_status(update: dict[str, Any]) -> None:
    async with TestClient(TestServer(_app())) as client:
        response = await client.post(
            TELEGRAM_PATH,
            data=json.dumps(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status in (200, 400), await response.text()


_content_keys = st.sampled_from(
    ["text", "caption", "entities", "caption_entities", "photo", "sticker", "poll", "document",
     "voice", "location", "contact", "venue", "reply_to_message", "new_chat_members"]
)  # fmt: skip
_user = st.fixed_dictionaries(
    {"id": st.integers(1, 2**40), "is_bot": st.just(False), "first_name": st.text() | _scalars}
)
# Past the envelope checks (ids, date, chat, a person), so what the library cannot read is
# reached, and so is what it reads but with a type the API never sends.
_messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(min_value=1, max_value=2**31),
        "date": st.integers(min_value=0, max_value=2**40),
        "chat": st.fixed_dictionaries({"id": st.integers(1, 2**40), "type": st.just("private")}),
        "from": _user,
    }
).flatmap(
    lambda skeleton: st.dictionaries(_content_keys, st.text() | _json, max_size=3).map(
        skeleton.__or__
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=_messages)
async def test_a_message_past_the_envelope_is_queued_as_text_or_kept_aside(
    message: dict[str, Any],
) -> None:
    queue = RecordingQueue()
    async with TestClient(TestServer(_app(queue))) as client:
        response = await client.post(
            TELEGRAM_PATH,
            data=json.dumps({"update_id": 1, "message": message}),
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 200, await response.text()
    assert all(isinstance(m.text, str) for m in queue.messages)
    assert all(reason.startswith("unreadable message: ") for _, reason in queue.aside)


async def test_json_nested_past_the_decoder_gets_400() -> None:
    async with TestClient(TestServer(_app())) as client:
        response = await client.post(
            TELEGRAM_PATH,
            data="[" * 100_000,
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 400
        assert "not a Telegram update" in (await response.json())["error"]


async def test_an_update_the_library_cannot_read_is_answered_200_and_kept_aside() -> None:
    queue = RecordingQueue()
    chat = {"id": 48213377, "type": "private", "first_name": "Mei"}
    # A forward's origin naming no user: nothing can stand in for the person it names.
    body = {"message_id": 9, "date": 1500000000, "chat": chat, "from": chat, "text": "Hi"}
    body["forward_origin"] = {"type": "user", "date": 1499999999}
    async with TestClient(TestServer(_app(queue))) as client:
        response = await client.post(
            TELEGRAM_PATH,
            json={"update_id": 77, "message": body},
            headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)},
        )
        assert response.status == 200
    [(raw, reason)] = queue.aside
    assert reason.startswith("unreadable message: TypeError") and "sender_user" in reason
    assert json.loads(raw)["update_id"] == 77 and queue.messages == []


async def test_an_older_twilio_form_with_only_sms_sid_is_queued() -> None:
    queue = RecordingQueue()
    form = {"SmsSid": "SM" + "5" * 32, "From": "whatsapp:+6591234567", "Body": "Open today?"}
    signature = RequestValidator(AUTH).compute_signature(PUBLIC + TWILIO_PATH, form)
    async with TestClient(TestServer(_app(queue))) as client:
        response = await client.post(
            TWILIO_PATH, data=form, headers={"X-Twilio-Signature": signature}
        )
        assert response.status == 200
    [message] = queue.messages
    assert message.provider_message_id == "SM" + "5" * 32 and message.text == "Open today?"


_form_keys = st.sampled_from(
    ["MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "MediaContentType0",
     "Latitude", "Longitude", "ButtonPayload", "ButtonText", "ProfileName", "MessageStatus",
     "ErrorCode", "SmsStatus", "SmsSid"]
)  # fmt: skip
_forms = st.dictionaries(_form_keys, st.text(max_size=30), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=_forms, path=st.sampled_from([TWILIO_PATH, TWILIO_STATUS_PATH]))
async def test_any_signed_twilio_form_gets_a_clear_status(form: dict[str, str], path: str) -> None:
    signature = RequestValidator(AUTH).compute_signature(PUBLIC + path, form)
    async with TestClient(TestServer(_app())) as client:
        response = await client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status in (200, 204, 400), await response.text()
