"""Customers' data rights on real PostgreSQL, Valkey and Qdrant Edge: see, erase, retention."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bot.queue.inbound import DEAD_LETTERS, encode
from bot.services import Services
from core.messages import ChannelName, InboundMessage, Reply
from core.outbox import PostgresOutbox

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def said(
    text: str, user: str, at: datetime = NOW, provider_id: str | None = None
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelName("telegram"),
        external_user_id=user,
        provider_message_id=provider_id or str(uuid.uuid4()),
        text=text,
        received_at=at,
        display_name="Mei Ling",
    )


async def handled(services: Services, message: InboundMessage) -> Reply:
    reply = await services.core.handle(message)
    assert reply is not None
    return reply


async def contact_of(services: Services, user: str) -> int | None:
    value = await services.storage.pool.fetchval(
        "SELECT contact_id FROM channel_identities WHERE channel = 'telegram' AND external_id = $1",
        user,
    )
    return int(value) if value is not None else None


async def test_customer_sees_what_we_hold_and_it_is_audited(services: Services) -> None:
    user = f"mydata-{uuid.uuid4().hex[:8]}"
    await handled(services, said("Do you deliver?", user))
    audits = await services.storage.pool.fetchval(
        "SELECT count(*) FROM privacy_audit WHERE action = 'export'"
    )
    reply = await handled(services, said("/mydata", user))
    assert "Here is a copy of the data we hold about you." in reply.text
    assert "Name: Mei Ling" in reply.text
    assert "Channels: Telegram" in reply.text
    # The first question and its answer, and this request (its answer is stored after).
    assert "Conversations: 1 (3 messages) since 2026-" in reply.text
    assert "Privacy notice: agreed on" in reply.text
    after = await services.storage.pool.fetchval(
        "SELECT count(*) FROM privacy_audit WHERE action = 'export'"
    )
    assert after == audits + 1


async def test_delete_asks_first_and_no_keeps_everything(services: Services) -> None:
    user = f"keep-{uuid.uuid4().hex[:8]}"
    await handled(services, said("Do you deliver?", user))
    ask = await handled(services, said("delete my data", user))
    assert "Are you sure?" in ask.text
    assert [c.entry_id for c in ask.choices] == ["privacy:erase", "privacy:keep"]
    kept = await handled(services, said("no", user))
    assert kept.text == "All right, nothing has been deleted."
    assert await contact_of(services, user) is not None


async def test_a_yes_long_after_the_question_is_not_an_erasure(services: Services) -> None:
    user = f"late-yes-{uuid.uuid4().hex[:8]}"
    await handled(services, said("/delete", user))
    await handled(services, said("What time do you open on Saturday?", user))
    await handled(services, said("yes", user))
    assert await contact_of(services, user) is not None


async def test_erasure_removes_the_customer_everywhere(services: Services) -> None:
    pool, redis = services.storage.pool, services.storage.redis
    user = f"erase-{uuid.uuid4().hex[:8]}"
    # An earlier conversation, closed by a day's silence, leaves a summary vector.
    await handled(services, said("Do you deliver to Tampines?", user, at=NOW - timedelta(days=3)))
    await handled(services, said("Can I pay by PayNow?", user))
    contact = await contact_of(services, user)
    assert contact is not None
    assert await services.summaries.recall(contact, "delivery") != []
    await redis.xadd(DEAD_LETTERS, {"m": encode(said("stuck message", user)), "reason": "test"})
    await handled(services, said("/delete", user))

    confirm = said("yes", user, provider_id=f"yes-{user}")
    reply = await handled(services, confirm)
    assert reply.text == "Your data has been deleted."

    assert await contact_of(services, user) is None
    assert await pool.fetchval("SELECT count(*) FROM contacts WHERE id = $1", contact) == 0
    assert (
        await pool.fetchval("SELECT count(*) FROM conversations WHERE contact_id = $1", contact)
        == 0
    )
    # Only the tombstone of the last message and the confirmation are left, neither with text
    # from the customer.
    rows = await pool.fetch(
        "SELECT direction, body, address FROM messages WHERE conversation_id IS NULL"
        " AND (provider_message_id = $1 OR in_reply_to IN"
        " (SELECT id FROM messages WHERE provider_message_id = $1)) ORDER BY id",
        confirm.provider_message_id,
    )
    assert [(r["direction"], r["body"]) for r in rows] == [
        ("inbound", ""),
        ("outbound", "Your data has been deleted."),
    ]
    assert await redis.exists(f"turns:telegram:{user}") == 0
    dead = await redis.xrange(DEAD_LETTERS)
    assert not any(user in json.dumps(str(fields)) for _, fields in dead)
    assert await services.summaries.recall(contact, "delivery") == []
    assert await pool.fetchval("SELECT count(*) FROM erasures_pending") == 0
    audit = await pool.fetchrow(
        "SELECT requested_by, channel, counts FROM privacy_audit WHERE action = 'erase'"
        " ORDER BY id DESC LIMIT 1"
    )
    assert audit is not None
    assert (audit["requested_by"], audit["channel"]) == ("customer", "telegram")
    counts = json.loads(audit["counts"])
    assert counts["conversations"] == 2 and counts["messages"] >= 6
    assert user not in audit["counts"]

    # The provider retries the "yes": a duplicate, and no new customer appears.
    assert await services.core.handle(confirm) is None
    assert await contact_of(services, user) is None

    # The confirmation goes out through the outbox like any reply, then its address is dropped.
    outbox = PostgresOutbox(pool)
    claimed = await outbox.claim_replies("telegram", confirm.provider_message_id, timedelta(30))
    [item] = claimed.items
    assert (item.address, item.text) == (user, "Your data has been deleted.")
    await outbox.mark_sent(item.message_id, ["tg-1"])
    assert (
        await pool.fetchval("SELECT address FROM messages WHERE id = $1", item.message_id) is None
    )


async def test_erasure_understands_chinese(services: Services) -> None:
    user = f"zh-erase-{uuid.uuid4().hex[:8]}"
    ask = await handled(services, said("删除我的资料", user))
    assert "您确定吗" in ask.text
    done = await handled(services, said("好的", user))
    assert done.text == "您的资料已删除。"
    assert await contact_of(services, user) is None


async def test_retention_removes_only_old_data_and_is_idempotent(services: Services) -> None:
    pool = services.storage.pool
    old_user, new_user = f"old-{uuid.uuid4().hex[:8]}", f"new-{uuid.uuid4().hex[:8]}"
    await handled(services, said("Do you deliver?", old_user))
    await handled(services, said("Do you deliver?", new_user))
    old_contact = await contact_of(services, old_user)
    assert old_contact is not None
    await services.summaries.remember(old_contact, 1, "Asked about delivery to Jurong.")
    # Age everything of the old customer past the retention period.
    long_ago = datetime.now(UTC) - timedelta(days=services.settings.retention_days + 5)
    await pool.execute("UPDATE contacts SET created_at = $2 WHERE id = $1", old_contact, long_ago)
    await pool.execute(
        "UPDATE conversations SET last_message_at = $2, started_at = $2 WHERE contact_id = $1",
        old_contact,
        long_ago,
    )
    await pool.execute(
        "UPDATE messages SET created_at = $2 WHERE conversation_id IN"
        " (SELECT id FROM conversations WHERE contact_id = $1)",
        old_contact,
        long_ago,
    )

    first = await services.rights.apply_retention(datetime.now(UTC))
    assert first.counts["contacts"] >= 1 and first.counts["messages"] >= 2
    assert old_contact in first.erased_contacts
    assert await contact_of(services, old_user) is None
    assert await contact_of(services, new_user) is not None
    assert await services.summaries.recall(old_contact, "delivery") == []

    again = await services.rights.apply_retention(datetime.now(UTC))
    assert again.counts == {
        "conversations": 0,
        "messages": 0,
        "tombstones": 0,
        "delivery_reports": 0,
        "contacts": 0,
    }
    audits = await pool.fetch(
        "SELECT counts FROM privacy_audit WHERE action = 'retention' ORDER BY id DESC LIMIT 2"
    )
    assert [json.loads(a["counts"]) for a in audits] == [again.counts, first.counts]


async def test_data_requests_are_answered_while_staff_have_the_conversation(
    services: Services,
) -> None:
    user = f"human-mode-{uuid.uuid4().hex[:8]}"
    first = await handled(services, said("Do you deliver?", user))
    await services.storage.pool.execute(
        "UPDATE conversations SET status = 'human' WHERE id = $1", first.conversation_id
    )
    # An ordinary message goes to staff without a bot reply ...
    assert await services.core.handle(said("Is my cake ready?", user)) is None
    # ... but asking about one's own data is the bot's to answer.
    reply = await handled(services, said("/mydata", user))
    assert "Name: Mei Ling" in reply.text


async def test_retention_run_by_two_processes_at_once_removes_everything_once(
    services: Services,
) -> None:
    pool = services.storage.pool
    user = f"twice-{uuid.uuid4().hex[:8]}"
    await handled(services, said("Do you deliver?", user))
    contact = await contact_of(services, user)
    long_ago = datetime.now(UTC) - timedelta(days=services.settings.retention_days + 1)
    await pool.execute("UPDATE contacts SET created_at = $2 WHERE id = $1", contact, long_ago)
    await pool.execute(
        "UPDATE conversations SET last_message_at = $2 WHERE contact_id = $1", contact, long_ago
    )
    now = datetime.now(UTC)
    first, second = await asyncio.gather(
        services.rights.apply_retention(now), services.rights.apply_retention(now)
    )
    # The advisory lock serialises them: one removes the customer, the other finds nothing.
    assert sorted([first.counts["contacts"], second.counts["contacts"]]) == [0, 1]
    assert sorted([first.counts["messages"], second.counts["messages"]]) == [0, 2]
    assert await contact_of(services, user) is None
