"""The weekly owner report on real PostgreSQL, the real embedder and a real SMTP server.

A small week and the week before are built by hand in a PostgreSQL of this module's own, so
every figure has an exact expected value. The weekly job runs in two competing "processes";
`bot report` runs as a command.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from bot.report.figures import load_figures
from bot.report.period import Period
from bot.report.unanswered import group_questions, unanswered_questions
from bot.report.weekly import WeeklyReport, weekly_report
from bot.runtime import Runtime
from bot.services import Services
from core.embedding import MINILM, Vectors
from core.knowledge_masking import mask_personal
from core.migrate import apply_migrations
from tests.integration.nric_search import nric
from tests.providers.smtp_server import SmtpServer

pytestmark = pytest.mark.integration
SG = ZoneInfo("Asia/Singapore")
REPO = Path(__file__).resolve().parents[2]
WEEK = Period(datetime(2021, 3, 1, tzinfo=SG), datetime(2021, 3, 8, tzinfo=SG), SG)
PHONE = "9123 4567"
NRIC = nric("S", "8406137")
STAFF = "owner@bakery.test"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A local time in March 2021 (or `month`), Singapore."""
    return datetime(2021, month, day, hour, minute, tzinfo=SG)


class Seed:
    """Writes conversations, messages, handoffs and ratings with the times a test chooses."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def conversation(self, started: datetime, name: str = "Wei Ling") -> int:
        contact = await self.pool.fetchval(
            "INSERT INTO contacts (display_name) VALUES ($1) RETURNING id", name
        )
        return int(
            await self.pool.fetchval(
                "INSERT INTO conversations (contact_id, channel, started_at, last_message_at,"
                " closed_at) VALUES ($1, 'telegram', $2, $2, $2) RETURNING id",
                contact,
                started,
            )
        )

    async def ask(
        self,
        conversation: int,
        text: str,
        when: datetime,
        entries: Sequence[str] = (),
        reason: str | None = None,
        choices: Sequence[str] = (),
    ) -> None:
        """The customer's message and the bot's reply a minute later."""
        question = await self.pool.fetchval(
            "INSERT INTO messages (conversation_id, direction, channel, body, created_at)"
            " VALUES ($1, 'inbound', 'telegram', $2, $3) RETURNING id",
            conversation,
            text,
            when,
        )
        await self.pool.execute(
            "INSERT INTO messages (conversation_id, direction, channel, body, created_at,"
            " source_entry_ids, reason, choices, in_reply_to, delivery_status)"
            " VALUES ($1, 'outbound', 'telegram', 'reply', $2, $3, $4, $5, $6, 'sent')",
            conversation,
            when + timedelta(minutes=1),
            list(entries),
            reason,
            json.dumps([{"label": c} for c in choices]),
            question,
        )

    async def handoff(
        self,
        conversation: int,
        trigger: str,
        when: datetime,
        answered_after: timedelta | None = None,
    ) -> None:
        sent = when + timedelta(minutes=2)
        await self.pool.execute(
            "INSERT INTO escalations (conversation_id, trigger, status, created_at, sent_at,"
            " answered_at, token) VALUES ($1, $2, 'sent', $3, $4, $5, md5(random()::text))",
            conversation,
            trigger,
            when,
            sent,
            None if answered_after is None else sent + answered_after,
        )

    async def rating(
        self, conversation: int, score: int | None, when: datetime, comment: str | None = None
    ) -> None:
        await self.pool.execute(
            "INSERT INTO ratings (contact_id, conversation_id, channel, ended_by, ended_at,"
            " asked_at, score, rated_at, comment)"
            " SELECT contact_id, id, channel, 'bot', $2, $2, $3, $4, $5"
            " FROM conversations WHERE id = $1",
            conversation,
            when,
            score,
            when if score else None,
            comment,
        )


@pytest.fixture(scope="module")
async def pool(own_postgres: EmbeddedServices) -> AsyncIterator[asyncpg.Pool]:
    """A migrated PostgreSQL of this module's own, with the hand-built weeks in it."""
    connections = await asyncpg.create_pool(own_postgres.database_url, min_size=1, max_size=4)
    await apply_migrations(connections)
    await seed_weeks(Seed(connections))
    yield connections
    await connections.close()


async def seed_weeks(seed: Seed) -> None:
    """7 conversations from Monday 1 to Sunday 7 March 2021 (Singapore), 2 the week before,
    and one just after the week ends (00:30 local on Monday 8 March)."""
    a = await seed.conversation(at(1, 10, 15))
    await seed.ask(a, "What time do you open?", at(1, 10, 15), ["opening-hours"])
    await seed.rating(a, 5, at(1, 11), f"Very fast, thanks! Call me at {PHONE}")
    b = await seed.conversation(at(1, 10, 40))
    await seed.ask(b, "Open on Sunday?", at(1, 10, 40), ["opening-hours"])
    await seed.rating(b, 4, at(1, 12))
    c = await seed.conversation(at(2, 14, 5), name="Tan Ah Kow")
    await seed.ask(c, f"Do you deliver to Punggol? Call me {PHONE}", at(2, 14, 5), [], "no_answer")
    await seed.ask(c, f"Delivery to Jurong? NRIC {NRIC}", at(2, 14, 7), [], "no_answer_twice")
    await seed.handoff(c, "no_answer_twice", at(2, 14, 8), timedelta(minutes=30))
    d = await seed.conversation(at(3, 12, 30))
    await seed.ask(d, "I want a refund", at(3, 12, 30), [], "keyword:refund")
    await seed.handoff(d, "keyword:refund", at(3, 12, 31), timedelta(minutes=90))
    await seed.rating(d, 2, at(3, 15))
    e = await seed.conversation(at(3, 12, 50))
    await seed.ask(e, "is it halal", at(3, 12, 50), ["halal"], choices=["Halal?", "Vegan?"])
    await seed.ask(e, "1", at(3, 12, 51), ["halal"])
    await seed.rating(e, None, at(3, 14))  # asked, never rated
    f = await seed.conversation(at(7, 23, 30))
    await seed.ask(f, "talk to a person", at(7, 23, 30), [], "asked_for_human")
    await seed.handoff(f, "asked_for_human", at(7, 23, 31))
    g = await seed.conversation(at(6, 11))
    await seed.ask(g, "Delivery areas?", at(6, 11), ["delivery-areas"])
    await seed.ask(g, "This is a complaint", at(6, 11, 5), [], "complaint")
    await seed.handoff(g, "complaint", at(6, 11, 6))
    h = await seed.conversation(at(22, 9, month=2))
    await seed.ask(h, "Opening hours?", at(22, 9, month=2), ["opening-hours"])
    i = await seed.conversation(at(25, 16, month=2))
    await seed.ask(i, "Do you sell durian cake?", at(25, 16, month=2), [], "no_answer")
    j = await seed.conversation(at(8, 0, 30))
    await seed.ask(j, "Open today?", at(8, 0, 30), ["opening-hours"])


async def test_figures_of_a_hand_built_week_and_the_week_before(pool: asyncpg.Pool) -> None:
    week = await load_figures(pool, WEEK)
    assert (week.conversations, week.resolved) == (7, 3)  # a, b and e; g was handed over
    assert [(d.day.day, d.conversations, d.resolved) for d in week.days] == [
        (1, 2, 2), (2, 1, 0), (3, 2, 1), (4, 0, 0), (5, 0, 0), (6, 1, 0), (7, 1, 0),
    ]  # fmt: skip
    assert week.handoffs == (
        ("asked_for_human", 1), ("complaint", 1), ("keyword:refund", 1), ("no_answer_twice", 1),
    )  # fmt: skip
    assert week.median_staff_answer == timedelta(minutes=60)  # 30 and 90; f unanswered
    assert week.rating_count == 3
    assert week.rating_average == pytest.approx(11 / 3)
    assert week.comments == ("Very fast, thanks! Call me at [phone]",)
    assert week.busiest_hours == ((12, 3), (10, 2), (11, 2))
    # A "Did you mean" is not an answer; the answer after the customer chose is.
    assert week.top_entries == (("opening-hours", 2), ("delivery-areas", 1), ("halal", 1))
    before = await load_figures(pool, WEEK.previous())
    assert (before.conversations, before.resolved, before.handed_over) == (2, 1, 0)
    assert before.median_staff_answer is None and before.rating_average is None
    assert before.rating_count == 0 and before.top_entries == (("opening-hours", 1),)


async def test_unanswered_questions_are_the_declined_and_did_you_mean_ones_masked(
    pool: asyncpg.Pool,
) -> None:
    questions = await unanswered_questions(pool, WEEK)
    assert sorted(questions) == [
        "Delivery to Jurong? NRIC [NRIC]",
        "Do you deliver to Punggol? Call me [phone]",
        "is it halal",
    ]
    assert await unanswered_questions(pool, WEEK.previous()) == ["Do you sell durian cake?"]


class Recording:
    """The real embedder, remembering every text it was given."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    async def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.texts += texts
        result: Vectors = await self._inner.embed_queries(texts)
        return result


async def test_the_real_embedder_groups_paraphrases_and_keeps_others_apart(
    services: Services,
) -> None:
    embedder = Recording(services.embedder)
    delivery = [
        f"Do you deliver to Punggol? Call me at {PHONE}",
        "Can you deliver to my house in Punggol?",
        "Is delivery to Punggol available?",
    ]
    payment = [
        "Can I pay with PayNow?",
        f"Do you accept PayNow? My NRIC is {NRIC}",
        "Is PayNow accepted for payment? Email me at wei.ling@mail.test",
    ]
    others = ["Do you sell durian cake?", "Where can I park my car?"]
    masked = [[mask_personal(q) for q in topic] for topic in (delivery, payment, others)]
    groups = await group_questions([q for topic in masked for q in topic], embedder)
    assert [g.size for g in groups] == [3, 3, 1, 1]
    assert sorted(set(g.examples) for g in groups[:2]) == sorted(set(t) for t in masked[:2])
    assert {g.examples for g in groups[2:]} == {(others[0],), (others[1],)}
    seen = " ".join(embedder.texts) + repr(groups)
    for secret in (PHONE, NRIC, NRIC[1:8], "wei.ling@mail.test"):
        assert secret not in seen


def report_settings(services: Services, smtp: SmtpServer, **changes: Any) -> Settings:
    """The session's settings sending through `smtp`, with a staff address and REPORT_AT."""
    return services.settings.model_copy(
        update={
            "email_address": "shop@bakery.test",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "staff_email": STAFF,
            "report_at": "mon 09:00",
            **changes,
        }
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


async def test_two_processes_send_one_report_a_week(
    pool: asyncpg.Pool, services: Services, smtp: SmtpServer
) -> None:
    ids = [
        await pool.fetchval(
            "INSERT INTO suggestions (question, answer, times, status) VALUES ($1, $2, $3, $4)"
            " RETURNING id",
            *row,
        )
        for row in [
            ("Can I pay by PayNow?", "Yes, at the counter.", 2, "pending"),
            ("Do you do custom cakes?", "Yes, order 3 days ahead.", 5, "pending"),
            ("Old question", "Old answer", 9, "approved"),
        ]
    ]
    monday = datetime(2021, 3, 8, 9, 0, tzinfo=SG)
    settings = report_settings(services, smtp)

    def job(runner: str, now: datetime) -> WeeklyReport:
        report = weekly_report(settings, pool, services.embedder, runner, clock=lambda: now)
        assert report is not None
        return report

    first, second = job("machine-a", monday), job("machine-b", monday)
    assert sorted(await asyncio.gather(first.run(), second.run())) == [False, True]
    assert not await first.run()  # fired again the same week (a restart): nothing more
    await asyncio.sleep(0.3)
    [mail] = smtp.messages
    token = str(mail["Reply-To"]).removeprefix("shop+r").removesuffix("@bakery.test")
    row = await pool.fetchrow("SELECT * FROM owner_reports WHERE token = $1", token)
    assert row is not None
    assert row["suggestion_ids"] == [ids[1], ids[0]]  # most asked first; approved left out
    assert (row["period_start"], row["period_end"]) == (WEEK.start, WEEK.end)
    assert row["sent_to"] == STAFF and row["sent_at"] is not None
    assert row["message_id"] == mail["Message-ID"] == f"<report-{token}@bakery.test>"
    assert await pool.fetchval(
        "SELECT finished_at FROM scheduled_runs WHERE job = 'owner_report' AND slot = '2021-W10'"
    )
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Weekly report: Test Bakery (01 Mar - 07 Mar 2021)" in text
    assert "Conversations                    7  |  2" in text
    assert "Answered by the bot alone        43% (3)  |  50% (1)" in text
    assert "1. Q (5 times): Do you do custom cakes?" in text and '"approve 1 3"' in text
    assert "is it halal" in text
    assert [p.get_content_type() for p in mail.walk()][-1] == "image/png"
    for secret in (PHONE, NRIC, NRIC[1:8]):
        assert secret not in mail.as_string()
    # The next week is a new slot.
    assert await job("machine-b", monday + timedelta(days=7)).run()
    await smtp.wait_for(2)


@pytest.mark.parametrize(
    "changes", [{"report_at": "off"}, {"report_at": ""}, {"staff_email": None}]
)
async def test_no_report_job_when_off_or_nobody_to_send_it_to(
    services: Services, smtp: SmtpServer, changes: dict[str, Any]
) -> None:
    settings = report_settings(services, smtp, **changes)
    assert weekly_report(settings, services.storage.pool, services.embedder, "m") is None
    runtime = Runtime(services, listen=False, workers=0, settings=settings)
    assert runtime._scheduler().get_job("owner_report") is None


async def test_the_job_is_scheduled_at_the_local_weekday_and_time(
    services: Services, smtp: SmtpServer
) -> None:
    settings = report_settings(services, smtp, report_at="wed 18:30")
    runtime = Runtime(services, listen=False, workers=0, settings=settings)
    job = runtime._scheduler().get_job("owner_report")
    assert job is not None
    friday = datetime(2026, 12, 4, 12, 0, tzinfo=SG)
    next_run = job.trigger.get_next_fire_time(None, friday)
    assert next_run == datetime(2026, 12, 9, 18, 30, tzinfo=SG)
    assert smtp.messages == []


async def test_bot_report_prints_the_figures(
    pool: asyncpg.Pool,
    own_postgres: EmbeddedServices,
    settings: Settings,
    tmp_path: Path,
) -> None:
    seed = Seed(pool)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for n in range(3):
        conversation = await seed.conversation(yesterday + timedelta(minutes=n))
        entries, reason = (["opening-hours"], None) if n else ([], "no_answer")
        text = f"Do you deliver to Sentosa? Call me at {PHONE}" if not n else "Open today?"
        await seed.ask(conversation, text, yesterday + timedelta(minutes=n), entries, reason)
    chart = tmp_path / "chart.png"
    assert settings.redis_url is not None
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": own_postgres.database_url,
        "REDIS_URL": settings.redis_url.get_secret_value(),
        "EMBEDDING_MODEL": MINILM,
        "BUSINESS_NAME": "Test Bakery",
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "160",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "report", "--since", "3d", "--png", str(chart)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("Conversations" in line and " 3 " in line and " 0 " in line for line in lines)
    assert any("Answered by the bot alone" in line and "67% (2)" in line for line in lines)
    assert any("opening-hours" in line and " 2 " in line for line in lines)
    assert "Do you deliver to Sentosa? Call me at" in result.stdout and "[phone]" in result.stdout
    assert PHONE not in result.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    bad = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "report", "--since", "soon"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2 and "7d, 24h or 2w" in bad.stderr
