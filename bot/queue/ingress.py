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
            # Before the queue, once for every channel: nothing downstream sees the number, and
            # nothing downstream meets a character PostgreSQL or Redis refuses.
            parsed = hide_ids(storable_message(parsed))
            if self._flood is None:
                entry_id: str | None = await self._queue.enqueue(parsed)
            else:
                entry_id = await self._queue.enqueue_within(parsed, self._flood.limit_for(parsed))
            if entry_id is None:
                self._ignore(channel, Ignored("flood", parsed.external_user_id))
                return "ignored"
            self._metrics.received.labels(channel.value).inc()
            log.info(
                "message_queued",
                cid=parsed.correlation_id,
                channel=channel.value,
                id=parsed.provider_message_id,
                entry=entry_id,
                attachments=len(parsed.attachments),
            )
            return "queued"
        if isinstance(parsed, DeliveryStatus):
            changed = await self._outbox.record_status(
                channel.value,
                parsed.provider_message_id,
                parsed.status,
                parsed.error_code,
                parsed.error_message,
            )
            self._metrics.status_updates.labels(channel.value, parsed.status).inc()
            level = log.warning if parsed.error_code else log.info
            level(
                "delivery_status",
                channel=channel.value,
                id=parsed.provider_message_id,
                status=parsed.status,
                error_code=parsed.error_code,
                applied=changed,
            )
            return "status"
        if isinstance(parsed, ProviderAlert):
            self._metrics.provider_alerts.labels(channel.value, parsed.level).inc()
            log.warning(
                "provider_alert",
                channel=channel.value,
                level=parsed.level,
                code=parsed.code,
                message=parsed.message,
            )
            return "alert"
        if isinstance(parsed, Unreadable):
            await self._queue.set_aside(parsed.raw, f"unreadable {parsed.kind}: {parsed.reason}")
            self._metrics.ignored.labels(channel.value, "unreadable").inc()
            log.warning(
                "update_unreadable", channel=channel.value, kind=parsed.kind, reason=parsed.reason
            )
            return "set_aside"
        self._ignore(channel, parsed)
        return "ignored"

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
