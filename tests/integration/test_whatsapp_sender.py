"""WhatsAppSender through the real async twilio Client against the fake Twilio REST API."""

from __future__ import annotations

import re

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.base import SendError
from channels.whatsapp.twilio import WhatsAppSender
from core.messages import Choice
from tests.providers.twilio_api import FakeTwilioApi

# twilio 9.13's async HTTP client passes auth=aiohttp.BasicAuth, deprecated since aiohttp 3.14.
pytestmark = pytest.mark.filterwarnings(
    "ignore:(BasicAuth|The 'auth' parameter) is deprecated:DeprecationWarning:twilio.*"
)

TO = "whatsapp:+6591234567"
CALLBACK = "https://bot.example.sg/webhooks/whatsapp/status"
SID = re.compile(r"^SM[0-9a-f]{32}$")


@pytest.fixture
def sender(twilio_client: Client) -> WhatsAppSender:
    return WhatsAppSender(twilio_client, "+6531591234", CALLBACK, rate_per_second=100)


async def test_short_reply(sender: WhatsAppSender, twilio_api: FakeTwilioApi) -> None:
    sids = await sender.send(TO, "We open 8am to 3pm on Sunday.", ())
    assert len(sids) == 1
    assert SID.match(sids[0])
    [call] = twilio_api.calls
    assert call.account_sid == twilio_api.account_sid
    assert call.form == {
        "From": "whatsapp:+6531591234",
        "To": TO,
        "Body": "We open 8am to 3pm on Sunday.",
        "StatusCallback": CALLBACK,
    }


async def test_long_reply_is_split(sender: WhatsAppSender, twilio_api: FakeTwilioApi) -> None:
    paragraphs = [f"Paragraph {n}." + " Our pandan cakes are baked fresh." * 20 for n in range(5)]
    text = "\n\n".join(paragraphs) + " Thank you for asking, Mei Ling!"
    assert len(text) == 3500
    sids = await sender.send(TO, text, ())
    bodies = [call.form["Body"] for call in twilio_api.calls]
    assert len(sids) == len(set(sids)) == len(bodies) == 3
    assert all(len(body) <= 1600 for body in bodies)
    assert bodies[0].startswith("Paragraph 0.")
    assert bodies[2].endswith("Thank you for asking, Mei Ling!")
    assert "".join(bodies).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


async def test_choices_become_a_numbered_list(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    choices = (Choice("Opening hours", "faq-hours"), Choice("Delivery", "faq-delivery"))
    await sender.send(TO, "Which one did you mean?", choices)
    assert twilio_api.calls[0].form["Body"] == (
        "Which one did you mean?\n\nReply with a number:\n1. Opening hours\n2. Delivery"
    )


async def test_the_number_prompt_is_in_the_customers_language(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    choices = (Choice("营业时间", "faq-hours"), Choice("外送", "faq-delivery"))
    await sender.send(TO, "您是指：营业时间 / 外送？", choices, "zh")
    assert twilio_api.calls[0].form["Body"] == (
        "您是指：营业时间 / 外送？\n\n请回复数字：\n1. 营业时间\n2. 外送"
    )
    await sender.send(TO, "Adakah maksud anda?", choices, "xx")  # unknown code: English
    assert "Reply with a number:" in twilio_api.calls[1].form["Body"]


async def test_no_status_callback_when_not_configured(
    twilio_client: Client, twilio_api: FakeTwilioApi
) -> None:
    sender = WhatsAppSender(twilio_client, "whatsapp:+6531591234", None)
    await sender.send(TO, "Hello", ())
    assert twilio_api.calls[0].form == {"From": "whatsapp:+6531591234", "To": TO, "Body": "Hello"}


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttled_or_server_error_is_retryable(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi, status: int
) -> None:
    twilio_api.fail_next(status)
    with pytest.raises(SendError) as caught:
        await sender.send(TO, "Hello", ())
    assert caught.value.retryable
    assert caught.value.retry_after is None
    assert f"HTTP {status}" in caught.value.reason
    assert len(twilio_api.calls) == 1


async def test_outside_24_hour_window_is_final(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    twilio_api.fail_next(
        400, 63016, "Failed to send freeform message because you are outside the allowed window."
    )
    with pytest.raises(SendError) as caught:
        await sender.send(TO, "Hello", ())
    assert not caught.value.retryable
    assert "63016" in caught.value.reason
    assert "outside the allowed window" in caught.value.reason


async def test_wrong_credentials_are_final(twilio_api: FakeTwilioApi) -> None:
    http_client = AsyncTwilioHttpClient()
    client = Client(twilio_api.account_sid, "wrong", http_client=http_client, environment={})
    client.api.base_url = twilio_api.base_url
    try:
        with pytest.raises(SendError) as caught:
            await WhatsAppSender(client, "+6531591234", None).send(TO, "Hello", ())
    finally:
        await http_client.close()
    assert not caught.value.retryable
    assert "20003" in caught.value.reason


async def test_failure_after_first_part_is_final(
    sender: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    twilio_api.fail_next(500, after=1)
    with pytest.raises(SendError) as caught:
        await sender.send(TO, "\n\n".join(["A" * 1500, "B" * 1500, "C" * 1500]), ())
    assert not caught.value.retryable
    assert "sent 1 of 3 parts" in caught.value.reason
    assert "HTTP 500" in caught.value.reason
    assert [call.form["Body"][0] for call in twilio_api.calls] == ["A", "B"]


async def test_unreachable_twilio_is_retryable(twilio_client: Client) -> None:
    twilio_client.api.base_url = "http://127.0.0.1:9"  # discard port: connection refused
    with pytest.raises(SendError) as caught:
        await WhatsAppSender(twilio_client, "+6531591234", None).send(TO, "Hello", ())
    assert caught.value.retryable
    assert "unreachable" in caught.value.reason
