"""Short-term memory in Redis: recent turns per conversation, handled-message marks, locks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of a conversation as the composer sees it."""

    role: str  # "customer" or "bot"
    text: str


class Memory(Protocol):
    """What the core needs from fast, expiring memory."""

    async def recent_turns(self, conversation_id: int) -> list[Turn]:
        """The last turns of a conversation, oldest first."""
        ...

    async def remember(self, conversation_id: int, turns: list[Turn]) -> None:
        """Append turns and trim the window."""
        ...

    async def was_handled(self, channel: str, provider_message_id: str) -> bool:
        """Whether this provider message was already answered (fast path before the database)."""
        ...

    async def mark_handled(self, channel: str, provider_message_id: str) -> None:
        """Remember that this provider message was answered."""
        ...

    def conversation_lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold a lock so one customer's messages are handled one at a time."""
        ...


class RedisMemory:
    """Memory on Redis (or Valkey) through redis-py's asyncio client."""

    def __init__(
        self,
        redis: Redis,
        window: int = 12,
        ttl_seconds: int = 7 * 24 * 3600,
        handled_ttl_seconds: int = 3 * 24 * 3600,
        lock_timeout_seconds: float = 60.0,
    ) -> None:
        self._redis = redis
        self._window = window
        self._ttl = ttl_seconds
        # Providers retry for hours at most; three days covers every retry policy we know.
        self._handled_ttl = handled_ttl_seconds
        self._lock_timeout = lock_timeout_seconds

    async def recent_turns(self, conversation_id: int) -> list[Turn]:
        """The last turns of a conversation, oldest first."""
        raw = await self._redis.lrange(f"turns:{conversation_id}", 0, -1)
        return [Turn(**json.loads(item)) for item in raw]

    async def remember(self, conversation_id: int, turns: list[Turn]) -> None:
        """Append turns and trim the window."""
        key = f"turns:{conversation_id}"
        payload = [json.dumps({"role": t.role, "text": t.text}) for t in turns]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *payload)
            pipe.ltrim(key, -self._window, -1)
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def was_handled(self, channel: str, provider_message_id: str) -> bool:
        """Whether this provider message was already answered (fast path before the database)."""
        return bool(await self._redis.exists(f"handled:{channel}:{provider_message_id}"))

    async def mark_handled(self, channel: str, provider_message_id: str) -> None:
        """Remember that this provider message was answered."""
        await self._redis.set(f"handled:{channel}:{provider_message_id}", 1, ex=self._handled_ttl)

    @asynccontextmanager
    async def conversation_lock(self, key: str) -> AsyncIterator[None]:
        """Hold a lock so one customer's messages are handled one at a time."""
        # The timeout frees the lock if its holder dies; blocking_timeout bounds the wait.
        lock = self._redis.lock(
            f"lock:{key}", timeout=self._lock_timeout, blocking_timeout=self._lock_timeout
        )
        acquired = await lock.acquire()
        if not acquired:
            raise TimeoutError(f"conversation {key} stayed locked for {self._lock_timeout}s")
        try:
            yield
        finally:
            await lock.release()

    async def forget_conversation(self, conversation_id: int) -> None:
        """Drop a conversation's recent turns."""
        await self._redis.delete(f"turns:{conversation_id}")
