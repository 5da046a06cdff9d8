"""Any Unicode through every channel's parser and the edge: storable, and nothing else lost."""

from __future__ import annotations

import base64
import json
import unicodedata
from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.metrics import Metrics
from bot.queue.inbound import decode, encode
from bot.queue.ingress import Ingress
from channels.base import Parsed
from channels.email.parsing import parse_email
from channels.email.sending import to_inbound
from channels.telegram.updates import parse_update
from channels.webchat.events import parse_message
from channels.whatsapp.twilio import parse_inbound
from core.messages import Attachment, ChannelName, InboundMessage
from core.redaction import mask_nric
from core.storable import storable_message, storable_text
from tests.unit.recording_queue import AcceptingOutbox, RecordingQueue

# Every category, surrogates and controls included: what a provider's JSON can carry.
ANY_TEXT = st.text(st.characters(exclude_categories=()), min_size=1, max_size=60)
# Mail is bytes on the wire: it cannot carry a lone surrogate.
MAIL_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
PROPERTIES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def _queued(parsed: Parsed) -> InboundMessage | None:
    """What the edge puts on the queue for a parse outcome (None when it is not a message)."""
    queue = RecordingQueue()
    ingress = Ingress(queue, AcceptingOutbox(), Metrics())  # type: ignore[arg-type]
    await ingress.accept(ChannelName("telegram"), parsed)
    if not queue.messages:
        return None
    # Through the stream's own encoding, as UTF-8 bytes, as Redis would hold it.
    return decode(encode(queue.messages[0]).encode("utf-8").decode("utf-8"))


def _visible(text: str) -> str:
    """What a reader sees of a text: its characters in NFC, without whitespace or controls."""
    kept = "".join(c for c in storable_text(text) if not c.isspace())
    return unicodedata.normalize("NFC", kept)


def _arrived_whole(queued: InboundMessage | None, sent: str) -> None:
    """Queued, storable, and every visible character of what was sent still there."""
    assert queued is not None
    _storable(queued)
    assert _visible(queued.text) == _visible(sent)


def _storable(message: InboundMessage) -> None:
    for value in (message.text, message.external_user_id, message.display_name or ""):
        value.encode("utf-8")  # no lone surrogate
        assert "\x00" not in value
        assert unicodedata.is_normalized("NFC", value)


@PROPERTIES
@given(ANY_TEXT)
@example("remove\x00 null bytes")
@example("half an emoji \ud83d")
@example("cafe\u0301 \u1100\u1161")  # decomposed é and Hangul: composed by NFC
def test_storable_text_is_storable_normalised_and_keeps_everything_visible(text: str) -> None:
    cleaned = storable_text(text)
    cleaned.encode("utf-8")
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in cleaned)
    assert storable_text(cleaned) == cleaned
    # Nothing but the unstorable characters went: letters, marks, digits, symbols all stay.
    kept = [c for c in text if c in "\t\n\r" or unicodedata.category(c) not in ("Cc", "Cs")]
    assert unicodedata.normalize("NFD", cleaned).replace("\ufffd", "") == unicodedata.normalize(
        "NFD", "".join(kept)
    ).replace("\ufffd", "")


def test_a_message_with_nothing_to_clean_is_left_as_it_is() -> None:
    message = InboundMessage(ChannelName.CLI, "u", "1", "Hello 你好", NOW)
    assert storable_message(message) is message


def test_every_text_field_and_attachment_is_cleaned() -> None:
    message = InboundMessage(
        ChannelName("email"),
        "mei\x00@example.test",
        "<id\x00@x>",
        "hi\x00",
        NOW,
        display_name="Mei\ud83d",
        thread_ref="t\x07",
        attachments=(Attachment("document", "menu\x00.pdf", "application/pdf"),),
    )
    cleaned = storable_message(message)
    assert (cleaned.external_user_id, cleaned.provider_message_id, cleaned.text) == (
        "mei@example.test",
        "<id@x>",
        "hi",
    )
    assert cleaned.display_name == "Mei\ufffd" and cleaned.thread_ref == "t"
    assert cleaned.attachments == (Attachment("document", "menu.pdf", "application/pdf"),)


@PROPERTIES
@given(text=ANY_TEXT, name=ANY_TEXT)
@example(text="remove\x00 null bytes", name="Wei\ud83d")
async def test_any_telegram_text_reaches_the_queue_storable_and_whole(text: str, name: str) -> None:
    assume(not text.lstrip().startswith("/") and _visible(text) and not mask_nric(text)[1])
    # Telegram escapes what is not ASCII; a lone surrogate arrives as "\ud83d" in the JSON.
    update = json.loads(
        json.dumps(
            {
                "update_id": 1,
                "message": {
                    "message_id": 7,
                    "date": 1764000000,
                    "chat": {"id": 42, "type": "private"},
                    "from": {"id": 42, "is_bot": False, "first_name": name},
                    "text": text,
                },
            }
        )
    )
    queued = await _queued(parse_update(update, "ShopBot", 1))
    _arrived_whole(queued, text)


@PROPERTIES
@given(body=ANY_TEXT, profile=ANY_TEXT)
@example(body="remove\x00 null bytes", profile="Aisyah\x00")
async def test_any_whatsapp_body_reaches_the_queue_storable_and_whole(
    body: str, profile: str
) -> None:
    assume(_visible(body) and not mask_nric(body)[1])
    form = {"MessageSid": "SM1", "From": "whatsapp:+6591234567", "Body": body}
    queued = await _queued(parse_inbound(form | {"ProfileName": profile}))
    _arrived_whole(queued, body)


@PROPERTIES
@given(text=ANY_TEXT)
@example(text="half an emoji \ud83d")
async def test_any_web_chat_text_reaches_the_queue_storable_and_whole(text: str) -> None:
    assume(text.strip() and _visible(text) and not mask_nric(text)[1])
    parsed = parse_message("visitor-1", {"id": "client-0001", "text": text}, NOW)
    _arrived_whole(await _queued(parsed), text)


@PROPERTIES
@given(body=MAIL_TEXT, name=MAIL_TEXT)
@example(body="remove\x00 null bytes", name="Mei\x00")
async def test_any_email_body_reaches_the_queue_storable(body: str, name: str) -> None:
    """Quotes and signatures may be cut from a mail, so only storability is checked."""
    head = (
        "From: =?utf-8?b?{}?= <mei@example.test>\r\nTo: shop@example.test\r\n"
        "Subject: Question\r\nMessage-ID: <q1@example.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    )
    encoded_name = base64.b64encode(name.encode("utf-8")).decode()
    raw = head.format(encoded_name).encode() + body.encode("utf-8")
    parsed = parse_email(raw)
    queued = await _queued(to_inbound(parsed, raw))
    if queued is not None:
        _storable(queued)
