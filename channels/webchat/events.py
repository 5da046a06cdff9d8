"""Web chat: visitor tokens, what a browser may send, and the sender that stores replies for it.

A browser has no provider id of its own, so the bot gives it an anonymous visitor id, signed
so the browser can keep it (a reload continues the conversation) but cannot make one up.

A reply counts as sent once it is stored for the visitor: appended to a short per-visitor Redis
stream and announced on one pub/sub channel, so whichever server process holds the visitor's
socket pushes it. A browser that is away finds it in the conversation history when it is back;
the stream covers the moment between announcing a reply and PostgreSQL marking it sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.base import PayloadError, SendError
from channels.webchat import NAME
from core.messages import Choice, InboundMessage
from core.redaction import hide_ids

log = structlog.get_logger(__name__)

MAX_FRAME_BYTES = 32 * 1024
"""The largest message a browser may send. The core reads the first 4,000 characters of a
longer text and says so, as on every channel; the widget itself stops at 4,000."""
LIVE_CHANNEL = "webchat:live"
STREAM_TTL_SECONDS = 3600
STREAM_MAXLEN = 100
HUMAN_COMMAND = "/human"
_VISITOR = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MAX_CHOICE_CHARS = 200
_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}

Event = dict[str, Any]


class VisitorTokens:
    """Visitor ids and the signed tokens browsers keep them in."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("the web chat secret must be at least 16 characters")
        self._key = secret.encode()

    def new_visitor(self) -> tuple[str, str]:
        """A fresh anonymous visitor id and its token."""
        visitor = secrets.token_urlsafe(16)
        return visitor, self.token_for(visitor)

    def token_for(self, visitor: str) -> str:
        """The token a browser keeps: the visitor id and its signature."""
        digest = hmac.new(self._key, b"webchat-visitor:" + visitor.encode(), hashlib.sha256)
        signature = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        return f"{visitor}.{signature}"

    def visitor_of(self, token: object) -> str | None:
        """The visitor a token names; None for anything not signed by us."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        visitor, _, _ = token.partition(".")
        if not _VISITOR.match(visitor):
            return None
        if not hmac.compare_digest(self.token_for(visitor).encode(), token.encode()):
            return None
        return visitor


def normalize_origin(value: str) -> str:
    """An origin as browsers send it: scheme://host[:port], lower case, no default port.

    Raises ValueError for anything else (a path, a wildcard, a missing scheme).
    """
    cleaned = value.strip().rstrip("/").lower()
    match = _ORIGIN.match(cleaned)
    if match is None:
        raise ValueError(f"{value.strip()!r} is not an origin such as https://www.example.sg")
    scheme, host, port = match.groups()
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return f"{scheme}://{host}{port or ''}"


def origin_allowed(origin: str | None, allowed: frozenset[str], own_hosts: set[str]) -> bool:
    """Whether a browser on `origin` may use the chat.

    No Origin header means no browser page is asking (curl, a server), which is fine: a token
    is needed all the same. The bot's own pages (`own_hosts`: the Host it was reached at and
    its public address) are always allowed; other sites only when configured.
    """
    if origin is None:
        return True
    try:
        normalized = normalize_origin(origin)
    except ValueError:
        return False  # "null" (a sandboxed frame or a file), or garbage
    if normalized in allowed:
        return True
    return urlsplit(normalized).netloc in {h.lower() for h in own_hosts}


def parse_message(visitor: str, data: object, received_at: datetime) -> InboundMessage:
    """A message a browser sent: {"id": ..., "text": ..., "choice": entry id or null}."""
    if not isinstance(data, Mapping):
        raise PayloadError("expected a JSON object")
    client_id = data.get("id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise PayloadError("'id' must be 8 to 64 letters, digits, '-' or '_'")
    text = data.get("text")
    if not isinstance(text, str):
        raise PayloadError("'text' must be a string")
    choice = data.get("choice")
    if choice is not None and (not isinstance(choice, str) or len(choice) > _MAX_CHOICE_CHARS):
        raise PayloadError("'choice' must be the entry id of an offered option")
    if not text.strip() and not choice:
        raise PayloadError("the message is empty")
    return InboundMessage(
        channel=NAME,
        external_user_id=visitor,
        # Prefixed, so one browser cannot make another's message look like a duplicate.
        provider_message_id=f"{visitor}:{client_id}",
        text=text,
        received_at=received_at,
        choice_entry_id=choice or None,
    )


def client_id_of(message: InboundMessage) -> str:
    """The id the browser gave its message."""
    return message.provider_message_id.partition(":")[2]


def stream_key(visitor: str) -> str:
    """The Redis stream of what was recently stored for one visitor."""
    return f"webchat:out:{visitor}"


def message_event(
    author: str,
    event_id: str,
    text: str,
    choices: tuple[Choice, ...] = (),
    at: datetime | None = None,
) -> Event:
    """A message as the browser shows it; `author` is "bot" or "customer"."""
    return {
        "type": "message",
        "from": author,
        "id": event_id,
        "text": text,
        "choices": [{"label": c.label, "entry_id": c.entry_id} for c in choices],
        "at": (at or datetime.now(UTC)).isoformat(),
    }


async def store_event(redis: Redis, visitor: str, event: Event) -> None:
    """Keep an event for the visitor for a while and announce it to every server process."""
    payload = json.dumps(event, ensure_ascii=False)
    key = stream_key(visitor)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xadd(key, {"e": payload}, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.expire(key, STREAM_TTL_SECONDS)
        pipe.publish(LIVE_CHANNEL, json.dumps({"v": visitor, "e": event}, ensure_ascii=False))
        await pipe.execute()


async def announce(redis: Redis, visitor: str, event: Event) -> None:
    """Tell the visitor's open sockets something that need not be kept (a message handled)."""
    await redis.publish(LIVE_CHANNEL, json.dumps({"v": visitor, "e": event}, ensure_ascii=False))


async def recent_events(redis: Redis, visitor: str) -> list[Event]:
    """What was stored for the visitor lately, oldest first."""
    entries = cast(list[tuple[Any, dict[Any, Any]]], await redis.xrange(stream_key(visitor)))
    events = []
    for _, fields in entries:
        raw = fields.get(b"e", fields.get("e"))
        if raw is not None:
            events.append(cast(Event, json.loads(raw)))
    return events


async def echo_customer(redis: Redis, message: InboundMessage) -> None:
    """Show a customer's message in their other tabs (and after a reload before it is stored).

    The text is masked as it will be stored: no NRIC number sits in Redis.
    """
    masked = hide_ids(message)
    event = message_event("customer", client_id_of(message), masked.text, at=message.received_at)
    await store_event(redis, message.external_user_id, event)


class WebChatSender:
    """Stores replies for the visitor's browser; its open sockets, in any process, push them."""

    channel = NAME

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        """Store one reply (never split: a browser shows any length); return its event id."""
        if not _VISITOR.match(address):
            raise SendError(f"not a web chat visitor: {address[:80]!r}", retryable=False)
        if not text.strip():
            raise SendError("empty reply", retryable=False)
        event_id = uuid.uuid4().hex
        try:
            await store_event(self._redis, address, message_event("bot", event_id, text, choices))
        except (RedisError, OSError) as error:
            raise SendError(f"redis: {error}", retryable=True) from error
        return [event_id]

    async def acknowledge(self, message: InboundMessage) -> None:
        """Say the message was handled, so the widget stops showing the bot typing."""
        event = {"type": "handled", "id": client_id_of(message)}
        try:
            await announce(self._redis, message.external_user_id, event)
        except (RedisError, OSError) as error:
            # Only the typing indicator lingers: the widget stops it after a while by itself.
            log.warning("webchat.ack_failed", error=repr(error))
