"""Errors that mean PostgreSQL or Redis is unreachable (restarting, network), not bad input."""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # What PostgreSQL answers while it shuts down, restarts or recovers from a crash.
    asyncpg.AdminShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.CrashShutdownError,
    # asyncpg's own state error when a pooled connection broke under it mid-restart ("cannot
    # switch to state 15; another operation is in progress"); never caused by the data.
    asyncpg.InternalClientError,
)
"""Whatever was being done is tried again later, however long the outage lasts."""
