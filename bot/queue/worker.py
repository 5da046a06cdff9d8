"""Workers: read the inbound queue, run the conversation core, send, then acknowledge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import structlog
from redis.exceptions import RedisError

from bot.metrics import Metrics
from bot.queue.delivery import Delivery
from bot.queue.inbound import Entry, InboundQueue
from bot.stopping import Waits
from channels.plug import sleep_or_stop
from core.messages import ChannelName, InboundMessage, Reply
from core.outages import BAD_DATA, OUTAGES

log = structlog.get_logger(__name__)
QUEUE_RETRY_FIRST_SECONDS = 0.2
QUEUE_RETRY_MAX_SECONDS = 5.0
CANCEL_SECONDS = 2.0
"""How long cancelled entries get to hand back what they hold when the grace period is over."""
Handler = Callable[[InboundMessage], Awaitable[Reply | None]]


class Worker:
    """One consumer of the inbound stream, handling up to `concurrency` entries at once."""

    def __init__(
        self,
        queue: InboundQueue,
        handle: Handler,
        delivery: Delivery,
        metrics: Metrics,
        name: str,
        concurrency: int = 32,
        reclaim_after_seconds: float = 30.0,
        max_attempts: int = 5,
        order_wait_seconds: float = 90.0,
        waits: Waits | None = None,
        stop_grace_seconds: float = 5.0,
    ) -> None:
        self._queue = queue
        self._handle = handle
        self._delivery = delivery
        self._metrics = metrics
        self.name = name
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._reclaim_ms = int(reclaim_after_seconds * 1000)
        self._max_attempts = max_attempts
        # Longer than reclaiming takes, so an earlier entry of a dead worker gets its turn first.
        self._order_wait = order_wait_seconds
        self._waits = waits or Waits()
        self._grace = stop_grace_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_hand: set[str] = set()
        # Within this process, one customer's entries chain on each other (see _run_entry):
        # the customer's latest entry here, and its task.
        self._tails: dict[str, tuple[Entry, asyncio.Task[None]]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then finish what is in hand."""
        await self._queue.ensure_group()
        reclaimer = asyncio.create_task(self._reclaim_loop(stop))
        try:
            backoff = QUEUE_RETRY_FIRST_SECONDS
            while await self._slot_free(stop):
                free = self._free_slots()
                try:
                    entries = await self._queue.read(self.name, count=free, block_ms=500)
                except (RedisError, OSError) as error:
                    # Redis restarting or unreachable: entries wait in its stream (append-only
                    # file), so wait for it instead of stopping the process.
                    log.warning("queue_unreachable", worker=self.name, error=repr(error))
                    await sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, QUEUE_RETRY_MAX_SECONDS)
                    continue
                backoff = QUEUE_RETRY_FIRST_SECONDS
                for entry in entries:
                    await self._start(entry)
        finally:
            reclaimer.cancel()
            await asyncio.gather(reclaimer, return_exceptions=True)
            await self._finish_in_hand()

    @property
    def in_hand(self) -> int:
        """Entries this worker is handling or holding for their turn."""
        return len(self._tasks)

    async def _finish_in_hand(self) -> None:
        """Give entries in hand the grace period; leave the rest pending for the next process.

        An entry left pending is reclaimed and answered once: the stored inbound message
        without a reply is answered again, a stored reply is sent, never written twice.
        """
        if not self._tasks:
            return
        held = len(self._tasks)
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=self._grace)
        for task in unfinished:
            task.cancel()
        if unfinished:
            # Cancelled tasks give their send leases back (shielded); that takes a moment.
            await asyncio.wait(unfinished, timeout=CANCEL_SECONDS)
        log.info("worker_stopped", worker=self.name, finished=held - len(unfinished),
                 left_pending=len(unfinished))  # fmt: skip

    async def _slot_free(self, stop: asyncio.Event) -> bool:
        """Wait until an entry can be taken; False once asked to stop (even while all are busy)."""
        if stop.is_set():
            return False
        acquire = asyncio.ensure_future(self._slots.acquire())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if acquire.done() and not acquire.cancelled():
            self._slots.release()  # only looking: _start takes the slot for each entry
        else:
            acquire.cancel()
        return not stop.is_set()

    def _free_slots(self) -> int:
        """How many more entries this worker can take now (at least one)."""
        return max(1, self._concurrency - len(self._tasks))

    async def _reclaim_loop(self, stop: asyncio.Event) -> None:
        """Periodically take over entries that a dead or stuck worker left pending."""
        while not stop.is_set():
            try:
                entries = await self._queue.reclaim(
                    self.name, self._reclaim_ms, count=self._concurrency
                )
                for entry in entries:
                    log.warning("entry_reclaimed", entry=entry.entry_id, worker=self.name)
                    await self._start(entry)
            except Exception:
                log.exception("reclaim_failed", worker=self.name)
            await sleep_or_stop(stop, self._reclaim_ms / 2000)

    async def _start(self, entry: Entry) -> None:
        """Run an entry in the background once a slot is free, after its customer's earlier ones.

        Reclaiming also returns entries this worker holds itself (an entry waiting for its turn
        looks idle); one already in hand is not started again.
        """
        if entry.entry_id in self._in_hand:
            return
        self._in_hand.add(entry.entry_id)
        try:
            await self._slots.acquire()
        except BaseException:
            self._in_hand.discard(entry.entry_id)
            raise
        key = entry.order_key
        tail = self._tails.get(key)
        # A reclaimed entry can be older than the customer's entries held here, which wait for
        # it (_wait_turn): chained behind them, it would wait for them in turn until the order
        # wait expired.
        previous = None if tail is None or entry.before(tail[0]) else tail[1]
        task = asyncio.create_task(self._run_entry(entry, previous))
        if tail is None or previous is not None:
            self._tails[key] = (entry, task)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, entry))

    def _finished(self, task: asyncio.Task[None], entry: Entry) -> None:
        """Free the slot and forget the task."""
        self._tasks.discard(task)
        self._in_hand.discard(entry.entry_id)
        self._slots.release()
        tail = self._tails.get(entry.order_key)
        if tail is not None and tail[1] is task:
            del self._tails[entry.order_key]

    async def _run_entry(self, entry: Entry, previous: asyncio.Task[None] | None) -> None:
        """Handle one entry inside its own error boundary."""
        if previous is not None:
            async with self._waits.waiting():
                await asyncio.gather(previous, return_exceptions=True)
        cid = entry.message.correlation_id if entry.message else entry.entry_id
        # Bound in this task's own context: core, outbox and sender log lines all carry it.
        structlog.contextvars.bind_contextvars(cid=cid)
        try:
            await self._process(entry)
        except asyncio.CancelledError:
            raise
        except OUTAGES as error:
            # Our own storage is down, not the message at fault: it is not counted towards
            # dead-lettering and is tried again when reclaimed, however long the outage lasts.
            self._metrics.processing_errors.inc()
            log.warning("entry_waits_for_storage", entry=entry.entry_id, error=repr(error))
        except Exception as error:
            self._metrics.processing_errors.inc()
            attempts = await self._queue.failed_attempt(entry)
            log.exception("entry_failed", entry=entry.entry_id, attempts=attempts)
            if attempts >= self._max_attempts:
                self._metrics.dead_letters.inc()
                await self._queue.dead_letter(entry, f"{type(error).__name__}: {error}")
            # Otherwise the entry stays pending and is reclaimed for another try.

    async def _process(self, entry: Entry) -> None:
        """Core, then delivery, then acknowledge; leave the entry pending if not done."""
        message = entry.message
        if message is None:
            self._metrics.dead_letters.inc()
            log.error("entry_undecodable", entry=entry.entry_id, raw=entry.raw[:200])
            await self._queue.dead_letter(entry, "undecodable")
            return
        if not await self._wait_turn(entry):
            log.warning("order_wait_expired", entry=entry.entry_id)
        channel = message.channel.value
        started = time.perf_counter()
        try:
            await self._handle(message)
        except BAD_DATA as error:
            await self._set_aside(entry, message, error)
            return
        self._metrics.handle_seconds.labels(channel).observe(time.perf_counter() - started)
        if await self._delivery.deliver(message):
            await self._queue.done(entry)
        else:
            # Another worker holds this reply's lease (a redelivered duplicate): let it finish.
            log.info("reply_in_flight_elsewhere", entry=entry.entry_id)

    async def _set_aside(self, entry: Entry, message: InboundMessage, error: BaseException) -> None:
        """A message retrying cannot fix: tell the customer once, keep it aside, go on at once.

        Retried, it would hold the customer's later messages back for minutes. An outage while
        replying still leaves the entry pending, to be tried again.
        """
        cause = f"{type(error).__name__}: {error}"
        log.error("entry_unreadable", entry=entry.entry_id, cause=cause)
        if message.channel != ChannelName.STAFF and not message.unreadable:
            # The same message id, so dedupe holds; none of what could not be stored.
            stand_in = replace(message, text="", display_name=None, attachments=(), unreadable=True)
            try:
                await self._handle(stand_in)
                await self._delivery.deliver(stand_in)
            except OUTAGES:
                raise
            except Exception:
                log.exception("unreadable_reply_failed", entry=entry.entry_id)
        self._metrics.dead_letters.inc()
        await self._queue.dead_letter(entry, cause)

    async def _wait_turn(self, entry: Entry) -> bool:
        """Wait until this is the customer's earliest queued entry; False if it took too long."""
        deadline = time.monotonic() + self._order_wait
        delay = 0.01
        async with self._waits.waiting():
            while not await self._queue.is_next(entry):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        return True
