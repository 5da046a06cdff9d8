"""A Redis lease so that exactly one process runs a singleton loop (a poller) at a time."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaderLease:
    """Take or keep a named lease; it lapses on its own if the holder dies."""

    def __init__(self, redis: Redis, key: str, seconds: float = 60.0) -> None:
        self.key = key
        self._ms = int(seconds * 1000)
        self._token = uuid.uuid4().hex
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take the lease or extend ours; False while another process holds it."""
        return bool(await self._renew(keys=[self.key], args=[self._token, self._ms]))

    async def release(self) -> None:
        """Give the lease up at once, so a restarted process need not wait it out."""
        await self._release(keys=[self.key], args=[self._token])
