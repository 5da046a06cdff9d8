"""The bot's mailbox over IMAP: the account, logging in, a quiet logout, how far it was read."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aioimaplib import IMAP4, IMAP4_SSL

TokenSource = Callable[[], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class ImapAccount:
    """Where and how to log in; `oauth2` (an access-token source) replaces the password."""

    host: str
    port: int
    username: str
    password: str | None
    use_tls: bool = True
    folder: str = "INBOX"
    oauth2: TokenSource | None = None


class ImapError(Exception):
    """The server refused a command."""


class ImapLoginRefused(ImapError):
    """The server refused the login (or the XOAUTH2 token)."""


async def connect_imap(
    account: ImapAccount, on_lost: Callable[[Exception | None], None] | None = None
) -> IMAP4:
    """Open a connection to the account's server and authenticate (password or XOAUTH2).

    `on_lost` is called when the connection drops. A server that cannot be reached raises
    OSError, TimeoutError or IncompleteReadError, a refused login ImapLoginRefused; either way
    the connection is closed first.
    """
    imap: IMAP4
    if account.use_tls:
        context = ssl.create_default_context()
        imap = IMAP4_SSL(
            host=account.host, port=account.port, ssl_context=context, conn_lost_cb=on_lost
        )
    else:
        imap = IMAP4(host=account.host, port=account.port, conn_lost_cb=on_lost)
    try:
        await imap.wait_hello_from_server()
        if account.oauth2 is not None:
            response = await imap.xoauth2(account.username, await _access_token(account.oauth2))
        else:
            response = await imap.login(account.username, account.password or "")
        if response.result != "OK":
            raise ImapLoginRefused(f"login failed: {response.result} {response.lines!r}"[:300])
    except BaseException:
        await logout_quietly(imap)
        raise
    return imap


async def _access_token(source: TokenSource) -> str:
    """An XOAUTH2 access token; a token endpoint that refuses or fails is a refused login.

    So the reader retries with backoff, as after any refused login, instead of stopping the
    whole process, and `bot doctor` reports it as a login problem.
    """
    try:
        return await source()
    except Exception as error:
        raise ImapLoginRefused(f"no access token: {error}"[:300]) from error


async def logout_quietly(imap: IMAP4) -> None:
    """Log out, if the connection still allows it; it may already be gone, or never opened."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(imap.logout(), timeout=5)


class WatermarkStore:
    """The last UID handled per mailbox folder, with the folder's UIDVALIDITY."""

    def __init__(self, pool: asyncpg.Pool, account: ImapAccount) -> None:
        self._pool = pool
        self._key = f"email:{account.username}:{account.folder}:uid"

    async def load(self) -> tuple[int, int] | None:
        """(uidvalidity, last uid), if stored."""
        value = await self._pool.fetchval(
            "SELECT value FROM channel_state WHERE key = $1", self._key
        )
        if value is None:
            return None
        validity, _, uid = str(value).partition(":")
        return int(validity), int(uid)

    async def save(self, validity: int, uid: int) -> None:
        """Remember the last handled UID."""
        await self._pool.execute(
            "INSERT INTO channel_state (key, value) VALUES ($1, $2) ON CONFLICT (key)"
            " DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            self._key,
            f"{validity}:{uid}",
        )
