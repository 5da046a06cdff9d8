"""Updates in the shapes older Bot API versions sent: read, or kept aside, never refused."""

from __future__ import annotations

from typing import Any

import pytest

from channels.base import Ignored, PayloadError, Unreadable
from channels.telegram import parse_update
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


@pytest.mark.parametrize(
    "update",
    [
        # A bot made administrator before can_edit_tag, can_post_stories ... existed.
        {
            "update_id": 501,
            "my_chat_member": {
                "chat": {"id": -1001876543210, "type": "supergroup", "title": "Shop"},
                "from": SENDER,
                "date": 1500000000,
                "old_chat_member": {"user": SENDER, "status": "member"},
                "new_chat_member": {"user": SENDER, "status": "administrator"},
            },
        },
        {"update_id": 502, "poll": {"id": "5", "question": "Which cake?"}},
        {"update_id": 503, "poll_answer": {"poll_id": "5", "option_ids": [0]}},
    ],
    ids=["chat-member", "poll", "poll-answer"],
)
def test_update_kinds_the_bot_does_not_answer_are_ignored_without_reading(
    update: dict[str, Any],
) -> None:
    kind = next(k for k in update if k != "update_id")
    assert parse_update(update, *BOT) == Ignored(kind)


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
