"""Synthetic shop traffic for bench/report_bench.py: conversations, handoffs, ratings and a
varied set of questions the bot could not answer, written straight into PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import asyncpg

PLACES = [
    "Punggol",
    "Jurong West",
    "Tampines",
    "Sentosa",
    "Woodlands",
    "Bishan",
    "Bedok",
    "Clementi",
    "Yishun",
    "Toa Payoh",
    "Pasir Ris",
    "Sengkang",
    "Bukit Timah",
    "NUS",
]
ITEMS = [
    "durian cake",
    "pandan chiffon",
    "kueh lapis",
    "croissants",
    "sourdough",
    "mooncakes",
    "ondeh ondeh cake",
    "tarts",
    "gula melaka cake",
    "cupcakes",
    "macarons",
]
DAYS = [
    "Sunday",
    "Hari Raya",
    "Christmas Day",
    "CNY",
    "Deepavali",
    "public holidays",
    "Saturday night",
    "Good Friday",
]
# Needs the knowledge base lacks, each asked in several ways (Singlish included).
TOPICS = [
    [
        "Do you deliver to {place}?",
        "Can deliver to {place} or not?",
        "How much is delivery to {place}?",
        "delivery to {place} got?",
        "Is there free delivery to {place} for orders above $50?",
    ],
    [
        "Can I pay with PayNow?",
        "Do you accept PayLah?",
        "Can pay by NETS or not?",
        "Do you take credit card for {item}?",
        "GrabPay can?",
    ],
    [
        "Is your {item} halal?",
        "Halal certified or not?",
        "Got halal cert for the {item}?",
        "Is the kitchen MUIS certified?",
    ],
    [
        "Can you do a custom {item} for a birthday?",
        "Do you take custom orders for {item}?",
        "Can write name on the {item}?",
        "How early to order a customised {item}?",
    ],
    [
        "Does the {item} contain nuts?",
        "Is the {item} gluten free?",
        "Any eggless {item}?",
        "My son is allergic to peanuts, is the {item} safe?",
        "Got vegan {item}?",
    ],
    [
        "Where can I park near your shop?",
        "Got parking or not?",
        "Is there season parking nearby?",
        "Nearest carpark to the {place} outlet?",
    ],
    [
        "Are you open on {day}?",
        "Opening hours on {day}?",
        "{day} got open?",
        "Closing early on {day}?",
    ],
    [
        "Do you do catering for 50 pax?",
        "Can cater for office party in {place}?",
        "Catering menu for a wedding?",
        "Minimum order for catering?",
    ],
    [
        "Do you sell gift vouchers?",
        "Can I buy an e-voucher for a friend?",
        "Voucher expired, can still use?",
    ],
    ["Are you hiring?", "Got part time job or not?", "Looking for baker vacancy?"],
    [
        "Can I collect my {item} at {place}?",
        "Self collection from {place} outlet can?",
        "What time can collect on {day}?",
    ],
    [
        "Do you sell wholesale {item} to cafes?",
        "Bulk price for 200 {item}?",
        "Can supply {item} to my cafe weekly?",
    ],
    [
        "My order of {item} has not arrived, order 55{n}",
        "Where is my delivery? Order 77{n}",
        "Delivery late, call me at 9{n}1234",
    ],
    ["Can I bring my dog into the shop?", "Pet friendly or not?"],
    ["Do you have a loyalty card?", "Got member discount?", "Points for every purchase?"],
    [
        "Can I cancel my {item} order?",
        "Want to change pickup date to {day}",
        "Can reschedule my collection?",
    ],
]
ANSWERED = ["opening-hours", "location", "menu", "prices", "contact", "ordering", "payment"]
TRIGGERS = ["no_answer_twice", "asked_for_human", "complaint", "angry_tone", "keyword:refund"]


OPENINGS = [
    "",
    "",
    "",
    "Hi, ",
    "Hello! ",
    "Hi there, ",
    "Sorry to bother, ",
    "Morning, ",
    "Excuse me, ",
    "Hey ",
]
CLOSINGS = [
    "",
    "",
    "",
    " Thanks!",
    " thank you",
    " pls",
    " Thx.",
    " Urgent.",
    " Reply soon pls",
    " :)",
]


def question(rng: random.Random) -> str:
    """One unanswered question: a topic's phrasing with its blanks filled in, and the
    greetings and thanks people add, so most of them are worded differently."""
    text = rng.choice(OPENINGS) + rng.choice(rng.choice(TOPICS)) + rng.choice(CLOSINGS)
    return text.format(
        place=rng.choice(PLACES),
        item=rng.choice(ITEMS),
        day=rng.choice(DAYS),
        n=rng.randrange(1000, 9999),
    )


class Rows:
    """Rows for COPY, with ids given here so replies can name their questions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.contacts: list[tuple[Any, ...]] = []
        self.conversations: list[tuple[Any, ...]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.escalations: list[tuple[Any, ...]] = []
        self.ratings: list[tuple[Any, ...]] = []

    def conversation(self, started: datetime) -> int:
        n = len(self.conversations) + 1
        self.contacts.append((n, f"Customer {n}"))
        self.conversations.append((n, n, "telegram", started, started))
        return n

    def exchange(
        self,
        conv: int,
        text: str,
        at: datetime,
        entries: list[str],
        reason: str | None,
        choices: list[dict[str, str]] | None = None,
    ) -> None:
        asked = len(self.messages) + 1
        self.messages.append((asked, conv, "inbound", "telegram", text, at, [], None, "[]", None))
        reply_at = at + timedelta(seconds=2)
        self.messages.append(
            (
                asked + 1,
                conv,
                "outbound",
                "telegram",
                "reply",
                reply_at,
                entries,
                reason,
                json.dumps(choices or []),
                asked,
            )
        )


def fill(rows: Rows, now: datetime, conversations: int, unanswered: int) -> None:
    """`conversations` over the last 14 days; `unanswered` of them, in the last 7, declined."""
    rng = rows.rng
    for n in range(conversations):
        started = now - timedelta(days=14) + timedelta(seconds=rng.randrange(14 * 86400))
        if n < unanswered:
            started = now - timedelta(seconds=rng.randrange(7 * 86400 - 60))
        conv = rows.conversation(started)
        if n < unanswered:
            choices = [{"label": "Delivery areas"}] if rng.random() < 0.3 else None
            reason = None if choices else rng.choice(["no_answer", "no_answer_twice"])
            rows.exchange(conv, question(rng), started, [], reason, choices)
        else:
            for turn in range(rng.randint(1, 3)):
                at = started + timedelta(minutes=turn)
                rows.exchange(conv, "What time do you open?", at, [rng.choice(ANSWERED)], None)
        if rng.random() < 0.12:
            sent = started + timedelta(minutes=3)
            answered = (
                sent + timedelta(minutes=rng.randrange(5, 600)) if rng.random() < 0.8 else None
            )
            rows.escalations.append(
                (conv, rng.choice(TRIGGERS), "sent", started, sent, answered, f"t{conv}")
            )
        if rng.random() < 0.25:
            comment = rng.choice([None, None, "Fast, thanks!", "Could be better", "Shiok"])
            rated = started + timedelta(hours=1)
            rows.ratings.append(
                (conv, conv, "telegram", "bot", rated, rated, rng.randint(1, 5), rated, comment)
            )


async def write(pool: asyncpg.Pool, rows: Rows) -> None:
    """COPY everything in, then move the id sequences past the ids given."""
    tables = [
        ("contacts", ["id", "display_name"], rows.contacts),
        (
            "conversations",
            ["id", "contact_id", "channel", "started_at", "last_message_at"],
            rows.conversations,
        ),
        (
            "messages",
            [
                "id",
                "conversation_id",
                "direction",
                "channel",
                "body",
                "created_at",
                "source_entry_ids",
                "reason",
                "choices",
                "in_reply_to",
            ],
            rows.messages,
        ),
        (
            "escalations",
            [
                "conversation_id",
                "trigger",
                "status",
                "created_at",
                "sent_at",
                "answered_at",
                "token",
            ],
            rows.escalations,
        ),
        (
            "ratings",
            [
                "contact_id",
                "conversation_id",
                "channel",
                "ended_by",
                "ended_at",
                "asked_at",
                "score",
                "rated_at",
                "comment",
            ],
            rows.ratings,
        ),
    ]
    async with pool.acquire() as db:
        for table, columns, records in tables:
            await db.copy_records_to_table(table, records=records, columns=columns)
        for table in ("contacts", "conversations", "messages"):
            await db.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        await db.execute(
            "INSERT INTO suggestions (question, answer, times) SELECT 'Question ' || n,"
            " 'Answer ' || n, n % 7 + 1 FROM generate_series(1, 30) n"
        )
        await db.execute("ANALYZE")
