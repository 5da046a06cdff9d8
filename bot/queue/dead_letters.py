"""Dead-lettered inbound messages as personal data: exported, erased and expired with the rest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from redis.asyncio import Redis

from bot.queue.inbound import DEAD_LETTERS
from channels.registry import plugs
from core.data_rights import Person

_BATCH = 500


class DeadLetterCopies:
    """The `inbound:dead` stream: whole messages and raw updates; a person's go when they do."""

    name = "dead_letters"

    def __init__(self, redis: Redis, stream: str = DEAD_LETTERS) -> None:
        self._redis = redis
        self._stream = stream

    async def export(self, person: Person) -> list[Any]:
        """The person's dead-lettered messages, with why they were set aside."""
        return [
            {"entry": entry_id, "reason": reason, "message": message}
            for entry_id, reason, message in await self._matching(person)
        ]

    async def erase(self, person: Person) -> int:
        """Delete the person's dead-lettered messages."""
        ids = [entry_id for entry_id, _, _ in await self._matching(person)]
        return int(await self._redis.xdel(self._stream, *ids)) if ids else 0

    async def expire(self, cutoff: datetime) -> int:
        """Drop entries set aside before the cutoff (stream ids are milliseconds)."""
        minid = f"{int(cutoff.timestamp() * 1000)}-0"
        return int(await self._redis.xtrim(self._stream, minid=minid, approximate=False))

    async def _matching(self, person: Person) -> list[tuple[str, str, Any]]:
        """(entry id, reason, message) of every entry from one of the person's identities."""
        wanted = {(i.channel, i.external_id) for i in person.identities}
        found: list[tuple[str, str, Any]] = []
        start = "-"
        while True:
            batch = cast(
                list[tuple[Any, dict[Any, Any]]],
                await self._redis.xrange(self._stream, min=start, count=_BATCH),
            )
            for raw_id, fields in batch:
                entry_id = _text(raw_id)
                message = _message(fields)
                if message is not None and _sender(message) in wanted:
                    found.append((entry_id, _text(_field(fields, "reason")), message))
            if len(batch) < _BATCH:
                return found
            start = "(" + _text(batch[-1][0])


def _sender(message: dict[str, Any]) -> tuple[object, object]:
    """(channel, external id) of who sent a queued message or a raw payload kept aside.

    A payload its channel's parser could not read is kept as the provider sent it, never
    having become a message: its channel's plug says who sent it.
    """
    if "channel" in message:
        return message.get("channel"), message.get("external_user_id")
    for plug in plugs():
        if (sender := plug.raw_sender(message)) is not None:
            return plug.name.value, sender
    return None, None


def _field(fields: dict[Any, Any], name: str) -> bytes | str:
    """A stream field whether the client decodes responses or not."""
    value: bytes | str = fields.get(name.encode(), fields.get(name, b""))
    return value


def _message(fields: dict[Any, Any]) -> dict[str, Any] | None:
    """The entry's message as JSON data; None when it does not parse."""
    try:
        data = json.loads(_text(_field(fields, "m")))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _text(value: bytes | str) -> str:
    """Redis answers bytes unless the client decodes."""
    return value.decode(errors="replace") if isinstance(value, bytes) else value
