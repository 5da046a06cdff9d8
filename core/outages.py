"""Errors meaning storage is unreachable (try again later), and errors the data itself causes."""

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

BAD_DATA: tuple[type[BaseException], ...] = (
    # PostgreSQL refusing the value itself (SQLSTATE class 22: e.g. a NUL character).
    asyncpg.DataError,
    # Text no store can encode (lone surrogates).
    UnicodeError,
)
"""Trying again cannot help: the message is set aside at once and the customer told."""
