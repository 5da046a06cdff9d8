"""No input makes a webhook answer 5xx or raise: fuzzed Telegram updates and Twilio forms."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from bot.ingress import Ingress
from bot.metrics import Metrics
from bot.webhooks import (
    TELEGRAM_PATH,
    TWILIO_PATH,
    TWILIO_STATUS_PATH,
    TelegramWebhook,
    TwilioWebhook,
    telegram_routes,
    twilio_routes,
)
from channels.telegram import webhook_secret
from core.messages import InboundMessage

TOKEN = "1:fuzz"
AUTH = "fuzz-auth"
PUBLIC = "https://bot.example.test"


class _Queue:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    async def enqueue(self, message: InboundMessage) -> str:
        self.messages.append(message)
        return "1-0"


class _Outbox:
    async def record_status(self, *args: object) -> bool:
        return True


def _app() -> web.Application:
    metrics = Metrics()
    ingress = Ingress(_Queue(), _Outbox(), metrics)  # type: ignore[arg-type]
    app = web.Application()
    app.add_routes(
        telegram_routes(TelegramWebhook(webhook_secret(TOKEN), "Bot", 1), ingress, metrics)
    )
    app.add_routes(twilio_routes(TwilioWebhook(AUTH, PUBLIC), ingress, metrics))
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


_form_keys = st.sampled_from(
    ["MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "MediaContentType0",
     "Latitude", "Longitude", "ButtonPayload", "ButtonText", "ProfileName", "MessageStatus",
     "ErrorCode", "SmsStatus"]
)  # fmt: skip
_forms = st.dictionaries(_form_keys, st.text(max_size=30), max_size=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=_forms, path=st.sampled_from([TWILIO_PATH, TWILIO_STATUS_PATH]))
async def test_any_signed_twilio_form_gets_a_clear_status(form: dict[str, str], path: str) -> None:
    signature = RequestValidator(AUTH).compute_signature(PUBLIC + path, form)
    async with TestClient(TestServer(_app())) as client:
        response = await client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status in (200, 204, 400), await response.text()
