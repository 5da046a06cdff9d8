"""Prometheus metrics for one process: messages, failures, queue, latencies, outcomes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Every metric the bot exports, on a registry of its own (tests build several)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Registered in this order, which is the order /metrics lists them in.
        self._count_traffic(self.registry)
        self._count_outcomes(self.registry)
        self._time_steps(self.registry)

    def _count_traffic(self, r: CollectorRegistry) -> None:
        """Messages and provider events in and out, and what went wrong with them."""
        self.received = Counter(
            "bot_messages_received", "Inbound messages queued", ["channel"], registry=r
        )
        self.ignored = Counter(
            "bot_updates_ignored",
            "Provider events deliberately not answered",
            ["channel", "reason"],
            registry=r,
        )
        self.rejected = Counter(
            "bot_webhooks_rejected", "Webhook calls refused", ["channel", "reason"], registry=r
        )
        self.sent = Counter("bot_messages_sent", "Replies sent", ["channel"], registry=r)
        self.send_failures = Counter(
            "bot_send_failures", "Replies that could not be sent", ["channel"], registry=r
        )
        self.send_retries = Counter(
            "bot_send_retries", "Send attempts retried", ["channel"], registry=r
        )
        self.processing_errors = Counter(
            "bot_processing_errors", "Queue entries whose handling raised", registry=r
        )
        self.dead_letters = Counter(
            "bot_dead_letters", "Queue entries given up on after repeated errors", registry=r
        )
        self.status_updates = Counter(
            "bot_delivery_status", "Provider delivery reports", ["channel", "status"], registry=r
        )
        self.provider_alerts = Counter(
            "bot_provider_alerts",
            "Errors and warnings providers reported to us",
            ["channel", "level"],
            registry=r,
        )

    def _count_outcomes(self, r: CollectorRegistry) -> None:
        """How conversations end, what customers think of them, and the backlog."""
        self.handoffs = Counter(
            "bot_handoffs", "Replies that handed the conversation to staff", ["reason"], registry=r
        )
        self.resolutions = Counter(
            "bot_resolutions",
            "Conversations that ended resolved, by the bot alone or by staff (#resolve)",
            ["by"],
            registry=r,
        )
        self.ratings = Counter(
            "bot_ratings", "Scores customers gave to How did we do?", ["score"], registry=r
        )
        self.queue_depth = Gauge("bot_queue_depth", "Inbound entries not yet done", registry=r)

    def _time_steps(self, r: CollectorRegistry) -> None:
        """How long each step of a message's way takes, per channel."""
        self.ack_seconds = _latency("bot_webhook_seconds", "Webhook handling time", r)
        self.handle_seconds = _latency("bot_core_seconds", "Conversation core time per message", r)
        self.send_seconds = _latency("bot_send_seconds", "Provider send time per reply", r)
        self.end_to_end_seconds = _latency(
            "bot_end_to_end_seconds", "From queueing to the reply accepted by the provider", r
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def _latency(name: str, documentation: str, registry: CollectorRegistry) -> Histogram:
    """A per-channel latency histogram in seconds."""
    return Histogram(name, documentation, ["channel"], buckets=_LATENCY_BUCKETS, registry=registry)
