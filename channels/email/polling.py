"""Read new mail over IMAP (IDLE where offered, polling otherwise) and hand each mail over.

Only mail that arrives after the bot first connected is read: a UID watermark, kept in
PostgreSQL with the folder's UIDVALIDITY, survives restarts. Every mail is handled inside its
own error boundary; a mail that fails is flagged `$BotFailed` in the mailbox and logged, and the
rest go on. When Redis or PostgreSQL is unreachable instead, the reader waits and reads the mail
again. A mail over the size limit (the server's RFC822.SIZE) is not downloaded: only its
headers go to the too-large handler, and it is flagged `$BotTooLarge`. Nothing is deleted or
marked read. One process reads the mailbox at a time (a Redis lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable

import structlog
from aioimaplib import IMAP4
from redis.asyncio import Redis

from channels.email.imap import (
    ImapAccount,
    ImapError,
    ImapLoginRefused,
    WatermarkStore,
    connect_imap,
    logout_quietly,
)
from channels.plug import sleep_or_stop
from core.leader import LeaderLease
from core.outages import OUTAGES

log = structlog.get_logger(__name__)
MailHandler = Callable[[int, bytes], Awaitable[None]]
TooLargeHandler = Callable[[int, bytes, int], Awaitable[None]]
"""Called with a mail's UID, the start of its header section and its size in bytes."""
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UIDNEXT = re.compile(rb"UIDNEXT (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
HEADER_BYTES = 64 * 1024
"""What is read of a mail over the size limit: the start of its header section."""


class EmailPoller:
    """Keeps one IMAP connection, waits for new mail, hands each new mail to `handle`."""

    def __init__(
        self,
        account: ImapAccount,
        handle: MailHandler,
        watermarks: WatermarkStore,
        redis: Redis,
        poll_seconds: float = 60.0,
        idle_seconds: float = 25 * 60,
        *,
        max_bytes: int | None = None,
        too_large: TooLargeHandler | None = None,
    ) -> None:
        self._account = account
        self._handle = handle
        self._max_bytes = max_bytes
        self._too_large = too_large
        self._watermarks = watermarks
        self._lease = LeaderLease(redis, f"email:poller:{account.username}:{account.folder}")
        self._poll_seconds = poll_seconds
        # Servers drop IDLE after 30 minutes; re-issue it before that.
        self._idle_seconds = idle_seconds
        self._lost = asyncio.Event()  # set when the current connection drops
        self.ready = asyncio.Event()
        """Set once connected and caught up: mail arriving from now on will be read."""

    async def run(self, stop: asyncio.Event) -> None:
        """Read mail until `stop` is set, reconnecting with backoff when the connection drops."""
        backoff = 1.0
        try:
            while not stop.is_set():
                try:
                    if not await self._lease.hold():
                        await sleep_or_stop(stop, 5.0)
                        continue
                    await self._session(stop)
                    backoff = 1.0
                except ImapLoginRefused as error:
                    # Wrong password or a revoked token: say so loudly, keep trying slowly.
                    log.error("imap_login_refused", error=str(error), retry_in=backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 300.0)
                except (OSError, TimeoutError, ImapError, asyncio.IncompleteReadError) as error:
                    log.warning("imap_connection_lost", error=repr(error), retry_in=backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 300.0)
                except OUTAGES as error:
                    # Redis or PostgreSQL restarting: the mail waits in the mailbox meanwhile.
                    log.warning("email_storage_unreachable", error=repr(error), retry_in=backoff)
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 60.0)
        finally:
            with contextlib.suppress(*OUTAGES):
                await self._lease.release()

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection: log in, catch up, then wait for mail until stopped or dropped."""
        imap = await self._connect()
        try:
            validity, uidnext = await self._select(imap)
            can_idle = imap.has_capability("IDLE")
            while not stop.is_set():
                await self._catch_up(imap, validity, uidnext)
                self.ready.set()
                await self._lease.hold()
                if can_idle:
                    await self._idle(imap, stop)
                else:
                    await sleep_or_stop(stop, self._poll_seconds)
                    await _ok(await imap.noop(), "NOOP")
        finally:
            await logout_quietly(imap)

    async def _connect(self) -> IMAP4:
        """Open the connection and authenticate (password or XOAUTH2)."""
        # aioimaplib leaves a waiting IDLE hanging when the server drops the connection; this
        # event is what ends it (see _idle).
        self._lost = asyncio.Event()
        lost = self._lost.set

        def on_lost(error: Exception | None) -> None:
            lost()

        return await connect_imap(self._account, on_lost)

    async def _select(self, imap: IMAP4) -> tuple[int, int]:
        """Open the folder; return its UIDVALIDITY and UIDNEXT."""
        response = await imap.select(self._account.folder)
        await _ok(response, f"SELECT {self._account.folder}")
        joined = b" ".join(line for line in response.lines if isinstance(line, bytes))
        validity = _UIDVALIDITY.search(joined)
        uidnext = _UIDNEXT.search(joined)
        if validity is None:
            raise ImapError("server sent no UIDVALIDITY")
        return int(validity.group(1)), int(uidnext.group(1)) if uidnext else 1

    async def _catch_up(self, imap: IMAP4, validity: int, uidnext: int) -> None:
        """Handle every mail above the watermark, oldest first."""
        stored = await self._watermarks.load()
        if stored is None or stored[0] != validity:
            # First start (or the folder was rebuilt): only mail from now on is new.
            last = uidnext - 1
            await self._watermarks.save(validity, last)
            log.info("imap_watermark_set", folder=self._account.folder, uid=last)
        else:
            last = stored[1]
        response = await imap.uid_search(f"UID {last + 1}:*")
        await _ok(response, "UID SEARCH")
        uids = sorted(
            int(token)
            for line in response.lines
            if isinstance(line, bytes)
            for token in line.split()
            if token.isdigit() and int(token) > last
        )
        for uid in uids:
            await self._one(imap, uid)
            await self._watermarks.save(validity, uid)

    async def _one(self, imap: IMAP4, uid: int) -> None:
        """Fetch and hand over one mail inside its own error boundary."""
        if self._max_bytes is not None:
            size = await self._size(imap, uid)
            if size is not None and size > self._max_bytes:
                await self._set_aside_too_large(imap, uid, size)
                return
        response = await imap.uid("fetch", str(uid), "(BODY.PEEK[])")
        await _ok(response, f"UID FETCH {uid}")
        raw = _literal(response.lines)
        if raw is None:
            log.warning("imap_mail_missing", uid=uid)
            return
        try:
            await self._handle(uid, raw)
        except OUTAGES:
            raise  # not the mail's fault: read again from the watermark once storage is back
        except Exception:
            log.exception("email_set_aside", uid=uid, size=len(raw))
            await imap.uid("store", str(uid), "+FLAGS", "($BotFailed)")

    async def _size(self, imap: IMAP4, uid: int) -> int | None:
        """The mail's size as the server stores it; None if the server does not say."""
        response = await imap.uid("fetch", str(uid), "(RFC822.SIZE)")
        await _ok(response, f"UID FETCH {uid} RFC822.SIZE")
        for line in response.lines:
            if isinstance(line, bytes | bytearray) and (found := _FETCH_SIZE.search(line)):
                return int(found.group(1))
        return None

    async def _set_aside_too_large(self, imap: IMAP4, uid: int, size: int) -> None:
        """Flag a mail over the limit and hand over only its headers; never download it."""
        log.warning("email_too_large", uid=uid, size=size, limit=self._max_bytes)
        await imap.uid("store", str(uid), "+FLAGS", "($BotTooLarge)")
        if self._too_large is None:
            return
        response = await imap.uid("fetch", str(uid), f"(BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)")
        await _ok(response, f"UID FETCH {uid} HEADER")
        headers = _literal(response.lines) or b""
        try:
            await self._too_large(uid, headers, size)
        except OUTAGES:
            raise
        except Exception:
            log.exception("email_set_aside", uid=uid, size=size)
            await imap.uid("store", str(uid), "+FLAGS", "($BotFailed)")

    async def _idle(self, imap: IMAP4, stop: asyncio.Event) -> None:
        """Wait in IDLE until the server reports new mail, the timeout, or a stop."""
        idle = await imap.idle_start(timeout=self._idle_seconds)
        stopper = asyncio.create_task(stop.wait())
        dropped = asyncio.create_task(self._lost.wait())
        pusher = asyncio.create_task(imap.wait_server_push(timeout=self._idle_seconds))
        try:
            while True:
                done, _ = await asyncio.wait(
                    {stopper, dropped, pusher}, return_when=asyncio.FIRST_COMPLETED
                )
                if stopper in done:
                    break
                if dropped in done:
                    raise ImapError("the server closed the connection")
                pushed = pusher.result()
                lines = _as_lines(pushed)
                if any(line.startswith(b"* BYE") for line in lines):
                    raise ImapError("the server said BYE")
                if any(b"EXISTS" in line for line in lines):
                    break
                if idle.done():
                    break
                pusher = asyncio.create_task(imap.wait_server_push(timeout=self._idle_seconds))
        except TimeoutError:
            pass
        finally:
            stopper.cancel()
            dropped.cancel()
            if not pusher.done():
                pusher.cancel()
            if not self._lost.is_set():
                imap.idle_done()
                try:
                    await asyncio.wait_for(idle, timeout=10)
                except TimeoutError as error:
                    raise ImapError("server did not end IDLE") from error


def _as_lines(pushed: object) -> list[bytes]:
    """Server pushes come as a line or a list of lines."""
    if isinstance(pushed, bytes):
        return [pushed]
    if isinstance(pushed, list):
        return [line for line in pushed if isinstance(line, bytes)]
    return []


def _literal(lines: list[object]) -> bytes | None:
    """The message bytes of a FETCH response (the literal after its header line)."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    candidates = [line for line in lines if isinstance(line, bytes) and not _FETCH_UID.search(line)]
    return max(candidates, key=len) if candidates else None


async def _ok(response: object, what: str) -> None:
    """Raise ImapError unless the server answered OK."""
    result = getattr(response, "result", None)
    if result != "OK":
        lines = getattr(response, "lines", [])
        raise ImapError(f"{what} failed: {result} {lines!r}"[:300])
