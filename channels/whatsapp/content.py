"""WhatsApp buttons: choices as Twilio Content API quick replies or a list, created once each.

A reply with choices becomes a content definition (`twilio/quick-reply` for up to three short
choices, `twilio/list-picker` for up to ten); its hash names it, so the same choices reuse the
same ContentSid across processes and restarts. Whatever cannot be shown as buttons, and every
refusal of the Content API, falls back to the numbered text the caller already has.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Final, Protocol

import asyncpg
import structlog
from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from core.messages import Choice

log = structlog.get_logger(__name__)

MAX_BUTTONS: Final = 3
MAX_ITEMS: Final = 10
MAX_BUTTON_TITLE: Final = 20
MAX_ITEM_TITLE: Final = 24
MAX_ITEM_DESCRIPTION: Final = 72
MAX_BODY: Final = 1024
MAX_ID: Final = 200
LIST_BUTTON: Final = "Choose"
"""The list's button when no language is given (20 characters at most)."""
REFUSED_PAUSE_SECONDS: Final = 3600.0
"""After the Content API refuses, numbered text for this long before asking it again."""


class ContentStore(Protocol):
    """Where created contents are remembered: content hash -> ContentSid."""

    async def sid(self, content_hash: str) -> str | None:
        """The ContentSid created for this content before, if any."""
        ...

    async def remember(self, content_hash: str, content_sid: str) -> None:
        """Keep the ContentSid created for this content."""
        ...


class PostgresContentStore:
    """The contents created so far, in PostgreSQL (shared by every process)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def sid(self, content_hash: str) -> str | None:
        """The ContentSid created for this content before, if any."""
        found: str | None = await self._pool.fetchval(
            "SELECT content_sid FROM whatsapp_contents WHERE content_hash = $1", content_hash
        )
        return found

    async def remember(self, content_hash: str, content_sid: str) -> None:
        """Keep the first ContentSid created for this content (a concurrent twin is dropped)."""
        await self._pool.execute(
            "INSERT INTO whatsapp_contents (content_hash, content_sid) VALUES ($1, $2)"
            " ON CONFLICT (content_hash) DO NOTHING",
            content_hash,
            content_sid,
        )


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, an ellipsis where it was cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def content_types(
    text: str, choices: tuple[Choice, ...], fallback: str, button: str = LIST_BUTTON
) -> dict[str, Any] | None:
    """The Content API `types` for a reply with choices; None when buttons cannot carry it.

    `fallback` (the numbered text) is the content's `twilio/text`, shown where buttons are not.
    """
    body = text.strip()
    if not choices or not body or len(body) > MAX_BODY or len(choices) > MAX_ITEMS:
        return None
    if any(not c.entry_id or len(c.entry_id) > MAX_ID for c in choices):
        return None
    labels = [" ".join(c.label.split()) for c in choices]
    if not all(labels):
        return None
    types: dict[str, Any] = {"twilio/text": {"body": fallback[:1600]}}
    if len(choices) <= MAX_BUTTONS and all(len(label) <= MAX_BUTTON_TITLE for label in labels):
        actions = [
            {"title": label, "id": c.entry_id} for label, c in zip(labels, choices, strict=True)
        ]
        types["twilio/quick-reply"] = {"body": body, "actions": actions}
        return types
    items = [
        {"item": shorten(label, MAX_ITEM_TITLE), "id": c.entry_id}
        | (
            {"description": shorten(label, MAX_ITEM_DESCRIPTION)}
            if len(label) > MAX_ITEM_TITLE
            else {}
        )
        for label, c in zip(labels, choices, strict=True)
    ]
    types["twilio/list-picker"] = {"body": body, "button": button, "items": items}
    return types


def content_hash(types: dict[str, Any]) -> str:
    """A stable name for a content: the same choices give the same hash in every process."""
    canonical = json.dumps(types, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ContentTemplates:
    """ContentSids for reply contents: remembered, or created through the Content API."""

    def __init__(self, client: Client, store: ContentStore) -> None:
        self._client = client
        self._store = store
        self._refused_until = 0.0

    def available(self) -> bool:
        """Whether to try buttons now (not within an hour of the API refusing)."""
        return time.monotonic() >= self._refused_until

    async def sid_for(self, types: dict[str, Any]) -> str | None:
        """The content's SID, created when new; None (logged) when the API refuses."""
        key = content_hash(types)
        if (known := await self._store.sid(key)) is not None:
            return known
        request = ContentList.ContentCreateRequest(
            {"friendly_name": f"bot_choices_{key[:16]}", "language": "en", "types": types}
        )
        try:
            created = await self._client.content.v1.contents.create_async(request)
        except (TwilioException, OSError, TimeoutError) as error:
            self.refused(f"create: {error}")
            return None
        if not isinstance(created.sid, str) or not created.sid:
            self.refused("create returned no sid")
            return None
        await self._store.remember(key, created.sid)
        log.info("whatsapp_content_created", content_sid=created.sid, hash=key[:16])
        return created.sid

    def refused(self, why: str) -> None:
        """The Content API (or a send with a ContentSid) was refused: text for a while."""
        self._refused_until = time.monotonic() + REFUSED_PAUSE_SECONDS
        log.warning("whatsapp_buttons_refused", reason=why[:300])
