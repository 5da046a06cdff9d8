"""WhatsApp end to end: signed webhook -> queue -> worker -> core -> Twilio REST (a local fake)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.runtime import Runtime
from bot.services import Services
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.providers.twilio_api import FakeTwilioApi

SENDER = "whatsapp:+6560001234"


@pytest.fixture
async def bot(services: Services, twilio_api: FakeTwilioApi) -> AsyncIterator[Runtime]:
    async with running_bot(
        services,
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=SecretStr(twilio_api.auth_token),
        twilio_whatsapp_from=SENDER,
        twilio_api_url=twilio_api.base_url,
    ) as runtime:
        yield runtime


def inbound(text: str, customer: str | None = None, sid: str | None = None) -> dict[str, str]:
    customer = customer or f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"
    return {
        "SmsMessageSid": sid or f"SM{uuid.uuid4().hex}",
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": customer,
        "To": SENDER,
        "Body": text,
        "NumMedia": "0",
        "ProfileName": "Aisyah",
        "WaId": customer.removeprefix("whatsapp:+"),
    }


async def post(
    runtime: Runtime, path: str, form: dict[str, str], token: str, signature: str | None = None
) -> aiohttp.ClientResponse:
    """POST a form the way Twilio does, signed for the public URL unless told otherwise."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"http://127.0.0.1:{runtime.port}{path}",
            data=form,
            headers={"X-Twilio-Signature": signature},
        )
        await response.read()
        return response


async def test_a_question_gets_one_answer_through_the_rest_api(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
) -> None:
    form = inbound("What time do you open on Saturday?")
    response = await post(bot, "/webhooks/twilio", form, twilio_api.auth_token)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    await wait_for(lambda: len(twilio_api.calls) == 1)
    call = twilio_api.calls[0].form
    assert call["To"] == form["From"] and call["From"] == SENDER
    assert "8:00" in call["Body"] or "8 am" in call["Body"].lower()
    assert call["StatusCallback"] == PUBLIC_URL + "/webhooks/twilio/status"


async def test_the_same_webhook_three_times_gets_one_reply(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
) -> None:
    form = inbound("Do you deliver?")
    for _ in range(3):
        response = await post(bot, "/webhooks/twilio", form, twilio_api.auth_token)
        assert response.status == 200
    await wait_for(lambda: len(twilio_api.calls) >= 1)
    await settle()
    assert len(twilio_api.calls) == 1


async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_sent(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
) -> None:
    form = inbound("hello")
    wrong = await post(bot, "/webhooks/twilio", form, twilio_api.auth_token, signature="bm9wZQ==")
    assert wrong.status == 403
    # Signed for another URL: what a proxy misconfiguration looks like.
    other = RequestValidator(twilio_api.auth_token).compute_signature(
        "http://127.0.0.1/webhooks/twilio", form
    )
    proxied = await post(bot, "/webhooks/twilio", form, twilio_api.auth_token, signature=other)
    assert proxied.status == 403
    await settle(0.5)
    assert twilio_api.calls == []


async def test_a_malformed_webhook_gets_a_clear_400(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
) -> None:
    form = {"Body": "no sender or sid"}
    response = await post(bot, "/webhooks/twilio", form, twilio_api.auth_token)
    assert response.status == 400


async def test_a_photo_gets_a_polite_text_only_reply(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
) -> None:
    form = inbound("")
    form.update({"NumMedia": "1", "MediaContentType0": "image/jpeg", "MediaUrl0": "https://x/1"})
    await post(bot, "/webhooks/twilio", form, twilio_api.auth_token)
    await wait_for(lambda: len(twilio_api.calls) == 1)
    assert "text" in twilio_api.calls[0].form["Body"].lower()


async def test_status_callbacks_update_the_delivery_without_going_backwards(
    bot: Runtime,
    twilio_api: FakeTwilioApi,
    services: Services,
) -> None:
    await post(bot, "/webhooks/twilio", inbound("Are you halal?"), twilio_api.auth_token)
    await wait_for(lambda: len(twilio_api.calls) == 1)
    pool = services.storage.pool
    sid = await _sid_of_last_reply(twilio_api)
    await wait_for_row(pool, sid)
    path = "/webhooks/twilio/status"
    for status in ("delivered", "sent", "read"):  # "sent" arrives late and must not win
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
        response = await post(bot, path, form, twilio_api.auth_token)
        assert response.status == 204
    row = await pool.fetchrow("SELECT status FROM deliveries WHERE provider_message_id = $1", sid)
    assert row is not None and row["status"] == "read"
    failed = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "63016"}
    await post(bot, path, failed, twilio_api.auth_token)
    row = await pool.fetchrow(
        "SELECT status, error_code FROM deliveries WHERE provider_message_id = $1", sid
    )
    assert row is not None and (row["status"], row["error_code"]) == ("failed", "63016")


async def _sid_of_last_reply(api: FakeTwilioApi) -> str:
    return str(api.accepted[-1]["sid"])


async def wait_for_row(pool: object, sid: str) -> None:
    import asyncpg

    assert isinstance(pool, asyncpg.Pool)
    for _ in range(200):
        if await pool.fetchval("SELECT 1 FROM deliveries WHERE provider_message_id = $1", sid):
            return
        await settle(0.02)
    raise AssertionError("the reply's delivery row never appeared")


async def test_a_flood_gets_one_notice_and_other_customers_are_answered_as_usual(
    services: Services, twilio_api: FakeTwilioApi
) -> None:
    async with running_bot(
        services,
        twilio_account_sid=twilio_api.account_sid,
        twilio_auth_token=SecretStr(twilio_api.auth_token),
        twilio_whatsapp_from=SENDER,
        twilio_api_url=twilio_api.base_url,
        flood_limit=3,
        flood_window_seconds=60,
    ) as runtime:
        spammer = f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"
        for n in range(12):
            await post(
                runtime, "/webhooks/twilio", inbound(f"spam {n}", spammer), twilio_api.auth_token
            )
        other = inbound("What time do you open on Saturday?")
        await post(runtime, "/webhooks/twilio", other, twilio_api.auth_token)
        await wait_for(lambda: any(c.form["To"] == other["From"] for c in twilio_api.calls))
        await wait_for(lambda: len([c for c in twilio_api.calls if c.form["To"] == spammer]) == 4)
        await settle(1.0)
    to_spammer = [c.form["Body"] for c in twilio_api.calls if c.form["To"] == spammer]
    assert len(to_spammer) == 4  # three answers, then one notice, then nothing
    assert to_spammer[-1].startswith("You're sending messages very quickly")
