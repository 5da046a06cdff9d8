"""Send stored replies through their channel, with retries and backoff, and record the outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import cast

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from bot.metrics import Metrics
from bot.stopping import Waits
from channels.base import ChannelSender, SendError, TemplateSender
from core.messages import ChannelName, InboundMessage
from core.outages import OUTAGES
from core.outbox import OutboundItem, Outbox

log = structlog.get_logger(__name__)
MAX_RETRY_AFTER_SECONDS = 60.0
SEND_ROUNDS = 10
"""Rounds of retries before a reply fails for good; between rounds it waits DEFER_FIRST,
doubling up to DEFER_MAX: about five hours in all, inside WhatsApp's 24-hour window."""
DEFER_FIRST = timedelta(minutes=1)
DEFER_MAX = timedelta(hours=1)


class Delivery:
    """Sends every unsent reply to an inbound message; exactly one sender holds each at a time."""

    def __init__(
        self,
        outbox: Outbox,
        senders: Mapping[ChannelName, ChannelSender],
        metrics: Metrics,
        attempts: int = 6,
        max_backoff_seconds: float = 30.0,
        lease: timedelta = timedelta(minutes=10),
        rounds: int = SEND_ROUNDS,
        waits: Waits | None = None,
    ) -> None:
        self._rounds = rounds
        # Between retries a reply is only waiting: a stop cancels it and its lease is released.
        self._waits = waits or Waits()
        self._outbox = outbox
        self._senders = senders
        self._metrics = metrics
        self._attempts = attempts
        self._max_backoff = max_backoff_seconds
        # Longer than every retry together, so no one else takes a reply we are still trying.
        self._lease = lease

    async def deliver(self, message: InboundMessage) -> bool:
        """Send what is owed for this message; False when another sender is busy with it."""
        own = self._senders.get(message.channel)
        if own is not None:
            await own.acknowledge(message)
        claimed = await self._outbox.claim_replies(
            message.channel.value, message.provider_message_id, self._lease
        )
        for item in claimed.items:
            # A reply may go out on another channel: a staff email answered on Telegram.
            sender = next((s for c, s in self._senders.items() if c.value == item.channel), None)
            await self._send(item, message, sender)
        return not claimed.busy

    async def _send(
        self, item: OutboundItem, message: InboundMessage | None, sender: ChannelSender | None
    ) -> None:
        """Send one reply with retries; record success or the final failure with its reason."""
        channel = item.channel
        if sender is None:
            await self._fail(item, channel, f"no sender configured for {channel}", partial=False)
            return
        started = time.perf_counter()
        try:
            ids = await self._with_retries(item, sender, channel)
        except SendError as error:
            if error.retryable and error.parts_sent == 0 and item.attempts < self._rounds:
                await self._defer(item, channel, error.reason)
            else:
                await self._fail(item, channel, error.reason, partial=error.parts_sent > 0)
            return
        except asyncio.CancelledError:
            # Shutting down: give the reply back so the next worker sends it promptly.
            await asyncio.shield(self._outbox.release(item.message_id))
            raise
        await self._record_sent(item, ids, started)
        self._metrics.sent.labels(channel).inc()
        self._metrics.send_seconds.labels(channel).observe(time.perf_counter() - started)
        if message is not None and channel == message.channel.value:
            # A customer waited this long for the answer.
            waited = (datetime.now(UTC) - message.received_at).total_seconds()
            self._metrics.end_to_end_seconds.labels(channel).observe(max(waited, 0.0))
        log.info("reply_sent", channel=channel, message_id=item.message_id, parts=len(ids))

    async def _record_sent(self, item: OutboundItem, ids: list[str], started: float) -> None:
        """Record a reply the provider accepted, waiting out a storage outage meanwhile.

        Left unrecorded, the reply would be sent again once its lease ran out; so the recording
        is retried for as long as the lease (taken just before `started`) still holds.
        """
        deadline = started + self._lease.total_seconds()
        delay = 0.2
        while True:
            try:
                await self._outbox.mark_sent(item.message_id, ids)
                return
            except OUTAGES as error:
                if time.perf_counter() + delay >= deadline:
                    raise
                log.warning("record_sent_waits", message_id=item.message_id, error=repr(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _with_retries(
        self, item: OutboundItem, sender: ChannelSender, channel: str
    ) -> list[str]:
        """Call the sender until it succeeds, fails for good, or attempts run out."""
        exponential = wait_random_exponential(multiplier=0.5, max=self._max_backoff)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, SendError) and error.retry_after is not None:
                # The provider said how long; waiting less is useless. Capped so that all
                # attempts together stay well inside the lease.
                return min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
            return float(exponential(state))

        def before_sleep(state: RetryCallState) -> None:
            self._metrics.send_retries.labels(channel).inc()
            error = state.outcome.exception() if state.outcome else None
            log.warning("send_retry", channel=channel, message_id=item.message_id, error=str(error))

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, SendError) and e.retryable),
            stop=stop_after_attempt(self._attempts),
            wait=wait,
            before_sleep=before_sleep,
            sleep=self._waits.sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if item.kind == "template":
                    if not hasattr(sender, "send_template"):
                        raise SendError(f"{channel} has no templates", retryable=False)
                    return await cast(TemplateSender, sender).send_template(item.address)
                return await sender.send(item.address, item.text, item.choices, item.language)
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def send_deferred(self, limit: int = 50) -> int:
        """Send replies set aside while their provider was failing; how many were tried."""
        items = await self._outbox.claim_deferred(limit, self._lease)
        for item in items:
            sender = next((s for c, s in self._senders.items() if c.value == item.channel), None)
            await self._send(item, None, sender)
        return len(items)

    async def _defer(self, item: OutboundItem, channel: str, reason: str) -> None:
        """The provider kept failing in a retryable way: try the whole round again later."""
        delay = min(DEFER_FIRST * 2 ** max(item.attempts - 1, 0), DEFER_MAX)
        await self._outbox.defer(item.message_id, reason, delay)
        self._metrics.send_retries.labels(channel).inc()
        log.warning(
            "send_deferred",
            channel=channel,
            message_id=item.message_id,
            reason=reason,
            retry_in=delay.total_seconds(),
            round=item.attempts,
        )

    async def _fail(self, item: OutboundItem, channel: str, reason: str, partial: bool) -> None:
        """Record a reply that could not be sent, loudly."""
        await self._outbox.mark_failed(item.message_id, reason, partial)
        self._metrics.send_failures.labels(channel).inc()
        log.error("send_failed", channel=channel, message_id=item.message_id, reason=reason)
