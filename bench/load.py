"""Load figures: worker processes, knowledge size and concurrent conversations, end to end.

Every configuration runs the real bot in the split layout of `bench/webhook_speed.py`: PostgreSQL
and Valkey embedded by this bench, `bot serve --workers 0` answering Telegram webhooks, and N
`bot worker` processes, each with a data folder of its own and its own copy of the embedded
vector index (Qdrant Edge opens an index in one process only). The index is filled once with
`bot kb ingest` in the first worker's folder and copied to the others; an index of 50,000
chunks or more is built once and kept in bench/.cache/load (not committed) for later runs. With
`--qdrant-url` the processes share one collection of a Qdrant server instead, and nothing is
copied or kept. The default
model (fp32 all-MiniLM-L6-v2) and the offline composer answer; replies go to the fake Bot API of
webhook_speed, which notes when each `sendMessage` arrives and for which chat.

Three series, each against one thing:
- workers: 1, 2 and 4 worker processes on the 1,000-chunk FAQ knowledge base of bench/speed.py.
- chunks: 1,000, 10,000 and 100,000 chunks at 1 worker process (beyond about 15,000, made-up
  shop entries are added to the CLINC150 ones, see speed.write_faq_kb): ingestion time, index
  size on disk, the worker's memory, and which answers the questions got.
- conversations: 10 and 10,000 chats at 1 worker process. Each chat first says hello, then the
  measured messages go to the chats in turn, so 10 chats send about 300 messages each and
  10,000 chats one or two. One customer's messages are answered in order, one at a time.
  So that every message of a long conversation gets a reply, this series sets FLOOD_LIMIT
  very high, the answer thresholds to 0 (no "please rephrase", hence no handoff after two
  misses) and sends only questions that no rule hands to a person; both sizes alike.
  The Telegram sender also sends at most one message a second per chat (Telegram's own rule),
  which alone caps 10 chats at 10 replies/s. To see what the rest of the bot does with few
  chats, both sizes run with that limit lifted (a sitecustomize.py in the bot's processes,
  NO_CHAT_LIMIT), and 10 chats run once more as shipped, with fewer messages and a rate below
  the cap.

For each configuration, after a warm-up, two measured phases of CLINC150 questions not asked
before in that configuration: "capacity", `--messages` (2,000) posted as fast as the server
acknowledges them, and "steady", `--steady-messages` (1,000) at a fixed rate below capacity
(`--rate`, 40/s). End to end runs from the start of a message's POST to the arrival of its
reply (with several messages per chat, the k-th reply of a chat belongs to the k-th message it
acknowledged). CPU per message counts the bot's processes, PostgreSQL, Valkey and the bench
itself (webhook_speed.measured). The machine may be shared: a phase during which other
processes used more than 0.15 cores is repeated up to twice, after waiting for quiet, and
"others" says what they used in the phase kept. The whole plan runs `--rounds` (3) times, every
configuration started anew in each round, and the tables give the median and the range.

Results go to bench/load_results.json (merged by configuration, so one series can be run again)
and bench/load.png (needs matplotlib: `pip install -e '.[bench]'`); the tables are printed.

    .venv/bin/python bench/load.py              # all three, 3 rounds (~40 min, +10 the first time)
    .venv/bin/python bench/load.py --series workers --rounds 1 --messages 200   # a quick look
    .venv/bin/python bench/load.py --plot-only                       # tables and plot again
    .venv/bin/python bench/load.py --qdrant-url http://localhost:6333  # a Qdrant server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import itertools
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import redis.asyncio as redis
from aiohttp import web
from speed import clinc, write_faq_kb
from webhook_speed import (
    DRAIN_TIMEOUT,
    NOISY_CORES,
    READY_TIMEOUT,
    WARMUP,
    Phase,
    Post,
    RecordingTelegramAPI,
    Server,
    Waiter,
    WebhookClient,
    as_fast_as_acked,
    at_normal_priority,
    bot_command,
    cpu_seconds,
    distinct_questions,
    end_leftovers,
    free_port,
    machine_busy_seconds,
    measured_quietly,
    normal_priority,
    notable_log_lines,
    open_loop,
    percentile,
    server_env,
    spawn,
    stop,
    wait_ready,
    wait_until_quiet,
)

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from core.escalation import EscalationPolicy
from core.intents import classify
from core.store import PostgresStore
from knowledge_base.loaders import load_document

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "load_results.json"
PLOT = BENCH / "load.png"
INDEX_CACHE = BENCH / ".cache" / "load"
SERIES = ("workers", "chunks", "conversations")
CONVERSATION_ENV = {
    "FLOOD_LIMIT": "1000000",
    "ANSWER_THRESHOLD": "0",
    "CHOICE_THRESHOLD": "0",
    "ANSWER_MARGIN": "0",
}
SHIPPED_MESSAGES = 300
CACHE_FROM = 50_000  # chunks: an index this big takes minutes to build, so it is kept
_INDEXED = re.compile(r"(\d+) chunks indexed")
NO_CHAT_LIMIT = '''"""Written by bench/load.py: no one-message-a-second limit per Telegram chat."""
import channels.telegram.sending

_init = channels.telegram.sending.TelegramSender.__init__


def _without_chat_limit(self, bot, per_chat_interval=1.0, global_rate=30.0):
    _init(self, bot, 0.001, global_rate)


channels.telegram.sending.TelegramSender.__init__ = _without_chat_limit
'''
"""sitecustomize.py for the bot's processes when a Setup lifts the per-chat limit."""


@dataclass(frozen=True)
class Setup:
    """One configuration of the bot: worker processes, knowledge size and chats (0: one each).

    chat_limit False lifts the Telegram sender's one message a second per chat (NO_CHAT_LIMIT);
    messages and rate, when set, replace --messages and --rate.
    """

    workers: int
    chunks: int
    chats: int = 0
    chat_limit: bool = True
    messages: int | None = None
    rate: float | None = None

    @property
    def key(self) -> str:
        """A name for folders, logs and the results file."""
        lifted = "" if self.chat_limit else "-nochatlimit"
        return f"w{self.workers}-k{self.chunks}-c{self.chats}{lifted}"


def plan(args: argparse.Namespace) -> list[tuple[Setup, list[str]]]:
    """The configurations to run, each once, with the series it belongs to."""
    wanted: dict[Setup, list[str]] = {}
    series = [s for s in args.series.split(",") if s]
    if "workers" in series:
        for n in _ints(args.workers):
            wanted.setdefault(Setup(n, 1000), []).append("workers")
    if "chunks" in series:
        for size in _ints(args.chunks):
            wanted.setdefault(Setup(1, size), []).append("chunks")
    if "conversations" in series:
        chats = _ints(args.chats)
        for n in chats:
            wanted.setdefault(Setup(1, 1000, n, chat_limit=False), []).append("conversations")
        # The bot as shipped, with the fewest chats: Telegram's limit caps it at `chats` a
        # second, so fewer messages in both phases, and a rate below that cap.
        few = min(chats, default=0)
        if few and few < args.rate:
            shipped = Setup(1, 1000, few, messages=SHIPPED_MESSAGES, rate=0.8 * few)
            wanted.setdefault(shipped, []).append("conversations")
    return list(wanted.items())


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


# --- the bench's side of the wire ------------------------------------------------------------


class ReplyRecordingAPI(RecordingTelegramAPI):
    """webhook_speed's fake Bot API, also keeping each reply's text per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = {}

    async def _m_sendMessage(self, params: dict[str, Any]) -> web.Response:
        chat = params.get("chat_id")
        if isinstance(chat, int):  # before the arrival is noted: both lists stay in step
            self.texts.setdefault(chat, []).append(str(params.get("text", "")))
        return await super()._m_sendMessage(params)


@dataclass
class ChatPost(Post):
    """A POST with its text and its place among the acknowledged POSTs of its chat."""

    text: str = ""
    rank: int = -1


class ChatClient(WebhookClient):
    """Posts to `chats` chats in turn (0: a new chat for every message), counting acks per chat."""

    def __init__(self, port: int, first_chat: int, chats: int) -> None:
        super().__init__(port, first_chat, connections=100)
        self.acked: dict[int, int] = {}
        self._next_chat = (
            itertools.cycle(range(first_chat, first_chat + chats))
            if chats
            else itertools.count(first_chat)
        )

    def new_post(self, due: float) -> ChatPost:
        return ChatPost(chat=next(self._next_chat), due=due)

    async def post(self, post: Post, text: str) -> None:
        await super().post(post, text)
        if isinstance(post, ChatPost):
            post.text = text
            if post.status == 200:  # in the order acknowledged, which is the queue's order
                post.rank = self.acked.get(post.chat, 0)
                self.acked[post.chat] = post.rank + 1

    def waiter(self) -> Waiter:
        """Waits until every chat of the posts has as many replies as acknowledged messages."""

        async def wait(api: RecordingTelegramAPI, posts: Sequence[Post]) -> bool:
            deadline = time.monotonic() + DRAIN_TIMEOUT
            waiting = {p.chat for p in posts if p.status == 200}
            while waiting:
                waiting = {c for c in waiting if len(api.arrivals.get(c, ())) < self.acked[c]}
                if not waiting:
                    break
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.05)
            return True

        return wait


class Texts:
    """Questions in order, each once; past the end they repeat, and the repeats are counted."""

    def __init__(self, questions: list[str]) -> None:
        self._questions = questions
        self._cycle = itertools.cycle(questions)
        self.used = 0

    def take(self, n: int) -> list[str]:
        """The next n questions."""
        self.used += n
        return list(itertools.islice(self._cycle, n))

    @property
    def repeated(self) -> int:
        """How many of those taken so far had been taken before."""
        return max(0, self.used - len(self._questions))


def answerable(questions: list[str]) -> list[str]:
    """Questions no rule hands to a person (keywords, complaints, asking for staff, data)."""
    keywords = str(Settings.model_fields["escalation_keywords"].default).split(",")
    policy = EscalationPolicy.from_keywords(keywords)
    return [q for q in questions if classify(q) is None and policy.trigger(q) is None]


# --- figures of a phase ------------------------------------------------------------------------


def phase_figures(phase: Phase, api: ReplyRecordingAPI, intents: dict[str, str]) -> dict[str, Any]:
    """Replies/s, end-to-end and ack percentiles, CPU, and what kind of answers were given."""
    latencies: list[float] = []
    last = 0.0
    kinds = {"right": 0, "other entry": 0, "did you mean": 0, "no answer": 0}
    missing = 0
    for post in phase.posts:
        if post.status != 200 or not isinstance(post, ChatPost):
            continue
        arrivals = api.arrivals.get(post.chat, [])
        if post.rank >= len(arrivals):
            missing += 1
            continue
        arrived = arrivals[post.rank]
        latencies.append(1000 * (arrived - post.started))
        last = max(last, arrived)
        kinds[reply_kind(api.texts[post.chat][post.rank], intents.get(post.text))] += 1
    first = min(p.started for p in phase.posts)
    acks = [p.ack_ms for p in phase.posts if p.status == 200]
    return {
        "offered": phase.offered,
        "messages": len(phase.posts),
        "replies_per_s": len(latencies) / (last - first) if latencies else None,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "ack_p99_ms": percentile(acks, 0.99),
        "missing": missing,
        "cpu_ms": phase.cpu_ms,
        "cores": phase.busy,
        "others": phase.others,
        "replies": kinds,
    }


def reply_kind(text: str, intent: str | None) -> str:
    """right (the question's own CLINC150 entry), other entry, did you mean, or no answer."""
    if intent is not None and f"about {intent.replace('_', ' ')}." in text:
        return "right"
    if "Here is what we can tell you about" in text or " outlet has the " in text:
        return "other entry"
    if "Did you mean" in text:
        return "did you mean"
    return "no answer"  # "please rephrase", a handoff, or small talk


# --- one configuration ---------------------------------------------------------------------------


def folder_mb(path: Path) -> tuple[float, float]:
    """Disk space the files under path use, and their apparent size (the index's are sparse)."""
    files = [f.stat() for f in path.rglob("*") if f.is_file()]
    return sum(f.st_blocks * 512 for f in files) / 2**20, sum(f.st_size for f in files) / 2**20


def copy_index(source: Path, target: Path) -> None:
    """Copy an index folder, keeping its sparse files sparse where GNU cp is there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("cp"):
        subprocess.run(["cp", "-a", "--sparse=always", str(source), str(target)], check=True)
    else:
        shutil.copytree(source, target)


def rss_mb(server: Server) -> dict[str, float]:
    """Resident memory of the bot's processes, in MiB."""
    sizes: dict[str, float] = {}
    for name, proc in server.procs.items():
        with contextlib.suppress(psutil.Error):
            sizes[name] = psutil.Process(proc.pid).memory_info().rss / 2**20
    return sizes


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have ended (bot kb ingest)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def storage_figures(services: EmbeddedServices) -> dict[str, float]:
    """Valkey's used_memory and keys, PostgreSQL's database size."""
    client = redis.from_url(services.redis_url)
    try:
        memory = await client.info("memory")
        keys = await client.dbsize()
    finally:
        await client.aclose()
    connection = await asyncpg.connect(services.database_url)
    try:
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {
        "valkey_used_memory_mb": int(memory["used_memory"]) / 2**20,
        "valkey_keys": int(keys),
        "postgres_mb": int(size) / 2**20,
    }


def kb_files(kb: Path) -> list[dict[str, Any]]:
    """The knowledge files as `bot kb ingest` run from kb's parent names them, with hashes."""
    return [
        {"path": f"{kb.name}/{f.name}", "hash": hashlib.sha256(f.read_bytes()).hexdigest()}
        for f in sorted(kb.glob("*.yaml"))
    ]


class IndexCache:
    """Built Qdrant Edge folders kept between runs, with what their ingestion took."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def _entry(self, kb: Path) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(json.dumps(kb_files(kb)).encode()).hexdigest()[:16]
        return self.folder / f"{kb.name}-{digest}"

    def load(self, kb: Path, data_dir: Path) -> dict[str, Any] | None:
        """Copy a cached index into data_dir; its recorded ingestion, or None when not cached."""
        entry = self._entry(kb)
        if entry is None or not (entry / "ingest.json").exists():
            return None
        copy_index(entry / "qdrant-edge", data_dir / "qdrant-edge")
        info: dict[str, Any] = json.loads((entry / "ingest.json").read_text())
        return info

    def save(self, kb: Path, data_dir: Path, ingest: dict[str, Any]) -> None:
        """Keep data_dir's index and the ingestion figures for the next run."""
        entry = self._entry(kb)
        if entry is None:
            return
        shutil.rmtree(entry, ignore_errors=True)
        copy_index(data_dir / "qdrant-edge", entry / "qdrant-edge")
        (entry / "ingest.json").write_text(json.dumps({**ingest, "files": kb_files(kb)}))


async def ingest(
    setup: Setup, kb: Path, env: dict[str, str], root: Path, server: Server, cache: IndexCache
) -> dict[str, Any]:
    """Fill the first worker's index (`bot kb ingest`, or a cached copy); what it took.

    Also the cores other processes used meanwhile, and the index's size on disk.
    """
    data_dir = Path(env["DATA_DIR"])
    cacheable = "QDRANT_URL" not in env and setup.chunks >= CACHE_FROM
    cached = cache.load(kb, data_dir) if cacheable else None
    if cached is not None:
        # The catalog in PostgreSQL says the files are indexed, as `bot kb ingest` would have.
        await run_bot(["migrate"], env, root)
        pool = await asyncpg.create_pool(env["DATABASE_URL"], min_size=1, max_size=1)
        try:
            store = PostgresStore(pool)
            for file, chunks in zip(cached["files"], cached["file_chunks"], strict=True):
                await store.save_document(file["path"], file["hash"], chunks, "ready", None)
        finally:
            await pool.close()
        return {**cached, "cached": True}
    cpu, servers, machine = children_cpu_seconds(), cpu_seconds(server), machine_busy_seconds()
    began = time.monotonic()
    output = await run_bot(["kb", "ingest", str(kb)], env, root)
    seconds = time.monotonic() - began
    cpu = children_cpu_seconds() - cpu
    ours = cpu + sum(cpu_seconds(server).values()) - sum(servers.values())
    found = _INDEXED.search(output)
    if found is None or int(found.group(1)) == 0:
        raise RuntimeError(f"bot kb ingest indexed nothing:\n{output[-2000:]}")
    figures: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "others": max(0.0, machine_busy_seconds() - machine - ours) / seconds,
        "chunks": int(found.group(1)),
        "measured": f"{datetime.now(UTC):%Y-%m-%d}",
        "commit": commit(),
    }
    if "QDRANT_URL" not in env:
        figures["index_mb"], figures["index_apparent_mb"] = folder_mb(data_dir / "qdrant-edge")
    if cacheable and cache.folder is not None:
        counts = await asyncio.to_thread(
            lambda: [len(load_document(f).chunks) for f in sorted(kb.glob("*.yaml"))]
        )
        cache.save(kb, data_dir, {**figures, "file_chunks": counts})
    return {**figures, "cached": False}


async def run_bot(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run a `bot` command to its end at nice 0; its output, or RuntimeError with its tail."""
    done = await asyncio.to_thread(
        subprocess.run,
        [*bot_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=False,
        preexec_fn=normal_priority,
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"bot {' '.join(args)} failed:\n{output[-2000:]}")
    return output


async def wait_for_workers(server: Server) -> None:
    """Wait until every worker process says it reads the queue (its model is loaded)."""
    deadline = time.monotonic() + READY_TIMEOUT
    for name, proc in server.procs.items():
        if not name.startswith("worker"):
            continue
        while "worker(s) reading" not in server.logs[name].read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = server.logs[name].read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not start:\n{tail}")
            await asyncio.sleep(0.5)


async def run_setup(
    root: Path,
    setup: Setup,
    kb: Path,
    questions: list[str],
    intents: dict[str, str],
    args: argparse.Namespace,
    cache: IndexCache,
    first_chat: int,
) -> dict[str, Any]:
    """Start the bot in one configuration, run its phases, stop it; its figures."""
    data = root / setup.key
    shared = EmbeddedServices(data / "db")
    server = Server(setup.key, shared.data_dir, free_port())
    texts = Texts(questions)
    extra = dict(item.split("=", 1) for item in args.env)
    if setup.chats:
        extra = {**CONVERSATION_ENV, **extra}
    if args.qdrant_url:
        extra |= {"QDRANT_URL": args.qdrant_url, "QDRANT_COLLECTION": f"bench_load_{kb.name}"}
    if not setup.chat_limit:
        site = root / "no-chat-limit"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(NO_CHAT_LIMIT)
        extra["PYTHONPATH"] = str(site)
    record: dict[str, Any] = {
        "key": setup.key,
        "workers": setup.workers,
        "chunks_asked": setup.chunks,
        "chats": setup.chats,
        "telegram_chat_limit": setup.chat_limit,
        "qdrant": "server" if args.qdrant_url else "embedded, a copy per worker",
        "settings": {k: v for k, v in extra.items() if k not in ("QDRANT_URL", "PYTHONPATH")},
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "commit": commit(),
    }
    api = ReplyRecordingAPI()
    async with api:
        env = server_env(data / "serve", kb, server.port, api.base_url, False, extra)
        client = ChatClient(server.port, first_chat, setup.chats)
        wait = client.waiter()
        everything: list[Post] = []
        try:
            began = time.monotonic()
            await at_normal_priority(shared.start)
            env |= {"DATABASE_URL": shared.database_url, "REDIS_URL": shared.redis_url}
            worker_envs = [
                {**env, "DATA_DIR": str(data / f"worker-{n}")} for n in range(1, setup.workers + 1)
            ]
            record["ingest"] = await ingest(setup, kb, worker_envs[0], root, server, cache)
            record["chunks"] = record["ingest"]["chunks"]
            if not args.qdrant_url:
                index = data / "worker-1" / "qdrant-edge"
                for worker_env in worker_envs[1:]:
                    copy_index(index, Path(worker_env["DATA_DIR"]) / "qdrant-edge")
            spawn(server, "serve", ["serve", "--workers", "0"], env, root)
            await wait_ready(server)
            for n, worker_env in enumerate(worker_envs, start=1):
                spawn(server, f"worker-{n}", ["worker"], worker_env, root)
            await wait_for_workers(server)
            record["ready_seconds"] = time.monotonic() - began
            print(f"  ready after {record['ready_seconds']:.0f} s", flush=True)
            if setup.chats:  # every chat says hello first: that many conversations exist
                started = time.monotonic()
                hello = await as_fast_as_acked(client, ["hello"] * setup.chats)
                everything += hello
                if not await wait(api, hello):
                    raise RuntimeError("not every hello was answered")
                record["prefill_seconds"] = time.monotonic() - started
                record["after_prefill"] = await storage_figures(shared)
            warm = await as_fast_as_acked(client, texts.take(WARMUP * setup.workers))
            everything += warm
            if not await wait(api, warm):
                raise RuntimeError("warm-up messages were not answered")
            record["phases"] = {}
            burst = setup.messages or args.messages
            steady = setup.messages or args.steady_messages
            rate = setup.rate or args.rate
            sends = {
                "capacity": (
                    "as fast as acked",
                    lambda: as_fast_as_acked(client, texts.take(burst)),
                ),
                "steady": (
                    f"{rate:g}/s",
                    lambda: open_loop(client, texts.take(steady), rate),
                ),
            }
            for name, (offered, send) in sends.items():
                tries = await measured_quietly(server, name, offered, send, api, wait)
                everything += [post for phase in tries for post in phase.posts]
                figures = phase_figures(tries[-1], api, intents)
                figures["others_of_tries"] = [phase.others for phase in tries]
                record["phases"][name] = figures
                print("  " + phase_line(name, figures), flush=True)
            await asyncio.sleep(3.0)  # time for a duplicate reply to show up
            record["rss_mb"] = rss_mb(server)
            record["storage"] = await storage_figures(shared)
            counters = await client.metrics()
            record["error_counters"] = {
                k: v for k, v in counters.items() if k in ERROR_COUNTERS and v
            }
        except BaseException:
            for line in notable_log_lines(server)[-40:]:
                print(f"    {line[:300]}", flush=True)
            raise
        finally:
            await client.close()
            stopped = []
            for name in sorted(server.procs, key=lambda n: not n.startswith("worker")):
                stopped.append(f"{name}: {await asyncio.to_thread(stop, server.procs[name])}")
            with contextlib.suppress(Exception):
                await asyncio.to_thread(shared.stop)
        acked = [p for p in everything if p.status == 200]
        record["messages_acked"] = len(acked)
        record["not_acked"] = len(everything) - len(acked)
        record["missing"] = sum(
            max(0, n - len(api.arrivals.get(chat, []))) for chat, n in client.acked.items()
        )
        record["duplicates"] = sum(
            max(0, len(api.arrivals.get(chat, [])) - n) for chat, n in client.acked.items()
        )
        record["repeated_questions"] = texts.repeated
        record["stopped"] = stopped
        record["log_lines"] = [
            line for line in notable_log_lines(server) if "Web chat: try it at" not in line
        ][:20]
    record["left_running"] = end_leftovers(data)
    shutil.rmtree(data, ignore_errors=True)  # the next round starts from nothing again
    return record


ERROR_COUNTERS = {
    "bot_processing_errors_total",
    "bot_send_failures_total",
    "bot_send_retries_total",
    "bot_dead_letters_total",
    "bot_webhooks_rejected_total",
}


def phase_line(name: str, f: dict[str, Any]) -> str:
    """One progress line."""
    return (
        f"{name}, {f['offered']}: {f['replies_per_s'] or 0:.0f} replies/s, end to end "
        f"{f['p50_ms']:.0f} / {f['p95_ms']:.0f} / {f['p99_ms']:.0f} ms, "
        f"cores {f['cores']:.2f} / others {f['others']:.2f}, missing {f['missing']}"
    )


# --- the run -------------------------------------------------------------------------------------


def commit() -> str:
    """The commit measured (HEAD; the bench's own files may differ from it)."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or "unknown"


def clinc_intents() -> dict[str, str]:
    """The CLINC150 intent of every in-scope utterance."""
    data = clinc()
    return {text: intent for split in ("train", "val", "test") for text, intent in data[split]}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration of the plan in turn, `--rounds` times; the results file's content.

    Each round starts every configuration anew, so that the spread between rounds shows how
    much a figure moves from one start of the bot to the next on this machine.
    """
    results = load_results(args.results)
    steps = plan(args)
    planned = {setup.key for setup, _ in steps}
    results["runs"] = [r for r in results["runs"] if r["key"] not in planned]
    root = Path(tempfile.mkdtemp(prefix="load-bench-"))
    cache = IndexCache(Path(args.index_cache) if args.index_cache else None)
    intents = clinc_intents()
    began = time.monotonic()
    try:
        for n, (round_, (setup, series)) in enumerate(
            itertools.product(range(1, args.rounds + 1), steps)
        ):
            kb = root / f"kb-{setup.chunks}"
            if not kb.exists():
                await asyncio.to_thread(write_faq_kb, kb, setup.chunks)
            questions = distinct_questions(kb)
            if setup.chats:
                questions = answerable(questions)
            print(
                f"round {round_}: {setup.workers} worker process(es), {setup.chunks:,} chunks, "
                f"{f'{setup.chats:,} chats' if setup.chats else 'a new chat per message'}"
                f"{'' if setup.chat_limit else ', no per-chat send limit'}:",
                flush=True,
            )
            print(f"  others used {await wait_until_quiet():.2f} cores before", flush=True)
            try:
                record = await run_setup(
                    root, setup, kb, questions, intents, args, cache, 700_000_001 + n * 1_000_000
                )
            except Exception as error:  # the other configurations still run
                print(f"  failed: {error!r}", flush=True)
                record = {"key": setup.key, "workers": setup.workers, "chats": setup.chats}
                record |= {"chunks_asked": setup.chunks, "error": repr(error)[:2000]}
                record |= {"commit": commit(), "date": f"{datetime.now(UTC):%Y-%m-%d}"}
            record |= {"series": series, "round": round_}
            record["messages"] = {
                "capacity": setup.messages or args.messages,
                "steady": setup.messages or args.steady_messages,
            }
            results["runs"].append(record)
            results |= {
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "model": "all-MiniLM-L6-v2 (fp32)",
            }
            save_results(args.results, results)
    finally:
        end_leftovers(root)
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nran {(time.monotonic() - began) / 60:.1f} minutes", flush=True)
    return results


def load_results(path: Path) -> dict[str, Any]:
    """The results file, or an empty one."""
    if path.exists():
        results: dict[str, Any] = json.loads(path.read_text())
        return results
    return {"runs": []}


def save_results(path: Path, results: dict[str, Any]) -> None:
    """Write the results, configurations in the order of the series."""
    results["runs"].sort(
        key=lambda r: (r["chats"], r["workers"], r["chunks_asked"], r["key"], r.get("round", 1))
    )
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


# --- tables and plot -----------------------------------------------------------------------------


Getter = Callable[[dict[str, Any]], float]


def _mid(runs: list[dict[str, Any]], get: Getter) -> float:
    """The median over the rounds of a configuration."""
    return statistics.median(get(r) for r in runs)


def _spread(runs: list[dict[str, Any]], get: Getter, unit: str, bold: bool = False) -> str:
    """Median over the rounds, and their lowest and highest value when there are several."""
    values = sorted(get(r) for r in runs)
    mid = f"**{statistics.median(values):,.0f}{unit}**" if bold else f"{_mid(runs, get):,.0f}{unit}"
    return mid if len(values) == 1 else f"{mid} ({values[0]:,.0f}–{values[-1]:,.0f})"


def _capacity(r: dict[str, Any]) -> float:
    return float(r["phases"]["capacity"]["replies_per_s"])


def _p95(r: dict[str, Any]) -> float:
    return float(r["phases"]["steady"]["p95_ms"])


def _cpu(runs: list[dict[str, Any]]) -> str:
    """Median CPU per message at capacity by process group, and the median of their sum."""
    groups = ("serve", "worker", "postgres", "valkey")

    def cpu(r: dict[str, Any], group: str) -> float:
        return float(r["phases"]["capacity"]["cpu_ms"].get(group, 0.0))

    parts = [_mid(runs, functools.partial(cpu, group=g)) for g in groups]
    total = _mid(runs, lambda r: sum(cpu(r, g) for g in groups))
    return " / ".join(f"{p:.1f}" for p in parts) + f" = **{total:.1f}** ms"


def _cores(runs: list[dict[str, Any]], phase: str) -> str:
    """Median cores the bench's processes used, and the most other processes used in a round."""
    others = max(r["phases"][phase]["others"] for r in runs)
    noisy = " **noisy**" if others >= NOISY_CORES else ""
    return f"{_mid(runs, lambda r: r['phases'][phase]['cores']):.2f} (≤ {others:.2f}{noisy})"


def _latency(runs: list[dict[str, Any]]) -> str:
    """Median p50 / p95 / p99 of the steady phase over the rounds, with the p95 range."""
    steady = [r["phases"]["steady"] for r in runs]
    mids = [statistics.median(f[q] for f in steady) for q in ("p50_ms", "p95_ms", "p99_ms")]
    text = f"{mids[0]:.0f} / **{mids[1]:.0f}** / {mids[2]:.0f} ms"
    if len(steady) > 1:
        p95 = sorted(f["p95_ms"] for f in steady)
        text += f" (p95 {p95[0]:.0f}–{p95[-1]:.0f})"
    return text


def _series(results: dict[str, Any], name: str) -> list[list[dict[str, Any]]]:
    """The rounds of each configuration of a series that has figures."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in results["runs"]:
        if name in r.get("series", ()) and "phases" in r:
            grouped.setdefault(r["key"], []).append(r)
    return list(grouped.values())


def _ingest(runs: list[dict[str, Any]]) -> str:
    """`bot kb ingest` time, chunks/s and cores (others); one figure if the index was reused."""
    fresh = [r for r in runs if not r["ingest"].get("cached")]
    measured = fresh or runs[:1]
    chunks = runs[0]["chunks"]
    seconds = _spread(measured, lambda r: r["ingest"]["seconds"], " s")
    rate = _mid(measured, lambda r: chunks / r["ingest"]["seconds"])
    used = _mid(measured, lambda r: r["ingest"]["cpu_seconds"] / r["ingest"]["seconds"])
    others = max(r["ingest"].get("others", 0.0) for r in measured)
    noisy = " **noisy**" if others >= NOISY_CORES else ""
    reused = f"; built once ({runs[0]['ingest']['measured']}), copied" if not fresh else ""
    return f"{seconds}, {rate:.0f}/s, {used:.2f} (≤ {others:.2f}{noisy}){reused}"


def tables(results: dict[str, Any]) -> str:
    """The three Markdown tables of RESULTS.md, and a line per configuration on correctness."""
    lines: list[str] = []
    workers = sorted(_series(results, "workers"), key=lambda g: g[0]["workers"])
    if workers:
        lines += [
            "| worker processes | replies/s at capacity | CPU per message at capacity: serve / "
            "workers / PostgreSQL / Valkey | cores (others) | end to end at "
            f"{workers[0][0]['phases']['steady']['offered']}: p50 / p95 / p99 | cores (others) "
            "| RSS: serve + workers |",
            "| ---: | ---: | --- | ---: | --- | ---: | ---: |",
        ]
        for runs in workers:
            serve = _mid(runs, lambda r: r["rss_mb"]["serve"])
            bots = _mid(
                runs, lambda r: sum(v for k, v in r["rss_mb"].items() if k.startswith("worker"))
            )
            lines.append(
                f"| {runs[0]['workers']} | {_spread(runs, _capacity, ' /s', bold=True)} | "
                f"{_cpu(runs)} | {_cores(runs, 'capacity')} | {_latency(runs)} | "
                f"{_cores(runs, 'steady')} | {serve:,.0f} + {bots:,.0f} MiB |"
            )
        lines.append("")
    chunks = sorted(_series(results, "chunks"), key=lambda g: g[0]["chunks_asked"])
    if chunks:
        lines += [
            "| chunks | `bot kb ingest`: time, chunks/s, cores (others) | index on disk | "
            "worker RSS | replies/s at capacity | CPU per message at capacity | cores (others) "
            f"| end to end at {chunks[0][0]['phases']['steady']['offered']}: p50 / p95 / p99 | "
            "replies at capacity: right entry / other entry / did you mean / no answer |",
            "| ---: | --- | ---: | ---: | ---: | --- | ---: | --- | --- |",
        ]
        for runs in chunks:
            disk = runs[0]["ingest"].get("index_mb")
            kinds = {
                kind: sum(r["phases"]["capacity"]["replies"][kind] for r in runs)
                for kind in ("right", "other entry", "did you mean", "no answer")
            }
            shares = " / ".join(
                f"{100 * v / max(1, sum(kinds.values())):.0f}" for v in kinds.values()
            )
            lines.append(
                f"| {runs[0]['chunks']:,} | {_ingest(runs)} | "
                f"{'-' if disk is None else f'{disk:,.0f} MiB'} | "
                f"{_mid(runs, lambda r: r['rss_mb']['worker-1']):,.0f} MiB | "
                f"{_spread(runs, _capacity, ' /s', bold=True)} | {_cpu(runs)} | "
                f"{_cores(runs, 'capacity')} | {_latency(runs)} | {shares} % |"
            )
        lines.append("")
    chats = sorted(
        _series(results, "conversations"),
        key=lambda g: (g[0].get("telegram_chat_limit", True), g[0]["chats"]),
    )
    if chats:
        lines += [
            "| conversations | Telegram's 1 message/s per chat | hellos first | replies/s at "
            "capacity | CPU per message at capacity | cores (others) | end to end: rate, p50 / "
            "p95 / p99 | Valkey used_memory (keys) after hellos / at the end | PostgreSQL after "
            "hellos / at the end |",
            "| ---: | --- | ---: | ---: | --- | ---: | --- | --- | --- |",
        ]
        for runs in chats:
            limit = "kept" if runs[0].get("telegram_chat_limit", True) else "lifted"

            def mib(where: str, what: str, runs: list[dict[str, Any]] = runs) -> float:
                return _mid(runs, lambda r: r[where][what])

            lines.append(
                f"| {runs[0]['chats']:,} | {limit} | "
                f"{_mid(runs, lambda r: r['prefill_seconds']):.0f} s | "
                f"{_spread(runs, _capacity, ' /s', bold=True)} | {_cpu(runs)} | "
                f"{_cores(runs, 'capacity')} | {runs[0]['phases']['steady']['offered']}: "
                f"{_latency(runs)} | {mib('after_prefill', 'valkey_used_memory_mb'):.1f} MiB "
                f"({mib('after_prefill', 'valkey_keys'):,.0f}) / "
                f"{mib('storage', 'valkey_used_memory_mb'):.1f} MiB "
                f"({mib('storage', 'valkey_keys'):,.0f}) | "
                f"{mib('after_prefill', 'postgres_mb'):.1f} / {mib('storage', 'postgres_mb'):.1f} "
                "MiB |"
            )
        lines.append("")
    for r in results["runs"]:
        where = f"{r['key']}, round {r.get('round', 1)}"
        if "error" in r:
            lines.append(f"- {where}: failed, {r['error'][:300]}")
            continue
        tries = {name: len(f["others_of_tries"]) for name, f in r["phases"].items()}
        lines.append(
            f"- {where}: {r['messages_acked']:,} messages acknowledged, missing replies "
            f"{r['missing']}, duplicates {r['duplicates']}, not 200 {r['not_acked']}, "
            f"repeated questions {r['repeated_questions']}, server error counters "
            f"{r['error_counters'] or 'none'}, {len(r['log_lines'])} log lines, tries "
            f"{tries}; commit {r['commit']}, {r['date']}"
        )
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """Replies/s at capacity and p95 at the steady rate against each series, in one PNG."""
    import matplotlib  # optional: pip install -e '.[bench]'

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("workers", "workers", "worker processes (1,000 chunks)", False),
        ("chunks", "chunks", "knowledge chunks (1 worker process)", True),
        ("conversations", "chats", "concurrent conversations (1 worker process)", True),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.4), layout="constrained")
    for ax, (series, field, label, log) in zip(axes, panels, strict=True):
        groups = _series(results, series)
        lifted = [g for g in groups if not g[0].get("telegram_chat_limit", True)]
        groups = sorted(lifted or groups, key=lambda g: float(g[0][field]))
        ax.set_xlabel(label.split(" (")[0])
        if not groups:
            ax.set_title("not measured", fontsize=10)
            continue
        ax.set_title(label, fontsize=10)
        xs = [float(g[0][field]) for g in groups]
        right = ax.twinx()
        offered = groups[0][0]["phases"]["steady"]["offered"]
        curves = [
            (ax, _capacity, "o-", "tab:blue", "/s", 7, "replies/s at capacity"),
            (right, _p95, "s--", "tab:red", " ms", -14, f"p95 end to end at {offered} (ms)"),
        ]
        for axis, get, style, colour, unit, offset, title in curves:
            values = [sorted(get(r) for r in g) for g in groups]
            mids = [statistics.median(v) for v in values]
            low = [m - v[0] for m, v in zip(mids, values, strict=True)]
            high = [v[-1] - m for m, v in zip(mids, values, strict=True)]
            axis.errorbar(xs, mids, yerr=[low, high], fmt=style, color=colour, capsize=4)
            for x, y in zip(xs, mids, strict=True):
                axis.annotate(
                    f"{y:.0f}{unit}",
                    (x, y),
                    xytext=(7, offset),
                    textcoords="offset points",
                    ha="left",
                    color=colour,
                )
            axis.set_ylim(0, max(v[-1] for v in values) * 1.3)
            axis.set_ylabel(title, color=colour)
        if log:
            ax.set_xscale("log")
        ax.set_xticks(xs, [f"{x:,.0f}" for x in xs])
        ax.minorticks_off()
        ax.margins(x=0.2)
        ax.grid(alpha=0.3)
    figure.suptitle(
        f"bot serve --workers 0 + bot worker processes on {results.get('cores')} cores: replies/s "
        "at capacity (blue, left), p95 end to end below capacity (red, right); median and range "
        "of the rounds",
        fontsize=10,
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default=",".join(SERIES), help="which of " + ", ".join(SERIES))
    parser.add_argument("--workers", default="1,2,4", help="worker processes")
    parser.add_argument("--chunks", default="1000,10000,100000", help="knowledge sizes")
    parser.add_argument("--chats", default="10,10000", help="concurrent conversations")
    parser.add_argument("--messages", type=int, default=2000, help="of the capacity phase")
    parser.add_argument("--steady-messages", type=int, default=1000, help="of the steady phase")
    parser.add_argument("--rate", type=float, default=40.0, help="offered rate of 'steady'")
    parser.add_argument("--rounds", type=int, default=3, help="each configuration this often")
    parser.add_argument("--qdrant-url", help="a Qdrant server (QDRANT_URL) shared by all workers")
    parser.add_argument(
        "--index-cache",
        default=str(INDEX_CACHE),
        help=f"keeps built indexes of {CACHE_FROM:,} chunks and more between runs ('' for none)",
    )
    parser.add_argument(
        "--results", type=Path, help="default bench/load_results.json (_qdrant with a server)"
    )
    parser.add_argument("--plot", type=Path, help="default bench/load.png (_qdrant with a server)")
    parser.add_argument("--plot-only", action="store_true", help="tables and plot from --results")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra environment variable for the bot's processes (repeatable)",
    )
    args = parser.parse_args()
    server = "_qdrant" if args.qdrant_url else ""  # never mixed with the embedded figures
    args.results = args.results or RESULTS.with_stem(RESULTS.stem + server)
    args.plot = args.plot or PLOT.with_stem(PLOT.stem + server)
    if args.plot_only:
        results = load_results(args.results)
    else:
        try:
            psutil.Process().nice(-10)  # as webhook_speed: the sender's delays are not the bot's
        except psutil.AccessDenied:
            print("running at normal priority: the sender's own delays may add to the figures")
        results = asyncio.run(run(args))
    print(tables(results))
    plot(results, args.plot)
    print(f"\nplot: {args.plot.name}")


if __name__ == "__main__":
    main()
