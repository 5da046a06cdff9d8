"""Where parsed provider events go: messages to the queue, delivery reports to the outbox."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis

from bot.metrics import Metrics
from bot.queue.inbound import FloodLimit, InboundQueue
from channels.base import DeliveryStatus, Ignored, Parsed, ProviderAlert, Unreadable
from core.messages import ChannelName, InboundMessage
from core.outbox import Outbox
from core.redaction import hide_ids
from core.storable import storable_message

log = structlog.get_logger(__name__)


class FloodGuard:
    """Each sender's messages per window; past the limit they are not answered one by one.

    The queue counts them in the same script that appends them (one round trip per webhook),
    so the Redis client is no longer needed here; the parameter stays for existing callers.
    """

    def __init__(
        self, redis: Redis | None = None, limit: int = 20, window_seconds: int = 10
    ) -> None:
        self._limit = limit
        self._window = window_seconds

    def limit_for(self, message: InboundMessage) -> FloodLimit:
        """The fixed-window limit the message's sender is counted against."""
        key = f"flood:{message.channel.value}:{message.external_user_id}"
        return FloodLimit(key, self._limit, self._window)


class Ingress:
    """Accepts every parse outcome of every channel; never answers anything itself."""

    def __init__(
        self,
        queue: InboundQueue,
        outbox: Outbox,
        metrics: Metrics,
        flood: FloodGuard | None = None,
    ) -> None:
        self._queue = queue
        self._outbox = outbox
        self._metrics = metrics
        self._flood = flood

    async def accept(self, channel: ChannelName, parsed: Parsed) -> str:
        """Queue a message, apply a delivery report, or record why an event is ignored."""
        if isinstance(parsed, InboundMessage):
            return await self._enqueue(channel, parsed)
        if isinstance(parsed, DeliveryStatus):
            return await self._apply_status(channel, parsed)
        if isinstance(parsed, ProviderAlert):
            return self._alert(channel, parsed)
        if isinstance(parsed, Unreadable):
            return await self._set_aside(channel, parsed)
        self._ignore(channel, parsed)
        return "ignored"

    async def _enqueue(self, channel: ChannelName, message: InboundMessage) -> str:
        """Queue a customer's message, unless its sender is flooding us."""
        # Before the queue, once for every channel: nothing downstream sees the number, and
        # nothing downstream meets a character PostgreSQL or Redis refuses.
        message = hide_ids(storable_message(message))
        if self._flood is None:
            entry_id: str | None = await self._queue.enqueue(message)
        else:
            entry_id = await self._queue.enqueue_within(message, self._flood.limit_for(message))
        if entry_id is None:
            self._ignore(channel, Ignored("flood", message.external_user_id))
            return "ignored"
        self._metrics.received.labels(channel.value).inc()
        log.info(
            "message_queued",
            cid=message.correlation_id,
            channel=channel.value,
            id=message.provider_message_id,
            entry=entry_id,
            attachments=len(message.attachments),
        )
        return "queued"

    async def _apply_status(self, channel: ChannelName, status: DeliveryStatus) -> str:
        """Record a delivery report against the message it is about."""
        changed = await self._outbox.record_status(
            channel.value,
            status.provider_message_id,
            status.status,
            status.error_code,
            status.error_message,
        )
        self._metrics.status_updates.labels(channel.value, status.status).inc()
        level = log.warning if status.error_code else log.info
        level(
            "delivery_status",
            channel=channel.value,
            id=status.provider_message_id,
            status=status.status,
            error_code=status.error_code,
            applied=changed,
        )
        return "status"

    def _alert(self, channel: ChannelName, alert: ProviderAlert) -> str:
        """Count and log a provider telling us something went wrong on its side."""
        self._metrics.provider_alerts.labels(channel.value, alert.level).inc()
        log.warning(
            "provider_alert",
            channel=channel.value,
            level=alert.level,
            code=alert.code,
            message=alert.message,
        )
        return "alert"

    async def _set_aside(self, channel: ChannelName, unreadable: Unreadable) -> str:
        """Keep an event we could not read as a dead letter, for a person to look at."""
        reason = f"unreadable {unreadable.kind}: {unreadable.reason}"
        await self._queue.set_aside(unreadable.raw, reason)
        self._metrics.ignored.labels(channel.value, "unreadable").inc()
        log.warning(
            "update_unreadable",
            channel=channel.value,
            kind=unreadable.kind,
            reason=unreadable.reason,
        )
        return "set_aside"

    def _ignore(self, channel: ChannelName, ignored: Ignored) -> None:
        """Count and log an event we deliberately do not answer."""
        self._metrics.ignored.labels(channel.value, ignored.reason).inc()
        log.info(
            "event_ignored", channel=channel.value, reason=ignored.reason, detail=ignored.detail
        )

    def acked(self, channel: ChannelName, seconds: float) -> None:
        """Record how long a webhook took to answer the provider."""
        self._metrics.ack_seconds.labels(channel.value).observe(seconds)

    def reject(self, channel: ChannelName, reason: str) -> None:
        """Count and log a webhook call refused before parsing."""
        self._metrics.rejected.labels(channel.value, reason).inc()
        log.warning("webhook_rejected", channel=channel.value, reason=reason)
