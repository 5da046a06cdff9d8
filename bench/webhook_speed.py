"""Webhook acknowledgement latency and end-to-end messages/s through a real `bot serve` process.

The bench generates the 1,000-chunk FAQ knowledge base of `bench/speed.py`, starts a fake Telegram
Bot API in this process (it records when each sendMessage arrives, and for which chat), and runs
`bot serve` as a subprocess in webhook mode on a fresh data folder, with its own embedded
PostgreSQL and Valkey. Every message is a CLINC150 question not asked before in the run (test,
then validation, then training utterances not in the knowledge base) from a new chat, posted to
/webhooks/telegram as Telegram would post it.

- ack: a steady, open-loop 200 POSTs/s for 20 s (sent at fixed times whatever the answers); the
  latency is the HTTP response time of each POST.
- capacity: N messages posted as fast as the server acknowledges them (32 posters); messages/s
  runs from the first POST to the last recorded sendMessage.
- steady: N messages at a fixed offered rate (50/s and 250/s); the latency of a message runs from
  the start of its POST to the arrival of its sendMessage.

Each model (fp32, `EMBEDDING_INT8=true`) runs in two layouts: `bot serve` with its default one
worker in the same process ("in-process"), and `bot serve --workers 0` plus a `bot worker`
process ("split"; the two get data folders of their own, see run_once). The load generator and
the fake Bot API share the same 2 cores; their CPU is reported as "bench", and they run at nice
-10 so that their own delays do not count as the bot's. The machine may be shared: a phase during
which other processes used more than 0.15 cores is repeated (twice at most), and the "others"
column shows what they used in the phase kept.

    .venv/bin/python bench/webhook_speed.py                       # fp32 and int8, both layouts
    .venv/bin/python bench/webhook_speed.py --int8-only --layout inprocess --messages 3000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import psutil
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.providers: the fake Bot API

from speed import clinc, write_faq_kb

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from channels.telegram.updates import webhook_secret
from tests.providers.telegram_api import TOKEN, FakeTelegramAPI

CHUNKS = 1000
PUBLIC_URL = "https://bench.example"
READY_TIMEOUT = 600.0
DRAIN_TIMEOUT = 180.0
WARMUP = 64
POSTERS = 32  # concurrent posters in the capacity phase
ACK_TARGET_MS = 25.0
RATE_TARGET = 250.0
E2E_P95_TARGET_MS = 100.0
NOISY_CORES = 0.15  # a phase during which other processes used more is repeated ...
NOISY_RETRIES = 2  # ... up to this many times


class RecordingTelegramAPI(FakeTelegramAPI):
    """The fake Bot API, also noting the monotonic arrival time of each sendMessage per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = {}

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        arrived = time.monotonic()
        chat = params.get("chat_id")
        if isinstance(chat, int):
            self.arrivals.setdefault(chat, []).append(arrived)
        return await super()._m_sendMessage(params)


@dataclass
class Post:
    """One webhook POST: when it was due, when it started and was answered, and the status."""

    chat: int
    due: float
    started: float = 0.0
    answered: float = 0.0
    status: int = 0

    @property
    def ack_ms(self) -> float:
        """HTTP response time, including any wait for a free client connection."""
        return 1000 * (self.answered - self.started)

    @property
    def lag_ms(self) -> float:
        """How late the POST started against its schedule (the load generator's own delay)."""
        return 1000 * (self.started - self.due)


@dataclass
class Phase:
    """What one phase sent, and what it cost in CPU."""

    name: str
    offered: str
    posts: list[Post]
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per message, by process group
    busy: float = 0.0  # cores used by the bot, its servers and the bench during the phase
    others: float = 0.0  # cores used by everything else on the machine meanwhile
    send_seconds: float = 0.0


class WebhookClient:
    """Posts Telegram text updates to the server, each from a new chat."""

    def __init__(self, port: int, first_chat: int, connections: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._headers = {
            "X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN),
            "Content-Type": "application/json",
        }
        self._chats = itertools.count(first_chat)
        self._ids = itertools.count(1)
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def close(self) -> None:
        await self.session.close()

    def new_post(self, due: float) -> Post:
        return Post(chat=next(self._chats), due=due)

    def _body(self, chat: int, text: str) -> bytes:
        n = next(self._ids)
        user = {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "en"}
        update = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Bench"},
                "from": user,
                "text": text,
            },
        }
        return json.dumps(update).encode()

    async def post(self, post: Post, text: str) -> None:
        body = self._body(post.chat, text)
        post.started = time.monotonic()
        try:
            async with self.session.post(
                self.base + "/webhooks/telegram", data=body, headers=self._headers
            ) as response:
                await response.read()
                post.status = response.status
        except (aiohttp.ClientError, TimeoutError):
            post.status = -1
        post.answered = time.monotonic()

    async def metrics(self) -> dict[str, float]:
        """The server's Prometheus counters and histogram sums, summed over labels."""
        async with self.session.get(self.base + "/metrics") as response:
            text = await response.text()
        totals: dict[str, float] = {}
        for line in text.splitlines():
            match = re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+|NaN)$", line)
            if match and match.group(2) != "NaN":
                totals[match.group(1)] = totals.get(match.group(1), 0.0) + float(match.group(2))
        return totals


async def open_loop(client: WebhookClient, texts: Sequence[str], rate: float) -> list[Post]:
    """POST at fixed times, `rate` a second, whatever the server answers and however slowly."""
    start = time.monotonic() + 0.05
    posts: list[Post] = []
    tasks: list[asyncio.Task[None]] = []
    for n, text in enumerate(texts):
        due = start + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        post = client.new_post(due)
        posts.append(post)
        tasks.append(asyncio.create_task(client.post(post, text)))
    await asyncio.gather(*tasks)
    return posts


async def as_fast_as_acked(client: WebhookClient, texts: Sequence[str]) -> list[Post]:
    """POST with `POSTERS` posters, each sending its next message as soon as one is answered."""
    pending = iter(texts)
    posts: list[Post] = []

    async def poster() -> None:
        for text in pending:
            post = client.new_post(time.monotonic())
            posts.append(post)
            await client.post(post, text)

    await asyncio.gather(*(poster() for _ in range(POSTERS)))
    return posts


async def wait_for_replies(api: RecordingTelegramAPI, posts: Sequence[Post]) -> bool:
    """Wait until every acknowledged message has a reply; False on timeout."""
    waiting = [p.chat for p in posts if p.status == 200]
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while waiting:
        waiting = [chat for chat in waiting if chat not in api.arrivals]
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of unsorted values (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Server:
    """The bot's processes for one run, with their logs."""

    name: str
    services_dir: Path  # where the embedded PostgreSQL and Valkey keep their folders
    port: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def pids(self) -> dict[str, list[int]]:
        """Root pids by process group: serve, worker ("worker-2" too), postgres, valkey."""
        groups: dict[str, list[int]] = {}
        for name, proc in self.procs.items():
            groups.setdefault(name.split("-", 1)[0], []).append(proc.pid)
        groups["postgres"] = _pid_in(self.services_dir / "postgres" / "postmaster.pid")
        groups["valkey"] = _pid_in(self.services_dir / "valkey" / "valkey.pid")
        return groups


def _pid_in(path: Path) -> list[int]:
    try:
        return [int(path.read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bot_command() -> list[str]:
    """The `bot` console script of this interpreter's environment, or `python -m bot`."""
    script = Path(sys.executable).parent / "bot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def server_env(
    data_dir: Path, kb: Path, port: int, api_url: str, int8: bool, extra: dict[str, str]
) -> dict[str, str]:
    """This environment without any bot setting, plus the bench's settings and `extra`."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "KNOWLEDGE_PATH": str(kb),
            "PUBLIC_BASE_URL": PUBLIC_URL,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api_url,
            "TELEGRAM_RATE_PER_SECOND": "100000",
            "WORKER_CONCURRENCY": "32",
            "EMBEDDING_INT8": "true" if int8 else "false",
            "LOG_LEVEL": "warning",
            "HF_HUB_OFFLINE": "1",
            **extra,
        }
    )
    return env


def normal_priority() -> None:
    """In a child process: back to nice 0 (the bench itself runs at -10, see main)."""
    os.setpriority(os.PRIO_PROCESS, 0, 0)


async def at_normal_priority(fn: Callable[[], None]) -> None:
    """Run fn in a new thread at nice 0, so that processes it starts run at nice 0 too."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()

    def body() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 0)  # this thread only
            fn()
        except BaseException as error:
            loop.call_soon_threadsafe(done.set_exception, error)
        else:
            loop.call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=body, daemon=True).start()
    await done


def spawn(server: Server, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
    log = cwd / f"{server.name}-{name}.log"
    with log.open("wb") as out:
        server.procs[name] = subprocess.Popen(
            [*bot_command(), *args],
            env=env,
            cwd=cwd,  # a folder without .env, so only the settings above apply
            stdin=subprocess.DEVNULL,
            preexec_fn=normal_priority,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server.logs[name] = log


async def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"http://127.0.0.1:{server.port}/readyz"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline:
            if server.procs["serve"].poll() is not None:
                tail = server.logs["serve"].read_text(errors="replace")[-2000:]
                raise RuntimeError(f"bot serve exited before it was ready:\n{tail}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("bot serve was not ready in time")


def stop(proc: subprocess.Popen[bytes]) -> str:
    """SIGTERM, then SIGINT, then SIGKILL; say which one ended it."""
    for sig, wait in ((signal.SIGTERM, 90.0), (signal.SIGINT, 30.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return f"exited {proc.returncode}"
        proc.send_signal(sig)
        try:
            proc.wait(wait)
            return f"{signal.Signals(sig).name} -> exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            continue
    return "still running"


def leftovers(root: Path) -> list[str]:
    """Processes whose command line names the bench's temp folder (embedded servers)."""
    found = subprocess.run(
        ["pgrep", "-af", str(root)], capture_output=True, text=True, check=False
    ).stdout
    return [line for line in found.splitlines() if line.strip()]


def end_leftovers(root: Path) -> list[str]:
    """Stop (TERM, then KILL) what the bot left running under the bench's folder; say what."""
    left = leftovers(root)
    for line in left:
        with contextlib.suppress(psutil.Error, ValueError):
            proc = psutil.Process(int(line.split()[0]))
            proc.terminate()
            try:
                proc.wait(10)
            except psutil.TimeoutExpired:
                proc.kill()
                proc.wait(10)
    return left


# --- CPU ---------------------------------------------------------------------------------------


def _tree(pid: int) -> Iterator[psutil.Process]:
    try:
        root = psutil.Process(pid)
        yield root
        yield from root.children(recursive=True)
    except psutil.Error:
        return


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU seconds so far by group (each process counted once), plus this bench process."""
    totals: dict[str, float] = {}
    seen: set[int] = set()
    groups = server.pids()
    for name in ("postgres", "valkey", "worker", "serve"):  # servers first: serve spawns Valkey
        total = 0.0
        for root_pid in groups.get(name, []):
            for proc in _tree(root_pid):
                if proc.pid in seen:
                    continue
                seen.add(proc.pid)
                try:
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                total += times.user + times.system
                if proc.pid == root_pid:  # children already waited for (postgres backends)
                    total += times.children_user + times.children_system
        totals[name] = total
    me = psutil.Process().cpu_times()
    totals["bench"] = me.user + me.system
    return totals


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used so far (not idle, not waiting)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


async def wait_until_quiet(server: Server | None = None, limit: float = 600.0) -> float:
    """Wait (up to `limit` s) until processes not ours use under NOISY_CORES; return their load."""
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        ours_before = sum(cpu_seconds(server).values()) if server else 0.0
        await asyncio.sleep(3.0)
        ours = sum(cpu_seconds(server).values()) - ours_before if server else 0.0
        load = max(0.0, machine_busy_seconds() - before - ours) / 3.0
        if load < NOISY_CORES or time.monotonic() > deadline:
            return load
        print(f"  waiting: other processes use {load:.2f} cores", flush=True)


# --- one run -----------------------------------------------------------------------------------


@dataclass
class Run:
    model: str
    layout: str
    phases: list[Phase]
    missing: int
    duplicates: int
    not_acked: int
    counters: dict[str, float]
    log_lines: list[str]
    stopped: list[str]
    ack_rows: list[str]
    e2e_rows: list[str]
    left: list[str] = field(default_factory=list)  # processes still running after the stop


Waiter = Callable[[RecordingTelegramAPI, Sequence[Post]], Coroutine[Any, Any, bool]]


async def measured(
    server: Server,
    name: str,
    offered: str,
    send: Coroutine[Any, Any, list[Post]],
    api: RecordingTelegramAPI,
    wait: Waiter = wait_for_replies,
) -> Phase:
    """Run `send` (a coroutine giving posts), then `wait` for the replies; CPU over both."""
    # A full collection of this process's heap takes about 300 ms, which would count as the
    # bot's latency: no collection during a phase (a few thousand requests need little memory).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        before = cpu_seconds(server)
        machine_before = machine_busy_seconds()
        began = time.monotonic()
        posts: list[Post] = await send
        sent = time.monotonic()
        if not await wait(api, posts):
            print(f"  {name}: not every reply arrived within {DRAIN_TIMEOUT:.0f} s", flush=True)
        elapsed = time.monotonic() - began
    finally:
        gc.enable()
    after = cpu_seconds(server)
    machine = machine_busy_seconds() - machine_before
    phase = Phase(name, offered, posts, send_seconds=sent - began)
    phase.cpu_ms = {k: 1000 * (after[k] - before[k]) / len(posts) for k in after}
    ours = sum(after[k] - before[k] for k in after)
    phase.busy = ours / elapsed
    phase.others = max(0.0, machine - ours) / elapsed
    return phase


async def measured_quietly(
    server: Server,
    name: str,
    offered: str,
    send: Callable[[], Coroutine[Any, Any, list[Post]]],
    api: RecordingTelegramAPI,
    wait: Waiter = wait_for_replies,
) -> list[Phase]:
    """measured(), tried again while other processes used NOISY_CORES or more; every try.

    After a noisy try it waits until the machine is quiet, then sends anew (NOISY_RETRIES more
    tries at most). The last try is the one kept; the others' POSTs count for correctness.
    """
    tries = [await measured(server, name, offered, send(), api, wait)]
    for _ in range(NOISY_RETRIES):
        if tries[-1].others < NOISY_CORES:
            break
        print(f"  others used {tries[-1].others:.2f} cores: once more", flush=True)
        await wait_until_quiet(server)
        tries.append(await measured(server, name, offered, send(), api, wait))
    return tries


async def run_once(
    root: Path,
    kb: Path,
    int8: bool,
    layout: str,
    questions: list[str],
    messages: int,
    rates: list[float],
    ack_rate: float,
    ack_seconds: float,
    first_chat: int,
    extra_env: dict[str, str],
) -> Run:
    model = "int8" if int8 else "fp32"
    name = f"{model}-{layout}"
    data_dir = root / f"data-{name}"
    port = free_port()
    # In-process: `bot serve` embeds PostgreSQL and Valkey under its DATA_DIR. Split: Qdrant Edge
    # opens a shard in one process only, so the worker cannot share serve's DATA_DIR (it fails
    # with "failed to open WAL ... WouldBlock"); the two get folders of their own and reach
    # PostgreSQL and Valkey, embedded by this bench, through DATABASE_URL and REDIS_URL.
    shared = EmbeddedServices(data_dir / "db") if layout == "split" else None
    server = Server(name, shared.data_dir if shared else data_dir, port)
    texts = itertools.cycle(questions)
    used = 0

    def take(n: int) -> list[str]:
        nonlocal used
        used += n
        if used > len(questions) >= used - n:
            print(f"  past {len(questions):,} distinct questions: repeats from here", flush=True)
        return list(itertools.islice(texts, n))

    api = RecordingTelegramAPI()  # `as api` would be typed as the base class
    async with api:
        env = server_env(data_dir, kb, port, api.base_url, int8, extra_env)
        client = WebhookClient(port, first_chat, connections=100)
        phases: list[Phase] = []
        everything: list[Post] = []  # every POST, also of phases repeated after noise
        stopped: list[str] = []
        try:
            began = time.monotonic()
            if shared is None:
                spawn(server, "serve", ["serve"], env, root)
                await wait_ready(server)
            else:
                await at_normal_priority(shared.start)
                env["DATABASE_URL"] = shared.database_url
                env["REDIS_URL"] = shared.redis_url
                worker_env = {**env, "DATA_DIR": str(data_dir / "worker")}
                # The worker's index gets the knowledge base; serve only acknowledges webhooks.
                ingest = await asyncio.to_thread(
                    subprocess.run,
                    [*bot_command(), "kb", "ingest", str(kb)],
                    env=worker_env,
                    cwd=root,
                    capture_output=True,
                    check=False,
                    preexec_fn=normal_priority,
                )
                if ingest.returncode != 0:
                    raise RuntimeError(f"bot kb ingest failed: {ingest.stderr.decode()[-2000:]}")
                env["DATA_DIR"] = str(data_dir / "serve")
                spawn(server, "serve", ["serve", "--workers", "0"], env, root)
                await wait_ready(server)
                spawn(server, "worker", ["worker"], worker_env, root)
            print(f"  ready after {time.monotonic() - began:.0f} s", flush=True)
            warm = await as_fast_as_acked(client, take(WARMUP))
            if not await wait_for_replies(api, warm):
                raise RuntimeError("warm-up messages were not answered")
            count = round(ack_rate * ack_seconds)

            def steady(rate: float) -> Coroutine[Any, Any, list[Post]]:
                return open_loop(client, take(messages), rate)

            plan: list[tuple[str, str, Callable[[], Coroutine[Any, Any, list[Post]]]]] = [
                (
                    "ack",
                    f"{ack_rate:.0f}/s for {ack_seconds:.0f} s",
                    lambda: open_loop(client, take(count), ack_rate),
                ),
                ("capacity", "as fast as acked", lambda: as_fast_as_acked(client, take(messages))),
                *(
                    (
                        "steady",
                        f"{rate:.0f}/s",
                        functools.partial(steady, rate),
                    )
                    for rate in rates
                ),
            ]
            for phase_name, offered, send in plan:
                tries = await measured_quietly(server, phase_name, offered, send, api)
                everything += [post for phase in tries for post in phase.posts]
                phases.append(tries[-1])
                row = ack_row if phase_name == "ack" else functools.partial(e2e_row, api=api)
                print("  " + row(model, layout, phases[-1]), flush=True)
            await asyncio.sleep(3.0)  # time for a duplicate reply to show up
            counters = await client.metrics()
        except BaseException:
            for line in notable_log_lines(server)[-40:]:
                print(f"    {line[:300]}", flush=True)
            raise
        finally:
            await client.close()
            # Workers first (they may hold messages), then the server; the API stays up meanwhile.
            for proc in sorted(server.procs, key=lambda n: n != "worker"):
                outcome = await asyncio.to_thread(stop, server.procs[proc])
                stopped.append(f"{proc}: {outcome}")
            if shared is not None:
                await asyncio.to_thread(shared.stop)
        acked = [p for p in everything if p.status == 200]
        missing = sum(1 for p in acked if p.chat not in api.arrivals)
        duplicates = sum(max(0, len(api.arrivals.get(p.chat, [])) - 1) for p in acked)
        ack_rows = [ack_row(model, layout, p) for p in phases if p.name == "ack"]
        e2e_rows = [e2e_row(model, layout, p, api) for p in phases if p.name != "ack"]
    return Run(
        model,
        layout,
        phases,
        missing,
        duplicates,
        len(everything) - len(acked),
        counters,
        notable_log_lines(server),
        stopped,
        ack_rows,
        e2e_rows,
    )


def notable_log_lines(server: Server) -> list[str]:
    """Warnings, errors and tracebacks in the processes' output (LOG_LEVEL=warning)."""
    ignore = (
        "Listening on",
        "First run",
        "added ",
        "worker(s) reading",
        "Telegram @",
        "embedded_postgres_opens_parent_folders",  # as root, by design
        "Handoffs are recorded but not emailed",  # no staff mailbox configured here
    )
    lines: list[str] = []
    for name, path in server.logs.items():
        for line in path.read_text(errors="replace").splitlines():
            if line.strip() and not any(marker in line for marker in ignore):
                lines.append(f"{name}: {line.strip()}")
    return lines


# --- reporting ---------------------------------------------------------------------------------


def cores(phase: Phase) -> str:
    """Cores used by the bench's processes / by anything else (another job skews figures)."""
    return f"{phase.busy:.2f} / {phase.others:.2f}"


def ack_row(model: str, layout: str, phase: Phase) -> str:
    posts = [p for p in phase.posts if p.status == 200]
    acks = [p.ack_ms for p in posts]
    span = max(p.started for p in phase.posts) - min(p.started for p in phase.posts)
    rate = (len(phase.posts) - 1) / span if span > 0 else math.nan
    p99 = percentile(acks, 0.99)
    ok = "✓" if p99 < ACK_TARGET_MS else "✗"
    return (
        f"| {model} | {layout} | {phase.name}, {phase.offered} | {len(phase.posts):,} | "
        f"{rate:.0f} /s | {percentile(acks, 0.5):.1f} / {percentile(acks, 0.95):.1f} / "
        f"**{p99:.1f}** / {max(acks):.0f} ms | "
        f"{percentile([p.lag_ms for p in phase.posts], 0.99):.1f} ms | "
        f"{len(phase.posts) - len(posts)} | {cores(phase)} | {ok} |"
    )


def e2e_figures(phase: Phase, api: RecordingTelegramAPI) -> tuple[float, list[float]]:
    answered = [p for p in phase.posts if p.status == 200 and p.chat in api.arrivals]
    if not answered:
        return math.nan, []
    first = min(p.started for p in phase.posts)
    last = max(api.arrivals[p.chat][0] for p in answered)
    latencies = [1000 * (api.arrivals[p.chat][0] - p.started) for p in answered]
    return len(answered) / (last - first), latencies


def e2e_row(model: str, layout: str, phase: Phase, api: RecordingTelegramAPI) -> str:
    rate, latencies = e2e_figures(phase, api)
    acks = [p.ack_ms for p in phase.posts if p.status == 200]
    cpu = phase.cpu_ms
    worker = f"{cpu['worker']:.1f}" if cpu.get("worker") else "-"
    p95 = percentile(latencies, 0.95)
    if phase.name == "capacity":
        target = "≥ 250/s ✓" if rate >= RATE_TARGET else "≥ 250/s ✗"
    else:
        target = f"p95 < 100 ms {'✓' if p95 < E2E_P95_TARGET_MS else '✗'}"
    return (
        f"| {model} | {layout} | {phase.name}, {phase.offered} | {len(phase.posts):,} | "
        f"**{rate:.0f} /s** | {percentile(latencies, 0.5):.0f} / {p95:.0f} / "
        f"{percentile(latencies, 0.99):.0f} ms | {percentile(acks, 0.99):.1f} ms | "
        f"{cpu['serve']:.1f} / {worker} / {cpu['postgres']:.1f} / {cpu['valkey']:.1f} / "
        f"{cpu['bench']:.1f} ms | {cores(phase)} | {target} |"
    )


ACK_HEADER = (
    "| model | layout | load | POSTs | achieved | ack p50 / p95 / p99 / max | "
    "sender lag p99 | not 200 | cores: ours / others | ack p99 < 25 ms |\n"
    "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- |"
)
E2E_HEADER = (
    "| model | layout | load | messages | replies/s | end to end p50 / p95 / p99 | ack p99 | "
    "CPU per message: serve / worker / PostgreSQL / Valkey / bench | cores: ours / others | "
    "target |\n"
    "| --- | --- | --- | ---: | ---: | --- | ---: | --- | ---: | --- |"
)


# --- main --------------------------------------------------------------------------------------


def distinct_questions(kb: Path) -> list[str]:
    """CLINC150 test, then validation, then training utterances not in the knowledge base.

    The retriever caches the vector of every question it has seen (customers repeat a lot), so a
    repeated question would skip the model; every message of a run is a question not seen before.
    """
    data = clinc()
    entries = yaml.safe_load(kb.joinpath("faq.yaml").read_text())["faqs"]
    known = {" ".join(t.split()) for e in entries for t in [e["question"], *e["alternatives"]]}
    seen: set[str] = set()
    questions: list[str] = []
    for split in ("test", "val", "train"):
        for text, _ in data[split]:
            key = " ".join(text.split())
            if key not in seen and key not in known:
                seen.add(key)
                questions.append(text)
    return questions


async def run(args: argparse.Namespace, out: TextIO) -> None:
    models = [False, True]
    if args.fp32_only:
        models = [False]
    if args.int8_only:
        models = [True]
    layouts = ["inprocess", "split"] if args.layout == "both" else [args.layout]
    rates = [float(r) for r in args.rates.split(",") if r]
    root = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    runs: list[Run] = []
    ack_rows: list[str] = []
    e2e_rows: list[str] = []
    try:
        kb = root / "faq"
        write_faq_kb(kb, CHUNKS)
        questions = distinct_questions(kb)
        needed = WARMUP + round(args.ack_rate * args.ack_seconds) + args.messages * (1 + len(rates))
        if needed > len(questions):
            print(f"{len(questions):,} distinct questions for {needed:,} messages: some repeat")
        for n, (int8, layout) in enumerate(itertools.product(models, layouts)):
            print(f"{'int8' if int8 else 'fp32'}, {layout}:", flush=True)
            load = await wait_until_quiet()
            print(f"  other processes used {load:.2f} cores before the start", flush=True)
            result = await run_once(
                root,
                kb,
                int8,
                layout,
                questions,
                args.messages,
                rates,
                args.ack_rate,
                args.ack_seconds,
                first_chat=900_000_001 + n * 1_000_000,
                extra_env=dict(item.split("=", 1) for item in args.env),
            )
            runs.append(result)
            ack_rows += result.ack_rows
            e2e_rows += result.e2e_rows
            result.left = end_leftovers(root)
            print(f"  stopped: {'; '.join(result.stopped)}; left running: {result.left or 'none'}")
    finally:
        end_leftovers(root)  # after an interrupted run
        left = leftovers(root)
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\n{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}, {CHUNKS:,}-chunk FAQ knowledge base\n",
        file=out,
    )
    print(ACK_HEADER, file=out)
    print("\n".join(ack_rows), file=out)
    print(file=out)
    print(E2E_HEADER, file=out)
    print("\n".join(e2e_rows), file=out)
    print(file=out)
    for result in runs:
        errors = {k: v for k, v in result.counters.items() if k in _ERROR_COUNTERS and v}
        print(
            f"- {result.model}, {result.layout}: missing replies {result.missing}, "
            f"duplicate replies {result.duplicates}, POSTs not answered 200 {result.not_acked}, "
            f"server error counters {errors or 'none'}; left running after stop: "
            f"{len(result.left)}; {len(result.log_lines)} log lines",
            file=out,
        )
        for line in result.log_lines[:40]:
            print(f"    {line[:200]}", file=out)
    print(f"- embedded servers left running after the bench: {left or 'none'}", file=out)


_ERROR_COUNTERS = {
    "bot_processing_errors_total",
    "bot_send_failures_total",
    "bot_send_retries_total",
    "bot_dead_letters_total",
    "bot_webhooks_rejected_total",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--fp32-only", action="store_true", help="only the default model")
    which.add_argument("--int8-only", action="store_true", help="only EMBEDDING_INT8=true")
    parser.add_argument("--layout", choices=["inprocess", "split", "both"], default="both")
    parser.add_argument("--messages", type=int, default=3000, help="per end-to-end phase")
    parser.add_argument("--rates", default="50,250", help="offered rates of the steady phases")
    parser.add_argument("--ack-rate", type=float, default=200.0)
    parser.add_argument("--ack-seconds", type=float, default=20.0)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra environment variable for the bot's processes (repeatable)",
    )
    args = parser.parse_args()
    try:
        # Telegram and its servers are not on this machine: the load generator and the fake Bot
        # API run ahead of the bot (nice -10, as root) so their delays do not count as the bot's.
        psutil.Process().nice(-10)
    except psutil.AccessDenied:
        print("running at normal priority: the sender's own delays may add to the figures")
    asyncio.run(run(args, sys.stdout))


if __name__ == "__main__":
    main()
