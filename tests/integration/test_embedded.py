"""Embedded PostgreSQL and Valkey: persistence, clean stop, sharing, signals, crash recovery."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from redis.asyncio import Redis

from bot.embedded.servers import EmbeddedServiceError, EmbeddedServices

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# Another bot process on the same folder: joins the servers, optionally stores a note, prints
# "ready" and idles until a signal arrives.
CHILD = """
import asyncio, sys, time
from pathlib import Path
import asyncpg
from redis.asyncio import Redis
from bot.embedded.servers import EmbeddedServices

async def note(services, tag):
    conn = await asyncpg.connect(services.database_url)
    await conn.execute("INSERT INTO notes VALUES ($1)", tag)
    await conn.close()
    redis = Redis.from_url(services.redis_url)
    await redis.set(f"note:{tag}", "1")
    await redis.aclose()

with EmbeddedServices(Path(sys.argv[1])) as services:
    if len(sys.argv) > 2:
        asyncio.run(note(services, sys.argv[2]))
    print("ready", flush=True)
    while True:
        time.sleep(60)
"""

StartChild = Callable[..., subprocess.Popen[str]]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the module, set up by its only cold start, with a notes table."""
    folder = tmp_path_factory.mktemp("embedded") / "data"

    async def create_table(services: EmbeddedServices) -> None:
        conn = await asyncpg.connect(services.database_url)
        await conn.execute("CREATE TABLE notes (tag text PRIMARY KEY)")
        await conn.close()

    with EmbeddedServices(folder) as services:
        asyncio.run(create_table(services))
    return folder


@pytest.fixture
def start_child() -> Iterator[StartChild]:
    """Start CHILD on a folder and wait for "ready"; terminate leftovers at teardown."""
    children: list[subprocess.Popen[str]] = []

    def start(folder: Path, *tag: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-c", CHILD, str(folder), *tag]
        child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        children.append(child)
        assert child.stdout is not None
        for line in child.stdout:  # structlog writes to stdout as well
            if line.strip() == "ready":
                return child
        raise AssertionError(f"child exited with {child.wait()} before it was ready")

    yield start
    for child in children:
        if child.poll() is None:
            child.terminate()
        child.wait(timeout=30)
        assert child.stdout is not None
        child.stdout.close()


def servers(folder: Path) -> list[psutil.Process]:
    """Live postgres and valkey-server processes working in folder (both chdir into it)."""
    found = []
    for process in psutil.process_iter(["name", "status"]):
        if process.info["name"] not in ("postgres", "valkey-server"):
            continue
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if Path(process.cwd()).is_relative_to(folder):
                found.append(process)
        except psutil.Error:
            continue
    return found


def wait_for_no_servers(folder: Path) -> None:
    deadline = time.monotonic() + 10
    while servers(folder):
        assert time.monotonic() < deadline, f"still running: {servers(folder)}"
        time.sleep(0.05)


async def note(services: EmbeddedServices, tag: str) -> None:
    conn = await asyncpg.connect(services.database_url)
    await conn.execute("INSERT INTO notes VALUES ($1)", tag)
    await conn.close()
    redis = Redis.from_url(services.redis_url)
    await redis.set(f"note:{tag}", "1")
    await redis.aclose()


async def noted(services: EmbeddedServices, tag: str) -> tuple[bool, bool]:
    conn = await asyncpg.connect(services.database_url)
    rows = await conn.fetchval("SELECT count(*) FROM notes WHERE tag = $1", tag)
    await conn.close()
    redis = Redis.from_url(services.redis_url)
    keys = await redis.exists(f"note:{tag}")
    await redis.aclose()
    return rows == 1, keys == 1


async def test_data_survives_a_restart_and_stop_leaves_no_servers(data_dir: Path) -> None:
    async with EmbeddedServices(data_dir) as services:
        assert services.database_url.startswith("postgresql://postgres@/supportbot?host=")
        assert services.redis_url.startswith("unix://")
        await note(services, "restart")
        redis = Redis.from_url(services.redis_url)
        config = await redis.config_get("appendonly", "appendfsync", "save")
        await redis.aclose()
        assert (config["appendonly"], config["appendfsync"]) == ("yes", "everysec")
        assert config["save"]
    assert servers(data_dir) == []
    with pytest.raises(RuntimeError):
        _ = services.database_url

    async with EmbeddedServices(data_dir) as services:
        assert await noted(services, "restart") == (True, True)
    assert servers(data_dir) == []


@pytest.mark.parametrize("kill_servers", [False, True], ids=["owner-killed", "all-killed"])
async def test_start_after_a_crash(
    data_dir: Path, kill_servers: bool, start_child: StartChild
) -> None:
    tag = f"crash-{kill_servers}"
    child = start_child(data_dir, tag)
    victims = [psutil.Process(child.pid), *(servers(data_dir) if kill_servers else [])]
    for victim in victims:
        victim.kill()
    child.wait()
    if kill_servers:
        wait_for_no_servers(data_dir)

    async with EmbeddedServices(data_dir) as services:
        assert await noted(services, tag) == (True, True)
    # The dead owner's pid is forgotten, so we were the last user and stopped both servers.
    assert servers(data_dir) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_shared_servers_stop_with_their_last_user(
    data_dir: Path, signum: signal.Signals, start_child: StartChild
) -> None:
    services = EmbeddedServices(data_dir)
    if signum == signal.SIGTERM:  # we start the servers, the child joins
        await asyncio.to_thread(services.start)
        child = start_child(data_dir)
    else:  # the child starts them, we join
        child = start_child(data_dir)
        await asyncio.to_thread(services.start)
    running = {process.pid for process in servers(data_dir)}
    assert len(running) > 1

    await asyncio.to_thread(services.stop)
    assert {process.pid for process in servers(data_dir)} == running  # the child still uses them

    child.send_signal(signum)
    assert child.wait(timeout=30) != 0
    assert servers(data_dir) == []


@pytest.mark.parametrize(
    ("name", "complaint"),
    [("data", "is a file, not a folder"), ("my data", "must not contain spaces")],
    ids=["a-file", "a-space"],
)
def test_a_bad_data_dir_is_a_clear_error(tmp_path: Path, name: str, complaint: str) -> None:
    bad = tmp_path / name
    if name == "data":
        bad.write_text("not a folder")
    with pytest.raises(EmbeddedServiceError) as caught:
        EmbeddedServices(bad).start()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"embedded PostgreSQL failed to start in {bad}")
    assert complaint in message
    assert servers(tmp_path) == []


def test_one_instance_per_folder_per_process(data_dir: Path) -> None:
    with EmbeddedServices(data_dir, valkey=False) as services:
        with pytest.raises(EmbeddedServiceError, match="already runs embedded services"):
            EmbeddedServices(data_dir, postgres=False).start()
        with pytest.raises(RuntimeError):
            _ = services.redis_url
    assert servers(data_dir) == []
