"""Long polling for shops without a public HTTPS address; the offset survives restarts.

Telegram allows one getUpdates caller per bot, so processes elect a single poller through a
Redis lease. Each update is queued before the stored offset moves past it: a crash in between
queues it again, and the queue's dedupe by provider message id drops the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

import asyncpg
import structlog
from redis.asyncio import Redis
from telegram import Bot
from telegram.error import Conflict, RetryAfter, TelegramError

from channels.base import PayloadError
from channels.plug import Intake, sleep_or_stop
from channels.telegram import NAME
from channels.telegram.updates import ALLOWED_UPDATES, parse_update
from core.leader import LeaderLease
from core.outages import OUTAGES

log = structlog.get_logger(__name__)
OFFSET_KEY = "telegram:offset"
LEASE_KEY = "telegram:poller"
# Telegram holds a long poll open for the whole timeout; the read may take this much longer.
_READ_SLACK_SECONDS: Final = 10.0


class OffsetStore:
    """The next update id to ask for, kept in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self) -> int | None:
        """The stored offset, if any."""
        value = await self._pool.fetchval(
            "SELECT value FROM channel_state WHERE key = $1", OFFSET_KEY
        )
        return int(value) if value is not None else None

    async def save(self, offset: int) -> None:
        """Remember the offset (never moving it backwards)."""
        await self._pool.execute(
            "INSERT INTO channel_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE"
            " SET value = EXCLUDED.value, updated_at = now()"
            " WHERE channel_state.value::bigint < EXCLUDED.value::bigint",
            OFFSET_KEY,
            str(offset),
        )


class TelegramPoller:
    """Fetches updates with getUpdates and hands each to ingress."""

    def __init__(
        self,
        bot: Bot,
        ingress: Intake,
        offsets: OffsetStore,
        redis: Redis,
        poll_timeout: int = 25,
        lease_seconds: float = 60.0,
    ) -> None:
        self._bot = bot
        self._ingress = ingress
        self._offsets = offsets
        self._poll_timeout = poll_timeout
        self._lease = LeaderLease(redis, LEASE_KEY, lease_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set, while this process holds the poller lease."""
        # getUpdates is refused while a webhook is set.
        await self._bot.delete_webhook(drop_pending_updates=False)
        try:
            await self._poll_while_leader(stop)
        finally:
            # Hand over at once instead of making a restarted process wait out the lease.
            with contextlib.suppress(*OUTAGES):
                await self._lease.release()

    async def _poll_while_leader(self, stop: asyncio.Event) -> None:
        """The polling loop proper, with backoff on errors."""
        backoff = 1.0
        while not stop.is_set():
            try:
                if not await self._lease.hold():
                    await sleep_or_stop(stop, 5.0)  # another process polls; stand by
                    continue
                await self.poll_once()
                backoff = 1.0
            except RetryAfter as error:
                await sleep_or_stop(stop, _seconds(error.retry_after))
            except Conflict:
                log.warning("telegram_poll_conflict", hint="another getUpdates caller or webhook")
                await sleep_or_stop(stop, 5.0)
            except TelegramError as error:
                log.warning("telegram_poll_failed", error=str(error), retry_in=backoff)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60.0)
            except OUTAGES as error:
                # Redis or PostgreSQL restarting: the offset did not move, so Telegram keeps the
                # updates and hands them over again (duplicates are dropped by their ids).
                log.warning("telegram_storage_unreachable", error=repr(error), retry_in=backoff)
                await sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 60.0)

    async def poll_once(self) -> int:
        """Fetch one batch of updates, queue them, store the new offset; return how many."""
        offset = await self._offsets.load()
        updates = await self._raw_updates(offset)
        for data in updates:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            try:
                parsed = parse_update(data, self._bot.username, self._bot.id)
            except PayloadError as error:
                self._ingress.reject(NAME, "bad_payload")
                log.warning("telegram_update_malformed", update_id=update_id, error=str(error))
            else:
                await self._ingress.accept(NAME, parsed)
            if type(update_id) is int:
                await self._offsets.save(update_id + 1)
        return len(updates)

    async def _raw_updates(self, offset: int | None) -> list[Any]:
        """One getUpdates batch as the JSON Telegram sent, each update for parse_update to read.

        PTB's get_updates builds every Update itself, and one it cannot read fails the whole
        batch, again at every poll, since the offset never moves past it. Read this way, the
        polling path is as lenient as the webhook: what the library cannot read is kept aside.
        """
        # PTB has no public call that hands back getUpdates unbuilt (do_api_request warns on
        # methods it knows), so this goes one step below get_updates, with the same request.
        result = await self._bot._post(
            "getUpdates",
            {"offset": offset, "timeout": self._poll_timeout, "allowed_updates": ALLOWED_UPDATES},
            read_timeout=self._poll_timeout + _READ_SLACK_SECONDS,
        )
        return list(result) if isinstance(result, list) else []


def _seconds(value: object) -> float:
    """PTB gives retry_after as seconds or a timedelta, depending on version and settings."""
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
