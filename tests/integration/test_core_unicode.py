"""Any Unicode through the whole core on real PostgreSQL, Valkey and the index: always a reply."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.services import Services
from core.conversation import MAX_TEXT_CHARS
from core.messages import ChannelName, InboundMessage
from core.redaction import mask_nric
from core.storable import storable_text

pytestmark = pytest.mark.integration


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.text(st.characters(exclude_categories=()), max_size=80),
    name=st.none() | st.text(st.characters(exclude_categories=()), max_size=20),
)
@example(text="remove\x00 null bytes", name="Wei\x00")
@example(text="half an emoji \ud83d, then \u0000", name="\ud83d")
async def test_any_text_gets_a_reply_and_is_stored_as_read(
    services: Services, text: str, name: str | None
) -> None:
    """Nothing lost: what is stored is the text as sent, less what no store can hold."""
    message = InboundMessage(
        channel=ChannelName("whatsapp"),
        external_user_id=f"whatsapp:+65{uuid.uuid4().int % 10**8:08d}",
        provider_message_id=f"SM{uuid.uuid4().hex}",
        text=text,
        received_at=datetime.now(UTC),
        display_name=name,
    )
    reply = await services.core.handle(message)
    assert reply is not None and reply.text
    stored = await services.storage.pool.fetchval(
        "SELECT body FROM messages WHERE channel = 'whatsapp' AND direction = 'inbound'"
        " AND provider_message_id = $1",
        message.provider_message_id,
    )
    expected, _ = mask_nric(storable_text(text).strip()[:MAX_TEXT_CHARS])
    assert stored == expected
