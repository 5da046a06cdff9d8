"""A provider failing for longer than one round of retries: the reply waits, then goes out once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bot.metrics import Metrics
from bot.queue.delivery import Delivery
from bot.services import Services
from channels.base import SendError
from core.messages import ChannelName, Choice, InboundMessage
from core.outbox import PostgresOutbox


class FlakySmtp:
    """An email sender whose server refuses (421, try later) until told to accept."""

    def __init__(self) -> None:
        self.down = True
        self.sent: list[tuple[str, str]] = []
        self.tries = 0

    async def acknowledge(self, message: InboundMessage) -> None:
        return None

    async def send(
        self, address: str, text: str, choices: tuple[Choice, ...], language: str = "en"
    ) -> list[str]:
        self.tries += 1
        if self.down:
            raise SendError("SMTP 421: Service not available, try later", retryable=True)
        self.sent.append((address, text))
        return [f"<{uuid.uuid4().hex}@bot>"]


async def answered_mail(services: Services) -> InboundMessage:
    message = InboundMessage(
        channel=ChannelName("email"),
        external_user_id=f"{uuid.uuid4().hex[:8]}@customer.test",
        provider_message_id=f"<{uuid.uuid4().hex}@customer.test>",
        text="What time do you open on Saturday?",
        received_at=datetime.now(UTC),
    )
    assert await services.core.handle(message) is not None
    return message


async def status_of(services: Services, message: InboundMessage) -> tuple[str, bool]:
    row = await services.storage.pool.fetchrow(
        "SELECT o.delivery_status, o.next_attempt_at IS NOT NULL AS later FROM messages o"
        " JOIN messages i ON o.in_reply_to = i.id WHERE i.provider_message_id = $1",
        message.provider_message_id,
    )
    assert row is not None
    return row["delivery_status"], row["later"]


async def make_due(services: Services) -> None:
    await services.storage.pool.execute(
        "UPDATE messages SET next_attempt_at = now() WHERE delivery_status = 'retry'"
    )


async def test_smtp_down_for_a_while_delays_the_reply_but_does_not_lose_it(
    services: Services,
) -> None:
    smtp = FlakySmtp()
    metrics = Metrics()
    delivery = Delivery(
        PostgresOutbox(services.storage.pool),
        {ChannelName("email"): smtp},
        metrics,
        attempts=2,
        max_backoff_seconds=0.01,
    )
    message = await answered_mail(services)

    assert await delivery.deliver(message)  # the queue entry is done: the outbox keeps the reply
    assert smtp.tries == 2 and smtp.sent == []
    assert await status_of(services, message) == ("retry", True)
    # Not due yet: nothing is tried.
    assert await delivery.send_deferred() == 0

    await make_due(services)
    assert await delivery.send_deferred() == 1  # still down: set aside again, later
    assert await status_of(services, message) == ("retry", True)

    smtp.down = False
    await make_due(services)
    assert await delivery.send_deferred() == 1
    [(address, text)] = smtp.sent
    assert address == message.external_user_id and "8:00 am" in text
    assert await status_of(services, message) == ("sent", False)
    assert await delivery.send_deferred() == 0  # nothing twice
    assert metrics.send_failures.labels("email")._value.get() == 0


async def test_a_provider_down_for_hours_fails_for_good_and_says_why(services: Services) -> None:
    smtp = FlakySmtp()
    metrics = Metrics()
    delivery = Delivery(
        PostgresOutbox(services.storage.pool),
        {ChannelName("email"): smtp},
        metrics,
        attempts=1,
        max_backoff_seconds=0.01,
        rounds=3,
    )
    message = await answered_mail(services)
    await delivery.deliver(message)
    for _ in range(2):
        await make_due(services)
        await delivery.send_deferred()
    assert await status_of(services, message) == ("failed", False)
    error = await services.storage.pool.fetchval(
        "SELECT o.delivery_error FROM messages o JOIN messages i ON o.in_reply_to = i.id"
        " WHERE i.provider_message_id = $1",
        message.provider_message_id,
    )
    assert "421" in error
    assert metrics.send_failures.labels("email")._value.get() == 1
    assert smtp.tries == 3
