"""PostgreSQL restarting just after a provider took a reply: it is recorded, never sent twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from bot.metrics import Metrics
from bot.queue.delivery import Delivery
from bot.services import Services
from core.messages import ChannelName, Choice, InboundMessage
from core.outbox import PostgresOutbox
from tests.integration.test_send_later import answered_mail, status_of


class Mailer:
    """An email sender that counts what the customer received."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def acknowledge(self, message: InboundMessage) -> None:
        return None

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        self.sent.append(text)
        return [f"<{uuid.uuid4().hex}@bot>"]


class RestartingOutbox(PostgresOutbox):
    """The database goes away right after the send, for the next two tries to record it."""

    failures = 2

    async def mark_sent(self, message_id: int, provider_ids: list[str]) -> None:
        if self.failures:
            self.failures -= 1
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")
        await super().mark_sent(message_id, provider_ids)


async def test_a_sent_reply_is_recorded_once_the_database_is_back(services: Services) -> None:
    mailer = Mailer()
    outbox = RestartingOutbox(services.storage.pool)
    delivery = Delivery(
        outbox, {ChannelName("email"): mailer}, Metrics(), lease=timedelta(seconds=30)
    )
    message = await answered_mail(services)

    assert await delivery.deliver(message)
    assert outbox.failures == 0 and len(mailer.sent) == 1
    assert await status_of(services, message) == ("sent", False)
    # Delivered again (the queue entry was redelivered): nothing is left to send.
    assert await delivery.deliver(message)
    assert len(mailer.sent) == 1
