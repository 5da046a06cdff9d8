"""Twilio WhatsApp webhook forms (tests/fixtures/twilio/*.json) to InboundMessage/DeliveryStatus."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from channels.base import DeliveryStatus, Ignored, PayloadError
from channels.whatsapp.twilio import is_valid_signature, parse_inbound, parse_status
from core.messages import Attachment, ChannelName, InboundMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
USER = "whatsapp:+6591234567"
TOKEN = "12345678901234567890123456789012"
URL = "https://bot.example.sg/webhooks/whatsapp?inbox=main"


def load(name: str) -> dict[str, str]:
    params: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text())
    return params


def sid(number: int) -> str:
    return f"SM{number:032x}"


INBOUND: list[tuple[str, dict[str, Any]]] = [
    (
        "text",
        {"provider_message_id": sid(1), "text": "Do you open on Sunday?", "display_name": None},
    ),
    (
        "text_profile",
        {
            "provider_message_id": sid(2),
            "text": "Hi, is the pandan chiffon available today?",
            "display_name": "Mei Ling Tan",
            "attachments": (),
        },
    ),
    (
        "image_caption",
        {
            "text": "This cake arrived damaged",
            "attachments": (Attachment(kind="image", mime_type="image/jpeg"),),
        },
    ),
    (
        "two_media",
        {
            "text": "",
            "attachments": (
                Attachment(kind="image", mime_type="image/png"),
                Attachment(kind="document", mime_type="application/pdf"),
            ),
        },
    ),
    ("audio", {"text": "", "attachments": (Attachment(kind="audio", mime_type="audio/ogg"),)}),
    (
        "location",
        {"text": "", "attachments": (Attachment(kind="location", name="Raffles City"),)},
    ),
    (
        "button_reply",
        {
            "provider_message_id": sid(7),
            "text": "Opening hours",
            "choice_entry_id": "faq-opening-hours",
        },
    ),
    (
        "sms",
        {
            "external_user_id": "+6591234567",
            "provider_message_id": sid(8),
            "text": "Can I order for pickup?",
            "channel": ChannelName("whatsapp"),
            "display_name": None,
        },
    ),
]


@pytest.mark.parametrize(("name", "expected"), INBOUND, ids=[name for name, _ in INBOUND])
def test_inbound(name: str, expected: dict[str, Any]) -> None:
    before = datetime.now(UTC)
    message = parse_inbound(load(name))
    assert isinstance(message, InboundMessage)
    fields = {"channel": ChannelName("whatsapp"), "external_user_id": USER, **expected}
    assert {key: getattr(message, key) for key in fields} == fields
    assert before <= message.received_at <= before + timedelta(seconds=5)
    assert message.received_at.tzinfo is UTC
    if "choice_entry_id" not in expected:
        assert message.choice_entry_id is None


def test_inbound_falls_back_to_sms_message_sid() -> None:
    params = load("text_profile")
    del params["MessageSid"]
    message = parse_inbound(params)
    assert isinstance(message, InboundMessage)
    assert message.provider_message_id == sid(2)


def test_inbound_without_text_media_or_location_is_ignored() -> None:
    params = {**load("text"), "Body": "  "}
    result = parse_inbound(params)
    assert isinstance(result, Ignored)
    assert result.reason == "empty message"


def test_an_older_form_with_only_sms_sid_is_read() -> None:
    form = {k: v for k, v in load("text").items() if k not in ("MessageSid", "SmsMessageSid")}
    parsed = parse_inbound({**form, "SmsSid": sid(77)})
    assert isinstance(parsed, InboundMessage) and parsed.provider_message_id == sid(77)
    assert parsed.text == "Do you open on Sunday?"


def test_message_sid_wins_over_sms_sid_when_a_form_has_both() -> None:
    parsed = parse_inbound({**load("text"), "SmsSid": sid(78)})
    assert isinstance(parsed, InboundMessage)
    assert parsed.provider_message_id == load("text")["MessageSid"] != sid(78)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (load("missing_sid"), "MessageSid"),
        ({**load("text"), "MessageSid": ""}, "MessageSid"),
        ({k: v for k, v in load("text").items() if k != "From"}, "From"),
        (load("bad_num_media"), "NumMedia"),
        ({**load("text"), "NumMedia": "-1"}, "NumMedia"),
        ({**load("text"), "NumMedia": "99999999"}, "NumMedia"),
    ],
    ids=["missing-sid", "empty-sid", "missing-from", "non-numeric-media", "negative", "huge"],
)
def test_inbound_rejects(params: dict[str, str], words: str) -> None:
    with pytest.raises(PayloadError, match=words):
        parse_inbound(params)


STATUSES = [
    ("status_sent", sid(0x10), "sent", None, None),
    ("status_delivered", sid(0x11), "delivered", None, None),
    ("status_read", sid(0x12), "read", None, None),
    (
        "status_failed_63016",
        sid(0x13),
        "failed",
        "63016",
        "Twilio Error: Failed to send freeform message because you are outside the allowed "
        "window. If you are using WhatsApp, please use a Message Template.",
    ),
    ("status_undelivered", sid(0x14), "undelivered", "63024", "Invalid message recipient"),
]


@pytest.mark.parametrize(
    ("name", "message_sid", "status", "code", "error"), STATUSES, ids=[s[0] for s in STATUSES]
)
def test_status(
    name: str, message_sid: str, status: str, code: str | None, error: str | None
) -> None:
    assert parse_status(load(name)) == DeliveryStatus(
        channel=ChannelName("whatsapp"),
        provider_message_id=message_sid,
        status=status,
        error_code=code,
        error_message=error,
    )


def test_status_sms_fields_only_and_unknown_status_passes_through() -> None:
    result = parse_status({"SmsSid": sid(0x15), "SmsStatus": "Partially_Delivered"})
    assert result == DeliveryStatus(ChannelName("whatsapp"), sid(0x15), "partially_delivered")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"MessageStatus": "sent"}, "MessageSid"),
        ({"MessageSid": sid(0x16)}, "MessageStatus"),
        ({"MessageSid": sid(0x16), "MessageStatus": " "}, "MessageStatus"),
    ],
)
def test_status_rejects(params: dict[str, str], words: str) -> None:
    with pytest.raises(PayloadError, match=words):
        parse_status(params)


def signed() -> tuple[dict[str, str], str]:
    params = load("text_profile")
    return params, RequestValidator(TOKEN).compute_signature(URL, params)


def test_signature_valid() -> None:
    params, signature = signed()
    assert is_valid_signature(TOKEN, URL, params, signature)


def test_signature_valid_when_twilio_signed_the_url_with_default_port() -> None:
    params = load("text")
    url_with_port = URL.replace("bot.example.sg", "bot.example.sg:443")
    signature = RequestValidator(TOKEN).compute_signature(url_with_port, params)
    assert is_valid_signature(TOKEN, URL, params, signature)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p, u, s, t: ({**p, "Body": "Refund me"}, u, s, t),
        lambda p, u, s, t: ({**p, "Extra": "1"}, u, s, t),
        lambda p, u, s, t: (p, u.replace("https://", "http://"), s, t),
        lambda p, u, s, t: (p, u.replace("inbox=main", "inbox=other"), s, t),
        lambda p, u, s, t: (p, "http://127.0.0.1:8080/webhooks/whatsapp?inbox=main", s, t),
        lambda p, u, s, t: (p, u, None, t),
        lambda p, u, s, t: (p, u, "", t),
        lambda p, u, s, t: (p, u, s, "0" * 32),
    ],
    ids=[
        "param",
        "added-param",
        "scheme",
        "query",
        "proxied-url",
        "missing-signature",
        "empty-signature",
        "wrong-token",
    ],
)
def test_signature_rejected(tamper: Any) -> None:
    params, signature = signed()
    assert not is_valid_signature(*_reorder(*tamper(params, URL, signature, TOKEN)))


def _reorder(
    params: dict[str, str], url: str, signature: str | None, token: str
) -> tuple[str, str, dict[str, str], str | None]:
    return token, url, params, signature
