"""Voice notes end to end: webhook -> worker -> fetched through the channel -> transcribed on a
local OpenAI-compatible server -> answered like text, the words stored in place of the audio."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.runtime import Runtime
from bot.services import Services
from channels.telegram.updates import webhook_secret
from tests.integration.bot_harness import PUBLIC_URL, running_bot, settle, wait_for
from tests.providers.openai_audio import API_KEY, FakeTranscriptions
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi
from tests.providers.twilio_media import FakeTwilioMedia

pytestmark = pytest.mark.integration

QUESTION = "What time do you open on Saturday?"
AUDIO = b"OggS\x00\x02" + bytes(range(256)) * 8
SENDER = "whatsapp:+6560001234"
_ids = itertools.count(1)
_users = itertools.count(710_000_001)


@pytest.fixture
async def openai() -> AsyncIterator[FakeTranscriptions]:
    async with FakeTranscriptions() as server:
        yield server


def voice_settings(openai: FakeTranscriptions, **more: Any) -> dict[str, Any]:
    """Settings pointing the bot at the local transcription server."""
    return {
        "openai_api_key": SecretStr(API_KEY),
        "openai_base_url": openai.base_url,
        "transcribe_timeout_seconds": 2.0,
        **more,
    }


def telegram_settings(api: FakeTelegramAPI) -> dict[str, Any]:
    return {"telegram_bot_token": SecretStr(TOKEN), "telegram_api_url": api.base_url}


def voice_update(user: int, file_id: str, seconds: int = 4) -> dict[str, Any]:
    """A private-chat voice note as Telegram sends it."""
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Wei"},
            "from": {"id": user, "is_bot": False, "first_name": "Wei"},
            "voice": {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "duration": seconds,
                "mime_type": "audio/ogg",
                "file_size": len(AUDIO),
            },
        },
    }


async def post_update(runtime: Runtime, update: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)}
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{runtime.port}/webhooks/telegram"
        async with session.post(url, json=update, headers=headers) as response:
            assert response.status == 200


def sent_to(api: FakeTelegramAPI, chat: int) -> list[str]:
    calls = api.calls_to("sendMessage")
    return [str(c.params["text"]) for c in calls if c.params["chat_id"] == chat]


async def stored_body(runtime: Runtime, channel: str, provider_id: str) -> str | None:
    body: str | None = await runtime.services.storage.pool.fetchval(
        "SELECT body FROM messages WHERE channel = $1 AND direction = 'inbound'"
        " AND provider_message_id = $2",
        channel,
        provider_id,
    )
    return body


async def one_telegram_reply(
    services: Services, api: FakeTelegramAPI, settings: dict[str, Any], seconds: int = 4
) -> tuple[str, str | None]:
    """Send one voice note through the webhook; the one reply and the stored inbound body."""
    user = next(_users)
    file_id = f"voice-{user}"
    api.files[file_id] = AUDIO
    update = voice_update(user, file_id, seconds)
    async with running_bot(services, **telegram_settings(api), **settings) as runtime:
        await post_update(runtime, update)
        await wait_for(lambda: len(sent_to(api, user)) >= 1)
        await settle(0.3)
        [reply] = sent_to(api, user)
        body = await stored_body(runtime, "telegram", f"{user}:{update['message']['message_id']}")
    return reply, body


async def test_a_telegram_voice_note_is_answered_from_its_words_which_are_stored(
    services: Services, telegram_api: FakeTelegramAPI, openai: FakeTranscriptions
) -> None:
    reply, body = await one_telegram_reply(services, telegram_api, voice_settings(openai))
    assert "8:00" in reply
    assert body == QUESTION
    [upload] = openai.uploads
    assert upload.model == "whisper-1"
    assert upload.filename == "voice.ogg" and upload.content_type == "audio/ogg"
    assert upload.audio == AUDIO
    assert len(telegram_api.calls_to("getFile")) == 1 and len(telegram_api.downloads) == 1


async def test_the_words_are_masked_like_text(
    services: Services, telegram_api: FakeTelegramAPI, openai: FakeTranscriptions
) -> None:
    openai.text = "My IC is S1234567D, what time do you open on Saturday?"
    reply, body = await one_telegram_reply(services, telegram_api, voice_settings(openai))
    assert body is not None and "S1234567D" not in body and "567D" in body
    assert "NRIC" in reply and "8:00" in reply


async def test_without_an_openai_key_a_voice_note_gets_the_text_only_reply(
    services: Services, telegram_api: FakeTelegramAPI, openai: FakeTranscriptions
) -> None:
    reply, body = await one_telegram_reply(services, telegram_api, {})
    assert "text" in reply.lower() and "voice" in reply.lower()
    assert body == ""
    assert openai.uploads == [] and telegram_api.calls_to("getFile") == []


async def test_a_voice_note_over_the_length_limit_is_not_sent_to_the_model(
    services: Services, telegram_api: FakeTelegramAPI, openai: FakeTranscriptions
) -> None:
    settings = voice_settings(openai, transcribe_max_seconds=60)
    reply, body = await one_telegram_reply(services, telegram_api, settings, seconds=61)
    assert "text" in reply.lower() and "8:00" not in reply
    assert body == ""
    assert openai.uploads == [] and telegram_api.calls_to("getFile") == []


async def test_a_voice_note_over_the_size_limit_is_not_downloaded(
    services: Services, telegram_api: FakeTelegramAPI, openai: FakeTranscriptions
) -> None:
    settings = voice_settings(openai, transcribe_max_bytes=len(AUDIO) - 1)
    reply, _ = await one_telegram_reply(services, telegram_api, settings)
    assert "text" in reply.lower() and "8:00" not in reply
    assert len(telegram_api.calls_to("getFile")) == 1
    assert telegram_api.downloads == [] and openai.uploads == []


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (200, 5.0)], ids=["500", "timeout"])
async def test_when_the_endpoint_fails_the_customer_gets_the_text_only_reply(
    services: Services,
    telegram_api: FakeTelegramAPI,
    openai: FakeTranscriptions,
    status: int,
    delay: float,
) -> None:
    openai.status, openai.delay = status, delay
    started = time.monotonic()
    reply, body = await one_telegram_reply(
        services, telegram_api, voice_settings(openai, transcribe_timeout_seconds=1.0)
    )
    assert "text" in reply.lower() and "8:00" not in reply
    assert body == ""
    assert len(openai.uploads) == 1  # tried once: a retry would outlast the customer's lock
    assert time.monotonic() - started < 5.0


async def test_a_whatsapp_voice_note_is_fetched_with_the_account_credentials_and_answered(
    services: Services, twilio_api: FakeTwilioApi, openai: FakeTranscriptions
) -> None:
    async with FakeTwilioMedia(twilio_api.account_sid, twilio_api.auth_token) as media:
        media.media["ME1"] = (AUDIO, "audio/ogg")
        sid = f"SM{uuid.uuid4().hex}"
        customer = f"whatsapp:+659{uuid.uuid4().int % 10**7:07d}"
        form = {
            "MessageSid": sid,
            "AccountSid": twilio_api.account_sid,
            "From": customer,
            "To": SENDER,
            "Body": "",
            "NumMedia": "1",
            "MediaContentType0": "audio/ogg",
            "MediaUrl0": media.url("ME1"),
            "ProfileName": "Aisyah",
        }
        settings = voice_settings(
            openai,
            twilio_account_sid=twilio_api.account_sid,
            twilio_auth_token=SecretStr(twilio_api.auth_token),
            twilio_whatsapp_from=SENDER,
            twilio_api_url=twilio_api.base_url,
        )
        async with running_bot(services, **settings) as runtime:
            path = "/webhooks/twilio"
            signature = RequestValidator(twilio_api.auth_token).compute_signature(
                PUBLIC_URL + path, form
            )
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"http://127.0.0.1:{runtime.port}{path}",
                    data=form,
                    headers={"X-Twilio-Signature": signature},
                ) as response,
            ):
                assert response.status == 200
            await wait_for(lambda: len(twilio_api.calls) == 1)
            body = await stored_body(runtime, "whatsapp", sid)
    reply = twilio_api.calls[0].form["Body"]
    assert "8:00" in reply or "8 am" in reply.lower()
    assert body == QUESTION
    assert media.fetched == ["ME1"] and media.refused == 0
    [upload] = openai.uploads
    assert upload.audio == AUDIO and upload.filename == "audio.ogg"
