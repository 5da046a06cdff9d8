"""Telegram channel: Bot API updates to InboundMessage, and replies back through PTB's async Bot.

Policy on edits: edited_message and edited_channel_post are Ignored("edited"). The original was
already answered, and a customer who changes the question usually sends it again as a new message.
Groups are answered only when addressed (a mention of the bot, `/command@bot`, a text_mention of
the bot, or a reply to one of the bot's messages); the reply then quotes the customer's message.
A bare mention with nothing else becomes "hello", so the core greets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from telegram import (
    CallbackQuery,
    Message,
    MessageEntity,
    Update,
)
from telegram.warnings import PTBDeprecationWarning

from channels.base import Ignored, Parsed, PayloadError, Unreadable
from channels.telegram import NAME
from channels.telegram.compat import (
    READ_KINDS,
    essentials_missing,
    update_kind,
    with_older_fields_filled,
)
from core.messages import Attachment, InboundMessage

log = structlog.get_logger(__name__)

# What set_webhook/get_updates ask for: what we answer, plus what is worth logging as ignored.
ALLOWED_UPDATES: Final[list[str]] = [
    "message", "edited_message", "callback_query", "my_chat_member", "channel_post",
]  # fmt: skip
_COMMANDS: Final = {"start": "hello", "help": "help", "human": "/human"}
_GROUPS: Final = frozenset({"group", "supergroup"})
_SERVICE: Final = (
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "message_auto_delete_timer_changed",
    "forum_topic_created", "forum_topic_closed", "forum_topic_reopened", "video_chat_started",
    "video_chat_ended", "write_access_allowed", "users_shared", "chat_shared",
)  # fmt: skip
# Real updates nest about a dozen levels (a reply's quote's origin's user); far deeper is not
# from Telegram, and reading it would only exhaust the interpreter's recursion limit.
_MAX_DEPTH: Final = 32


def webhook_secret(token: str) -> str:
    """Derive the webhook secret_token from the bot token, so every process agrees on it."""
    return hmac.new(token.encode(), b"telegram-webhook-secret", hashlib.sha256).hexdigest()


def parse_update(data: dict[str, Any], bot_username: str | None, bot_id: int | None) -> Parsed:
    """Turn one Bot API Update into a message to answer, or say why it is ignored.

    Malformed input raises PayloadError (answered 400). A valid update the library still
    cannot read, once what older Bot API versions lacked is filled in, is Unreadable: kept
    aside for a person and answered 200, since Telegram would retry it and slow the webhook.
    """
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise PayloadError("not a Telegram Update: no integer update_id")
    if _deeper_than(data, _MAX_DEPTH):
        raise PayloadError(f"malformed Telegram Update: nested deeper than {_MAX_DEPTH} levels")
    kind = update_kind(data)
    if kind is not None and kind not in READ_KINDS:
        return Ignored(kind)  # chat members, polls, reactions ...: nothing to read or answer
    if kind is not None and (missing := essentials_missing(kind, data[kind])) is not None:
        raise PayloadError(f"malformed Telegram Update: {missing}")
    try:
        update = Update.de_json(with_older_fields_filled(data), bot=None)
        return _well_typed(_classify(update, (bot_username or "").lstrip("@").lower(), bot_id))
    except Exception as exc:
        # Whatever PTB (or our reading of what it built) trips over in an update that passed
        # the checks above is ours to look at, not Telegram's to retry: keep it with the error.
        if kind is None:
            raise PayloadError(f"malformed Telegram Update: {exc!r}") from exc
        return Unreadable(kind, repr(exc), _raw(data))


def _deeper_than(value: object, limit: int) -> bool:
    """Whether JSON data nests more than `limit` levels; level by level, so no recursion."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def _well_typed(parsed: Parsed) -> Parsed:
    """The outcome, once every text it carries is text.

    PTB does not check the types of what it is given, and a number where the API promises a
    string would only fail later, on the way into the queue, as a 5xx Telegram keeps retrying.
    """
    if isinstance(parsed, InboundMessage):
        texts = [parsed.text, parsed.display_name, parsed.choice_entry_id]
        texts += [value for a in parsed.attachments for value in (a.name, a.mime_type)]
        wrong = next((t for t in texts if t is not None and not isinstance(t, str)), None)
        if wrong is not None:
            raise TypeError(f"{type(wrong).__name__} where the Bot API sends a string")
    return parsed


def _raw(data: dict[str, Any]) -> str:
    """The update as JSON to keep aside, readable where the text allows it."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(data)  # a lone surrogate cannot be stored as UTF-8; escaped it can
    return text


def _classify(update: Update, username: str, bot_id: int | None) -> Parsed:
    if update.message is not None:
        return _parse_message(update.message, username, bot_id)
    if (edited := update.edited_message or update.edited_channel_post) is not None:
        return Ignored("edited", f"{edited.chat.id}:{edited.message_id}")
    if update.callback_query is not None:
        return _parse_callback(update.callback_query)
    kind = next((str(k) for k in Update.ALL_TYPES if getattr(update, k, None) is not None), None)
    if kind is None:
        return Ignored("unknown_update", ",".join(sorted(update.api_kwargs)) or None)
    return Ignored(kind)


def _parse_message(msg: Message, username: str, bot_id: int | None) -> Parsed:
    user, chat = msg.from_user, msg.chat
    if user is None or user.is_bot:
        return Ignored("from_bot" if user else "no_sender", f"{chat.id}:{msg.message_id}")
    if chat.type not in _GROUPS and chat.type != "private":
        return Ignored(f"chat_{chat.type}")
    text = msg.text if msg.text is not None else (msg.caption or "")
    attachment = _attachment(msg)
    if msg.text is None and attachment is None:
        service = next((f for f in _SERVICE if getattr(msg, f, None) not in (None, False, ())), "")
        return Ignored("service_message", service) if service else Ignored("unsupported_content")
    entities = msg.parse_entities() if msg.text is not None else msg.parse_caption_entities()
    command = _command(msg, entities)
    reply_to = None
    if chat.type in _GROUPS:
        own = {e: t for e, t in entities.items() if _names_bot(e, t, username, bot_id)}
        replied = msg.reply_to_message.from_user if msg.reply_to_message else None
        to_bot = replied is not None and replied.id == bot_id
        explicit = command is not None and username != "" and command[1] == username
        if not (own or to_bot or explicit):
            return Ignored("group_not_addressed", f"{chat.id}:{msg.message_id}")
        text = _without(text, list(own)) or ("" if attachment else "hello")
        reply_to = f"{chat.id}/{msg.message_id}"
    if command is not None:
        name, target = command
        if target and username and target != username:
            return Ignored("command_for_other_bot", f"/{name}@{target}")
        if name not in _COMMANDS:
            return Ignored("unknown_command", f"/{name}")
        text = _COMMANDS[name]
    return InboundMessage(
        channel=NAME,
        external_user_id=str(user.id),
        provider_message_id=f"{chat.id}:{msg.message_id}",
        text=text,
        received_at=msg.date.astimezone(UTC),
        display_name=user.full_name,
        reply_to=reply_to,
        attachments=(attachment,) if attachment else (),
    )


def _command(msg: Message, entities: dict[MessageEntity, str]) -> tuple[str, str] | None:
    """The (name, lowercased @target) of a bot_command opening the message text, if any."""
    for entity, value in entities.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0 and msg.text:
            name, _, target = value[1:].partition("@")
            return name.lower(), target.lower()
    return None


def _names_bot(entity: MessageEntity, value: str, username: str, bot_id: int | None) -> bool:
    if entity.type == MessageEntity.MENTION:
        return username != "" and value[1:].lower() == username
    if entity.type == MessageEntity.TEXT_MENTION:
        return entity.user is not None and bot_id is not None and entity.user.id == bot_id
    return False


def _without(text: str, entities: list[MessageEntity]) -> str:
    """Cut entities out of text (offsets count UTF-16 code units) and tidy the spacing."""
    encoded = text.encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: e.offset, reverse=True):
        start, end = entity.offset * 2, (entity.offset + entity.length) * 2
        encoded = encoded[:start] + encoded[end:]
    cut = re.sub(r"(^|\s)[,:]+", r"\1", encoded.decode("utf-16-le"))  # "@bot, hi" -> "hi"
    return re.sub(r"[ \t]{2,}", " ", cut).strip()


def _attachment(msg: Message) -> Attachment | None:
    """The one non-text part of a message, if it has a kind we record."""
    if msg.photo:
        return Attachment("photo", None, "image/jpeg")
    if msg.animation:  # an animation message also carries `document`: check it first
        return Attachment("animation", msg.animation.file_name, msg.animation.mime_type)
    for kind in ("voice", "audio", "video", "document"):
        media = getattr(msg, kind)
        if media is not None:
            return Attachment(
                kind,
                getattr(media, "file_name", None),
                media.mime_type,
                source=media.file_id,
                seconds=_seconds(media),
            )
    if msg.video_note:
        return Attachment("video_note", None, "video/mp4")
    if msg.sticker:  # animated (TGS) stickers are gzipped Lottie; video ones are WebM
        mime = "video/webm" if msg.sticker.is_video else "image/webp"
        return Attachment(
            "sticker", msg.sticker.emoji, mime if not msg.sticker.is_animated else None
        )
    if msg.venue:  # a venue message also carries `location`: check it first
        return Attachment("venue", msg.venue.title)
    if msg.location:
        return Attachment("location")
    if msg.contact:
        name = " ".join(filter(None, (msg.contact.first_name, msg.contact.last_name)))
        return Attachment("contact", name or None, "text/vcard" if msg.contact.vcard else None)
    return None


def _seconds(media: object) -> int | None:
    """How long a voice note, audio or video lasts, in whole seconds, if it says."""
    with warnings.catch_warnings():  # PTB 22 warns on `duration` unless PTB_TIMEDELTA=1
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = getattr(media, "duration", None)
    if isinstance(duration, timedelta):
        return int(duration.total_seconds())
    return duration if isinstance(duration, int) else None


def _parse_callback(query: CallbackQuery) -> Parsed:
    if not query.data:
        return Ignored("callback_without_data", query.id)
    label, reply_to = query.data, None
    if isinstance(query.message, Message):
        if query.message.chat.type in _GROUPS:
            reply_to = str(query.message.chat.id)
        markup = query.message.reply_markup
        rows = markup.inline_keyboard if markup else ()
        label = next((b.text for r in rows for b in r if b.callback_data == query.data), label)
    return InboundMessage(
        channel=NAME,
        external_user_id=str(query.from_user.id),
        provider_message_id=f"cb:{query.id}",
        text=label,
        received_at=datetime.now(UTC),
        display_name=query.from_user.full_name,
        reply_to=reply_to,
        choice_entry_id=query.data,
    )
