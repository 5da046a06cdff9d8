"""Memory and start-up time of the real `bot serve` and `bot chat`, for a 1 GB server.

Every run starts the bot as a subprocess on a fresh data folder with the sample knowledge base,
its own embedded PostgreSQL, Valkey and vector index, and all four channels pointed at local
fakes: the fake Bot API and Twilio API of tests/providers, a real Dovecot (IMAP) and aiosmtpd
(SMTP); web chat is always on. Memory is summed over the bot's process tree, PostgreSQL's
processes and Valkey (found by their pid files under DATA_DIR): RSS, and PSS from
/proc/<pid>/smaps_rollup (pages shared between processes, such as PostgreSQL's shared buffers,
counted once). Results go to bench/footprint_results.json under `--label`; a table is printed.

    .venv/bin/python bench/footprint.py                      # memory, webhooks and startup
    .venv/bin/python bench/footprint.py --only startup --label after
    .venv/bin/python bench/footprint.py --code ../other-checkout --label before
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import pty
import random
import secrets
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from twilio.request_validator import RequestValidator
from webhook_speed import (
    Post,
    WebhookClient,
    end_leftovers,
    free_port,
    server_env,
    stop,
    wait_until_quiet,
)

from tests.integration.bot_processes import provider_env
from tests.integration.test_email_flow import BOT_MAILBOX, PASSWORD, STAFF, customer_mail
from tests.integration.test_whatsapp_flow import inbound
from tests.providers.dovecot import Dovecot
from tests.providers.smtp_server import SmtpServer
from tests.providers.telegram_api import FakeTelegramAPI
from tests.providers.twilio_api import FakeTwilioApi

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "footprint_results.json"
QUESTIONS = BENCH / "multilingual_questions.json"
PUBLIC_URL = "https://bot.example.test"  # what provider_env tells the bot; Twilio signs it
MIB = 2**20
LANGUAGES = {"en": 0.7, "zh": 0.1, "ms": 0.1, "ta": 0.1}
# Messages per channel and customers per channel: (messages, customers).
MIX = {"telegram": (400, 80), "whatsapp": (300, 60), "webchat": (200, 20), "email": (100, 50)}
TARGETS = {"default_total_mib": 600, "webhooks_process_mib": 150, "ready_s": 5.0}
DRAIN_TIMEOUT = 900.0


# --- processes and memory ----------------------------------------------------------------------


@dataclass
class Proc:
    """One measured process."""

    pid: int
    name: str
    rss: int
    pss: int


def _pss(pid: int) -> int:
    """Proportional set size in bytes, from smaps_rollup (0 when unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def holders(pid: int, top: int = 8) -> dict[str, float]:
    """What holds a process's memory: PSS (MiB) by mapped file or kind, the largest first."""
    sizes: dict[str, int] = {}
    name = "?"
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        head = line.split(maxsplit=5)
        if head and "-" in head[0] and len(head) >= 5:  # a mapping's first line
            name = Path(head[5]).name if len(head) == 6 and head[5].startswith("/") else "anon"
            name = head[5] if len(head) == 6 and head[5].startswith("[") else name
        elif line.startswith("Pss:"):
            sizes[name] = sizes.get(name, 0) + int(line.split()[1]) * 1024
    ranked = sorted(sizes.items(), key=lambda item: -item[1])
    return {n: round(b / MIB, 1) for n, b in ranked[:top] if b}


def _tree(pid: int) -> list[psutil.Process]:
    """A process and its descendants (empty when it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _pid_file(path: Path) -> int | None:
    """The first number in a pid file, if there is one."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_groups(bot_pid: int, data_dir: Path) -> dict[str, list[psutil.Process]]:
    """The bot's tree, PostgreSQL's and Valkey's processes, each process in one group."""
    groups: dict[str, list[psutil.Process]] = {"bot": [], "postgres": [], "valkey": []}
    postmaster = _pid_file(data_dir / "postgres" / "postmaster.pid")
    if postmaster is not None:
        groups["postgres"] = _tree(postmaster)
    valkey = _pid_file(data_dir / "valkey" / "valkey.pid")
    seen = {p.pid for p in groups["postgres"]}
    for proc in [*_tree(bot_pid), *_named_after(data_dir)]:
        if proc.pid in seen:
            continue
        seen.add(proc.pid)
        try:
            name = proc.name()
        except psutil.Error:
            continue
        if proc.pid == valkey or name.startswith(("valkey", "redis")):
            groups["valkey"].append(proc)
        elif name.startswith(("postgres", "pg_")):
            groups["postgres"].append(proc)
        else:
            groups["bot"].append(proc)
    return groups


def _named_after(data_dir: Path) -> Iterator[psutil.Process]:
    """Processes whose command line names the data folder (servers detached from the bot)."""
    for proc in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(proc.info["cmdline"] or []):
            yield proc


def measure(bot_pid: int, data_dir: Path) -> dict[str, Any]:
    """RSS and PSS (MiB) per group and in total, the processes, and the bot's peak RSS."""
    figures: dict[str, Any] = {"groups": {}, "processes": []}
    for group, procs in process_groups(bot_pid, data_dir).items():
        rss = pss = 0
        for proc in procs:
            try:
                item = Proc(proc.pid, proc.name(), proc.memory_info().rss, _pss(proc.pid))
            except psutil.Error:
                continue
            rss, pss = rss + item.rss, pss + item.pss
            figures["processes"].append(
                {"group": group, "name": item.name, "rss": item.rss / MIB, "pss": item.pss / MIB}
            )
        figures["groups"][group] = {"rss": rss / MIB, "pss": pss / MIB, "count": len(procs)}
    groups = figures["groups"].values()
    figures["total"] = {"rss": sum(g["rss"] for g in groups), "pss": sum(g["pss"] for g in groups)}
    figures["bot_process_rss"] = _status_kib(bot_pid, "VmRSS") / 1024
    figures["bot_process_peak_rss"] = _status_kib(bot_pid, "VmHWM") / 1024
    figures["bot_process_holders"] = holders(bot_pid)
    return figures


def _status_kib(pid: int, key: str) -> float:
    """A kB figure from /proc/<pid>/status (0 when absent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


@dataclass
class PeakSampler:
    """Samples the total RSS of every group twice a second; keeps the peak."""

    bot_pid: int
    data_dir: Path
    peak_mib: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        while True:
            groups = await asyncio.to_thread(process_groups, self.bot_pid, self.data_dir)
            total = 0
            for proc in (p for procs in groups.values() for p in procs):
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mib = max(self.peak_mib, total / MIB)
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- the bot and its providers -----------------------------------------------------------------


@dataclass
class Providers:
    """The fakes the bot's channels talk to."""

    telegram: FakeTelegramAPI
    twilio: FakeTwilioApi
    smtp: SmtpServer
    dovecot: Dovecot

    def outbound(self) -> int:
        """Messages the bot sent so far, over every provider."""
        sent = len(self.telegram.calls_to("sendMessage"))
        return sent + len(self.twilio.accepted) + len(self.smtp.messages)


@dataclass
class Bot:
    """One `bot serve` (or `bot chat`) subprocess on a data folder."""

    proc: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    log: Path


SETTINGS: dict[str, str] = {}
"""Bot settings given with --setting, over the defaults, for every process the bench starts."""


def bot_env(code: Path, data_dir: Path, port: int, providers: Providers) -> dict[str, str]:
    """The bot's settings: the sample knowledge base, every channel against the fakes."""
    channels = provider_env(providers.telegram, providers.twilio, providers.smtp, providers.dovecot)
    extra = {
        **channels,
        "STAFF_EMAIL": STAFF,
        "EMAIL_POLL_SECONDS": "1",
        "PYTHONPATH": str(code),
    }
    kb = code / "knowledge_base" / "sample"
    env = server_env(data_dir, kb, port, providers.telegram.base_url, False, extra)
    for name in ("WORKER_CONCURRENCY", "EMBEDDING_INT8", "TELEGRAM_RATE_PER_SECOND"):
        env.pop(name)  # the defaults
    return {**env, **SETTINGS}


def launch(args: list[str], env: dict[str, str], data_dir: Path, **io: Any) -> Bot:
    """`python -m bot <args>` in the data folder's parent, output to a log beside it."""
    log = data_dir.with_name(f"{data_dir.name}-{args[0]}.log")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=data_dir.parent,
            stdout=io.get("stdout", out),
            stderr=out,
            stdin=io.get("stdin", subprocess.DEVNULL),
        )
    return Bot(proc, data_dir, int(env["PORT"]), log)


async def until_ready(bot: Bot, within: float = 600.0) -> float:
    """Seconds until /readyz first answers 200."""
    began = time.monotonic()
    url = f"http://127.0.0.1:{bot.port}/readyz"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() - began < within:
            if bot.proc.poll() is not None:
                raise RuntimeError(f"bot exited:\n{bot.log.read_text(errors='replace')[-3000:]}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return time.monotonic() - began
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("bot serve was not ready in time")


async def serve(
    code: Path, data_dir: Path, providers: Providers, workers: int
) -> tuple[Bot, float]:
    """Start `bot serve --workers N`; the process and the seconds it took to be ready."""
    env = bot_env(code, data_dir, free_port(), providers)
    began = time.monotonic()
    bot = launch(["serve", "--workers", str(workers)], env, data_dir)
    await until_ready(bot)
    return bot, time.monotonic() - began


async def halt(bot: Bot) -> None:
    """Stop the bot, and whatever it left running under its data folder."""
    await asyncio.to_thread(stop, bot.proc)
    await asyncio.to_thread(end_leftovers, bot.data_dir)


# --- customers ---------------------------------------------------------------------------------


@dataclass
class Message:
    """One customer message to send."""

    channel: str
    customer: int
    text: str


def conversation_plan(total: int, first_customer: int = 0, seed: int = 7) -> list[Message]:
    """`total` messages over the channels of MIX, several per customer, languages mixed."""
    rows = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    rng = random.Random(seed)
    scale = total / sum(n for n, _ in MIX.values())
    plan: list[Message] = []
    for channel, (count, customers) in MIX.items():
        for n in range(round(count * scale)):
            language = rng.choices(list(LANGUAGES), weights=list(LANGUAGES.values()))[0]
            customer = first_customer + n % customers
            plan.append(Message(channel, customer, rng.choice(rows)[language]))
    rng.shuffle(plan)
    return plan


class Customers:
    """Sends plan messages the way each provider would deliver them."""

    def __init__(self, bot: Bot, providers: Providers) -> None:
        self.bot = bot
        self.providers = providers
        self.telegram = WebhookClient(bot.port, 0, connections=32)
        self.base = f"http://127.0.0.1:{bot.port}"
        self.tokens: dict[int, str] = {}
        self.sent: dict[str, int] = {}

    async def close(self) -> None:
        await self.telegram.close()

    async def send(self, message: Message) -> None:
        """Deliver one message; raise when the bot refuses it."""
        session = self.telegram.session
        if message.channel == "telegram":
            post = Post(chat=700_000_000 + message.customer, due=time.monotonic())
            await self.telegram.post(post, message.text)
            status = post.status
        elif message.channel == "whatsapp":
            form = inbound(message.text, f"whatsapp:+6580{message.customer:06d}")
            token = self.providers.twilio.auth_token
            signed = RequestValidator(token).compute_signature(
                PUBLIC_URL + "/webhooks/twilio", form
            )
            async with session.post(
                self.base + "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signed}
            ) as response:
                status = response.status
        elif message.channel == "webchat":
            headers = {"Authorization": f"Bearer {await self._token(message.customer)}"}
            body = {"id": secrets.token_hex(8), "text": message.text}
            async with session.post(
                self.base + "/webchat/messages", json=body, headers=headers
            ) as response:
                status = response.status
        else:
            mail = customer_mail(f"customer{message.customer}@mail.test", "Question", message.text)
            await self.providers.dovecot.append(BOT_MAILBOX, PASSWORD, mail.as_bytes())
            status = 200
        if status not in (200, 201, 202):
            raise RuntimeError(f"{message.channel} refused a message: HTTP {status}")
        self.sent[message.channel] = self.sent.get(message.channel, 0) + 1

    async def _token(self, visitor: int) -> str:
        """The web chat token of a visitor, made at its first message."""
        while visitor not in self.tokens:  # 429 past 30 new visitors a minute from one address
            async with self.telegram.session.post(self.base + "/webchat/session", json={}) as r:
                if r.status == 200:
                    self.tokens[visitor] = (await r.json())["token"]
                    break
            await asyncio.sleep(2.0)
        return self.tokens[visitor]

    async def send_all(self, plan: list[Message], rate: float) -> None:
        """Send the plan at `rate` messages a second (email in order, HTTP concurrently)."""
        began = time.monotonic()
        tasks = []
        for n, message in enumerate(plan):
            await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(self.send(message)))
        await asyncio.gather(*tasks)

    async def webchat_replies(self) -> int:
        """Bot messages in every web chat visitor's history."""
        count = 0
        for token in self.tokens.values():
            headers = {"Authorization": f"Bearer {token}"}
            async with self.telegram.session.get(
                self.base + "/webchat/history", headers=headers
            ) as response:
                history = (await response.json())["history"]
            count += sum(1 for event in history if event.get("from") == "bot")
        return count

    async def counters(self) -> dict[str, float]:
        """The server's counters, summed over labels."""
        return await self.telegram.metrics()


async def drained(customers: Customers, expected: int) -> float:
    """Wait until `expected` messages were queued, the queue is empty and sending stopped."""
    began = time.monotonic()
    last, still_since = -1, time.monotonic()
    while time.monotonic() - began < DRAIN_TIMEOUT:
        counters = await customers.counters()
        sent = customers.providers.outbound()
        received = counters.get("bot_messages_received_total", 0.0)
        if sent != last:
            last, still_since = sent, time.monotonic()
        idle = counters.get("bot_queue_depth", 1.0) == 0 and time.monotonic() - still_since > 5
        if received >= expected and idle:
            return time.monotonic() - began
        await asyncio.sleep(1.0)
    raise RuntimeError(f"not drained in {DRAIN_TIMEOUT:.0f} s")


# --- the three parts ---------------------------------------------------------------------------


async def memory_part(
    code: Path, root: Path, providers: Providers, messages: int
) -> dict[str, Any]:
    """The default install on an empty data folder, then restarted on it (new customers)."""
    first = await answering(code, root / "memory", providers, messages, 0)
    second = await answering(code, root / "memory", providers, messages, 1000)
    return {**first, "restarted": second}


async def answering(
    code: Path, data_dir: Path, providers: Providers, messages: int, first_customer: int
) -> dict[str, Any]:
    """`bot serve` (one worker) idle after start, then after `messages` customer messages."""
    bot, ready = await serve(code, data_dir, providers, workers=1)
    sampler = PeakSampler(bot.proc.pid, data_dir)
    customers = Customers(bot, providers)
    sent_before = _replies(providers)
    try:
        await asyncio.sleep(5)
        idle = measure(bot.proc.pid, data_dir)
        sampler.start()
        plan = conversation_plan(messages, first_customer)
        began = time.monotonic()
        await customers.send_all(plan, rate=25.0)
        await drained(customers, len(plan))
        took = time.monotonic() - began
        await sampler.stop()
        after = measure(bot.proc.pid, data_dir)
        replies = {k: v - sent_before[k] for k, v in _replies(providers).items()}
        replies["webchat"] = await customers.webchat_replies()
        counters = await customers.counters()
    finally:
        await sampler.stop()
        await customers.close()
        await halt(bot)
    return {
        "ready_s": ready,
        "idle": idle,
        "after": after,
        "peak_total_rss": sampler.peak_mib,
        "messages": customers.sent,
        "replies": replies,
        "seconds": took,
        "handoffs": counters.get("bot_handoffs_total", 0.0),
        "errors": counters.get("bot_processing_errors_total", 0.0),
    }


def _replies(providers: Providers) -> dict[str, int]:
    """Messages each fake provider received so far (email: replies and staff handoffs)."""
    return {
        "telegram": len(providers.telegram.calls_to("sendMessage")),
        "whatsapp": len(providers.twilio.accepted),
        "email": len(providers.smtp.messages),
    }


async def webhooks_part(code: Path, root: Path, providers: Providers, posts: int) -> dict[str, Any]:
    """`bot serve --workers 0` idle after start, then after `posts` webhook posts."""
    data_dir = root / "webhooks"
    bot, ready = await serve(code, data_dir, providers, workers=0)
    customers = Customers(bot, providers)
    try:
        await asyncio.sleep(5)
        idle = measure(bot.proc.pid, data_dir)
        plan = [m for m in conversation_plan(posts * 2) if m.channel != "email"][:posts]
        await customers.send_all(plan, rate=50.0)
        await asyncio.sleep(5)
        after = measure(bot.proc.pid, data_dir)
    finally:
        await customers.close()
        await halt(bot)
    return {"ready_s": ready, "idle": idle, "after": after, "posts": customers.sent}


def chat_times(code: Path, data_dir: Path, providers: Providers) -> tuple[float, float]:
    """Seconds until `bot chat` (on a terminal) prints its prompt, and until its first answer."""
    env = bot_env(code, data_dir, free_port(), providers)
    master, slave = pty.openpty()
    began = time.monotonic()
    bot = launch(["chat"], env, data_dir, stdin=slave, stdout=slave)
    os.close(slave)
    try:
        prompt = _read_until(master, b"you> ", bot) - began
        os.write(master, b"What time do you open on Saturday?\n")
        answered = time.monotonic()
        answer = _read_until(master, b"bot> ", bot) - answered
        os.write(master, b"\x04")
        bot.proc.wait(60)
    finally:
        os.close(master)
        stop(bot.proc)
        end_leftovers(data_dir)
    return prompt, answer


def _read_until(fd: int, marker: bytes, bot: Bot, timeout: float = 300.0) -> float:
    """Read the terminal until `marker` shows; when it did (monotonic seconds)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline or bot.proc.poll() is not None:
            raise RuntimeError(f"no {marker!r} from bot chat: {seen[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            seen += os.read(fd, 4096)
    return time.monotonic()


async def startup_part(code: Path, root: Path, providers: Providers, rounds: int) -> dict[str, Any]:
    """Ready times of first and second starts, both layouts, and `bot chat`'s prompt."""
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)
        print(f"  {name}: {seconds:.2f} s", flush=True)

    for n in range(rounds):
        await wait_until_quiet(limit=30)
        for workers in (1, 0):
            data_dir = root / f"start-{workers}-{n}"
            for start in ("first", "second"):
                bot, ready = await serve(code, data_dir, providers, workers)
                await halt(bot)
                note(f"serve --workers {workers}, {start} start", ready)
        prepared = root / f"prepared-{n}"
        env = bot_env(code, prepared, free_port(), providers)
        made = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "prepare"],
            env=env,
            cwd=root,
            capture_output=True,
        )
        if made.returncode == 0:
            bot, ready = await serve(code, prepared, providers, 1)
            await halt(bot)
            note("serve --workers 1, first start after `bot prepare`", ready)
        prompt, answer = await asyncio.to_thread(chat_times, code, root / f"start-1-{n}", providers)
        note("bot chat, prompt (warm data folder)", prompt)
        note("bot chat, first answer after the prompt", answer)
    return {name: {"median": statistics.median(v), "runs": v} for name, v in times.items()}


# --- report ------------------------------------------------------------------------------------


def _mem_row(what: str, m: dict[str, Any]) -> str:
    g = m["groups"]
    return (
        f"| {what} | {g['bot']['rss']:.0f} / {g['bot']['pss']:.0f} | "
        f"{g['postgres']['rss']:.0f} / {g['postgres']['pss']:.0f} ({g['postgres']['count']}) | "
        f"{g['valkey']['rss']:.0f} / {g['valkey']['pss']:.0f} | "
        f"**{m['total']['rss']:.0f} / {m['total']['pss']:.0f}** | {m['bot_process_peak_rss']:.0f} |"
    )


def table(label: str, run: dict[str, Any]) -> str:
    """The markdown tables of one labelled run."""
    given = ", ".join(f"{k}={v}" for k, v in run.get("settings", {}).items())
    title = f"### {label}: {run.get('date', '?')}, code {run.get('commit', '?')}"
    lines = [title + (f", with {given}" if given else ""), ""]
    if "memory" in run or "webhooks" in run:
        lines += [
            "| state | bot RSS / PSS | PostgreSQL RSS / PSS (processes) | Valkey RSS / PSS | "
            "total RSS / PSS | bot peak RSS |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        if "memory" in run:
            mem = run["memory"]
            count = sum(mem["messages"].values())
            lines.append(_mem_row("default (1 worker), idle after start", mem["idle"]))
            lines.append(_mem_row(f"default, after {count:,} messages", mem["after"]))
            if "restarted" in mem:
                again = mem["restarted"]
                lines.append(_mem_row("default, restarted, idle", again["idle"]))
                lines.append(_mem_row(f"default, restarted, after {count:,} more", again["after"]))
        if "webhooks" in run:
            hooks = run["webhooks"]
            count = sum(hooks["posts"].values())
            lines.append(_mem_row("`--workers 0`, idle after start", hooks["idle"]))
            lines.append(_mem_row(f"`--workers 0`, after {count:,} posts", hooks["after"]))
        lines.append("")
    if "memory" in run:
        mem = run["memory"]
        total, pss = mem["after"]["total"]["rss"], mem["after"]["total"]["pss"]
        limit = TARGETS["default_total_mib"]
        lines.append(
            f"Default install after the messages: total RSS {total:.0f} MiB "
            f"{'✓' if total < limit else '✗'}, PSS {pss:.0f} MiB {'✓' if pss < limit else '✗'} "
            f"(target < {limit}); peak total RSS while answering "
            f"{mem['peak_total_rss']:.0f} MiB; sent {mem['messages']}, replies {mem['replies']} "
            f"in {mem['seconds']:.0f} s, handoffs {mem['handoffs']:.0f}, "
            f"processing errors {mem['errors']:.0f}."
        )
        held = ", ".join(f"{n} {v:.0f}" for n, v in mem["after"]["bot_process_holders"].items())
        lines.append(f"Bot process PSS by mapping (MiB): {held}.")
    if "webhooks" in run:
        bot = run["webhooks"]["after"]["groups"]["bot"]
        limit = TARGETS["webhooks_process_mib"]
        lines.append(
            f"Webhooks-only bot process after the posts: RSS {bot['rss']:.0f} MiB "
            f"{'✓' if bot['rss'] < limit else '✗'}, PSS {bot['pss']:.0f} MiB "
            f"{'✓' if bot['pss'] < limit else '✗'} (target < {limit})."
        )
    if "startup" in run:
        lines += ["", "| start | median | runs |", "| --- | ---: | --- |"]
        for name, t in run["startup"].items():
            if not isinstance(t, dict):
                continue
            runs = ", ".join(f"{s:.1f}" for s in t["runs"])
            lines.append(f"| {name} | **{t['median']:.1f} s** | {runs} |")
    return "\n".join(lines)


def commit_of(code: Path) -> str:
    """The short commit of the measured code (`unknown` outside git)."""
    found = subprocess.run(
        ["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """The parts asked for; the run's figures."""
    code: Path = args.code
    result: dict[str, Any] = {
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "commit": commit_of(code),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "settings": dict(SETTINGS),
    }
    root = Path(tempfile.mkdtemp(prefix="footprint-"))
    os.chmod(root, 0o755)  # PostgreSQL runs as its own user when we are root
    try:
        async with AsyncExitStack() as stack:
            dovecot = stack.enter_context(Dovecot())
            dovecot.add_user(BOT_MAILBOX, PASSWORD)
            smtp = stack.enter_context(SmtpServer(logins={BOT_MAILBOX: PASSWORD}))
            telegram = await stack.enter_async_context(FakeTelegramAPI())
            twilio = await stack.enter_async_context(FakeTwilioApi())
            providers = Providers(telegram, twilio, smtp, dovecot)
            parts = ["memory", "webhooks", "startup"] if args.only == "all" else [args.only]
            for part in parts:
                load = await wait_until_quiet(limit=30)
                print(f"{part} (others used {load:.2f} cores before):", flush=True)
                if part == "memory":
                    result[part] = await memory_part(code, root, providers, args.messages)
                elif part == "webhooks":
                    result[part] = await webhooks_part(code, root, providers, args.posts)
                else:
                    result[part] = await startup_part(code, root, providers, args.rounds)
                result[part]["others_cores_before"] = load
    finally:
        end_leftovers(root)
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["all", "memory", "webhooks", "startup"], default="all")
    parser.add_argument("--messages", type=int, default=1000, help="default install's messages")
    parser.add_argument("--posts", type=int, default=200, help="webhooks-only posts")
    parser.add_argument("--rounds", type=int, default=3, help="start-up timings, median of these")
    parser.add_argument("--code", default=str(REPO), help="the checkout whose bot is measured")
    parser.add_argument("--label", default="current", help="the results file's key for this run")
    parser.add_argument("--report", action="store_true", help="only print the saved results")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a bot setting instead of its default (e.g. EMBEDDING_INT8=true); repeatable",
    )
    args = parser.parse_args()
    for setting in args.setting:
        name, sep, value = setting.partition("=")
        if not sep or not name:
            parser.error(f"--setting takes NAME=VALUE, not {setting!r}")
        SETTINGS[name.strip().upper()] = value
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd: a warning per login
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.report:
        print("\n\n".join(table(label, run) for label, run in saved.items()))
        return
    args.code = Path(args.code).resolve()
    result = asyncio.run(run(args))
    saved[args.label] = {**saved.get(args.label, {}), **result}
    RESULTS.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
    print(table(args.label, saved[args.label]))


if __name__ == "__main__":
    main()
