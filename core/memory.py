"""Short-term memory in Redis: one claim per message holds the customer's lock and recent turns.

A claim costs two round trips: one script checks the message was not handled already, takes the
customer's lock and reads their recent turns; another appends the new turns, marks the message
handled and releases the lock. Handling one customer's messages one at a time keeps them in order.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.data_rights import Person
from core.messages import Choice


@dataclass(frozen=True, slots=True)
class Turn:
    """One line of a conversation as the composer sees it."""

    role: str  # "customer" or "bot"
    text: str
    choices: tuple[Choice, ...] = ()
    """The numbered options a bot turn offered, so a reply of "2" can pick one."""


class Claim(Protocol):
    """The right to handle one message, with the customer's recent turns."""

    def history(self, conversation_id: int) -> list[Turn]:
        """Recent turns of this conversation, oldest first."""
        ...

    async def finish(self, conversation_id: int, turns: list[Turn]) -> None:
        """Remember new turns (possibly none), mark the message handled, release the lock."""
        ...


class Memory(Protocol):
    """What the core needs from fast, expiring memory."""

    def claim(
        self, channel: str, user: str, provider_message_id: str
    ) -> AbstractAsyncContextManager[Claim | None]:
        """Claim a message; None when it was already handled."""
        ...


RELEASE_RETRY_SECONDS = 10.0
"""How long a claim that failed keeps trying to release the customer's lock (Redis restarting)."""

# KEYS: handled, lock, turns. ARGV: token, lock ms. Returns -1 handled, 0 busy, or {1, turns...}.
_BEGIN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local turns = redis.call('LRANGE', KEYS[3], 0, -1)
table.insert(turns, 1, 1)
return turns
"""
# KEYS: handled, lock, turns. ARGV: token, handled s, window, turns ttl s, turn json...
_FINISH = """
for i = 5, #ARGV do redis.call('RPUSH', KEYS[3], ARGV[i]) end
if #ARGV >= 5 then
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[3]), -1)
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
redis.call('SET', KEYS[1], 1, 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _RedisClaim:
    """A held claim: the turns read at claim time and the keys to finish with."""

    def __init__(self, memory: RedisMemory, keys: list[str], token: str, raw: list[Any]) -> None:
        self._memory = memory
        self._keys = keys
        self._token = token
        self._turns = [json.loads(item) for item in raw]
        self.finished = False

    def history(self, conversation_id: int) -> list[Turn]:
        """Recent turns of this conversation, oldest first."""
        return [
            Turn(t["r"], t["t"], tuple(Choice(label, entry) for label, entry in t.get("ch", ())))
            for t in self._turns
            if t["c"] == conversation_id
        ]

    async def finish(self, conversation_id: int, turns: list[Turn]) -> None:
        """Remember new turns (possibly none), mark the message handled, release the lock."""
        encoded = [
            json.dumps(
                {
                    "c": conversation_id,
                    "r": t.role,
                    "t": t.text,
                    "ch": [[c.label, c.entry_id] for c in t.choices],
                }
            )
            for t in turns
        ]
        m = self._memory
        await m.finish_script(
            keys=self._keys,
            args=[self._token, m.handled_ttl, m.window, m.ttl, *encoded],
        )
        self.finished = True


class RedisMemory:
    """Memory on Redis (or Valkey) through redis-py's asyncio client; also personal data copies."""

    name = "memory"

    def __init__(
        self,
        redis: Redis,
        window: int = 12,
        ttl_seconds: int = 7 * 24 * 3600,
        handled_ttl_seconds: int = 3 * 24 * 3600,
        lock_seconds: float = 60.0,
    ) -> None:
        self._redis = redis
        self.window = window
        self.ttl = ttl_seconds
        # Providers retry for hours at most; three days covers every retry policy we know.
        self.handled_ttl = handled_ttl_seconds
        # The lock expires on its own if its holder dies; waiting is bounded by the same time.
        self._lock_ms = int(lock_seconds * 1000)
        self._begin = redis.register_script(_BEGIN)
        self.finish_script = redis.register_script(_FINISH)
        self._release = redis.register_script(_RELEASE)

    @asynccontextmanager
    async def claim(
        self, channel: str, user: str, provider_message_id: str
    ) -> AsyncIterator[_RedisClaim | None]:
        """Claim a message; None when it was already handled."""
        keys = [
            f"handled:{channel}:{provider_message_id}",
            f"lock:{channel}:{user}",
            _turns_key(channel, user),
        ]
        token = uuid.uuid4().hex
        raw = await self._acquire(keys, token)
        if raw is None:
            yield None
            return
        claim = _RedisClaim(self, keys, token, raw)
        try:
            yield claim
        finally:
            if not claim.finished:
                await self._let_go(keys[1], token)

    async def _let_go(self, lock: str, token: str) -> None:
        """Release the customer's lock, retrying through a short Redis outage.

        A lock left behind holds the customer's next messages until it expires (lock_seconds).
        """
        delay, waited = 0.1, 0.0
        while True:
            try:
                await self._release(keys=[lock], args=[token])
                return
            except (RedisConnectionError, RedisTimeoutError):
                if waited >= RELEASE_RETRY_SECONDS:
                    raise
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 1.0)

    async def _acquire(self, keys: list[str], token: str) -> list[Any] | None:
        """Wait for the customer's lock; None when the message was handled meanwhile."""
        delay, waited = 0.002, 0.0
        while True:
            result = await self._begin(keys=keys, args=[token, self._lock_ms])
            if result == -1:
                return None
            if isinstance(result, list):
                return result[1:]
            if waited * 1000 >= self._lock_ms:
                raise TimeoutError(f"customer {keys[1]} stayed locked for {waited:.0f}s")
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.05)

    async def export(self, person: Person) -> list[Any]:
        """The recent turns kept for each of the person's identities."""
        found: list[Any] = []
        for identity in person.identities:
            raw = await self._redis.lrange(
                _turns_key(identity.channel, identity.external_id), 0, -1
            )
            found.extend({"channel": identity.channel, **json.loads(item)} for item in raw)
        return found

    async def erase(self, person: Person) -> int:
        """Forget the person's recent turns on every channel."""
        keys = [_turns_key(i.channel, i.external_id) for i in person.identities]
        return int(await self._redis.delete(*keys)) if keys else 0

    async def expire(self, cutoff: datetime) -> int:
        """Nothing to do: turns expire on their own within the retention period (ttl_seconds)."""
        return 0


def _turns_key(channel: str, user: str) -> str:
    """Where one customer's recent turns on one channel are kept."""
    return f"turns:{channel}:{user}"
