"""parse_update over recorded-style Bot API updates in tests/fixtures/telegram/."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from channels.base import Ignored, PayloadError
from channels.telegram.updates import ALLOWED_UPDATES, parse_update, webhook_secret
from core.messages import Attachment, ChannelName, InboundMessage

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
BOT_USERNAME = "ShopHelperBot"
BOT_ID = 7000000001
MEI = "48213377"
RAJ = "55102938"
GROUP = -1001876543210


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def private(message_id: int, date: int, text: str, *attachments: Attachment) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=MEI,
        provider_message_id=f"{MEI}:{message_id}",
        text=text,
        received_at=at(date),
        display_name="Mei Ling Tan",
        attachments=attachments,
    )


def group(message_id: int, date: int, text: str, chat: int = GROUP) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=RAJ,
        provider_message_id=f"{chat}:{message_id}",
        text=text,
        received_at=at(date),
        display_name="Raj",
        reply_to=f"{chat}/{message_id}",
    )


MESSAGES = {
    "private_text": private(101, 1735700000, "Do you deliver to Jurong West on Sundays?"),
    "start": private(102, 1735700060, "hello"),
    "help": private(103, 1735700070, "help"),
    "human_botname": private(104, 1735700120, "/human"),
    "group_mention": group(2201, 1735701000, "Hi 👋 what time do you open on Saturday?"),
    "group_reply_to_bot": group(2203, 1735701020, "And on Sunday?"),
    "group_text_mention": group(2204, 1735701030, "is the cake still available?"),
    "group_command_addressed": group(2205, 1735701040, "help", chat=-4012345678),
    "photo_caption": private(
        106,
        1735702000,
        "Is this cake <still> available & how much?",
        Attachment("photo", None, "image/jpeg"),
    ),
    "voice": private(107, 1735702060, "", Attachment("voice", None, "audio/ogg")),
    "sticker": private(108, 1735702120, "", Attachment("sticker", "🎂", "image/webp")),
    "location": private(109, 1735702180, "", Attachment("location")),
    "venue": private(110, 1735702200, "", Attachment("venue", "ION Orchard")),
    "contact": private(111, 1735702240, "", Attachment("contact", "Mei Ling Tan")),
    "document": private(
        112,
        1735702300,
        "Can you quote for this order?",
        Attachment("document", "order-list.pdf", "application/pdf"),
    ),
}

IGNORED = {
    "unknown_command": Ignored("unknown_command", "/settings"),
    "group_not_addressed": Ignored("group_not_addressed", f"{GROUP}:2202"),
    "group_bare_command": Ignored("group_not_addressed", f"{GROUP}:2206"),
    "new_chat_members": Ignored("service_message", "new_chat_members"),
    "edited_message": Ignored("edited", f"{MEI}:101"),
    "callback_query_game": Ignored("callback_without_data", "6382bfdwdsb323b2f2"),
    "channel_post": Ignored("channel_post"),
    "my_chat_member": Ignored("my_chat_member"),
    "from_bot": Ignored("from_bot", f"{GROUP}:2209"),
}


@pytest.mark.parametrize(("name", "expected"), MESSAGES.items(), ids=list(MESSAGES))
def test_messages(name: str, expected: InboundMessage) -> None:
    parsed = parse_update(load(name), BOT_USERNAME, BOT_ID)
    assert parsed == expected
    assert isinstance(parsed, InboundMessage)
    assert parsed.received_at.tzinfo is not None
    assert parsed.received_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("name", "expected"), IGNORED.items(), ids=list(IGNORED))
def test_ignored(name: str, expected: Ignored) -> None:
    assert parse_update(load(name), BOT_USERNAME, BOT_ID) == expected


@pytest.mark.parametrize(
    ("name", "user", "display", "reply_to", "label"),
    [
        ("callback_query", MEI, "Mei Ling Tan", None, "Opening hours"),
        ("callback_query_group", RAJ, "Raj", str(GROUP), "Delivery areas"),
    ],
)
def test_callback_query(
    name: str, user: str, display: str, reply_to: str | None, label: str
) -> None:
    data = load(name)
    before = datetime.now(UTC)
    parsed = parse_update(data, BOT_USERNAME, BOT_ID)
    assert isinstance(parsed, InboundMessage)
    query = data["callback_query"]
    assert parsed == InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=user,
        provider_message_id=f"cb:{query['id']}",
        text=label,
        received_at=parsed.received_at,
        display_name=display,
        reply_to=reply_to,
        choice_entry_id=query["data"],
    )
    assert before <= parsed.received_at <= datetime.now(UTC)


def test_callback_label_falls_back_to_data_without_the_keyboard() -> None:
    data = load("callback_query")
    del data["callback_query"]["message"]["reply_markup"]
    parsed = parse_update(data, BOT_USERNAME, BOT_ID)
    assert isinstance(parsed, InboundMessage)
    assert (parsed.text, parsed.choice_entry_id) == ("faq-opening-hours", "faq-opening-hours")


def test_group_needs_a_known_bot_to_be_addressed() -> None:
    assert parse_update(load("group_mention"), None, None) == Ignored(
        "group_not_addressed", f"{GROUP}:2201"
    )


def test_bare_mention_greets() -> None:
    data = load("group_mention")
    data["message"]["text"] = "@ShopHelperBot"
    data["message"]["entities"][0]["offset"] = 0
    parsed = parse_update(data, "@shophelperbot", BOT_ID)
    assert parsed == replace(MESSAGES["group_mention"], text="hello")


def test_command_for_another_bot_is_ignored() -> None:
    data = load("human_botname")
    data["message"]["text"] = "/human@OtherShopBot"
    data["message"]["entities"][0]["length"] = 19
    assert parse_update(data, BOT_USERNAME, BOT_ID) == Ignored(
        "command_for_other_bot", "/human@othershopbot"
    )


@pytest.mark.parametrize(
    "data",
    [
        [],
        "update",
        None,
        {},
        {"message": {"text": "hi"}},
        {"update_id": "1", "message": {}},
        {"update_id": True},
        {"update_id": 1, "message": {"message_id": 1, "text": "no date, chat or sender"}},
        {"update_id": 1, "message": {"message_id": 1, "date": "yesterday", "chat": {"id": 1}}},
        {"update_id": 1, "message": "not an object"},
    ],
    ids=repr,
)
def test_malformed_payloads(data: Any) -> None:
    with pytest.raises(PayloadError):
        parse_update(data, BOT_USERNAME, BOT_ID)


def test_legacy_payloads_without_is_bot_chat_type_or_file_unique_id_are_read() -> None:
    # The shape of the Bot API documentation's own examples, from before those fields existed.
    data = {
        "update_id": 10000,
        "message": {
            "date": 1441645532,
            "chat": {"id": 1111111, "first_name": "Test", "username": "Test"},
            "message_id": 1365,
            "from": {"id": 1111111, "first_name": "Test", "username": "Test"},
            "voice": {"file_id": "AwADBAADbQADlegacyVoiceId", "duration": 5},
        },
    }
    parsed = parse_update(data, BOT_USERNAME, BOT_ID)
    assert isinstance(parsed, InboundMessage)
    assert parsed.external_user_id == "1111111"
    assert parsed.provider_message_id == "1111111:1365"
    assert [a.kind for a in parsed.attachments] == ["voice"]


def test_unknown_update_kind_is_ignored() -> None:
    parsed = parse_update({"update_id": 9, "future_thing": {"a": 1}}, BOT_USERNAME, BOT_ID)
    assert parsed == Ignored("unknown_update", "future_thing")


def test_webhook_secret_is_stable_and_allowed_by_telegram() -> None:
    secret = webhook_secret("123456:ABC-DEF")
    assert secret == webhook_secret("123456:ABC-DEF")
    assert secret != webhook_secret("123456:ABC-DEG")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)
    assert "123456" not in secret


def test_allowed_updates_cover_what_we_parse() -> None:
    assert {"message", "edited_message", "callback_query"} <= set(ALLOWED_UPDATES)
    assert {"my_chat_member", "channel_post"} <= set(ALLOWED_UPDATES)
