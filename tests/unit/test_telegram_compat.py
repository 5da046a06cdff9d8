"""Updates in the shapes older Bot API versions sent: read, or kept aside, never refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import Update

from channels.base import Ignored, PayloadError, Unreadable
from channels.telegram.updates import parse_update
from core.messages import InboundMessage

BOT = ("ShopHelperBot", 7000000001)
CHAT = {"id": 48213377, "type": "private", "first_name": "Mei"}
SENDER = {"id": 48213377, "is_bot": False, "first_name": "Mei"}


def message(**content: Any) -> dict[str, Any]:
    body = {"message_id": 31, "date": 1500000000, "chat": CHAT, "from": SENDER, **content}
    return {"update_id": 500, "message": body}


def test_a_sticker_from_before_video_stickers_is_read_as_a_sticker() -> None:
    # Bot API 3.x: no is_animated, is_video, type or file_unique_id.
    sticker = {"file_id": "CAADBQADold", "width": 512, "height": 512, "emoji": "\U0001f382"}
    parsed = parse_update(message(sticker=sticker), *BOT)
    assert isinstance(parsed, InboundMessage)
    [attachment] = parsed.attachments
    assert (attachment.kind, attachment.name, attachment.mime_type) == (
        "sticker",
        "\U0001f382",
        "image/webp",
    )


def test_a_poll_in_a_message_without_the_newer_fields_is_read() -> None:
    poll = {"id": "5", "question": "Which cake?", "options": [{"text": "Pandan"}]}
    parsed = parse_update(message(poll=poll, text="Vote please"), *BOT)
    assert isinstance(parsed, InboundMessage) and parsed.text == "Vote please"


def test_an_old_photo_with_thumbs_and_a_caption_is_read() -> None:
    photo = [{"file_id": "AgADold1", "width": 90, "height": 67}]
    parsed = parse_update(message(photo=photo, caption="Is this cake still available?"), *BOT)
    assert isinstance(parsed, InboundMessage)
    assert parsed.text == "Is this cake still available?"
    assert [a.kind for a in parsed.attachments] == ["photo"]


def test_a_valid_message_the_library_still_cannot_read_is_kept_aside() -> None:
    # A forward's origin without the user it names: no neutral value can stand in for a person.
    update = message(text="Tiong Bahru?", forward_origin={"type": "user", "date": 1500000000})
    parsed = parse_update(update, *BOT)
    assert isinstance(parsed, Unreadable) and parsed.kind == "message"
    assert "sender_user" in parsed.reason and '"Tiong Bahru?"' in parsed.raw


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "message": {"message_id": 1, "date": 1500000000}},
        {"update_id": 1, "callback_query": {"id": "1", "data": "x"}},
        {"update_id": 1, "edited_message": ["not", "an", "object"]},
    ],
    ids=["message-without-chat", "callback-without-sender", "not-an-object"],
)
def test_what_no_bot_api_version_sent_is_still_refused(update: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        parse_update(update, *BOT)


ADMIN_RIGHTS_OF_2019 = {
    "can_be_edited": False,
    "can_change_info": True,
    "can_delete_messages": True,
    "can_invite_users": True,
    "can_restrict_members": True,
    "can_pin_messages": True,
    "can_promote_members": False,
}
MEI_2019 = {"id": 48213377, "first_name": "Mei"}  # before bots were told apart by is_bot
OLD_STICKER = {"file_id": "CAADBQADold", "width": 512, "height": 512, "emoji": "\U0001f370"}
# Hand-written in the shapes of earlier Bot API versions; PTB alone refuses every one of them.
OLD_UPDATES: dict[str, tuple[dict[str, Any], Any]] = {
    "bot-made-admin": (
        {
            "update_id": 510,
            "my_chat_member": {
                "chat": {"id": -1001876543210, "type": "supergroup", "title": "Bakery"},
                "from": SENDER,
                "date": 1560000000,
                "old_chat_member": {"user": SENDER, "status": "member"},
                "new_chat_member": {"user": SENDER, "status": "administrator"}
                | ADMIN_RIGHTS_OF_2019,
            },
        },
        Ignored("my_chat_member"),
    ),
    "poll-closed": (
        {
            "update_id": 511,
            "poll": {
                "id": "6",
                "question": "Pick up or delivery?",
                "options": [{"text": "Pick up", "voter_count": 3}],
                "is_closed": True,
            },
        },
        Ignored("poll"),
    ),
    "poll-answer": (
        {
            "update_id": 513,
            "poll_answer": {"poll_id": "6", "user": MEI_2019, "option_ids": [1]},
        },
        Ignored("poll_answer"),
    ),
    "reply-to-a-sticker": (
        message(
            text="This one, in a 1 kg size?",
            reply_to_message={
                "message_id": 30,
                "date": 1499999990,
                "chat": CHAT,
                "from": SENDER,
                "sticker": OLD_STICKER,
            },
        ),
        "This one, in a 1 kg size?",
    ),
    "poll-in-a-message": (
        message(
            caption="Which flavour next week?",
            document={"file_id": "BQADold", "file_name": "menu.pdf"},
            poll={"id": "7", "question": "Flavour?", "options": [{"text": "Ondeh"}]},
        ),
        "Which flavour next week?",
    ),
    "button-under-an-old-message": (
        {
            "update_id": 512,
            "callback_query": {
                "id": "77001",
                "from": MEI_2019,
                "data": "opening-hours",
                "message": {
                    "message_id": 29,
                    "date": 1499999980,
                    "chat": {"id": 48213377, "first_name": "Mei"},
                    "text": "How can I help?",
                },
            },
        },
        "opening-hours",
    ),
}


@pytest.mark.parametrize(("update", "expected"), OLD_UPDATES.values(), ids=list(OLD_UPDATES))
def test_old_shapes_ptb_refuses_are_read(update: dict[str, Any], expected: Any) -> None:
    with pytest.raises(TypeError):
        Update.de_json(update, bot=None)  # the reason the fill exists
    parsed = parse_update(update, *BOT)
    if isinstance(expected, str):
        assert isinstance(parsed, InboundMessage) and parsed.text == expected
    else:
        assert parsed == expected


def test_a_number_where_text_belongs_is_kept_aside_not_queued() -> None:
    parsed = parse_update(message(text=12345), *BOT)
    assert isinstance(parsed, Unreadable) and parsed.kind == "message"
    assert "int where the Bot API sends a string" in parsed.reason


def test_a_date_beyond_the_clock_is_kept_aside() -> None:
    parsed = parse_update(message(text="hi", date=10**20), *BOT)
    assert isinstance(parsed, Unreadable) and "OverflowError" in parsed.reason


def test_a_lone_surrogate_is_kept_aside_as_storable_json() -> None:
    parsed = parse_update(message(text=12345, caption="\ud83d cake"), *BOT)
    assert isinstance(parsed, Unreadable)
    parsed.raw.encode()  # Redis stores UTF-8: this must not raise
    assert json.loads(parsed.raw)["message"]["caption"] == "\ud83d cake"


def test_nesting_no_update_has_is_refused_before_reading() -> None:
    update: dict[str, Any] = {"text": "deep"}
    for _ in range(40):
        update = {"reply_to_message": update}
    with pytest.raises(PayloadError, match="nested deeper"):
        parse_update({"update_id": 1, "message": update}, *BOT)


def test_an_old_member_joined_message_is_a_service_message_not_kept_aside() -> None:
    group = {"id": -100123, "type": "group", "title": "Cake lovers"}
    joined = [{"id": 7, "first_name": "Ben"}]  # users before `is_bot` existed
    update = {
        "update_id": 9,
        "message": {
            "message_id": 3, "date": 1500000000, "chat": group,
            "from": {"id": 5, "first_name": "Ann"}, "new_chat_members": joined,
        },
    }  # fmt: skip
    assert parse_update(update, *BOT) == Ignored("service_message", "new_chat_members")
