"""A running bot process: channels, inbound queue, workers and (for `serve`) the web server."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from types import TracebackType

import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channel_setup import Channels, open_channels
from bot.config import Settings
from bot.handoffs import HandoffStore
from bot.metrics import Metrics
from bot.process_tuning import return_freed_memory
from bot.queue.delivery import Delivery
from bot.queue.inbound import InboundQueue
from bot.queue.ingress import FloodGuard, Ingress
from bot.queue.worker import Worker
from bot.rating_requests import rating_requests
from bot.report.weekly import WeeklyReport, weekly_report
from bot.scheduled_runs import ScheduledRuns
from bot.server import build_app
from bot.services import Services
from bot.stopping import Waits
from core.conversation import resolves
from core.lazy_embedding import LazyEmbedder
from core.messages import ChannelName, InboundMessage, Reply
from core.outbox import PostgresOutbox
from core.voice import Transcriber

log = structlog.get_logger(__name__)


class Runtime:
    """Everything one `bot serve` or `bot worker` process runs, started and stopped in order."""

    def __init__(
        self,
        services: Services,
        listen: bool,
        workers: int,
        settings: Settings | None = None,
        health: bool = False,
    ) -> None:
        self.services = services
        # Channel and server settings; the services' own by default.
        self.settings = settings or services.settings
        self._listen = listen
        # Without `listen`: still serve /healthz, /readyz and /metrics (a worker's own figures).
        self._health = health
        self._worker_count = workers
        self._stack = AsyncExitStack()
        self.metrics = Metrics()
        storage = services.storage
        self.queue = InboundQueue(storage.redis)
        self.outbox = PostgresOutbox(storage.pool)
        s = self.settings
        flood = FloodGuard(storage.redis, s.flood_limit, s.flood_window_seconds)
        self.ingress = Ingress(self.queue, self.outbox, self.metrics, flood)
        self.channels = Channels()
        self.voice: Transcriber | None = None
        """Reads voice notes when an OpenAI-compatible endpoint is configured."""
        self.app: web.Application | None = None
        self._kicks: set[asyncio.Task[int]] = set()
        self.port: int | None = None
        self._delivery: Delivery | None = None
        self.waits = Waits()
        """Waits (for a customer's turn, between send retries) that a stop cancels at once."""
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        """This process among all bot processes on every machine (workers, scheduled runs)."""

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        """Open channels and, when listening, the web server."""
        s = self.settings
        storage = self.services.storage
        await self.queue.ensure_group()
        self.channels = await open_channels(
            s, self._stack, self.ingress, storage.pool, storage.redis, self._listen
        )
        if self._worker_count and s.voice_enabled and s.openai_api_key is not None:
            # Only workers read voice notes; openai is imported only for them.
            from bot.voice_notes import open_voice_notes

            self.voice = open_voice_notes(s, self._stack, self.channels.audio)
        if not (self._listen or self._health):
            return
        key = s.metrics_api_key.get_secret_value() if s.metrics_api_key else None
        routes = self.channels.routes if self._listen else []
        self.app = build_app(routes, self._checks(), self.metrics, self.queue, metrics_key=key)
        self.app.on_shutdown.extend(self.channels.on_shutdown)
        # Requests still open at a stop get the grace period, not aiohttp's default minute.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=s.stop_grace_seconds)
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, s.host, s.port)
        await site.start()
        # With PORT=0 the system picks one; the runner knows which.
        self.port = int(runner.addresses[0][1]) if runner.addresses else s.port

    def _checks(self) -> dict[str, Callable[[], Awaitable[object]]]:
        """Readiness probes: PostgreSQL, Redis and Qdrant each answer."""
        storage = self.services.storage
        checks: dict[str, Callable[[], Awaitable[object]]] = {
            "postgresql": lambda: storage.pool.fetchval("SELECT 1"),
            "redis": lambda: storage.redis.ping(),
        }
        if self.services.answers:  # a webhooks-only process opens no vector index
            checks["qdrant"] = self.services.index.count
        return checks

    def delivery(self) -> Delivery:
        """Sending through this process's channels (opened at start)."""
        if self._delivery is None:
            self._delivery = Delivery(
                self.outbox,
                self.channels.senders,
                self.metrics,
                lease=timedelta(seconds=self.settings.send_lease_seconds),
                waits=self.waits,
            )
        return self._delivery

    def workers(self) -> list[Worker]:
        """This process's queue consumers, each with a name unique across machines."""
        s = self.settings
        delivery = self.delivery()
        base = self.name
        return [
            Worker(
                self.queue,
                self._handle,
                delivery,
                self.metrics,
                name=f"{base}-{n}",
                concurrency=s.worker_concurrency,
                reclaim_after_seconds=s.reclaim_after_seconds,
                waits=self.waits,
                stop_grace_seconds=s.stop_grace_seconds,
            )
            for n in range(self._worker_count)
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Run workers and pollers until `stop` is set; workers finish what they hold."""
        scheduler = self._scheduler()
        scheduler.start()
        consumers = self.workers()
        workers = [asyncio.create_task(w.run(stop)) for w in consumers]
        pollers = [asyncio.create_task(p.run(stop)) for p in self.channels.pollers]
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait(
            [*workers, *pollers, stopped], return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            if task is not stopped and task.exception() is not None:
                log.error("runtime_task_failed", error=repr(task.exception()))
        stop.set()
        stopped.cancel()
        grace = self.settings.stop_grace_seconds
        log.info(
            "stopping",
            entries_in_hand=sum(w.in_hand for w in consumers),
            waits_cancelled=self.waits.stop(),
            handoffs_sending=len(self._kicks),
            grace_seconds=grace,
        )
        # A long poll would hold shutdown for its whole timeout; what it fetched is re-fetched.
        for poller in pollers:
            poller.cancel()
        # Scheduled jobs are cancelled; a deferred reply taken by one is released, not lost.
        scheduler.shutdown(wait=False)
        await asyncio.gather(*workers, *pollers, stopped, return_exceptions=True)
        if self._kicks:
            # Handoffs not emailed by then stay due: the next process's dispatcher sends them.
            _, late = await asyncio.wait(set(self._kicks), timeout=grace)
            for kick in late:
                kick.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _scheduler(self) -> AsyncIOScheduler:
        """Periodic jobs: handoffs and human mode, privacy, delivery, and what the owner gets."""
        scheduler = AsyncIOScheduler(timezone=self.settings.zone)
        self._handoff_jobs(scheduler)
        self._privacy_jobs(scheduler)
        self._delivery_jobs(scheduler)
        self._owner_jobs(scheduler)
        return scheduler

    def _handoff_jobs(self, scheduler: AsyncIOScheduler) -> None:
        """Due handoffs (at opening time too) and idle human conversations."""
        s = self.settings
        if self.channels.handoffs is not None:
            scheduler.add_job(
                self.channels.handoffs.dispatch_due,
                "interval",
                seconds=s.handoff_check_seconds,
                id="handoffs",
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(s.zone),
            )
        store = HandoffStore(self.services.storage.pool)
        idle = timedelta(minutes=s.human_idle_minutes)
        scheduler.add_job(
            store.hand_back_idle, "interval", args=[idle], minutes=5, id="idle", coalesce=True
        )

    def _privacy_jobs(self, scheduler: AsyncIOScheduler) -> None:
        """Daily retention and the erasures still pending, where the vectors are open."""
        s = self.settings
        if not self.services.answers:
            return  # summaries' vectors are erased and rewritten by the processes that answer
        # Every process schedules it; the day's row in scheduled_runs lets one of them run it.
        scheduler.add_job(
            self._apply_retention,
            "cron",
            hour=s.retention_at.hour,
            minute=s.retention_at.minute,
            id="retention",
            coalesce=True,
        )
        scheduler.add_job(
            self.services.rights.finish_pending, "interval", minutes=1, id="erasures", coalesce=True
        )

    def _delivery_jobs(self, scheduler: AsyncIOScheduler) -> None:
        """Replies set aside while a provider failed; rows are leased, so every process may."""
        if self.channels.senders:
            scheduler.add_job(
                self.delivery().send_deferred,
                "interval",
                seconds=self.settings.deferred_check_seconds,
                id="deferred",
                max_instances=1,
                coalesce=True,
            )

    def _owner_jobs(self, scheduler: AsyncIOScheduler) -> None:
        """The weekly owner report, and "How did we do?" when conversations end."""
        s = self.settings
        storage, embedder = self.services.storage, self.services.embedder
        if report := weekly_report(s, storage.pool, embedder, self.name):
            # Every process schedules it; the week's row in scheduled_runs lets one send it.
            # A process busy at that minute still sends it within the hour.
            scheduler.add_job(
                self._owner_report,
                "cron",
                args=[report],
                **report.cron,
                id="owner_report",
                misfire_grace_time=3600,
            )
        # A lock lets one process claim ended conversations at a time.
        asking = rating_requests(
            s,
            storage.pool,
            self.metrics,
            self.delivery().send_deferred if self.channels.senders else None,
            {channel.value for channel in self.channels.senders},
        )
        scheduler.add_job(
            asking.run, "interval", minutes=1, id="ratings", max_instances=1, coalesce=True
        )

    async def _owner_report(self, report: WeeklyReport) -> None:
        """Send the week's report; a process that does not answer lets the model go after."""
        await report.run()
        embedder = self.services.embedder
        if isinstance(embedder, LazyEmbedder) and embedder.loaded:
            await embedder.release()
            return_freed_memory()

    async def _apply_retention(self) -> None:
        """The daily removal of everything older than RETENTION_DAYS, by one process a day."""
        day = datetime.now(self.settings.zone).date().isoformat()
        runs = ScheduledRuns(self.services.storage.pool, self.name)
        try:
            if not await runs.claim("retention", day):
                log.info("retention_run_elsewhere", day=day)
                return
            await self.services.rights.apply_retention(datetime.now(UTC))
            await runs.finish("retention", day)
        except Exception:
            log.exception("retention_failed", day=day)

    async def _handle(self, message: InboundMessage) -> Reply | None:
        """The core, then an immediate handoff email when the reply escalated."""
        reply = await self.services.core.handle(message, voice=self.voice)
        self._count_outcome(message, reply)
        if reply is not None and reply.escalate and self.channels.handoffs is not None:
            # The staff address gets the handoff at once, not at the next scheduler tick.
            kick = asyncio.create_task(self.channels.handoffs.dispatch_due())
            self._kicks.add(kick)
            kick.add_done_callback(self._kicks.discard)
        return reply

    def _count_outcome(self, message: InboundMessage, reply: Reply | None) -> None:
        """Handoffs by reason, ratings by score, and staff resolutions, as they happen."""
        if reply is None:
            return
        if reply.escalate:
            self.metrics.handoffs.labels(reply.reason or "unknown").inc()
        if reply.reason is not None and reply.reason.startswith("rating:"):
            self.metrics.ratings.labels(reply.reason.removeprefix("rating:")).inc()
        if message.channel == ChannelName.STAFF and resolves(message.text):
            # A relayed staff reply with #resolve; bot resolutions are counted by the rating job.
            self.metrics.resolutions.labels("staff").inc()
