"""Queue entries round-trip, and an entry written by a newer process is still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.queue.inbound import decode, encode
from core.messages import Attachment, ChannelName, InboundMessage

MESSAGE = InboundMessage(
    channel=ChannelName("whatsapp"),
    external_user_id="+6591234567",
    provider_message_id="SM0001",
    text="",
    received_at=datetime(2026, 12, 4, 9, 30, tzinfo=UTC),
    attachments=(Attachment("voice", None, "audio/ogg"),),
)


def test_an_entry_reads_back_as_the_message_it_was() -> None:
    assert decode(encode(MESSAGE)) == MESSAGE


def test_fields_a_newer_process_added_are_ignored_not_fatal() -> None:
    data = json.loads(encode(MESSAGE))
    data["language_hint"] = "ms"
    data["attachments"][0]["thumbnail"] = "https://example.test/t.jpg"
    assert decode(json.dumps(data)) == MESSAGE
