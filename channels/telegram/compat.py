"""Older Bot API payloads made readable: what newer versions added is filled from PTB's classes."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Sequence
from typing import Any, Final

import telegram
from telegram import TelegramObject, Update

READ_KINDS: Final = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}
)
"""Update types the bot reads; every other kind is only counted, so it never needs parsing."""

_USER_KEYS: Final = {
    "from",
    "user",
    "forward_from",
    "via_bot",
    "new_chat_member",
    "new_chat_members",
    "left_chat_member",
}
_CHAT_KEYS: Final = {"chat", "sender_chat", "forward_from_chat"}
# The JSON key an object appears under, and PTB's class for it: where newer Bot API versions
# made fields required that older payloads lack (stickers' is_video and type, polls' ids ...).
_CLASSES: Final[dict[str, type[TelegramObject]]] = {
    "animation": telegram.Animation,
    "audio": telegram.Audio,
    "caption_entities": telegram.MessageEntity,
    "contact": telegram.Contact,
    "dice": telegram.Dice,
    "document": telegram.Document,
    "entities": telegram.MessageEntity,
    "game": telegram.Game,
    "location": telegram.Location,
    "options": telegram.PollOption,
    "photo": telegram.PhotoSize,
    "poll": telegram.Poll,
    "sticker": telegram.Sticker,
    "thumb": telegram.PhotoSize,
    "thumbnail": telegram.PhotoSize,
    "venue": telegram.Venue,
    "video": telegram.Video,
    "video_note": telegram.VideoNote,
    "voice": telegram.Voice,
}
# Where a neutral value would be wrong: what the field meant before it existed.
_BEFORE: Final[dict[tuple[str, str], object]] = {
    ("sticker", "type"): "regular",
    ("poll", "type"): "regular",
    ("poll", "is_anonymous"): True,
}
_NEUTRAL: Final[dict[type, object]] = {bool: False, int: 0, float: 0.0, str: ""}
_PTB_NAMES: Final = {"from_user": "from"}
_LATER_REQUIRED: Final = re.compile(r"`(\w+)` is a required argument")


def update_kind(data: dict[str, Any]) -> str | None:
    """The update's type: the one key besides update_id that names a kind of update."""
    return next((key for key in data if key in Update.ALL_TYPES), None)


def essentials_missing(kind: str, body: object) -> str | None:
    """What a message or callback lacks that every Bot API version sent; None when complete."""
    if not isinstance(body, dict):
        return f"{kind} is not an object"
    if kind == "callback_query":
        sender = body.get("from")
        if not isinstance(body.get("id"), str) or not isinstance(sender, dict):
            return "callback_query without id or from"
        return None if type(sender.get("id")) is int else "callback_query sender without id"
    chat = body.get("chat")
    if type(body.get("message_id")) is not int or type(body.get("date")) is not int:
        return f"{kind} without an integer message_id and date"
    if not isinstance(chat, dict) or type(chat.get("id")) is not int:
        return f"{kind} without a chat id"
    return None


def with_older_fields_filled(value: Any, key: str = "") -> Any:
    """A copy of the payload with what older Bot API versions (and the docs' examples) lacked.

    Users without `is_bot` are people (bots have carried the flag since Bot API 3.0), a chat's
    type follows from its id, a file's unique id defaults to its id, and every other required
    field PTB's class for the object names gets what it meant before it existed.
    """
    if isinstance(value, list):
        return [with_older_fields_filled(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    fixed = {k: with_older_fields_filled(item, k) for k, item in value.items()}
    if key in _USER_KEYS:
        fixed.setdefault("is_bot", False)
    if key in _CHAT_KEYS and isinstance(fixed.get("id"), int):
        chat_id = fixed["id"]
        kind = "private" if chat_id > 0 else "supergroup" if chat_id < -(10**12) else "group"
        fixed.setdefault("type", kind)
    if key == "callback_query":
        fixed.setdefault("chat_instance", "")
    if "file_id" in fixed:
        fixed.setdefault("file_unique_id", fixed["file_id"])
    for name, default in _DEFAULTS.get(key, ()):
        fixed.setdefault(name, _BEFORE.get((key, name), default))
    return fixed


def _required_defaults(cls: type[TelegramObject]) -> tuple[tuple[str, object], ...]:
    """Required fields of a PTB class that have a neutral value (objects have none).

    Fields made required by a later Bot API version keep a default of None in the signature and
    are refused at construction ("`persistent_id` is a required argument since Bot API 9.6"):
    constructing the class once with the neutral values finds them.
    """
    parameters = inspect.signature(cls.__init__).parameters
    found: dict[str, Any] = {}
    for name, parameter in parameters.items():
        if name == "self" or parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        default = _neutral(parameter.annotation)
        if default is not None:
            found[name] = default
    for _ in range(len(parameters)):
        try:
            cls(**found)
            break
        except TypeError as error:
            later = _LATER_REQUIRED.search(str(error))
            if later is None or later[1] not in parameters or later[1] in found:
                break  # an object we cannot make up, or not a required field at all
            default = _neutral(parameters[later[1]].annotation)
            if default is None:
                break
            found[later[1]] = default
    return tuple((_PTB_NAMES.get(name, name), value) for name, value in found.items())


def _neutral(annotation: object) -> object | None:
    """False, 0, "" or [] for a field of that type; None for objects, which cannot be made up."""
    if isinstance(annotation, type) and annotation in _NEUTRAL:
        return _NEUTRAL[annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(
            (v for a in typing.get_args(annotation) if (v := _neutral(a)) is not None), None
        )
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str:
        return []
    return None


_DEFAULTS: Final = {key: _required_defaults(cls) for key, cls in _CLASSES.items()}
