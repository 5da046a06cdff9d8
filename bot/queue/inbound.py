"""The durable inbound queue: a Redis Stream read by a consumer group, in order per customer.

Webhooks append and answer at once; workers read, handle and acknowledge. An entry is acked and
deleted only when its reply is sent (or deliberately not), so a worker that dies mid-message
leaves it pending for another worker to reclaim. Each customer also has a list of their queued
entry ids; a worker handles an entry only when it heads that list, which keeps one customer's
messages in order even when several processes read the stream.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core.messages import Attachment, ChannelName, InboundMessage

STREAM = "inbound"
GROUP = "workers"
DEAD_LETTERS = "inbound:dead"
ORDER_TTL_SECONDS = 3 * 24 * 3600

# KEYS: stream, order list[, flood counter]. ARGV: payload, ttl[, window, limit, flagged payload].
# Append and remember the order in one step. With a flood counter, first count the sender's
# message in a fixed window: one past the limit is appended flagged, later ones not at all (nil).
_ENQUEUE = """
local payload = ARGV[1]
if KEYS[3] then
  local n = redis.call('INCR', KEYS[3])
  if n == 1 then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
  local limit = tonumber(ARGV[4])
  if n > limit + 1 then return false end
  if n == limit + 1 then payload = ARGV[5] end
end
local id = redis.call('XADD', KEYS[1], '*', 'm', payload)
redis.call('RPUSH', KEYS[2], id)
redis.call('EXPIRE', KEYS[2], ARGV[2])
return id
"""
# KEYS: stream, order list, attempts. ARGV: group, id.
_DONE = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('LREM', KEYS[2], 1, ARGV[2])
redis.call('DEL', KEYS[3])
return 1
"""


@dataclass(frozen=True, slots=True)
class FloodLimit:
    """At most `limit` messages per `window_seconds` from the sender counted under `key`."""

    key: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Entry:
    """One queued message; `message` is None when the entry could not be decoded."""

    entry_id: str
    message: InboundMessage | None
    raw: str

    @property
    def order_key(self) -> str:
        """The customer's order list."""
        if self.message is None:
            return "order:unknown"
        return order_key(self.message)

    def before(self, other: Entry) -> bool:
        """Whether this entry was queued before `other`."""
        return _entry_time(self.entry_id) < _entry_time(other.entry_id)


def order_key(message: InboundMessage) -> str:
    """Messages sharing this key are handled one at a time, in queue order."""
    return f"order:{message.channel.value}:{message.external_user_id}"


def encode(message: InboundMessage) -> str:
    """A message as JSON for the stream."""
    data = asdict(message)
    data["received_at"] = message.received_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def decode(raw: str) -> InboundMessage:
    """A message back from JSON; raises ValueError (or KeyError, TypeError) on bad data."""
    data: dict[str, Any] = _known(InboundMessage, json.loads(raw))
    data["channel"] = ChannelName(data["channel"])
    data["received_at"] = datetime.fromisoformat(data["received_at"])
    data["attachments"] = tuple(
        Attachment(**_known(Attachment, a)) for a in data.get("attachments", ())
    )
    return InboundMessage(**data)


def _known(kind: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    """The fields `kind` has: during a rolling upgrade, an entry a newer process wrote may
    carry fields this process does not know yet, and must not be dead-lettered for that."""
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in data.items() if k in names}


class InboundQueue:
    """Append, read, reclaim and finish entries of the inbound stream."""

    def __init__(self, redis: Redis, stream: str = STREAM, group: str = GROUP) -> None:
        self._redis = redis
        self.stream = stream
        self.group = group
        self._enqueue = redis.register_script(_ENQUEUE)
        self._done = redis.register_script(_DONE)

    async def ensure_group(self) -> None:
        """Create the stream and its consumer group if they do not exist yet."""
        try:
            await self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def enqueue(self, message: InboundMessage) -> str:
        """Append a message durably; return its entry id."""
        entry_id = await self._enqueue(
            keys=[self.stream, order_key(message)], args=[encode(message), ORDER_TTL_SECONDS]
        )
        return _text(entry_id)

    async def enqueue_within(self, message: InboundMessage, flood: FloodLimit) -> str | None:
        """Count the message against its sender's limit and append it, in one round trip.

        Within the limit it is appended as it is; the first one over is appended marked
        `flooding` (the customer gets one notice); the ones after that are not appended (None).
        """
        entry_id = await self._enqueue(
            keys=[self.stream, order_key(message), flood.key],
            args=[
                encode(message),
                ORDER_TTL_SECONDS,
                flood.window_seconds,
                flood.limit,
                encode(replace(message, flooding=True)),
            ],
        )
        return None if entry_id is None else _text(entry_id)

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer, waiting up to block_ms for the first."""
        result: Any = await self._redis.xreadgroup(
            self.group, consumer, {self.stream: ">"}, count=count, block=block_ms
        )
        if not result:
            return []
        return [_entry(eid, fields) for eid, fields in result[0][1]]

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Take over entries another consumer left pending for at least min_idle_ms."""
        result: Any = await self._redis.xautoclaim(
            self.stream, self.group, consumer, min_idle_time=min_idle_ms, count=count
        )
        # Entries deleted while pending come back as None; they were done already.
        return [_entry(eid, fields) for eid, fields in result[1] if fields]

    async def is_next(self, entry: Entry) -> bool:
        """True when no earlier entry of the same customer is still queued."""
        head = await self._redis.lindex(entry.order_key, 0)
        if head is None or _text(head) == entry.entry_id:
            return True
        # A head that no longer exists in the stream was finished without being unlisted.
        if not await self._redis.xrange(self.stream, min=_text(head), max=_text(head)):
            await self._redis.lrem(entry.order_key, 1, _text(head))
            return await self.is_next(entry)
        return _entry_time(_text(head)) > _entry_time(entry.entry_id)

    async def failed_attempt(self, entry: Entry) -> int:
        """Count one more failed attempt at an entry; return the total."""
        key = f"attempts:{entry.entry_id}"
        attempts = int(await self._redis.incr(key))
        await self._redis.expire(key, ORDER_TTL_SECONDS)
        return attempts

    async def done(self, entry: Entry) -> None:
        """Acknowledge and delete an entry, and let the customer's next one go."""
        await self._done(
            keys=[self.stream, entry.order_key, f"attempts:{entry.entry_id}"],
            args=[self.group, entry.entry_id],
        )

    async def set_aside(self, raw: str, reason: str) -> None:
        """Keep a payload that never became an entry beside the dead letters, for a person."""
        await self._redis.xadd(DEAD_LETTERS, {"m": raw, "reason": reason, "id": ""})

    async def dead_letter(self, entry: Entry, reason: str) -> None:
        """Set an entry aside for a person to look at, then finish it."""
        await self._redis.xadd(
            DEAD_LETTERS, {"m": entry.raw, "reason": reason, "id": entry.entry_id}
        )
        await self.done(entry)

    async def depth(self) -> int:
        """Entries not yet done (queued or being handled)."""
        return int(await self._redis.xlen(self.stream))


def _text(value: bytes | str) -> str:
    """Redis answers bytes unless the client decodes."""
    return value.decode() if isinstance(value, bytes) else value


def _entry(entry_id: bytes | str, fields: dict[Any, Any]) -> Entry:
    """Decode a stream entry, keeping the raw payload when it does not decode."""
    raw = _text(fields.get(b"m", fields.get("m", b"")))
    try:
        message: InboundMessage | None = decode(raw)
    except (ValueError, KeyError, TypeError):
        message = None
    return Entry(_text(entry_id), message, raw)


def _entry_time(entry_id: str) -> tuple[int, int]:
    """Stream ids order by (milliseconds, sequence)."""
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)
